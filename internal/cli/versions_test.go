package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/rcgen/rcgen/internal/catalog"
)

// TestOneReleaseRule: for every release row of the catalog, its newest
// patch and the patch after it, generate (flag and answers file), upgrade
// --to, `rcgen versions` and doctor agree on whether rcgen deploys it, and
// refuse it in the same words.
func TestOneReleaseRule(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	// The deployment upgrade and doctor look at: the oldest release rcgen
	// deploys, so every other is an upgrade.
	dep := filepath.Join(dir, "dep")
	if r := runOn(t, "kernel-7.0.14", now, "generate", "--yes", "--cpus", "4", "--memory", "8GiB", "--rocketchat-version", "7.0.9", "--out", dep); r.code != 0 {
		t.Fatal(r.stderr)
	}
	answers := read(t, filepath.Join(dep, "rcgen.yaml"))
	versionLine := regexp.MustCompile(`(?m)^rocketchat_version: .*$`)
	if !versionLine.Match(answers) {
		t.Fatalf("rcgen.yaml holds no rocketchat_version:\n%s", answers)
	}
	f := &fakeStack{dir: dep}
	upgradeTo := func(to string) result {
		var stdout, stderr bytes.Buffer
		env := Env{IO: IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr}, Getenv: func(string) string { return "" }, Docker: f.run}
		code := Run(context.Background(), env, []string{"upgrade", "--dir", dep, "--to", to, "--dry-run"})
		return result{code, stdout.String(), stderr.String()}
	}

	r := runOn(t, "kernel-7.0.14", now, "versions", "--json")
	var listed struct {
		Releases []struct {
			Latest     string
			Deployable bool
			WhyNot     string `json:"why_not"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil {
		t.Fatal(err)
	}
	deploys := map[string]bool{}
	for _, rel := range listed.Releases {
		deploys[rel.Latest] = rel.Deployable
	}
	table := runOn(t, "kernel-7.0.14", now, "versions").stdout

	cfg := filepath.Join(dir, "answers.yaml")
	for _, rel := range catalog.Releases() {
		for _, v := range []string{rel.Latest, semver.MustParse(rel.Latest).IncPatch().String()} {
			gen := runOn(t, "kernel-7.0.14", now, "generate", "--dry-run", "--yes", "--cpus", "4", "--memory", "8GiB", "--rocketchat-version", v, "--out", filepath.Join(dir, "new"))
			accepted := gen.code == 0
			if !accepted && gen.code != 2 {
				t.Errorf("generate --rocketchat-version %s: exit %d: %s", v, gen.code, gen.stderr)
				continue
			}
			reason := ""
			if !accepted {
				m := regexp.MustCompile(`(?m)^(?:Error: )?--rocketchat-version: (.*)$`).FindStringSubmatch(gen.stderr)
				if m == nil {
					t.Errorf("generate refuses %s without naming --rocketchat-version: %s", v, gen.stderr)
					continue
				}
				reason = m[1]
				if !strings.Contains(reason, ": rcgen deploys the lines ") || !strings.Contains(reason, "(the default is "+catalog.DefaultRocketChatVersion()+")") {
					t.Errorf("the refusal of %s does not list what rcgen deploys: %s", v, reason)
				}
			}

			// The same answer in an answers file: the same verdict, named by its line.
			if err := os.WriteFile(cfg, []byte("version: 1\ndomain: localhost\nrocketchat_version: \""+v+"\"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			file := runOn(t, "kernel-7.0.14", now, "generate", "--dry-run", "--yes", "--cpus", "4", "--memory", "8GiB", "--config", cfg, "--out", filepath.Join(dir, "new"))
			if accepted && file.code != 0 || !accepted && !strings.Contains(file.stderr, cfg+": line 3: rocketchat_version: "+reason) {
				t.Errorf("rocketchat_version %s in an answers file: exit %d, %s; the flag: exit %d", v, file.code, file.stderr, gen.code)
			}

			asked := len(f.log)
			up := upgradeTo(v)
			if accepted && up.code != 0 || !accepted && !strings.Contains(up.stderr, "--to "+v+": "+reason+"\n") {
				t.Errorf("upgrade --to %s: exit %d: %s\ngenerate: exit %d %s", v, up.code, up.stderr, gen.code, reason)
			}
			if !accepted && len(f.log) != asked {
				t.Errorf("upgrade --to %s, refused, asked Docker %q", v, f.log[asked:])
			}

			if v == rel.Latest {
				if deploys[v] != accepted {
					t.Errorf("versions --json says %s deployable %v; generate accepts it: %v", v, deploys[v], accepted)
				}
				row := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(v) + ` .*$`).FindString(table)
				if want := "  yes  "; accepted && !strings.Contains(row, want) || !accepted && !strings.Contains(row, "  no: ") {
					t.Errorf("versions row of %s (deployed: %v): %q", v, accepted, row)
				}
			}

			if err := os.WriteFile(filepath.Join(dep, "rcgen.yaml"), versionLine.ReplaceAll(answers, []byte(`rocketchat_version: "`+v+`"`)), 0o600); err != nil {
				t.Fatal(err)
			}
			doc := runOn(t, "kernel-7.0.14", now, "doctor", "--out", dep)
			check := regexp.MustCompile(`(?m)^(ok|warn|fail) +release: (.*)$`).FindStringSubmatch(doc.stdout)
			switch {
			case check == nil:
				t.Errorf("doctor with %s: no release check:\n%s", v, doc.stdout)
			case accepted && !strings.HasPrefix(check[2], "Rocket.Chat "+v+", supported to "):
				t.Errorf("doctor with %s, which rcgen deploys: %s", v, check[0])
			case !accepted && (check[1] != "warn" || !strings.HasPrefix(check[2], reason) || strings.Contains(check[2], "supported to")):
				t.Errorf("doctor with %s, which rcgen refuses with %q: %s", v, reason, check[0])
			}
		}
	}
}

// TestVersionsRecommendsOnlyWhatItDeploys: the LTS line `rcgen versions`
// names is one generate accepts, and the LTS line rcgen does not deploy
// says why on its row.
func TestVersionsRecommendsOnlyWhatItDeploys(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	r := runOn(t, "kernel-7.0.14", now, "versions")
	m := regexp.MustCompile(`rcgen generate --rocketchat-version (\S+)`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("versions recommends nothing:\n%s", r.stdout)
	}
	if m[1] != "8.5.3" {
		t.Errorf("versions recommends %s, want 8.5.3 (8.9 is LTS, but its image is not confirmed)", m[1])
	}
	out := filepath.Join(t.TempDir(), "d")
	if g := runOn(t, "kernel-7.0.14", now, "generate", "--dry-run", "--yes", "--rocketchat-version", m[1], "--out", out); g.code != 0 {
		t.Errorf("versions recommends %s, which generate refuses: %s", m[1], g.stderr)
	}
	if !regexp.MustCompile(`(?m)^8\.9\.1 \(LTS\) .* no: image not confirmed `).MatchString(r.stdout) {
		t.Errorf("the 8.9 row does not say rcgen does not deploy it:\n%s", r.stdout)
	}
}
