package deploy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func shortLockWait(t *testing.T) {
	t.Helper()
	w := LockWait
	LockWait = 100 * time.Millisecond
	t.Cleanup(func() { LockWait = w })
}

// TestLockIsPerDeployment: a run on rc1 (a backup, say) holds rc1's lock
// only: runs on its siblings rc2 (existing) and rc3 (new) go on at once.
func TestLockIsPerDeployment(t *testing.T) {
	shortLockWait(t)
	parent := t.TempDir()
	rc1, rc2, rc3 := filepath.Join(parent, "rc1"), filepath.Join(parent, "rc2"), filepath.Join(parent, "rc3")
	os.Mkdir(rc1, 0o755)
	os.Mkdir(rc2, 0o755)
	unlock, err := Lock(rc1)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	for _, sibling := range []string{rc2, rc3} {
		u, err := Lock(sibling)
		if err != nil {
			t.Errorf("Lock(%s) while %s is locked: %v", sibling, rc1, err)
			continue
		}
		u()
	}
	if _, err := Lock(rc1); !errors.Is(err, ErrLocked) {
		t.Errorf("a second Lock(rc1) = %v, want ErrLocked", err)
	}
}

// TestLockOfANewDeployment: a run on a deployment that does not exist yet
// locks a file beside it (.rc1.rcgen-lock); a second run waits for it
// before and after the first made the directory; the file is gone when
// the first run ends, and a stale one a killed run left is taken and
// removed.
func TestLockOfANewDeployment(t *testing.T) {
	shortLockWait(t)
	parent := t.TempDir()
	rc1 := filepath.Join(parent, "rc1")
	file := filepath.Join(parent, ".rc1.rcgen-lock")
	unlock, err := Lock(rc1)
	if err != nil {
		t.Fatal(err)
	}
	if !exists(file) {
		t.Errorf("no lock file %s", file)
	}
	if _, err := Lock(rc1); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), file) {
		t.Errorf("second Lock() before the directory exists = %v", err)
	}
	os.Mkdir(rc1, 0o755) // the first run writes the deployment
	if _, err := Lock(rc1); !errors.Is(err, ErrLocked) {
		t.Errorf("second Lock() once the first run made the directory = %v", err)
	}
	unlock()
	if exists(file) {
		t.Error("the lock file is left after the run")
	}
	again, err := Lock(rc1)
	if err != nil {
		t.Fatal(err)
	}
	again()

	// Stale, beside an existing deployment and beside a missing one.
	for _, dir := range []string{rc1, filepath.Join(parent, "rc4")} {
		stale := LockFile(dir)
		if err := os.WriteFile(stale, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		u, err := Lock(dir)
		if err != nil {
			t.Fatalf("Lock(%s) with a stale lock file: %v", dir, err)
		}
		u()
		if exists(stale) {
			t.Errorf("the stale lock file %s is left", stale)
		}
	}
}
