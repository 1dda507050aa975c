package doctor

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/deploy"
)

func writeBackup(t *testing.T, dir, name string, created time.Time) {
	t.Helper()
	writeBackupAs(t, dir, name, backup.Manifest{Format: 1, Name: name, Created: created}, 0o600)
}

// writeBackupAs writes a backup of m (its files filled in: an empty dump)
// with mode.
func writeBackupAs(t *testing.T, dir, name string, m backup.Manifest, mode os.FileMode) {
	t.Helper()
	m.RocketChatVersion, m.MongoDBVersion = "8.8.1", "8.0.32-ubi9"
	dump := "mongodb.archive.gz"
	if m.Encrypted {
		dump += ".enc"
	}
	m.Files = []backup.File{{Name: dump, SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}
	j, _ := json.Marshal(m)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o600, Size: int64(len(j))})
	tw.Write(j)
	tw.WriteHeader(&tar.Header{Name: dump, Mode: 0o600})
	tw.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, name), mode); err != nil {
		t.Fatal(err)
	}
}

func TestCheckBackups(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	with := deploy.Compose{Name: "rocketchat", Services: []string{"backup", "mongodb-1", "rocketchat-1"}}
	fresh := map[string]time.Time{"rocketchat-20261125T030000Z.tar": now.Add(-9 * time.Hour), "rocketchat-20261124T030000Z.tar": now.Add(-33 * time.Hour)}
	sealed := &backup.Encryption{Cipher: backup.Cipher, KDF: backup.KDF, Iter: backup.KDFIter, MAC: backup.MAC, MACSalt: "0011223344556677", Check: "00112233445566778899aabbccddeeff"}
	cases := []struct {
		name    string
		compose deploy.Compose
		backups map[string]time.Time
		// open: backups written readable by others (encrypted or not).
		open    map[string]bool
		lastRun string
		marker  string
		status  Status
		found   string
		do      string // the command it prints, as typed
	}{
		{name: "no backup service", compose: deploy.Compose{Services: []string{"mongodb-1"}}, status: Warn, found: "no backup service"},
		{name: "none yet", compose: with, status: Warn, found: "no backup yet"},
		{name: "fresh", compose: with, backups: fresh, lastRun: "1",
			status: OK, found: "2 backups, the newest 9h0m0s old (rocketchat-20261125T030000Z.tar)"},
		{name: "missed the daily one", compose: with, backups: map[string]time.Time{"rocketchat-20261124T030000Z.tar": now.Add(-33 * time.Hour)}, status: Fail, found: "the newest 33h0m0s old"},
		{name: "the last run failed", compose: with, backups: fresh, lastRun: "0\n", status: Fail, found: "the last backup run failed", do: "docker compose logs --tail 100 backup"},
		{name: "readable by others, unencrypted", compose: with, backups: fresh, open: map[string]bool{"rocketchat-20261124T030000Z.tar": false},
			status: Fail, found: "readable by others, unencrypted (they hold .env and the keyfile in plain text): rocketchat-20261124T030000Z.tar (0644)",
			do: "chmod 600 rocketchat-20261124T030000Z.tar), and encrypt backups with a passphrase (`rcgen generate --backup-passphrase-file"},
		{name: "readable by others, encrypted", compose: with, backups: fresh, open: map[string]bool{"rocketchat-20261125T030000Z.tar": true},
			status: Warn, found: "readable by others (encrypted): rocketchat-20261125T030000Z.tar (0644)", do: "chmod 600 rocketchat-20261125T030000Z.tar"},
		{name: "a restore left half done", compose: with, backups: fresh, marker: "rocketchat-20261124T030000Z.tar", status: Fail, found: "was interrupted", do: "`rcgen restore rocketchat-20261124T030000Z.tar`"},
		{name: "a restore of a renamed backup left half done", compose: with, backups: map[string]time.Time{"before the move.tar": now}, marker: "before the move.tar", status: Fail, found: "was interrupted", do: "`rcgen restore 'before the move.tar'`"},
		{name: "a restore of a backup since deleted", compose: with,
			backups: map[string]time.Time{"rocketchat-20261124T030000Z-pre-restore.tar": now.Add(-33 * time.Hour)}, marker: "rocketchat-20261120T030000Z.tar",
			status: Fail, found: "is no longer in", do: "`rcgen restore rocketchat-20261124T030000Z-pre-restore.tar` puts back the database as it was before that restore"},
		{name: "a restore of a backup since deleted, the mark to remove", compose: with, marker: "rocketchat-20261120T030000Z.tar",
			status: Fail, found: "cannot be finished", do: "remove the mark and start the app: `rm "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			backups := filepath.Join(dir, "backups")
			for n, at := range c.backups {
				m := backup.Manifest{Format: 2, Name: n, Created: at}
				if strings.Contains(n, "pre-restore") {
					m.Label = "pre-restore"
				}
				mode := os.FileMode(0o600)
				if enc, ok := c.open[n]; ok {
					mode = 0o644
					if enc {
						m.Encrypted, m.Encryption = true, sealed
					}
				}
				writeBackupAs(t, backups, n, m, mode)
			}
			os.MkdirAll(backups, 0o700)
			if c.lastRun != "" {
				os.WriteFile(filepath.Join(backups, ".last-run"), []byte(c.lastRun), 0o600)
			}
			if c.marker != "" {
				os.WriteFile(filepath.Join(backups, ".restore-in-progress"), []byte(c.marker+"\n"), 0o600)
			}
			r := checkBackups(&deploy.Deployment{Dir: dir, Compose: c.compose}, now)
			if r.Status != c.status || !strings.Contains(r.Found, c.found) || !strings.Contains(r.Do, c.do) {
				t.Errorf("checkBackups = %+v, want %v with %q and %q", r, c.status, c.found, c.do)
			}
		})
	}
}
