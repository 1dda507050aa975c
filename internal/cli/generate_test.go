package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	return runEnv(func(*Env) {}, args...)
}

// runEnv runs rcgen on a 4-core 8GiB test host with no terminal; edit
// changes the environment first.
func runEnv(edit func(*Env), args ...string) result {
	var out, errOut bytes.Buffer
	env := Env{
		IO: IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Detect: func() (sizing.Host, error) {
			return sizing.Host{CPUs: 4, CPUSource: "test", Memory: 8 * spec.GiB, MemorySource: "test"}, nil
		},
		Getenv: func(string) string { return "" },
	}
	edit(&env)
	code := Run(context.Background(), env, args)
	return result{code, out.String(), errOut.String()}
}

func TestGenerateExitCodes(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		code    int
		stderr  []string
		written bool
		// stdout holds the results: the summary of what was written.
		stdout []string
	}{
		{"defaults", []string{"generate", "--yes"}, 0, nil, true, []string{"Wrote", "Next: cd ", "http://localhost"}},
		{"public domain needs an email", []string{"generate", "--domain", "chat.example.com"}, 2, []string{"--email: an email address for Let's Encrypt is required to get a certificate for chat.example.com", "give --email, e.g. admin@chat.example.com, or your own certificate with --tls-cert and --tls-key"}, false, nil},
		{"every invalid answer at once", []string{"generate", "--domain", "https://chat.example.com", "--mongodb-members", "2", "--proxy", "nginx", "--memory", "lots"},
			2, []string{"--domain:", "is a URL", "--mongodb-members:", "--proxy:", "--memory:"}, false, nil},
		{"processes without a licence", []string{"generate", "--processes", "3"}, 2, []string{"--processes: 3 app processes need an Enterprise licence"}, false, nil},
		{"processes allowed without a licence warn", []string{"generate", "--processes", "2", "--allow-unlicensed-instances"}, 0, []string{"Warning: more than one app process without an Enterprise licence"}, true, nil},
		{"host too small", []string{"generate", "--cpus", "1", "--memory", "1GiB"}, 2, []string{"needs at least 2GiB", "give --force to try anyway"}, false, nil},
		{"old version", []string{"generate", "--rocketchat-version", "6.9.0"}, 2, []string{"--rocketchat-version: Rocket.Chat 6.9.0 is older than 7.0, the oldest line rcgen deploys"}, false, nil},
		{"unknown flag", []string{"generate", "--colour"}, 2, []string{"unknown flag: --colour"}, false, nil},
		{"unreadable licence", []string{"generate", "--license-file", "/nonexistent/licence"}, 2, []string{"--license-file: cannot read /nonexistent/licence"}, false, nil},
		{"dry run writes nothing", []string{"generate", "--dry-run"}, 0, nil, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "deploy")
			r := run(t, append(c.args, "--out", out)...)
			if r.code != c.code {
				t.Errorf("exit code %d, want %d\nstderr: %s", r.code, c.code, r.stderr)
			}
			for _, want := range c.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			for _, want := range c.stdout {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
				if strings.Contains(r.stderr, want) {
					t.Errorf("stderr holds %q, a result, which belongs on stdout:\n%s", want, r.stderr)
				}
			}
			_, err := os.Stat(filepath.Join(out, "compose.yaml"))
			if written := err == nil; written != c.written {
				t.Errorf("compose.yaml written = %v, want %v", written, c.written)
			}
		})
	}
}

func TestDryRunMasksSecrets(t *testing.T) {
	out := filepath.Join(t.TempDir(), "deploy")
	r := run(t, "generate", "--dry-run", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"==> compose.yaml (mode 0644) <==", "==> .env (mode 0600) <==", "MONGODB_ROOT_PASSWORD=********", "(secret, not shown)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run output lacks %q", want)
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run created %s", out)
	}
}

// TestFailedCheckWritesNothing makes the in-memory check fail and verifies
// the output directory is never created.
func TestFailedCheckWritesNothing(t *testing.T) {
	var out, errOut bytes.Buffer
	env := Env{
		IO:     IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Detect: func() (sizing.Host, error) { return sizing.Host{CPUs: 4, Memory: 8 * spec.GiB}, nil },
	}
	dir := filepath.Join(t.TempDir(), "deploy")
	cmd, o := newGenerateCommand(env)
	o.Render = func(ctx context.Context, in render.Input) (render.Files, error) {
		d, err := render.Derive(in)
		if err != nil {
			return nil, err
		}
		files, err := render.Render(d, in.Secrets)
		if err != nil {
			return nil, err
		}
		for i := range files {
			if files[i].Path == render.ComposeFile {
				// A service publishing MongoDB to the world must be caught.
				files[i].Content = bytes.Replace(files[i].Content, []byte("    networks: [internal]\n"), []byte("    ports: [\"27017:27017\"]\n    networks: [internal]\n"), 1)
			}
		}
		return files, render.Check(ctx, files)
	}
	cmd.SetArgs([]string{"--out", dir})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "nothing was written") || !strings.Contains(err.Error(), "publishes port 27017") {
		t.Fatalf("Run() = %v, want a validation error naming the port", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists after a failed check", dir)
	}
}

func TestPlanCommand(t *testing.T) {
	r := run(t, "plan", "--cpus", "8", "--memory", "16GiB")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"cores   8", "given", "app processes", "no Enterprise licence", "with a licence this host could run 5 (about 1500 users)", "total of all limits"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan table lacks %q:\n%s", want, r.stdout)
		}
	}
	r = run(t, "plan", "--cpus", "2", "--memory", "4GiB", "--json")
	var got struct {
		Version int `json:"version"`
		Plan    struct {
			Processes int      `json:"processes"`
			Warnings  []string `json:"warnings"`
			Host      struct {
				CPUs float64 `json:"cpus"`
			} `json:"host"`
		} `json:"plan"`
		Total  int64 `json:"total_bytes"`
		Usable int64 `json:"usable_bytes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("plan --json is not JSON: %v\n%s", err, r.stdout)
	}
	if got.Version != PlanJSONVersion || got.Plan.Processes != 1 || got.Plan.Host.CPUs != 2 || got.Total > got.Usable || got.Plan.Warnings == nil {
		t.Errorf("plan --json = %+v", got)
	}
	r = run(t, "plan", "--cpus", "1", "--memory", "1GiB")
	if r.code != 2 || !strings.Contains(r.stderr, "give --force to try anyway") {
		t.Errorf("tiny host: exit %d, stderr %q; want 2 and the --force hint", r.code, r.stderr)
	}
	r = run(t, "plan", "--users", "-5", "--memory", "0")
	if r.code != 2 || !strings.Contains(r.stderr, "--users:") || !strings.Contains(r.stderr, "--memory:") {
		t.Errorf("bad answers: exit %d, stderr %q; want 2 naming both flags", r.code, r.stderr)
	}
}

func TestOutIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "generate", "--yes", "--out", file)
	if r.code != 2 || !strings.Contains(r.stderr, "--out: "+file+" is a file, not a directory") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}
