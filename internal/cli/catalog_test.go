package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
)

// orgCatalog is an organisation's pinned catalog: it saw 8.9.1's image,
// says 8.0 declares MongoDB 8.0 (rcgen knows 8.2), and allows 8.9 and
// 8.5.3 only.
const orgCatalog = `version: 1
generated: 2026-11-20
sources:
  - https://releases.rocket.chat
releases:
  - line: "8.9"
    latest: 8.9.1
    image:
      image: registry.rocket.chat/rocketchat/rocket.chat:8.9.1
      seen: 2026-11-07
      where: registry.rocket.chat tag list
  - line: "8.0"
    latest: 8.0.8
    mongodb: ["8.0"]
allow:
  - "8.9"
  - 8.5.3
`

func writeCatalog(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "approved.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVersionsNamesItsCatalog: `rcgen versions` says which catalog it
// used: the compiled-in one and its age, or the file, its date, sources,
// allow list and every contradiction it kept rcgen's rule on.
func TestVersionsNamesItsCatalog(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	r := runOn(t, "kernel-7.0.14", now, "versions")
	want := "Catalog: compiled into rcgen, checked " + catalog.CheckedOn.String() + " (22 days old)"
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("exit %d, no %q in:\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	file := writeCatalog(t, t.TempDir(), orgCatalog)
	r = runOn(t, "kernel-7.0.14", now, "versions", "--catalog", file)
	for _, w := range []string{
		"Catalog: " + file + ", generated 2026-11-20 (12 days old), over rcgen's compiled-in catalog of " + catalog.CheckedOn.String() + "; sources: https://releases.rocket.chat",
		"Allowed by " + file + ": 8.9, 8.5.3",
		"Note: the catalog " + file + " says 8.0 declares MongoDB 8.0; rcgen knows 8.2 (",
		"8.9.1 (default, latest, LTS)", // the file saw its image: the newest LTS rcgen deploys under it
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("no %q in:\n%s%s", w, r.stdout, r.stderr)
		}
	}
	// 8.9.1 is deployable under the file, 8.8.1 is not allowed.
	for _, line := range strings.Split(r.stdout, "\n") {
		switch {
		case strings.HasPrefix(line, "8.9.1") && !strings.Contains(line, " yes "):
			t.Errorf("8.9.1 not deployable under the file: %s", line)
		case strings.HasPrefix(line, "8.8.1") && !strings.Contains(line, "no: not allowed by "+file):
			t.Errorf("8.8.1 not refused by the allow list: %s", line)
		}
	}
	// The run ends on the compiled-in catalog again.
	if catalog.Active().File != "" {
		t.Error("the catalog of a run leaked into the next")
	}
	r = runOn(t, "kernel-7.0.14", now, "versions", "--json")
	if !strings.Contains(r.stdout, `"generated": "`+catalog.CheckedOn.String()+`"`) || strings.Contains(r.stdout, file) {
		t.Errorf("versions --json after a --catalog run:\n%s", r.stdout)
	}
}

// TestCatalogAllowListRestrictsGenerate: a release outside the pinned
// catalog's allow list is refused, naming the catalog; one inside it is
// generated, and rcgen.yaml keeps the catalog for the re-runs.
func TestCatalogAllowListRestrictsGenerate(t *testing.T) {
	dir := t.TempDir()
	file := writeCatalog(t, dir, orgCatalog)
	r := run(t, "generate", "--yes", "--catalog", file, "--rocketchat-version", "8.8.1", "--out", filepath.Join(dir, "refused"))
	if r.code == 0 || !strings.Contains(r.stderr, "Rocket.Chat 8.8.1 is not among the releases the catalog "+file+" allows (8.9, 8.5.3)") {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	dep := filepath.Join(dir, "dep")
	r = run(t, "generate", "--yes", "--catalog", file, "--rocketchat-version", "8.9.1", "--out", dep)
	if r.code != 0 {
		t.Fatalf("8.9.1 under the catalog: exit %d:\n%s", r.code, r.stderr)
	}
	if b := read(t, filepath.Join(dep, "rcgen.yaml")); !strings.Contains(string(b), `catalog: "../approved.yaml"`) {
		t.Errorf("rcgen.yaml does not keep the catalog relative to the deployment:\n%s", b)
	}
	// A re-run reads the catalog rcgen.yaml names: 8.9.1 stays deployable.
	if r := run(t, "generate", "--yes", "--out", dep); r.code != 0 {
		t.Errorf("re-run of an 8.9.1 deployment pinned by its catalog: exit %d:\n%s", r.code, r.stderr)
	}
	// Without the file, rcgen deploys no 8.9.1.
	if r := run(t, "generate", "--yes", "--rocketchat-version", "8.9.1", "--out", filepath.Join(dir, "plain")); r.code == 0 {
		t.Error("8.9.1 generated without the catalog that saw its image")
	}
}

// TestCatalogKeyInAnswersFile: catalog: in an answers file is relative to
// the file, and its mistakes are reported by the catalog's lines.
func TestCatalogKeyInAnswersFile(t *testing.T) {
	dir := t.TempDir()
	writeCatalog(t, dir, "version: 1\ngenerated: 2026-11-20\nreleases:\n  - line: \"8.9\"\n    latest: 8.9.1\n    lts: yes\n")
	cfg := filepath.Join(dir, "answers.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\ncatalog: approved.yaml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "generate", "--yes", "--config", cfg, "--out", filepath.Join(dir, "dep"))
	want := filepath.Join(dir, "approved.yaml") + `: line 6: releases[].lts: "yes" is not true or false`
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Fatalf("exit %d, want 2 and %q:\n%s", r.code, want, r.stderr)
	}
	if !strings.Contains(r.stderr, "line 2") && !strings.Contains(r.stderr, "catalog") {
		t.Errorf("the error does not name the answers file's catalog key:\n%s", r.stderr)
	}
}

// TestUpgradeUsesTheDeploymentsCatalog: upgrade --to applies the release
// rule under the catalog the deployment's rcgen.yaml names.
func TestUpgradeUsesTheDeploymentsCatalog(t *testing.T) {
	dir := t.TempDir()
	file := writeCatalog(t, dir, orgCatalog)
	dep := filepath.Join(dir, "dep")
	if r := run(t, "generate", "--yes", "--catalog", file, "--rocketchat-version", "8.5.3", "--out", dep); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := run(t, "upgrade", "--dir", dep, "--to", "8.8.1", "--dry-run")
	if r.code == 0 || !strings.Contains(r.stderr, "not among the releases the catalog "+filepath.Join(dep, "..", "approved.yaml")) {
		t.Errorf("upgrade --to 8.8.1 outside the deployment's allow list: exit %d:\n%s", r.code, r.stderr)
	}
}

// TestDoctorUsesTheDeploymentsCatalog: doctor's release check judges by
// the catalog the deployment names: 8.9.1, whose image only the catalog
// saw, is a release rcgen deploys there.
func TestDoctorUsesTheDeploymentsCatalog(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	file := writeCatalog(t, dir, orgCatalog)
	dep := filepath.Join(dir, "dep")
	if r := runOn(t, "kernel-7.0.14", now, "generate", "--yes", "--catalog", file, "--rocketchat-version", "8.9.1", "--out", dep); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := runOn(t, "kernel-7.0.14", now, "doctor", "--dir", dep)
	if strings.Contains(r.stdout+r.stderr, "rcgen does not deploy Rocket.Chat 8.9.1") {
		t.Errorf("doctor judged 8.9.1 by the compiled-in catalog:\n%s%s", r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout+r.stderr, "8.9.1") {
		t.Errorf("doctor does not name the release:\n%s%s", r.stdout, r.stderr)
	}
}

// TestCatalogAllowListPicksTheDefault: with no release given, a catalog
// that allows only some lines gets the default from among them (the
// newest allowed LTS, else the newest allowed), recorded exactly.
func TestCatalogAllowListPicksTheDefault(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ allow, want string }{{`["8.8"]`, "8.8.1"}, {`["8.4", "8.5.2"]`, "8.5.2"}} {
		file := writeCatalog(t, dir, "version: 1\ngenerated: 2026-12-01\nsources: [\"security team\"]\nallow: "+c.allow+"\n")
		out := filepath.Join(t.TempDir(), "dep")
		r := run(t, "generate", "--yes", "--catalog", file, "--out", out)
		if r.code != 0 {
			t.Fatalf("allow %s: exit %d:\n%s", c.allow, r.code, r.stderr)
		}
		if b := read(t, filepath.Join(out, "rcgen.yaml")); !strings.Contains(string(b), `rocketchat_version: "`+c.want+`"`) {
			t.Errorf("allow %s: rcgen.yaml does not record %s:\n%s", c.allow, c.want, b)
		}
	}
}
