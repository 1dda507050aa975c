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
	m, _ := json.Marshal(backup.Manifest{Format: 1, Name: name, Created: created, RocketChatVersion: "8.8.1", MongoDBVersion: "8.0.32-ubi9",
		Files: []backup.File{{Name: "mongodb.archive.gz"}}})
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o600, Size: int64(len(m))})
	tw.Write(m)
	tw.WriteHeader(&tar.Header{Name: "mongodb.archive.gz", Mode: 0o600})
	tw.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCheckBackups(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	with := deploy.Compose{Name: "rocketchat", Services: []string{"backup", "mongodb-1", "rocketchat-1"}}
	cases := []struct {
		name    string
		compose deploy.Compose
		backups map[string]time.Time
		marker  string
		status  Status
		found   string
		do      string // the command it prints, as typed
	}{
		{name: "no backup service", compose: deploy.Compose{Services: []string{"mongodb-1"}}, status: Warn, found: "no backup service"},
		{name: "none yet", compose: with, status: Warn, found: "no backup yet"},
		{name: "fresh", compose: with, backups: map[string]time.Time{"rocketchat-20261125T030000Z.tar": now.Add(-9 * time.Hour), "rocketchat-20261124T030000Z.tar": now.Add(-33 * time.Hour)},
			status: OK, found: "2 backups, the newest 9h0m0s old (rocketchat-20261125T030000Z.tar)"},
		{name: "missed the daily one", compose: with, backups: map[string]time.Time{"rocketchat-20261124T030000Z.tar": now.Add(-33 * time.Hour)}, status: Fail, found: "the newest 33h0m0s old"},
		{name: "a restore left half done", compose: with, marker: "rocketchat-20261124T030000Z.tar", status: Fail, found: "was interrupted", do: "`rcgen restore rocketchat-20261124T030000Z.tar`"},
		{name: "a restore of a renamed backup left half done", compose: with, marker: "before the move.tar", status: Fail, found: "was interrupted", do: "`rcgen restore 'before the move.tar'`"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, at := range c.backups {
				writeBackup(t, filepath.Join(dir, "backups"), n, at)
			}
			if c.marker != "" {
				os.MkdirAll(filepath.Join(dir, "backups"), 0o700)
				os.WriteFile(filepath.Join(dir, "backups", ".restore-in-progress"), []byte(c.marker+"\n"), 0o600)
			}
			r := checkBackups(&deploy.Deployment{Dir: dir, Compose: c.compose}, now)
			if r.Status != c.status || !strings.Contains(r.Found, c.found) || !strings.Contains(r.Do, c.do) {
				t.Errorf("checkBackups = %+v, want %v with %q and %q", r, c.status, c.found, c.do)
			}
		})
	}
}
