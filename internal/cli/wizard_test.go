package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/hostproxy"
	"github.com/rcgen/rcgen/internal/prompt"
	"github.com/rcgen/rcgen/internal/prompt/prompttest"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

type step = prompttest.Step

// runWizard runs rcgen as on a terminal, answering prompts from steps.
func runWizard(t *testing.T, steps []step, args ...string) (result, *prompttest.Script) {
	t.Helper()
	script := prompttest.NewScript(t, steps...)
	var out, errOut bytes.Buffer
	env := Env{
		IO: IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Interactive: true},
		Detect: func() (sizing.Host, error) {
			return sizing.Host{CPUs: 8, CPUSource: "test", Memory: 16 * spec.GiB, MemorySource: "test"}, nil
		},
		Getenv:   func(string) string { return "" },
		Prompter: func() prompt.Prompter { return script },
	}
	code := Run(context.Background(), env, args)
	return result{code, out.String(), errOut.String()}, script
}

func TestWizardAllAnswersByFlagsAsksNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	r, _ := runWizard(t, nil, "generate", "--out", out, "--domain", "chat.example.com", "--proxy", "caddy",
		"--email", "a@example.com", "--license-file", "", "--users", "10", "--mongodb-members", "1", "--no-monitoring", "--backup-schedule", "6h", "--target", "compose")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "compose.yaml")); err != nil {
		t.Error("nothing written")
	}
}

func TestWizardAsksOnlyWhatIsMissing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	r, script := runWizard(t, []step{
		{Question: "several hosts", Answer: false},
		{Question: "Public domain name", Answer: "Chat.Example.com"}, // invalid: upper case
		{Question: "Public domain name", Answer: "chat.example.com"},
		{Question: "already run a reverse proxy", Answer: false},
		{Question: "How should HTTPS work?", Answer: "Let's Encrypt"},
		{Question: "Email for Let's Encrypt", Answer: "not-an-email"},
		{Question: "Email for Let's Encrypt", Answer: "ops@example.com"},
		{Question: "Enterprise licence", Answer: false},
		{Question: "Expected concurrent users", Answer: "many"},
		{Question: "Expected concurrent users", Answer: "40"},
		{Question: "Back up", Answer: true},
		{Question: "Write the deployment to", Answer: "Write it"},
	}, "generate", "--out", out, "--mongodb-members", "3", "--no-monitoring")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if len(script.Errors) != 3 || !strings.Contains(script.Errors[0], "lower case") || !strings.Contains(script.Errors[1], "not an email address") || !strings.Contains(script.Errors[2], "not a number of users") {
		t.Errorf("validation errors shown: %q", script.Errors)
	}
	// The wizard (the host, the plan it asks about) is on stderr; the
	// summary of what was written is the result, on stdout.
	for _, want := range []string{"This host: 8 cores (test), 16GiB memory (test).", "app processes"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("wizard output lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, want := range []string{"Next: cd " + out, "first account you register"} {
		if !strings.Contains(r.stdout, want) || strings.Contains(r.stderr, want) {
			t.Errorf("the summary is not on stdout (%q):\nstdout:\n%s\nstderr:\n%s", want, r.stdout, r.stderr)
		}
	}
	answers := string(read(t, filepath.Join(out, "rcgen.yaml")))
	for _, want := range []string{`domain: "chat.example.com"`, `email: "ops@example.com"`, "users: 40", "mongodb_members: 3", "monitoring: false"} {
		if !strings.Contains(answers, want) {
			t.Errorf("rcgen.yaml lacks %q:\n%s", want, answers)
		}
	}
}

func TestWizardChangeAnAnswer(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	r, _ := runWizard(t, []step{
		{Question: "several hosts", Answer: false},
		{Question: "Public domain name", Answer: "localhost"},
		{Question: "Enterprise licence", Answer: false},
		{Question: "Expected concurrent users", Answer: ""},
		{Question: "MongoDB replica set", Answer: "1 member"},
		{Question: "Run monitoring", Answer: true},
		{Question: "Keep every container's logs", Answer: true},
		{Question: "Email alerts to", Answer: ""},
		{Question: "Back up", Answer: true},
		{Question: "Write the deployment to", Answer: "Change an answer"},
		{Question: "Which answer?", Answer: "MongoDB members"},
		{Question: "MongoDB replica set", Answer: "3 members"},
		{Question: "Write the deployment to", Answer: "Write it"},
	}, "generate", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(string(read(t, filepath.Join(out, "compose.yaml"))), "mongodb-3:") {
		t.Error("the changed answer (3 members) was not used")
	}
}

func TestWizardDeclineAndCancelWriteNothing(t *testing.T) {
	for _, c := range []struct {
		name  string
		steps []step
		code  int
		msg   string
	}{
		{"decline", []step{
			{Question: "several hosts", Answer: false},
			{Question: "Public domain name", Answer: "localhost"},
			{Question: "Enterprise licence", Answer: false},
			{Question: "Expected concurrent users", Answer: ""},
			{Question: "Back up", Answer: true},
			{Question: "Write the deployment to", Answer: "Cancel"},
		}, 1, "Cancelled: nothing was written."},
		{"ctrl-c", []step{
			{Question: "several hosts", Answer: false},
			{Question: "Public domain name", Answer: "localhost"},
			{Question: "Enterprise licence", Answer: prompt.ErrInterrupted},
		}, 130, "Interrupted: nothing was written."},
		{"ctrl-c on the directory", []step{
			{Question: "Directory to write", Answer: prompt.ErrInterrupted},
		}, 130, "Interrupted: nothing was written."},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "d")
			args := []string{"generate", "--mongodb-members", "1", "--no-monitoring", "--out", out}
			if c.name == "ctrl-c on the directory" {
				args = []string{"generate"}
				wd, _ := os.Getwd()
				if err := os.Chdir(dir); err != nil {
					t.Fatal(err)
				}
				defer os.Chdir(wd)
			}
			r, _ := runWizard(t, c.steps, args...)
			if r.code != c.code || strings.TrimSpace(r.stderr) == "" || !strings.HasSuffix(strings.TrimSpace(r.stderr), c.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, c.code, c.msg)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("%d entries written", len(entries))
			}
		})
	}
}

// TestWizardRerunUsesTheDeploymentsAnswers checks a re-run on a terminal
// offers the deployment's answers as defaults, shows the diff and asks
// before applying it.
func TestWizardRerunUsesTheDeploymentsAnswers(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	if r := run(t, "generate", "--yes", "--domain", "chat.example.com", "--email", "a@example.com", "--users", "30", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	before := read(t, filepath.Join(out, "compose.yaml"))
	r, _ := runWizard(t, []step{
		{Question: "several hosts", Answer: false},
		{Question: "Public domain name", Answer: ""}, // keep the default: the deployment's
		{Question: "already run a reverse proxy", Answer: false},
		{Question: "How should HTTPS work?", Answer: ""},
		{Question: "Email for Let's Encrypt", Answer: ""},
		{Question: "Enterprise licence", Answer: false},
		{Question: "Expected concurrent users", Answer: ""},
		{Question: "MongoDB replica set", Answer: "3 members"},
		{Question: "Run monitoring", Answer: true},
		{Question: "Keep every container's logs", Answer: true},
		{Question: "Email alerts to", Answer: ""},
		{Question: "Back up", Answer: true},
		{Question: "Write the deployment to", Answer: "Write it"},
		{Question: "Apply these changes?", Answer: false},
	}, "generate", "--out", out)
	if r.code != 1 || !strings.Contains(r.stderr, "+  mongodb-3:") {
		t.Errorf("exit %d; want 1 after declining, with the diff shown:\n%s", r.code, r.stderr)
	}
	if !bytes.Equal(before, read(t, filepath.Join(out, "compose.yaml"))) {
		t.Error("declining the diff still changed compose.yaml")
	}
	if env := envOf(t, read(t, filepath.Join(out, ".env"))); env["ROOT_URL"] != "https://chat.example.com" {
		t.Errorf("ROOT_URL = %q", env["ROOT_URL"])
	}
}

func TestNoInputNeverPrompts(t *testing.T) {
	for _, args := range [][]string{
		{"generate", "--no-input", "--domain", "chat.example.com"},
		{"generate", "--yes", "--domain", "chat.example.com"},
	} {
		r, _ := runWizard(t, nil, append(args, "--out", filepath.Join(t.TempDir(), "d"))...)
		if r.code != 2 || !strings.Contains(r.stderr, "--email: an email address for Let's Encrypt is required") {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming --email", args, r.code, r.stderr)
		}
	}
}

func TestWizardIPOnlyWhenInsisted(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	r, _ := runWizard(t, []step{
		{Question: "several hosts", Answer: false},
		{Question: "Public domain name", Answer: "203.0.113.7"},
		{Question: "203.0.113.7 is an IP address", Answer: false},
		{Question: "Public domain name", Answer: "203.0.113.7"},
		{Question: "203.0.113.7 is an IP address", Answer: true},
		{Question: "Enterprise licence", Answer: false},
		{Question: "Expected concurrent users", Answer: ""},
		{Question: "Back up", Answer: true},
		{Question: "Write the deployment to", Answer: "Write it"},
	}, "generate", "--out", out, "--mongodb-members", "1", "--no-monitoring")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	env := envOf(t, read(t, filepath.Join(out, ".env")))
	if env["ROOT_URL"] != "http://203.0.113.7" {
		t.Errorf("ROOT_URL = %q, want plain http on the address", env["ROOT_URL"])
	}
	if !strings.Contains(string(read(t, filepath.Join(out, "rcgen.yaml"))), "allow_ip: true") {
		t.Error("rcgen.yaml does not record that the address was accepted")
	}
}

func TestAllowIPFlag(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	r := run(t, "generate", "--yes", "--domain", "203.0.113.7", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, "--domain: \"203.0.113.7\" is an IP address") || !strings.Contains(r.stderr, "--allow-ip") {
		t.Errorf("IP without --allow-ip: exit %d: %s", r.code, r.stderr)
	}
	r = run(t, "generate", "--yes", "--domain", "2001:db8::7", "--allow-ip", "--out", out)
	if r.code != 0 {
		t.Fatalf("IPv6 with --allow-ip: %s", r.stderr)
	}
	if got := envOf(t, read(t, filepath.Join(out, ".env")))["ROOT_URL"]; got != "http://[2001:db8::7]" {
		t.Errorf("ROOT_URL = %q", got)
	}
}

func TestWizardAlertEmail(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	r, script := runWizard(t, []step{
		{Question: "several hosts", Answer: false},
		{Question: "Keep every container's logs", Answer: true},
		{Question: "Email alerts to", Answer: "not an address"},
		{Question: "Email alerts to", Answer: "ops@example.com"},
		{Question: "Mail server", Answer: "smtp.example.com"},
		{Question: "Mail server", Answer: "smtp.example.com:587"},
		{Question: "Sender address", Answer: "rc@example.com"},
		{Question: "SMTP login", Answer: "rc"},
		{Question: "SMTP password", Answer: "hunter2"},
		{Question: "Rocket.Chat's own email", Answer: true},
		{Question: "Back up", Answer: true},
		{Question: "Write the deployment to", Answer: "Write it"},
	}, "generate", "--out", out, "--domain", "localhost", "--license-file", "", "--users", "5", "--mongodb-members", "1", "--no-monitoring=false")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if len(script.Errors) != 2 {
		t.Errorf("validation errors shown: %q", script.Errors)
	}
	if got := envOf(t, read(t, filepath.Join(out, ".env")))[render.EnvSMTPPassword]; got != "hunter2" {
		t.Errorf("SMTP_PASSWORD = %q", got)
	}
	if _, err := os.Stat(filepath.Join(out, render.AlertmanagerFile)); err != nil {
		t.Error("no Alertmanager configuration written")
	}
	compose := string(read(t, filepath.Join(out, "compose.yaml")))
	if !strings.Contains(compose, `OVERWRITE_SETTING_SMTP_Host: "smtp.example.com"`) || !strings.Contains(string(read(t, filepath.Join(out, "rcgen.yaml"))), "app_email: true") {
		t.Error("the mail server was not offered to Rocket.Chat itself")
	}
}

// TestWizardSwarm: "several hosts" asks for the nodes (a bad list is asked
// again), three nodes default to three members, and a stack is written.
func TestWizardSwarm(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	r, script := runWizard(t, []step{
		{Question: "several hosts", Answer: true},
		{Question: "Which platform", Answer: "Docker Swarm (docker stack deploy)"},
		{Question: "Swarm nodes", Answer: "node-1=4:8GiB node-1=4:8GiB"},
		{Question: "Swarm nodes", Answer: "node-1=4:8GiB node-2=4:8GiB node-3=4:8GiB"},
		{Question: "Public domain name", Answer: "chat.example.com"},
		{Question: "How should HTTPS work?", Answer: ""},
		{Question: "Email for Let's Encrypt", Answer: "ops@example.com"},
		{Question: "Enterprise licence", Answer: false},
		{Question: "Expected concurrent users", Answer: ""},
		{Question: "MongoDB replica set", Answer: ""},
		{Question: "Run monitoring", Answer: true},
		{Question: "Keep every container's logs", Answer: true},
		{Question: "Email alerts to", Answer: ""},
		{Question: "Back up", Answer: true},
		{Question: "Write the deployment to", Answer: "Write it"},
	}, "generate", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if len(script.Errors) != 1 || !strings.Contains(script.Errors[0], "given twice") {
		t.Errorf("errors: %q", script.Errors)
	}
	stack := string(read(t, filepath.Join(out, "stack.yaml")))
	if !strings.Contains(stack, `rcgen.node: "node-3"`) || !strings.Contains(stack, "mongodb-3:") {
		t.Errorf("the stack does not run three members on the three nodes typed")
	}
}

// TestWizardKubernetes: "several hosts" on Kubernetes asks for the nodes,
// the namespace, the storage class and the ingress, and for who monitors
// once monitoring is on; the directory kubectl apply -k deploys is written.
func TestWizardKubernetes(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	r, _ := runWizard(t, []step{
		{Question: "several hosts", Answer: true},
		{Question: "Which platform", Answer: "Kubernetes (kubectl apply -k; also Rancher and OpenShift)"},
		{Question: "Kubernetes nodes", Answer: "node-1=4:8GiB node-2=4:8GiB node-3=4:8GiB"},
		{Question: "Kubernetes namespace", Answer: "Chat"},
		{Question: "Kubernetes namespace", Answer: "chat"},
		{Question: "StorageClass", Answer: ""},
		{Question: "How do users reach Rocket.Chat?", Answer: "ingress-nginx (an Ingress)"},
		{Question: "Public domain name", Answer: "chat.example.com"},
		{Question: "How should HTTPS work?", Answer: ""},
		{Question: "Email for Let's Encrypt", Answer: "ops@example.com"},
		{Question: "Enterprise licence", Answer: false},
		{Question: "Expected concurrent users", Answer: ""},
		{Question: "MongoDB replica set", Answer: ""},
		{Question: "Run monitoring", Answer: true},
		{Question: "Who monitors it?", Answer: ""},
		{Question: "Email alerts to", Answer: ""},
		{Question: "Back up", Answer: true},
		{Question: "Write the deployment to", Answer: "Write it"},
	}, "generate", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	answers := string(read(t, filepath.Join(out, "rcgen.yaml")))
	for _, want := range []string{`target: "kubernetes"`, `kube_namespace: "chat"`, `ingress: "nginx"`, `kube_monitoring: "operator"`, `mongodb_members: 3`} {
		if !strings.Contains(answers, want) {
			t.Errorf("rcgen.yaml lacks %s:\n%s", want, answers)
		}
	}
	if k := string(read(t, filepath.Join(out, "kustomization.yaml"))); !strings.Contains(k, "namespace: chat\n") {
		t.Errorf("kustomization.yaml is not for namespace chat:\n%s", k)
	}
	if !strings.Contains(r.stdout, "kubectl apply -k") {
		t.Errorf("the summary does not say how to deploy:\n%s", r.stdout)
	}
}

// TestWizardWarnsOnce: the wizard shows the plan's warnings under the plan
// it asks about, and does not repeat them after writing; without the
// wizard, they are printed once.
func TestWizardWarnsOnce(t *testing.T) {
	const warning = "3 MongoDB members at the size Rocket.Chat's table asks cost 3 times the memory"
	out := filepath.Join(t.TempDir(), "d")
	r, _ := runWizard(t, []step{
		{Question: "several hosts", Answer: false},
		{Question: "Public domain name", Answer: "localhost"},
		{Question: "Enterprise licence", Answer: false},
		{Question: "Expected concurrent users", Answer: "40"},
		{Question: "Run monitoring", Answer: true},
		{Question: "Keep every container's logs", Answer: true},
		{Question: "Email alerts to", Answer: ""},
		{Question: "Back up", Answer: true},
		{Question: "Write the deployment to", Answer: "Write it"},
	}, "generate", "--out", out, "--mongodb-members", "3")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, warning); n != 1 || !strings.Contains(r.stderr, "Warnings:\n- "+warning) {
		t.Errorf("the wizard shows the warning %d times, want once under the plan:\n%s", n, r.stderr)
	}
	r = runEnv(func(env *Env) {
		env.Detect = func() (sizing.Host, error) {
			return sizing.Host{CPUs: 8, CPUSource: "test", Memory: 16 * spec.GiB, MemorySource: "test"}, nil
		}
	}, "generate", "--yes", "--out", filepath.Join(t.TempDir(), "d"), "--users", "40", "--mongodb-members", "3")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, "Warning: "+warning); n != 1 {
		t.Errorf("generate --yes prints the warning %d times, want once:\n%s", n, r.stderr)
	}
}

// TestWizardJoinsTheProxyTheHostRuns: the proxy the host runs (as
// detected) is the default of the proxy questions, its network the
// default network; the answers written are the proxy's, and nothing asks
// about HTTPS, which that proxy owns.
func TestWizardJoinsTheProxyTheHostRuns(t *testing.T) {
	for _, c := range []struct {
		name    string
		found   hostproxy.Finding
		answers []step
		want    []string
		absent  []string
	}{
		{"nginx-proxy found, defaults taken", hostproxy.Finding{Proxy: hostproxy.NginxProxy, Network: "webproxy", Seen: "container nginx-proxy (nginxproxy/nginx-proxy:1.6)"},
			[]step{{Question: "already run a reverse proxy", Answer: true}, {Question: "Which one?", Answer: ""}, {Question: "Docker network your proxy watches", Answer: ""}},
			[]string{`proxy: "nginx-proxy"`, `proxy_network: "webproxy"`}, nil},
		{"a listener on 443: the host's nginx", hostproxy.Finding{Proxy: hostproxy.Host, Seen: "a process listening on port 443"},
			[]step{{Question: "already run a reverse proxy", Answer: true}, {Question: "Which one?", Answer: ""}},
			[]string{`proxy: "host"`}, []string{"proxy_network"}},
		{"nothing found, the person names caddy-docker-proxy and a bad network first", hostproxy.Finding{},
			[]step{{Question: "already run a reverse proxy", Answer: true}, {Question: "Which one?", Answer: "caddy-docker-proxy, in a container"},
				{Question: "Docker network your proxy watches", Answer: "my net"}, {Question: "Docker network your proxy watches", Answer: "edge_net"}},
			[]string{`proxy: "caddy-docker-proxy"`, `proxy_network: "edge_net"`}, nil},
		{"found, but the person says no: rcgen's Caddy", hostproxy.Finding{Proxy: hostproxy.NginxProxy, Seen: "container nginx-proxy (x)"},
			[]step{{Question: "already run a reverse proxy", Answer: false}, {Question: "How should HTTPS work?", Answer: "Let's Encrypt"}, {Question: "Email for Let's Encrypt", Answer: "ops@example.com"}},
			[]string{`proxy: "caddy"`}, []string{"proxy_network"}},
		{"no proxy here, and Traefik in front instead of Caddy", hostproxy.Finding{},
			[]step{{Question: "already run a reverse proxy", Answer: false}, {Question: "How should HTTPS work?", Answer: "with Traefik in front"}, {Question: "Email for Let's Encrypt", Answer: "ops@example.com"}},
			[]string{`proxy: "traefik"`, `email: "ops@example.com"`}, []string{"proxy_network"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "d")
			steps := append([]step{{Question: "several hosts", Answer: false}, {Question: "Public domain name", Answer: "chat.example.com"}}, c.answers...)
			steps = append(steps, step{Question: "Write the deployment to", Answer: "Write it"})
			script := prompttest.NewScript(t, steps...)
			var stdout, stderr bytes.Buffer
			calls := 0
			env := Env{
				IO: IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr, Interactive: true},
				Detect: func() (sizing.Host, error) {
					return sizing.Host{CPUs: 8, CPUSource: "test", Memory: 16 * spec.GiB, MemorySource: "test"}, nil
				},
				Getenv:      func(string) string { return "" },
				Prompter:    func() prompt.Prompter { return script },
				DetectProxy: func() hostproxy.Finding { calls++; return c.found },
			}
			code := Run(context.Background(), env, []string{"generate", "--out", out, "--license-file", "", "--users", "10", "--mongodb-members", "1", "--no-monitoring", "--no-backup"})
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if calls != 1 {
				t.Errorf("detection ran %d times, want once", calls)
			}
			answers := string(read(t, filepath.Join(out, "rcgen.yaml")))
			for _, w := range c.want {
				if !strings.Contains(answers, w) {
					t.Errorf("rcgen.yaml lacks %s:\n%s", w, answers)
				}
			}
			for _, a := range c.absent {
				if strings.Contains(answers, a) {
					t.Errorf("rcgen.yaml has %s:\n%s", a, answers)
				}
			}
		})
	}
}
