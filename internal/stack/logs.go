package stack

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Logs returns the last tail lines service logged (stdout and stderr as
// docker keeps them), without colours or the "service-1  | " prefix.
func (s Stack) Logs(ctx context.Context, service string, tail int) ([]string, error) {
	return s.LogsSince(ctx, service, tail, time.Time{})
}

// LogsSince is Logs of what service logged since t (all of it when t is
// zero): a container that ran before keeps its old lines, and an error
// fixed since must not be read as the current one.
func (s Stack) LogsSince(ctx context.Context, service string, tail int, t time.Time) ([]string, error) {
	args := []string{"compose", "logs", "--no-color", "--no-log-prefix", "--tail", strconv.Itoa(tail)}
	if !t.IsZero() {
		// docker compose logs --since takes an RFC 3339 timestamp
		// (https://docs.docker.com/reference/cli/docker/compose/logs/).
		args = append(args, "--since", t.UTC().Format(time.RFC3339))
	}
	out, err := s.Run(ctx, s.Dir, append(args, service)...)
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines, err
}
