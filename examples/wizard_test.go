package examples

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/cli"
	"github.com/rcgen/rcgen/internal/golden"
	"github.com/rcgen/rcgen/internal/prompt"
	"github.com/rcgen/rcgen/internal/prompt/prompttest"
	"github.com/rcgen/rcgen/internal/sizing"
)

// readmeWizard is the run the README shows: its answers, in the order the
// wizard asks, as a person types them ("" is Enter on the default).
var readmeWizard = []prompttest.Step{
	{Question: "Directory to write the deployment into", Answer: ""},
	{Question: "several hosts", Answer: false},
	{Question: "Public domain name", Answer: "chat.example.com"},
	{Question: "already run a reverse proxy", Answer: false},
	{Question: "How should HTTPS work?", Answer: "Let's Encrypt"},
	{Question: "Email for Let's Encrypt", Answer: "admin@example.com"},
	{Question: "Enterprise licence", Answer: false},
	{Question: "Expected concurrent users", Answer: "40"},
	{Question: "MongoDB replica set", Answer: "3 members"},
	{Question: "Run monitoring", Answer: true},
	{Question: "Keep every container's logs", Answer: true},
	{Question: "Email alerts to", Answer: "ops@example.com"},
	{Question: "Mail server", Answer: "smtp.example.com:587"},
	{Question: "Sender address", Answer: "rocketchat@example.com"},
	{Question: "SMTP login", Answer: "rocketchat"},
	{Question: "SMTP password", Answer: "hunter22"},
	{Question: "Rocket.Chat's own email", Answer: true},
	{Question: "Back up", Answer: true},
	{Question: "Write the deployment to", Answer: "Write it"},
}

// hostRoot writes a host of 8 cores and 16GiB as the files rcgen detects
// it from (/proc/cpuinfo, /proc/meminfo) and returns its root.
func hostRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	var cpuinfo strings.Builder
	for i := range 8 {
		fmt.Fprintf(&cpuinfo, "processor\t: %d\nvendor_id\t: GenuineIntel\nmodel name\t: Example CPU\n\n", i)
	}
	const memKiB = 16 * 1024 * 1024
	files := map[string]string{
		"proc/cpuinfo": cpuinfo.String(),
		"proc/meminfo": fmt.Sprintf("MemTotal:       %d kB\nMemFree:        %d kB\nMemAvailable:   %d kB\n", memKiB, memKiB/2, memKiB/2),
	}
	if err := os.MkdirAll(filepath.Join(root, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for p, c := range files {
		if err := os.WriteFile(filepath.Join(root, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestReadmeWizardTranscript keeps the README's wizard run what the wizard
// does today: plain `rcgen` on a terminal of an 8-core 16GiB host,
// answered as readmeWizard says, each question shown as survey leaves it
// once answered (prompt.Answered) between what rcgen prints, in order.
// `make examples` rewrites it.
func TestReadmeWizardTranscript(t *testing.T) {
	readmePath, err := filepath.Abs(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	detector := &sizing.Detector{Root: hostRoot(t)}
	t.Chdir(t.TempDir()) // the deployment goes into ./rocketchat, as in the README

	var term bytes.Buffer
	term.WriteString("$ rcgen\n")
	script := prompttest.NewScript(t, readmeWizard...)
	env := cli.Env{
		// A terminal shows both streams, in the order they are written.
		IO:     cli.IOStreams{In: strings.NewReader(""), Out: &term, ErrOut: &term, Interactive: true, InTerminal: true, OutTerminal: true, ErrTerminal: true},
		Detect: detector.Detect,
		Getenv: func(string) string { return "" },
		// The day the default release came out: no support warning.
		Now:      func() time.Time { return catalog.Default().Released.Time },
		Prompter: func() prompt.Prompter { return prompttest.Transcript{P: script, W: &term} },
	}
	if code := cli.Run(context.Background(), env, []string{}); code != 0 { // plain `rcgen` (nil would be the test's own arguments)
		t.Fatalf("rcgen: exit %d\n%s", code, term.String())
	}
	if len(script.Errors) > 0 {
		t.Fatalf("the README's answers were refused: %q", script.Errors)
	}

	const begin, end = "A run:\n\n```text\n", "```\n"
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i := strings.Index(s, begin)
	if i < 0 {
		t.Fatalf("README.md has no %q before the wizard's transcript", begin)
	}
	i += len(begin)
	j := strings.Index(s[i:], end)
	if j < 0 {
		t.Fatal("README.md's wizard transcript never ends")
	}
	want := s[:i] + term.String() + s[i+j:]
	if *update {
		if err := golden.WriteFile(readmePath, []byte(want)); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != s {
		t.Errorf("README.md's wizard transcript is stale: run make examples. The wizard shows:\n%s", term.String())
	}
}
