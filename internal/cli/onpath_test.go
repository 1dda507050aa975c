package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPathNote: when the rcgen a person would type is not this program,
// a run whose messages name rcgen commands ends with one line saying what
// to type or how to install it; when it is, or nothing names one, nothing.
func TestPathNote(t *testing.T) {
	dir := t.TempDir()
	file := func(p string) string {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	installed := file("bin/rcgen")
	other := file("usr/local/bin/rcgen")
	goRunTemp := file("go-build1234/b001/exe/rcgen")
	goRunCache := file("cache/de/de70a698-d/rcgen")
	notFound := func(string) (string, error) { return "", exec.ErrNotFound }
	found := func(p string) func(string) (string, error) { return func(string) (string, error) { return p, nil } }
	cases := []struct {
		name     string
		self     string
		lookPath func(string) (string, error)
		gocache  string
		want     string // "" for no note
	}{
		{"on the PATH", installed, found(installed), "", ""},
		{"on the PATH through a link", installed, found(link(t, installed, filepath.Join(dir, "link"))), "", ""},
		{"not on the PATH", installed, notFound, "", "Note: rcgen is not on your PATH: type " + installed + " where the commands above say rcgen, or put it on the PATH (sudo install -m 0755 " + installed + " /usr/local/bin/rcgen)."},
		{"another rcgen first on the PATH", installed, found(other), "", "Note: the rcgen on your PATH (" + other + ") is not this one: type " + installed + " where the commands above say rcgen"},
		{"go run, temporary directory", goRunTemp, notFound, "", "Note: rcgen is not on your PATH, and the commands above need it (this is a go run build): in this clone, make install puts it in $(go env GOPATH)/bin"},
		{"go run, build cache", goRunCache, notFound, filepath.Join(dir, "cache"), "(this is a go run build): in this clone, make install"},
		{"go run, an older rcgen installed", goRunTemp, found(other), "", "Note: the commands above run the rcgen on your PATH (" + other + "), not this go run build: in this clone, make install puts this one"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			edit := func(e *Env) {
				e.Executable = func() (string, error) { return c.self, nil }
				e.LookPath = c.lookPath
				e.Getenv = func(k string) string {
					if k == "GOCACHE" {
						return c.gocache
					}
					return ""
				}
			}
			// generate's summary names rcgen backup list.
			r := runEnv(edit, "generate", "--yes", "--out", filepath.Join(t.TempDir(), "d"))
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, "(rcgen backup list)") {
				t.Fatalf("the summary no longer names an rcgen command; pick another:\n%s", r.stdout)
			}
			notes := strings.Count(r.stderr, "Note: ")
			switch {
			case c.want == "" && notes != 0:
				t.Errorf("a note, where rcgen on the PATH is this program:\n%s", r.stderr)
			case c.want != "" && (notes != 1 || !strings.Contains(r.stderr, c.want)):
				t.Errorf("stderr has %d notes, want one saying %q:\n%s", notes, c.want, r.stderr)
			case c.want != "" && !strings.HasSuffix(strings.TrimSpace(r.stderr), ".") || strings.Contains(r.stdout, "Note: "):
				t.Errorf("the note is not the last line of stderr:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			}
			// An error naming a command gets the note too; a run naming
			// none does not.
			if r := runEnv(edit, "upgrade", "--dir", t.TempDir()); c.want != "" && !strings.Contains(r.stderr, c.want) {
				t.Errorf("upgrade without --to names rcgen versions, and got no note:\n%s", r.stderr)
			}
			if r := runEnv(edit, "plan", "--json"); strings.Contains(r.stderr, "Note: ") {
				t.Errorf("plan --json names no rcgen command, and got a note:\n%s", r.stderr)
			}
		})
	}
}

func link(t *testing.T, target, name string) string {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestPathNoteNotWithoutLookup: tests and embedders that set no lookup
// get no note (and no error).
func TestPathNoteNotWithoutLookup(t *testing.T) {
	if note := pathNote(Env{Executable: func() (string, error) { return "", errors.New("no") }, LookPath: exec.LookPath}); note != "" {
		t.Errorf("note %q without an executable", note)
	}
	if note := pathNote(Env{}); note != "" {
		t.Errorf("note %q without lookups", note)
	}
}
