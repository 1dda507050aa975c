package upgrade

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/rcgen/rcgen/internal/catalog"
)

func titles(p Plan) []string {
	var t []string
	for _, s := range p.Steps {
		t = append(t, s.Title())
	}
	return t
}

func TestCompute(t *testing.T) {
	cases := []struct {
		name  string
		from  Deployed
		to    string
		steps []string
		note  string
		err   string
	}{
		{name: "7.10 on MongoDB 6.0 to 8.8: each MongoDB step, a bridge release",
			from: Deployed{RocketChat: "7.10.15", MongoDB: "6.0.20", FCV: "6.0"}, to: "8.8.1",
			steps: []string{"back up", "MongoDB 7.0", "featureCompatibilityVersion 7.0", "Rocket.Chat 7.13.9",
				"MongoDB 8.0", "featureCompatibilityVersion 8.0", "Rocket.Chat 8.8.1"}},
		{name: "7.13.2 on MongoDB 8.0 to 8.8: through the last 7.x",
			from: Deployed{RocketChat: "7.13.2", MongoDB: "8.0.32-ubi9", FCV: "8.0"}, to: "8.8.1",
			steps: []string{"back up", "Rocket.Chat 7.13.9", "Rocket.Chat 8.8.1"}},
		{name: "8.7 on MongoDB 8.2 to 8.8: MongoDB cannot move back, stays",
			from: Deployed{RocketChat: "8.7.1", MongoDB: "8.2.12-ubi9", FCV: "8.2"}, to: "8.8.1",
			steps: []string{"back up", "Rocket.Chat 8.8.1"}, note: "MongoDB stays on 8.2"},
		{name: "already current",
			from: Deployed{RocketChat: "8.8.1", MongoDB: "8.0.32-ubi9", FCV: "8.0"}, to: "8.8.1"},
		{name: "an unfinished MongoDB upgrade is finished first",
			from: Deployed{RocketChat: "7.10.15", MongoDB: "7.0.28-ubi8", FCV: "6.0"}, to: "7.12.7",
			steps: []string{"back up", "featureCompatibilityVersion 7.0", "Rocket.Chat 7.12.7"}},
		{name: "an unread FCV is set before MongoDB moves",
			from: Deployed{RocketChat: "7.13.9", MongoDB: "7.0.28-ubi8"}, to: "8.8.1",
			steps: []string{"back up", "featureCompatibilityVersion 7.0", "MongoDB 8.0", "featureCompatibilityVersion 8.0", "Rocket.Chat 8.8.1"}},
		{name: "a target on the bridge line itself",
			from: Deployed{RocketChat: "7.10.15", MongoDB: "7.0.28-ubi8", FCV: "7.0"}, to: "7.13.2",
			steps: []string{"back up", "Rocket.Chat 7.13.2", "MongoDB 8.0", "featureCompatibilityVersion 8.0"}},
		{name: "to 8.0, which declares MongoDB 8.2 only: through 7.13 and 8.0 on MongoDB 8.0",
			from: Deployed{RocketChat: "7.12.7", MongoDB: "7.0.28-ubi8", FCV: "7.0"}, to: "8.0.8",
			steps: []string{"back up", "Rocket.Chat 7.13.9", "MongoDB 8.0", "featureCompatibilityVersion 8.0",
				"Rocket.Chat 8.0.8", "MongoDB 8.2", "featureCompatibilityVersion 8.2"}},
		{name: "from a 7.13 patch to 8.1, which declares MongoDB 8.2 only: through 7.13.9 to the bridge, 8.1 itself",
			from: Deployed{RocketChat: "7.13.2", MongoDB: "8.0.32-ubi9", FCV: "8.0"}, to: "8.1.8",
			steps: []string{"back up", "Rocket.Chat 7.13.9", "Rocket.Chat 8.1.8", "MongoDB 8.2", "featureCompatibilityVersion 8.2"}},
		{name: "downgrade", from: Deployed{RocketChat: "8.8.1", MongoDB: "8.0.32-ubi9"}, to: "8.7.1", err: "cannot migrate its database back"},
		{name: "unknown target", from: Deployed{RocketChat: "8.8.1", MongoDB: "8.0.32-ubi9"}, to: "9.9.9", err: "Rocket.Chat 9.9.9 is not a release rcgen knows"},
		{name: "unconfirmed patch", from: Deployed{RocketChat: "8.8.1", MongoDB: "8.0.32-ubi9"}, to: "8.8.99", err: "newer than the newest 8.8 patch rcgen has confirmed an image for (8.8.1)"},
		{name: "unconfirmed line", from: Deployed{RocketChat: "8.8.1", MongoDB: "8.0.32-ubi9"}, to: "9.0.0", err: "it has not confirmed that the 9.0 line's image is published"},
		{name: "unconfirmed line, unknown patch", from: Deployed{RocketChat: "8.8.1", MongoDB: "8.0.32-ubi9"}, to: "9.0.1", err: "it has not confirmed that the 9.0 line's image is published"},
		{name: "not a version", from: Deployed{RocketChat: "8.8.1", MongoDB: "8.0.32-ubi9"}, to: "latest", err: "is not a release number"},
		{name: "a skip MongoDB cannot open", from: Deployed{RocketChat: "7.6.6", MongoDB: "5.0.30"}, to: "8.8.1", err: "MongoDB 5.0 must first move to 6.0, for which rcgen pins no image"},
		{name: "an FCV MongoDB would not allow", from: Deployed{RocketChat: "8.7.1", MongoDB: "8.0.32-ubi9", FCV: "6.0"}, to: "8.8.1", err: "which MongoDB does not allow"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compute(c.from, c.to)
			if c.err != "" {
				var e *Error
				if err == nil || !errors.As(err, &e) || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := titles(p); !slices.Equal(got, c.steps) {
				t.Errorf("steps:\n %q\nwant\n %q", got, c.steps)
			}
			if c.note != "" && (len(p.Notes) == 0 || !strings.Contains(p.Notes[0], c.note)) {
				t.Errorf("notes %q, want %q", p.Notes, c.note)
			}
			if p.Current() != (len(c.steps) == 0) {
				t.Errorf("Current() = %v", p.Current())
			}
		})
	}
}

// TestBreakingChangesAreShownOnTheStepThatCrossesThem: the step into 8.x
// names the MongoDB floor; the last 7.x step, which crosses no line with
// breaking changes, names none.
func TestBreakingChangesAreShownOnTheStepThatCrossesThem(t *testing.T) {
	p, err := Compute(Deployed{RocketChat: "7.13.2", MongoDB: "8.0.32-ubi9", FCV: "8.0"}, "8.8.1")
	if err != nil {
		t.Fatal(err)
	}
	var last7, to8 Step
	for _, s := range p.Steps {
		switch s.RocketChat {
		case "7.13.9":
			last7 = s
		case "8.8.1":
			to8 = s
		}
	}
	if len(last7.Breaking) != 0 || last7.Kind != RocketChat {
		t.Errorf("7.13.9 step: %+v", last7)
	}
	if j := strings.Join(to8.Breaking, "\n"); !strings.Contains(j, "8.0: the server exits on MongoDB older than 7.0") || strings.Contains(j, "Custom OAuth") {
		t.Errorf("8.8 step breaking changes: %q", to8.Breaking)
	}
}

// TestTargetsFollowTheReleaseRule: --to accepts exactly the releases
// generate deploys (catalog.Deployable), and refuses the others in the
// same words, for every release row, an earlier and a later patch.
func TestTargetsFollowTheReleaseRule(t *testing.T) {
	from := Deployed{RocketChat: "7.0.0", MongoDB: "7.0.28-ubi8", FCV: "7.0"}
	for _, r := range catalog.Releases() {
		latest := semver.MustParse(r.Latest)
		for _, to := range []string{r.Line + ".0", r.Latest, latest.IncPatch().String()} {
			_, derr := catalog.Deployable(to)
			p, err := Compute(from, to)
			switch {
			case derr != nil && (err == nil || err.Error() != derr.Error()):
				t.Errorf("--to %s: %v; generate refuses it with %q", to, err, derr)
			case derr == nil && err != nil:
				t.Errorf("--to %s refused (%v), though generate deploys it", to, err)
			case derr == nil && to != from.RocketChat && (len(p.Steps) == 0 || p.Steps[len(p.Steps)-1].RocketChat != to):
				t.Errorf("--to %s: plan %q", to, titles(p))
			}
			for _, s := range p.Steps {
				if _, err := catalog.Deployable(s.RocketChat); s.Kind == RocketChat && err != nil {
					t.Errorf("--to %s passes through %s, which rcgen does not deploy: %v", to, s.RocketChat, err)
				}
			}
		}
	}
}

// TestEveryStepRunsOnADeclaredMongoDB walks every pair of catalog releases
// and MongoDB series: each plan either refuses or keeps Rocket.Chat on a
// MongoDB its release declares (or a newer one it cannot leave), moves
// MongoDB one feature version at a time with FCV set in between, and never
// goes back.
func TestEveryStepRunsOnADeclaredMongoDB(t *testing.T) {
	// imported here to keep the invariant next to the walk
	for _, from := range []string{"7.0.9", "7.6.6", "7.10.15", "7.13.9", "8.1.8", "8.5.3", "8.9.1"} {
		for _, mongo := range []string{"6.0.20", "7.0.28-ubi8", "8.0.32-ubi9", "8.2.12-ubi9"} {
			for _, to := range []string{"7.10.15", "7.13.9", "8.0.8", "8.5.3", "8.8.1"} {
				p, err := Compute(Deployed{RocketChat: from, MongoDB: mongo}, to)
				if err != nil {
					continue
				}
				rc, ms, fcvOK := from, strings.Join(strings.Split(mongo, ".")[:2], "."), false
				for _, s := range p.Steps {
					switch s.Kind {
					case MongoDB:
						if !fcvOK {
							t.Errorf("%s on %s -> %s: MongoDB %s before the FCV is set: %q", from, mongo, to, s.MongoDB, titles(p))
						}
						ms, fcvOK = s.MongoDB, false
					case FCV:
						if s.FCV != ms {
							t.Errorf("%s on %s -> %s: FCV %s on MongoDB %s", from, mongo, to, s.FCV, ms)
						}
						fcvOK = true
					case RocketChat:
						if s.RocketChat < rc && len(s.RocketChat) == len(rc) {
							t.Errorf("%s -> %s: Rocket.Chat goes back to %s", from, to, s.RocketChat)
						}
						rc = s.RocketChat
						if strings.HasPrefix(rc, "8.") || strings.HasPrefix(rc, "9.") {
							if ms < "7.0" {
								t.Errorf("%s on %s -> %s: Rocket.Chat %s on MongoDB %s, which it refuses", from, mongo, to, rc, ms)
							}
						}
					}
				}
				if rc != to {
					t.Errorf("%s on %s -> %s: ends on %s", from, mongo, to, rc)
				}
			}
		}
	}
}
