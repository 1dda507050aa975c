package deploy

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// stagedPrefix starts the name of every file rcgen writes beside its
// target before renaming it into place (a new version of a file, a backup
// copy, the journal). The next run recognises the ones a killed run left
// and removes them.
const stagedPrefix = ".rcgen-staged."

// isStaged reports whether a file name is one of rcgen's staged copies.
func isStaged(name string) bool { return strings.HasPrefix(name, stagedPrefix) }

// tree is a deployment directory opened for one apply or recovery. Every
// file is reached through an os.Root (openat), so no name resolves out of
// the deployment by construction, with one exception the operator makes:
// a symbolic link to a directory (prometheus/ on another disk) is a part
// of the deployment kept elsewhere, and rcgen's own files behind it are
// written through it, in a root of its own. A link whose target is
// missing (a disk not mounted yet) is refused, never written through,
// never removed; so is a link where rcgen writes a file.
type tree struct {
	dir  string
	root *os.Root
	// links are the roots opened at links to directories, by the link's
	// path in the deployment.
	links map[string]*os.Root
}

func openTree(dir string) (*tree, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &tree{dir: dir, root: r, links: map[string]*os.Root{}}, nil
}

func (t *tree) close() {
	for _, r := range t.links {
		r.Close()
	}
	t.root.Close()
}

// place is where one name of the deployment is: a root and the name in it.
type place struct {
	root *os.Root
	name string // in root, OS separators
	rel  string // in the deployment, slashes
}

// dirOf is the place of p's directory.
func (p place) dirOf() place {
	return place{root: p.root, name: filepath.Dir(p.name), rel: path.Dir(p.rel)}
}

// LinkError is a symbolic link in the way of a change: one whose target
// does not exist, one to a file where a directory is needed, or one where
// rcgen would replace or remove a file (which would remove the link).
type LinkError struct {
	// Path is the link as the user knows it (the deployment directory joined with its name).
	Path   string
	Target string
	// Missing: the target does not exist.
	Missing bool
	// File: the link is where rcgen writes or removes one of its files.
	File bool
}

func (e *LinkError) Error() string {
	switch {
	case e.Missing:
		return fmt.Sprintf("%s is a symbolic link to %s, which does not exist (a disk not mounted yet?): mount or create %s, then run rcgen again; rcgen never writes through a link whose target is missing, nor removes the link", e.Path, e.Target, e.Target)
	case e.File:
		return fmt.Sprintf("%s is a symbolic link (to %s) where rcgen writes one of its files, and replacing the file would remove the link: replace the link with a copy of the file itself", e.Path, e.Target)
	}
	return fmt.Sprintf("%s is a symbolic link to %s, which is not a directory: rcgen needs a directory there", e.Path, e.Target)
}

// linkError describes the link at full.
func linkError(full string, file bool) error {
	target, _ := os.Readlink(full)
	fi, err := os.Stat(full)
	if file {
		return &LinkError{Path: full, Target: target, File: true, Missing: err != nil}
	}
	if err != nil {
		return &LinkError{Path: full, Target: target, Missing: true}
	}
	if !fi.IsDir() {
		return &LinkError{Path: full, Target: target}
	}
	return nil
}

// locate finds the name rel (slashes, in the deployment) without
// creating anything. missing lists its directories that do not exist yet
// (deployment paths, outermost first); they are under the returned root.
func (t *tree) locate(rel string) (p place, missing []string, err error) {
	r, within := t.root, ""
	parts := strings.Split(rel, "/")
	for i, c := range parts[:len(parts)-1] {
		next := filepath.Join(within, c)
		so := strings.Join(parts[:i+1], "/")
		fi, err := r.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			for j := i; j < len(parts)-1; j++ {
				missing = append(missing, strings.Join(parts[:j+1], "/"))
			}
			within = filepath.Join(within, filepath.Join(parts[i:len(parts)-1]...))
			break
		}
		if err != nil {
			return place{}, nil, err
		}
		switch {
		case fi.IsDir():
			within = next
		case fi.Mode()&fs.ModeSymlink != 0:
			if st, err := r.Stat(next); err == nil && st.IsDir() {
				within = next // a link that stays in this root: os.Root follows it
				continue
			}
			full := filepath.Join(t.dir, filepath.FromSlash(so))
			if err := linkError(full, false); err != nil {
				return place{}, nil, err
			}
			sub, ok := t.links[so]
			if !ok {
				if sub, err = os.OpenRoot(filepath.Join(r.Name(), next)); err != nil {
					return place{}, nil, err
				}
				t.links[so] = sub
			}
			r, within = sub, ""
		default:
			return place{}, nil, fmt.Errorf("%s is a file, where rcgen needs a directory", filepath.Join(t.dir, filepath.FromSlash(so)))
		}
	}
	return place{root: r, name: filepath.Join(within, parts[len(parts)-1]), rel: rel}, missing, nil
}

// file locates a file rcgen writes or removes, refusing a link there.
func (t *tree) file(rel string) (place, []string, error) {
	p, missing, err := t.locate(rel)
	if err != nil || len(missing) > 0 {
		return p, missing, err
	}
	fi, err := p.root.Lstat(p.name)
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		return p, nil, linkError(filepath.Join(t.dir, filepath.FromSlash(rel)), true)
	case err == nil && fi.IsDir():
		return p, nil, fmt.Errorf("%s is a directory, where rcgen writes a file", filepath.Join(t.dir, filepath.FromSlash(rel)))
	}
	return p, nil, nil
}

// mkdir creates the directory rel, whose parent exists.
func (t *tree) mkdir(rel string, perm fs.FileMode) error {
	p, _, err := t.locate(rel)
	if err != nil {
		return err
	}
	return p.root.Mkdir(p.name, perm)
}

// rmdir removes the directory rel if it is empty (and a directory).
func (t *tree) rmdir(rel string) {
	p, missing, err := t.locate(rel)
	if err != nil || len(missing) > 0 {
		return
	}
	if fi, err := p.root.Lstat(p.name); err == nil && fi.IsDir() {
		_ = p.root.Remove(p.name) // fails when not empty
	}
}

// stagedName is a new name for a staged copy of p, beside it.
func stagedName(p place) place {
	var b [8]byte
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	base := stagedPrefix + path.Base(p.rel) + "." + hex.EncodeToString(b[:])
	return place{root: p.root, name: filepath.Join(filepath.Dir(p.name), base), rel: path.Join(path.Dir(p.rel), base)}
}

// write creates s (a staged name) with content and mode, and syncs it.
// Static permissions: a secret is 0600 whatever the umask says, and is
// never readable by others, even while written.
func write(s place, content []byte, mode fs.FileMode) error {
	f, err := s.root.OpenFile(s.name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	err = f.Chmod(mode.Perm())
	if err == nil {
		_, err = f.Write(content)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = s.root.Remove(s.name)
	}
	return err
}

// syncDir makes the renames and removals in p's directory durable.
func syncDir(p place) {
	if f, err := p.root.Open(filepath.Dir(p.name)); err == nil {
		_ = f.Sync()
		f.Close()
	}
}

// dirKey names a directory of a root, to sync each one once.
type dirKey struct {
	root *os.Root
	dir  string
}

// syncDirs syncs the directory of each place once.
func syncDirs(places []place) {
	seen := map[dirKey]bool{}
	for _, p := range places {
		k := dirKey{p.root, filepath.Dir(p.name)}
		if !seen[k] {
			seen[k] = true
			syncDir(p)
		}
	}
}

// writeAtomic writes content to rel as a whole (staged, synced, renamed,
// its directory synced), creating its directories.
func (t *tree) writeAtomic(rel string, content []byte, mode fs.FileMode) error {
	p, missing, err := t.file(rel)
	if err != nil {
		return err
	}
	for _, m := range missing {
		if err := t.mkdir(m, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	if len(missing) > 0 {
		if p, _, err = t.file(rel); err != nil {
			return err
		}
	}
	s := stagedName(p)
	if err := write(s, content, mode); err != nil {
		return err
	}
	afterStep("staged copy of " + rel)
	if err := p.root.Rename(s.name, p.name); err != nil {
		_ = s.root.Remove(s.name)
		return err
	}
	syncDir(p)
	return nil
}
