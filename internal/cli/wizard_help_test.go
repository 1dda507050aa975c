package cli

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/prompt"
	"github.com/rcgen/rcgen/internal/prompt/prompttest"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// askSite is one place in this package's code where the wizard asks a
// question (a call of w.p.Input, Select, Confirm or Password).
type askSite struct {
	file       string
	from, to   int // the lines the call spans
	method     string
	firstWords string
}

func (s askSite) String() string {
	return fmt.Sprintf("%s:%d (%s %s)", s.file, s.from, s.method, s.firstWords)
}

// wizardAskSites finds every question the wizard can ask by reading this
// package's source: every call of a Prompter method on the wizard's
// prompter (w.p). A new question is found here the day it is written.
func wizardAskSites(t *testing.T) []askSite {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var sites []askSite
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			switch sel.Sel.Name {
			case "Input", "Select", "Confirm", "Password":
			default:
				return true
			}
			recv, ok := sel.X.(*ast.SelectorExpr)
			if !ok || recv.Sel.Name != "p" {
				return true
			}
			if id, ok := recv.X.(*ast.Ident); !ok || id.Name != "w" {
				return true
			}
			words := "(a computed message)"
			if lit, ok := call.Args[0].(*ast.BasicLit); ok {
				words = lit.Value
			}
			sites = append(sites, askSite{file: name, from: fset.Position(call.Pos()).Line, to: fset.Position(call.End()).Line, method: sel.Sel.Name, firstWords: words})
			return true
		})
	}
	return sites
}

// helpRecorder asks the script, and notes where each question was asked
// from and whether it had help.
type helpRecorder struct {
	t      *testing.T
	p      prompt.Prompter
	called map[string][]int // file -> lines of the calls seen
}

func (r *helpRecorder) note(message, help string) {
	_, file, line, ok := runtime.Caller(2)
	if !ok {
		r.t.Fatal("no caller")
	}
	file = filepath.Base(file)
	r.called[file] = append(r.called[file], line)
	if strings.TrimSpace(help) == "" {
		r.t.Errorf("%s:%d: %q has no help: survey takes ? for its answer", file, line, message)
	}
}

func (r *helpRecorder) Input(message, help, def string, validate func(string) error) (string, error) {
	r.note(message, help)
	return r.p.Input(message, help, def, validate)
}

func (r *helpRecorder) Select(message, help string, options []string, def string) (string, error) {
	r.note(message, help)
	return r.p.Select(message, help, options, def)
}

func (r *helpRecorder) Confirm(message, help string, def bool) (bool, error) {
	r.note(message, help)
	return r.p.Confirm(message, help, def)
}

func (r *helpRecorder) Password(message, help string) (string, error) {
	r.note(message, help)
	return r.p.Password(message, help)
}

// TestEveryWizardQuestionHasHelp walks every question the wizard can ask
// (every branch: Swarm, an IP address, own certificate files and the way
// back, a licence, alert emails, changing an answer and the release, a
// re-run's diff) and checks each has help, so ? shows it instead of being
// taken for the answer. The questions are found in the source: one this
// walk never reaches fails the test, so a new question needs its help and
// a place here.
func TestEveryWizardQuestionHasHelp(t *testing.T) {
	tls := filepath.Join("..", "render", "testdata", "tls")
	dir := t.TempDir()
	licence := filepath.Join(dir, "rc.license")
	if err := os.WriteFile(licence, []byte("LICENCE-TEXT\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &helpRecorder{t: t, called: map[string][]int{}}
	var lookPath func(string) (string, error) // docker's, for "Start it now?"
	ask := func(steps []step, wantCode int, args ...string) {
		t.Helper()
		rec.p = prompttest.NewScript(t, steps...)
		var out, errOut bytes.Buffer
		env := Env{
			IO: IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Interactive: true},
			Detect: func() (sizing.Host, error) {
				return sizing.Host{CPUs: 8, CPUSource: "test", Memory: 16 * spec.GiB, MemorySource: "test"}, nil
			},
			Getenv:   func(string) string { return "" },
			Prompter: func() prompt.Prompter { return rec },
			LookPath: lookPath,
		}
		if code := Run(context.Background(), env, args); code != wantCode {
			t.Fatalf("rcgen %s: exit %d, want %d: %s", strings.Join(args, " "), code, wantCode, errOut.String())
		}
	}

	// One host: every question of the way to the plan, the way back from
	// the certificate, and changing the release after the plan.
	ask([]step{
		{Question: "Directory to write the deployment into", Answer: filepath.Join(dir, "one")},
		{Question: "several hosts", Answer: false},
		{Question: "Public domain name", Answer: "203.0.113.7"},
		{Question: "is an IP address", Answer: false},
		{Question: "Public domain name", Answer: "chat.example.com"},
		{Question: "already run a reverse proxy", Answer: false},
		{Question: "How should HTTPS work?", Answer: tlsOwn},
		{Question: "Certificate file", Answer: filepath.Join(tls, "cert.pem")},
		{Question: "Key file", Answer: ""},
		{Question: "How should HTTPS work?", Answer: "Let's Encrypt"},
		{Question: "Email for Let's Encrypt", Answer: "ops@example.com"},
		{Question: "Enterprise licence", Answer: true},
		{Question: "Licence file", Answer: licence},
		{Question: "Expected concurrent users", Answer: "40"},
		{Question: "MongoDB replica set", Answer: "3 members"},
		{Question: "Run monitoring", Answer: true},
		{Question: "Keep every container's logs", Answer: true},
		{Question: "Email alerts to", Answer: "ops@example.com"},
		{Question: "Mail server", Answer: "smtp.example.com:587"},
		{Question: "Sender address", Answer: "rc@example.com"},
		{Question: "SMTP login", Answer: "rc"},
		{Question: "SMTP password", Answer: "hunter2"},
		{Question: "Rocket.Chat's own email", Answer: true},
		{Question: "Back up", Answer: true},
		{Question: "Write the deployment to", Answer: "Change an answer"},
		{Question: "Which answer?", Answer: "Rocket.Chat release"},
		{Question: "Rocket.Chat release to deploy", Answer: ""},
		{Question: "Write the deployment to", Answer: "Cancel"},
	}, ExitError, "generate")

	// A proxy the host already runs: which one, and its network.
	ask([]step{
		{Question: "Public domain name", Answer: "chat.example.com"},
		{Question: "already run a reverse proxy", Answer: true},
		{Question: "Which one?", Answer: "caddy-docker-proxy, in a container"},
		{Question: "Docker network your proxy watches", Answer: ""},
		{Question: "Write the deployment to", Answer: "Cancel"},
	}, ExitError, "generate", "--out", filepath.Join(dir, "own-proxy"), "--target", "compose", "--license-file", "", "--users", "5",
		"--mongodb-members", "1", "--no-monitoring", "--backup-schedule", "6h")

	// Several hosts: the nodes.
	ask([]step{
		{Question: "several hosts", Answer: true},
		{Question: "Which platform", Answer: "Docker Swarm (docker stack deploy)"},
		{Question: "Swarm nodes", Answer: "node-1=4:8GiB node-2=4:8GiB node-3=4:8GiB"},
		{Question: "Write the deployment to", Answer: "Cancel"},
	}, ExitError, "generate", "--out", filepath.Join(dir, "swarm"), "--domain", "chat.example.com", "--proxy", "caddy", "--email", "ops@example.com", "--license-file", "", "--users", "5",
		"--mongodb-members", "3", "--no-monitoring", "--backup-schedule", "6h")

	// Kubernetes: the nodes, the namespace, storage and ingress, HTTPS by
	// cert-manager, and who monitors.
	ask([]step{
		{Question: "several hosts", Answer: true},
		{Question: "Which platform", Answer: "Kubernetes (kubectl apply -k; also Rancher and OpenShift)"},
		{Question: "Kubernetes nodes", Answer: "node-1=4:8GiB node-2=4:8GiB node-3=4:8GiB"},
		{Question: "Kubernetes namespace", Answer: "chat"},
		{Question: "StorageClass", Answer: "fast-ssd"},
		{Question: "How do users reach Rocket.Chat?", Answer: "Gateway API (an HTTPRoute on a Gateway you run)"},
		{Question: "Gateway the HTTPRoute attaches to", Answer: "gateway-system/public"},
		{Question: "How should HTTPS work?", Answer: ""},
		{Question: "Run monitoring", Answer: true},
		{Question: "Who monitors it?", Answer: "rcgen's own Prometheus and Grafana in the namespace"},
		{Question: "Email alerts to", Answer: ""},
		{Question: "Write the deployment to", Answer: "Cancel"},
	}, ExitError, "generate", "--out", filepath.Join(dir, "kube"), "--domain", "chat.example.com", "--email", "ops@example.com", "--license-file", "", "--users", "5",
		"--mongodb-members", "3", "--backup-schedule", "6h")

	// A re-run that changes the deployment: the diff is asked about.
	rerun := filepath.Join(dir, "rerun")
	ask(nil, ExitOK, "generate", "--yes", "--out", rerun)
	ask([]step{
		{Question: "Apply these changes?", Answer: false},
	}, ExitError, "generate", "--out", rerun, "--target", "compose", "--domain", "localhost", "--license-file", "", "--users", "5",
		"--mongodb-members", "3", "--no-monitoring", "--backup-schedule", "6h")

	// Docker on the PATH: the last question offers to start it.
	lookPath = func(name string) (string, error) { return "/usr/bin/" + name, nil }
	ask([]step{
		{Question: "Start it now?", Answer: false},
	}, ExitOK, "generate", "--out", filepath.Join(dir, "start"), "--target", "compose", "--domain", "localhost", "--license-file", "", "--users", "5",
		"--mongodb-members", "1", "--no-monitoring", "--backup-schedule", "6h")
	lookPath = nil

	sites := wizardAskSites(t)
	if len(sites) < 20 {
		t.Fatalf("found only %d questions in the source: the scan is broken", len(sites))
	}
	var missed []string
	for _, s := range sites {
		hit := false
		for _, line := range rec.called[s.file] {
			hit = hit || s.from <= line && line <= s.to
		}
		if !hit {
			missed = append(missed, s.String())
		}
	}
	sort.Strings(missed)
	if len(missed) > 0 {
		t.Errorf("questions this walk never asked, so their help is unchecked: add them to it:\n%s", strings.Join(missed, "\n"))
	}
}
