package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/doctor"
	"github.com/rcgen/rcgen/internal/spec"
)

// runOn runs rcgen on a host fixture of the doctor package, on day now.
func runOn(t *testing.T, host string, now time.Time, args ...string) result {
	t.Helper()
	return runEnv(func(env *Env) {
		env.Now = func() time.Time { return now }
		env.System = func() doctor.System {
			return doctor.System{Root: filepath.Join("..", "doctor", "testdata", "hosts", host)}
		}
	}, args...)
}

// TestGenerateChecksThisHost: sizing the machine it runs on, generate
// refuses a CPU MongoDB cannot run on, unless --force names the check;
// sizing another host (--cpus and --memory) it checks nothing of this one.
func TestGenerateChecksThisHost(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	out := filepath.Join(t.TempDir(), "d")
	r := runOn(t, "atom-c2538", now, "generate", "--yes", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, "this host: cpu: Intel(R) Atom(TM) CPU  C2538  @ 2.40GHz has no AVX") || !strings.Contains(r.stderr, "--force=cpu") {
		t.Errorf("no AVX: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused host still got a deployment")
	}
	if r := runOn(t, "atom-c2538", now, "generate", "--yes", "--force=cpu", "--out", out); r.code != 0 {
		t.Errorf("--force=cpu: exit %d: %s", r.code, r.stderr)
	}
	if r := runOn(t, "atom-c2538", now, "generate", "--yes", "--cpus", "8", "--memory", "16GiB", "--out", filepath.Join(t.TempDir(), "e")); r.code != 0 {
		t.Errorf("another host's figures: exit %d: %s", r.code, r.stderr)
	}
	r = runOn(t, "ubuntu-2604", now, "generate", "--yes", "--out", filepath.Join(t.TempDir(), "f"))
	if r.code != 0 || !strings.Contains(r.stderr, "Warning: this host: kernel: 7.0.0-15-generic") {
		t.Errorf("an affected kernel: exit %d: %s", r.code, r.stderr)
	}
}

// TestSupportWarnings: plan, re-runs and doctor warn from 30 days before a
// release's end of support (the date by Rocket.Chat's rule: 8.4.0 in April
// 2026, so to 2026-10-31), on the day given, with the way on: the newest
// release one step away (the files do not change with the day).
func TestSupportWarnings(t *testing.T) {
	soon := time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)
	answers := filepath.Join(t.TempDir(), "answers.yaml")
	if err := os.WriteFile(answers, []byte("version: 1\nrocketchat_version: 8.4.6\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runOn(t, "kernel-7.0.14", soon, "plan", "--cpus", "4", "--memory", "8GiB", "--config", answers)
	if r.code != 0 || !strings.Contains(r.stderr, "Rocket.Chat 8.4 leaves support on 2026-10-31 (in 21 days)") || !strings.Contains(r.stderr, "deploy rcgen's default instead") {
		t.Errorf("plan near the end of support: exit %d: %s", r.code, r.stderr)
	}
	out := filepath.Join(t.TempDir(), "d")
	if r := runOn(t, "kernel-7.0.14", soon.AddDate(0, -1, 0), "generate", "--yes", "--out", out, "--example-secrets", "--rocketchat-version", "8.4.6"); r.code != 0 || strings.Contains(r.stderr, "support") {
		t.Fatalf("41 days before the end of support: exit %d: %s", r.code, r.stderr)
	}
	before := read(t, filepath.Join(out, "README.md"))
	r = runOn(t, "kernel-7.0.14", soon, "generate", "--yes", "--out", out, "--example-secrets")
	if r.code != 0 || !strings.Contains(r.stderr, "Warning: Rocket.Chat 8.4 leaves support on 2026-10-31 (in 21 days)") ||
		!strings.Contains(r.stderr, "upgrade with `rcgen upgrade --to 8.8.1` (Rocket.Chat 8.8, supported to 2027-03-31)") {
		t.Errorf("re-run near the end of support: exit %d: %s", r.code, r.stderr)
	}
	r = runOn(t, "kernel-7.0.14", time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC), "generate", "--yes", "--out", out, "--example-secrets")
	if r.code != 0 || !strings.Contains(r.stderr, "out of support since 2026-10-31") || !strings.Contains(r.stderr, "`rcgen upgrade --to 8.8.1`") || !strings.Contains(r.stdout, "Nothing to change") {
		t.Errorf("re-run past the end of support: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if !bytes.Equal(before, read(t, filepath.Join(out, "README.md"))) {
		t.Error("the README changed with the day")
	}
	r = runOn(t, "kernel-7.0.14", soon, "doctor", "--out", out)
	if !strings.Contains(r.stdout, "warn release: Rocket.Chat 8.4.6, supported to 2026-10-31") || !strings.Contains(r.stdout, "leaves support on 2026-10-31 (in 21 days)") || !strings.Contains(r.stdout, "`rcgen upgrade --to 8.8.1`") {
		t.Errorf("doctor near the end of support:\n%s", r.stdout)
	}
}

func TestVersionsCommand(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	r := runOn(t, "kernel-7.0.14", now, "versions")
	for _, want := range []string{"8.5.3 (default, LTS)", "8.8.1 (latest)  ", "The default is 8.5.3: the newest patch of the newest LTS line whose image rcgen has seen (8.5; 8.9 LTS is listed, its image not confirmed yet)", "8.9.1 (LTS)", "7.10.15 (LTS)", "unsupported", "8.0.32-ubi9", "8.9.1 (LTS)  ", "no: image not confirmed", "The newest LTS line rcgen deploys is 8.5 (supported to 2027-06-30): rcgen generate --rocketchat-version 8.5.3", "prom/prometheus:v3.13.1"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("versions lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runOn(t, "kernel-7.0.14", now, "versions", "--json")
	var v struct {
		Version  int    `json:"version"`
		Default  string `json:"default"`
		Releases []struct {
			Line, Latest, Support, Source string
			MongoDB                       []string
			MongoDBImage                  string `json:"mongodb_image"`
			Default                       bool
		} `json:"releases"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	defaults := 0
	for _, rel := range v.Releases {
		if rel.Default {
			defaults++
		}
		if rel.Source == "" || len(rel.MongoDB) == 0 || rel.MongoDBImage == "" {
			t.Errorf("%s lacks its source, MongoDB or image", rel.Line)
		}
		if rel.Line == "7.0" && rel.Support != "unsupported" {
			t.Errorf("7.0 on 2026-11-25: %s", rel.Support)
		}
	}
	if v.Version != 1 || v.Default != spec.DefaultRocketChatVersion() || defaults != 1 {
		t.Errorf("versions --json: version %d, default %s, %d rows marked default", v.Version, v.Default, defaults)
	}
}

// TestDoctorChecksTheDeployment: files edited by hand, secrets readable by
// others and the release's support, in the deployment directory.
func TestDoctorChecksTheDeployment(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	out := filepath.Join(t.TempDir(), "d")
	if r := runOn(t, "kernel-7.0.14", now, "generate", "--yes", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := runOn(t, "kernel-7.0.14", now, "doctor", "--out", out)
	for _, want := range []string{"ok   files: every file rcgen owns is as rcgen writes it", "ok   secrets: readable by their owner only", "ok   release: Rocket.Chat " + catalog.Default().Latest + ", supported to " + catalog.Default().EndOfSupport.String(), "ok   kernel: 7.0.14-200.fc44.x86_64"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("a fresh deployment: doctor lacks %q:\n%s", want, r.stdout)
		}
	}
	compose := filepath.Join(out, "compose.yaml")
	if err := os.WriteFile(compose, append(read(t, compose), "# edited\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(out, ".env"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runOn(t, "kernel-7.0.14", now, "doctor", "--out", out)
	if r.code != 1 || !strings.Contains(r.stdout, "warn files: differ from what rcgen writes for these answers: compose.yaml") ||
		!strings.Contains(r.stdout, "fail secrets: readable by others: .env (0644)") || !strings.Contains(r.stderr, "some checks failed: secrets") {
		t.Errorf("an edited deployment: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestDoctorComparesWhatMatters: a deployment written by another rcgen
// version differs from what this one writes only in the files' headers
// (and written_by): doctor reports no file as edited; a real edit still is.
func TestDoctorComparesWhatMatters(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	t.Cleanup(func() { Version, Commit = "", "" })
	Version, Commit = "v1.0.0", "1111111"
	out := filepath.Join(t.TempDir(), "d")
	if r := runOn(t, "kernel-7.0.14", now, "generate", "--yes", "--out", out, "--domain", "chat.example.com", "--email", "admin@example.com", "--cpus", "4", "--memory", "8GiB"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if b := read(t, filepath.Join(out, "compose.yaml")); !bytes.Contains(b, []byte("rcgen v1.0.0 (1111111)")) {
		t.Fatalf("the header does not name the rcgen that wrote it:\n%.200s", b)
	}
	Version, Commit = "v2.0.0", "2222222"
	r := runOn(t, "kernel-7.0.14", now, "doctor", "--out", out)
	if !strings.Contains(r.stdout, "ok   files: every file rcgen owns is as rcgen writes it") {
		t.Errorf("a deployment rcgen v1 wrote, checked by v2: files reported as edited:\n%s", r.stdout)
	}
	caddy := filepath.Join(out, "caddy", "Caddyfile")
	if err := os.WriteFile(caddy, append(read(t, caddy), "# edited by hand\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runOn(t, "kernel-7.0.14", now, "doctor", "--out", out)
	if !strings.Contains(r.stdout, "warn files: differ from what rcgen writes for these answers: caddy/Caddyfile; edited by hand") {
		t.Errorf("a hand edit under another rcgen version is not reported alone:\n%s", r.stdout)
	}
}
