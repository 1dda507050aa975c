package deploy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockWait is how long a run waits for another run's lock on the same
// deployment before giving up.
var LockWait = 3 * time.Second

// ErrLocked is returned when another rcgen run holds the deployment's lock.
var ErrLocked = errors.New("another rcgen run is working on this deployment")

// Lock takes an exclusive lock for one run's whole read-plan-write on the
// deployment in dir: a flock(2) on the directory that holds it (dir's
// parent, or the nearest one that exists), so a run on a directory that
// does not exist yet is serialised too, and nothing is created to hold
// the lock. It waits up to LockWait, then fails naming the lock.
func Lock(dir string) (unlock func(), err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	holder := filepath.Dir(abs)
	for {
		if fi, err := os.Stat(holder); err == nil && fi.IsDir() {
			break
		}
		if holder == filepath.Dir(holder) {
			return nil, fmt.Errorf("no directory to lock above %s", abs)
		}
		holder = filepath.Dir(holder)
	}
	f, err := os.Open(holder)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", holder, err)
	}
	deadline := time.Now().Add(LockWait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", holder, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w: it holds the lock on %s (flock); wait for it to finish, then run rcgen again", ErrLocked, holder)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
