package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/prompt"
	"github.com/rcgen/rcgen/internal/prompt/prompttest"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
)

// releasePicker answers the release question itself, with the option
// pick chooses among those offered, and passes every other question on.
type releasePicker struct {
	prompt.Prompter
	pick    func(options []string) string
	offered []string
}

func (r *releasePicker) Select(message, help string, options []string, def string) (string, error) {
	if strings.Contains(message, "Rocket.Chat release to deploy") {
		r.offered = options
		if def != options[0] {
			return "", errUnexpected("the current answer is not the release question's default")
		}
		return r.pick(options), nil
	}
	return r.Prompter.Select(message, help, options, def)
}

type errUnexpected string

func (e errUnexpected) Error() string { return string(e) }

// optionVersion is the release an option of the release question names.
func optionVersion(o string) string { v, _, _ := strings.Cut(o, " "); return v }

// planRow finds a row of the plan table in out: its value and reason.
func planRow(t *testing.T, out, label string) (string, string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(label)+`\s{2,}(\S+)\s{2,}(.*)$`).FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		t.Fatalf("the plan has no %q row:\n%s", label, out)
	}
	last := m[len(m)-1]
	return last[1], last[2]
}

// TestWizardShowsAndChangesTheRelease: the plan the wizard shows says which
// Rocket.Chat release and MongoDB it deploys and why, and "Change an
// answer" offers the releases rcgen deploys; the one chosen is deployed.
func TestWizardShowsAndChangesTheRelease(t *testing.T) {
	def := catalog.Default()
	now := def.Released.AddDate(0, 0, 10)
	out := filepath.Join(t.TempDir(), "d")
	script := prompttest.NewScript(t,
		step{Question: "several hosts", Answer: false},
		step{Question: "Public domain name", Answer: "localhost"},
		step{Question: "Enterprise licence", Answer: false},
		step{Question: "Expected concurrent users", Answer: ""},
		step{Question: "MongoDB replica set", Answer: "1 member"},
		step{Question: "Run monitoring", Answer: false},
		step{Question: "Back up", Answer: true},
		step{Question: "Write the deployment to", Answer: "Change an answer"},
		step{Question: "Which answer?", Answer: "Rocket.Chat release"},
		step{Question: "Write the deployment to", Answer: "Write it"},
	)
	picker := &releasePicker{Prompter: script, pick: func(options []string) string { return options[len(options)-1] }}
	r := runEnv(func(e *Env) {
		e.IO.Interactive = true
		e.Prompter = func() prompt.Prompter { return picker }
		e.Now = func() time.Time { return now }
	}, "generate", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}

	// The first plan: the default release, and the MongoDB it pairs with.
	first := r.stderr[:strings.LastIndex(r.stderr, "PLAN ")]
	v, why := planRow(t, first, "Rocket.Chat release")
	if v != def.Latest || !strings.Contains(why, "rcgen's default release") || !strings.Contains(why, "supported to "+def.EndOfSupport.String()) {
		t.Errorf("first plan: Rocket.Chat release %s, %q; want %s, rcgen's default, with its end of support", v, why, def.Latest)
	}
	m, _ := catalog.MongoDBFor(def.Latest)
	if v, why := planRow(t, first, "MongoDB version"); v != m.Tag || !strings.Contains(why, "Rocket.Chat "+def.Line+" declares") {
		t.Errorf("first plan: MongoDB version %s, %q; want %s, with why", v, why, m.Tag)
	}

	// What was offered: the current answer first, then releases rcgen
	// deploys: none newer than the newest (latest), none out of support.
	if len(picker.offered) < 2 || optionVersion(picker.offered[0]) != def.Latest || !strings.Contains(picker.offered[0], "the current answer") {
		t.Fatalf("offered %q: want the current answer (%s) first, then others", picker.offered, def.Latest)
	}
	newest, _, _ := catalog.ResolveWord(catalog.WordLatest)
	defV, _ := spec.ParseVersion(newest)
	for _, o := range picker.offered {
		rel, ok := catalog.Lookup(optionVersion(o))
		ov, err := spec.ParseVersion(optionVersion(o))
		if !ok || err != nil || defV.Before(ov) || rel.SupportOn(now) == catalog.Unsupported || !strings.Contains(o, rel.EndOfSupport.String()) {
			t.Errorf("offered %q: want releases of the catalog up to %s, supported on %s, with their end of support", o, newest, now.Format(time.DateOnly))
		}
	}
	chosen := optionVersion(picker.offered[len(picker.offered)-1])

	// The plan shown again, and the deployment, use the release chosen.
	v, why = planRow(t, r.stderr, "Rocket.Chat release")
	if v != chosen || !strings.HasPrefix(why, "chosen in the wizard") {
		t.Errorf("second plan: Rocket.Chat release %s, %q; want %s, chosen in the wizard", v, why, chosen)
	}
	m, _ = catalog.MongoDBFor(chosen)
	if v, _ := planRow(t, r.stderr, "MongoDB version"); v != m.Tag {
		t.Errorf("second plan: MongoDB version %s, want %s", v, m.Tag)
	}
	env := envOf(t, read(t, filepath.Join(out, ".env")))
	if env[render.EnvRocketChatVersion] != chosen {
		t.Errorf(".env deploys Rocket.Chat %q, want the %s chosen", env[render.EnvRocketChatVersion], chosen)
	}
}

// TestWizardOffersOnlyReleasesTheDeploymentCanTake: on a re-run, the
// release question never offers a release the deployment cannot move to
// (Rocket.Chat never migrates its database back), and the plan says the
// release is the deployment's.
func TestWizardOffersOnlyReleasesTheDeploymentCanTake(t *testing.T) {
	def := catalog.Default()
	now := def.Released.AddDate(0, 0, 10)
	if len(deployable(now)) < 2 {
		t.Fatalf("the catalog offers one release on %s: the test needs an older one to be left out", now.Format(time.DateOnly))
	}
	out := filepath.Join(t.TempDir(), "d")
	if r := run(t, "generate", "--yes", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
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
	defV, _ := spec.ParseVersion(def.Latest)
	for _, o := range picker.offered {
		if v, err := spec.ParseVersion(optionVersion(o)); err != nil || v.Before(defV) {
			t.Errorf("offered %q, older than the %s the deployment runs", o, def.Latest)
		}
	}
	first := r.stderr[:strings.LastIndex(r.stderr, "PLAN ")]
	if _, why := planRow(t, first, "Rocket.Chat release"); !strings.HasPrefix(why, "the release this deployment runs") {
		t.Errorf("re-run plan: Rocket.Chat release because %q; want the deployment's", why)
	}
}

// TestPlanShowsTheRelease: rcgen plan shows the same release rows as the
// wizard, naming where the release came from.
func TestPlanShowsTheRelease(t *testing.T) {
	r := run(t, "plan", "--cpus", "8", "--memory", "16GiB")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	def := catalog.Default()
	if v, why := planRow(t, r.stdout, "Rocket.Chat release"); v != def.Latest || !strings.HasPrefix(why, "rcgen's default release") {
		t.Errorf("Rocket.Chat release %s, %q", v, why)
	}
	m, _ := catalog.MongoDBFor(def.Latest)
	if v, _ := planRow(t, r.stdout, "MongoDB version"); v != m.Tag {
		t.Errorf("MongoDB version %s, want %s", v, m.Tag)
	}

	// From an answers file: its line, and the MongoDB that release pairs with.
	older := catalog.Releases()[0]
	answers := filepath.Join(t.TempDir(), "answers.yaml")
	if err := os.WriteFile(answers, []byte("version: 1\nrocketchat_version: \""+older.Latest+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "plan", "--cpus", "8", "--memory", "16GiB", "--config", answers)
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	if v, why := planRow(t, r.stdout, "Rocket.Chat release"); v != older.Latest || !strings.HasPrefix(why, "rocketchat_version from "+answers+", line 2") {
		t.Errorf("Rocket.Chat release %s, %q", v, why)
	}
	m, _ = catalog.MongoDBFor(older.Latest)
	if v, _ := planRow(t, r.stdout, "MongoDB version"); v != m.Tag {
		t.Errorf("MongoDB version %s, want %s for Rocket.Chat %s", v, m.Tag, older.Latest)
	}
}
