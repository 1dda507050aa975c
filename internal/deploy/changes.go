package deploy

import (
	"bytes"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/rcgen/rcgen/internal/render"
)

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

// Changes compares files with what the directory holds. A file rcgen owns
// (render.OwnedPaths) that this run does not generate is removed (and
// backed up); anything else in the directory is the user's and is left alone.
func (d *Deployment) Changes(files render.Files) ([]Change, error) {
	var out []Change
	seen := map[string]bool{}
	for _, f := range files {
		seen[f.Path] = true
		old, err := d.read(f.Path)
		if err != nil {
			return nil, err
		}
		c := Change{Path: f.Path, New: f.Content, Mode: f.Mode, Secret: f.Secret}
		switch {
		case old == nil:
			c.Kind = Added
		case bytes.Equal(old, f.Content):
			c.Kind, c.Old = Unchanged, old
		default:
			c.Kind, c.Old = Modified, old
		}
		out = append(out, c)
	}
	for _, p := range render.OwnedPaths() {
		if seen[p] {
			continue
		}
		old, err := d.read(p)
		if err != nil {
			return nil, err
		}
		if old != nil {
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
		old, cur := Mask(c.Path, c.Old), Mask(c.Path, c.New)
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

// masked stands for a secret value wherever one is shown.
const masked = "********"

// Mask hides the secrets of a file for display: the keyfile and the TLS key
// whole, and in .env the value of every secret key, found by compose's own
// .env parser (so `export KEY=…`, quotes and spaces around = are masked
// too). Any other occurrence of a secret value in .env is masked as well.
func Mask(path string, content []byte) []byte {
	if content == nil {
		return nil
	}
	switch path {
	case render.MongoKeyfile, render.TLSKeyFile,
		render.RcloneConfigFile, render.S3AccessKeyFile, render.S3SecretKeyFile, render.SFTPKeyFile, render.SFTPKnownHostsFile:
		return []byte("(secret, not shown)\n")
	case render.EnvFile:
	default:
		return content
	}
	var values []string
	if env, err := render.ParseEnv(content); err == nil {
		for k, v := range env {
			if render.IsSecretEnvKey(k) && len(v) >= 4 {
				values = append(values, v)
			}
		}
	}
	// Longest first, so a value holding another is masked whole.
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	var b bytes.Buffer
	for _, line := range strings.SplitAfter(string(content), "\n") {
		if kv, err := render.ParseEnv([]byte(line)); err == nil && len(kv) == 1 {
			for k := range kv {
				if render.IsSecretEnvKey(k) {
					prefix := ""
					if strings.HasPrefix(strings.TrimSpace(line), "export ") {
						prefix = "export "
					}
					line = prefix + k + "=" + masked + "\n"
				}
			}
		}
		for _, v := range values {
			line = strings.ReplaceAll(line, v, masked)
		}
		b.WriteString(line)
	}
	return b.Bytes()
}
