package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
)

// TestDefaultReleaseIsTheNewestSeenLTS: with no release given, a new
// deployment gets the newest patch of the newest LTS line whose image
// rcgen has seen (8.5.3: 8.9's image is unconfirmed), and rcgen plan says
// why.
func TestDefaultReleaseIsTheNewestSeenLTS(t *testing.T) {
	r := run(t, "plan", "--cpus", "4", "--memory", "8GiB")
	v, why := planRow(t, r.stdout, "Rocket.Chat release")
	if r.code != 0 || v != "8.5.3" || !strings.HasPrefix(why, "rcgen's default release: the newest patch of the newest LTS line whose image rcgen has seen (8.5; 8.9 LTS is listed, its image not confirmed yet); LTS, supported to 2027-06-30") {
		t.Errorf("plan: exit %d, release %s because %q", r.code, v, why)
	}
}

// TestReleaseWords: latest and lts are taken wherever a release is given
// (--rocketchat-version, the answers file, upgrade --to), resolved when
// read, and rcgen.yaml records the exact release: a re-run deploys what
// runs; giving the word again is a request, which a re-run takes one step
// of rcgen upgrade's way at a time.
func TestReleaseWords(t *testing.T) {
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.yaml")
	if err := os.WriteFile(answers, []byte("version: 1\nrocketchat_version: lts\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, "plan", "--cpus", "4", "--memory", "8GiB", "--config", answers)
	if v, why := planRow(t, r.stdout, "Rocket.Chat release"); v != "8.5.3" || !strings.HasPrefix(why, "rocketchat_version from "+answers+", line 2 (lts, the newest patch of the newest LTS line rcgen deploys)") {
		t.Errorf("answers file lts: %s because %q (%s)", v, why, r.stderr)
	}
	if err := os.WriteFile(answers, []byte("version: 1\nrocketchat_version: Latest\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, "plan", "--cpus", "4", "--memory", "8GiB", "--config", answers, "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"rocketchat_version": "8.8.1"`) || !strings.Contains(r.stdout, "line 2 (latest, the newest release rcgen deploys)") {
		t.Errorf("answers file latest: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}

	// 7.12.7 on MongoDB 7.0; `latest` (8.8.1) is more than one step away.
	out := filepath.Join(dir, "d")
	if r := run(t, "generate", "--yes", "--cpus", "4", "--memory", "8GiB", "--rocketchat-version", "7.12.7", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r = run(t, "generate", "--yes", "--out", out, "--rocketchat-version", "LATEST")
	if r.code != 2 || !strings.Contains(r.stderr, "Rocket.Chat 8.8.1 is") || !strings.Contains(r.stderr, "`rcgen upgrade --to 8.8.1`") {
		t.Errorf("latest more than one step away: exit %d: %s", r.code, r.stderr)
	}
	if got := string(read(t, filepath.Join(out, spec.FileName))); !strings.Contains(got, "rocketchat_version: \"7.12.7\"") {
		t.Errorf("a refused latest changed rcgen.yaml:\n%s", got)
	}

	// A deployment made with latest records 8.8.1, not the word.
	out = filepath.Join(dir, "e")
	if r := run(t, "generate", "--yes", "--cpus", "4", "--memory", "8GiB", "--rocketchat-version", "latest", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	yaml := string(read(t, filepath.Join(out, spec.FileName)))
	if !strings.Contains(yaml, "rocketchat_version: \"8.8.1\"\n") || strings.Contains(yaml, "latest") {
		t.Errorf("rcgen.yaml does not record the exact release:\n%s", yaml)
	}
	if env := envOf(t, read(t, filepath.Join(out, render.EnvFile))); env[render.EnvRocketChatVersion] != "8.8.1" {
		t.Errorf(".env runs %s", env[render.EnvRocketChatVersion])
	}
	// A re-run without a release keeps it.
	if r := run(t, "generate", "--yes", "--out", out); r.code != 0 || !strings.Contains(r.stdout, "Nothing to change") {
		t.Errorf("re-run: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}

	// lts on a deployment running a newer line is lower: refused, as any
	// lower release is (Rocket.Chat never migrates its database back).
	r = run(t, "generate", "--yes", "--out", out, "--rocketchat-version", "lts")
	if r.code != 2 || !strings.Contains(r.stderr, "8.5.3") || !strings.Contains(r.stderr, "--rocketchat-version") {
		t.Errorf("lts below what runs: exit %d: %s", r.code, r.stderr)
	}

	// upgrade --to takes the words too, and names the release after.
	var stdout, stderr bytes.Buffer
	f := &fakeStack{dir: out}
	env := Env{IO: IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr}, Getenv: func(string) string { return "" }, Docker: f.run}
	if code := Run(context.Background(), env, []string{"upgrade", "--dir", out, "--to", "latest", "--dry-run"}); code != 0 ||
		!strings.Contains(stderr.String(), "Note: --to latest: Rocket.Chat 8.8.1, the newest release rcgen deploys.") {
		t.Errorf("upgrade --to latest: exit %d: %s%s", code, stdout.String(), stderr.String())
	}
}
