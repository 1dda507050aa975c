package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/deploy"
)

// TestApplyCheck: no directory, no check; a deployment with no journal is
// ok; a journal that cannot be read fails, saying what to do by hand.
// (Journals real kills leave are checked in deploy's TestKilledApply.)
func TestApplyCheck(t *testing.T) {
	if _, ok := Apply(filepath.Join(t.TempDir(), "missing")); ok {
		t.Error("a check for a directory that does not exist")
	}
	dir := t.TempDir()
	if r, ok := Apply(dir); !ok || r.Status != OK || r.Found != "no apply was interrupted" {
		t.Errorf("no journal: %s", r)
	}
	os.WriteFile(filepath.Join(dir, deploy.JournalFile), []byte(`{"vers`), 0o600)
	r, _ := Apply(dir)
	if r.Status != Fail || !strings.Contains(r.Found, "its journal cannot be read") || !strings.Contains(r.Do, "then remove "+filepath.Join(dir, deploy.JournalFile)) {
		t.Errorf("a damaged journal: %s", r)
	}
}
