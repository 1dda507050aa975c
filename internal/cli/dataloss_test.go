package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
)

// fresh generates a deployment and returns its directory.
func fresh(t *testing.T, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "deploy")
	if r := run(t, append([]string{"generate", "--yes", "--out", out}, args...)...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	return out
}

// snapshot is every file of a deployment, to prove a refusal changed nothing.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			b, _ := os.ReadFile(path)
			m[path] = string(b)
		}
		return err
	})
	return m
}

func unchanged(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	after := snapshot(t, dir)
	if len(after) != len(before) {
		t.Errorf("%d files before, %d after", len(before), len(after))
	}
	for p, c := range before {
		if after[p] != c {
			t.Errorf("%s changed", p)
		}
	}
}

// TestLostSecretsAreNeverReplaced: .env lost, a secret emptied, or the
// keyfile lost: MongoDB keeps the passwords its data was created with, so
// rcgen refuses new ones unless told the data is gone too.
func TestLostSecretsAreNeverReplaced(t *testing.T) {
	for name, damage := range map[string]func(dir string) error{
		"lost .env": func(dir string) error { return os.Remove(filepath.Join(dir, ".env")) },
		"emptied secret": func(dir string) error {
			env := filepath.Join(dir, ".env")
			b, _ := os.ReadFile(env)
			var lines []string
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, render.EnvMongoRootPassword+"=") {
					l = render.EnvMongoRootPassword + "="
				}
				lines = append(lines, l)
			}
			return os.WriteFile(env, []byte(strings.Join(lines, "\n")), 0o600)
		},
		"lost keyfile": func(dir string) error { return os.Remove(filepath.Join(dir, render.MongoKeyfile)) },
	} {
		t.Run(name, func(t *testing.T) {
			out := fresh(t, "--rocketchat-version", "8.7.1")
			// A re-run that changes .env leaves a backup of it.
			if r := run(t, "generate", "--yes", "--out", out, "--rocketchat-version", "8.8.1"); r.code != 0 {
				t.Fatal(r.stderr)
			}
			if err := damage(out); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, out)
			r := run(t, "generate", "--yes", "--out", out)
			if r.code != 2 || !strings.Contains(r.stderr, "new ones would lock the app out") || !strings.Contains(r.stderr, "--new-mongodb-secrets") {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if name != "lost keyfile" && !strings.Contains(r.stderr, filepath.Join(out, deploy.BackupDir)) {
				t.Errorf("the refusal does not point at the backups: %s", r.stderr)
			}
			unchanged(t, out, before)
			if r := run(t, "generate", "--yes", "--out", out, "--new-mongodb-secrets"); r.code != 0 {
				t.Errorf("--new-mongodb-secrets: exit %d: %s", r.code, r.stderr)
			}
		})
	}
}

// TestSecretsMustBeTheirOwnFiles: a .env symlinked to another file, or a
// keyfile mongod would refuse, stops the run and changes nothing.
func TestSecretsMustBeTheirOwnFiles(t *testing.T) {
	out := fresh(t)
	other := filepath.Join(t.TempDir(), "other.env")
	if err := os.WriteFile(other, []byte("SOMETHING=else\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := filepath.Join(out, ".env")
	if err := os.Rename(env, env+".real"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, env); err != nil {
		t.Fatal(err)
	}
	r := run(t, "generate", "--yes", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, ".env is a symbolic link") {
		t.Errorf("symlinked .env: exit %d: %s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(other); string(b) != "SOMETHING=else\n" {
		t.Error("the file the link points at was changed")
	}
	os.Remove(env)
	os.Rename(env+".real", env)

	key := filepath.Join(out, render.MongoKeyfile)
	if err := os.WriteFile(key, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, "generate", "--yes", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, "mongod would refuse it") {
		t.Errorf("short keyfile: exit %d: %s", r.code, r.stderr)
	}
	if err := os.WriteFile(key, []byte("not base64 at all!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "generate", "--yes", "--out", out); r.code != 2 || !strings.Contains(r.stderr, "base64") {
		t.Errorf("keyfile outside base64: exit %d: %s", r.code, r.stderr)
	}
}

// TestOperatorEnvLinesAreKept: a variable the operator added to .env (for
// a compose.override.yaml, say) survives re-runs, in the file.
func TestOperatorEnvLinesAreKept(t *testing.T) {
	out := fresh(t)
	env := filepath.Join(out, ".env")
	b := read(t, env)
	if err := os.WriteFile(env, append(b, []byte("MY_OVERRIDE_PORT=8443\nexport TZ='Europe/Paris'\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, "generate", "--yes", "--out", out, "--memory", "16GiB")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	got := envOf(t, read(t, env))
	if got["MY_OVERRIDE_PORT"] != "8443" || got["TZ"] != "Europe/Paris" {
		t.Errorf("the operator's lines were dropped:\n%s", read(t, env))
	}
	if r := run(t, "generate", "--yes", "--out", out, "--memory", "16GiB"); !strings.Contains(r.stdout, "Nothing to change") {
		t.Errorf("kept lines make every re-run a change: %s%s", r.stdout, r.stderr)
	}
}

// TestModesAreRestoredEveryRun: a secret made readable by others goes back
// to 0600 even when nothing else changes, and rcgen says so.
func TestModesAreRestoredEveryRun(t *testing.T) {
	out := fresh(t)
	for _, f := range []string{".env", render.MongoKeyfile} {
		if err := os.Chmod(filepath.Join(out, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := run(t, "generate", "--yes", "--out", out)
	if r.code != 0 || !strings.Contains(r.stderr, "Restored the mode of .env (0600, was 0644), secrets/mongodb.keyfile (0600, was 0644)") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
	for _, f := range []string{".env", render.MongoKeyfile} {
		if fi, _ := os.Stat(filepath.Join(out, f)); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %04o", f, fi.Mode().Perm())
		}
	}
}

// TestLostAnswersAreRecovered: a public deployment that lost rcgen.yaml is
// not rewritten as localhost: its answers come back from .env and compose.yaml.
func TestLostAnswersAreRecovered(t *testing.T) {
	out := fresh(t, "--domain", "chat.example.com", "--email", "ops@example.com", "--mongodb-members", "3")
	for _, args := range [][]string{{}, {"--force"}} {
		if err := os.Remove(filepath.Join(out, "rcgen.yaml")); err != nil {
			t.Fatal(err)
		}
		r := run(t, append([]string{"generate", "--yes", "--out", out}, args...)...)
		if r.code != 0 || !strings.Contains(r.stderr, "answers were recovered from .env and compose.yaml") {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		env := envOf(t, read(t, filepath.Join(out, ".env")))
		if env["ROOT_URL"] != "https://chat.example.com" || env["ACME_EMAIL"] != "ops@example.com" {
			t.Errorf("%v: the domain was lost: %v", args, env)
		}
		if !strings.Contains(string(read(t, filepath.Join(out, "compose.yaml"))), "mongodb-3:") {
			t.Errorf("%v: the members were lost", args)
		}
	}
}

// TestFewerMembersRefused: from 3 MongoDB members to 1 would leave a set
// that never elects a primary.
func TestFewerMembersRefused(t *testing.T) {
	out := fresh(t, "--mongodb-members", "3")
	before := snapshot(t, out)
	r := run(t, "generate", "--yes", "--out", out, "--mongodb-members", "1")
	if r.code != 2 || !strings.Contains(r.stderr, "--mongodb-members: this deployment runs 3 MongoDB members") || !strings.Contains(r.stderr, `rs.remove(\"mongodb-3:27017\")`) || !strings.Contains(r.stderr, `rs.remove(\"mongodb-2:27017\")`) {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
	unchanged(t, out, before)
}

// TestCertificateBundle: one PEM file holding the certificate and its key
// given as both: cert.pem (world-readable) gets the certificate only, and
// a dry run never prints the key.
func TestCertificateBundle(t *testing.T) {
	tls := filepath.Join("..", "render", "testdata", "tls")
	bundle := filepath.Join(t.TempDir(), "bundle.pem")
	both := append(read(t, filepath.Join(tls, "cert.pem")), read(t, filepath.Join(tls, "key.pem"))...)
	if err := os.WriteFile(bundle, both, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--domain", "chat.example.com", "--tls-cert", bundle, "--tls-key", bundle}
	r := run(t, append([]string{"generate", "--yes", "--dry-run", "--out", filepath.Join(t.TempDir(), "dry")}, args...)...)
	if r.code != 0 || strings.Contains(r.stdout, "PRIVATE KEY") {
		t.Errorf("dry run: exit %d, prints a key: %v\n%s", r.code, strings.Contains(r.stdout, "PRIVATE KEY"), r.stderr)
	}
	out := fresh(t, args...)
	cert := read(t, filepath.Join(out, render.TLSCertFile))
	if bytes.Contains(cert, []byte("PRIVATE KEY")) || !bytes.Contains(cert, []byte("BEGIN CERTIFICATE")) {
		t.Errorf("cert.pem:\n%s", cert)
	}
	if fi, _ := os.Stat(filepath.Join(out, render.TLSKeyFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("key.pem is %04o", fi.Mode().Perm())
	}
}

// TestLocalhostListensOnLoopbackOnly: the default deployment must not hand
// the setup wizard to whoever reaches the server's address.
func TestLocalhostListensOnLoopbackOnly(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	r := run(t, "generate", "--yes", "--out", out)
	if r.code != 0 || !strings.Contains(r.stdout, "It listens on 127.0.0.1 only") || !strings.Contains(r.stdout, "--domain") {
		t.Errorf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	compose := string(read(t, filepath.Join(out, "compose.yaml")))
	if !strings.Contains(compose, `- "127.0.0.1:80:80"`) || strings.Contains(compose, `- "80:80"`) {
		t.Errorf("caddy's ports in compose.yaml are not loopback only")
	}
	pub := fresh(t, "--domain", "192.0.2.10", "--allow-ip")
	if !strings.Contains(string(read(t, filepath.Join(pub, "compose.yaml"))), `- "80:80"`) {
		t.Error("an address the user asked for is not published")
	}
}

// TestSecondRunWaitsForTheLock: while one run holds the deployment, another
// fails naming the lock, and writes nothing.
func TestSecondRunWaitsForTheLock(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	unlock, err := deploy.Lock(out)
	if err != nil {
		t.Fatal(err)
	}
	defer func(w time.Duration) { deploy.LockWait = w }(deploy.LockWait)
	deploy.LockWait = 100 * time.Millisecond
	r := run(t, "generate", "--yes", "--out", out)
	unlock()
	if r.code == 0 || !strings.Contains(r.stderr, "another rcgen run is working on this deployment") || !strings.Contains(r.stderr, filepath.Dir(out)) {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a locked-out run wrote the deployment")
	}
}

// TestNewerRcgenWroteIt: an older rcgen never silently rewrites a
// deployment a newer one wrote.
func TestNewerRcgenWroteIt(t *testing.T) {
	defer func(v string) { Version = v }(Version)
	Version = "v1.5.0"
	out := fresh(t)
	if !strings.Contains(string(read(t, filepath.Join(out, "rcgen.yaml"))), `written_by: "v1.5.0`) {
		t.Fatal("rcgen.yaml does not record the rcgen that wrote it")
	}
	Version = "v1.4.2"
	before := snapshot(t, out)
	r := run(t, "generate", "--yes", "--out", out, "--memory", "16GiB")
	if r.code != 2 || !strings.Contains(r.stderr, "written by rcgen v1.5.0, newer than this rcgen (v1.4.2)") || !strings.Contains(r.stderr, "--force=older-rcgen") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
	unchanged(t, out, before)
	if r := run(t, "generate", "--yes", "--out", out, "--force=older-rcgen"); r.code != 0 {
		t.Errorf("--force=older-rcgen: exit %d: %s", r.code, r.stderr)
	}
	Version = "v1.6.0"
	if r := run(t, "generate", "--yes", "--out", out); r.code != 0 {
		t.Errorf("a newer rcgen: exit %d: %s", r.code, r.stderr)
	}
}

// TestLostAnswersKeepTheOwnProxy: a deployment behind the user's proxy
// that lost rcgen.yaml stays behind it (its network too): recovered as
// --proxy none it would drop off the proxy's network and publish ports.
func TestLostAnswersKeepTheOwnProxy(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--proxy", "nginx-proxy", "--proxy-network", "web"}, []string{`VIRTUAL_HOST: "chat.example.com"`, `name: "web"`}},
		{[]string{"--proxy", "caddy-docker-proxy"}, []string{`"caddy": "chat.example.com"`, `name: "caddy"`}},
		{[]string{"--proxy", "host"}, []string{`127.0.0.1:3000:3000`}},
		{[]string{"--proxy", "traefik-labels", "--proxy-network", "edge", "--proxy-certresolver", "le", "--email", "admin@example.com"},
			[]string{`"traefik.http.routers.rocketchat.tls.certresolver": "le"`, `name: "edge"`}},
		{[]string{"--proxy", "traefik", "--email", "admin@example.com"}, []string{`traefik:`}},
	} {
		t.Run(c.args[1], func(t *testing.T) {
			out := fresh(t, append([]string{"--domain", "chat.example.com"}, c.args...)...)
			before := read(t, filepath.Join(out, "compose.yaml"))
			if err := os.Remove(filepath.Join(out, "rcgen.yaml")); err != nil {
				t.Fatal(err)
			}
			r := run(t, "generate", "--yes", "--out", out)
			if r.code != 0 || !strings.Contains(r.stderr, "answers were recovered from .env and compose.yaml") {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			after := string(read(t, filepath.Join(out, "compose.yaml")))
			for _, w := range c.want {
				if !strings.Contains(after, w) {
					t.Errorf("after recovery compose.yaml lacks %s", w)
				}
			}
			if after != string(before) {
				t.Errorf("recovery changed compose.yaml")
			}
			if _, err := os.Stat(filepath.Join(out, "rcgen.yaml")); err != nil {
				t.Error(err)
			}
		})
	}
}
