package stack

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kballard/go-shellquote"

	"github.com/rcgen/rcgen/internal/render/rendertest"
)

func TestParsePSBothForms(t *testing.T) {
	lines := `{"Service":"rocketchat-1","State":"running","Health":"healthy","ExitCode":0}
{"Service":"mongodb-init","State":"exited","Health":"","ExitCode":0}
`
	array := `[{"Service":"rocketchat-1","State":"running","Health":"healthy","ExitCode":0},{"Service":"mongodb-init","State":"exited","Health":"","ExitCode":0}]`
	for _, in := range []string{lines, array} {
		cs, err := parsePS([]byte(in))
		if err != nil || len(cs) != 2 || cs[1].Service != "mongodb-init" || cs[1].State != "exited" {
			t.Errorf("parsePS(%q) = %+v, %v", in, cs, err)
		}
	}
}

func TestUnhealthy(t *testing.T) {
	cs := []Container{
		{Service: "rocketchat-1", State: "running", Health: "healthy"},
		{Service: "rocketchat-2", State: "running", Health: "starting"},
		{Service: "mongodb-init", State: "exited", ExitCode: 1},
		{Service: "mongodb-prepare", State: "exited"},
		{Service: "node-exporter", State: "running"}, // no health check
		{Service: "nats", State: "restarting"},
	}
	got := Unhealthy(cs, []string{"rocketchat-1", "rocketchat-2", "mongodb-init", "mongodb-prepare", "node-exporter", "nats", "caddy"})
	want := []string{"rocketchat-2 (starting)", "mongodb-init (exited, exit 1)", "nats (restarting)", "caddy (no container)"}
	if !slices.Equal(got, want) {
		t.Errorf("Unhealthy = %q, want %q", got, want)
	}
}

// TestWaitHealthyGivesUp: a stack that never gets healthy ends the wait at
// its deadline, naming what is not.
func TestWaitHealthyGivesUp(t *testing.T) {
	calls := 0
	s := Stack{Run: func(context.Context, string, ...string) ([]byte, error) {
		calls++
		return []byte(`{"Service":"rocketchat-1","State":"running","Health":"unhealthy"}`), nil
	}}
	err := s.WaitHealthy(context.Background(), []string{"rocketchat-1"}, 30*time.Millisecond, 10*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "rocketchat-1 (unhealthy)") || calls < 2 {
		t.Errorf("WaitHealthy = %v after %d calls", err, calls)
	}
}

// TestMongoScriptsUnderNode runs the JavaScript rcgen sends to mongosh
// against the simulated MongoDB (render/testdata/mongosh-sim.js): it reads
// the version and FCV, sets the FCV with confirm, and MongoDB's rule (the
// binary's own version or the one before) holds.
func TestMongoScriptsUnderNode(t *testing.T) {
	rendertest.Need(t)
	sim, _ := filepath.Abs(filepath.Join("..", "render", "testdata", "mongosh-sim.js"))
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	if err := os.WriteFile(state, []byte(`{"initiated": true, "members": ["mongodb-1:27017","mongodb-2:27017","mongodb-3:27017"], "users": {}, "version": 1, "binary": "8.0.32", "fcv": "7.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s := Stack{Members: 3}
	run := func(js string) (int, []string) {
		t.Helper()
		script := filepath.Join(dir, "s.js")
		if err := os.WriteFile(script, []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("node", sim, script, state)
		cmd.Env = append(os.Environ(), "MONGODB_ROOT_PASSWORD=pw")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node: %v", err)
		}
		var r struct {
			ExitCode int      `json:"exitCode"`
			Log      []string `json:"log"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		return r.ExitCode, r.Log
	}
	if code, log := run(s.VersionsJS()); code != 0 || !slices.Contains(log, `print: {"version":"8.0.32","fcv":"7.0"}`) {
		t.Errorf("versions: %d %q", code, log)
	}
	if code, log := run(s.SetFCVJS("8.0")); code != 0 || !slices.Contains(log, `print: {"ok":1}`) {
		t.Errorf("set FCV 8.0: %d %q", code, log)
	}
	if _, log := run(s.VersionsJS()); !slices.Contains(log, `print: {"version":"8.0.32","fcv":"8.0"}`) {
		t.Errorf("after setting 8.0: %q", log)
	}
	if code, _ := run(s.SetFCVJS("8.2")); code == 0 {
		t.Error("an FCV above the binary's version was accepted")
	}
}

// TestPrintedCommandsRunAsShown: every command rcgen prints before it runs
// it splits back, as a shell reads it, into exactly the arguments run.
func TestPrintedCommandsRunAsShown(t *testing.T) {
	var echo strings.Builder
	var ran [][]string
	s := Stack{Members: 3, Echo: &echo, Run: func(_ context.Context, _ string, args ...string) ([]byte, error) {
		ran = append(ran, args)
		return []byte(`{"version":"8.0.32","fcv":"8.0"}`), nil
	}}
	ctx := context.Background()
	s.Mongo(ctx, s.SetFCVJS("8.0"))
	s.Mongo(ctx, s.VersionsJS())
	s.Compose(ctx, "exec", "-T", "backup", "sh", BackupScript, "restore", "it's $HOME.tar", "full")
	lines := strings.Split(strings.TrimSpace(echo.String()), "\n")
	if len(lines) != len(ran) {
		t.Fatalf("%d printed, %d run", len(lines), len(ran))
	}
	for i, l := range lines {
		words, err := shellquote.Split(strings.TrimPrefix(l, "+ "))
		if err != nil || !slices.Equal(words, append([]string{"docker"}, ran[i]...)) {
			t.Errorf("printed %q, ran %q (%v)", l, ran[i], err)
		}
	}
}

// psOf answers docker compose ps with one line per "service state health".
func psOf(lines ...string) Runner {
	return func(_ context.Context, _ string, args ...string) ([]byte, error) {
		if len(args) < 2 || args[1] != "ps" {
			return nil, nil
		}
		var b strings.Builder
		for _, l := range lines {
			f := strings.Fields(l + " ")
			health := ""
			if len(f) > 2 {
				health = f[2]
			}
			c, _ := json.Marshal(Container{Service: f[0], State: f[1], Health: health})
			b.Write(append(c, '\n'))
		}
		return []byte(b.String()), nil
	}
}

var threeMembers = []string{"rocketchat-1", "mongodb-1", "mongodb-2", "mongodb-3", "mongodb-prepare", "mongodb-init"}

// TestWaitHealthyGoesOnWithOneMemberOfThreeDown: a member that exited,
// restarts or is unhealthy does not hold rcgen upgrade's and rcgen
// restore's wait while the set has its majority; the wait ends at once and
// names the member. Two down of three, or the only member, still fail.
func TestWaitHealthyGoesOnWithOneMemberOfThreeDown(t *testing.T) {
	healthy := []string{"rocketchat-1 running healthy", "mongodb-prepare exited", "mongodb-init exited"}
	for _, dead := range []string{"mongodb-3 exited", "mongodb-1 restarting unhealthy", "mongodb-2 running unhealthy"} {
		var ps []string
		for _, m := range []string{"mongodb-1", "mongodb-2", "mongodb-3"} {
			if strings.HasPrefix(dead, m+" ") {
				ps = append(ps, dead)
			} else {
				ps = append(ps, m+" running healthy")
			}
		}
		var echo strings.Builder
		s := Stack{Members: 3, Echo: &echo, Run: psOf(append(healthy, ps...)...)}
		if err := s.WaitHealthy(context.Background(), threeMembers, 50*time.Millisecond, 5*time.Millisecond); err != nil {
			t.Errorf("%s: %v", dead, err)
		}
		name := strings.Fields(dead)[0]
		if !strings.Contains(echo.String(), "Warning: MongoDB member "+name+" (") || !strings.Contains(echo.String(), "docker compose logs "+name+")") {
			t.Errorf("%s: the warning does not name it: %s", dead, echo.String())
		}
	}

	twoDown := Stack{Members: 3, Run: psOf(append(healthy, "mongodb-1 running healthy", "mongodb-2 exited", "mongodb-3 restarting unhealthy")...)}
	if err := twoDown.WaitHealthy(context.Background(), threeMembers, 20*time.Millisecond, 5*time.Millisecond); err == nil ||
		!strings.Contains(err.Error(), "mongodb-2 (exited)") || !strings.Contains(err.Error(), "mongodb-3 (restarting)") {
		t.Errorf("two of three members down: %v", err)
	}
	alone := Stack{Members: 1, Run: psOf(append(healthy, "mongodb-1 exited")...)}
	if err := alone.WaitHealthy(context.Background(), []string{"rocketchat-1", "mongodb-1"}, 20*time.Millisecond, 5*time.Millisecond); err == nil ||
		!strings.Contains(err.Error(), "mongodb-1 (exited)") {
		t.Errorf("the only member down: %v", err)
	}
	// Still starting is not down: it is waited for.
	starting := Stack{Members: 3, Run: psOf(append(healthy, "mongodb-1 running healthy", "mongodb-2 running healthy", "mongodb-3 running starting")...)}
	if err := starting.WaitHealthy(context.Background(), threeMembers, 20*time.Millisecond, 5*time.Millisecond); err == nil ||
		!strings.Contains(err.Error(), "mongodb-3 (starting)") {
		t.Errorf("a member still starting: %v", err)
	}
}

// TestMongoRunsInAMemberThatRuns: with mongodb-1 down, rcgen upgrade's
// version read and FCV change run mongosh in mongodb-2 (the script itself
// connects to the whole set).
func TestMongoRunsInAMemberThatRuns(t *testing.T) {
	var execIn []string
	ps := psOf("mongodb-1 restarting unhealthy", "mongodb-2 running healthy", "mongodb-3 running healthy")
	s := Stack{Members: 3, Run: func(ctx context.Context, dir string, args ...string) ([]byte, error) {
		if args[1] == "exec" {
			execIn = append(execIn, args[3])
			return []byte(`{"version":"8.0.32","fcv":"8.0"}`), nil
		}
		return ps(ctx, dir, args...)
	}}
	if v, fcv, err := s.Versions(context.Background()); err != nil || v != "8.0.32" || fcv != "8.0" {
		t.Fatalf("Versions = %q, %q, %v", v, fcv, err)
	}
	if !slices.Equal(execIn, []string{"mongodb-2"}) {
		t.Errorf("mongosh ran in %q, want mongodb-2", execIn)
	}
}
