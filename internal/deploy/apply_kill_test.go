package deploy_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/doctor"
	"github.com/rcgen/rcgen/internal/render"
)

// A scenario is a deployment as a run finds it (nil: the directory does
// not exist yet) and the files the run writes. Removed files are the
// owned ones (render.OwnedPaths) the run no longer writes.
type scenario struct {
	old map[string]string
	new render.Files
}

var scenarios = map[string]scenario{
	// A first write: every file new, the keyfile among them (0600), in
	// directories that do not exist yet.
	"first": {nil, render.Files{
		{Path: render.ComposeFile, Mode: 0o644, Content: []byte("services: {new: {}}\n")},
		{Path: render.EnvFile, Mode: 0o600, Content: []byte("DOMAIN=new.example.com\n")},
		{Path: render.MongoKeyfile, Mode: 0o600, Content: []byte("bmV3a2V5ZmlsZW5ld2tleWZpbGU=\n")},
		{Path: "rcgen.yaml", Mode: 0o644, Content: []byte("version: 1\ndomain: new.example.com\n")},
		{Path: "prometheus/rules/rocketchat.yml", Mode: 0o644, Content: []byte("groups: []\n")},
	}},
	// A re-run: three files replaced, one added in a new directory, one
	// removed (monitoring turned off).
	"rerun": {map[string]string{
		render.ComposeFile:             "services: {old: {}}\n",
		render.EnvFile:                 "DOMAIN=old.example.com\n",
		"rcgen.yaml":                   "version: 1\ndomain: old.example.com\n",
		"prometheus/prometheus.yml":    "global: {}\n",
		"notes.txt":                    "the operator's own\n",
		render.MongoKeyfile:            "b2xka2V5ZmlsZW9sZGtleWZpbGU=\n",
		"grafana/dashboards/mine.json": "{}\n",
	}, render.Files{
		{Path: render.ComposeFile, Mode: 0o644, Content: []byte("services: {new: {}}\n")},
		{Path: render.EnvFile, Mode: 0o600, Content: []byte("DOMAIN=new.example.com\n")},
		{Path: render.MongoKeyfile, Mode: 0o600, Content: []byte("b2xka2V5ZmlsZW9sZGtleWZpbGU=\n")},
		{Path: "rcgen.yaml", Mode: 0o644, Content: []byte("version: 1\ndomain: new.example.com\n")},
		{Path: "alertmanager/alertmanager.yml", Mode: 0o644, Content: []byte("route: {}\n")},
	}},
}

func (s scenario) prepare(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rc1")
	for p, c := range s.old {
		path := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if p == render.EnvFile || p == render.MongoKeyfile {
			mode = 0o600
		}
		if err := os.WriteFile(path, []byte(c), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// apply is one run: open, compare, apply.
func apply(dir string, files render.Files) error {
	d, err := deploy.Open(dir)
	if err != nil {
		return err
	}
	changes, err := d.Changes(files)
	if err != nil {
		return err
	}
	_, err = d.Apply(changes, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	return err
}

// TestApplyKillChild is the rcgen run TestKilledApply kills: it applies a
// scenario and SIGKILLs itself after the step RCGEN_KILL_AT of the apply,
// printing the step's name first (or after the step RCGEN_KILL_STEP names).
func TestApplyKillChild(t *testing.T) {
	dir := os.Getenv("RCGEN_KILL_DIR")
	if dir == "" {
		t.Skip("run by TestKilledApply as a process it kills")
	}
	at, _ := strconv.Atoi(os.Getenv("RCGEN_KILL_AT"))
	n := 0
	defer deploy.SetAfterStep(func(step string) {
		if n++; n == at || step == os.Getenv("RCGEN_KILL_STEP") {
			fmt.Fprintln(os.Stdout, step)
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the kill is on its way
		}
	})()
	if err := apply(dir, scenarios[os.Getenv("RCGEN_KILL_SCENARIO")].new); err != nil {
		t.Fatal(err)
	}
}

// TestKilledApply kills a real rcgen process (this test binary) after
// every step of an apply in turn, for a first write and a re-run, and
// checks what a user would find:
//   - between the kill and the next run, every file is whole (its old or
//     its new version), nothing is in $TMPDIR, and rcgen doctor says
//     whether the apply was interrupted while renaming (fail) or before
//     (warn);
//   - the next run finishes the interrupted apply (or undoes one caught
//     before its renames) and says which, removes every staged copy, and
//     the deployment ends exactly as the run meant it, secrets 0600.
func TestKilledApply(t *testing.T) {
	if os.Getenv("RCGEN_KILL_DIR") != "" {
		t.Skip("in the child")
	}
	for _, name := range []string{"first", "rerun"} {
		sc := scenarios[name]
		t.Run(name, func(t *testing.T) {
			for at := 1; ; at++ {
				dir := sc.prepare(t)
				tmp := t.TempDir()
				cmd := exec.Command(os.Args[0], "-test.run=^TestApplyKillChild$", "-test.count=1")
				cmd.Env = append(os.Environ(), "RCGEN_KILL_DIR="+dir, "RCGEN_KILL_AT="+strconv.Itoa(at), "RCGEN_KILL_SCENARIO="+name, "TMPDIR="+tmp)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err == nil {
					if at < 2*len(sc.new)+3 {
						t.Fatalf("the apply ran to its end after %d steps: too few to have covered every rename", at-1)
					}
					checkFinal(t, "uninterrupted", dir, sc)
					return
				}
				ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
				if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
					t.Fatalf("kill at %d: the child did not die of SIGKILL: %v\n%s%s", at, err, out, stderr.Bytes())
				}
				step := strings.TrimSpace(string(out))
				what := fmt.Sprintf("killed after %q", step)
				t.Logf("%s", what)

				if left, _ := os.ReadDir(tmp); len(left) > 0 {
					t.Errorf("%s: $TMPDIR holds %v (a staged keyfile stays there forever)", what, names(left))
				}
				renaming := strings.HasPrefix(step, "commit") || strings.HasPrefix(step, "renamed") || strings.HasPrefix(step, "removed") || step == "synced"
				checkWhole(t, what, dir, sc, renaming || step == "done")
				in, err := deploy.Interrupted(dir)
				r, _ := doctor.Apply(dir)
				// Killed while it wrote the journal the first time: no
				// journal yet, only its staged copy, which changes nothing.
				noJournal := in == nil && step == "staged copy of "+deploy.JournalFile
				switch {
				case err != nil:
					t.Fatalf("%s: %v", what, err)
				case noJournal:
					if r.Status != doctor.OK {
						t.Errorf("%s: doctor says %s", what, r)
					}
				case step == "done":
					if in != nil || r.Status != doctor.OK {
						t.Errorf("%s: the apply was over, but doctor says %s", what, r)
					}
				case renaming:
					if in == nil || in.State != deploy.JournalRenaming || r.Status != doctor.Fail || !strings.Contains(r.Found, "interrupted while it replaced") || !strings.Contains(r.Do, "re-run rcgen generate on "+dir+", which finishes that apply first") {
						t.Errorf("%s: doctor says %s", what, r)
					}
				default:
					if in == nil || in.State != deploy.JournalStaging || r.Status != doctor.Warn {
						t.Errorf("%s: doctor says %s", what, r)
					}
				}

				// The next run.
				rec, err := deploy.Recover(dir)
				if err != nil {
					t.Fatalf("%s: the next run: %v", what, err)
				}
				msg := rec.String()
				switch {
				case step == "done":
					if msg != "" {
						t.Errorf("%s: the next run says %q", what, msg)
					}
				case renaming:
					if !rec.Forward || !strings.Contains(msg, "finished it (rolled forward") {
						t.Errorf("%s: the next run says %q, want that it finished the apply", what, msg)
					}
				case noJournal:
					if !strings.Contains(msg, "Removed what an interrupted run left in "+dir+": .rcgen-staged.") {
						t.Errorf("%s: the next run says %q", what, msg)
					}
				default:
					if !strings.Contains(msg, "before it replaced any file") {
						t.Errorf("%s: the next run says %q", what, msg)
					}
				}
				if left := staged(t, dir); len(left) > 0 {
					t.Errorf("%s: after the next run's recovery staged copies are left: %v", what, left)
				}
				if r, _ := doctor.Apply(dir); r.Status != doctor.OK {
					t.Errorf("%s: after the next run doctor says %s", what, r)
				}
				if renaming {
					checkFinal(t, what+", rolled forward", dir, sc)
				}
				if err := apply(dir, sc.new); err != nil {
					t.Fatalf("%s: the next run: %v", what, err)
				}
				checkFinal(t, what+", then the next run", dir, sc)
			}
		})
	}
}

func names(es []os.DirEntry) []string {
	var n []string
	for _, e := range es {
		n = append(n, e.Name())
	}
	return n
}

// files reads every file of the deployment but the backups, the journal and staged copies.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			if rel == deploy.BackupDir {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == deploy.JournalFile || strings.HasPrefix(e.Name(), ".rcgen-staged.") {
			return nil
		}
		b, _ := os.ReadFile(p)
		m[rel] = string(b)
		return nil
	})
	return m
}

// staged lists the staged copies anywhere in the deployment.
func staged(t *testing.T, dir string) []string {
	t.Helper()
	var s []string
	_ = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(e.Name(), ".rcgen-staged.") || err == nil && e.Name() == deploy.JournalFile {
			s = append(s, p)
		}
		return nil
	})
	return s
}

// checkWhole: every file holds its old or its new version, whole; before
// the renames, all the old ones.
func checkWhole(t *testing.T, what, dir string, sc scenario, renaming bool) {
	t.Helper()
	got := files(t, dir)
	want := map[string]string{}
	for _, f := range sc.new {
		want[f.Path] = string(f.Content)
	}
	for p, c := range got {
		old, wasOld := sc.old[p]
		switch {
		case wasOld && c == old:
		case renaming && c == want[p]:
		default:
			t.Errorf("%s: %s holds %q, neither its old version nor (after the commit) its new one", what, p, c)
		}
	}
	for p := range sc.old {
		if _, ok := got[p]; !ok && !renaming {
			t.Errorf("%s: %s was removed before the apply was committed", what, p)
		}
	}
}

// checkFinal: the deployment holds exactly the new files, the operator's
// own files, and no file rcgen dropped; secrets are 0600.
func checkFinal(t *testing.T, what, dir string, sc scenario) {
	t.Helper()
	got := files(t, dir)
	want := map[string]string{}
	for p, c := range sc.old {
		if !isOwned(p) {
			want[p] = c
		}
	}
	for _, f := range sc.new {
		want[f.Path] = string(f.Content)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: the deployment holds\n%v\nwant\n%v", what, got, want)
	}
	for _, s := range []string{render.EnvFile, render.MongoKeyfile} {
		if fi, err := os.Stat(filepath.Join(dir, s)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %s: %v, %v (want 0600)", what, s, fi.Mode(), err)
		}
	}
	if left := staged(t, dir); len(left) > 0 {
		t.Errorf("%s: left %v", what, left)
	}
}

func isOwned(p string) bool {
	for _, o := range render.OwnedPaths() {
		if o == p {
			return true
		}
	}
	return false
}

// killAfter runs a child that applies the scenario and is killed after
// the step named step; it returns the deployment directory.
func killAfter(t *testing.T, name, step string) string {
	t.Helper()
	dir := scenarios[name].prepare(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestApplyKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RCGEN_KILL_DIR="+dir, "RCGEN_KILL_STEP="+step, "RCGEN_KILL_SCENARIO="+name, "TMPDIR="+t.TempDir())
	out, err := cmd.Output()
	if err == nil || strings.TrimSpace(string(out)) != step {
		t.Fatalf("the apply was not killed after %q: %v, %q", step, err, out)
	}
	return dir
}

// TestKilledApplyWithALostNewVersionIsRolledBack: when a staged new
// version is missing or damaged after the kill (a disk that lost it), the
// next run cannot finish the apply, so it puts every file back from the
// backups, says so and why, and the deployment is as it was.
func TestKilledApplyWithALostNewVersionIsRolledBack(t *testing.T) {
	if os.Getenv("RCGEN_KILL_DIR") != "" {
		t.Skip("in the child")
	}
	sc := scenarios["rerun"]
	for _, damage := range []string{"missing", "damaged"} {
		dir := killAfter(t, "rerun", "renamed compose.yaml")
		// rcgen.yaml is renamed after compose.yaml: its new version is staged.
		found, _ := filepath.Glob(filepath.Join(dir, ".rcgen-staged.rcgen.yaml.*"))
		if len(found) != 1 {
			t.Fatalf("the staged rcgen.yaml: %v", found)
		}
		if damage == "missing" {
			os.Remove(found[0])
		} else {
			os.WriteFile(found[0], []byte("version: 1\ndom"), 0o644)
		}
		rec, err := deploy.Recover(dir)
		if err != nil {
			t.Fatalf("%s: %v", damage, err)
		}
		if msg := rec.String(); !rec.Back || !strings.Contains(msg, "the new version of rcgen.yaml is "+damage) || !strings.Contains(msg, "rolled it back") {
			t.Errorf("%s: the next run says %q", damage, msg)
		}
		got := files(t, dir)
		if fmt.Sprint(got) != fmt.Sprint(sc.old) {
			t.Errorf("%s: after the roll back the deployment holds\n%v\nwant the old\n%v", damage, got, sc.old)
		}
		if fi, err := os.Stat(filepath.Join(dir, render.EnvFile)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: .env put back as %v, %v", damage, fi.Mode(), err)
		}
		if left := staged(t, dir); len(left) > 0 {
			t.Errorf("%s: left %v", damage, left)
		}
		if r, _ := doctor.Apply(dir); r.Status != doctor.OK {
			t.Errorf("%s: doctor says %s", damage, r)
		}
		if _, err := os.Stat(filepath.Join(dir, "alertmanager")); err == nil {
			t.Errorf("%s: the directory the rolled back apply made is left", damage)
		}
	}
}
