package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/dotenv"
)

// TestConcurrentRunsDoNotMix starts two real rcgen processes on the same
// new directory at once, with different answers. The lock makes one run
// wait for the other: the deployment ends as one run's answers throughout
// (rcgen.yaml, .env and the Caddyfile agree), and its secrets are the
// first run's, kept by the second.
func TestConcurrentRunsDoNotMix(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the two-process race in -short mode (make check); make test runs it")
	}
	bin, err := buildRcgen()
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		dir := t.TempDir()
		out := filepath.Join(dir, "deploy")
		domains := []string{"one.example.com", "two.example.com"}
		var wg sync.WaitGroup
		stdout, stderr := make([]bytes.Buffer, 2), make([]bytes.Buffer, 2)
		codes := make([]int, 2)
		for i, d := range domains {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(bin, "generate", "--yes", "--cpus", "4", "--memory", "8GiB", "--domain", d, "--email", "ops@example.com", "--out", out)
				cmd.Stdout, cmd.Stderr = &stdout[i], &stderr[i]
				if err := cmd.Run(); err != nil {
					codes[i] = 1
				}
			}()
		}
		wg.Wait()
		created := 0
		for i := range codes {
			if codes[i] != 0 && !strings.Contains(stderr[i].String(), "another rcgen run is working on this deployment") {
				t.Errorf("round %d, run %d failed without naming the lock: %s", round, i, stderr[i].String())
			}
			// Only one run may create the deployment; the other must find
			// it and update it, keeping its secrets (what changed is on
			// stdout, the run's result).
			if codes[i] == 0 && !strings.Contains(stdout[i].String(), "Changes to") && !strings.Contains(stdout[i].String(), "Nothing to change") {
				created++
			}
		}
		if created > 1 {
			t.Errorf("round %d: both runs created the deployment, so one run's secrets were lost:\n%s%s\n%s%s", round, stdout[0].String(), stderr[0].String(), stdout[1].String(), stderr[1].String())
		}
		answers, _ := os.ReadFile(filepath.Join(out, "rcgen.yaml"))
		envBytes, _ := os.ReadFile(filepath.Join(out, ".env"))
		env, err := dotenv.UnmarshalBytesWithLookup(envBytes, func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(answers), `domain: "`+env["DOMAIN"]+`"`) {
			t.Errorf("round %d: rcgen.yaml and .env disagree (mixed runs): .env DOMAIN=%s\n%s", round, env["DOMAIN"], answers)
		}
		backups, _ := filepath.Glob(filepath.Join(out, "rcgen-backups", "*", ".env"))
		for _, b := range backups {
			old, _ := os.ReadFile(b)
			oldEnv, _ := dotenv.UnmarshalBytesWithLookup(old, func(string) (string, bool) { return "", false })
			if oldEnv["MONGODB_ROOT_PASSWORD"] != env["MONGODB_ROOT_PASSWORD"] {
				t.Errorf("round %d: the second run replaced the first run's MongoDB password", round)
			}
		}
	}
}
