package deploy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/render"
)

const ComposeFile = render.ComposeFile

// TestInterruptedWriteKeepsTheOldFile stops a write after the temporary file
// is complete but before the rename, as a crash or a full disk would, and
// checks the old file is whole and no temporary file is left behind.
func TestInterruptedWriteKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ComposeFile)
	if err := os.WriteFile(path, []byte("old: content\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("disk full")
	beforeRename = func(tmp, dst string) error {
		if dst == path {
			return crash
		}
		return nil
	}
	defer func() { beforeRename = func(string, string) error { return nil } }()

	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := d.Changes(render.Files{{Path: ComposeFile, Mode: 0o644, Content: []byte("new: content\n")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Apply(changes, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	if !errors.Is(err, crash) {
		t.Fatalf("Apply() = %v, want the interruption", err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != "old: content\n" {
		t.Errorf("after an interrupted write the file holds %q", got)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != ComposeFile && e.Name() != BackupDir {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	backup, err := os.ReadFile(filepath.Join(dir, BackupDir, "20261125T120000Z", ComposeFile))
	if err != nil || string(backup) != "old: content\n" {
		t.Errorf("backup = %q, %v; want the old content", backup, err)
	}
}
