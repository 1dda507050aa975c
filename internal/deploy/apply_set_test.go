package deploy

import (
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/render"
)

// deployment writes old files into a new directory and opens it.
func deployment(t *testing.T, files map[string]string) *Deployment {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		path := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func contents(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			if e != nil && e.IsDir() && e.Name() == BackupDir {
				return filepath.SkipDir
			}
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		b, _ := os.ReadFile(path)
		m[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return m
}

var newFiles = render.Files{
	{Path: "a.txt", Mode: 0o644, Content: []byte("new a\n")},
	{Path: "b.txt", Mode: 0o644, Content: []byte("new b\n")},
	{Path: "c/new.txt", Mode: 0o644, Content: []byte("new c\n")},
	{Path: "d.txt", Mode: 0o644, Content: []byte("new d\n")},
}

// TestApplyIsAllOrNothing fails the rename of each file in turn, as a full
// disk or an immutable file would: every time, the directory ends as it
// was, the error says so, and no temporary file is left.
func TestApplyIsAllOrNothing(t *testing.T) {
	old := map[string]string{"a.txt": "old a\n", "b.txt": "old b\n", "d.txt": "old d\n"}
	for fail := range len(newFiles) {
		d := deployment(t, old)
		changes, err := d.Changes(newFiles)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		full := errors.New("no space left on device")
		beforeRename = func(tmp, path string) error {
			if n++; n == fail+1 {
				return full
			}
			return nil
		}
		_, err = d.Apply(changes, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
		beforeRename = func(string, string) error { return nil }
		if !errors.Is(err, full) {
			t.Fatalf("rename %d: Apply() = %v, want the failure", fail, err)
		}
		want := "nothing in " + d.Dir + " was changed"
		if fail > 0 {
			want = "already replaced were put back, so " + d.Dir + " is as it was"
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("rename %d: the error does not say the state: %v", fail, err)
		}
		got := contents(t, d.Dir)
		if len(got) != len(old) {
			t.Errorf("rename %d: the directory holds %v", fail, got)
		}
		for p, c := range old {
			if got[p] != c {
				t.Errorf("rename %d: %s holds %q, want the old %q", fail, p, got[p], c)
			}
		}
		if _, err := os.Stat(filepath.Join(d.Dir, "c")); err == nil {
			t.Errorf("rename %d: the directory made for a new file is left behind", fail)
		}
	}
}

// TestStagingFailureChangesNothing: a file that cannot be written at all
// (its directory is a file) stops the run before any rename.
func TestStagingFailureChangesNothing(t *testing.T) {
	d := deployment(t, map[string]string{"a.txt": "old a\n", "c": "a file where a directory is needed\n"})
	changes, err := d.Changes(newFiles)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Apply(changes, time.Now())
	if err == nil || !strings.Contains(err.Error(), "nothing in "+d.Dir+" was changed") {
		t.Fatalf("Apply() = %v", err)
	}
	if got := contents(t, d.Dir); got["a.txt"] != "old a\n" || len(got) != 2 {
		t.Errorf("after a failed staging the directory holds %v", got)
	}
}

// TestSignalsWaitForTheRenames: a SIGTERM during the renames does not stop
// them; it is delivered once they are done.
func TestSignalsWaitForTheRenames(t *testing.T) {
	// Every Notify channel sees the SIGTERM as it arrives, and again when
	// Apply sends it back after the renames: wait for both, so the second
	// is never left to arrive after Stop (its default action would end
	// the test binary).
	got := make(chan os.Signal, 2)
	signal.Notify(got, syscall.SIGTERM)
	defer signal.Stop(got)
	d := deployment(t, map[string]string{"a.txt": "old a\n"})
	changes, _ := d.Changes(newFiles)
	sent := false
	beforeRename = func(tmp, path string) error {
		if !sent {
			sent = true
			_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
			time.Sleep(20 * time.Millisecond)
		}
		return nil
	}
	defer func() { beforeRename = func(string, string) error { return nil } }()
	if _, err := d.Apply(changes, time.Now()); err != nil {
		t.Fatal(err)
	}
	if c := contents(t, d.Dir); c["d.txt"] != "new d\n" || c["a.txt"] != "new a\n" {
		t.Errorf("the renames did not all happen: %v", c)
	}
	for i := range 2 {
		select {
		case <-got:
		case <-time.After(2 * time.Second):
			t.Fatalf("SIGTERM %d of 2 never came: the one held during the renames was not delivered", i+1)
		}
	}
}

// TestLockSerialisesRuns: a second run on the same deployment waits, then
// fails naming the lock; after the first run, it gets it.
func TestLockSerialisesRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "deploy") // not even its parent exists yet
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func(w time.Duration) { LockWait = w }(LockWait)
	LockWait = 200 * time.Millisecond
	if _, err := Lock(dir); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "holds the lock on") {
		t.Errorf("second Lock() = %v, want one naming the lock", err)
	}
	unlock()
	again, err := Lock(dir)
	if err != nil {
		t.Fatalf("Lock() after unlock: %v", err)
	}
	again()
}

// TestTwoAppliesInOneSecondKeepBothBackups: the steps of an upgrade apply
// within a second; the second must not overwrite the first's copies.
func TestTwoAppliesInOneSecondKeepBothBackups(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	first := backupDirFor(dir, now)
	if err := os.MkdirAll(first, 0o700); err != nil {
		t.Fatal(err)
	}
	second := backupDirFor(dir, now)
	if second == first || !strings.HasSuffix(second, "20261125T030000Z-2") {
		t.Errorf("second backup directory %s (first %s)", second, first)
	}
}
