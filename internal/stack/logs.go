package stack

import (
	"context"
	"strconv"
	"strings"
)

// Logs returns the last tail lines service logged (stdout and stderr as
// docker keeps them), without colours or the "service-1  | " prefix.
func (s Stack) Logs(ctx context.Context, service string, tail int) ([]string, error) {
	out, err := s.Run(ctx, s.Dir, "compose", "logs", "--no-color", "--no-log-prefix", "--tail", strconv.Itoa(tail), service)
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines, err
}
