package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/kballard/go-shellquote"
)

// TestErrorsSpeakTheWayTheAnswerWasGiven: the same invalid answer is named
// as the flag when given by flag, and as the file, line and key when given
// in an answers file; an answer from the deployment's own rcgen.yaml names
// that file.
func TestErrorsSpeakTheWayTheAnswerWasGiven(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "answers.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\nmetrics_retention: 1d1d1d\nprocesses: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "generate", "--config", cfg, "--out", filepath.Join(dir, "a"))
	for _, want := range []string{cfg + `: line 2: metrics_retention: "1d1d1d" is not a Prometheus duration`, cfg + ": line 3: processes: 3 app processes need an Enterprise licence", "give license_file, or allow_unlicensed_instances"} {
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", r.code, want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "--") {
		t.Errorf("an answers-file user is told about flags:\n%s", r.stderr)
	}

	r = run(t, "generate", "--metrics-retention", "1d1d1d", "--processes", "3", "--out", filepath.Join(dir, "b"))
	for _, want := range []string{`--metrics-retention: "1d1d1d" is not a Prometheus duration`, "--processes: 3 app processes need an Enterprise licence", "give --license-file, or --allow-unlicensed-instances"} {
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", r.code, want, r.stderr)
		}
	}

	// A deployment whose own rcgen.yaml was edited by hand.
	out := filepath.Join(dir, "deploy")
	if r := run(t, "generate", "--yes", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	answers := filepath.Join(out, "rcgen.yaml")
	b := read(t, answers)
	if err := os.WriteFile(answers, []byte(strings.Replace(string(b), `proxy: "caddy"`, `proxy: "haproxy"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "generate", "--yes", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, answers+": line ") || !strings.Contains(r.stderr, `proxy: "haproxy" is not a proxy`) {
		t.Errorf("hand-edited rcgen.yaml: exit %d:\n%s", r.code, r.stderr)
	}
}

// TestRerunCommandIsShellQuoted: the README's re-run command, pasted into a
// shell, gives back exactly the recorded answers, whatever the paths hold.
func TestRerunCommandIsShellQuoted(t *testing.T) {
	_, o := newGenerateCommand(Env{})
	a := o.flags.v
	a.Domain = "chat.example.com"
	a.TLSCert, a.TLSKey = "my certs/$(touch pwned).pem", "key's file.pem"
	a.Monitoring = false
	cmd := o.flags.rerunCommand(a)
	words, err := shellquote.Split(cmd)
	if err != nil {
		t.Fatalf("%s does not parse as a shell command: %v", cmd, err)
	}
	want := []string{"rcgen", "generate", "--out", ".", "--domain", "chat.example.com", "--tls-cert", "my certs/$(touch pwned).pem", "--tls-key", "key's file.pem", "--no-monitoring"}
	if strings.Join(words, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("re-run command %s\nsplits into %q\nwant %q", cmd, words, want)
	}
}

// TestNamedFilesMustBeRegularAndSmall: a licence named as a directory, a
// FIFO (which would block a plain read) or a huge file is refused at its
// flag, before anything else happens.
func TestNamedFilesMustBeRegularAndSmall(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge")
	if err := os.WriteFile(huge, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{dir, "is not a regular file"},
		{fifo, "is not a regular file"},
		{huge, "is larger than 1MiB"},
	} {
		r := run(t, "generate", "--license-file", c.path, "--out", filepath.Join(dir, "out"))
		if r.code != 2 || !strings.Contains(r.stderr, "--license-file: "+c.path+" "+c.want) {
			t.Errorf("--license-file %s: exit %d, stderr %q; want %q", c.path, r.code, r.stderr, c.want)
		}
	}
	r := run(t, "generate", "--smtp-password-file", fifo, "--out", filepath.Join(dir, "out"))
	if r.code != 2 || !strings.Contains(r.stderr, "--smtp-password-file: "+fifo+" is not a regular file") {
		t.Errorf("--smtp-password-file FIFO: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestAMisspelledKeyHidesNothing: an answers file with a misspelled key
// beside two invalid values reports all three at once, in the order of
// their lines, the unknown key with the key it most likely means; given
// by --config (to generate and plan) or as a deployment's own rcgen.yaml.
func TestAMisspelledKeyHidesNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "answers.yaml")
	file := "version: 1\nmongodb_members: 5\ndomian: chat.example.com\nmetrics_retention: 1d1d1d\n"
	if err := os.WriteFile(cfg, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	want := func(name string) string {
		return strings.Join([]string{
			name + ": line 2: mongodb_members: 5 is not supported",
			name + ": line 3: unknown key domian: did you mean domain?",
			name + `: line 4: metrics_retention: "1d1d1d" is not a Prometheus duration`,
		}, ".*\n")
	}
	out := filepath.Join(dir, "new")
	for _, args := range [][]string{
		{"generate", "--yes", "--config", cfg, "--out", out},
		{"generate", "--config", cfg, "--out", out}, // no terminal: nothing asked either way
		{"plan", "--config", cfg},
	} {
		r := run(t, args...)
		if r.code != 2 || !regexp.MustCompile(want(regexp.QuoteMeta(cfg))).MatchString(r.stderr) {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant, in this order:\n%s", args, r.code, r.stderr, want(cfg))
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused answers file still wrote a deployment")
	}

	// The same problems in a deployment's own rcgen.yaml, edited by hand.
	dep := filepath.Join(dir, "dep")
	if r := run(t, "generate", "--yes", "--out", dep); r.code != 0 {
		t.Fatal(r.stderr)
	}
	answers := filepath.Join(dep, "rcgen.yaml")
	b := string(read(t, answers))
	for old, new := range map[string]string{"mongodb_members: 1": "mongodb_members: 5", "domain: ": "domian: ", `proxy: "caddy"`: `proxy: "haproxy"`} {
		if !strings.Contains(b, old) {
			t.Fatalf("rcgen.yaml lacks %q:\n%s", old, b)
		}
		b = strings.Replace(b, old, new, 1)
	}
	if err := os.WriteFile(answers, []byte(b), 0o600); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dep)
	r := run(t, "generate", "--yes", "--out", dep)
	for _, w := range []string{"unknown key domian: did you mean domain?", "mongodb_members: 5 is not supported", `proxy: "haproxy" is not a proxy`} {
		if r.code != 2 || !regexp.MustCompile(regexp.QuoteMeta(answers)+`: line \d+: `+regexp.QuoteMeta(w)).MatchString(r.stderr) {
			t.Errorf("hand-edited rcgen.yaml: exit %d, stderr lacks %q with its line:\n%s", r.code, w, r.stderr)
		}
	}
	unchanged(t, dep, before)
}

// TestRerunCommandRepeatsListFlags: a list answer (the Swarm nodes) is
// given back as its flag once per element, as --node takes it, not as one
// quoted word the flag refuses.
func TestRerunCommandRepeatsListFlags(t *testing.T) {
	_, o := newGenerateCommand(Env{})
	a := o.flags.v
	a.Target, a.Domain, a.Email = "swarm", "chat.example.com", "admin@example.com"
	for _, n := range []string{"db-1=4:16GiB:db", "app-1=8:16GiB:proxy,monitoring"} {
		if err := a.Nodes.Set(n); err != nil {
			t.Fatal(err)
		}
	}
	cmd := o.flags.rerunCommand(a)
	words, err := shellquote.Split(cmd)
	if err != nil {
		t.Fatalf("%s does not parse as a shell command: %v", cmd, err)
	}
	want := []string{"rcgen", "generate", "--out", ".", "--target", "swarm", "--node", "db-1=4:16GiB:db", "--node", "app-1=8:16GiB:proxy,monitoring", "--domain", "chat.example.com", "--email", "admin@example.com"}
	if strings.Join(words, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("re-run command %s\nsplits into %q\nwant %q", cmd, words, want)
	}
}
