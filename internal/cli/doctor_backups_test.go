package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/backup/backuptest"
	"github.com/rcgen/rcgen/internal/render"
)

// TestDoctorFailsOnExposedBackupsAndALostKeyfile: a world-readable,
// unencrypted backup (it holds .env and the keyfile) is a failure with
// the fix, not "ok backups"; a deployment whose keyfile is gone is a
// failure that says how to get it back from that backup, and its backups
// are still checked, not skipped behind "warn plan".
func TestDoctorFailsOnExposedBackupsAndALostKeyfile(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	fx := newRestoreFixture(t, "")
	name := "rocketchat-20261125T030000Z.tar"
	path := filepath.Join(fx.dir, render.BackupsDir, name)
	fx.m.Created = now.Add(-9 * time.Hour)
	if err := backuptest.WriteTar(path, fx.build(t, "", nil, nil)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runOn(t, "kernel-7.0.14", now, "doctor", "--out", fx.dir)
	if r.code != 1 || !strings.Contains(r.stdout, "fail backups: ") || !strings.Contains(r.stdout, "readable by others, unencrypted") ||
		!strings.Contains(r.stdout, "chmod 600 "+name) || !strings.Contains(r.stdout, "--backup-passphrase-file") {
		t.Errorf("a world-readable unencrypted backup: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(fx.dir, render.MongoKeyfile)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fx.dir, render.BackupsDir, ".last-run"), []byte("0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runOn(t, "kernel-7.0.14", now, "doctor", "--out", fx.dir)
	for _, want := range []string{
		"fail secrets: missing: " + render.MongoKeyfile,
		"tar -xOf " + filepath.Join(render.BackupsDir, name) + " " + backup.FilesFile + " | tar -xzf - " + render.MongoKeyfile,
		"fail backups: 1 backups, the newest 9h0m0s old (" + name + "); the last backup run failed",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("a lost keyfile: doctor lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 1 {
		t.Errorf("a lost keyfile: exit %d", r.code)
	}
}
