package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/backup/backuptest"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/stack"
)

// Ways a backup service lets an upgrade down (backupStack.mode).
const (
	backupOK       = "ok"               // a whole backup of this deployment
	backupOmitted  = "omitted"          // names a file it never wrote
	backupGarbage  = "garbage"          // writes something that is no backup
	backupChecksum = "checksum"         // a member whose bytes do not match the manifest
	backupCut      = "cut"              // a member shorter than the manifest says
	backupOther    = "other-deployment" // another deployment's backup
	backupMisnamed = "misnamed"         // a backup whose manifest names another
	backupFails    = "fails"            // the backup command itself fails
	backupWrongKey = "wrong-passphrase" // encrypted with another passphrase than .env's
	backupAltered  = "altered"          // encrypted, its manifest.hmac changed
	backupUnsealed = "no-passphrase"    // encrypted, and .env holds no passphrase
)

// backupStack answers docker like a healthy running stack (every service
// of compose.yaml running and healthy, the one-shots exited 0, mongod on
// .env's MongoDB), and its backup service writes the pre-upgrade backup as
// mode says. It records the commands it gets.
type backupStack struct {
	mode string
	fcv  string
	log  []string
}

func newBackupStack(mode string) func(string) stack.Runner {
	return func(string) stack.Runner { return (&backupStack{mode: mode}).run }
}

func (f *backupStack) run(_ context.Context, dir string, args ...string) ([]byte, error) {
	f.log = append(f.log, strings.Join(args, " "))
	d, err := deploy.Open(dir)
	if err != nil {
		return nil, err
	}
	version, _, _ := strings.Cut(d.Env[render.EnvMongoDBVersion], "-")
	switch {
	case len(args) < 2 || args[0] != "compose":
		return nil, fmt.Errorf("fake docker: %q", args)
	case args[1] == "ps":
		var b bytes.Buffer
		for _, s := range d.Compose.Services {
			if slices.Contains(stack.OneShots, s) {
				fmt.Fprintf(&b, `{"Service":%q,"State":"exited","ExitCode":0}`+"\n", s)
				continue
			}
			fmt.Fprintf(&b, `{"Service":%q,"State":"running","Health":"healthy"}`+"\n", s)
		}
		return b.Bytes(), nil
	case args[1] == "up":
		return nil, nil
	case args[1] == "exec" && args[3] == "backup":
		if f.mode == backupFails {
			return nil, errors.New("exit status 1: mongodump: connection refused")
		}
		name := d.Compose.Name + "-20261125T030001Z-pre-upgrade.tar"
		return []byte("dumping\n" + name + "\n"), f.writeBackup(d, name)
	case args[1] == "exec" && strings.Contains(args[len(args)-1], "setFeatureCompatibilityVersion"):
		f.fcv = strings.Split(strings.Split(args[len(args)-1], `setFeatureCompatibilityVersion: "`)[1], `"`)[0]
		return []byte(`{"ok":1}`), nil
	case args[1] == "exec":
		if f.fcv == "" {
			f.fcv = version[:3]
		}
		return []byte(fmt.Sprintf(`{"version":%q,"fcv":%q}`, version, f.fcv)), nil
	}
	return nil, fmt.Errorf("fake docker: unexpected %q", args)
}

// writeBackup writes backups/name as the mode says.
func (f *backupStack) writeBackup(d *deploy.Deployment, name string) error {
	path := filepath.Join(d.Dir, render.BackupsDir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	switch f.mode {
	case backupOmitted:
		return nil
	case backupGarbage:
		return os.WriteFile(path, []byte("this is not a backup\n"), 0o600)
	}
	m := backup.Manifest{Name: strings.TrimSuffix(name, ".tar"), Label: "pre-upgrade", Project: d.Compose.Name,
		DeploymentID: d.Env[render.EnvDeploymentID], Created: time.Date(2026, 11, 25, 3, 0, 1, 0, time.UTC),
		RocketChatVersion: d.Env[render.EnvRocketChatVersion], MongoDBVersion: d.Env[render.EnvMongoDBVersion],
		Counts: backup.Counts{Collections: 42, Users: 7}}
	pass := d.Env[render.EnvBackupPassphrase]
	switch f.mode {
	case backupOther:
		m.DeploymentID = "0123456789abcdef"
	case backupMisnamed:
		m.Name = d.Compose.Name + "-20250101T000000Z"
	case backupWrongKey:
		pass = "another passphrase, not the one in .env"
	case backupUnsealed:
		pass = "the passphrase .env lost"
	}
	members, err := backuptest.Build(m, pass, []byte("DUMP-OF-THE-SET"), []byte("FILES"))
	if err != nil {
		return err
	}
	last := &members[len(members)-1]
	switch f.mode {
	case backupChecksum:
		last.Data = append([]byte{last.Data[0] ^ 0xff}, last.Data[1:]...) // same size, other bytes
	case backupCut:
		last.Data = last.Data[:len(last.Data)-2]
	case backupAltered:
		for i := range members {
			if members[i].Name == backup.MACFile {
				members[i].Data = []byte(strings.Repeat("0", 64) + "\n")
			}
		}
	}
	return backuptest.WriteTar(path, members)
}

// withoutBackups drops what the backup service writes (backups/) from a
// snapshot: the upgrade's own files are what must not change.
func withoutBackups(dir string, m map[string]string) map[string]string {
	for p := range m {
		if strings.HasPrefix(p, filepath.Join(dir, render.BackupsDir)+string(filepath.Separator)) {
			delete(m, p)
		}
	}
	return m
}

// sameFiles fails unless two snapshots hold the same files, alike.
func sameFiles(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, c := range before {
		if a, ok := after[p]; !ok {
			t.Errorf("%s was removed", p)
		} else if a != c {
			t.Errorf("%s changed", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s was written", p)
		}
	}
}

// TestUpgradeStopsWithoutACheckedBackup: when the backup service does not
// write the backup it names, writes garbage, one whose members do not
// match the manifest, another deployment's, or one sealed with another
// passphrase than .env's, the upgrade stops at once with the file and what
// is wrong: no docker compose up, no FCV command, no file of the deployment
// changed. --force=no-backup goes on, saying what was missing; a backup
// that checks out goes on too.
func TestUpgradeStopsWithoutACheckedBackup(t *testing.T) {
	dir := t.TempDir()
	passFile := filepath.Join(dir, "passphrase")
	if err := os.WriteFile(passFile, []byte("correct horse battery staple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	name := "rocketchat-20261125T030001Z-pre-upgrade.tar"
	for _, c := range []struct {
		mode string
		why  string
		// encrypted: the deployment has a backup passphrase.
		encrypted bool
	}{
		{mode: backupOmitted, why: "the backup service answered that it wrote %s, and there is no such file"},
		{mode: backupGarbage, why: "the pre-upgrade backup %s does not check out: %[1]s: not an rcgen backup"},
		{mode: backupChecksum, why: "does not check out: %s is damaged: files.tar.gz does not match its checksum in the manifest"},
		{mode: backupCut, why: "does not check out: %s is damaged: files.tar.gz is 3 bytes and its manifest says 5 (forged, or a cut copy)"},
		{mode: backupOther, why: "the pre-upgrade backup %s is of another deployment"},
		{mode: backupMisnamed, why: "the pre-upgrade backup %s says it is rocketchat-20250101T000000Z: not the backup the service was asked for"},
		{mode: backupFails, why: "the backup service did not take the pre-upgrade backup: docker compose exec -T backup sh /rcgen/backup.sh now pre-upgrade: exit status 1: mongodump: connection refused"},
		{mode: backupWrongKey, encrypted: true, why: "the pre-upgrade backup %s: " + name + " does not decrypt with this deployment's BACKUP_PASSPHRASE"},
		{mode: backupAltered, encrypted: true, why: "does not check out: " + name + " is damaged or it was changed after it was written"},
		{mode: backupUnsealed, why: "the pre-upgrade backup %s is encrypted, and .env holds no BACKUP_PASSPHRASE"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			args := []string{"--cpus", "4", "--memory", "8GiB", "--rocketchat-version", "7.12.7"}
			if c.encrypted {
				args = append(args, "--backup-passphrase-file", passFile)
			}
			out := fresh(t, args...)
			path := filepath.Join(out, render.BackupsDir, name)
			before := withoutBackups(out, snapshot(t, out))
			f := &backupStack{mode: c.mode}
			r := runEnv(func(e *Env) { e.Docker = f.run }, "upgrade", "--dir", out, "--to", "7.13.9", "--yes", "--wait", "5s")
			want := c.why
			if strings.Contains(want, "%") {
				want = fmt.Sprintf(want, path)
			}
			if r.code != 1 || !strings.Contains(r.stderr, want) {
				t.Errorf("exit %d, want 1 and %q:\n%s", r.code, want, r.stderr)
			}
			for _, w := range []string{"the upgrade stopped before it changed anything", "give --force=no-backup", "rcgen upgrade --to 7.13.9 again"} {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "Backed up to") || strings.Contains(r.stderr, "Step 2") {
				t.Errorf("it went on:\n%s", r.stderr)
			}
			for _, cmd := range f.log {
				if strings.HasPrefix(cmd, "compose up") || strings.Contains(cmd, "setFeatureCompatibilityVersion") {
					t.Errorf("it ran docker %s", cmd)
				}
			}
			sameFiles(t, before, withoutBackups(out, snapshot(t, out)))
		})
	}

	// Named, the missing safety net is said, and the upgrade goes on.
	out := fresh(t, "--cpus", "4", "--memory", "8GiB", "--rocketchat-version", "7.12.7")
	f := &backupStack{mode: backupGarbage}
	r := runEnv(func(e *Env) { e.Docker = f.run }, "upgrade", "--dir", out, "--to", "7.13.9", "--yes", "--wait", "5s", "--force=no-backup")
	if r.code != 0 || !strings.Contains(r.stderr, "does not check out") || !strings.Contains(r.stderr, "going on without a checked backup (--force=no-backup)") {
		t.Errorf("--force=no-backup: exit %d:\n%s", r.code, r.stderr)
	}
	if env := envOf(t, read(t, filepath.Join(out, render.EnvFile))); env[render.EnvRocketChatVersion] != "7.13.9" {
		t.Errorf("--force=no-backup: .env runs %s, want 7.13.9", env[render.EnvRocketChatVersion])
	}

	// A backup that checks out: the upgrade goes on to the end.
	out = fresh(t, "--cpus", "4", "--memory", "8GiB", "--rocketchat-version", "7.12.7", "--backup-passphrase-file", passFile)
	f = &backupStack{mode: backupOK}
	r = runEnv(func(e *Env) { e.Docker = f.run }, "upgrade", "--dir", out, "--to", "7.13.9", "--yes", "--wait", "5s")
	if r.code != 0 || !strings.Contains(r.stderr, "Backed up to "+filepath.Join(out, render.BackupsDir, name)+" (Rocket.Chat 7.12.7, MongoDB 7.0.28-ubi8, 7 users), checked.") {
		t.Errorf("a good backup: exit %d:\n%s", r.code, r.stderr)
	}
}

// TestUpgradeNamesWhatAHalfWrittenDeploymentLacks: a deployment whose
// compose.yaml is missing (a run of generate cut short) is not one without
// a backup service: the upgrade names the missing file and the command
// that writes it again, which works; a compose.yaml without the backup
// service rcgen.yaml asks for is told apart from backup: false.
func TestUpgradeNamesWhatAHalfWrittenDeploymentLacks(t *testing.T) {
	out := fresh(t, "--cpus", "4", "--memory", "8GiB", "--rocketchat-version", "7.12.7")
	if err := os.Remove(filepath.Join(out, render.ComposeFile)); err != nil {
		t.Fatal(err)
	}
	f := &backupStack{mode: backupOK}
	r := runEnv(func(e *Env) { e.Docker = f.run }, "upgrade", "--dir", out, "--to", "7.13.9", "--yes")
	for _, w := range []string{"--dir: " + out + " holds rcgen.yaml but no compose.yaml", "rcgen generate --out " + out, "then docker compose up -d"} {
		if r.code != 2 || !strings.Contains(r.stderr, w) {
			t.Errorf("exit %d, want 2 and %q:\n%s", r.code, w, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "backup: false") || strings.Contains(r.stderr, "--force=no-backup") || len(f.log) > 0 {
		t.Errorf("it blamed the backup service, or asked Docker (%q):\n%s", f.log, r.stderr)
	}
	if g := run(t, "generate", "--yes", "--out", out); g.code != 0 || !fileExists(filepath.Join(out, render.ComposeFile)) {
		t.Fatalf("the advice does not work: exit %d:\n%s", g.code, g.stderr)
	}

	// compose.yaml without the backup service, rcgen.yaml with backup: true.
	other := fresh(t, "--cpus", "4", "--memory", "8GiB", "--rocketchat-version", "7.12.7", "--no-backup")
	if err := os.WriteFile(filepath.Join(out, render.ComposeFile), read(t, filepath.Join(other, render.ComposeFile)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runEnv(func(e *Env) { e.Docker = f.run }, "upgrade", "--dir", out, "--to", "7.13.9", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "has no backup service, and rcgen.yaml says backup: true") || strings.Contains(r.stderr, "backup: false") {
		t.Errorf("exit %d:\n%s", r.code, r.stderr)
	}
}
