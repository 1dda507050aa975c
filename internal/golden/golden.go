// Package golden compares a generated tree of files with a committed one
// (golden files, in the manner of goreleaser's internal/golden), and
// rewrites the committed tree when asked (-update).
package golden

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Read returns the files under dir, relative and slash-separated, skipping
// what skip reports.
func Read(tb testing.TB, dir string, skip func(rel string, d fs.DirEntry) bool) map[string][]byte {
	tb.Helper()
	m := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if rel != "." && skip != nil && skip(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		m[rel] = b
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		tb.Fatal(err)
	}
	return m
}

// Tree compares got with the committed tree under dir (read with skip, so
// files the caller keeps elsewhere are not compared); with update it
// rewrites dir instead: files no longer generated are removed. how is the
// command that updates the tree, for the messages.
func Tree(tb testing.TB, dir string, got map[string][]byte, update bool, how string, skip func(rel string, d fs.DirEntry) bool) {
	tb.Helper()
	committed := Read(tb, dir, skip)
	if update {
		for p := range committed {
			if _, ok := got[p]; !ok {
				if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
					tb.Fatal(err)
				}
			}
		}
		for p, c := range got {
			path := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				tb.Fatal(err)
			}
			if err := WriteFile(path, c); err != nil {
				tb.Fatal(err)
			}
		}
		return
	}
	if len(committed) == 0 {
		tb.Fatalf("%s is missing: run %s", dir, how)
	}
	paths := make([]string, 0, len(got))
	for p := range got {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		old, ok := committed[p]
		switch {
		case !ok:
			tb.Errorf("%s/%s is missing: run %s", dir, p, how)
		case !bytes.Equal(old, got[p]):
			tb.Errorf("%s/%s is stale: run %s and review the diff:\n%s", dir, p, how, FirstDiff(string(old), string(got[p])))
		}
	}
	for p := range committed {
		if _, ok := got[p]; !ok {
			tb.Errorf("%s/%s is no longer generated: run %s", dir, p, how)
		}
	}
}

// WriteFile rewrites a committed file with content, only when it differs,
// and by a rename: a test reading it meanwhile (make test runs the suites
// side by side) sees the old file or the new one, never half of one, and
// an unchanged file keeps its time.
func WriteFile(path string, content []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, content) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".update-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// FirstDiff shows the first line where a and b differ.
func FirstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n- " + x + "\n+ " + y
		}
	}
	return ""
}
