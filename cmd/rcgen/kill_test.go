package main

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tree reads a deployment's files (backups aside).
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && e.Name() == "rcgen-backups" {
			return filepath.SkipDir
		}
		if !e.IsDir() {
			b, err := os.ReadFile(path)
			rel, _ := filepath.Rel(dir, path)
			m[rel] = string(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	for rel, c := range tree(t, src) {
		p := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if rel == ".env" || strings.HasPrefix(rel, "secrets") {
			mode = 0o600
		}
		if err := os.WriteFile(p, []byte(c), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKilledRunLeavesOldOrNew interrupts a re-run with SIGTERM at random
// moments: whenever it lands, the deployment is entirely the old one or
// entirely the new one, never a mix, and holds no temporary file.
func TestKilledRunLeavesOldOrNew(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the kill-during-write runs in -short mode (make check); make test runs them")
	}
	bin, err := buildRcgen()
	if err != nil {
		t.Fatal(err)
	}
	gen := func(out string, args ...string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"generate", "--yes", "--cpus", "8", "--memory", "16GiB", "--out", out}, args...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
	}
	base := filepath.Join(t.TempDir(), "base")
	gen(base)
	oldSet := tree(t, base)
	change := []string{"--domain", "chat.example.com", "--email", "ops@example.com", "--mongodb-members", "3"}
	next := filepath.Join(t.TempDir(), "next")
	copyTree(t, base, next)
	gen(next, change...)
	newSet := tree(t, next)

	outcomes := map[string]int{}
	for round := range 20 {
		work := filepath.Join(t.TempDir(), "work")
		copyTree(t, base, work)
		cmd := exec.Command(bin, append([]string{"generate", "--yes", "--cpus", "8", "--memory", "16GiB", "--out", work}, change...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(120)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		got := tree(t, work)
		state := ""
		switch {
		case equalTrees(got, oldSet):
			state = "old"
		case equalTrees(got, newSet):
			state = "new"
		default:
			var mixed []string
			for p := range newSet {
				if _, ok := got[p]; !ok {
					mixed = append(mixed, p+" (missing)")
				}
			}
			for p, c := range got {
				if _, known := newSet[p]; !known && oldSet[p] == "" {
					mixed = append(mixed, p+" (stray)")
				} else if c != oldSet[p] && c != newSet[p] {
					mixed = append(mixed, p+" (neither)")
				} else if c == oldSet[p] && c != newSet[p] {
					mixed = append(mixed, p+" (old)")
				}
			}
			t.Fatalf("round %d: killed run left a mix: %v", round, mixed)
		}
		outcomes[state]++
	}
	t.Logf("killed runs ended as: %v", outcomes)
}

func equalTrees(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestSigkilledRunIsFinishedByTheNext SIGKILLs a re-run at random moments
// (nothing can hold SIGKILL off). Whenever it lands: nothing is left in
// $TMPDIR; every file holds its old or its new version, whole; rcgen
// doctor fails the deployment when the kill came during the renames (the
// journal is there in state "renaming"), and only then; and the next run
// finishes the interrupted apply, leaving exactly the new deployment,
// with no staged copy and no journal.
func TestSigkilledRunIsFinishedByTheNext(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the kill-during-write runs in -short mode (make check); make test runs them")
	}
	bin, err := buildRcgen()
	if err != nil {
		t.Fatal(err)
	}
	args := func(out string, extra ...string) []string {
		return append([]string{"generate", "--yes", "--cpus", "8", "--memory", "16GiB", "--out", out}, extra...)
	}
	base := filepath.Join(t.TempDir(), "base")
	if b, err := exec.Command(bin, args(base)...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	oldSet := tree(t, base)
	change := []string{"--domain", "chat.example.com", "--email", "ops@example.com", "--mongodb-members", "3"}
	next := filepath.Join(t.TempDir(), "next")
	copyTree(t, base, next)
	start := time.Now()
	if b, err := exec.Command(bin, args(next, change...)...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	// The kills land anywhere in a run (not a timed assertion: whenever
	// one lands, the same must hold).
	span := time.Since(start) * 11 / 10
	newSet := tree(t, next)

	outcomes := map[string]int{}
	for round := range 12 {
		work := filepath.Join(t.TempDir(), "work")
		copyTree(t, base, work)
		tmp := t.TempDir()
		cmd := exec.Command(bin, args(work, change...)...)
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.Int64N(int64(span))))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()

		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("round %d: the killed run left %d files in $TMPDIR", round, len(left))
		}
		got := tree(t, work)
		journal := false
		for p, c := range got {
			base := filepath.Base(p)
			switch {
			case p == ".rcgen-apply.json":
				journal = true
			case strings.HasPrefix(base, ".rcgen-staged."):
			case c != oldSet[p] && c != newSet[p]:
				t.Errorf("round %d: %s is torn: neither its old nor its new version", round, p)
			}
		}
		renaming := journal && strings.Contains(got[".rcgen-apply.json"], `"state": "renaming"`)
		doc, _ := exec.Command(bin, "doctor", "--out", work).Output()
		if failed := strings.Contains(string(doc), "fail apply: an apply was interrupted while it replaced the files"); failed != renaming {
			t.Errorf("round %d: killed %s the renames, and doctor says:\n%s", round, map[bool]string{true: "during", false: "outside"}[renaming], doc)
		}

		again := exec.Command(bin, args(work, change...)...)
		again.Env = append(os.Environ(), "TMPDIR="+tmp)
		b, err := again.CombinedOutput()
		if err != nil {
			t.Fatalf("round %d: the next run: %v: %s", round, err, b)
		}
		if renaming && !strings.Contains(string(b), "finished it (rolled forward") {
			t.Errorf("round %d: the next run did not say it finished the interrupted apply:\n%s", round, b)
		}
		if got := tree(t, work); !equalTrees(got, newSet) {
			var diff []string
			for p := range got {
				if got[p] != newSet[p] {
					diff = append(diff, p)
				}
			}
			t.Errorf("round %d: after the next run the deployment is not the new one: %v", round, diff)
		}
		switch {
		case renaming:
			outcomes["during the renames"]++
		case equalTrees(got, newSet):
			outcomes["after"]++
		default:
			outcomes["before"]++
		}
	}
	t.Logf("killed runs: %v", outcomes)
}
