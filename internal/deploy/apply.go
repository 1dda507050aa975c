package deploy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"syscall"
	"time"

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

// Apply carries out changes in the directory as a set, inside the
// deployment only (os.Root; see tree for the one way through a link):
//
//  1. every name is found first: a symbolic link in the way (one whose
//     target is missing, or one where a file is written) stops the run
//     before anything is written;
//  2. the apply journal (JournalFile) is written, in state "staging";
//  3. replaced and removed files are copied to rcgen-backups/<now>/;
//  4. every new version is written in full beside its target, under a
//     staged name (stagedPrefix), and synced;
//  5. the journal moves to "renaming" (written, synced): from here the
//     apply is committed;
//  6. every new version is renamed over its target, the removed files are
//     removed, and each directory is synced once;
//  7. the journal is removed.
//
// The window in which a kill leaves the set half renamed is the renames
// alone; the journal tells the next run (Recover) and rcgen doctor, and
// Recover finishes it. A failure before the renames changes nothing and
// leaves nothing; a failed rename puts back what was already renamed,
// and the error says exactly what state the directory is in. Nothing
// rcgen did not make in this run is removed: not a link, not a directory.
func (d *Deployment) Apply(changes []Change, now time.Time) (Applied, error) {
	// Ctrl-C or a SIGTERM during the apply would leave staged files, or
	// the set half renamed, so they wait until it is over (SIGKILL cannot
	// be held off: the journal is for that).
	held := holdSignals()
	defer held()
	var done Applied
	var work []Change
	for _, c := range changes {
		if c.Kind != Unchanged {
			work = append(work, c)
		}
	}
	if len(work) == 0 {
		return d.fixModes(changes)
	}
	unchanged := func(err error) (Applied, error) {
		return Applied{}, fmt.Errorf("%w; nothing in %s was changed", err, d.Dir)
	}

	// A new deployment's directory is made here, and removed again (if
	// still empty) when the run fails.
	madeTop, err := makeDirs(d.Dir)
	undoTop := func() {
		for i := len(madeTop) - 1; i >= 0; i-- {
			_ = os.Remove(madeTop[i]) // only if empty
		}
	}
	if err != nil {
		undoTop()
		return unchanged(err)
	}
	if len(madeTop) > 0 {
		syncPath(filepath.Dir(madeTop[0]))
	}
	t, err := openTree(d.Dir)
	if err != nil {
		undoTop()
		return unchanged(err)
	}
	defer t.close()

	// 1. Find every name.
	type item struct {
		c    Change
		p, s place // the target and its staged copy
	}
	var items []item
	j := &journal{Version: 1, State: JournalStaging}
	seenDir := map[string]bool{}
	for _, c := range work {
		p, missing, err := t.file(c.Path)
		if err != nil {
			undoTop()
			return unchanged(fmt.Errorf("writing %s: %w", c.Path, err))
		}
		for _, m := range missing {
			if !seenDir[m] {
				seenDir[m] = true
				j.Dirs = append(j.Dirs, m)
			}
		}
		e := journalEntry{Path: c.Path, Remove: c.Kind == Removed, Added: c.Kind == Added}
		it := item{c: c, p: p}
		if c.Kind != Removed {
			it.s = stagedName(p)
			e.Staged, e.SHA256 = it.s.rel, sum(c.New)
		}
		if c.Kind != Added && done.Backup == "" {
			done.Backup = backupDirFor(d.Dir, now)
			rel, _ := filepath.Rel(d.Dir, done.Backup)
			j.Backup = filepath.ToSlash(rel)
		}
		items = append(items, it)
		j.Files = append(j.Files, e)
	}
	// What a failure before the commit undoes: the staged copies, the
	// directories made, the journal. The backups are kept.
	staged := 0
	madeDirs := 0
	discard := func() {
		for _, it := range items[:staged] {
			if it.c.Kind != Removed {
				_ = it.s.root.Remove(it.s.name)
			}
		}
		for i := madeDirs - 1; i >= 0; i-- {
			t.rmdir(j.Dirs[i])
		}
		_ = t.removeJournal()
		undoTop()
	}

	// 2. The journal.
	if err := t.writeJournal(j); err != nil {
		discard()
		return unchanged(fmt.Errorf("writing %s: %w", JournalFile, err))
	}
	afterStep("journal")

	// 3. The backups (a backup may hold secrets).
	for _, it := range items {
		if it.c.Kind == Added {
			continue
		}
		if err := t.writeAtomic(path.Join(j.Backup, it.c.Path), it.c.Old, 0o600); err != nil {
			discard()
			return unchanged(fmt.Errorf("backing up %s: %w", it.c.Path, err))
		}
		afterStep("backup " + it.c.Path)
	}

	// 4. The new versions, written in full and synced.
	var made []place
	for _, m := range j.Dirs {
		if err := t.mkdir(m, 0o755); err != nil {
			discard()
			return unchanged(fmt.Errorf("creating %s: %w", m, err))
		}
		madeDirs++
		if p, _, err := t.locate(m); err == nil {
			made = append(made, p)
		}
	}
	for i, it := range items {
		if it.c.Kind == Removed {
			staged = i + 1
			continue
		}
		err := write(it.s, it.c.New, it.c.Mode)
		if err == nil {
			staged = i + 1
		}
		if err != nil {
			discard()
			return unchanged(fmt.Errorf("writing %s: %w", it.c.Path, err))
		}
		afterStep("staged " + it.c.Path)
	}

	syncDirs(made) // the new directories' names, before the commit

	// 5. Commit.
	j.State = JournalRenaming
	if err := t.writeJournal(j); err != nil {
		discard()
		return unchanged(fmt.Errorf("writing %s: %w", JournalFile, err))
	}
	afterStep("commit")

	// 6. Rename each into place; on a failure, put back the ones done.
	old := map[string][]byte{}
	for _, it := range items {
		if it.c.Kind != Added {
			old[it.c.Path] = it.c.Old
		}
	}
	var places []place
	renamed := 0
	for _, it := range items {
		if it.c.Kind == Removed {
			continue
		}
		full := filepath.Join(d.Dir, filepath.FromSlash(it.c.Path))
		err := beforeRename(filepath.Join(d.Dir, filepath.FromSlash(it.s.rel)), full)
		if err == nil {
			err = it.p.root.Rename(it.s.name, it.p.name)
		}
		if err != nil {
			return Applied{}, d.putBack(t, j, old, fmt.Errorf("writing %s: %w", it.c.Path, err), renamed, undoTop)
		}
		renamed++
		places = append(places, it.p)
		afterStep("renamed " + it.c.Path)
	}
	for _, it := range items {
		if it.c.Kind != Removed {
			continue
		}
		if err := it.p.root.Remove(it.p.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			syncDirs(places)
			_ = t.removeJournal()
			return done, fmt.Errorf("removing %s: %w; every other change is applied, and its old version is in %s", it.c.Path, err, done.Backup)
		}
		places = append(places, it.p)
		afterStep("removed " + it.c.Path)
	}
	syncDirs(places)
	afterStep("synced")

	// 7. Done.
	if err := t.removeJournal(); err != nil {
		return done, fmt.Errorf("every change is applied, but removing %s failed (%w): remove it by hand", filepath.Join(d.Dir, JournalFile), err)
	}
	afterStep("done")
	m, err := d.fixModesIn(t, changes)
	done.Modes = m
	return done, err
}

// putBack rolls a failed rename back and says what state the directory is in.
func (d *Deployment) putBack(t *tree, j *journal, old map[string][]byte, cause error, renamed int, undoTop func()) error {
	var rec Recovery
	if err := t.finish(j, old, &rec); err != nil {
		return fmt.Errorf("%w; %w; the next rcgen run on %s tries again to finish it or put it back", cause, err, d.Dir)
	}
	undoTop()
	if renamed == 0 {
		return fmt.Errorf("%w; nothing in %s was changed", cause, d.Dir)
	}
	return fmt.Errorf("%w; the %d files already replaced were put back, so %s is as it was", cause, renamed, d.Dir)
}

// fixModes restores the mode of unchanged secrets (nothing else to do).
func (d *Deployment) fixModes(changes []Change) (Applied, error) {
	if fi, err := os.Stat(d.Dir); err != nil || !fi.IsDir() {
		return Applied{}, nil
	}
	t, err := openTree(d.Dir)
	if err != nil {
		return Applied{}, err
	}
	defer t.close()
	m, err := d.fixModesIn(t, changes)
	return Applied{Modes: m}, err
}

// fixModesIn keeps the content of unchanged files, but makes sure secrets
// are not readable by others. A link is left alone.
func (d *Deployment) fixModesIn(t *tree, changes []Change) ([]string, error) {
	var fixed []string
	for _, c := range changes {
		if c.Kind != Unchanged {
			continue
		}
		p, missing, err := t.locate(c.Path)
		if err != nil || len(missing) > 0 {
			continue
		}
		fi, err := p.root.Lstat(p.name)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() == c.Mode.Perm() {
			continue
		}
		if err := p.root.Chmod(p.name, c.Mode); err != nil {
			return fixed, fmt.Errorf("setting the mode of %s: %w", c.Path, err)
		}
		fixed = append(fixed, fmt.Sprintf("%s (%04o, was %04o)", c.Path, c.Mode.Perm(), fi.Mode().Perm()))
	}
	return fixed, nil
}

// makeDirs makes dir and the directories above it that do not exist,
// one by one, and returns the ones it made, outermost first. A name that
// exists is never made again nor removed: a link whose target is missing
// stays as it is, and the run fails.
func makeDirs(dir string) ([]string, error) {
	var missing []string
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			// The nearest name that exists: a link there must lead to a directory.
			if isLink(p) {
				if err := linkError(p, false); err != nil {
					return nil, err
				}
			}
			break
		}
		missing = append([]string{p}, missing...)
		if p == filepath.Dir(p) {
			break
		}
	}
	var made []string
	for _, p := range missing {
		if err := os.Mkdir(p, 0o755); err != nil {
			return made, fmt.Errorf("creating %s: %w", p, err)
		}
		made = append(made, p)
	}
	return made, nil
}

// syncPath syncs the directory dir (a new name in it is durable).
func syncPath(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		f.Close()
	}
}

// isLink reports whether name is a symbolic link.
func isLink(name string) bool {
	fi, err := os.Lstat(name)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

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

// beforeRename lets tests interrupt a write between the staged file and
// the rename, as a crash or a full disk would.
var beforeRename = func(staged, path string) error { return nil }

// afterStep lets tests kill rcgen after each step of an apply.
var afterStep = func(step string) {}
