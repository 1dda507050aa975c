package render_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/backup/backuptest"
	"github.com/rcgen/rcgen/internal/render"
)

// hostileBackup builds a backup backup.sh restores when nothing is wrong
// with it: a dump mongorestore's stand-in accepts, files with an upload.
func hostileBackup(t *testing.T, pass string, extraFiles ...backuptest.Member) []backuptest.Member {
	t.Helper()
	var dumpGz bytes.Buffer
	zw := gzip.NewWriter(&dumpGz)
	zw.Write([]byte("DUMP-OF-THE-SET"))
	zw.Close()
	files, err := backuptest.TarGz(append([]backuptest.Member{
		{Name: "./", Type: tar.TypeDir},
		{Name: "./uploads/", Type: tar.TypeDir},
		{Name: "./uploads/avatar.png", Data: []byte(uploaded)},
	}, extraFiles...))
	if err != nil {
		t.Fatal(err)
	}
	m := backup.Manifest{Format: backup.Format, Project: "rocketchat", RocketChatVersion: "8.8.1", MongoDBVersion: "8.0.32-ubi9"}
	members, err := backuptest.Build(m, pass, dumpGz.Bytes(), files)
	if err != nil {
		t.Fatal(err)
	}
	return members
}

// TestBackupScriptRefusesHostileArchives: backup.sh restore checks the
// archive again after rcgen's pre-check (the app is stopped by then), and
// refuses the same classes before it drops, restores or extracts
// anything: a sparse terabyte in a few KiB and sizes that lie (it lists
// the members and compares their sizes with the manifest and the file
// before reading one), names outside the backup's, links and devices, in
// the archive and in its files.
func TestBackupScriptRefusesHostileArchives(t *testing.T) {
	s := newScriptEnv(t)
	for _, pass := range []string{"", passphrase} {
		env := []string{"BACKUP_PASSPHRASE=" + pass}
		good := hostileBackup(t, pass)
		dumpAt := len(good) - 2
		dumpName := good[dumpAt].Name
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
			{"sparse terabyte declared", manifestSays(with(backuptest.Member{Name: dumpName, Data: []byte("x"), Sparse: 1 << 40}), dumpSize, `"size": 1099511627776`), "more than the"},
			{"sparse terabyte, size left", with(backuptest.Member{Name: dumpName, Data: good[dumpAt].Data, Sparse: 1 << 40}), "more than the"},
			{"size that lies", manifestSays(good, dumpSize, `"size": 3`), "is not the 3 bytes its manifest says"},
			{"traversal member", append(append([]backuptest.Member(nil), good...), backuptest.Member{Name: "../../etc/passwd", Data: []byte("x")}), `"../../etc/passwd", which no backup holds`},
			{"traversal name listed", manifestSays(with(backuptest.Member{Name: "../../etc/passwd", Data: good[dumpAt].Data}), `"name": "`+dumpName+`"`, `"name": "../../etc/passwd"`), `"../../etc/passwd"`},
			{"absolute member", append(append([]backuptest.Member(nil), good...), backuptest.Member{Name: "/etc/passwd", Data: []byte("x")}), `"/etc/passwd", which no backup holds`},
			{"symlink dump", with(backuptest.Member{Name: dumpName, Type: tar.TypeSymlink, Link: "/dev/zero"}), "something else than a file (type l"},
			{"hardlink dump", with(backuptest.Member{Name: dumpName, Type: tar.TypeLink, Link: "manifest.json"}), "something else than a file (type h"},
			{"device dump", with(backuptest.Member{Name: dumpName, Type: tar.TypeChar}), "something else than a file (type c"},
			{"traversal in files", hostileBackup(t, pass, backuptest.Member{Name: "./uploads/../../../etc/passwd", Data: []byte("x")}), "leads out with .."},
			{"absolute in files", hostileBackup(t, pass, backuptest.Member{Name: "/etc/passwd", Data: []byte("x")}), "an absolute path"},
			{"symlink in files", hostileBackup(t, pass, backuptest.Member{Name: "./uploads/evil", Type: tar.TypeSymlink, Link: "/etc"}), "as a link or a device (type l"},
			{"hardlink in files", hostileBackup(t, pass, backuptest.Member{Name: "./uploads/h", Type: tar.TypeLink, Link: "/etc/shadow"}), "as a link or a device (type h"},
			{"device in files", hostileBackup(t, pass, backuptest.Member{Name: "./uploads/sda", Type: tar.TypeBlock}), "as a link or a device (type b"},
			{"sparse terabyte in files", hostileBackup(t, pass, backuptest.Member{Name: "./uploads/big", Data: []byte("x"), Sparse: 1 << 40}), "a sparse or forged file"},
		}
		for i, c := range cases {
			t.Run(fmt.Sprintf("encrypted=%v/%s", pass != "", c.name), func(t *testing.T) {
				n := fmt.Sprintf("rocketchat-20260102T0000%02dZ.tar", i)
				if err := backuptest.WriteTar(filepath.Join(s.backups, n), c.members); err != nil {
					t.Fatal(err)
				}
				os.Truncate(s.log, 0)
				_, errOut, err := s.run(env, "restore", n)
				if err == nil || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "restore another backup") {
					t.Errorf("%v, want a refusal with %q:\n%s", err, c.want, errOut)
				}
				if log, _ := os.ReadFile(s.log); strings.Contains(string(log), "dropDatabase") || strings.Contains(string(log), "mongorestore") {
					t.Errorf("the restore changed the database before refusing:\n%s", log)
				}
			})
		}
		n := "rocketchat-20260102T010000Z.tar"
		if err := backuptest.WriteTar(filepath.Join(s.backups, n), good); err != nil {
			t.Fatal(err)
		}
		if out := s.must(env, "restore", n); out != `{"collections":42,"users":7}` {
			t.Errorf("a sound backup: restore printed %q", out)
		}
	}
}

// TestBackupScriptRestoresWithAnEarlierPassphrase: a backup taken before
// the passphrase changed opens with the earlier one .env keeps
// (BACKUP_PASSPHRASE_1); without it, it is refused, and says so.
func TestBackupScriptRestoresWithAnEarlierPassphrase(t *testing.T) {
	s := newScriptEnv(t)
	earlier := "the passphrase before this one"
	n := "rocketchat-20260103T000000Z.tar"
	if err := backuptest.WriteTar(filepath.Join(s.backups, n), hostileBackup(t, earlier)); err != nil {
		t.Fatal(err)
	}
	env := []string{"BACKUP_PASSPHRASE=" + passphrase}
	if _, errOut, err := s.run(env, "restore", n); err == nil || !strings.Contains(errOut, "does not decrypt with this deployment's BACKUP_PASSPHRASE") {
		t.Errorf("without the earlier passphrase: %v\n%s", err, errOut)
	}
	envFile := filepath.Join(s.deployment, render.EnvFile)
	b := mustRead(t, envFile)
	b = append(b, []byte("BACKUP_PASSPHRASE_1='yet another passphrase'\nBACKUP_PASSPHRASE_2='"+earlier+"'\n")...)
	if err := os.WriteFile(envFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := s.must(env, "restore", n); out != `{"collections":42,"users":7}` {
		t.Errorf("with the earlier passphrase in .env: restore printed %q", out)
	}
	if got, err := os.ReadFile(filepath.Join(filepath.Dir(s.backups), "volumes", "uploads", "avatar.png")); err != nil || string(got) != uploaded {
		t.Errorf("the uploads are not restored: %q %v", got, err)
	}
	other := "rocketchat-20260103T010000Z.tar"
	if err := backuptest.WriteTar(filepath.Join(s.backups, other), hostileBackup(t, "a passphrase nobody kept")); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := s.run(env, "restore", other); err == nil || !strings.Contains(errOut, "nor the 2 earlier ones .env keeps") {
		t.Errorf("a passphrase nobody kept: %v\n%s", err, errOut)
	}
}
