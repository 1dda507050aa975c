package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ReadExistingSecrets returns the secrets of a deployment already in dir, so
// a re-run keeps them. A missing directory or file yields empty secrets.
func ReadExistingSecrets(dir string) (Secrets, error) {
	env, err := os.ReadFile(filepath.Join(dir, EnvFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Secrets{}, fmt.Errorf("reading the existing %s: %w", EnvFile, err)
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
	DirMissing DirState = iota
	DirEmpty
	DirNotEmpty
)

// Inspect tells whether dir is missing, empty, or holds files.
func Inspect(dir string) (DirState, error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return DirMissing, nil
	case err != nil:
		return 0, fmt.Errorf("reading %s: %w", dir, err)
	case len(entries) == 0:
		return DirEmpty, nil
	default:
		return DirNotEmpty, nil
	}
}

// Write puts files into dir. Each file is written to a temporary file in
// its own directory, synced, and renamed over the old one, so a crash leaves
// the old file or the new one, never half of one.
func Write(dir string, files Files) error {
	for _, f := range files {
		if err := writeAtomic(filepath.Join(dir, filepath.FromSlash(f.Path)), f.Content, f.Mode); err != nil {
			return err
		}
	}
	return nil
}

func writeAtomic(path string, content []byte, mode fs.FileMode) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".rcgen-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
