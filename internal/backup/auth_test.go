package backup_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/backup/backuptest"
)

const pass = "correct horse battery staple"

var (
	dump  = []byte("\x1f\x8b\x08\x00DUMP-OF-THE-SET")
	files = []byte("\x1f\x8b\x08\x00FILES")
)

func manifest(format int) backup.Manifest {
	return backup.Manifest{Format: format, Name: "rocketchat-20261124T030000Z", Project: "rocketchat", DeploymentID: "aa",
		Created: time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC), RocketChatVersion: "8.8.1", MongoDBVersion: "8.0.32-ubi9",
		Counts: backup.Counts{Collections: 90, Users: 12}}
}

func build(t *testing.T, format int, passphrase string) []backuptest.Member {
	t.Helper()
	members, err := backuptest.Build(manifest(format), passphrase, dump, files)
	if err != nil {
		t.Fatal(err)
	}
	return members
}

func write(t *testing.T, members []backuptest.Member) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rocketchat-20261124T030000Z.tar")
	if err := backuptest.WriteTar(path, members); err != nil {
		t.Fatal(err)
	}
	return path
}

// check runs what rcgen restore runs before it stops anything.
func check(path, passphrase string) error {
	m, err := backup.Verify(path)
	if err != nil {
		return err
	}
	return backup.Authenticate(path, m, passphrase)
}

// TestAuthenticateTellsWhatIsWrong: an encrypted backup is checked against
// the passphrase before anything is stopped, and the error says which it
// is: the wrong passphrase, a changed backup, a cut one.
func TestAuthenticateTellsWhatIsWrong(t *testing.T) {
	good := build(t, backup.Format, pass)
	if err := check(write(t, good), pass); err != nil {
		t.Fatalf("an intact backup with its passphrase: %v", err)
	}
	if err := check(write(t, good), "another passphrase"); !errors.Is(err, backup.ErrWrongPassphrase) || !strings.Contains(err.Error(), "does not decrypt with this deployment's BACKUP_PASSPHRASE") {
		t.Errorf("wrong passphrase: %v", err)
	}

	// A changed dump with the checksums changed to match: only the MAC
	// sees it.
	changed := append([]backuptest.Member(nil), good...)
	changed[2].Data = append([]byte(nil), changed[2].Data...)
	changed[2].Data[len(changed[2].Data)-1] ^= 1
	changed, err := backuptest.Rehash(changed)
	if err != nil {
		t.Fatal(err)
	}
	if err := check(write(t, changed), pass); !errors.Is(err, backup.ErrAltered) {
		t.Errorf("a changed dump with matching checksums: %v", err)
	}
	// A changed manifest (another version, to slip past the version check).
	edited := append([]backuptest.Member(nil), good...)
	edited[0].Data = []byte(strings.Replace(string(edited[0].Data), `"8.8.1"`, `"7.0.0"`, 1))
	if err := check(write(t, edited), pass); !errors.Is(err, backup.ErrAltered) {
		t.Errorf("a changed manifest: %v", err)
	}
	// A flipped byte without new checksums, a cut archive, a missing MAC.
	flipped := append([]backuptest.Member(nil), good...)
	flipped[3].Data = append([]byte(nil), flipped[3].Data...)
	flipped[3].Data[20] ^= 1
	if err := check(write(t, flipped), pass); err == nil || !strings.Contains(err.Error(), "does not match its checksum") {
		t.Errorf("a flipped byte: %v", err)
	}
	path := write(t, good)
	b, _ := os.ReadFile(path)
	// The end: two zero blocks; before them, the last file's one block.
	for _, n := range []int{len(b) - 1024 - 512, len(b) / 2, 1100} {
		cut := filepath.Join(t.TempDir(), filepath.Base(path))
		if err := os.WriteFile(cut, b[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		if err := check(cut, pass); err == nil || !strings.Contains(err.Error(), "damaged") && !strings.Contains(err.Error(), "incomplete") && !errors.Is(err, backup.ErrNotBackup) {
			t.Errorf("cut at %d of %d bytes: %v", n, len(b), err)
		}
	}
	twice := append(append([]backuptest.Member(nil), good...), good[2])
	if err := check(write(t, twice), pass); err == nil || !strings.Contains(err.Error(), "holds mongodb.archive.gz.enc twice") {
		t.Errorf("a file twice: %v", err)
	}
	noMAC := append([]backuptest.Member{good[0]}, good[2:]...)
	if err := check(write(t, noMAC), pass); err == nil || !strings.Contains(err.Error(), "manifest.hmac is missing") {
		t.Errorf("no manifest.hmac: %v", err)
	}
	// Unknown parameters are refused by name, not taken for damage.
	weak := append([]backuptest.Member(nil), good...)
	weak[0].Data = []byte(strings.Replace(string(weak[0].Data), `"iter": 600000`, `"iter": 1000`, 1))
	if err := check(write(t, weak), pass); err == nil || !strings.Contains(err.Error(), "(1000 iterations)") {
		t.Errorf("another iteration count: %v", err)
	}
}

// TestFormat1IsStillRestored: backups written before format 2 (AES-256-CBC,
// no MAC) still verify, and a wrong passphrase is found before anything
// stops (their dump must decrypt to gzip).
func TestFormat1IsStillRestored(t *testing.T) {
	v1 := write(t, build(t, backup.FormatV1, pass))
	m, err := backup.Verify(v1)
	if err != nil || m.Format != backup.FormatV1 || !m.Encrypted {
		t.Fatalf("format 1: %+v %v", m, err)
	}
	if err := backup.Authenticate(v1, m, pass); err != nil {
		t.Errorf("format 1 with its passphrase: %v", err)
	}
	if err := backup.Authenticate(v1, m, "another passphrase"); !errors.Is(err, backup.ErrWrongPassphrase) {
		t.Errorf("format 1, wrong passphrase: %v", err)
	}
	plain := write(t, build(t, backup.FormatV1, ""))
	if err := check(plain, ""); err != nil {
		t.Errorf("format 1 unencrypted: %v", err)
	}
	m3 := manifest(3)
	members, err := backuptest.Build(m3, "", dump, files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Verify(write(t, members)); err == nil || !strings.Contains(err.Error(), "manifest format 3, and this rcgen reads formats 1 and 2") {
		t.Errorf("format 3: %v", err)
	}
}
