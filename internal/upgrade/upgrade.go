// Package upgrade plans the way from what a deployment runs to a newer
// Rocket.Chat release: the MongoDB feature versions in between (one at a
// time, featureCompatibilityVersion set after each), the Rocket.Chat
// releases that must be passed through (a release that runs on both
// MongoDB versions of a step; the last release of each major before the
// next), a backup first, and the breaking changes crossed. It is pure: the
// cli applies a plan through generate and Docker.
package upgrade

import (
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/rcgen/rcgen/internal/catalog"
)

// Deployed is what a deployment runs.
type Deployed struct {
	// RocketChat is the release (ROCKETCHAT_VERSION).
	RocketChat string `json:"rocketchat"`
	// MongoDB is the version or image tag the members run ("7.0.28-ubi8",
	// or what mongod reports).
	MongoDB string `json:"mongodb"`
	// FCV is MongoDB's featureCompatibilityVersion, "" when it could not
	// be read.
	FCV string `json:"fcv"`
}

// Kind is what a step changes.
type Kind string

// Step kinds.
const (
	Backup     Kind = "backup"
	RocketChat Kind = "rocketchat"
	MongoDB    Kind = "mongodb"
	FCV        Kind = "fcv"
)

// Step is one change, applied and checked before the next.
type Step struct {
	Kind Kind `json:"kind"`
	// RocketChat and MongoDB are what runs once the step is done (a
	// release, a MongoDB feature version).
	RocketChat string `json:"rocketchat"`
	MongoDB    string `json:"mongodb"`
	// FCV is the featureCompatibilityVersion a FCV step sets.
	FCV string `json:"fcv,omitempty"`
	// Why says why the step is there.
	Why string `json:"why"`
	// Breaking are the breaking changes of the release lines the step
	// moves onto.
	Breaking []string `json:"breaking,omitempty"`
}

// Title is the step in a few words.
func (s Step) Title() string {
	switch s.Kind {
	case Backup:
		return "back up"
	case RocketChat:
		return "Rocket.Chat " + s.RocketChat
	case MongoDB:
		return "MongoDB " + s.MongoDB
	case FCV:
		return "featureCompatibilityVersion " + s.FCV
	}
	return string(s.Kind)
}

// Plan is the way from a deployment to a release.
type Plan struct {
	From  Deployed `json:"from"`
	To    string   `json:"to"`
	Steps []Step   `json:"steps"`
	// Notes are what the operator should know that no step does.
	Notes []string `json:"notes,omitempty"`
}

// Current reports whether the deployment already runs what was asked.
func (p Plan) Current() bool { return len(p.Steps) == 0 }

// Error is a plan rcgen refuses, with the way forward in its message.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func fail(format string, a ...any) (Plan, error) {
	return Plan{}, &Error{Msg: fmt.Sprintf(format, a...)}
}

// Compute plans the upgrade of from to the release to.
func Compute(from Deployed, to string) (Plan, error) {
	// The release rule generate applies, in the same words.
	line, err := catalog.Deployable(to)
	if err != nil {
		return fail("%v", err)
	}
	tv := semver.MustParse(to)
	fv, err := semver.StrictNewVersion(from.RocketChat)
	if err != nil {
		return fail("the deployment does not say which Rocket.Chat it runs (ROCKETCHAT_VERSION in .env is %q)", from.RocketChat)
	}
	if _, ok := catalog.Lookup(from.RocketChat); !ok {
		return fail("this deployment runs Rocket.Chat %s, which is not in rcgen's catalog (%s to %s): rcgen plans upgrades from 7.0 on", from.RocketChat, catalog.Releases()[0].Line, catalog.Newest().Latest)
	}
	if tv.LessThan(fv) {
		return fail("%s is older than the %s this deployment runs, and Rocket.Chat cannot migrate its database back: to go back, restore a backup taken before the upgrade into a new deployment", to, from.RocketChat)
	}
	ms := catalog.FeatureOf(strings.TrimPrefix(from.MongoDB, "v"))
	if catalog.FeatureIndex(ms) < 0 {
		return fail("this deployment runs MongoDB %q, which rcgen does not know (it knows %s)", from.MongoDB, strings.Join(catalog.FeatureVersions, ", "))
	}
	target, err := catalog.MongoDBFor(to)
	if err != nil {
		return fail("%v", err)
	}
	p := Plan{From: from, To: to}
	t := target.Series
	if catalog.FeatureIndex(t) < catalog.FeatureIndex(ms) {
		kept, _ := catalog.Series(ms)
		p.Notes = append(p.Notes, fmt.Sprintf("MongoDB stays on %s (end of life %s): Rocket.Chat %s declares %s, but MongoDB Community cannot move its binaries back; to move, back up, generate a new deployment on %s and restore into it", ms, kept.EndOfLife, line.Line, t, t))
		t = ms
	}
	s := &state{rc: fv, ms: ms, fcv: from.FCV, plan: &p}
	if s.fcv != "" && s.fcv != s.ms {
		if catalog.FeatureIndex(s.fcv) != catalog.FeatureIndex(s.ms)-1 {
			return fail("MongoDB runs %s with featureCompatibilityVersion %s, which MongoDB does not allow: set it to %s by hand before planning", ms, s.fcv, ms)
		}
		s.setFCV(s.ms, "the last MongoDB upgrade was not finished: every member runs "+s.ms)
	}
	for s.ms != t {
		next := catalog.FeatureVersions[catalog.FeatureIndex(s.ms)+1]
		if _, ok := catalog.Series(next); !ok {
			return fail("MongoDB %s must first move to %s, for which rcgen pins no image: upgrade it by hand (MongoDB's %s upgrade notes), then run rcgen again", s.ms, next, next)
		}
		if !declares(s.rc, next) {
			bridge, ok := bridgeFor(s.rc, tv, s.ms, next)
			if !ok {
				return fail("no Rocket.Chat release rcgen knows between %s and %s runs on both MongoDB %s and %s, so MongoDB cannot be moved on the way", s.rc, to, s.ms, next)
			}
			if err := s.moveRC(bridge, fmt.Sprintf("it runs on both MongoDB %s and %s", s.ms, next)); err != nil {
				return Plan{}, err
			}
		}
		if s.fcv != s.ms {
			s.setFCV(s.ms, "MongoDB moves to "+next+" only from featureCompatibilityVersion "+s.ms)
		}
		p.Steps = append(p.Steps, Step{Kind: MongoDB, RocketChat: s.rc.String(), MongoDB: next,
			Why: fmt.Sprintf("MongoDB moves one feature version at a time: %s to %s, every member", s.ms, next)})
		s.ms = next
		s.setFCV(next, "finishes the move to "+next+" (MongoDB runs in "+catalog.FeatureVersions[catalog.FeatureIndex(next)-1]+" compatibility until then)")
	}
	if err := s.moveRC(tv, "the release asked for"); err != nil {
		return Plan{}, err
	}
	if len(p.Steps) > 0 {
		p.Steps = append([]Step{{Kind: Backup, RocketChat: from.RocketChat, MongoDB: ms,
			Why: "a backup of what runs now: Rocket.Chat's migrations and MongoDB's feature version only move forward"}}, p.Steps...)
	}
	return p, nil
}

type state struct {
	rc   *semver.Version
	ms   string
	fcv  string
	plan *Plan
}

func (s *state) setFCV(series, why string) {
	s.plan.Steps = append(s.plan.Steps, Step{Kind: FCV, RocketChat: s.rc.String(), MongoDB: s.ms, FCV: series, Why: why})
	s.fcv = series
}

// moveRC moves Rocket.Chat to v, through the last release of each major
// on the way: Rocket.Chat migrates one major at a time.
func (s *state) moveRC(v *semver.Version, why string) error {
	for s.rc.Major() < v.Major() {
		last, ok := catalog.LatestOfMajor(s.rc.Major())
		if !ok {
			return &Error{Msg: fmt.Sprintf("rcgen knows no %d.x release to pass through", s.rc.Major())}
		}
		if lv := semver.MustParse(last.Latest); lv.GreaterThan(s.rc) {
			s.rcStep(lv, fmt.Sprintf("the last %d.x release: Rocket.Chat migrates one major release at a time", s.rc.Major()))
			continue
		}
		// On the last release of its major: into the next major.
		nextMajor := s.rc.Major() + 1
		if v.Major() == nextMajor {
			break
		}
		last, ok = catalog.LatestOfMajor(nextMajor)
		if !ok {
			return &Error{Msg: fmt.Sprintf("rcgen knows no %d.x release to pass through on the way to %s", nextMajor, v)}
		}
		s.rcStep(semver.MustParse(last.Latest), fmt.Sprintf("the last %d.x release: Rocket.Chat migrates one major release at a time", nextMajor))
	}
	if v.GreaterThan(s.rc) {
		s.rcStep(v, why)
	}
	return nil
}

func (s *state) rcStep(v *semver.Version, why string) {
	var breaking []string
	for _, r := range catalog.Releases() {
		lv := semver.MustParse(r.Line + ".0")
		if lv.GreaterThan(s.rc) && !lv.GreaterThan(v) {
			for _, b := range r.Breaking {
				breaking = append(breaking, r.Line+": "+b)
			}
		}
	}
	s.plan.Steps = append(s.plan.Steps, Step{Kind: RocketChat, RocketChat: v.String(), MongoDB: s.ms, Why: why, Breaking: breaking})
	s.rc = v
}

// declares reports whether release v's notes declare MongoDB series.
func declares(v *semver.Version, series string) bool {
	r, ok := catalog.Lookup(v.String())
	return ok && slices.Contains(r.MongoDB, series)
}

// runsOn reports whether release v starts on MongoDB series: what its
// notes declare, and from 8.0 on any MongoDB from 7.0 (the server's own
// check, apps/meteor/server/startup/serverRunning.ts, refuses older).
func runsOn(v *semver.Version, series string) bool {
	if declares(v, series) {
		return true
	}
	return v.Major() >= 8 && catalog.FeatureIndex(series) >= catalog.FeatureIndex("7.0")
}

// bridgeFor is the newest deployable release after rc and not past to
// that runs on MongoDB from and declares next (7.13 for 7.0 to 8.0): of
// rc's major, or of the next one when rc is its major's last release.
// When rc's major has none and to is past it, the way may pass through
// the major's last release (when that runs on from too) into the next
// one: 7.13.2 to 7.13.9 to 8.1.8 on MongoDB 8.0, then MongoDB 8.2.
func bridgeFor(rc, to *semver.Version, from, next string) (*semver.Version, bool) {
	last, ok := catalog.LatestOfMajor(rc.Major())
	if !ok {
		return nil, false
	}
	lv := semver.MustParse(last.Latest)
	majors := []uint64{rc.Major()}
	if !lv.GreaterThan(rc) {
		majors = append(majors, rc.Major()+1)
	}
	if v, ok := bridgeIn(majors, rc, to, from, next); ok {
		return v, true
	}
	if lv.GreaterThan(rc) && to.Major() > rc.Major() && runsOn(lv, from) {
		return bridgeIn([]uint64{rc.Major() + 1}, rc, to, from, next)
	}
	return nil, false
}

func bridgeIn(majors []uint64, rc, to *semver.Version, from, next string) (*semver.Version, bool) {
	rels := catalog.DeployableReleases()
	for i := len(rels) - 1; i >= 0; i-- {
		r := rels[i]
		v := semver.MustParse(r.Latest)
		if !slices.Contains(majors, v.Major()) || !v.GreaterThan(rc) || !slices.Contains(r.MongoDB, next) || !runsOn(v, from) {
			continue
		}
		if v.GreaterThan(to) {
			if semver.MustParse(r.Line + ".0").GreaterThan(to) {
				continue
			}
			v = to // the release asked for is on this line
		}
		return v, true
	}
	return nil, false
}
