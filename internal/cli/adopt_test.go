package cli

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/prompt"
	"github.com/rcgen/rcgen/internal/prompt/prompttest"
)

// adoptDocker stands in for Docker before an old official deployment
// without Traefik on a "latest" tag: /api/info does not answer; MongoDB
// says GridFS and its sizes.
type adoptDocker struct{ calls []string }

func (d *adoptDocker) run(_ context.Context, _ string, args ...string) ([]byte, error) {
	call := strings.Join(args, " ")
	d.calls = append(d.calls, call)
	switch {
	case strings.Contains(call, " exec -T rocketchat node -e "):
		return nil, errors.New("exit status 1: fetch failed")
	case strings.Contains(call, " exec -T mongodb mongosh "):
		return []byte(`{"storage":"GridFS","path":null,"dataSize":1048576,"storageSize":1048576,"indexSize":0}` + "\n"), nil
	case call == "info --format {{.DockerRootDir}}":
		return []byte("/var/lib/docker\n"), nil
	}
	return nil, errors.New("unexpected docker " + call)
}

// TestAdoptAsksWhatItCannotReadAndEachStep: on a terminal the release
// nothing says is a question, and "no" to
// the first step stops adopt before Docker is told to change anything.
func TestAdoptAsksWhatItCannotReadAndEachStep(t *testing.T) {
	d := &adoptDocker{}
	script := prompttest.NewScript(t,
		prompttest.Step{Question: "Which Rocket.Chat release does the old deployment run?", Answer: "8.0.1"},
		prompttest.Step{Question: "Step 1: stop the old app (rocketchat); its MongoDB keeps running?", Answer: false},
	)
	var stdout, stderr bytes.Buffer
	env := Env{
		IO:       IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr, Interactive: true},
		Getenv:   func(string) string { return "" },
		Prompter: func() prompt.Prompter { return script },
		Docker:   d.run,
		DiskFree: func(string) (int64, uint64, error) { return 100 << 30, 1, nil },
		Now:      func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) },
	}
	out := filepath.Join(t.TempDir(), "new")
	code := Run(context.Background(), env, []string{"adopt", "--from", "../adopt/testdata/official-notraefik", "--file", "compose.database.yml", "--file", "compose.yml", "--out", out})
	if code != ExitError || !strings.Contains(stderr.String(), "stopped before step 1 (stop the old app (rocketchat); its MongoDB keeps running)") {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "to start it again: docker compose --project-directory "+out+" stop && docker compose -p official-notraefik") {
		t.Errorf("no rollback in:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "  Rocket.Chat 8.0.1 (registry.rocket.chat/rocketchat/rocket.chat:latest)") {
		t.Errorf("the answer is not in the plan:\n%s", stdout.String())
	}
	for _, c := range d.calls {
		if strings.Contains(c, " stop ") || strings.HasPrefix(c, "run ") {
			t.Errorf("docker %s ran before the step was confirmed", c)
		}
	}
}

// TestAdoptWithoutATerminal: no question is asked; what is missing is a
// refusal naming the flag, and nothing happens without --yes.
func TestAdoptWithoutATerminal(t *testing.T) {
	d := &adoptDocker{}
	r := runEnv(func(e *Env) {
		e.Docker = d.run
		e.DiskFree = func(string) (int64, uint64, error) { return 100 << 30, 1, nil }
	}, "adopt", "--from", "../adopt/testdata/official-notraefik", "--file", "compose.database.yml", "--file", "compose.yml", "--out", filepath.Join(t.TempDir(), "new"))
	if r.code != ExitError || !strings.Contains(r.stderr, "could not tell which Rocket.Chat the old deployment runs: give --from-version") {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	r = runEnv(func(e *Env) {
		e.Docker = d.run
		e.DiskFree = func(string) (int64, uint64, error) { return 100 << 30, 1, nil }
	}, "adopt", "--from", "../adopt/testdata/official-notraefik", "--file", "compose.database.yml", "--file", "compose.yml", "--from-version", "8.5.3", "--out", filepath.Join(t.TempDir(), "new"))
	if r.code != ExitUsage || !strings.Contains(r.stderr, "give --yes") {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
}
