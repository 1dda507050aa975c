package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/backup/backuptest"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
)

// healthyDocker answers a whole restore as a running stack does: the
// pre-restore backup, stop, the restore (printing the counts the
// manifest says), up, and every service healthy. It records the commands.
type healthyDocker struct {
	services []string
	counts   backup.Counts
	log      []string
}

func (f *healthyDocker) run(_ context.Context, _ string, args ...string) ([]byte, error) {
	line := strings.Join(args, " ")
	f.log = append(f.log, line)
	switch {
	case strings.Contains(line, " now pre-restore"):
		return []byte("rocketchat-20261124T040000Z-pre-restore.tar\n"), nil
	case strings.Contains(line, "backup.sh restore "):
		b, _ := json.Marshal(f.counts)
		return append(b, '\n'), nil
	case len(args) > 1 && args[1] == "ps":
		var b bytes.Buffer
		for _, s := range f.services {
			if s == "mongodb-prepare" || s == "mongodb-init" {
				fmt.Fprintf(&b, `{"Service":%q,"State":"exited","ExitCode":0}`+"\n", s)
				continue
			}
			fmt.Fprintf(&b, `{"Service":%q,"State":"running","Health":"healthy"}`+"\n", s)
		}
		return b.Bytes(), nil
	}
	return nil, nil
}

// restoreFixture is a deployment (with or without a backup passphrase)
// and what a backup of it says.
type restoreFixture struct {
	dir  string
	env  map[string]string
	m    backup.Manifest
	pass string
}

func newRestoreFixture(t *testing.T, passphrase string) restoreFixture {
	t.Helper()
	out := filepath.Join(t.TempDir(), "d")
	args := []string{"generate", "--yes", "--no-monitoring", "--out", out}
	if passphrase != "" {
		passFile := filepath.Join(t.TempDir(), "passphrase")
		if err := os.WriteFile(passFile, []byte(passphrase+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--backup-passphrase-file", passFile)
	}
	if r := run(t, args...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	env := envOf(t, mustRead(filepath.Join(out, render.EnvFile)))
	m := backup.Manifest{Format: backup.Format, Project: "rocketchat", DeploymentID: env[render.EnvDeploymentID], Name: "rocketchat-20261124T030000Z",
		RocketChatVersion: env[render.EnvRocketChatVersion], MongoDBVersion: env[render.EnvMongoDBVersion],
		Counts: backup.Counts{Collections: 90, Users: 12}}
	return restoreFixture{dir: out, env: env, m: m, pass: passphrase}
}

func (fx restoreFixture) docker(t *testing.T) *healthyDocker {
	d, err := deploy.Open(fx.dir)
	if err != nil {
		t.Fatal(err)
	}
	return &healthyDocker{services: d.Compose.Services, counts: fx.m.Counts}
}

// filesArchive is a files.tar.gz as backup.sh writes it, with extra.
func filesArchive(t *testing.T, extra ...backuptest.Member) []byte {
	t.Helper()
	b, err := backuptest.TarGz(append([]backuptest.Member{
		{Name: ".env", Data: []byte("A=1\n")},
		{Name: "./", Type: tar.TypeDir},
		{Name: "./uploads/", Type: tar.TypeDir},
		{Name: "./uploads/avatar.png", Data: []byte("PNG")},
	}, extra...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// build is a backup of the fixture's deployment, m edited first.
func (fx restoreFixture) build(t *testing.T, passphrase string, edit func(*backup.Manifest), files []byte) []backuptest.Member {
	t.Helper()
	m := fx.m
	if edit != nil {
		edit(&m)
	}
	if files == nil {
		files = filesArchive(t)
	}
	members, err := backuptest.Build(m, passphrase, []byte("\x1f\x8b\x08\x00DUMP"), files)
	if err != nil {
		t.Fatal(err)
	}
	return members
}

// TestRestoreRefusesHostileArchivesBeforeAnyDocker: the classes of the
// hostile campaign, each archive built here: a sparse terabyte in a few
// KiB, sizes that lie, traversal and absolute names, links and devices
// (in the archive and in its files), a MongoDB from the future. Each is
// refused by the pre-check, exit 2, before rcgen runs anything in the
// stack (the app is never stopped), and quickly: no member is read past
// the size the manifest declares, which the file's size bounds.
func TestRestoreRefusesHostileArchivesBeforeAnyDocker(t *testing.T) {
	for _, passphrase := range []string{"", "correct horse battery staple"} {
		t.Run(fmt.Sprintf("passphrase=%v", passphrase != ""), func(t *testing.T) {
			fx := newRestoreFixture(t, passphrase)
			good := fx.build(t, passphrase, nil, nil)
			enc := ""
			if passphrase != "" {
				enc = backup.EncSuffix
			}
			dumpName := backup.DumpFile + enc
			dumpAt := len(good) - 2
			with := func(x backuptest.Member) []backuptest.Member {
				out := append([]backuptest.Member(nil), good...)
				out[dumpAt] = x
				return out
			}
			manifestSays := func(members []backuptest.Member, old, new string) []backuptest.Member {
				out := append([]backuptest.Member(nil), members...)
				out[0].Data = []byte(strings.Replace(string(out[0].Data), old, new, 1))
				return out
			}
			dumpSize := fmt.Sprintf(`"size": %d`, len(good[dumpAt].Data))
			cases := []struct {
				name    string
				members []backuptest.Member
				want    string
			}{
				// Sizes: checked against the manifest and the file first.
				{"sparse terabyte declared", manifestSays(with(backuptest.Member{Name: dumpName, Data: []byte("x"), Sparse: 1 << 40}), dumpSize, `"size": 1099511627776`), "more than the"},
				{"sparse terabyte, size left", with(backuptest.Member{Name: dumpName, Data: good[dumpAt].Data, Sparse: 1 << 40}), "as a sparse file"},
				{"size that lies", manifestSays(good, dumpSize, `"size": 3`), "its manifest says 3"},
				// Names and types in the archive.
				{"traversal member", append(append([]backuptest.Member(nil), good...), backuptest.Member{Name: "../../etc/passwd", Data: []byte("x")}), `"../../etc/passwd"`},
				{"traversal name listed", manifestSays(with(backuptest.Member{Name: "../../etc/passwd", Data: good[dumpAt].Data}), `"name": "`+dumpName+`"`, `"name": "../../etc/passwd"`), `"../../etc/passwd"`},
				{"absolute member", append(append([]backuptest.Member(nil), good...), backuptest.Member{Name: "/etc/passwd", Data: []byte("x")}), `"/etc/passwd"`},
				{"symlink dump", with(backuptest.Member{Name: dumpName, Type: tar.TypeSymlink, Link: "/dev/zero"}), "as a symbolic link"},
				{"hardlink dump", with(backuptest.Member{Name: dumpName, Type: tar.TypeLink, Link: "manifest.json"}), "as a hard link"},
				{"device dump", with(backuptest.Member{Name: dumpName, Type: tar.TypeChar}), "as a device"},
				// Names and types in the files the restore extracts.
				{"traversal in files", fx.build(t, passphrase, nil, filesArchive(t, backuptest.Member{Name: "./uploads/../../../etc/passwd", Data: []byte("x")})), "leads out of the directory"},
				{"absolute in files", fx.build(t, passphrase, nil, filesArchive(t, backuptest.Member{Name: "/etc/passwd", Data: []byte("x")})), "an absolute path"},
				{"symlink in files", fx.build(t, passphrase, nil, filesArchive(t, backuptest.Member{Name: "./uploads/x", Type: tar.TypeSymlink, Link: "/etc"})), "a symbolic link"},
				{"hardlink in files", fx.build(t, passphrase, nil, filesArchive(t, backuptest.Member{Name: "./uploads/x", Type: tar.TypeLink, Link: "/etc/shadow"})), "a hard link"},
				{"device in files", fx.build(t, passphrase, nil, filesArchive(t, backuptest.Member{Name: "./uploads/x", Type: tar.TypeBlock})), "a device"},
				{"sparse in files", fx.build(t, passphrase, nil, filesArchive(t, backuptest.Member{Name: "./uploads/x", Data: []byte("x"), Sparse: 1 << 40})), "(a sparse"},
				// Versions, compared as numbers; a manifest authenticated
				// with the deployment's passphrase, as a newer one writes it.
				{"MongoDB 99.0.1", fx.build(t, passphrase, func(m *backup.Manifest) { m.MongoDBVersion = "99.0.1" }, nil), "MongoDB 99.0, newer than"},
				{"MongoDB 8.10.0", fx.build(t, passphrase, func(m *backup.Manifest) { m.MongoDBVersion = "8.10.0-ubi9" }, nil), "MongoDB 8.10, newer than"},
				{"MongoDB unreadable", fx.build(t, passphrase, func(m *backup.Manifest) { m.MongoDBVersion = "eight" }, nil), "not a MongoDB version"},
			}
			for i, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					name := fmt.Sprintf("rocketchat-20261124T0300%02dZ.tar", i)
					path := filepath.Join(fx.dir, render.BackupsDir, name)
					if err := backuptest.WriteTar(path, c.members); err != nil {
						t.Fatal(err)
					}
					f := fx.docker(t)
					r := runEnv(func(e *Env) { e.Docker = f.run }, "restore", name, "--dir", fx.dir, "--yes")
					if r.code != 2 || !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, "nothing was changed") {
						t.Errorf("exit %d, want 2 with %q and \"nothing was changed\":\n%s", r.code, c.want, r.stderr)
					}
					if len(f.log) > 0 {
						t.Errorf("rcgen ran docker before refusing: %q", f.log)
					}
				})
			}
			// The sound backup is restored whole.
			name := "rocketchat-20261124T035959Z.tar"
			if err := backuptest.WriteTar(filepath.Join(fx.dir, render.BackupsDir, name), good); err != nil {
				t.Fatal(err)
			}
			f := fx.docker(t)
			r := runEnv(func(e *Env) { e.Docker = f.run }, "restore", name, "--dir", fx.dir, "--yes")
			if r.code != 0 || !strings.Contains(r.stdout, "Done: the deployment runs on "+name) {
				t.Errorf("a sound backup: exit %d, docker %q:\n%s", r.code, f.log, r.stderr)
			}
		})
	}
}

// TestRestoreStrandedMark: a restore mark names a backup whose file is
// gone. Restoring it says what to do (another backup by name, or remove
// the mark and start the app) instead of "no such backup"; restoring
// another backup then replaces the stranded restore and finishes.
func TestRestoreStrandedMark(t *testing.T) {
	fx := newRestoreFixture(t, "")
	dir := filepath.Join(fx.dir, render.BackupsDir)
	pre := "rocketchat-20261124T020000Z-pre-restore.tar"
	if err := backuptest.WriteTar(filepath.Join(dir, pre), fx.build(t, "", func(m *backup.Manifest) { m.Label = "pre-restore" }, nil)); err != nil {
		t.Fatal(err)
	}
	gone := "rocketchat-20261120T030000Z.tar"
	marker := filepath.Join(dir, backup.RestoreMarker)
	if err := os.WriteFile(marker, []byte(gone+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := fx.docker(t)
	r := runEnv(func(e *Env) { e.Docker = f.run }, "restore", gone, "--dir", fx.dir, "--yes")
	for _, want := range []string{"is no longer in", "rcgen restore " + pre + " --dir " + fx.dir, "rm " + marker, "docker compose up -d"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("restoring the stranded backup: lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.code != 2 || strings.Contains(r.stderr, "no such backup") || len(f.log) > 0 {
		t.Errorf("exit %d, docker %q:\n%s", r.code, f.log, r.stderr)
	}
	// Doing what it says: restoring the pre-restore backup by name.
	r = runEnv(func(e *Env) { e.Docker = f.run }, "restore", pre, "--dir", fx.dir, "--yes")
	if r.code != 0 || !strings.Contains(r.stderr, "its file is gone: restoring "+pre) {
		t.Fatalf("restoring another backup: exit %d, docker %q:\n%s", r.code, f.log, r.stderr)
	}
	// No pre-restore backup (the service takes none while marked), the
	// app stopped, restored, started; the mark gone.
	if len(f.log) < 3 || strings.Contains(f.log[0], "pre-restore") || !strings.Contains(f.log[0], "stop") || !strings.Contains(f.log[1], "restore "+pre) {
		t.Errorf("docker %q", f.log)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the mark stays: %v", err)
	}
}

// TestRestoreCopyChild is the rcgen process TestRestoreCopyInterrupted
// kills; it runs only as that child.
func TestRestoreCopyChild(t *testing.T) {
	args := os.Getenv("RCGEN_TEST_RESTORE_CHILD")
	if args == "" {
		t.Skip("the child process of TestRestoreCopyInterrupted")
	}
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		t.Fatal(err)
	}
	ready := os.NewFile(3, "ready")
	copyProgress = func(ctx context.Context, _ int64) {
		fmt.Fprintln(ready, "copying")
		<-ctx.Done() // until a signal ends the copy (or the process)
	}
	f := &healthyDocker{}
	r := runEnv(func(e *Env) { e.Docker = f.run }, argv...)
	fmt.Fprint(os.Stderr, r.stderr)
	os.Exit(r.code)
}

// TestRestoreCopyInterrupted: a real rcgen process interrupted (SIGINT,
// Ctrl-C) while it copies a backup into backups/ removes its partial copy,
// exits 130 and restores nothing; one killed (SIGKILL) leaves it, and the
// next restore recognises it as stale and replaces it. Either way the
// next restore of that file goes through.
func TestRestoreCopyInterrupted(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			fx := newRestoreFixture(t, "")
			src := filepath.Join(t.TempDir(), "rocketchat-20261124T030000Z.tar")
			if err := backuptest.WriteTar(src, fx.build(t, "", nil, nil)); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(fx.dir, render.BackupsDir, filepath.Base(src))
			argv, _ := json.Marshal([]string{"restore", src, "--dir", fx.dir, "--yes"})
			cmd := exec.Command(os.Args[0], "-test.run=^TestRestoreCopyChild$")
			cmd.Env = append(os.Environ(), "RCGEN_TEST_RESTORE_CHILD="+string(argv))
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.ExtraFiles = []*os.File{pw}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			line := make([]byte, 8)
			if _, err := pr.Read(line); err != nil { // the copy has begun
				cmd.Wait()
				t.Fatalf("the child never copied: %v\n%s", err, stderr.String())
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("the child: %v", err)
			}
			_, partErr := os.Stat(dst + ".part")
			if sig == syscall.SIGKILL {
				if partErr != nil {
					t.Fatalf("a killed copy leaves its .part (the case to recognise): %v", partErr)
				}
			} else {
				if ee.ExitCode() != ExitInterrupted || !strings.Contains(stderr.String(), "the partial copy was removed; nothing was restored") {
					t.Errorf("interrupted: exit %d:\n%s", ee.ExitCode(), stderr.String())
				}
				if !errors.Is(partErr, os.ErrNotExist) {
					t.Errorf("the interrupted copy left %s.part: %v", dst, partErr)
				}
			}
			if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a partial copy took the backup's name: %v", err)
			}
			// The next restore of the same file goes through.
			f := fx.docker(t)
			r := runEnv(func(e *Env) { e.Docker = f.run }, "restore", src, "--dir", fx.dir, "--yes")
			if r.code != 0 || !strings.Contains(r.stderr, "Copied "+src) {
				t.Fatalf("the next restore: exit %d:\n%s", r.code, r.stderr)
			}
			if stale := strings.Contains(r.stderr, "a copy a killed run left"); stale != (sig == syscall.SIGKILL) {
				t.Errorf("stale .part reported: %v, after %v:\n%s", stale, sig, r.stderr)
			}
			if b, err := os.ReadFile(dst); err != nil || !bytes.Equal(b, mustRead(src)) {
				t.Errorf("the copy in backups/ is not the backup: %v", err)
			}
		})
	}
}

// TestPassphraseRotationKeepsOldBackupsRestorable: a new backup passphrase
// does not strand the backups taken with the one before. .env keeps it
// (BACKUP_PASSPHRASE_1, masked in diffs) while a backup in backups/ needs
// it, the re-run says which backups need which, restore and backup list
// find it, and a re-run drops it once no backup needs it; a passphrase
// no backup ever used is not kept.
func TestPassphraseRotationKeepsOldBackupsRestorable(t *testing.T) {
	passA, passB, passC := "first passphrase of them", "second passphrase here", "third passphrase here"
	fx := newRestoreFixture(t, passA)
	passFile := func(p string) string {
		f := filepath.Join(t.TempDir(), "passphrase")
		if err := os.WriteFile(f, []byte(p+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	regenerate := func(pass string, extra ...string) result {
		t.Helper()
		args := append([]string{"generate", "--yes", "--no-monitoring", "--out", fx.dir}, extra...)
		if pass != "" {
			args = append(args, "--backup-passphrase-file", passFile(pass))
		}
		r := run(t, args...)
		if r.code != 0 {
			t.Fatalf("generate: exit %d:\n%s", r.code, r.stderr)
		}
		return r
	}
	env := func() map[string]string { return envOf(t, mustRead(filepath.Join(fx.dir, render.EnvFile))) }
	old := "rocketchat-20261124T030000Z.tar"
	if err := backuptest.WriteTar(filepath.Join(fx.dir, render.BackupsDir, old), fx.build(t, passA, nil, nil)); err != nil {
		t.Fatal(err)
	}

	dry := run(t, "generate", "--yes", "--no-monitoring", "--out", fx.dir, "--dry-run", "--backup-passphrase-file", passFile(passB))
	if dry.code != 0 || !strings.Contains(dry.stdout, "BACKUP_PASSPHRASE_1=") || strings.Contains(dry.stdout, passA) || strings.Contains(dry.stdout, passB) {
		t.Errorf("the dry run's diff shows a passphrase, or not the kept one:\n%s\n%s", dry.stdout, dry.stderr)
	}
	r := regenerate(passB)
	if e := env(); e[render.EnvBackupPassphrase] != passB || e[render.EnvOldBackupPassphrase(1)] != passA {
		t.Fatalf(".env after a new passphrase: %q, %q", e[render.EnvBackupPassphrase], e[render.EnvOldBackupPassphrase(1)])
	}
	if !strings.Contains(r.stdout, "BACKUP_PASSPHRASE_1 opens "+old) {
		t.Errorf("the re-run does not say which backups need the kept passphrase:\n%s", r.stdout)
	}
	l := run(t, "backup", "list", "--dir", fx.dir)
	if !strings.Contains(l.stdout, "yes, BACKUP_PASSPHRASE_1") {
		t.Errorf("backup list does not say which passphrase opens %s:\n%s", old, l.stdout)
	}
	f := fx.docker(t)
	r = runEnv(func(e *Env) { e.Docker = f.run }, "restore", old, "--dir", fx.dir, "--yes")
	if r.code != 0 || !strings.Contains(r.stderr, "opens with BACKUP_PASSPHRASE_1") {
		t.Fatalf("restoring a backup of the earlier passphrase: exit %d:\n%s", r.code, r.stderr)
	}

	// B opened no backup: a third passphrase keeps A only.
	regenerate(passC)
	if e := env(); e[render.EnvBackupPassphrase] != passC || e[render.EnvOldBackupPassphrase(1)] != passA || e[render.EnvOldBackupPassphrase(2)] != "" {
		t.Errorf(".env after a third passphrase: %v", e)
	}
	// A re-run with no passphrase given keeps them all as they are.
	regenerate("")
	if e := env(); e[render.EnvBackupPassphrase] != passC || e[render.EnvOldBackupPassphrase(1)] != passA {
		t.Errorf(".env after a plain re-run: %v", e)
	}
	// Once no backup needs A, it goes.
	if err := os.Remove(filepath.Join(fx.dir, render.BackupsDir, old)); err != nil {
		t.Fatal(err)
	}
	regenerate("")
	if e := env(); e[render.EnvBackupPassphrase] != passC || e[render.EnvOldBackupPassphrase(1)] != "" {
		t.Errorf(".env once no backup needs the earlier passphrase: %v", e)
	}
	if strings.Contains(string(mustRead(filepath.Join(fx.dir, render.EnvFile))), passA) {
		t.Error("the dropped passphrase is still in .env")
	}

	// A backup rcgen cannot read (of a newer format, or root's when rcgen
	// runs as another user): rcgen cannot tell which backups need C, so
	// it keeps it.
	newer := fx.build(t, passC, func(m *backup.Manifest) { m.Format = 3 }, nil)
	if err := backuptest.WriteTar(filepath.Join(fx.dir, render.BackupsDir, "rocketchat-20261125T030000Z.tar"), newer); err != nil {
		t.Fatal(err)
	}
	r = regenerate("a fourth passphrase here")
	if e := env(); e[render.EnvOldBackupPassphrase(1)] != passC || !strings.Contains(r.stdout, "cannot tell") {
		t.Errorf("a backup rcgen cannot read: .env %v:\n%s", e, r.stdout)
	}
}

// TestRestoreRefusesAnUnencryptedBackupWhereBackupsAreEncrypted: an
// attacker who can write to backups/ cannot forge an encrypted backup
// (no passphrase, no MAC), but could drop an unencrypted one in; a
// deployment with a passphrase takes it only on the operator's word
// (--force=unencrypted-backup), refused before rcgen runs anything.
func TestRestoreRefusesAnUnencryptedBackupWhereBackupsAreEncrypted(t *testing.T) {
	fx := newRestoreFixture(t, "correct horse battery staple")
	name := "rocketchat-20261124T030000Z.tar"
	if err := backuptest.WriteTar(filepath.Join(fx.dir, render.BackupsDir, name), fx.build(t, "", nil, nil)); err != nil {
		t.Fatal(err)
	}
	f := fx.docker(t)
	r := runEnv(func(e *Env) { e.Docker = f.run }, "restore", name, "--dir", fx.dir, "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "the backup is not encrypted, and this deployment encrypts its backups") ||
		!strings.Contains(r.stderr, "(--force=unencrypted-backup); nothing was changed") {
		t.Errorf("exit %d, want 2 naming --force=unencrypted-backup:\n%s", r.code, r.stderr)
	}
	if len(f.log) > 0 {
		t.Errorf("rcgen ran docker before refusing: %q", f.log)
	}
	f = fx.docker(t)
	r = runEnv(func(e *Env) { e.Docker = f.run }, "restore", name, "--dir", fx.dir, "--yes", "--force=unencrypted-backup")
	if r.code != 0 || !strings.Contains(r.stdout, "Done: the deployment runs on "+name) {
		t.Errorf("confirmed: exit %d, docker %q:\n%s", r.code, f.log, r.stderr)
	}
}
