package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestForgedJournalTouchesNothing: a journal that names files rcgen does
// not own, paths out of the deployment, or a backup folder elsewhere is
// refused before anything is renamed or removed, and the error says what
// to do.
func TestForgedJournalTouchesNothing(t *testing.T) {
	for name, j := range map[string]string{
		"not owned":     `{"version": 1, "state": "renaming", "files": [{"path": "notes.txt", "remove": true}]}`,
		"out of it":     `{"version": 1, "state": "renaming", "files": [{"path": "../outside.txt", "remove": true}]}`,
		"staged afar":   `{"version": 1, "state": "renaming", "files": [{"path": "compose.yaml", "staged": "../notes.txt", "sha256": "00"}]}`,
		"backup afar":   `{"version": 1, "state": "renaming", "backup": "..", "files": [{"path": "compose.yaml", "remove": true}]}`,
		"dir not above": `{"version": 1, "state": "staging", "dirs": ["mine"], "files": [{"path": "compose.yaml", "remove": true}]}`,
		"garbage":       `{"vers`,
	} {
		parent := t.TempDir()
		dir := filepath.Join(parent, "rc1")
		os.Mkdir(dir, 0o755)
		os.Mkdir(filepath.Join(dir, "mine"), 0o755)
		for _, f := range []string{filepath.Join(dir, "notes.txt"), filepath.Join(parent, "outside.txt"), filepath.Join(dir, "compose.yaml")} {
			os.WriteFile(f, []byte("keep\n"), 0o644)
		}
		os.WriteFile(filepath.Join(dir, JournalFile), []byte(j), 0o600)
		_, err := Recover(dir)
		if err == nil || !strings.Contains(err.Error(), "compare the files with their copies in "+BackupDir+"/ by hand, then remove "+filepath.Join(dir, JournalFile)) {
			t.Errorf("%s: Recover() = %v", name, err)
		}
		for _, f := range []string{filepath.Join(dir, "notes.txt"), filepath.Join(parent, "outside.txt"), filepath.Join(dir, "compose.yaml"), filepath.Join(dir, "mine")} {
			if !exists(f) {
				t.Errorf("%s: %s was removed", name, f)
			}
		}
		if in, err := Interrupted(dir); in == nil || err == nil {
			t.Errorf("%s: Interrupted() = %v, %v; want the journal reported as unreadable", name, in, err)
		}
	}
}
