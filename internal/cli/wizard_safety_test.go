package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/prompt"
	"github.com/rcgen/rcgen/internal/prompt/prompttest"
)

// TestWizardChecksTheDirectoryAtOnce: a deployment whose .env does not
// parse is reported at the directory question, not after every answer;
// ~ is the home directory, as in a shell; an existing deployment says its
// answers are the defaults.
func TestWizardChecksTheDirectoryAtOnce(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	broken := filepath.Join(t.TempDir(), "broken")
	if err := os.MkdirAll(broken, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(broken, "rcgen.yaml"), []byte("version: 1\n"), 0o644)
	os.WriteFile(filepath.Join(broken, ".env"), []byte("MONGODB_ROOT_PASSWORD='unterminated\n"), 0o600)
	r, script := runWizard(t, []step{
		{Question: "Directory to write the deployment into", Answer: broken},
		{Question: "Directory to write the deployment into", Answer: "~/rocketchat"},
		{Question: "several hosts", Answer: false},
		{Question: "Public domain name", Answer: "localhost"},
		{Question: "Enterprise licence", Answer: false},
		{Question: "Expected concurrent users", Answer: ""},
		{Question: "MongoDB replica set", Answer: "1 member"},
		{Question: "Run monitoring", Answer: false},
		{Question: "Back up", Answer: true},
		{Question: "Write the deployment to", Answer: "Write it"},
	}, "generate")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if len(script.Errors) != 1 || !strings.Contains(script.Errors[0], "does not parse") {
		t.Errorf("errors at the directory question: %q", script.Errors)
	}
	if _, err := os.Stat(filepath.Join(home, "rocketchat", "compose.yaml")); err != nil {
		t.Errorf("~/rocketchat was not the home directory's: %v", err)
	}
	if _, err := os.Stat("~"); err == nil {
		t.Error("a directory named ~ was created")
	}
	r, _ = runWizard(t, []step{
		{Question: "Directory to write the deployment into", Answer: "~/rocketchat"},
		{Question: "several hosts", Answer: false},
		{Question: "Public domain name", Answer: ""},
		{Question: "Enterprise licence", Answer: false},
		{Question: "Expected concurrent users", Answer: ""},
		{Question: "MongoDB replica set", Answer: ""},
		{Question: "Run monitoring", Answer: false},
		{Question: "Back up", Answer: true},
		{Question: "Write the deployment to", Answer: "Write it"},
	}, "generate")
	if r.code != 0 || !strings.Contains(r.stderr, "Existing deployment found in "+filepath.Join(home, "rocketchat")+": its answers are the defaults") || !strings.Contains(r.stdout, "Nothing to change") {
		t.Errorf("re-run: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

// TestWizardGoesBackFromTheCertificate: an empty certificate or key
// answer goes back to "How should HTTPS work?" with the other answers
// kept, so someone who chose "My own certificate files" without them, or
// gave the wrong certificate, gets out without Ctrl-C.
func TestWizardGoesBackFromTheCertificate(t *testing.T) {
	tls := filepath.Join("..", "render", "testdata", "tls")
	t.Run("empty certificate, then Let's Encrypt", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "d")
		r, script := runWizard(t, []step{
			{Question: "several hosts", Answer: false},
			{Question: "Public domain name", Answer: "chat.example.com"},
			{Question: "already run a reverse proxy", Answer: false},
			{Question: "How should HTTPS work?", Answer: tlsOwn},
			{Question: "Certificate file (PEM, full chain; empty to go back to the HTTPS question)", Answer: ""},
			{Question: "How should HTTPS work?", Answer: "Let's Encrypt"},
			{Question: "Email for Let's Encrypt", Answer: "ops@example.com"},
			{Question: "Enterprise licence", Answer: false},
			{Question: "Expected concurrent users", Answer: ""},
			{Question: "MongoDB replica set", Answer: "1 member"},
			{Question: "Run monitoring", Answer: false},
			{Question: "Back up", Answer: true},
			{Question: "Write the deployment to", Answer: "Write it"},
		}, "generate", "--out", out)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if len(script.Errors) != 0 {
			t.Errorf("the empty certificate path was taken for a file: %q", script.Errors)
		}
		answers := string(read(t, filepath.Join(out, "rcgen.yaml")))
		if !strings.Contains(answers, `domain: "chat.example.com"`) || !strings.Contains(answers, `email: "ops@example.com"`) || strings.Contains(answers, "tls_cert") {
			t.Errorf("after going back, the domain was not kept or Let's Encrypt not used:\n%s", answers)
		}
	})
	t.Run("empty key after the wrong certificate", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "d")
		r, _ := runWizard(t, []step{
			{Question: "several hosts", Answer: false},
			{Question: "Public domain name", Answer: "chat.example.com"},
			{Question: "already run a reverse proxy", Answer: false},
			{Question: "How should HTTPS work?", Answer: tlsOwn},
			{Question: "Certificate file", Answer: filepath.Join(tls, "key.pem")}, // the wrong file
			{Question: "Key file (PEM, unencrypted; empty to go back to the HTTPS question)", Answer: ""},
			{Question: "How should HTTPS work?", Answer: ""}, // the default is now: own files
			{Question: "Certificate file", Answer: filepath.Join(tls, "cert.pem")},
			{Question: "Key file", Answer: filepath.Join(tls, "key.pem")},
			{Question: "Enterprise licence", Answer: false},
			{Question: "Expected concurrent users", Answer: ""},
			{Question: "MongoDB replica set", Answer: "1 member"},
			{Question: "Run monitoring", Answer: false},
			{Question: "Back up", Answer: true},
			{Question: "Write the deployment to", Answer: "Write it"},
		}, "generate", "--out", out)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		answers := string(read(t, filepath.Join(out, "rcgen.yaml")))
		if !strings.Contains(answers, "cert.pem") || !strings.Contains(answers, `domain: "chat.example.com"`) {
			t.Errorf("the certificate answered after going back is not the one used, or the domain was lost:\n%s", answers)
		}
	})
}

// TestWizardReasksABadSMTPPassword: a password .env cannot hold safely,
// or none for a login, is asked again at its own prompt.
func TestWizardReasksABadSMTPPassword(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	r, _ := runWizard(t, []step{
		{Question: "several hosts", Answer: false},
		{Question: "Public domain name", Answer: "localhost"},
		{Question: "Enterprise licence", Answer: false},
		{Question: "Expected concurrent users", Answer: ""},
		{Question: "MongoDB replica set", Answer: "1 member"},
		{Question: "Run monitoring", Answer: true},
		{Question: "Keep every container's logs", Answer: true},
		{Question: "Email alerts to", Answer: "ops@example.com"},
		{Question: "Mail server", Answer: "smtp.example.com:587"},
		{Question: "Sender address", Answer: "rc@example.com"},
		{Question: "SMTP login", Answer: "rc"},
		{Question: "SMTP password", Answer: "it's"},
		{Question: "SMTP password", Answer: ""},
		{Question: "SMTP password", Answer: "fine$pass"},
		{Question: "Rocket.Chat's own email", Answer: false},
		{Question: "Back up", Answer: true},
		{Question: "Write the deployment to", Answer: "Write it"},
	}, "generate", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "cannot store it safely") || !strings.Contains(r.stderr, "needs its password") {
		t.Errorf("the prompts did not say why: %s", r.stderr)
	}
	if got := envOf(t, read(t, filepath.Join(out, ".env")))["SMTP_PASSWORD"]; got != "fine$pass" {
		t.Errorf("SMTP_PASSWORD = %q", got)
	}
}

// TestNoQuestionsSaysWhy: a terminal on standard input but standard error
// redirected, or TERM=dumb: rcgen asks nothing and says why.
func TestNoQuestionsSaysWhy(t *testing.T) {
	r := runEnv(func(e *Env) {
		e.IO.InTerminal, e.IO.OutTerminal = true, true
		e.Prompter = nil
	}, "generate", "--out", filepath.Join(t.TempDir(), "d"))
	if r.code != 0 || !strings.Contains(r.stderr, "Note: standard error is not a terminal") {
		t.Errorf("stderr redirected: exit %d: %s", r.code, r.stderr)
	}
	r = runEnv(func(e *Env) {
		e.IO.InTerminal, e.IO.ErrTerminal, e.IO.Interactive = true, true, true
		e.Prompter = func() prompt.Prompter { return prompttest.NewScript(t) } // any question fails the test
		e.Getenv = func(k string) string {
			if k == "TERM" {
				return "dumb"
			}
			return ""
		}
	}, "generate", "--out", filepath.Join(t.TempDir(), "d"))
	if r.code != 0 || !strings.Contains(r.stderr, "Note: TERM=dumb") {
		t.Errorf("TERM=dumb: exit %d: %s", r.code, r.stderr)
	}
}
