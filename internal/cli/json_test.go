package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/doctor"
)

// jsonKeys returns every key path of a JSON document ("plan.from.fcv";
// arrays as "[]").
func jsonKeys(t *testing.T, doc string) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("not JSON (%v):\n%s", err, doc)
	}
	seen := map[string]bool{}
	var walk func(string, any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				p := k
				if path != "" {
					p = path + "." + k
				}
				seen[p] = true
				walk(p, e)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	walk("", v)
	var keys []string
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// TestJSONKeysAreSnakeCase: every key of every --json output is snake_case
// (scripts index them by name; one style, never RocketChat beside
// rocketchat_version).
func TestJSONKeysAreSnakeCase(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	dep := filepath.Join(t.TempDir(), "d")
	if r := run(t, "generate", "--yes", "--cpus", "4", "--memory", "8GiB", "--rocketchat-version", "7.12.7", "--out", dep); r.code != 0 {
		t.Fatal(r.stderr)
	}
	f := &fakeStack{}
	withDocker := func(e *Env) { e.Docker = f.run }
	outputs := map[string]result{
		"plan":        run(t, "plan", "--json", "--cpus", "8", "--memory", "16GiB"),
		"versions":    runOn(t, "ubuntu-2604", now, "versions", "--json"),
		"doctor":      runOn(t, "ubuntu-2604", now, "doctor", "--json", "--dir", dep),
		"version":     run(t, "version", "--json"),
		"backup list": run(t, "backup", "list", "--json", "--dir", dep),
		"upgrade":     runEnv(withDocker, "upgrade", "--dir", dep, "--to", "8.8.1", "--dry-run", "--json"),
	}
	reg := &fakeRegistryDocker{}
	stack := &composeFake{alerts: `[{"labels":{"alertname":"X"},"startsAt":"2026-11-25T00:00:00Z"}]`}
	running := func(e *Env) {
		e.Now = func() time.Time { return now }
		e.System = func() doctor.System {
			return doctor.System{Root: filepath.Join("..", "doctor", "testdata", "hosts", "kernel-7.0.14"), Docker: reg.run}
		}
		e.Docker, e.Smoke = stack.run, okSmoke
	}
	outputs["up"] = runEnv(running, "up", "--dir", dep, "--json")
	outputs["status"] = runEnv(running, "status", "--dir", dep, "--json")
	for name, r := range outputs {
		if r.code != 0 && name != "doctor" && name != "status" { // doctor exits 1 when a check fails here, status when degraded
			t.Errorf("%s: exit %d: %s", name, r.code, r.stderr)
			continue
		}
		for _, k := range jsonKeys(t, r.stdout) {
			last := k[strings.LastIndex(k, ".")+1:]
			if !snakeCase.MatchString(strings.TrimSuffix(last, "[]")) {
				t.Errorf("%s --json: key %s is not snake_case", name, k)
			}
		}
	}
	// upgrade's keys are a contract: these and no others (plan.notes
	// appears only when there are notes).
	want := []string{"plan", "plan.from", "plan.from.fcv", "plan.from.mongodb", "plan.from.rocketchat",
		"plan.steps", "plan.steps[].breaking", "plan.steps[].fcv", "plan.steps[].kind", "plan.steps[].mongodb",
		"plan.steps[].rocketchat", "plan.steps[].why", "plan.to", "version"}
	got := slices.DeleteFunc(jsonKeys(t, outputs["upgrade"].stdout), func(k string) bool { return k == "plan.notes" })
	if !slices.Equal(got, want) {
		t.Errorf("upgrade --json keys:\n got %q\nwant %q", got, want)
	}
	// version --json holds what --version prints.
	var v struct {
		Version int    `json:"version"`
		Rcgen   string `json:"rcgen_version"`
	}
	if err := json.Unmarshal([]byte(outputs["version"].stdout), &v); err != nil || v.Version != VersionJSONVersion || v.Rcgen != version() {
		t.Errorf("version --json: %+v (%v)", v, err)
	}
}

// TestPlanJSONNamesTheRelease: plan --json carries what the table's
// "Rocket.Chat release" and "MongoDB version" rows show, with their reasons.
func TestPlanJSONNamesTheRelease(t *testing.T) {
	answers := filepath.Join(t.TempDir(), "rcgen.yaml")
	if err := os.WriteFile(answers, []byte("version: 1\nrocketchat_version: 7.12.7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, "plan", "--json", "--cpus", "8", "--memory", "16GiB", "--config", answers)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got struct {
		RocketChat    string `json:"rocketchat_version"`
		RocketChatWhy string `json:"rocketchat_version_reason"`
		MongoDB       string `json:"mongodb_version"`
		MongoDBWhy    string `json:"mongodb_version_reason"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("not JSON (%v):\n%s", err, r.stdout)
	}
	mongo, err := catalog.MongoDBFor("7.12.7")
	if err != nil {
		t.Fatal(err)
	}
	if got.RocketChat != "7.12.7" || !strings.HasPrefix(got.RocketChatWhy, "rocketchat_version from "+answers+", line 2;") ||
		got.MongoDB != mongo.Tag || !strings.Contains(got.MongoDBWhy, "Rocket.Chat 7.12 declares") {
		t.Errorf("plan --json release fields = %+v", got)
	}
	// Data for scripts names no command to run (the table points people to
	// rcgen versions; a command named would bring a PATH note).
	if strings.Contains(r.stdout, "rcgen versions") {
		t.Errorf("plan --json names rcgen versions:\n%s", r.stdout)
	}
	// The table shows the same.
	table := run(t, "plan", "--cpus", "8", "--memory", "16GiB", "--config", answers)
	for _, row := range [][2]string{{"Rocket.Chat release", got.RocketChat + " "}, {"MongoDB version", got.MongoDB + " "}, {"", got.RocketChatWhy}, {"", got.MongoDBWhy}} {
		if !strings.Contains(table.stdout, row[0]) || !strings.Contains(table.stdout, row[1]) {
			t.Errorf("the plan table lacks %q %q:\n%s", row[0], row[1], table.stdout)
		}
	}
}
