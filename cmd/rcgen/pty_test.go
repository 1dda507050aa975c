package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// buildRcgen builds the real binary once for the end-to-end tests.
var buildRcgen = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "rcgen-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "rcgen")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &buildError{err, string(out)}
	}
	return bin, nil
})

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// terminal drives the binary on a pseudo-terminal.
type terminal struct {
	t    *testing.T
	f    *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[a-zA-Z]`)

func startTerminal(t *testing.T, dir string, args ...string) *terminal {
	t.Helper()
	return startTerminalWith(t, dir, nil, args...)
}

// startTerminalWith is startTerminal with setup changing the command first
// (a stream it sets stays off the terminal).
func startTerminalWith(t *testing.T, dir string, setup func(*exec.Cmd), args ...string) *terminal {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the pseudo-terminal test in -short mode (make check); make test runs it")
	}
	bin, err := buildRcgen()
	if err != nil {
		t.Fatalf("building rcgen: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TERM=xterm", "RCGEN_NO_INPUT=")
	if setup != nil {
		setup(cmd)
	}
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 220})
	if err != nil {
		msg := "no pseudo-terminal available (" + err.Error() + "): the wizard is NOT tested end to end"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPED: " + msg)
	}
	term := &terminal{t: t, f: f, cmd: cmd, done: make(chan struct{})}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := f.Read(b)
			// survey asks the terminal where the cursor is (ESC [6n) and
			// waits for the answer; answer as a terminal would.
			for range bytes.Count(b[:n], []byte("\x1b[6n")) {
				_, _ = f.WriteString("\x1b[10;1R")
			}
			term.mu.Lock()
			term.buf.Write(b[:n])
			term.mu.Unlock()
			if err != nil {
				close(term.done)
				return
			}
		}
	}()
	t.Cleanup(func() { f.Close(); _ = cmd.Process.Kill() })
	return term
}

func (term *terminal) screen() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return ansi.ReplaceAllString(term.buf.String(), "")
}

// expect waits until the output shows s (at most 20 seconds: a hang is a
// failure, not a slow machine).
func (term *terminal) expect(s string) {
	term.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(term.screen(), s) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	term.t.Fatalf("waited for %q; the terminal shows:\n%s", s, term.screen())
}

// settle waits until the program has printed nothing for a while: survey
// asks the terminal for the cursor position after drawing a prompt, and
// keys typed before it has read the answer would be taken for part of it.
func (term *terminal) settle() {
	last, quiet := -1, 0
	for quiet < 5 {
		time.Sleep(40 * time.Millisecond)
		term.mu.Lock()
		n := term.buf.Len()
		term.mu.Unlock()
		if n == last {
			quiet++
		} else {
			last, quiet = n, 0
		}
	}
}

// send types keys, as a person would, a little apart.
func (term *terminal) send(keys ...string) {
	term.t.Helper()
	for _, k := range keys {
		if _, err := term.f.WriteString(k); err != nil {
			term.t.Fatal(err)
		}
		time.Sleep(60 * time.Millisecond)
	}
}

// answer waits for a prompt, and clears what the screen showed so far so
// the next expect only sees new output.
func (term *terminal) answer(prompt string, keys ...string) {
	term.t.Helper()
	term.expect(prompt)
	term.settle()
	term.mu.Lock()
	term.buf.Reset()
	term.mu.Unlock()
	term.send(keys...)
}

func (term *terminal) wait() int {
	term.t.Helper()
	select {
	case <-term.done:
	case <-time.After(30 * time.Second):
		term.t.Fatalf("rcgen did not exit; the terminal shows:\n%s", term.screen())
	}
	err := term.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		term.t.Fatal(err)
	}
	return 0
}

const (
	enter     = "\r"
	arrowDown = "\x1b[B"
	esc       = "\x1b"
)

// help types ? (and Enter, but on a select, where ? acts at once) at the
// question on screen, waits for its help, and lets it settle: the
// question is asked again, ? taken for no answer.
func (term *terminal) help(want string, keys ...string) {
	term.t.Helper()
	term.send(keys...)
	term.expect("? " + want)
	term.settle()
}

// TestWizardOnATerminal runs the real binary on a pseudo-terminal and
// answers the wizard by typing, arrow keys and Enter included. ? shows
// the help of every kind of question (input, select, confirmation,
// password) and is never taken for the answer: at "Sender address" it
// was once refused as an address, at "SMTP login" stored as the login.
func TestWizardOnATerminal(t *testing.T) {
	dir := t.TempDir()
	term := startTerminal(t, dir, "generate", "--cpus", "8", "--memory", "16GiB")
	term.answer("Directory to write the deployment into", "deploy", enter)
	term.answer("several hosts", enter) // default no
	term.answer("Public domain name users will type", "chat.example.com", enter)
	// "n" typed, not the default: the default is what this host runs.
	term.answer("Does this host already run a reverse proxy?", "n", enter)
	term.answer("How should HTTPS work?", enter) // the default: Let's Encrypt
	term.answer("Email for Let's Encrypt", "ops@example", enter)
	term.expect("Sorry, your reply was invalid: \"ops@example\" does not end in a public domain") // shown, asked again
	term.settle()
	term.send("\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", "ops@example.com", enter)
	term.answer("Enterprise licence", "n", enter)
	term.answer("Expected concurrent users", "50", enter)
	term.answer("MongoDB replica set", "?")
	term.help("Rocket.Chat needs a replica set")
	term.send(arrowDown, enter) // 3 members
	term.answer("Run monitoring", "?", enter)
	term.help("Dashboards for the app processes")
	term.send(enter) // default yes
	// The logs question: the default, yes.
	term.answer("Keep every container's logs", enter)
	term.answer("Email alerts to", "ops@example.com", enter)
	term.answer("Mail server", "smtp.example.com:587", enter)
	term.answer("Sender address", "?", enter)
	term.help("The From address of the alert emails")
	term.send("rc@example.com", enter)
	term.answer("SMTP login", "?", enter)
	term.help("The user name the mail server asks for")
	term.send("rc", enter)
	term.answer("SMTP password", "?", enter)
	term.help("The password of that login")
	term.send("p4ss", enter)                      // typed without echo
	term.answer("Rocket.Chat's own email", enter) // default yes
	term.answer("Back up daily at 03:00 UTC", "n", enter)
	term.answer("Write the deployment to deploy?", enter)
	declineStart(term)
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d; the terminal shows:\n%s", code, term.screen())
	}
	term.expect("Next: cd deploy && docker compose up -d, then open https://chat.example.com")

	compose, err := os.ReadFile(filepath.Join(dir, "deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(compose), "mongodb-3:") || !strings.Contains(string(compose), "prometheus:") || strings.Contains(string(compose), "\n  backup:") {
		t.Error("the answers typed (3 members, monitoring, no backups) are not in compose.yaml")
	}
	env, _ := os.ReadFile(filepath.Join(dir, "deploy", ".env"))
	if !strings.Contains(string(env), "ACME_EMAIL=ops@example.com") || !strings.Contains(string(env), "SMTP_PASSWORD='p4ss'") {
		t.Errorf(".env lacks the email or SMTP password typed:\n%s", env)
	}
	if strings.Contains(term.screen(), "p4ss") {
		t.Error("the SMTP password was echoed on the terminal")
	}
	answers, _ := os.ReadFile(filepath.Join(dir, "deploy", "rcgen.yaml"))
	for _, want := range []string{`smtp_from: "rc@example.com"`, `smtp_user: "rc"`, "monitoring: true"} {
		if !strings.Contains(string(answers), want) {
			t.Errorf("rcgen.yaml lacks %s: ? was taken for an answer:\n%s", want, answers)
		}
	}
}

// TestWizardAsksWhenOutputIsPiped is `rcgen generate | tee log` on a
// terminal: standard output is a pipe, standard input and standard error
// are the terminal. The wizard asks on standard error, and the summary goes
// down the pipe, not onto the terminal.
func TestWizardAsksWhenOutputIsPiped(t *testing.T) {
	dir := t.TempDir()
	var stdout bytes.Buffer // written by exec's copier until Wait returns
	term := startTerminalWith(t, dir, func(c *exec.Cmd) { c.Stdout = &stdout },
		"generate", "--out", "deploy", "--cpus", "4", "--memory", "8GiB", "--domain", "localhost", "--users", "10", "--no-monitoring", "--target", "compose")
	term.answer("Enterprise licence", "n", enter)
	term.answer("MongoDB replica set", enter)
	term.answer("Back up", enter)
	term.answer("Write the deployment to deploy?", enter)
	declineStart(term)
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d; the terminal shows:\n%s\nstdout:\n%s", code, term.screen(), stdout.String())
	}
	out := stdout.String()
	for _, want := range []string{"Wrote ", "Next: cd deploy && docker compose up -d"} {
		if !strings.Contains(out, want) {
			t.Errorf("the pipe lacks the summary (%q):\n%s", want, out)
		}
	}
	if strings.Contains(out, "Enterprise licence?") || strings.Contains(out, "Write the deployment to deploy?") {
		t.Errorf("the questions were drawn on the pipe, not the terminal:\n%s", out)
	}
	if strings.Contains(term.screen(), "Next: cd deploy") {
		t.Errorf("the summary went to the terminal (stderr), not down the pipe:\n%s", term.screen())
	}
	if _, err := os.Stat(filepath.Join(dir, "deploy", "compose.yaml")); err != nil {
		t.Errorf("nothing written: %v", err)
	}
}

// TestBadFlagsStopBeforeAnyQuestion: on a terminal, every invalid flag is
// reported at once, and nothing is asked first.
func TestBadFlagsStopBeforeAnyQuestion(t *testing.T) {
	dir := t.TempDir()
	term := startTerminal(t, dir, "generate", "--memory", "16XB", "--domain", "https://chat.example.com", "--metrics-retention", "1d1d1d")
	if code := term.wait(); code != 2 {
		t.Fatalf("exit %d, want 2; the terminal shows:\n%s", code, term.screen())
	}
	screen := term.screen()
	for _, want := range []string{`--memory: "16XB" is not a size`, `--domain: "https://chat.example.com" is a URL`, `--metrics-retention: "1d1d1d" is not a Prometheus duration`} {
		if !strings.Contains(screen, want) {
			t.Errorf("the terminal lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "?") || strings.Contains(screen, "This host") {
		t.Errorf("rcgen asked or showed something before refusing the flags:\n%s", screen)
	}
}

func TestWizardEscCancels(t *testing.T) {
	dir := t.TempDir()
	term := startTerminal(t, dir, "generate", "--out", "deploy", "--memory", "8GiB", "--cpus", "4", "--target", "compose")
	term.answer("Public domain name users will type", "chat.example.com", enter)
	term.answer("Does this host already run a reverse proxy?", "n", enter)
	term.answer("How should HTTPS work?", esc)
	if code := term.wait(); code != 130 {
		t.Errorf("Esc: exit %d, want 130; the terminal shows:\n%s", code, term.screen())
	}
	term.expect("Interrupted: nothing was written.")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Esc left %d entries behind", len(entries))
	}
}

func TestWizardCtrlCCancels(t *testing.T) {
	dir := t.TempDir()
	term := startTerminal(t, dir, "generate", "--out", "deploy", "--memory", "8GiB", "--cpus", "4", "--target", "compose")
	term.answer("Public domain name users will type", "\x03")
	if code := term.wait(); code != 130 {
		t.Errorf("Ctrl-C: exit %d, want 130; the terminal shows:\n%s", code, term.screen())
	}
	if _, err := os.Stat(filepath.Join(dir, "deploy")); err == nil {
		t.Error("Ctrl-C still wrote the deployment")
	}
}

// TestNoTerminalNeverPrompts runs the real binary with no terminal and a
// public domain but no email: it must fail at once, naming the flag.
func TestNoTerminalNeverPrompts(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the binary end-to-end test in -short mode (make check); make test runs it")
	}
	bin, err := buildRcgen()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "generate", "--domain", "chat.example.com", "--out", "deploy")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), "--email: an email address for Let's Encrypt is required") {
		t.Errorf("err %v, stderr %q; want exit 2 naming --email", err, stderr.String())
	}
	if time.Since(start) > 10*time.Second {
		t.Error("rcgen waited for input without a terminal")
	}
}

// TestSplitArrowKeyDoesNotCancel: over a slow link the bytes of an arrow
// key may arrive apart; the ESC that starts one must not cancel like a
// lone Esc does. NO_COLOR turns the questions' colours off.
func TestSplitArrowKeyDoesNotCancel(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	dir := t.TempDir()
	term := startTerminal(t, dir, "generate", "--out", "deploy", "--cpus", "8", "--memory", "16GiB", "--domain", "localhost", "--users", "10", "--no-monitoring", "--target", "compose")
	term.answer("Enterprise licence", "n", enter)
	term.answer("MongoDB replica set")
	if _, err := term.f.WriteString("\x1b"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(15 * time.Millisecond)
	term.send("[B", enter) // the rest of arrow-down, then Enter: 3 members
	term.answer("Back up", enter)
	term.answer("Write the deployment to deploy?", enter)
	declineStart(term)
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d; the terminal shows:\n%s", code, term.screen())
	}
	compose, err := os.ReadFile(filepath.Join(dir, "deploy", "compose.yaml"))
	if err != nil || !strings.Contains(string(compose), "mongodb-3:") {
		t.Errorf("the split arrow key did not choose 3 members (%v)", err)
	}
	term.mu.Lock()
	raw := term.buf.String()
	term.mu.Unlock()
	if regexp.MustCompile(`\x1b\[[0-9;]*3[0-7]m`).MatchString(raw) {
		t.Error("NO_COLOR is set, and the terminal still got colours")
	}
}
