package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/prompt"
	"github.com/rcgen/rcgen/internal/prompt/prompttest"
	"github.com/rcgen/rcgen/internal/render"
)

func mongoTag(t *testing.T, series string) string {
	t.Helper()
	s, ok := catalog.Series(series)
	if !ok {
		t.Fatalf("rcgen pins no MongoDB %s", series)
	}
	return s.Tag
}

// TestRerunRefusesASkippedMajor: a 7.10.15 deployment re-run with a
// release more than one step away is refused with exit 2, where the
// release was given (the flag, an answers file's line, the deployment's
// own rcgen.yaml), naming rcgen upgrade --to and the way, and nothing is
// written.
func TestRerunRefusesASkippedMajor(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "deploy")
	if r := run(t, "generate", "--yes", "--rocketchat-version", "7.10.15", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	before := snapshot(t, out)
	answers := filepath.Join(out, "rcgen.yaml")
	recorded := string(read(t, answers))
	line := regexp.MustCompile(`(?m)^rocketchat_version: .*$`)
	lineNo := strings.Count(recorded[:line.FindStringIndex(recorded)[0]], "\n") + 1

	// 9.0.0 skips 8.x. rcgen does not deploy 9.0 yet (its image is not
	// confirmed), and that refusal comes first; once it does, the way.
	_, undeployable := catalog.Deployable("9.0.0")
	for _, c := range []struct{ to, want string }{
		{"8.8.1", "Rocket.Chat 8.8.1 is 3 steps away from the Rocket.Chat 7.10.15 on MongoDB 7.0 this deployment runs (Rocket.Chat 7.13.9, MongoDB 8.0, Rocket.Chat 8.8.1), and a re-run makes one. `rcgen upgrade --to 8.8.1` takes it there"},
		{"9.0.0", map[bool]string{true: "rcgen does not deploy Rocket.Chat 9.0.0", false: "(Rocket.Chat 9 starts only on a database a 8.x release migrated). `rcgen upgrade --to 9.0.0` takes it there"}[undeployable != nil]},
	} {
		for _, args := range [][]string{{"--yes"}, {}, {"--dry-run"}} {
			r := run(t, append(append([]string{"generate"}, args...), "--rocketchat-version", c.to, "--out", out)...)
			if r.code != 2 || !strings.Contains(r.stderr, "--rocketchat-version: "+c.want) || strings.Contains(r.stdout, "Changes to") {
				t.Errorf("generate %q --rocketchat-version %s over 7.10.15: exit %d, want 2 and %q:\n%s%s", args, c.to, r.code, c.want, r.stdout, r.stderr)
			}
		}
		cfg := filepath.Join(dir, "answers.yaml")
		if err := os.WriteFile(cfg, []byte("version: 1\nrocketchat_version: \""+c.to+"\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := run(t, "generate", "--yes", "--config", cfg, "--out", out)
		if r.code != 2 || !strings.Contains(r.stderr, cfg+": line 2: rocketchat_version: "+c.want) {
			t.Errorf("rocketchat_version %s in an answers file: exit %d, want 2 naming its line and %q: %s", c.to, r.code, c.want, r.stderr)
		}
		unchanged(t, out, before)

		// The deployment's own answers file, edited by hand.
		if err := os.WriteFile(answers, []byte(line.ReplaceAllString(recorded, `rocketchat_version: "`+c.to+`"`)), 0o600); err != nil {
			t.Fatal(err)
		}
		r = run(t, "generate", "--yes", "--out", out)
		want := answers + ": line " + strconv.Itoa(lineNo) + ": rocketchat_version: " + c.want
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("rocketchat_version %s edited into rcgen.yaml: exit %d, want 2 and %q: %s", c.to, r.code, want, r.stderr)
		}
		if err := os.WriteFile(answers, []byte(recorded), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	unchanged(t, out, before)
	if _, err := os.Stat(filepath.Join(out, "rcgen-backups")); err == nil {
		t.Error("a refused re-run backed files up")
	}
}

// TestRerunTakesOneStep: a re-run makes one step of rcgen upgrade's way.
// The release of the next major from the last of the one before is taken,
// saying how to back up first; a release whose MongoDB is a step further
// is taken with MongoDB kept, and the next run moves MongoDB; what is
// said about this change is not written into the README.
func TestRerunTakesOneStep(t *testing.T) {
	out := filepath.Join(t.TempDir(), "deploy")
	env := func() map[string]string { return envOf(t, read(t, filepath.Join(out, render.EnvFile))) }
	if r := run(t, "generate", "--yes", "--rocketchat-version", "7.12.7", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := run(t, "generate", "--yes", "--rocketchat-version", "7.13.9", "--out", out)
	if e := env(); r.code != 0 || e[render.EnvRocketChatVersion] != "7.13.9" || e[render.EnvMongoDBVersion] != mongoTag(t, "7.0") ||
		!strings.Contains(r.stderr, "MongoDB stays on 7.0 for now, which Rocket.Chat 7.13.9 runs on") ||
		!strings.Contains(r.stderr, "back up first (rcgen backup), or make this step with `rcgen upgrade --to 7.13.9`") {
		t.Fatalf("7.12.7 -> 7.13.9: exit %d, .env %s on %s: %s", r.code, e[render.EnvRocketChatVersion], e[render.EnvMongoDBVersion], r.stderr)
	}
	if strings.Contains(string(read(t, filepath.Join(out, render.ReadmeFile))), "for now") {
		t.Error("the README keeps what was said about one run's change")
	}
	// The same answers again: the next step, MongoDB 8.0, with the command
	// that finishes it.
	r = run(t, "generate", "--yes", "--out", out)
	if e := env(); r.code != 0 || e[render.EnvMongoDBVersion] != mongoTag(t, "8.0") || !strings.Contains(r.stderr, "setFeatureCompatibilityVersion") {
		t.Fatalf("7.13.9 on 7.0, re-run: exit %d, MongoDB %s: %s", r.code, e[render.EnvMongoDBVersion], r.stderr)
	}
	// 7.13.9 is the last 7.x: into 8.x in one step.
	r = run(t, "generate", "--yes", "--rocketchat-version", "8.8.1", "--out", out)
	if e := env(); r.code != 0 || e[render.EnvRocketChatVersion] != "8.8.1" || !strings.Contains(r.stderr, "Rocket.Chat moves from 7.13.9 to 8.8.1, and migrates the database when it starts, with no way back") {
		t.Fatalf("7.13.9 -> 8.8.1: exit %d: %s", r.code, r.stderr)
	}
	// Back: never, not even a patch.
	r = run(t, "generate", "--yes", "--rocketchat-version", "8.8.0", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, "--rocketchat-version: 8.8.0 is older than the 8.8.1 this deployment runs, and Rocket.Chat cannot migrate its database back") {
		t.Errorf("8.8.1 -> 8.8.0: exit %d: %s", r.code, r.stderr)
	}
}

// TestSwarmRerunNamesEachRun: on Swarm the refusal names rcgen upgrade,
// run on the backup node, and one run per step by hand; those runs get
// there.
func TestSwarmRerunNamesEachRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sw")
	nodes := []string{"--node", "node-1=4:8GiB", "--node", "node-2=4:8GiB", "--node", "node-3=4:8GiB"}
	args := append([]string{"generate", "--yes", "--target", "swarm", "--mongodb-members", "3", "--domain", "chat.example.com", "--email", "admin@example.com", "--rocketchat-version", "7.10.15", "--out", out}, nodes...)
	if r := run(t, args...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	before := snapshot(t, out)
	r := run(t, "generate", "--yes", "--rocketchat-version", "8.8.1", "--out", out)
	want := "`rcgen upgrade --to 8.8.1`, run on the node labelled rcgen.backup (a manager), takes it there: it backs up first, then rolls each image with docker service update and waits for the tasks (README.md: Backups); or by hand: run rcgen generate once per step, deploying each and waiting until it is healthy: --rocketchat-version 7.13.9, then the same again (MongoDB 8.0), then --rocketchat-version 8.8.1"
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Fatalf("swarm 7.10.15 -> 8.8.1: exit %d, want 2 and %q: %s", r.code, want, r.stderr)
	}
	unchanged(t, out, before)
	for _, step := range [][]string{{"--rocketchat-version", "7.13.9"}, nil, {"--rocketchat-version", "8.8.1"}} {
		if r := run(t, append([]string{"generate", "--yes", "--out", out}, step...)...); r.code != 0 {
			t.Fatalf("step %q: exit %d: %s", step, r.code, r.stderr)
		}
	}
	e := envOf(t, read(t, filepath.Join(out, render.EnvFile)))
	if e[render.EnvRocketChatVersion] != "8.8.1" || e[render.EnvMongoDBVersion] != mongoTag(t, "8.0") {
		t.Errorf("after the runs named: Rocket.Chat %s on MongoDB %s", e[render.EnvRocketChatVersion], e[render.EnvMongoDBVersion])
	}
}

// TestWizardExplainsReleasesFartherAway: on a 7.10.15 deployment the
// wizard's release question offers no release more than one step away,
// and says which it left out and the way there.
func TestWizardExplainsReleasesFartherAway(t *testing.T) {
	def := catalog.Default()
	now := def.Released.AddDate(0, 0, 10)
	out := filepath.Join(t.TempDir(), "d")
	if r := run(t, "generate", "--yes", "--rocketchat-version", "7.10.15", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	before := snapshot(t, out)
	script := prompttest.NewScript(t,
		step{Question: "several hosts", Answer: false},
		step{Question: "Public domain name", Answer: ""},
		step{Question: "Enterprise licence", Answer: false},
		step{Question: "Expected concurrent users", Answer: ""},
		step{Question: "MongoDB replica set", Answer: ""},
		step{Question: "Run monitoring", Answer: true},
		step{Question: "Keep every container's logs", Answer: true},
		step{Question: "Email alerts to", Answer: ""},
		step{Question: "Back up", Answer: true},
		step{Question: "Write the deployment to", Answer: "Change an answer"},
		step{Question: "Which answer?", Answer: "Rocket.Chat release"},
		step{Question: "Write the deployment to", Answer: "Cancel"},
	)
	picker := &releasePicker{Prompter: script, pick: func(options []string) string { return options[0] }}
	r := runEnv(func(e *Env) {
		e.IO.Interactive = true
		e.Prompter = func() prompt.Prompter { return picker }
		e.Now = func() time.Time { return now }
	}, "generate", "--out", out)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (cancelled): %s", r.code, r.stderr)
	}
	for _, o := range picker.offered {
		if v := optionVersion(o); v != "7.10.15" && v != "7.11.7" && v != "7.12.7" && v != "7.13.9" {
			t.Errorf("offered %q, more than one step from 7.10.15", o)
		}
	}
	newest, _, _ := catalog.ResolveWord(catalog.WordLatest)
	if !strings.Contains(r.stderr, "Not offered, more than one step away: "+newest) || !strings.Contains(r.stderr, "`rcgen upgrade --to "+newest+"` takes this deployment there step by step") {
		t.Errorf("the wizard does not say what it left out and the way: %s", r.stderr)
	}
	unchanged(t, out, before)
}

// TestReadmeSaysHowToChangeTheRelease: the README's "Change it" tells the
// operator to change the release with rcgen upgrade, and that a re-run
// refuses a farther release, as it does.
func TestReadmeSaysHowToChangeTheRelease(t *testing.T) {
	out := filepath.Join(t.TempDir(), "deploy")
	if r := run(t, "generate", "--yes", "--rocketchat-version", "7.10.15", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	readme := string(read(t, filepath.Join(out, render.ReadmeFile)))
	i := strings.Index(readme, "## Change it\n")
	if i < 0 {
		t.Fatalf("the README has no Change it section:\n%s", readme)
	}
	section := readme[i:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	flat := strings.Join(strings.Fields(section), " ")
	for _, want := range []string{"To move to another Rocket.Chat release, run `rcgen upgrade --to VERSION`", "it backs up first",
		"A re-run with a new `--rocketchat-version` makes one such step at most", "it refuses a release farther away and names the way"} {
		if !strings.Contains(flat, want) {
			t.Errorf("Change it lacks %q:\n%s", want, section)
		}
	}
	if strings.Contains(flat, "changing what you need (a new `--rocketchat-version`") {
		t.Errorf("Change it still offers a new --rocketchat-version as a plain re-run:\n%s", section)
	}
	// And what it says holds: the re-run it describes is refused.
	latest := catalog.Default().Latest
	r := run(t, "generate", "--yes", "--rocketchat-version", latest, "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, "`rcgen upgrade --to "+latest+"`") {
		t.Errorf("a re-run to %s over 7.10.15: exit %d: %s", latest, r.code, r.stderr)
	}
}

// TestSwarmReadmeSaysHowToChangeTheRelease: a Swarm deployment has no
// `rcgen upgrade`, so its README describes the re-run one step at a time,
// and the re-run it describes is what rcgen does.
func TestSwarmReadmeSaysHowToChangeTheRelease(t *testing.T) {
	out := filepath.Join(t.TempDir(), "deploy")
	nodes := []string{"--node", "node-1=4:8GiB", "--node", "node-2=4:8GiB", "--node", "node-3=4:8GiB"}
	args := append([]string{"generate", "--yes", "--target", "swarm", "--mongodb-members", "3", "--domain", "chat.example.com", "--email", "admin@example.com", "--rocketchat-version", "7.10.15", "--out", out}, nodes...)
	if r := run(t, args...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	readme := string(read(t, filepath.Join(out, render.ReadmeFile)))
	i := strings.Index(readme, "## Change it\n")
	if i < 0 {
		t.Fatalf("the README has no Change it section:\n%s", readme)
	}
	flat := strings.Join(strings.Fields(readme[i:]), " ")
	for _, want := range []string{"A new Rocket.Chat release is taken one step at a time", "refuses anything farther, listing each run on the way", "`rcgen upgrade --to VERSION`, run on `node-2` (see \"Backups\"), takes every step for you: a backup first"} {
		if !strings.Contains(flat, want) {
			t.Errorf("Change it lacks %q:\n%s", want, readme[i:])
		}
	}
	latest := catalog.Default().Latest
	r := run(t, "generate", "--yes", "--rocketchat-version", latest, "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, "7.13.9") {
		t.Errorf("a Swarm re-run to %s over 7.10.15: exit %d, want 2 naming the step 7.13.9: %s", latest, r.code, r.stderr)
	}
}
