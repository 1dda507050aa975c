package cli

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rcgen/rcgen/internal/spec"
)

// useDeploymentCatalog makes the catalog a deployment's rcgen.yaml names
// (catalog:) the catalog of this run, as generate's re-runs do (checking
// the answer sets it, spec.Answers.CheckKey). A directory without
// rcgen.yaml, or one that does not read, leaves the compiled-in catalog:
// the command reports those itself.
func useDeploymentCatalog(dir string) error {
	path := filepath.Join(dir, spec.FileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	b, err := spec.ReadUserFile(path)
	if err != nil {
		return nil
	}
	l, _ := spec.ParseFile(path, b, dir)
	a, origins, err := spec.Resolve(l)
	if err != nil || a.Catalog == "" {
		return nil
	}
	if err := a.CheckKey(spec.KeyCatalog); err != nil {
		if o, ok := origins[spec.KeyCatalog]; ok {
			return &spec.LineError{File: path, Line: o.Line, Msg: err.Error()}
		}
		return err
	}
	return nil
}

// pinsCatalog reports whether the deployment in dir names a catalog file
// (catalog: in rcgen.yaml): its organisation pins the versions, so rcgen
// looks nothing up for it on its own.
func pinsCatalog(dir string) bool {
	path := filepath.Join(dir, spec.FileName)
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return false
	}
	b, err := spec.ReadUserFile(path)
	if err != nil {
		return false
	}
	l, _ := spec.ParseFile(path, b, dir)
	a, _, err := spec.Resolve(l)
	return err == nil && a.Catalog != ""
}
