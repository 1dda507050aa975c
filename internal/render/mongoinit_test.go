package render_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
	"github.com/rcgen/rcgen/internal/spec"
)

type simRun struct {
	ExitCode int      `json:"exitCode"`
	Log      []string `json:"log"`
	State    struct {
		Initiated bool                       `json:"initiated"`
		Members   []string                   `json:"members"`
		Users     map[string]json.RawMessage `json:"users"`
	} `json:"state"`
}

// runInit runs the generated mongodb-init script with node against a
// simulated replica set whose state persists in stateFile between runs, as
// the data volume does between `docker compose up`s.
func runInit(t *testing.T, a spec.Answers, stateFile string, env ...string) simRun {
	t.Helper()
	files := generateAnswers(t, a)
	script := filepath.Join(t.TempDir(), "init.js")
	if err := os.WriteFile(script, mustGet(t, files, render.MongoInitFile).Content, 0o644); err != nil {
		t.Fatal(err)
	}
	secrets := envOf(t, mustGet(t, files, render.EnvFile).Content)
	extraEnv := env
	cmd := exec.Command("node", filepath.Join("testdata", "mongosh-sim.js"), script, stateFile)
	cmd.Env = append(append(os.Environ(), extraEnv...),
		"MONGODB_ROOT_PASSWORD="+secrets[render.EnvMongoRootPassword],
		"MONGODB_ROCKETCHAT_PASSWORD="+secrets[render.EnvMongoRocketChatPassword],
		"MONGODB_EXPORTER_PASSWORD="+secrets[render.EnvMongoExporterPassword])
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var r simRun
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("simulator output: %v\n%s", err, out)
	}
	return r
}

func count(log []string, cmd string) int {
	n := 0
	for _, l := range log {
		if l == cmd {
			n++
		}
	}
	return n
}

// TestMongoInitIsIdempotent: the first `up` initiates the set and creates
// the users; every later one changes nothing but keeps the users in line
// with .env; going from 1 to 3 members adds them one reconfiguration at a
// time.
func TestMongoInitIsIdempotent(t *testing.T) {
	rendertest.Need(t)
	state := filepath.Join(t.TempDir(), "state.json")
	a := spec.Default()

	first := runInit(t, a, state)
	if first.ExitCode != 0 || count(first.Log, "replSetInitiate") != 1 || count(first.Log, "createUser") != 2 {
		t.Fatalf("first run: %+v", first)
	}
	if !first.State.Initiated || !slices.Equal(first.State.Members, []string{"mongodb-1:27017"}) {
		t.Errorf("after the first run: %+v", first.State)
	}

	again := runInit(t, a, state)
	if again.ExitCode != 0 || count(again.Log, "replSetInitiate") != 0 || count(again.Log, "createUser") != 0 || count(again.Log, "updateUser") != 2 {
		t.Errorf("second run was not a no-op: %+v", again)
	}

	a.MongoDBMembers = 3
	grown := runInit(t, a, state)
	if grown.ExitCode != 0 || count(grown.Log, "replSetInitiate") != 0 || count(grown.Log, "replSetReconfig") != 2 {
		t.Errorf("1 -> 3 members: %+v", grown)
	}
	if !slices.Equal(grown.State.Members, []string{"mongodb-1:27017", "mongodb-2:27017", "mongodb-3:27017"}) {
		t.Errorf("members after growing: %v", grown.State.Members)
	}
	if _, ok := grown.State.Users["rocketchat"]; !ok || len(grown.State.Users) != 2 {
		t.Errorf("users: %v", grown.State.Users)
	}

	// Back to one member in compose: nothing is removed, the operator is told.
	a.MongoDBMembers = 1
	shrunk := runInit(t, a, state)
	if shrunk.ExitCode != 0 || count(shrunk.Log, "replSetReconfig") != 0 || len(shrunk.State.Members) != 3 ||
		!slices.ContainsFunc(shrunk.Log, func(l string) bool { return strings.Contains(l, "is configured but not in compose.yaml") }) {
		t.Errorf("3 -> 1 members: %+v", shrunk)
	}
}

// TestMongoInitRetriesABusySet: an initiate refused while mongod starts, a
// reconfiguration whose config version moved meanwhile, and a user write
// that failed are retried (with a fresh config, and bounded writes), and
// the run still ends with the set and users right.
func TestMongoInitRetriesABusySet(t *testing.T) {
	rendertest.Need(t)
	state := filepath.Join(t.TempDir(), "state.json")
	a := spec.Default()
	first := runInit(t, a, state, "SIM_FAIL=replSetInitiate:2,createUser:1")
	if first.ExitCode != 0 || !first.State.Initiated || count(first.Log, "replSetInitiate") != 3 || len(first.State.Users) != 2 {
		t.Fatalf("a busy first start: %+v", first)
	}
	a.MongoDBMembers = 3
	grown := runInit(t, a, state, "SIM_FAIL=replSetReconfig:1")
	if grown.ExitCode != 0 || len(grown.State.Members) != 3 {
		t.Errorf("growing while the config version moves: %+v", grown)
	}
}

func TestMongoInitRefusesAnEmptyPassword(t *testing.T) {
	rendertest.Need(t)
	state := filepath.Join(t.TempDir(), "state.json")
	a := spec.Default()
	files := generateAnswers(t, a)
	script := filepath.Join(t.TempDir(), "init.js")
	if err := os.WriteFile(script, mustGet(t, files, render.MongoInitFile).Content, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join("testdata", "mongosh-sim.js"), script, state)
	cmd.Env = append(os.Environ(), "MONGODB_ROOT_PASSWORD=", "MONGODB_ROCKETCHAT_PASSWORD=x", "MONGODB_EXPORTER_PASSWORD=x")
	out, _ := cmd.Output()
	var r simRun
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.ExitCode != 1 || !slices.ContainsFunc(r.Log, func(l string) bool { return strings.Contains(l, "MONGODB_ROOT_PASSWORD is empty") }) {
		t.Errorf("empty root password: %+v", r)
	}
}
