package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
)

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var secretKeys = []string{render.EnvMongoRootPassword, render.EnvMongoRocketChatPassword, render.EnvMongoExporterPassword, render.EnvGrafanaAdminPassword}

// TestRerunKeepsSecrets regenerates a deployment with another host size and
// then another domain: every secret stays byte for byte, ROOT_URL and the
// proxy follow the domain, and the old files are backed up.
func TestRerunKeepsSecrets(t *testing.T) {
	out := filepath.Join(t.TempDir(), "deploy")
	if r := run(t, "generate", "--yes", "--memory", "8GiB", "--out", out); r.code != 0 {
		t.Fatalf("first run: %s", r.stderr)
	}
	env1 := envOf(t, read(t, filepath.Join(out, ".env")))
	key1 := read(t, filepath.Join(out, render.MongoKeyfile))
	userFile := filepath.Join(out, "notes.txt")
	if err := os.WriteFile(userFile, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Bigger host: the answers file of the deployment is the starting point.
	r := run(t, "generate", "--yes", "--memory", "16GiB", "--out", out)
	if r.code != 0 {
		t.Fatalf("re-run: %s", r.stderr)
	}
	// What changed is the run's result: on stdout.
	for _, want := range []string{"Changes to", "-memory: \"8GiB\"", "+memory: \"16GiB\"", "Replaced files are kept in"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("re-run output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, env1[render.EnvMongoRootPassword]) {
		t.Error("the diff shows a secret")
	}

	// New domain: only the public address changes.
	if r := run(t, "generate", "--yes", "--domain", "chat.example.com", "--email", "a@example.com", "--out", out); r.code != 0 {
		t.Fatalf("domain change: %s", r.stderr)
	}
	env3 := envOf(t, read(t, filepath.Join(out, ".env")))
	for _, k := range secretKeys {
		if env1[k] == "" || env1[k] != env3[k] {
			t.Errorf("%s changed on re-run: %q -> %q", k, env1[k], env3[k])
		}
	}
	if !bytes.Equal(key1, read(t, filepath.Join(out, render.MongoKeyfile))) {
		t.Error("the MongoDB keyfile changed on re-run")
	}
	if env3["ROOT_URL"] != "https://chat.example.com" || env3["DOMAIN"] != "chat.example.com" {
		t.Errorf("ROOT_URL = %q, DOMAIN = %q after changing the domain", env3["ROOT_URL"], env3["DOMAIN"])
	}
	if !strings.Contains(string(read(t, filepath.Join(out, render.CaddyFile))), "{$DOMAIN} {") {
		t.Error("the Caddyfile did not switch to the domain")
	}
	if !strings.Contains(string(read(t, filepath.Join(out, "rcgen.yaml"))), `memory: "16GiB"`) {
		t.Error("the host size given on the second run was forgotten by the third")
	}
	if string(read(t, userFile)) != "mine" {
		t.Error("a file the user added was touched")
	}
	fi, err := os.Stat(filepath.Join(out, ".env"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf(".env mode = %v, want 0600", fi.Mode().Perm())
	}
	backups, _ := filepath.Glob(filepath.Join(out, deploy.BackupDir, "*", "compose.yaml"))
	if len(backups) == 0 {
		t.Error("no backup of the replaced compose.yaml")
	}

	// Nothing new: nothing written.
	r = run(t, "generate", "--yes", "--out", out)
	if r.code != 0 || !strings.Contains(r.stdout, "Nothing to change") {
		t.Errorf("unchanged re-run: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

func TestRerunRefusals(t *testing.T) {
	out := filepath.Join(t.TempDir(), "deploy")
	if r := run(t, "generate", "--yes", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := run(t, "generate", "--yes", "--project", "other", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, `--project: this deployment's volumes belong to project "rocketchat"`) {
		t.Errorf("project rename: exit %d: %s", r.code, r.stderr)
	}
	// Editing rcgen.yaml does not rename the data's project either: the
	// guard trusts compose.yaml's name, which the volumes carry.
	answers := filepath.Join(out, "rcgen.yaml")
	if err := os.WriteFile(answers, []byte(strings.Replace(string(read(t, answers)), `project: "rocketchat"`, `project: "renamed"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "generate", "--yes", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, `rcgen.yaml: line 7: project: this deployment's volumes belong to project "rocketchat"`) {
		t.Errorf("project edited in rcgen.yaml: exit %d: %s", r.code, r.stderr)
	}
	if err := os.WriteFile(answers, []byte(strings.Replace(string(read(t, answers)), `project: "renamed"`, `project: "rocketchat"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	foreign := t.TempDir()
	if err := os.WriteFile(filepath.Join(foreign, "compose.yaml"), []byte("services: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "generate", "--yes", "--out", foreign)
	if r.code != 2 || !strings.Contains(r.stderr, "rcgen did not write it") {
		t.Errorf("foreign directory: exit %d: %s", r.code, r.stderr)
	}
	if string(read(t, filepath.Join(foreign, "compose.yaml"))) != "services: {}\n" {
		t.Error("the foreign compose.yaml was overwritten")
	}
	if r := run(t, "generate", "--yes", "--force", "--out", foreign); r.code != 0 {
		t.Errorf("--force into a foreign directory: %s", r.stderr)
	}
	if backups, _ := filepath.Glob(filepath.Join(foreign, deploy.BackupDir, "*", "compose.yaml")); len(backups) != 1 {
		t.Error("--force replaced the foreign compose.yaml without keeping it")
	}
}

func TestDryRunShowsTheDiffAndWritesNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "deploy")
	if r := run(t, "generate", "--yes", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	before := read(t, filepath.Join(out, "compose.yaml"))
	r := run(t, "generate", "--dry-run", "--proxy", "none", "--out", out)
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, want := range []string{"--- a/compose.yaml", "+++ b/compose.yaml", "127.0.0.1:3000:3000", "--- a/caddy/Caddyfile", "+++ /dev/null"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry-run diff lacks %q:\n%s", want, r.stdout)
		}
	}
	if !bytes.Equal(before, read(t, filepath.Join(out, "compose.yaml"))) {
		t.Error("--dry-run changed compose.yaml")
	}
	if _, err := os.Stat(filepath.Join(out, deploy.BackupDir)); err == nil {
		t.Error("--dry-run made a backup")
	}
	// Applying it removes rcgen's own Caddyfile, keeping a copy.
	if r := run(t, "generate", "--yes", "--proxy", "none", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, render.CaddyFile)); err == nil {
		t.Error("the Caddyfile rcgen no longer generates was left behind")
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "answers.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "rc.license"), []byte("LICENCE-TEXT\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write("version: 1\ndomain: chat.example.com\nemail: ops@example.com\ncpus: \"8\"\nmemory: 16GiB\nlicense_file: rc.license\nmongodb_members: 3\n")
	out := filepath.Join(dir, "deploy")
	// Flags override the file.
	r := run(t, "generate", "--config", cfg, "--domain", "rc.example.org", "--out", out)
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	env := envOf(t, read(t, filepath.Join(out, ".env")))
	if env["ROOT_URL"] != "https://rc.example.org" || env["ROCKETCHAT_LICENSE"] != "LICENCE-TEXT" {
		t.Errorf(".env ROOT_URL %q, licence %q", env["ROOT_URL"], env["ROCKETCHAT_LICENSE"])
	}
	answers := string(read(t, filepath.Join(out, "rcgen.yaml")))
	for _, want := range []string{`domain: "rc.example.org"`, "mongodb_members: 3", `license_file: "../rc.license"`, "version: 1"} {
		if !strings.Contains(answers, want) {
			t.Errorf("rcgen.yaml lacks %q:\n%s", want, answers)
		}
	}
	// 8 cores and 16GiB with 3 members: the database sized by Rocket.Chat's
	// table leaves room for 2 processes, not one per core.
	if c := string(read(t, filepath.Join(out, "compose.yaml"))); !strings.Contains(c, "rocketchat-2:") || strings.Contains(c, "rocketchat-3:") {
		t.Error("the licensed 8-core host with 3 members did not get a balanced 2 processes")
	}

	for _, c := range []struct{ file, want string }{
		{"version: 1\ncolour: blue\n", "line 2: unknown key colour"},
		{"version: 1\nmongodb_members: three\n", "line 2: mongodb_members: \"three\" is not a whole number"},
		{"version: 2\n", "version 2 is not supported"},
		{"domain: chat.example.com\n", "version 0 is not supported"},
		{"", "is empty"},
		{"version: 1\ndomain: [a, b]\n", "line 2"},
	} {
		write(c.file)
		r := run(t, "generate", "--config", cfg, "--out", filepath.Join(dir, "bad"))
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, cfg) {
			t.Errorf("config %q: exit %d, stderr %q; want 2 naming the file and %q", c.file, r.code, r.stderr, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bad")); err == nil {
		t.Error("a bad answers file still wrote a deployment")
	}
}

// TestExampleSecretsNeverReachARealRun: a real run refuses a directory that
// holds the documentation's placeholder secrets.
func TestExampleSecretsNeverReachARealRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "deploy")
	r := run(t, "generate", "--yes", "--example-secrets", "--out", out)
	if r.code != 0 || !strings.Contains(r.stderr, "public placeholders") {
		t.Fatalf("--example-secrets: exit %d: %s", r.code, r.stderr)
	}
	r = run(t, "generate", "--yes", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, "documentation examples") {
		t.Errorf("real run on an example: exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(run(t, "generate", "--help").stdout, "example-secrets") {
		t.Error("--example-secrets is listed in --help")
	}
}

func TestAlertEmailAnswers(t *testing.T) {
	out := filepath.Join(t.TempDir(), "deploy")
	r := run(t, "generate", "--yes", "--alert-email", "ops@example.com", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, "--smtp-host: a mail server is required to send email") || !strings.Contains(r.stderr, "--smtp-from: a sender address is required") {
		t.Errorf("alert email without a server: exit %d: %s", r.code, r.stderr)
	}
	r = run(t, "generate", "--yes", "--metrics-retention", "15 days", "--metrics-retention-size", "10G", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, "--metrics-retention:") || !strings.Contains(r.stderr, "--metrics-retention-size:") {
		t.Errorf("bad retention: exit %d: %s", r.code, r.stderr)
	}
	pw := filepath.Join(t.TempDir(), "smtp")
	if err := os.WriteFile(pw, []byte("s3cret $pass#\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, "generate", "--yes", "--alert-email", "ops@example.com", "--smtp-host", "smtp.example.com:587",
		"--smtp-from", "rc@example.com", "--smtp-user", "rc", "--smtp-password-file", pw, "--metrics-retention", "30d", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	env := envOf(t, read(t, filepath.Join(out, ".env")))
	if env[render.EnvSMTPPassword] != "s3cret $pass#" {
		t.Errorf("SMTP_PASSWORD = %q", env[render.EnvSMTPPassword])
	}
	if !strings.Contains(string(read(t, filepath.Join(out, "compose.yaml"))), "--storage.tsdb.retention.time=30d") {
		t.Error("the retention answer is not in compose.yaml")
	}
	// A re-run without the password file keeps the password.
	if r := run(t, "generate", "--yes", "--memory", "16GiB", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if got := envOf(t, read(t, filepath.Join(out, ".env")))[render.EnvSMTPPassword]; got != "s3cret $pass#" {
		t.Errorf("SMTP_PASSWORD after a re-run = %q", got)
	}
}

// TestUpgradesThatWouldStrandData: MongoDB moves one version at a time and
// Rocket.Chat never goes back, so rcgen refuses re-runs that would; MongoDB
// moves one feature version at a time, and back (8.2 to 8.0, where
// Rocket.Chat 8.2+ runs) only once the operator names the lowered
// featureCompatibilityVersion.
func TestUpgradesThatWouldStrandData(t *testing.T) {
	out := filepath.Join(t.TempDir(), "deploy")
	mongo := func() string { return envOf(t, read(t, filepath.Join(out, ".env")))["MONGODB_VERSION"] }
	if r := run(t, "generate", "--yes", "--rocketchat-version", "7.10.0", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := run(t, "generate", "--yes", "--rocketchat-version", "8.0.0", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, "--rocketchat-version: it would move MongoDB from 7.0 straight to 8.2") {
		t.Errorf("7.0 -> 8.2: exit %d: %s", r.code, r.stderr)
	}
	if got := mongo(); got != "7.0.28-ubi8" {
		t.Errorf("a refused re-run changed MONGODB_VERSION to %q", got)
	}
	r = run(t, "generate", "--yes", "--rocketchat-version", "7.13.0", "--out", out)
	if r.code != 0 || !strings.Contains(r.stderr, "MongoDB moves from 7.0 to 8.0") || !strings.Contains(r.stderr, "setFeatureCompatibilityVersion") {
		t.Errorf("7.0 -> 8.0: exit %d: %s", r.code, r.stderr)
	}
	if r := run(t, "generate", "--yes", "--rocketchat-version", "8.8.1", "--out", out); r.code != 0 || mongo() != "8.0.32-ubi9-slim" {
		t.Errorf("8.8.1 stays on MongoDB 8.0 (%s): %s", mongo(), r.stderr)
	}
	r = run(t, "generate", "--yes", "--rocketchat-version", "8.1.0", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, "8.1.0 is older than the 8.8.1 this deployment runs") {
		t.Errorf("downgrade: exit %d: %s", r.code, r.stderr)
	}
	if r := run(t, "generate", "--yes", "--rocketchat-version", "8.1.0", "--force", "--out", out); r.code != 2 || !strings.Contains(r.stderr, "cannot migrate its database back") {
		t.Errorf("a downgrade is never forced: exit %d: %s", r.code, r.stderr)
	}

	// A deployment on Rocket.Chat 8.1 (MongoDB 8.2) moving to a release
	// that declares MongoDB 8.0.
	out = filepath.Join(t.TempDir(), "deploy82")
	if r := run(t, "generate", "--yes", "--rocketchat-version", "8.1.0", "--out", out); r.code != 0 || mongo() != "8.2.12-ubi9-slim" {
		t.Fatalf("8.1 runs on MongoDB 8.2 (%s): %s", mongo(), r.stderr)
	}
	// MongoDB Community cannot move its binaries back: the deployment keeps
	// 8.2 and says how to get onto 8.0.
	r = run(t, "generate", "--yes", "--rocketchat-version", "8.8.1", "--out", out)
	if r.code != 0 || mongo() != "8.2.12-ubi9-slim" || !strings.Contains(r.stderr, "MongoDB stays on 8.2") || !strings.Contains(r.stderr, "cannot move its binaries back") {
		t.Errorf("8.1 on 8.2 -> 8.8.1: exit %d (%s): %s", r.code, mongo(), r.stderr)
	}
	if r := run(t, "generate", "--yes", "--force=mongodb-fcv", "--out", out); r.code != 2 {
		t.Errorf("--force=mongodb-fcv is gone (nothing moves MongoDB back): exit %d: %s", r.code, r.stderr)
	}
	if r := run(t, "generate", "--yes", "--force=colour", "--out", out); r.code != 2 || !strings.Contains(r.stderr, `"colour" is nothing --force can accept`) {
		t.Errorf("--force=colour: exit %d: %s", r.code, r.stderr)
	}
}

func envOf(t testing.TB, b []byte) map[string]string {
	t.Helper()
	m, err := render.ParseEnv(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBrokenEnvKeepsSecretsSafe: an .env that does not parse stops the run
// instead of generating new passwords the data was not created with.
func TestBrokenEnvKeepsSecretsSafe(t *testing.T) {
	out := filepath.Join(t.TempDir(), "deploy")
	if r := run(t, "generate", "--yes", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	broken := []byte("MONGODB_ROOT_PASSWORD='unterminated\n")
	if err := os.WriteFile(filepath.Join(out, ".env"), broken, 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, "generate", "--yes", "--memory", "16GiB", "--out", out)
	if r.code == 0 || !strings.Contains(r.stderr, "does not parse, so its secrets cannot be kept") {
		t.Errorf("broken .env: exit %d: %s", r.code, r.stderr)
	}
	if !bytes.Equal(read(t, filepath.Join(out, ".env")), broken) {
		t.Error("the broken .env was replaced")
	}
}
