package upgrade

import (
	"errors"
	"testing"
)

// TestNextStep: a re-run takes the first step of the way when it deploys
// the release asked for, and refuses a farther release with the way.
func TestNextStep(t *testing.T) {
	cases := []struct {
		name       string
		from       Deployed
		to         string
		step, rest string // the step taken, and what is left
		path       string // the way, when refused
		err        bool   // refused by Compute
	}{
		{name: "a minor release", from: Deployed{RocketChat: "8.7.1", MongoDB: "8.0.32-ubi9"}, to: "8.8.1", step: "Rocket.Chat 8.8.1"},
		{name: "nothing to do", from: Deployed{RocketChat: "8.8.1", MongoDB: "8.0.32-ubi9"}, to: "8.8.1"},
		{name: "the next major from the last of the one before", from: Deployed{RocketChat: "7.13.9", MongoDB: "8.0.32-ubi9"}, to: "8.8.1", step: "Rocket.Chat 8.8.1"},
		{name: "the release first, MongoDB later", from: Deployed{RocketChat: "7.12.7", MongoDB: "7.0.28-ubi8"}, to: "7.13.9", step: "Rocket.Chat 7.13.9", rest: "MongoDB 8.0"},
		{name: "MongoDB alone", from: Deployed{RocketChat: "7.13.9", MongoDB: "7.0.28-ubi8"}, to: "7.13.9", step: "MongoDB 8.0"},
		{name: "a skipped major", from: Deployed{RocketChat: "7.10.15", MongoDB: "7.0.28-ubi8"}, to: "8.8.1", path: "Rocket.Chat 7.13.9, MongoDB 8.0, Rocket.Chat 8.8.1"},
		{name: "into 8.x from a 7.x before the last", from: Deployed{RocketChat: "7.13.2", MongoDB: "8.0.32-ubi9"}, to: "8.2.8", path: "Rocket.Chat 7.13.9, Rocket.Chat 8.2.8"},
		{name: "MongoDB before the release", from: Deployed{RocketChat: "7.13.9", MongoDB: "7.0.28-ubi8"}, to: "8.8.1", path: "MongoDB 8.0, Rocket.Chat 8.8.1"},
		{name: "back a patch", from: Deployed{RocketChat: "8.8.1", MongoDB: "8.0.32-ubi9"}, to: "8.8.0", err: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NextStep(c.from, c.to)
			var se *StepError
			var ce *Error
			switch {
			case c.err:
				if !errors.As(err, &ce) {
					t.Fatalf("err = %v, want Compute's refusal", err)
				}
				return
			case c.path != "":
				if !errors.As(err, &se) || se.Plan.Path() != c.path {
					t.Fatalf("err = %v, want the way %q", err, c.path)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			step := ""
			if r.Step != nil {
				step = r.Step.Title()
			}
			rest := Plan{Steps: r.Rest}.Path()
			if step != c.step || rest != c.rest {
				t.Errorf("step %q, then %q; want %q, then %q", step, rest, c.step, c.rest)
			}
		})
	}
}
