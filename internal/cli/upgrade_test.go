package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/prompt"
	"github.com/rcgen/rcgen/internal/prompt/prompttest"
	"github.com/rcgen/rcgen/internal/render"
)

// fakeStack answers docker commands like a healthy running stack whose
// mongod runs what the deployment's .env says, and records them.
type fakeStack struct {
	dir string
	fcv string
	log []string
}

func (f *fakeStack) run(_ context.Context, dir string, args ...string) ([]byte, error) {
	f.log = append(f.log, strings.Join(args[:min(len(args), 4)], " "))
	env, err := render.ParseEnv(mustRead(filepath.Join(dir, render.EnvFile)))
	if err != nil {
		return nil, err
	}
	version, _, _ := strings.Cut(env[render.EnvMongoDBVersion], "-")
	switch {
	case args[1] == "exec" && strings.Contains(args[len(args)-1], "setFeatureCompatibilityVersion"):
		f.fcv = strings.Split(strings.Split(args[len(args)-1], `setFeatureCompatibilityVersion: "`)[1], `"`)[0]
		return []byte(`{"ok":1}`), nil
	case args[1] == "exec":
		if f.fcv == "" {
			f.fcv = version[:3]
		}
		return []byte(fmt.Sprintf(`{"version":%q,"fcv":%q}`, version, f.fcv)), nil
	case args[1] == "ps":
		var b bytes.Buffer
		for _, s := range []string{"rocketchat-1", "mongodb-1", "caddy"} {
			fmt.Fprintf(&b, `{"Service":%q,"State":"running","Health":"healthy"}`+"\n", s)
		}
		fmt.Fprintln(&b, `{"Service":"mongodb-prepare","State":"exited","ExitCode":0}`)
		fmt.Fprintln(&b, `{"Service":"mongodb-init","State":"exited","ExitCode":0}`)
		return b.Bytes(), nil
	}
	return nil, nil
}

func mustRead(p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		panic(err)
	}
	return b
}

// TestUpgradeOnATerminalStopsWhenTheOperatorSaysSo: rcgen asks before the
// plan and after each step; "no" stops it there, with the command that
// goes on, and what was done stays done.
func TestUpgradeOnATerminalStopsWhenTheOperatorSaysSo(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	if r := run(t, "generate", "--yes", "--cpus", "4", "--memory", "8GiB", "--rocketchat-version", "7.12.7", "--no-backup", "--no-monitoring", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	f := &fakeStack{dir: out}
	script := prompttest.NewScript(t,
		prompttest.Step{Question: "Apply these 4 steps, one at a time?", Answer: true},
		prompttest.Step{Question: "Step 2 is applied. Is the stack healthy (docker compose ps)? Go on with step 3 (MongoDB 8.0)?", Answer: false},
	)
	var stdout, stderr bytes.Buffer
	env := Env{
		IO:       IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr, Interactive: true},
		Getenv:   func(string) string { return "" },
		Prompter: func() prompt.Prompter { return script },
		Docker:   f.run,
	}
	refused := Env{IO: IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr}, Getenv: func(string) string { return "" }, Docker: f.run}
	if code := Run(context.Background(), refused, []string{"upgrade", "--dir", out, "--to", "7.13.9", "--yes"}); code != 2 ||
		!strings.Contains(stderr.String(), "has no backup service") || !strings.Contains(stderr.String(), "--force=no-backup") {
		t.Fatalf("no backup service: exit %d: %s", code, stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	// 7.12 on MongoDB 7.0 to 7.13.9: the release, then MongoDB 8.0 and its
	// FCV; without a backup service (named by --force=no-backup, and no
	// question after a skipped backup).
	code := Run(context.Background(), env, []string{"upgrade", "--dir", out, "--to", "7.13.9", "--force=no-backup"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "Stopped after step 2. Run rcgen upgrade --to 7.13.9 again to go on.") {
		t.Errorf("stdout: %s", stdout.String())
	}
	env2 := envOf(t, mustRead(filepath.Join(out, render.EnvFile)))
	if env2[render.EnvRocketChatVersion] != "7.13.9" || env2[render.EnvMongoDBVersion] != "7.0.28-ubi8" {
		t.Errorf("after step 2 .env runs %s on %s, want 7.13.9 on MongoDB 7.0", env2[render.EnvRocketChatVersion], env2[render.EnvMongoDBVersion])
	}
	if !strings.Contains(stdout.String(), "in 4 steps") || !strings.Contains(stderr.String(), "No backup service: skipped (--force=no-backup)") {
		t.Errorf("plan: %s", stdout.String())
	}
}
