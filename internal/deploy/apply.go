package deploy

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/renameio/v2"

	"github.com/rcgen/rcgen/internal/render"
)

// Apply carries out changes in the directory. Replaced and removed files
// are first copied to rcgen-backups/<now>/; each new file is written to a
// temporary file in its own directory, synced, and renamed over the old one
// (google/renameio), so a crash or a full disk leaves the old file or the
// new one, never half of one. It returns the backup folder, or "" when
// nothing was replaced.
func (d *Deployment) Apply(changes []Change, now time.Time) (string, error) {
	backup := ""
	for _, c := range changes {
		if c.Kind != Modified && c.Kind != Removed {
			continue
		}
		if backup == "" {
			backup = filepath.Join(d.Dir, BackupDir, now.UTC().Format("20060102T150405Z"))
		}
		mode := fs.FileMode(0o600) // a backup may hold secrets
		if err := writeAtomic(filepath.Join(backup, filepath.FromSlash(c.Path)), c.Old, mode); err != nil {
			return "", fmt.Errorf("backing up %s: %w", c.Path, err)
		}
	}
	for _, c := range changes {
		path := filepath.Join(d.Dir, filepath.FromSlash(c.Path))
		switch c.Kind {
		case Added, Modified:
			if err := writeAtomic(path, c.New, c.Mode); err != nil {
				return backup, err
			}
		case Removed:
			if err := os.Remove(path); err != nil {
				return backup, fmt.Errorf("removing %s: %w", c.Path, err)
			}
		case Unchanged:
			// Keep the content, but make sure secrets are not readable by others.
			if err := os.Chmod(path, c.Mode); err != nil {
				return backup, fmt.Errorf("setting the mode of %s: %w", c.Path, err)
			}
		}
	}
	return backup, nil
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
// the rename, as a crash would.
var beforeRename = func(tmp, path string) error { return nil }

func writeAtomic(path string, content []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	// Static permissions: a secret is 0600 whatever the umask says.
	t, err := renameio.NewPendingFile(path, renameio.WithStaticPermissions(mode))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer t.Cleanup()
	if _, err := t.Write(content); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := beforeRename(t.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := t.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// Make the rename itself durable.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
