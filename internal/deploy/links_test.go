package deploy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/render"
)

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// stillLink fails the test unless link is still a symbolic link to target.
func stillLink(t *testing.T, what, link, target string) {
	t.Helper()
	got, err := os.Readlink(link)
	if err != nil || got != target {
		t.Errorf("%s: the link %s is gone or changed (%q, %v): rcgen removed what it did not make", what, link, got, err)
	}
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

var deploymentFiles = render.Files{
	{Path: render.ComposeFile, Mode: 0o644, Content: []byte("services: {}\n")},
	{Path: render.EnvFile, Mode: 0o600, Content: []byte("DOMAIN=chat.example.com\n")},
	{Path: "prometheus/prometheus.yml", Mode: 0o644, Content: []byte("global: {new: 1}\n")},
	{Path: "prometheus/rules/rocketchat.yml", Mode: 0o644, Content: []byte("groups: []\n")},
}

// TestDanglingOutIsNeverRemoved: --out is a link to a disk not mounted yet
// (or a directory under such a link). The run is refused, naming the link
// and saying to mount or create its target, and the link stays; even an
// Apply that gets past Open changes nothing: it neither removes the link
// nor creates anything at its target. Once the target exists, the run
// writes the deployment there, and the link stays.
func TestDanglingOutIsNeverRemoved(t *testing.T) {
	for _, below := range []string{"", "rc1"} {
		base := t.TempDir()
		target := filepath.Join(base, "mnt", "disk2")
		link := filepath.Join(base, "srv")
		symlink(t, target, link)
		out := filepath.Join(link, below)
		what := "--out " + out

		_, err := Open(out)
		var le *LinkError
		if !errors.As(err, &le) || err == nil || !strings.Contains(err.Error(), link+" is a symbolic link to "+target+", which does not exist") || !strings.Contains(err.Error(), "mount or create "+target) {
			t.Errorf("%s: Open() = %v, want a refusal naming the link", what, err)
		}
		stillLink(t, what+", refused", link, target)

		// By construction: Apply itself never writes through it.
		d := &Deployment{Dir: out, State: Missing, Env: map[string]string{}}
		changes, err := d.Changes(deploymentFiles)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Apply(changes, time.Now()); err == nil || !strings.Contains(err.Error(), "nothing in "+out+" was changed") {
			t.Errorf("%s: Apply() = %v", what, err)
		}
		stillLink(t, what+", Apply", link, target)
		if exists(filepath.Join(base, "mnt")) {
			t.Errorf("%s: Apply created the link's target", what)
		}

		// Mounted: written through, the link kept.
		if err := os.MkdirAll(target, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := Write(out, deploymentFiles); err != nil {
			t.Fatalf("%s, mounted: %v", what, err)
		}
		stillLink(t, what+", written", link, target)
		if b, err := os.ReadFile(filepath.Join(target, below, render.ComposeFile)); err != nil || string(b) != "services: {}\n" {
			t.Errorf("%s: the deployment was not written at the link's target: %q, %v", what, b, err)
		}
	}
}

// TestSymlinkedSubdirectory: the operator keeps prometheus/ on another
// disk (a link to a directory). A re-run updates rcgen's own files there
// and creates the ones it adds, keeps every other file there, and never
// touches the link; a failed run puts back what it changed there and
// removes only what it made. When the disk is not mounted (the link's
// target is missing), the run is refused naming the link, and the link
// stays, even when Apply is reached.
func TestSymlinkedSubdirectory(t *testing.T) {
	d := deployment(t, map[string]string{render.ComposeFile: "services: {}\n", render.EnvFile: "DOMAIN=chat.example.com\n"})
	disk := filepath.Join(t.TempDir(), "disk2", "prometheus")
	if err := os.MkdirAll(filepath.Join(disk, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(disk, "prometheus.yml"), []byte("global: {old: 1}\n"), 0o644)
	os.WriteFile(filepath.Join(disk, "data", "chunk"), []byte("the operator's"), 0o644)
	link := filepath.Join(d.Dir, "prometheus")
	symlink(t, disk, link)

	// A failed run: the last rename fails.
	changes, err := d.Changes(deploymentFiles)
	if err != nil {
		t.Fatal(err)
	}
	full := errors.New("no space left on device")
	restore := beforeRename
	beforeRename = func(staged, path string) error {
		if strings.HasSuffix(path, "rocketchat.yml") {
			return full
		}
		return nil
	}
	_, err = d.Apply(changes, time.Now())
	beforeRename = restore
	if !errors.Is(err, full) {
		t.Fatalf("Apply() = %v", err)
	}
	stillLink(t, "failed run", link, disk)
	if b, _ := os.ReadFile(filepath.Join(disk, "prometheus.yml")); string(b) != "global: {old: 1}\n" {
		t.Errorf("failed run: prometheus.yml behind the link holds %q, want the old one put back", b)
	}
	if exists(filepath.Join(disk, "rules")) {
		t.Error("failed run: the directory it made behind the link is left")
	}

	// A successful run.
	d, _ = Open(d.Dir)
	changes, _ = d.Changes(deploymentFiles)
	if _, err := d.Apply(changes, time.Now()); err != nil {
		t.Fatal(err)
	}
	stillLink(t, "run", link, disk)
	for p, want := range map[string]string{"prometheus.yml": "global: {new: 1}\n", "rules/rocketchat.yml": "groups: []\n", "data/chunk": "the operator's"} {
		if b, err := os.ReadFile(filepath.Join(disk, p)); err != nil || string(b) != want {
			t.Errorf("run: %s behind the link holds %q, %v; want %q", p, b, err, want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(disk, ".rcgen-staged.*")); len(left) > 0 {
		t.Errorf("run: staged copies left behind the link: %v", left)
	}

	// Monitoring off: rcgen's own files there are removed (and backed
	// up), the operator's stay, and so do the link and the directory.
	d, _ = Open(d.Dir)
	changes, _ = d.Changes(deploymentFiles[:2])
	if _, err := d.Apply(changes, time.Now()); err != nil {
		t.Fatal(err)
	}
	stillLink(t, "monitoring off", link, disk)
	if exists(filepath.Join(disk, "prometheus.yml")) || !exists(filepath.Join(disk, "data", "chunk")) {
		t.Error("monitoring off: rcgen's file is left, or the operator's is gone")
	}

	// Not mounted.
	d, _ = Open(d.Dir)
	changes, _ = d.Changes(deploymentFiles)
	unmounted := disk + ".unmounted"
	if err := os.Rename(disk, unmounted); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(d.Dir); err == nil || !strings.Contains(err.Error(), link+" is a symbolic link to "+disk+", which does not exist") {
		t.Errorf("not mounted: Open() = %v, want a refusal naming the link", err)
	}
	if _, err := d.Apply(changes, time.Now()); err == nil || !strings.Contains(err.Error(), "nothing in "+d.Dir+" was changed") {
		t.Errorf("not mounted: Apply() = %v", err)
	}
	stillLink(t, "not mounted", link, disk)
	if exists(disk) {
		t.Error("not mounted: Apply created the link's target")
	}
}

// TestLinkAtAFileIsNeverReplaced: a file rcgen writes that is a symbolic
// link (compose.yaml kept in another repository) is not renamed over,
// which would remove the link: the run is refused, naming it.
func TestLinkAtAFileIsNeverReplaced(t *testing.T) {
	d := deployment(t, map[string]string{render.EnvFile: "DOMAIN=chat.example.com\n"})
	shared := filepath.Join(t.TempDir(), "compose.yaml")
	os.WriteFile(shared, []byte("services: {shared: {}}\n"), 0o644)
	link := filepath.Join(d.Dir, render.ComposeFile)
	symlink(t, shared, link)
	changes, _ := d.Changes(deploymentFiles[:2])
	_, err := d.Apply(changes, time.Now())
	if err == nil || !strings.Contains(err.Error(), link+" is a symbolic link (to "+shared+") where rcgen writes one of its files") || !strings.Contains(err.Error(), "nothing in") {
		t.Errorf("Apply() = %v", err)
	}
	stillLink(t, "compose.yaml", link, shared)
	if b, _ := os.ReadFile(shared); string(b) != "services: {shared: {}}\n" {
		t.Errorf("the link's target was changed: %q", b)
	}
}
