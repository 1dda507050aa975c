package upgrade

import (
	"fmt"
	"strings"

	"github.com/rcgen/rcgen/internal/catalog"
)

// Changes returns the steps of p that change what the deployment runs: a
// Rocket.Chat release or a MongoDB feature version. The
// featureCompatibilityVersion steps prepare and finish the MongoDB move
// beside them, and the backup changes nothing: they are part of the same
// step of the way.
func (p Plan) Changes() []Step {
	var out []Step
	for _, s := range p.Steps {
		if s.Kind == RocketChat || s.Kind == MongoDB {
			out = append(out, s)
		}
	}
	return out
}

// Path names p's changes in order: "Rocket.Chat 7.13.9, MongoDB 8.0,
// Rocket.Chat 8.8.1".
func (p Plan) Path() string {
	var t []string
	for _, s := range p.Changes() {
		t = append(t, s.Title())
	}
	return strings.Join(t, ", ")
}

// Rerun is what a re-run of rcgen generate does on the way to a release.
type Rerun struct {
	// Plan is the whole way from what runs to the release asked for.
	Plan Plan
	// Step is the one change the re-run makes (Plan's first), nil when it
	// changes neither the release nor MongoDB.
	Step *Step
	// Rest are the changes the way takes after Step: MongoDB moves the
	// release asks for, one per later run (or rcgen upgrade).
	Rest []Step
}

// StepError refuses a re-run that would take more than one step of the
// way (Plan) at once.
type StepError struct {
	From Deployed
	To   string
	Plan Plan
}

func (e *StepError) Error() string {
	return fmt.Sprintf("Rocket.Chat %s is %d steps away from the Rocket.Chat %s on MongoDB %s this deployment runs (%s), and a re-run makes one",
		e.To, len(e.Plan.Changes()), e.From.RocketChat, catalog.FeatureOf(strings.TrimPrefix(e.From.MongoDB, "v")), e.Plan.Path())
}

// NextStep is the rule for a re-run of rcgen generate that deploys release
// to on a deployment running from. A re-run writes one set of files, which
// docker compose up -d (or docker stack deploy) applies at once, with no
// backup and no check in between: it may make one change of the way
// Compute plans, its first, and only when that change deploys to (what
// follows it then only moves MongoDB, to the series the release declares:
// one feature version per later run, or rcgen upgrade). So a re-run never
// crosses a major release Rocket.Chat must migrate through
// (catalog.MajorStopSource), never moves MongoDB by more than one feature
// version, and never changes both at once; a farther release is a
// *StepError, whose plan is the way. What Compute refuses is refused too,
// in its words: a lower release (Rocket.Chat never migrates its database
// back), a MongoDB rcgen does not know.
func NextStep(from Deployed, to string) (Rerun, error) {
	p, err := Compute(from, to)
	if err != nil {
		return Rerun{}, err
	}
	r := Rerun{Plan: p}
	changes := p.Changes()
	if len(changes) == 0 {
		return r, nil
	}
	if changes[0].RocketChat != to {
		return Rerun{}, &StepError{From: from, To: to, Plan: p}
	}
	r.Step, r.Rest = &changes[0], changes[1:]
	return r, nil
}
