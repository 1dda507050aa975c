package deploy

import (
	"errors"
	"fmt"
	"io/fs"
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

// lockSuffix ends the name of the lock file beside a deployment that does
// not exist yet: .<name>.rcgen-lock in its parent.
const lockSuffix = ".rcgen-lock"

// LockFile is the lock file Lock uses for dir while dir does not exist.
func LockFile(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = filepath.Clean(dir)
	}
	// The nearest directory above that exists holds it, named after the
	// first name below it that does not.
	name := abs
	for parent := filepath.Dir(name); parent != name; name, parent = parent, filepath.Dir(parent) {
		if fi, err := os.Stat(parent); err == nil && fi.IsDir() {
			break
		}
	}
	return filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+lockSuffix)
}

// Lock takes an exclusive lock for one run's whole read-plan-write on the
// deployment in dir, and on nothing else: a backup of rc1 never holds up
// a generate of its sibling rc2.
//
// An existing deployment is locked by a flock(2) on its directory. One
// that does not exist yet is locked by a flock on a lock file beside it,
// LockFile(dir) (.rc1.rcgen-lock), which the run that made it removes
// when it is done. A run that finds the directory looks for that file
// after it (the file exists before the directory and until the run that
// made both ends), and takes it first when it is there: so a run that
// creates a deployment and one that finds it just made never overlap. A
// lock file a killed run left holds nothing (flock dies with its holder)
// and the next run removes it. Where the lock file cannot be made (the
// parent is not writable: no deployment can be made there either), the
// parent directory is locked instead.
//
// It waits up to LockWait, then fails naming the lock.
func Lock(dir string) (unlock func(), err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(LockWait)
	for {
		exists := isDir(abs) // before looking for the lock file
		file := LockFile(abs)
		var held *os.File // the lock file, when taken
		if !exists || fileExists(file) {
			f, err := lockFile(file, deadline)
			switch {
			case errors.Is(err, errStale):
				continue // removed by the run that held it: look again
			case err != nil && !exists && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)):
				return lockDir(filepath.Dir(file), deadline)
			case err != nil && exists && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)):
				// A stale one that cannot be opened: no run can hold it.
			case err != nil:
				return nil, err
			}
			held = f
		}
		unlockFile := func() {
			if held != nil {
				// Removed while it is held: whoever waits on it looks again.
				if sameFile(held, file) {
					_ = os.Remove(file)
				}
				_ = syscall.Flock(int(held.Fd()), syscall.LOCK_UN)
				held.Close()
			}
		}
		if !isDir(abs) {
			return unlockFile, nil
		}
		unlockDir, err := lockDir(abs, deadline)
		if err != nil {
			unlockFile()
			return nil, err
		}
		return func() { unlockDir(); unlockFile() }, nil
	}
}

// errStale: the lock file was removed after it was opened.
var errStale = errors.New("stale lock file")

// lockFile takes the lock file name, making it when it is missing.
func lockFile(name string, deadline time.Time) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", name, err)
	}
	if err := flock(f, name, deadline); err != nil {
		f.Close()
		return nil, err
	}
	if !sameFile(f, name) {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
		return nil, errStale
	}
	return f, nil
}

// lockDir takes a flock on the directory dir.
func lockDir(dir string, deadline time.Time) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	if err := flock(f, dir, deadline); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// flock waits for an exclusive flock on f until deadline.
func flock(f *os.File, name string, deadline time.Time) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("locking %s: %w", name, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: it holds the lock on %s (flock); wait for it to finish, then run rcgen again", ErrLocked, name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sameFile reports whether the open f is still the file at name.
func sameFile(f *os.File, name string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(name)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

func isDir(name string) bool {
	fi, err := os.Stat(name)
	return err == nil && fi.IsDir()
}

func fileExists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}
