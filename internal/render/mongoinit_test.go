package render_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
	"github.com/rcgen/rcgen/internal/sizing"
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

// lastPrint is the last line the script printed.
func lastPrint(log []string) string {
	for i := len(log) - 1; i >= 0; i-- {
		if p, ok := strings.CutPrefix(log[i], "print: "); ok {
			return p
		}
	}
	return ""
}

func printed(log []string, parts ...string) bool {
	return slices.ContainsFunc(log, func(l string) bool {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				return false
			}
		}
		return strings.HasPrefix(l, "print: ")
	})
}

// TestMongoInitGoesOnWithAMajority: one member of three that never answers
// (an exited or hung container) does not stop mongodb-init, whether the set
// is new (initiated with the two that answer, the third added by the run
// after it comes back) or running (nothing to initiate; mongodb-1 may be
// the dead one). The run says which member it went on without.
func TestMongoInitGoesOnWithAMajority(t *testing.T) {
	rendertest.Need(t)
	a := spec.Default()
	a.MongoDBMembers = 3

	state := filepath.Join(t.TempDir(), "state.json")
	first := runInit(t, a, state, "SIM_DOWN=mongodb-3:27017")
	if first.ExitCode != 0 || !first.State.Initiated || !slices.Equal(first.State.Members, []string{"mongodb-1:27017", "mongodb-2:27017"}) || len(first.State.Users) != 2 {
		t.Fatalf("a new set with mongodb-3 dead: %+v", first)
	}
	if !printed(first.Log, "warning: mongodb-3:27017 does not answer", "docker compose logs mongodb-3") {
		t.Errorf("the run does not say it went on without mongodb-3: %q", first.Log)
	}
	back := runInit(t, a, state)
	if back.ExitCode != 0 || count(back.Log, "replSetReconfig") != 1 || len(back.State.Members) != 3 {
		t.Errorf("mongodb-3 back: %+v", back)
	}

	for _, dead := range []string{"mongodb-1:27017", "mongodb-2:27017", "mongodb-3:27017"} {
		r := runInit(t, a, state, "SIM_DOWN="+dead)
		if r.ExitCode != 0 || count(r.Log, "replSetInitiate") != 0 || count(r.Log, "replSetReconfig") != 0 || count(r.Log, "updateUser") != 2 {
			t.Errorf("a running set with %s dead: %+v", dead, r)
		}
		if !printed(r.Log, "warning: "+dead+" does not answer") {
			t.Errorf("a running set with %s dead: not named: %q", dead, r.Log)
		}
	}
}

// TestMongoInitSaysWhenThereIsNoMajority: without a majority nothing can
// run, and mongodb-init exits 1 with one sentence naming the members that
// do not answer and what to do, having changed nothing.
func TestMongoInitSaysWhenThereIsNoMajority(t *testing.T) {
	rendertest.Need(t)
	a := spec.Default()
	a.MongoDBMembers = 3
	running := filepath.Join(t.TempDir(), "state.json")
	if r := runInit(t, a, running); r.ExitCode != 0 {
		t.Fatalf("setting up: %+v", r)
	}
	cases := []struct {
		name, state, down string
		want              []string
	}{
		{"a running set, two of three down", running, "mongodb-2:27017,mongodb-3:27017",
			[]string{"mongodb-2:27017 and mongodb-3:27017 do not answer in 5 minutes", "only 1 of the 3 members", "no majority (2)", "start or repair them (docker compose ps; docker compose logs mongodb-2 mongodb-3), then run docker compose up -d again."}},
		{"a new set, two of three down", filepath.Join(t.TempDir(), "new.json"), "mongodb-1:27017,mongodb-3:27017",
			[]string{"mongodb-1:27017 and mongodb-3:27017 do not answer in 5 minutes", "no member that answers has replica set rs0's configuration", "start or repair them (docker compose ps; docker compose logs mongodb-1 mongodb-3), then run docker compose up -d again."}},
		{"a new set without mongodb-1", filepath.Join(t.TempDir(), "new.json"), "mongodb-1:27017",
			[]string{"mongodb-1:27017 does not answer in 5 minutes", "starts from mongodb-1:27017 (it holds the root user)", "start or repair it (docker compose ps; docker compose logs mongodb-1)"}},
		{"a new set with mongodb-1 alone", filepath.Join(t.TempDir(), "new.json"), "mongodb-2:27017,mongodb-3:27017",
			[]string{"mongodb-2:27017 and mongodb-3:27017 do not answer in 5 minutes", "only 1 of the 3 members", "logs mongodb-2 mongodb-3"}},
	}
	for _, c := range cases {
		r := runInit(t, a, c.state, "SIM_DOWN="+c.down)
		msg := lastPrint(r.Log)
		if r.ExitCode != 1 || !strings.HasPrefix(msg, "mongodb-init: ") {
			t.Errorf("%s: %+v", c.name, r)
		}
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q does not say %q", c.name, msg, w)
			}
		}
		if n := strings.Count(strings.TrimSuffix(msg, "."), ". "); n != 0 || !strings.HasSuffix(msg, ".") {
			t.Errorf("%s: not one sentence: %q", c.name, msg)
		}
		for _, write := range []string{"replSetInitiate", "replSetReconfig", "createUser", "updateUser"} {
			if count(r.Log, write) != 0 {
				t.Errorf("%s: %s without a majority", c.name, write)
			}
		}
	}

	// One member, down: the same, naming it.
	a.MongoDBMembers = 1
	one := filepath.Join(t.TempDir(), "one.json")
	runInit(t, a, one)
	r := runInit(t, a, one, "SIM_DOWN=mongodb-1:27017")
	if msg := lastPrint(r.Log); r.ExitCode != 1 || !strings.Contains(msg, "mongodb-1:27017 does not answer in 5 minutes, so only 0 of the 1 members") {
		t.Errorf("the only member down: %+v", r)
	}
}

// TestMongoInitGrowsPastADeadMember: going from 1 to 3 members while the
// new mongodb-3 does not start adds mongodb-2 only, says so, and adds
// mongodb-3 once it answers.
func TestMongoInitGrowsPastADeadMember(t *testing.T) {
	rendertest.Need(t)
	state := filepath.Join(t.TempDir(), "state.json")
	a := spec.Default()
	runInit(t, a, state)
	a.MongoDBMembers = 3
	r := runInit(t, a, state, "SIM_DOWN=mongodb-3:27017")
	if r.ExitCode != 0 || !slices.Equal(r.State.Members, []string{"mongodb-1:27017", "mongodb-2:27017"}) ||
		!printed(r.Log, "warning: mongodb-3:27017 is not a member yet and does not answer", "run docker compose up -d again to add it") {
		t.Errorf("1 -> 3 with mongodb-3 dead: %+v", r)
	}
	if r := runInit(t, a, state); r.ExitCode != 0 || len(r.State.Members) != 3 {
		t.Errorf("mongodb-3 back: %+v", r)
	}
}

// TestComposeNeedsNoParticularMember: in the compose file no service waits
// for a particular MongoDB member: mongodb-init starts them (so `docker
// compose up -d rocketchat-1` brings the set up) but with required: false
// and only service_started (the script waits for a majority), the rest
// waits for mongodb-init. Every member carries the root password, so
// rcgen's commands run in whichever member is up.
func TestComposeNeedsNoParticularMember(t *testing.T) {
	for _, members := range []int{1, 3} {
		a := spec.Default()
		a.MongoDBMembers = members
		files := generateAnswers(t, a)
		p := load(t, files)
		init := p.Services[sizing.MongoDBInit]
		if d, ok := init.DependsOn[sizing.MongoDBPrepare]; !ok || !d.Required || d.Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("%d members: mongodb-init depends on mongodb-prepare as %+v", members, d)
		}
		for i := 1; i <= members; i++ {
			m := sizing.MemberName(i)
			if d, ok := init.DependsOn[m]; !ok || d.Required || d.Condition != types.ServiceConditionStarted {
				t.Errorf("%d members: mongodb-init depends on %s as %+v (present %v), want service_started, required: false", members, m, d, ok)
			}
			if pw := p.Services[m].Environment[render.EnvMongoRootPassword]; pw == nil || *pw == "" {
				t.Errorf("%d members: %s has no %s", members, m, render.EnvMongoRootPassword)
			}
		}
		for name, s := range p.Services {
			for dep, d := range s.DependsOn {
				if strings.HasPrefix(dep, "mongodb-") && dep != sizing.MongoDBInit && dep != sizing.MongoDBPrepare && d.Required {
					t.Errorf("%d members: %s requires member %s (%s)", members, name, dep, d.Condition)
				}
			}
		}
		// The README says what a dead member does, with a replica set to lose one.
		readme := strings.Join(strings.Fields(string(mustGet(t, files, render.ReadmeFile).Content)), " ")
		says := strings.Contains(readme, "**A MongoDB member down.** The replica set runs while 2 of its 3 members do.") &&
			strings.Contains(readme, "`service \"mongodb-init\" didn't complete successfully: exit 1`")
		if says != (members > 1) {
			t.Errorf("%d members: the README's paragraph on a member down is there: %v", members, says)
		}
	}
}

// TestMongoDBPrepareSparesTheOtherMembers runs mongodb-prepare's script
// under sh, its paths under a temporary root, with a chown that fails on
// mongodb-3's volume (a disk error): every member waits for this one-shot,
// so it must finish, name the member, and still hand the others over.
func TestMongoDBPrepareSparesTheOtherMembers(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal("sh is missing: the script cannot be run")
	}
	a := spec.Default()
	a.MongoDBMembers = 3
	p := load(t, generateAnswers(t, a))
	script := strings.Join(p.Services[sizing.MongoDBPrepare].Command, " ")
	root := t.TempDir()
	for _, dir := range []string{"/run/rcgen/", "/keyfile/", "/data/"} {
		script = strings.ReplaceAll(script, dir, root+dir)
	}
	for _, dir := range []string{"run/rcgen", "keyfile", "data/mongodb-1", "data/mongodb-2", "data/mongodb-3", "bin"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Not the first start: the root user exists, mongod is not run.
	files := map[string]string{
		"run/rcgen/mongodb.keyfile":       "key\n",
		"data/mongodb-1/.rcgen-root-user": "",
		"bin/chown":                       "#!/bin/sh\ncase \"$*\" in *mongodb-3*) echo \"chown: $3: Input/output error\" >&2; exit 1;; esac\necho \"$*\" >>\"" + root + "/chowned\"\n",
		"bin/mongod":                      "#!/bin/sh\nexit 99\n",
		"bin/mongosh":                     "#!/bin/sh\nexit 99\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(sh, "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(root, "bin")+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mongodb-prepare failed, so no member would start: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "/data/mongodb-3 could not be handed to uid 1001, so mongodb-3 will not start; the other members do") {
		t.Errorf("mongodb-3 is not named: %s", out)
	}
	chowned, _ := os.ReadFile(filepath.Join(root, "chowned"))
	for _, m := range []string{"mongodb-1", "mongodb-2"} {
		if !strings.Contains(string(chowned), "-R 1001:0 "+root+"/data/"+m) {
			t.Errorf("%s's volume was not handed over: %s", m, chowned)
		}
	}
}
