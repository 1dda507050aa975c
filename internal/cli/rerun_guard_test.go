package cli

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
	"github.com/rcgen/rcgen/internal/upgrade"
)

// TestRerunTakesOneStepOfTheUpgradeWay walks every pair of catalog releases
// (each line's first and newest patch, and the patch after its newest)
// from every deployable release on every MongoDB series rcgen pins that
// the release runs on, for both targets. A re-run of generate is refused
// exactly when rcgen upgrade's plan does not start with a step that
// deploys the release asked for; when it is taken, it writes that step
// (the release, and the MongoDB the deployment's own guard or the step
// keeps), and what it writes holds on its own: Rocket.Chat never goes
// back and crosses a major only from the last release of the one before
// (catalog.MajorStopSource); MongoDB never goes back and moves one
// feature version at most, never in the same run as Rocket.Chat, onto a
// series the release runs on. A refusal names the way: rcgen upgrade
// --to (compose), or each run (Swarm).
func TestRerunTakesOneStepOfTheUpgradeWay(t *testing.T) {
	var targets []string
	for _, r := range catalog.Releases() {
		latest := semver.MustParse(r.Latest)
		for _, v := range []string{r.Line + ".0", r.Latest, latest.IncPatch().String()} {
			if !slices.Contains(targets, v) {
				targets = append(targets, v)
			}
		}
	}
	var froms []string
	for _, r := range catalog.DeployableReleases() {
		froms = append(froms, r.Line+".0")
		if r.Latest != r.Line+".0" {
			froms = append(froms, r.Latest)
		}
	}
	idx := catalog.FeatureIndex
	taken, refused, majors := 0, 0, 0
	for _, from := range froms {
		fv := semver.MustParse(from)
		line, _ := catalog.Lookup(from)
		for _, ms := range catalog.AllMongoDB() {
			// The MongoDB series a deployment of from can run: those its
			// notes declare, and from 8.0 on any from 7.0 (serverRunning.ts).
			if !slices.Contains(line.MongoDB, ms.Series) && (fv.Major() < 8 || idx(ms.Series) < idx("7.0")) {
				continue
			}
			d := &deploy.Deployment{Env: map[string]string{render.EnvRocketChatVersion: from, render.EnvMongoDBVersion: ms.Tag}}
			for _, to := range targets {
				for _, target := range []string{spec.TargetCompose, spec.TargetSwarm} {
					a := spec.Answers{RocketChatVersion: to, Target: target}
					name := from + " on MongoDB " + ms.Series + " -> " + to + " (" + target + ")"
					step, err := stepOf(d, a)

					plan, perr := upgrade.Compute(upgrade.Deployed{RocketChat: from, MongoDB: ms.Tag}, to)
					changes := plan.Changes()
					oneStep := perr == nil && (len(changes) == 0 || changes[0].RocketChat == to)
					if (err == nil) != oneStep {
						t.Errorf("%s: re-run refused: %v; rcgen upgrade plans %q (%v)", name, err, plan.Path(), perr)
						continue
					}
					if err != nil {
						refused++
						msg := wordStep(err, a)
						var fe *spec.FieldError
						if !errors.As(msg, &fe) || fe.Key != spec.KeyVersion {
							t.Errorf("%s: the refusal is not the release answer's: %v", name, msg)
							continue
						}
						if perr == nil {
							way := "`rcgen upgrade --to " + to + "`"
							if target == spec.TargetSwarm {
								way = "{rocketchat_version} " + to
							}
							if !strings.Contains(fe.Msg, plan.Path()) || !strings.Contains(fe.Msg, way) {
								t.Errorf("%s: the refusal does not name the way (%s, %s): %s", name, way, plan.Path(), fe.Msg)
							}
						}
						continue
					}
					taken++

					// What the run writes.
					series := step.MongoDB
					if series == "" {
						s, _, err := d.MongoDB(to)
						if err != nil {
							t.Errorf("%s: taken, but the deployment's guard refuses it: %v", name, err)
							continue
						}
						series = s.Series
					}
					if len(changes) > 0 && (changes[0].RocketChat != to || changes[0].MongoDB != series) {
						t.Errorf("%s: writes Rocket.Chat %s on MongoDB %s; rcgen upgrade's first step is %s on %s", name, to, series, changes[0].RocketChat, changes[0].MongoDB)
					}

					// What it writes, on its own terms.
					tv := semver.MustParse(to)
					if tv.LessThan(fv) {
						t.Errorf("%s: Rocket.Chat goes back", name)
					}
					if tv.Major() > fv.Major() {
						majors++
						last, _ := catalog.LatestOfMajor(fv.Major())
						if tv.Major() > fv.Major()+1 || from != last.Latest {
							t.Errorf("%s: crosses into %d.x from %s, not from the last %d.x (%s)", name, tv.Major(), from, fv.Major(), last.Latest)
						}
					}
					if _, ok := catalog.Series(series); !ok {
						t.Errorf("%s: MongoDB %s, which rcgen pins no image of", name, series)
					}
					switch i, j := idx(ms.Series), idx(series); {
					case j < i:
						t.Errorf("%s: MongoDB goes back to %s", name, series)
					case j > i+1:
						t.Errorf("%s: MongoDB jumps to %s", name, series)
					case j == i+1 && to != from:
						t.Errorf("%s: Rocket.Chat and MongoDB (%s) move in one run", name, series)
					}
					toLine, _ := catalog.Lookup(to)
					if !slices.Contains(toLine.MongoDB, series) && (tv.Major() < 8 || idx(series) < idx("7.0")) {
						t.Errorf("%s: Rocket.Chat %s on MongoDB %s, which it does not run on", name, to, series)
					}
				}
			}
		}
	}
	// The walk meets both answers, and majors crossed the right way.
	if taken == 0 || refused == 0 || majors == 0 {
		t.Errorf("taken %d, refused %d, majors crossed %d: the walk proves nothing", taken, refused, majors)
	}
}

// TestNewDeploymentOnAStrandedMongoDB: Rocket.Chat 8.0 and 8.1 declare
// MongoDB 8.2 only, which every later release leaves for 8.0 and MongoDB
// cannot leave backwards: a new deployment of them is warned about (not
// refused: restoring a backup taken on MongoDB 8.2 needs one), and no
// other release is.
func TestNewDeploymentOnAStrandedMongoDB(t *testing.T) {
	for _, r := range catalog.DeployableReleases() {
		s, err := stepOf(nil, spec.Answers{RocketChatVersion: r.Latest})
		if err != nil {
			t.Fatalf("%s: %v", r.Latest, err)
		}
		stranded := r.Line == "8.0" || r.Line == "8.1"
		warned := len(s.Warnings) == 1 && strings.Contains(s.Warnings[0], "MongoDB 8.2") && strings.Contains(s.Warnings[0], "stays on it after every upgrade") &&
			strings.Contains(s.Warnings[0], "deploy Rocket.Chat 8.2 or later instead")
		if warned != stranded || !stranded && len(s.Warnings) > 0 {
			t.Errorf("new deployment of %s: warnings %q", r.Latest, s.Warnings)
		}
		if s.MongoDB != "" {
			t.Errorf("new deployment of %s: MongoDB %q chosen by the step; the release's pairing decides", r.Latest, s.MongoDB)
		}
	}
}
