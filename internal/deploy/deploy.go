// Package deploy owns the deployment directory: it inspects it and loads
// what a re-run must keep (answers, .env, keyfile) once, compares a rendered
// deployment with it, shows the differences with secrets masked, applies
// them atomically with backups, and guards against changes that would
// strand the data (an upgrade MongoDB cannot open, a renamed project).
// No other package reads or writes a deployment.
package deploy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
)

// BackupDir is the folder inside a deployment that keeps the versions of
// files rcgen replaced or removed, one subfolder per run.
const BackupDir = "rcgen-backups"

// maxOwnFile bounds the deployment's own files rcgen reads back.
const maxOwnFile = 4 << 20

// State says what is in an output directory before rcgen writes to it.
type State int

// Directory states.
const (
	Missing  State = iota
	Empty          // exists, holds nothing
	Rcgen          // an rcgen deployment: it holds rcgen.yaml
	NotEmpty       // holds files rcgen did not write
)

// Deployment is a deployment directory as rcgen found it, loaded once.
type Deployment struct {
	Dir   string
	State State
	// Answers is the deployment's own rcgen.yaml as a layer; nil when it has none.
	Answers *spec.Layer
	// Env is its parsed .env (empty when it has none); EnvRaw the file.
	Env    map[string]string
	EnvRaw []byte
	// Compose is what its compose.yaml says (zero when it has none).
	Compose Compose
	// Recovered is set when rcgen.yaml was missing and Answers were
	// rebuilt from .env and compose.yaml.
	Recovered bool
	// Keyfile is the MongoDB keyfile's content (nil when it has none).
	Keyfile []byte
}

// AnswersError is a deployment whose rcgen.yaml has problems (unknown
// keys, wrong types). Answers holds the answers that did decode, so the
// problems of their values can be reported with these, all at once.
type AnswersError struct {
	Answers spec.Layer
	Err     error
}

func (e *AnswersError) Error() string { return "the deployment's answers file: " + e.Err.Error() }

func (e *AnswersError) Unwrap() error { return e.Err }

// Inspect tells what dir holds, without loading it. A symbolic link
// whose target is missing (a disk not mounted yet), as dir or above it,
// is an error: rcgen never writes through it. rcgen's own leftovers of an
// interrupted run (staged copies, the journal) do not count as files.
func Inspect(dir string) (State, error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := danglingAbove(dir); err != nil {
			return 0, err
		}
		return Missing, nil
	case err != nil:
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			return 0, fmt.Errorf("%s is a file, not a directory: give a directory to write the deployment into", dir)
		}
		return 0, fmt.Errorf("reading %s: %w", dir, err)
	}
	entries = slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return isStaged(e.Name()) || e.Name() == JournalFile })
	if len(entries) == 0 {
		return Empty, nil
	}
	if _, err := os.Stat(filepath.Join(dir, spec.FileName)); err == nil {
		return Rcgen, nil
	}
	return NotEmpty, nil
}

// danglingAbove finds a link whose target is missing at dir or at the
// nearest name above it that exists (dir does not exist).
func danglingAbove(dir string) error {
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			if isLink(p) {
				return linkError(p, false)
			}
			return nil
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// danglingInside finds a link whose target is missing among the
// directories rcgen writes into (prometheus/ on a disk not mounted yet):
// a re-run would find none of its files there, and write them through.
func danglingInside(dir string) error {
	seen := map[string]bool{}
	for _, p := range append(render.OwnedPaths(), BackupDir+"/x") {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if seen[d] {
				continue
			}
			seen[d] = true
			full := filepath.Join(dir, filepath.FromSlash(d))
			if isLink(full) {
				if err := linkError(full, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Open inspects dir and loads what a re-run keeps: its answers, its .env
// (parsed by compose's own parser) and its MongoDB keyfile. A .env that
// does not parse is an error, never "no secrets": a re-run must not invent
// new passwords because the old ones could not be read.
func Open(dir string) (*Deployment, error) {
	st, err := Inspect(dir)
	if err != nil {
		return nil, err
	}
	d := &Deployment{Dir: dir, State: st, Env: map[string]string{}}
	if st == Missing || st == Empty {
		return d, nil
	}
	if err := danglingInside(dir); err != nil {
		return nil, err
	}
	if b, err := d.read(spec.FileName); err != nil {
		return nil, err
	} else if b != nil {
		l, err := spec.ParseFile(filepath.Join(dir, spec.FileName), b, dir)
		l.Kind = spec.FromDeployment
		if err != nil {
			return nil, &AnswersError{Answers: l, Err: err}
		}
		d.Answers = &l
	}
	// The secrets must be the deployment's own files: a symbolic link to
	// some other file would be read as secrets, and overwritten.
	for _, rel := range []string{render.EnvFile, render.MongoKeyfile} {
		if target, err := os.Readlink(filepath.Join(dir, filepath.FromSlash(rel))); err == nil {
			return nil, fmt.Errorf("the existing %s is a symbolic link (to %s): rcgen keeps a deployment's secrets in its own files only; replace the link with the file itself (a copy may be in %s/)", rel, target, BackupDir)
		}
	}
	b, err := d.read(render.EnvFile)
	if err != nil {
		return nil, err
	}
	if b != nil {
		env, err := render.ParseEnv(b)
		if err != nil {
			return nil, fmt.Errorf("the existing %s does not parse, so its secrets cannot be kept (fix it by hand): %w", filepath.Join(dir, render.EnvFile), err)
		}
		d.Env, d.EnvRaw = env, b
	}
	if d.Keyfile, err = d.read(render.MongoKeyfile); err != nil {
		return nil, err
	}
	if d.Keyfile != nil {
		if err := checkKeyfile(d.Keyfile); err != nil {
			return nil, fmt.Errorf("the existing %s %v: mongod would refuse it; restore it from %s/ (the members need the keyfile they were started with)", render.MongoKeyfile, err, BackupDir)
		}
	}
	b, err = d.read(render.ComposeFile)
	if err != nil {
		return nil, err
	}
	swarm := false
	if b == nil {
		// A Swarm stack.
		if b, err = d.read(render.StackFile); err != nil {
			return nil, err
		}
		swarm = b != nil
	}
	if b != nil {
		c, err := parseCompose(b)
		if err != nil && st == Rcgen {
			return nil, fmt.Errorf("the existing %s does not parse: %w", render.ComposeFile, err)
		}
		c.Swarm = swarm
		d.Compose = c // someone else's compose.yaml that does not parse says nothing
	}
	if d.Answers == nil && d.State != Empty {
		if l := d.recoverAnswers(); l != nil {
			d.Answers, d.Recovered = l, true
		}
	}
	return d, nil
}

// read returns the content of a file of the deployment, or nil when it
// does not exist.
func (d *Deployment) read(rel string) ([]byte, error) {
	f, err := os.Open(filepath.Join(d.Dir, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the existing %s: %w", rel, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxOwnFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading the existing %s: %w", rel, err)
	}
	if len(b) > maxOwnFile {
		return nil, fmt.Errorf("the existing %s is larger than any file rcgen writes: check it by hand", rel)
	}
	return b, nil
}

// Exists reports whether the directory already holds a deployment of rcgen's.
func (d *Deployment) Exists() bool { return d.State == Rcgen }

// HasData reports whether the directory holds a deployment whose MongoDB
// may have data: rcgen.yaml, a keyfile, or a compose.yaml with members.
func (d *Deployment) HasData() bool {
	return d.State == Rcgen || d.Keyfile != nil || d.Compose.Members() > 0
}

// Secrets returns the secrets the deployment already has (empty ones when new).
func (d *Deployment) Secrets() render.Secrets {
	return render.SecretsFrom(d.Env, []byte(strings.TrimSpace(string(d.Keyfile))))
}

// License is the licence the deployment runs with.
func (d *Deployment) License() string { return d.Env[render.EnvLicense] }

// SMTPPassword is the SMTP password the deployment's .env holds.
func (d *Deployment) SMTPPassword() string { return d.Env[render.EnvSMTPPassword] }

// EnvBackups lists the copies of .env in rcgen-backups/, newest first.
func (d *Deployment) EnvBackups() []string {
	found, _ := filepath.Glob(filepath.Join(d.Dir, BackupDir, "*", render.EnvFile))
	slices.Sort(found)
	slices.Reverse(found)
	return found
}

// SecretFile is the content of one of the deployment's secret files
// (secrets/...: the offsite credentials), "" when it has none or it does
// not read.
func (d *Deployment) SecretFile(rel string) string {
	b, err := d.read(rel)
	if err != nil {
		return ""
	}
	return string(b)
}
