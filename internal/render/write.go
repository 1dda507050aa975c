package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/rcgen/rcgen/internal/spec"
)

// BackupDir is the folder inside a deployment that keeps the versions of
// files rcgen replaced or removed, one subfolder per run.
const BackupDir = "rcgen-backups"

// ReadExistingSecrets returns the secrets of a deployment already in dir, so
// a re-run keeps them. A missing directory or file yields empty secrets.
func ReadExistingSecrets(dir string) (Secrets, error) {
	env, err := ReadEnv(dir)
	if err != nil {
		return Secrets{}, err
	}
	key, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(MongoKeyfile)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Secrets{}, fmt.Errorf("reading the existing %s: %w", MongoKeyfile, err)
	}
	return SecretsFrom(env, key), nil
}

// DirState says what is in an output directory before rcgen writes to it.
type DirState int

// Directory states.
const (
	DirMissing  DirState = iota
	DirEmpty             // exists, holds nothing
	DirRcgen             // an rcgen deployment: it holds rcgen.yaml
	DirNotEmpty          // holds files rcgen did not write
)

// Inspect tells what dir holds.
func Inspect(dir string) (DirState, error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return DirMissing, nil
	case err != nil:
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			return 0, fmt.Errorf("%s is a file, not a directory: give a directory to write the deployment into", dir)
		}
		return 0, fmt.Errorf("reading %s: %w", dir, err)
	case len(entries) == 0:
		return DirEmpty, nil
	}
	if _, err := os.Stat(filepath.Join(dir, spec.FileName)); err == nil {
		return DirRcgen, nil
	}
	return DirNotEmpty, nil
}

// ChangeKind says what a run does to one file.
type ChangeKind int

// Change kinds.
const (
	Unchanged ChangeKind = iota
	Added
	Modified
	Removed
)

// Change is what a run does to one file of the deployment.
type Change struct {
	Path     string
	Kind     ChangeKind
	Old, New []byte
	Mode     fs.FileMode
	Secret   bool
}

// knownPaths are every file rcgen may generate: one of these on disk that
// this run does not generate is rcgen's own leftover (say Caddyfile after
// --proxy none), so it is backed up and removed. Anything else in the
// directory is the user's and is left alone.
var knownPaths = []string{
	ComposeFile, EnvFile, ReadmeFile, CaddyFile, PrometheusFile, DatasourceFile,
	DashProvFile, DashboardFile, "grafana/dashboards/mongodb.json", "grafana/dashboards/host.json", MongoInitFile, MongoKeyfile, spec.FileName,
	TLSCertFile, TLSKeyFile, RulesFile, AlertmanagerFile,
}

// Changes compares files with what dir holds.
func Changes(dir string, files Files) ([]Change, error) {
	var out []Change
	seen := map[string]bool{}
	for _, f := range files {
		seen[f.Path] = true
		old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		c := Change{Path: f.Path, New: f.Content, Mode: f.Mode, Secret: f.Secret}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			c.Kind = Added
		case err != nil:
			return nil, fmt.Errorf("reading %s: %w", f.Path, err)
		case bytes.Equal(old, f.Content):
			c.Kind, c.Old = Unchanged, old
		default:
			c.Kind, c.Old = Modified, old
		}
		out = append(out, c)
	}
	for _, p := range knownPaths {
		if seen[p] {
			continue
		}
		old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err == nil {
			out = append(out, Change{Path: p, Kind: Removed, Old: old})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Pending returns the changes that do something.
func Pending(changes []Change) []Change {
	var p []Change
	for _, c := range changes {
		if c.Kind != Unchanged {
			p = append(p, c)
		}
	}
	return p
}

// UnifiedDiff shows changes as a unified diff with every secret masked.
func UnifiedDiff(changes []Change) string {
	var b strings.Builder
	for _, c := range changes {
		if c.Kind == Unchanged {
			continue
		}
		old, cur := MaskSecrets(c.Path, c.Old), MaskSecrets(c.Path, c.New)
		from, to := "a/"+c.Path, "b/"+c.Path
		if c.Kind == Added {
			from = "/dev/null"
		}
		if c.Kind == Removed {
			to = "/dev/null"
		}
		d, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(string(old)), B: difflib.SplitLines(string(cur)),
			FromFile: from, ToFile: to, Context: 3,
		})
		if d == "" { // differs only in masked secrets
			d = fmt.Sprintf("--- %s\n+++ %s\n(secret content changed, not shown)\n", from, to)
		}
		b.WriteString(d)
	}
	return b.String()
}

// secretEnvKeys are the .env keys whose values are never printed.
var secretEnvKeys = map[string]bool{
	EnvMongoRootPassword: true, EnvMongoRocketChatPassword: true,
	EnvMongoExporterPassword: true, EnvGrafanaAdminPassword: true,
	"ROCKETCHAT_LICENSE": true, EnvSMTPPassword: true,
}

// MaskSecrets hides secret values of a file for display: .env values of
// secret keys become ********, and the keyfile is hidden whole.
func MaskSecrets(path string, content []byte) []byte {
	if content == nil {
		return nil
	}
	switch path {
	case MongoKeyfile, TLSKeyFile:
		return []byte("(secret, not shown)\n")
	case EnvFile:
		var b bytes.Buffer
		for _, line := range strings.SplitAfter(string(content), "\n") {
			k, _, ok := strings.Cut(line, "=")
			if ok && secretEnvKeys[k] {
				line = k + "=********\n"
			}
			b.WriteString(line)
		}
		return b.Bytes()
	}
	return content
}

// Apply carries out changes in dir. Replaced and removed files are first
// copied to dir/rcgen-backups/<now>/; each new file is written to a
// temporary file in its own directory, synced, and renamed over the old
// one, so a crash or a full disk leaves the old file or the new one, never
// half of one. It returns the backup folder, or "" when nothing was replaced.
func Apply(dir string, changes []Change, now time.Time) (string, error) {
	backup := ""
	for _, c := range changes {
		if c.Kind != Modified && c.Kind != Removed {
			continue
		}
		if backup == "" {
			backup = filepath.Join(dir, BackupDir, now.UTC().Format("20060102T150405Z"))
		}
		mode := fs.FileMode(0o600) // a backup may hold secrets
		if err := writeAtomic(filepath.Join(backup, filepath.FromSlash(c.Path)), c.Old, mode); err != nil {
			return "", fmt.Errorf("backing up %s: %w", c.Path, err)
		}
	}
	for _, c := range changes {
		path := filepath.Join(dir, filepath.FromSlash(c.Path))
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

// Write puts files into a new or empty dir.
func Write(dir string, files Files) error {
	changes, err := Changes(dir, files)
	if err != nil {
		return err
	}
	_, err = Apply(dir, changes, time.Time{})
	return err
}

// beforeRename lets tests interrupt a write between the temporary file and
// the rename, as a crash would.
var beforeRename = func(tmp, path string) error { return nil }

func writeAtomic(path string, content []byte, mode fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".rcgen-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(content); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := beforeRename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// Make the rename itself durable.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
