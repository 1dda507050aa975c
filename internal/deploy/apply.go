package deploy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/renameio/v2"

	"github.com/rcgen/rcgen/internal/render"
)

// Applied says what Apply did besides writing the changes.
type Applied struct {
	// Backup is the folder holding the replaced and removed files ("" when none).
	Backup string
	// Modes lists the files whose mode was restored (a secret made
	// readable by others goes back to 0600).
	Modes []string
}

// Apply carries out changes in the directory as a set: replaced and
// removed files are first copied to rcgen-backups/<now>/; every new file is
// then written in full beside its target (temporary name, fsync), and only
// when all are written are they renamed over the old ones (google/renameio)
// and the removed files removed. A failure before the renames changes
// nothing; a failed rename puts back what was already renamed, and the
// error says exactly what state the directory is in.
func (d *Deployment) Apply(changes []Change, now time.Time) (Applied, error) {
	// Ctrl-C or a SIGTERM during the apply would leave temporary files, or
	// the set half renamed, so they wait until it is over (SIGKILL cannot
	// be held off; the whole apply takes milliseconds).
	held := holdSignals()
	defer held()
	var done Applied
	for _, c := range changes {
		if c.Kind != Modified && c.Kind != Removed {
			continue
		}
		if done.Backup == "" {
			done.Backup = backupDirFor(d.Dir, now)
		}
		// A backup may hold secrets.
		if err := writeAtomic(filepath.Join(done.Backup, filepath.FromSlash(c.Path)), c.Old, 0o600); err != nil {
			return Applied{}, fmt.Errorf("backing up %s: %w; nothing in %s was changed", c.Path, err, d.Dir)
		}
	}

	// Stage every new file.
	var ready []staged
	var madeDirs []string
	discard := func() {
		for _, s := range ready {
			_ = s.p.Cleanup()
		}
		for i := len(madeDirs) - 1; i >= 0; i-- {
			_ = os.Remove(madeDirs[i]) // only if still empty
		}
	}
	for _, c := range changes {
		if c.Kind != Added && c.Kind != Modified {
			continue
		}
		path := filepath.Join(d.Dir, filepath.FromSlash(c.Path))
		made, err := mkdirAll(filepath.Dir(path))
		madeDirs = append(madeDirs, made...)
		if err != nil {
			discard()
			return Applied{}, fmt.Errorf("writing %s: %w; nothing in %s was changed", c.Path, err, d.Dir)
		}
		p, err := stage(path, c.New, c.Mode)
		if err != nil {
			discard()
			return Applied{}, fmt.Errorf("writing %s: %w; nothing in %s was changed", c.Path, err, d.Dir)
		}
		ready = append(ready, staged{c, p})
	}

	// Commit: rename each into place; on a failure, put back the ones done.
	for i, s := range ready {
		path := filepath.Join(d.Dir, filepath.FromSlash(s.c.Path))
		err := beforeRename(s.p.Name(), path)
		if err == nil {
			err = s.p.CloseAtomicallyReplace()
		}
		if err == nil {
			continue
		}
		for _, rest := range ready[i:] {
			_ = rest.p.Cleanup()
		}
		err = d.rollback(fmt.Errorf("writing %s: %w", s.c.Path, err), ready[:i], done.Backup)
		for j := len(madeDirs) - 1; j >= 0; j-- {
			_ = os.Remove(madeDirs[j]) // only if empty again
		}
		return Applied{}, err
	}
	syncDirs(d.Dir, changes)

	for _, c := range changes {
		path := filepath.Join(d.Dir, filepath.FromSlash(c.Path))
		switch c.Kind {
		case Removed:
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return done, fmt.Errorf("removing %s: %w; every other change is applied, and its old version is in %s", c.Path, err, done.Backup)
			}
		case Unchanged:
			// Keep the content, but make sure secrets are not readable by others.
			fi, err := os.Stat(path)
			if err == nil && fi.Mode().Perm() != c.Mode.Perm() {
				if err := os.Chmod(path, c.Mode); err != nil {
					return done, fmt.Errorf("setting the mode of %s: %w", c.Path, err)
				}
				done.Modes = append(done.Modes, fmt.Sprintf("%s (%04o, was %04o)", c.Path, c.Mode.Perm(), fi.Mode().Perm()))
			}
		}
	}
	return done, nil
}

// rollback puts back the files renamed before cause, from the changes'
// old content, and says what state the directory is in.
// backupDirFor names a new backup directory for a run at now; two runs in
// one second (the steps of an upgrade) get their own, never one another's.
func backupDirFor(dir string, now time.Time) string {
	base := filepath.Join(dir, BackupDir, now.UTC().Format("20060102T150405Z"))
	p := base
	for n := 2; ; n++ {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p
		}
		p = fmt.Sprintf("%s-%d", base, n)
	}
}

func (d *Deployment) rollback(cause error, renamed []staged, backup string) error {
	var restored, lost []string
	for _, s := range renamed {
		path := filepath.Join(d.Dir, filepath.FromSlash(s.c.Path))
		var err error
		if s.c.Kind == Added {
			err = os.Remove(path)
		} else {
			err = writeAtomic(path, s.c.Old, s.c.Mode)
		}
		if err != nil {
			lost = append(lost, s.c.Path)
		} else {
			restored = append(restored, s.c.Path)
		}
	}
	switch {
	case len(lost) > 0:
		return fmt.Errorf("%w; %s is now half old, half new: %s could not be put back (the old versions are in %s); restored: %s",
			cause, d.Dir, strings.Join(lost, ", "), backup, strings.Join(restored, ", "))
	case len(restored) > 0:
		return fmt.Errorf("%w; the %d files already replaced were put back, so %s is as it was", cause, len(restored), d.Dir)
	}
	return fmt.Errorf("%w; nothing in %s was changed", cause, d.Dir)
}

// holdSignals ignores the signals that end rcgen until the returned func
// is called, which lets them act again and delivers one that came.
func holdSignals() func() {
	sigs := []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}
	c := make(chan os.Signal, 1)
	signal.Notify(c, sigs...)
	return func() {
		signal.Stop(c)
		select {
		case sig := <-c:
			// A signal came during the renames: act on it now, as it would
			// have (with no other handler, its default action ends rcgen).
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				_ = p.Signal(sig)
			}
		default:
		}
	}
}

// staged is a new file written beside its target, waiting for its rename.
type staged struct {
	c Change
	p *renameio.PendingFile
}

// Write puts files into a new or empty dir (tests and examples).
func Write(dir string, files render.Files) error {
	d, err := Open(dir)
	if err != nil {
		return err
	}
	changes, err := d.Changes(files)
	if err != nil {
		return err
	}
	_, err = d.Apply(changes, time.Time{})
	return err
}

// beforeRename lets tests interrupt a write between the temporary file and
// the rename, as a crash or a full disk would.
var beforeRename = func(tmp, path string) error { return nil }

// stage writes content beside path under a temporary name and syncs it.
// Static permissions: a secret is 0600 whatever the umask says.
func stage(path string, content []byte, mode fs.FileMode) (*renameio.PendingFile, error) {
	p, err := renameio.NewPendingFile(path, renameio.WithStaticPermissions(mode))
	if err != nil {
		return nil, err
	}
	if _, err := p.Write(content); err != nil {
		_ = p.Cleanup()
		return nil, err
	}
	if err := p.Sync(); err != nil {
		_ = p.Cleanup()
		return nil, err
	}
	return p, nil
}

// mkdirAll creates dir and returns the directories it created, outermost first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for p := dir; ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil {
			break
		}
		missing = append([]string{p}, missing...)
		if p == filepath.Dir(p) {
			break
		}
	}
	return missing, os.MkdirAll(dir, 0o755)
}

// syncDirs makes the renames durable.
func syncDirs(root string, changes []Change) {
	seen := map[string]bool{}
	for _, c := range changes {
		dir := filepath.Dir(filepath.Join(root, filepath.FromSlash(c.Path)))
		if seen[dir] {
			continue
		}
		seen[dir] = true
		if f, err := os.Open(dir); err == nil {
			_ = f.Sync()
			f.Close()
		}
	}
}

func writeAtomic(path string, content []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	p, err := stage(path, content, mode)
	if err != nil {
		return err
	}
	if err := p.CloseAtomicallyReplace(); err != nil {
		return err
	}
	syncDirs(filepath.Dir(path), []Change{{Path: filepath.Base(path)}})
	return nil
}
