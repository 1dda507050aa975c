package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDirAndOutEverywhere: every command that takes a deployment's
// directory takes it as --out or --dir (both in its help), names the flag
// as it was given, and refuses two different directories with exit 2.
func TestDirAndOutEverywhere(t *testing.T) {
	dir := t.TempDir()
	dep := filepath.Join(dir, "dep")
	if r := run(t, "generate", "--yes", "--dir", dep); r.code != 0 {
		t.Fatalf("generate --dir: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dep, "compose.yaml")); err != nil {
		t.Fatalf("generate --dir wrote nothing there: %v", err)
	}
	if r := run(t, "backup", "list", "--out", dep); r.code != 0 || !strings.Contains(r.stdout, "No backups yet in "+filepath.Join(dep, "backups")) {
		t.Errorf("backup list --out: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	// The same directory spelled twice is one directory.
	if r := run(t, "generate", "--yes", "--out", dep, "--dir", dep+"/"); r.code != 0 {
		t.Errorf("--out and --dir naming the same directory: exit %d: %s", r.code, r.stderr)
	}
	nowhere := filepath.Join(dir, "nowhere")
	for _, cmd := range [][]string{
		{"generate", "--yes"}, {"doctor"}, {"upgrade", "--to", "8.8.1", "--dry-run"},
		{"backup"}, {"backup", "list"}, {"restore", "x.tar", "--yes"}, {"up"}, {"status"},
	} {
		name := strings.Join(cmd, " ")
		help := run(t, append(cmd[:len(cmd):len(cmd)], "--help")...).stdout
		if !strings.Contains(help, "-o, --out string") || !strings.Contains(help, "-C, --dir string") {
			t.Errorf("%s --help lacks --out or --dir:\n%s", name, help)
		}
		r := run(t, append(cmd[:len(cmd):len(cmd)], "--out", dep, "--dir", nowhere)...)
		if r.code != 2 || !strings.Contains(r.stderr, "--out "+dep+" and --dir "+nowhere+" name two directories") {
			t.Errorf("%s --out A --dir B: exit %d: %s", name, r.code, r.stderr)
		}
		if _, err := os.Stat(nowhere); err == nil {
			t.Fatalf("%s created the refused directory", name)
		}
	}
	// An error names the flag as it was typed.
	for _, flag := range []string{"--out", "--dir"} {
		r := run(t, "upgrade", flag, nowhere, "--to", "8.8.1", "--dry-run")
		if r.code != 2 || !strings.Contains(r.stderr, "Error: "+flag+": "+nowhere+" holds no deployment rcgen wrote") {
			t.Errorf("upgrade %s: exit %d: %s", flag, r.code, r.stderr)
		}
	}
}

// TestNoBackupsSaysWhereAndHow: an empty backup list names the directory
// by its path and says how to get a backup.
func TestNoBackupsSaysWhereAndHow(t *testing.T) {
	dep := filepath.Join(t.TempDir(), "dep")
	if r := run(t, "generate", "--yes", "--out", dep); r.code != 0 {
		t.Fatal(r.stderr)
	}
	t.Chdir(dep)
	r := run(t, "backup", "list")
	want := "No backups yet in " + filepath.Join(dep, "backups") + ": take one now with rcgen backup (the stack must be running)"
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("exit %d: stdout %q, want %q", r.code, r.stdout, want)
	}
	r = run(t, "backup", "list", "-C", dep)
	if want := "take one now with rcgen backup --dir " + dep + " "; !strings.Contains(r.stdout, want) {
		t.Errorf("-C: stdout %q, want %q", r.stdout, want)
	}
	none := filepath.Join(t.TempDir(), "none")
	if r := run(t, "generate", "--yes", "--no-backup", "--out", none); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r = run(t, "backup", "list", "--out", none)
	if !strings.Contains(r.stdout, "No backups in "+filepath.Join(none, "backups")+": this deployment has no backup service") {
		t.Errorf("no backup service: %q", r.stdout)
	}
}
