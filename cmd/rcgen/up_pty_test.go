package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// declineStart answers the wizard's last question, asked when docker is
// on the PATH, with its default (no).
func declineStart(term *terminal) {
	term.t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		return
	}
	// Not answer: the summary printed before the question stays on the
	// screen for the test to read.
	term.expect("Start it now?")
	term.settle()
	term.send(enter)
}

// TestUpProgressOnATerminal: on a terminal, rcgen up's wait is one line
// rewritten in place (carriage return, erase line), the current
// migration in it; up.txtar checks the plain lines on a pipe. The stack
// is up.txtar's fake docker and its scenario.
func TestUpProgressOnATerminal(t *testing.T) {
	a, err := txtar.ParseFile("testdata/script/up.txtar")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	for _, f := range a.Files {
		if strings.HasPrefix(f.Name, "fake/") || strings.HasPrefix(f.Name, "host/") || f.Name == "bin/docker" {
			p := filepath.Join(work, filepath.FromSlash(f.Name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f.Data, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	bin, err := buildRcgen()
	if err != nil {
		t.Fatal(err)
	}
	gen := exec.Command(bin, "generate", "--yes", "--cpus", "4", "--memory", "8GiB", "--rocketchat-version", "8.5.3", "--out", "dep")
	gen.Dir = work
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	env := func(c *exec.Cmd) {
		c.Env = append(c.Env, "PATH="+filepath.Join(work, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
			"DOCKER_LOG="+filepath.Join(work, "docker.log"), "FAKE="+filepath.Join(work, "fake"), "RCGEN_OFFLINE=1")
	}
	term := startTerminalWith(t, filepath.Join(work, "dep"), env, "up", "--root", filepath.Join(work, "host"), "--timeout", "20s")
	term.expect("[6/6] backups: up (backup)")
	term.wait() // the smoke test fails here: nothing listens on this host's port 80
	term.mu.Lock()
	raw := term.buf.String()
	term.mu.Unlock()
	if !strings.Contains(raw, "\r\x1b[K[3/6] rocketchat-1 (migrations): Running up() on version 320; waiting for rocketchat-1: running (starting) (") {
		t.Errorf("the wait is not one line rewritten in place:\n%q", raw)
	}
	if !strings.Contains(raw, "\r\x1b[K[3/6] rocketchat-1 (migrations): up (rocketchat-1)") {
		t.Errorf("the finished stage does not replace the waiting line:\n%q", raw)
	}
}
