package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// State is what `docker inspect` says of a container's last run: the
// facts `docker compose ps` leaves out (whether the kernel's OOM killer
// ended it, how often it restarted, the engine's own error).
type State struct {
	Status       string `json:"Status"`
	Restarting   bool   `json:"Restarting"`
	OOMKilled    bool   `json:"OOMKilled"`
	ExitCode     int    `json:"ExitCode"`
	Error        string `json:"Error"`
	RestartCount int    `json:"RestartCount"`
}

// inspectFormat prints .State with the container's RestartCount in it.
const inspectFormat = `{{with .State}}{"Status":{{json .Status}},"Restarting":{{json .Restarting}},"OOMKilled":{{json .OOMKilled}},"ExitCode":{{json .ExitCode}},"Error":{{json .Error}}{{end}},"RestartCount":{{json .RestartCount}}}`

// Inspect reads the state of service's container (the first one, stopped
// ones included) with docker inspect.
func (s Stack) Inspect(ctx context.Context, service string) (State, error) {
	ids, err := s.Run(ctx, s.Dir, "compose", "ps", "--all", "--quiet", service)
	if err != nil {
		return State{}, fmt.Errorf("docker compose ps --all --quiet %s: %w", service, err)
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(ids)), "\n")
	if id == "" {
		return State{}, fmt.Errorf("%s has no container", service)
	}
	out, err := s.Run(ctx, s.Dir, "inspect", "--format", inspectFormat, id)
	if err != nil {
		return State{}, fmt.Errorf("docker inspect %s: %w", id, err)
	}
	var st State
	if err := json.Unmarshal(lastLine(out), &st); err != nil {
		return State{}, fmt.Errorf("reading docker inspect %s: %w", id, err)
	}
	return st, nil
}
