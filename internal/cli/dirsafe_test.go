package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
)

// The hostile table's deployment directory cases (class dir-*): each
// prepare makes what the run finds, each after checks what it left.

// links records, per --out, the link a case made and its target.
var links = map[string][2]string{}

func mklink(t *testing.T, out, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	links[out] = [2]string{link, target}
}

// danglingOut: --out is a link to a disk not mounted yet.
func danglingOut(t *testing.T, out string) []string {
	mklink(t, out, filepath.Join(t.TempDir(), "mnt", "disk2"), out)
	return nil
}

// underDanglingOut: --out is a directory under such a link.
func underDanglingOut(t *testing.T, out string) []string {
	danglingOut(t, out)
	return []string{"--out", filepath.Join(out, "rc1")}
}

// generated writes a deployment into out.
func generated(t *testing.T, out string) {
	t.Helper()
	if r := run(t, "generate", "--yes", "--out", out); r.code != 0 {
		t.Fatalf("generate: %s", r.stderr)
	}
}

// moveToDisk moves the deployment's prometheus/ to another disk and
// links it back; it returns where it is.
func moveToDisk(t *testing.T, out string) string {
	t.Helper()
	generated(t, out)
	disk := filepath.Join(t.TempDir(), "disk2", "prometheus")
	if err := os.MkdirAll(filepath.Dir(disk), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(out, "prometheus"), disk); err != nil {
		t.Fatal(err)
	}
	mklink(t, out, disk, filepath.Join(out, "prometheus"))
	return disk
}

// prometheusUnmounted: prometheus/ is a link to a disk not mounted now.
func prometheusUnmounted(t *testing.T, out string) []string {
	disk := moveToDisk(t, out)
	if err := os.Rename(disk, disk+".unmounted"); err != nil {
		t.Fatal(err)
	}
	return nil
}

// prometheusOnAnotherDisk: prometheus/ is a link to a directory on
// another disk, where rcgen's prometheus.yml was edited by hand and the
// operator keeps a file of their own.
func prometheusOnAnotherDisk(t *testing.T, out string) []string {
	disk := moveToDisk(t, out)
	f, err := os.OpenFile(filepath.Join(disk, "prometheus.yml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "# edited by hand")
	f.Close()
	if err := os.WriteFile(filepath.Join(disk, "notes.txt"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return nil
}

// composeIsALink: compose.yaml is a link to a file kept elsewhere, which
// differs from what rcgen writes (replacing it would remove the link).
func composeIsALink(t *testing.T, out string) []string {
	generated(t, out)
	shared := filepath.Join(t.TempDir(), "compose.yaml")
	b := read(t, filepath.Join(out, render.ComposeFile))
	if err := os.WriteFile(shared, append(b, "# kept in another repository\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(out, render.ComposeFile))
	mklink(t, out, shared, filepath.Join(out, render.ComposeFile))
	return nil
}

// linkKept: the run said why (says) and left the link as it was, and
// created nothing at its target.
func linkKept(says string) func(t *testing.T, out string, r result) {
	return func(t *testing.T, out string, r result) {
		t.Helper()
		l := links[out]
		if got, err := os.Readlink(l[0]); err != nil || got != l[1] {
			t.Errorf("the link %s is gone or changed (%q, %v): rcgen removed what it did not make", l[0], got, err)
		}
		if !strings.Contains(r.stderr, l[0]+" is a symbolic link") || !strings.Contains(r.stderr, says) {
			t.Errorf("the refusal does not name the link %s and say %q:\n%s", l[0], says, r.stderr)
		}
		if strings.Contains(r.stderr, "mount or create") {
			if _, err := os.Lstat(l[1]); err == nil {
				t.Errorf("the link's missing target %s was created", l[1])
			}
		}
	}
}

func prometheusUpdatedThroughLink(t *testing.T, out string, r result) {
	t.Helper()
	l := links[out]
	if got, err := os.Readlink(l[0]); err != nil || got != l[1] {
		t.Errorf("the link %s is gone or changed (%q, %v)", l[0], got, err)
	}
	if b := read(t, filepath.Join(l[1], "prometheus.yml")); strings.Contains(string(b), "edited by hand") {
		t.Error("prometheus.yml behind the link was not updated")
	}
	if b := read(t, filepath.Join(l[1], "notes.txt")); string(b) != "mine\n" {
		t.Errorf("the operator's file behind the link holds %q", b)
	}
	if !strings.Contains(r.stdout, "Wrote 1 file") {
		t.Errorf("the run did not say it wrote the file:\n%s", r.stdout)
	}
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// interruptedWhileRenaming leaves out as a run killed during its renames
// does, by the journal's on-disk format (a newer rcgen must finish what
// an older one left): compose.yaml's new version is staged, not renamed.
func interruptedWhileRenaming(t *testing.T, out string) []string {
	generated(t, out)
	newer := append(read(t, filepath.Join(out, render.ComposeFile)), "# the interrupted run's version\n"...)
	staged := ".rcgen-staged.compose.yaml.0123456789abcdef"
	if err := os.WriteFile(filepath.Join(out, staged), newer, 0o644); err != nil {
		t.Fatal(err)
	}
	j := fmt.Sprintf(`{"version": 1, "state": "renaming", "backup": "rcgen-backups/x", "files": [{"path": "compose.yaml", "staged": %q, "sha256": %q}]}`, staged, sha(newer))
	if err := os.WriteFile(filepath.Join(out, deploy.JournalFile), []byte(j), 0o600); err != nil {
		t.Fatal(err)
	}
	return nil
}

func finishedInterruptedApply(t *testing.T, out string, r result) {
	t.Helper()
	if !strings.Contains(r.stderr, "Warning: An earlier rcgen run was interrupted while it replaced the files of "+out) || !strings.Contains(r.stderr, "finished it (rolled forward, its new versions were complete): compose.yaml") {
		t.Errorf("the run does not say it finished the interrupted apply:\n%s", r.stderr)
	}
	noLeftovers(t, out)
}

// killedFirstWrite leaves out as a first write killed while staging
// does: the journal, the keyfile's staged copy (0600) in a directory it
// made, and the staged copy of a journal being rewritten.
func killedFirstWrite(t *testing.T, out string) []string {
	if err := os.MkdirAll(filepath.Join(out, "secrets"), 0o755); err != nil {
		t.Fatal(err)
	}
	key := "secrets/.rcgen-staged.mongodb.keyfile.0123456789abcdef"
	os.WriteFile(filepath.Join(out, filepath.FromSlash(key)), []byte("c2VjcmV0c2VjcmV0c2VjcmV0"), 0o600)
	os.WriteFile(filepath.Join(out, ".rcgen-staged..rcgen-apply.json.fedcba9876543210"), []byte(`{"vers`), 0o600)
	j := fmt.Sprintf(`{"version": 1, "state": "staging", "dirs": ["secrets"], "files": [{"path": "secrets/mongodb.keyfile", "added": true, "staged": %q, "sha256": "00"}]}`, key)
	if err := os.WriteFile(filepath.Join(out, deploy.JournalFile), []byte(j), 0o600); err != nil {
		t.Fatal(err)
	}
	return nil
}

func removedStagedLeftovers(t *testing.T, out string, r result) {
	t.Helper()
	if !strings.Contains(r.stderr, "before it replaced any file of "+out) || !strings.Contains(r.stderr, "Removed what an interrupted run left in "+out+": .rcgen-staged..rcgen-apply.json.fedcba9876543210, secrets/.rcgen-staged.mongodb.keyfile.0123456789abcdef, secrets/.") {
		t.Errorf("the run does not say what it removed:\n%s", r.stderr)
	}
	noLeftovers(t, out)
}

// noLeftovers: no journal, no staged copy anywhere in out.
func noLeftovers(t *testing.T, out string) {
	t.Helper()
	_ = filepath.WalkDir(out, func(p string, e fs.DirEntry, err error) error {
		if err == nil && (strings.HasPrefix(e.Name(), ".rcgen-staged.") || e.Name() == deploy.JournalFile) {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

// siblingLocked: another run holds the lock of a sibling deployment
// (existing, or being made): this run goes on at once.
func siblingLocked(exists bool) func(t *testing.T, out string) []string {
	return func(t *testing.T, out string) []string {
		t.Helper()
		sibling := filepath.Join(filepath.Dir(out), "sibling")
		if exists {
			if err := os.Mkdir(sibling, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		unlock, err := deploy.Lock(sibling)
		if err != nil {
			t.Fatal(err)
		}
		w := deploy.LockWait
		deploy.LockWait = 50 * time.Millisecond
		t.Cleanup(func() { unlock(); deploy.LockWait = w })
		return nil
	}
}

// TestDoctorReportsAnInterruptedApply: between a kill during the renames
// and the next run, doctor fails the deployment and says what to run;
// generate finishes the apply and says so; then doctor is content. A
// day-two command (backup) finishes it as well, before anything else.
func TestDoctorReportsAnInterruptedApply(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	out := filepath.Join(t.TempDir(), "d")
	interruptedWhileRenaming(t, out)
	r := runOn(t, "kernel-7.0.14", now, "doctor", "--out", out)
	if r.code != 1 || !strings.Contains(r.stdout, "fail apply: an apply was interrupted while it replaced the files (a kill or a power cut): compose.yaml may be new or old") ||
		!strings.Contains(r.stdout, "re-run rcgen generate on "+out+", which finishes that apply first") || !strings.Contains(r.stderr, "apply") {
		t.Errorf("doctor on an interrupted apply: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, "generate", "--yes", "--out", out); r.code != 0 {
		t.Fatalf("the next run: %s", r.stderr)
	} else {
		finishedInterruptedApply(t, out, r)
	}
	if r := runOn(t, "kernel-7.0.14", now, "doctor", "--out", out); !strings.Contains(r.stdout, "ok   apply: no apply was interrupted") {
		t.Errorf("doctor after the next run:\n%s", r.stdout)
	}

	out2 := filepath.Join(t.TempDir(), "d")
	interruptedWhileRenaming(t, out2)
	r = runEnv(func(env *Env) {
		env.Docker = func(ctx context.Context, dir string, args ...string) ([]byte, error) {
			return nil, fmt.Errorf("no docker in this test")
		}
	}, "backup", "--dir", out2)
	if !strings.Contains(r.stderr, "finished it (rolled forward, its new versions were complete): compose.yaml") {
		t.Errorf("rcgen backup did not finish the interrupted apply first:\n%s", r.stderr)
	}
	noLeftovers(t, out2)
}
