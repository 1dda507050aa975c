package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rcgen/rcgen/internal/render"
)

// JournalFile is the apply journal: while it exists in a deployment, an
// apply into it has not finished. It lists every file the apply writes
// or removes, and where each new version is staged.
const JournalFile = ".rcgen-apply.json"

// Journal states.
const (
	// JournalStaging: the new versions are being written beside their
	// targets; nothing of the deployment was replaced yet.
	JournalStaging = "staging"
	// JournalRenaming: every new version is written and synced, and the
	// renames have begun: some files may be new, others old.
	JournalRenaming = "renaming"
)

// journal is the apply journal's content.
type journal struct {
	Version int    `json:"version"`
	State   string `json:"state"`
	// Backup is the folder holding the old versions (deployment path).
	Backup string `json:"backup,omitempty"`
	// Dirs are the directories the apply makes, outermost first.
	Dirs  []string       `json:"dirs,omitempty"`
	Files []journalEntry `json:"files"`
}

type journalEntry struct {
	Path string `json:"path"`
	// Remove: the file is removed; else its new version is renamed in.
	Remove bool `json:"remove,omitempty"`
	// Added: the file is new (no old version to put back).
	Added  bool   `json:"added,omitempty"`
	Staged string `json:"staged,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// writeJournal replaces the journal as a whole (staged, synced, renamed,
// the directory synced): it is the apply's commit point.
func (t *tree) writeJournal(j *journal) error {
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return t.writeAtomic(JournalFile, append(b, '\n'), 0o600)
}

// removeJournal ends the apply: the deployment is whole again.
func (t *tree) removeJournal() error {
	if err := t.root.Remove(JournalFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	syncDir(place{root: t.root, name: JournalFile, rel: JournalFile})
	return nil
}

// readJournal returns the journal, nil when there is none.
func readJournal(r *os.Root) (*journal, error) {
	f, err := r.Open(JournalFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxOwnFile+1))
	if err != nil {
		return nil, err
	}
	var j journal
	if len(b) > maxOwnFile {
		return nil, fmt.Errorf("%s is larger than any journal rcgen writes", JournalFile)
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("%s does not parse: %w", JournalFile, err)
	}
	if j.Version != 1 || (j.State != JournalStaging && j.State != JournalRenaming) {
		return nil, fmt.Errorf("%s is not a journal this rcgen wrote (version %d, state %q)", JournalFile, j.Version, j.State)
	}
	// What the journal names is checked as rcgen writes it, so that even
	// a forged one makes rcgen touch its own files only: files it owns,
	// their staged copies beside them, directories above them, and a
	// backup folder in rcgen-backups/.
	owned := render.OwnedPaths()
	above := map[string]bool{}
	for _, e := range j.Files {
		if !slices.Contains(owned, e.Path) || e.Staged != "" && (!validRel(e.Staged) || path.Dir(e.Staged) != path.Dir(e.Path) || !isStaged(path.Base(e.Staged))) {
			return nil, fmt.Errorf("%s names %q, which is not one of rcgen's files", JournalFile, e.Path)
		}
		for d := path.Dir(e.Path); d != "."; d = path.Dir(d) {
			above[d] = true
		}
	}
	for _, d := range j.Dirs {
		if !above[d] {
			return nil, fmt.Errorf("%s names the directory %q, which holds none of its files", JournalFile, d)
		}
	}
	if j.Backup != "" && (!validRel(j.Backup) || path.Dir(j.Backup) != BackupDir) {
		return nil, fmt.Errorf("%s names %q as its backup folder, which is not in %s/", JournalFile, j.Backup, BackupDir)
	}
	return &j, nil
}

// validRel: a clean relative path with no way out of the deployment.
func validRel(p string) bool {
	return p != "" && p != "." && !path.IsAbs(p) && path.Clean(p) == p && p != ".." && !strings.HasPrefix(p, "../")
}

// Interruption is an apply that did not finish, as its journal says.
type Interruption struct {
	// State is JournalStaging (nothing replaced yet) or JournalRenaming
	// (some files may be new, others old).
	State string
	// Files are the files the apply writes or removes.
	Files []string
}

// Interrupted reports an apply into dir that did not finish (nil when
// none), reading only. Doctor reports it; the next run finishes it.
func Interrupted(dir string) (*Interruption, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil // no directory, no journal
	}
	defer r.Close()
	j, err := readJournal(r)
	if err != nil {
		if _, serr := r.Lstat(JournalFile); serr == nil {
			return &Interruption{State: JournalRenaming}, fmt.Errorf("%s: %w", filepath.Join(dir, JournalFile), err)
		}
		return nil, err
	}
	if j == nil {
		return nil, nil
	}
	in := &Interruption{State: j.State}
	for _, e := range j.Files {
		in.Files = append(in.Files, e.Path)
	}
	return in, nil
}

// Recovery says what Recover did.
type Recovery struct {
	Dir string
	// State is the state of the interrupted apply found ("" when none).
	State string
	// Forward: the apply was finished; Back: it was rolled back.
	Forward, Back bool
	// Files are the files finished or put back.
	Files []string
	// Why the apply could not be finished (when Back).
	Why string
	// Removed are the leftovers removed (staged copies, directories the
	// interrupted apply made), deployment paths.
	Removed []string
}

// String says what was done, for the person running rcgen ("" when nothing).
func (r Recovery) String() string {
	var b strings.Builder
	switch {
	case r.Forward:
		fmt.Fprintf(&b, "An earlier rcgen run was interrupted while it replaced the files of %s, leaving some new and some old: finished it (rolled forward, its new versions were complete): %s.", r.Dir, strings.Join(r.Files, ", "))
	case r.Back:
		fmt.Fprintf(&b, "An earlier rcgen run was interrupted while it replaced the files of %s, and could not be finished (%s): rolled it back, %s are as they were before it.", r.Dir, r.Why, strings.Join(r.Files, ", "))
	case r.State == JournalStaging:
		fmt.Fprintf(&b, "An earlier rcgen run was interrupted before it replaced any file of %s: nothing of it was applied.", r.Dir)
	}
	if len(r.Removed) > 0 {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "Removed what an interrupted run left in %s: %s.", r.Dir, strings.Join(r.Removed, ", "))
	}
	return b.String()
}

// Recover finishes an apply into dir that a kill (or a power cut)
// interrupted, under the deployment's lock, before anything reads the
// deployment: one caught while it renamed is rolled forward (its new
// versions were complete and synced before the first rename), or rolled
// back from its backups when a new version is missing or damaged; one
// caught before is undone. Staged copies a killed run left are removed.
func Recover(dir string) (Recovery, error) {
	rec := Recovery{Dir: dir}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return rec, nil
	}
	t, err := openTree(dir)
	if err != nil {
		return rec, nil // reported by Open
	}
	defer t.close()
	j, err := readJournal(t.root)
	if err != nil {
		return rec, fmt.Errorf("an earlier rcgen run was interrupted while it applied changes to %s, and its journal cannot be read (%w): compare the files with their copies in %s/ by hand, then remove %s", dir, err, BackupDir, filepath.Join(dir, JournalFile))
	}
	if j != nil {
		rec.State = j.State
		if err := t.finish(j, nil, &rec); err != nil {
			return rec, err
		}
	}
	rec.Removed = append(rec.Removed, t.sweep(j)...)
	// Files first, then the directories.
	slices.SortFunc(rec.Removed, func(a, b string) int {
		if da, db := strings.HasSuffix(a, "/"), strings.HasSuffix(b, "/"); da != db {
			if da {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	rec.Removed = slices.Compact(rec.Removed)
	return rec, nil
}

// finish ends an interrupted apply: forward when it was renaming and
// every new version is there, else back. old holds the old versions when
// the apply itself rolls back (nil: read them from the backup folder).
func (t *tree) finish(j *journal, old map[string][]byte, rec *Recovery) error {
	if j.State == JournalRenaming && old == nil {
		rec.Why = t.forward(j, rec)
		if rec.Why == "" {
			rec.Forward = true
			return t.removeJournal()
		}
	}
	if j.State == JournalRenaming {
		if err := t.back(j, old, rec); err != nil {
			return err
		}
		rec.Back = true
	}
	// Nothing of it is left: its staged copies, then the directories it made.
	for _, e := range j.Files {
		if e.Staged == "" {
			continue
		}
		if s, _, err := t.locate(e.Staged); err == nil {
			if s.root.Remove(s.name) == nil {
				rec.Removed = append(rec.Removed, e.Staged)
			}
		}
	}
	for i := len(j.Dirs) - 1; i >= 0; i-- {
		if t.rmdirIfEmpty(j.Dirs[i]) {
			rec.Removed = append(rec.Removed, j.Dirs[i]+"/")
		}
	}
	return t.removeJournal()
}

// rmdirIfEmpty removes the directory rel when it is empty.
func (t *tree) rmdirIfEmpty(rel string) bool {
	p, missing, err := t.locate(rel)
	if err != nil || len(missing) > 0 {
		return false
	}
	if fi, err := p.root.Lstat(p.name); err != nil || !fi.IsDir() {
		return false
	}
	return p.root.Remove(p.name) == nil
}

// content reads a file of the deployment (nil when missing).
func (t *tree) content(rel string) ([]byte, error) {
	p, missing, err := t.locate(rel)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fs.ErrNotExist
	}
	f, err := p.root.Open(p.name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxOwnFile+1))
	if len(b) > maxOwnFile {
		return nil, errors.New("too large")
	}
	return b, err
}

// forward renames every staged version still there into place and
// removes the files to remove; it returns why it cannot ("" when done).
// It checks everything before it renames anything.
func (t *tree) forward(j *journal, rec *Recovery) string {
	var todo []journalEntry
	for _, e := range j.Files {
		if e.Remove {
			continue
		}
		if b, err := t.content(e.Staged); err == nil {
			if sum(b) != e.SHA256 {
				return fmt.Sprintf("the new version of %s is damaged", e.Path)
			}
			todo = append(todo, e)
			continue
		}
		if b, err := t.content(e.Path); err != nil || sum(b) != e.SHA256 {
			return fmt.Sprintf("the new version of %s is missing", e.Path)
		}
	}
	var done []place
	for _, e := range todo {
		p, _, err := t.file(e.Path)
		if err == nil {
			s, _, err2 := t.locate(e.Staged)
			err = err2
			if err == nil {
				err = p.root.Rename(s.name, p.name)
			}
		}
		if err != nil {
			return fmt.Sprintf("renaming %s: %v", e.Path, err)
		}
		done = append(done, p)
		rec.Files = append(rec.Files, e.Path)
	}
	for _, e := range j.Files {
		if !e.Remove {
			continue
		}
		p, _, err := t.file(e.Path)
		if err == nil {
			if err = p.root.Remove(p.name); err == nil {
				done = append(done, p)
				rec.Files = append(rec.Files, e.Path+" (removed)")
			} else if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
		}
		if err != nil {
			return fmt.Sprintf("removing %s: %v", e.Path, err)
		}
	}
	syncDirs(done)
	if len(rec.Files) == 0 {
		rec.Files = []string{"every file was already in place"}
	}
	return ""
}

// back puts every file of the journal back as it was: a new file is
// removed, a replaced or removed one gets its old version (from old, or
// from the backup folder).
func (t *tree) back(j *journal, old map[string][]byte, rec *Recovery) error {
	var lost []string
	rec.Files = nil
	for _, e := range j.Files {
		p, _, err := t.file(e.Path)
		if err != nil {
			lost = append(lost, e.Path)
			continue
		}
		cur, _ := t.content(e.Path)
		switch {
		case e.Added:
			if cur == nil {
				continue // never renamed in
			}
			if err := p.root.Remove(p.name); err != nil {
				lost = append(lost, e.Path)
				continue
			}
			syncDir(p)
		default:
			if !e.Remove && cur != nil && sum(cur) != e.SHA256 {
				continue // still the old version
			}
			if e.Remove && cur != nil {
				continue // never removed
			}
			b, ok := old[e.Path]
			var mode fs.FileMode = 0o600
			if !ok {
				var err error
				if b, err = t.content(path.Join(j.Backup, e.Path)); err != nil {
					lost = append(lost, e.Path)
					continue
				}
			}
			if s, err := p.root.Stat(p.name); err == nil {
				mode = s.Mode().Perm()
			} else if m, ok := modeOf(e.Path); ok {
				mode = m
			}
			if err := t.writeAtomic(e.Path, b, mode); err != nil {
				lost = append(lost, e.Path)
				continue
			}
		}
		rec.Files = append(rec.Files, e.Path)
	}
	if len(lost) > 0 {
		return fmt.Errorf("%s is half old, half new after an interrupted rcgen run: %s could not be put back (their old versions are in %s); restored: %s; put them back by hand, then remove %s",
			t.dir, strings.Join(lost, ", "), filepath.Join(t.dir, filepath.FromSlash(j.Backup)), orNone(rec.Files), filepath.Join(t.dir, JournalFile))
	}
	if len(rec.Files) == 0 {
		rec.Files = []string{"all files"}
	}
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// modeOf is the mode rcgen writes a file with: secrets are 0600.
func modeOf(rel string) (fs.FileMode, bool) {
	switch rel {
	case render.EnvFile, render.MongoKeyfile, render.TLSKeyFile,
		render.RcloneConfigFile, render.S3AccessKeyFile, render.S3SecretKeyFile, render.SFTPKeyFile, render.SFTPKnownHostsFile:
		return 0o600, true
	}
	return 0o644, false
}

// sweep removes the staged copies a killed run left (found by their
// names) where rcgen stages: beside its own files and the journal, and in
// the backup folder of the interrupted apply.
func (t *tree) sweep(j *journal) []string {
	dirs := map[string]bool{".": true}
	for _, p := range render.OwnedPaths() {
		dirs[path.Dir(p)] = true
	}
	if j != nil {
		for _, e := range j.Files {
			dirs[path.Dir(e.Path)] = true
		}
		if j.Backup != "" {
			t.walkDirs(j.Backup, dirs, 8)
		}
	}
	var removed []string
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		p := place{root: t.root, name: ".", rel: "."}
		if d != "." {
			var missing []string
			var err error
			if p, missing, err = t.locate(d); err != nil || len(missing) > 0 {
				continue
			}
		}
		f, err := p.root.Open(p.name)
		if err != nil {
			continue
		}
		names, _ := f.Readdirnames(-1)
		f.Close()
		slices.Sort(names)
		for _, n := range names {
			if !isStaged(n) {
				continue
			}
			name := filepath.Join(p.name, n)
			if fi, err := p.root.Lstat(name); err == nil && fi.Mode().IsRegular() && p.root.Remove(name) == nil {
				removed = append(removed, path.Join(d, n))
			}
		}
	}
	return removed
}

// walkDirs adds rel and the directories under it (depth levels) to dirs.
func (t *tree) walkDirs(rel string, dirs map[string]bool, depth int) {
	p, missing, err := t.locate(rel)
	if err != nil || len(missing) > 0 || depth == 0 {
		return
	}
	f, err := p.root.Open(p.name)
	if err != nil {
		return
	}
	entries, _ := f.ReadDir(-1)
	f.Close()
	dirs[rel] = true
	for _, e := range entries {
		if e.IsDir() {
			t.walkDirs(path.Join(rel, e.Name()), dirs, depth-1)
		}
	}
}
