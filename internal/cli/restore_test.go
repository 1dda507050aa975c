package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/backup/backuptest"
	"github.com/rcgen/rcgen/internal/render"
)

// restoreDocker records the docker commands of a restore and answers them
// like a running stack; `stop` fails, so a restore that gets that far
// ends there.
type restoreDocker struct{ log []string }

func (f *restoreDocker) run(_ context.Context, _ string, args ...string) ([]byte, error) {
	line := strings.Join(args, " ")
	f.log = append(f.log, line)
	switch {
	case strings.Contains(line, " now pre-restore"):
		return []byte("rocketchat-20261124T040000Z-pre-restore.tar\n"), nil
	case strings.Contains(line, " stop "):
		return nil, errors.New("docker compose stop: the test ends here")
	}
	return nil, nil
}

// TestRestoreRefusesAnAlteredBackupBeforeStoppingAnything: an encrypted
// backup that was changed, cut, or encrypted with another passphrase is
// refused, with what is wrong, before rcgen runs anything in the stack.
func TestRestoreRefusesAnAlteredBackupBeforeStoppingAnything(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	passFile := filepath.Join(t.TempDir(), "passphrase")
	if err := os.WriteFile(passFile, []byte("correct horse battery staple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "generate", "--yes", "--no-monitoring", "--backup-passphrase-file", passFile, "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	env := envOf(t, mustRead(filepath.Join(out, render.EnvFile)))
	pass := env[render.EnvBackupPassphrase]
	if pass == "" {
		t.Fatal("no BACKUP_PASSPHRASE in .env")
	}
	m := backup.Manifest{Project: "rocketchat", DeploymentID: env[render.EnvDeploymentID], Name: "rocketchat-20261124T030000Z",
		RocketChatVersion: env[render.EnvRocketChatVersion], MongoDBVersion: env[render.EnvMongoDBVersion],
		Counts: backup.Counts{Collections: 90, Users: 12}}
	build := func(format int, passphrase string) []backuptest.Member {
		m := m
		m.Format = format
		members, err := backuptest.Build(m, passphrase, []byte("\x1f\x8b\x08\x00DUMP"), filesArchive(t))
		if err != nil {
			t.Fatal(err)
		}
		return members
	}
	good := build(backup.Format, pass)
	changed := append([]backuptest.Member(nil), good...)
	changed[2].Data = append([]byte(nil), changed[2].Data...)
	changed[2].Data[20] ^= 1
	changed, err := backuptest.Rehash(changed)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		members []backuptest.Member
		cut     int
		want    string
	}{
		{"encrypted with another passphrase", build(backup.Format, "another passphrase"), 0, "does not decrypt with this deployment's BACKUP_PASSPHRASE: it was encrypted with another passphrase"},
		{"format 1, another passphrase", build(backup.FormatV1, "another passphrase"), 0, "does not decrypt with this deployment's BACKUP_PASSPHRASE"},
		{"changed, checksums and all", changed, 0, "is damaged or it was changed after it was written"},
		{"cut", good, 1536, "is damaged"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := "rocketchat-20261124T03000" + string(rune('0'+i)) + "Z.tar"
			path := filepath.Join(out, render.BackupsDir, name)
			if err := backuptest.WriteTar(path, c.members); err != nil {
				t.Fatal(err)
			}
			if c.cut > 0 {
				b, _ := os.ReadFile(path)
				if err := os.WriteFile(path, b[:len(b)-c.cut], 0o600); err != nil {
					t.Fatal(err)
				}
			}
			f := &restoreDocker{}
			r := runEnv(func(e *Env) { e.Docker = f.run }, "restore", name, "--dir", out, "--yes")
			if r.code != 2 || !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, "nothing was changed") {
				t.Errorf("exit %d, want 2 with %q:\n%s", r.code, c.want, r.stderr)
			}
			if len(f.log) > 0 {
				t.Errorf("rcgen ran docker before refusing: %q", f.log)
			}
		})
	}
	// The intact backup goes on: the pre-restore backup, then stop.
	name := "rocketchat-20261124T035959Z.tar"
	if err := backuptest.WriteTar(filepath.Join(out, render.BackupsDir, name), good); err != nil {
		t.Fatal(err)
	}
	f := &restoreDocker{}
	r := runEnv(func(e *Env) { e.Docker = f.run }, "restore", name, "--dir", out, "--yes")
	if r.code == 0 || !strings.Contains(r.stderr, "the test ends here") || len(f.log) != 2 || !strings.Contains(f.log[0], "now pre-restore") {
		t.Errorf("an intact backup: exit %d, docker %q:\n%s", r.code, f.log, r.stderr)
	}
}
