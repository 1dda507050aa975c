package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
	"github.com/rcgen/rcgen/internal/upgrade"
)

// releaseStep is what a run of generate does about the Rocket.Chat release
// and MongoDB: the series it runs when rcgen upgrade's rule decides it
// ("" lets the deployment's guard, deploy.Deployment.MongoDB, choose), and
// the warnings that go with the plan.
type releaseStep struct {
	MongoDB  string
	Warnings []string
}

// stepOf applies upgrade.NextStep, the rule rcgen upgrade plans by, to a
// run of generate that deploys a.RocketChatVersion into d (nil: a plan
// alone). A new deployment takes any release rcgen deploys, with a
// warning when its MongoDB strands it; an existing one takes one step of
// rcgen upgrade's way and no more. Refusals are the upgrade package's
// errors: wordFor words them for the answer.
func stepOf(d *deploy.Deployment, a spec.Answers) (releaseStep, error) {
	to := a.RocketChatVersion
	var from upgrade.Deployed
	if d != nil {
		from = upgrade.Deployed{RocketChat: d.Env[render.EnvRocketChatVersion], MongoDB: d.Env[render.EnvMongoDBVersion]}
	}
	if from.RocketChat == "" {
		var s releaseStep
		if on, leftBy, ok := catalog.Stranding(to); ok {
			s.Warnings = append(s.Warnings, strandedNew(to, on, leftBy))
		}
		return s, nil
	}
	if from.MongoDB == "" {
		return releaseStep{}, fmt.Errorf("%s says Rocket.Chat %s and not which MongoDB runs its data (%s): put the line back (rcgen keeps copies of .env in %s/), then run this again",
			filepath.Join(d.Dir, render.EnvFile), from.RocketChat, render.EnvMongoDBVersion, filepath.Join(d.Dir, deploy.BackupDir))
	}
	r, err := upgrade.NextStep(from, to)
	if err != nil {
		return releaseStep{}, err
	}
	var s releaseStep
	if st := r.Step; st != nil && st.Kind == upgrade.RocketChat {
		// One step, which a re-run may make; rcgen upgrade makes the same
		// step with a backup first and a health check after.
		way := fmt.Sprintf("back up first (rcgen backup), or make this step with `rcgen upgrade --to %s`, which backs up first and waits until the stack is healthy", to)
		if a.Cluster() {
			way = "back up first (mongodump, as README.md says)"
		}
		s.Warnings = append(s.Warnings, fmt.Sprintf("Rocket.Chat moves from %s to %s, and migrates the database when it starts, with no way back: %s", from.RocketChat, to, way))
	}
	if len(r.Rest) > 0 {
		s.MongoDB = r.Step.MongoDB
		if _, ok := catalog.Series(s.MongoDB); !ok {
			return releaseStep{}, &upgrade.Error{Msg: fmt.Sprintf("this deployment runs MongoDB %s, and rcgen pins no %s image to keep it on while Rocket.Chat moves to %s first: upgrade MongoDB by hand (MongoDB's upgrade notes), then run rcgen again", from.MongoDB, s.MongoDB, to)}
		}
		next := "run rcgen again and apply it, once per step"
		if !a.Cluster() {
			next = fmt.Sprintf("`rcgen upgrade --to %s` takes it with a backup first; or %s", to, next)
		}
		s.Warnings = append(s.Warnings, fmt.Sprintf("MongoDB stays on %s for now, which Rocket.Chat %s runs on: one run makes one step. The way to %s goes on (%s): once %s runs and is healthy, %s",
			r.Step.MongoDB, to, to, titles(r.Rest), to, next))
	}
	if last := lastMongoDB(r); last != "" {
		if on, leftBy, ok := catalog.Stranding(to); ok && on.Series == last {
			s.Warnings = append(s.Warnings, strandedMove(to, on, leftBy, a.Swarm()))
		}
	}
	return s, nil
}

// lastMongoDB is the MongoDB series the way to the release ends on, when
// it moves MongoDB.
func lastMongoDB(r upgrade.Rerun) string {
	last := ""
	for _, s := range r.Plan.Changes() {
		if s.Kind == upgrade.MongoDB {
			last = s.MongoDB
		}
	}
	return last
}

func titles(steps []upgrade.Step) string {
	var t []string
	for _, s := range steps {
		t = append(t, s.Title())
	}
	return strings.Join(t, ", ")
}

// strandedNew warns about a new deployment on a MongoDB series the later
// releases leave (catalog.Stranding): Rocket.Chat 8.0 and 8.1 on MongoDB
// 8.2. It warns rather than refuses: such a deployment is what a backup
// taken on MongoDB 8.2 can be restored into (rcgen restore takes no backup
// into an older MongoDB), and the release rule (catalog.Deployable) stays
// one rule for generate, upgrade, versions and doctor.
func strandedNew(version string, on catalog.MongoDBSeries, leftBy catalog.Release) string {
	return fmt.Sprintf("%s; deploy Rocket.Chat %s or later instead (rcgen's default, %s, runs on MongoDB %s), unless this deployment is for restoring a backup taken on MongoDB %s",
		strandedWhy(version, on, leftBy), leftBy.Line, catalog.DefaultRocketChatVersion(), defaultMongoDB(), on.Series)
}

// strandedMove warns about a way that moves an existing deployment onto
// such a series.
func strandedMove(version string, on catalog.MongoDBSeries, leftBy catalog.Release, swarm bool) string {
	way := fmt.Sprintf("`rcgen upgrade --to %s`", catalog.DefaultRocketChatVersion())
	if swarm {
		way = "one step per run"
	}
	return fmt.Sprintf("%s; to stay on MongoDB %s, go to Rocket.Chat %s or later instead (%s)", strandedWhy(version, on, leftBy), defaultMongoDB(), leftBy.Line, way)
}

func strandedWhy(version string, on catalog.MongoDBSeries, leftBy catalog.Release) string {
	line, _ := catalog.Lookup(version)
	return fmt.Sprintf("Rocket.Chat %s runs on MongoDB %s (its release notes declare %s), whose end of life is %s, and from Rocket.Chat %s on the releases declare MongoDB %s: "+
		"a deployment on MongoDB %s stays on it after every upgrade (MongoDB cannot move its binaries back, and rcgen restore takes no backup into an older MongoDB)",
		line.Line, on.Series, strings.Join(line.MongoDB, ", "), on.EndOfLife, leftBy.Line, strings.Join(leftBy.MongoDB, ", "), on.Series)
}

func defaultMongoDB() string {
	s, _ := catalog.MongoDBFor(catalog.DefaultRocketChatVersion())
	return s.Series
}

// wordStep turns a refusal of stepOf into the error of the release answer,
// with the way: rcgen upgrade (on Swarm, on the backup node), or one run
// per step.
func wordStep(err error, a spec.Answers) error {
	var se *upgrade.StepError
	var ue *upgrade.Error
	switch {
	case errors.As(err, &se):
		why := ""
		if tv, fv := semver.MustParse(se.To), semver.MustParse(se.From.RocketChat); tv.Major() > fv.Major()+1 {
			// catalog.MajorStopSource: the server refuses a database the
			// previous major did not migrate.
			why = fmt.Sprintf(" (Rocket.Chat %d starts only on a database a %d.x release migrated)", tv.Major(), tv.Major()-1)
		}
		msg := fmt.Sprintf("%v%s. `rcgen upgrade --to %s` takes it there: it backs up first, then applies each step and checks the stack is healthy before the next (add --dry-run to see the plan)", se, why, se.To)
		if a.Cluster() {
			var runs []string
			for _, s := range se.Plan.Changes() {
				if s.Kind == upgrade.RocketChat {
					runs = append(runs, "{"+spec.KeyVersion+"} "+s.RocketChat)
				} else {
					runs = append(runs, "the same again (MongoDB "+s.MongoDB+")")
				}
			}
			how := "a Swarm stack without a backup service (backup: false) has none to run MongoDB's commands in, so rcgen upgrade refuses it"
			switch {
			case a.Kubernetes():
				how = fmt.Sprintf("`rcgen upgrade --to %s --dry-run` prints each step with its kubectl commands (rcgen never runs against a cluster)", se.To)
			case a.Backup:
				how = fmt.Sprintf("`rcgen upgrade --to %s`, run on the node labelled rcgen.backup (a manager), takes it there: it backs up first, then rolls each image with docker service update and waits for the tasks (README.md: Backups); or by hand", se.To)
			}
			if a.Kubernetes() {
				msg = fmt.Sprintf("%v%s. %s: run rcgen generate once per step, applying each (kubectl apply -k) and waiting until it is healthy: %s", se, why, how, strings.Join(runs, ", then "))
				return &spec.FieldError{Key: spec.KeyVersion, Msg: msg}
			}
			msg = fmt.Sprintf("%v%s. %s: run rcgen generate once per step, deploying each and waiting until it is healthy: %s", se, why, how, strings.Join(runs, ", then "))
		}
		return &spec.FieldError{Key: spec.KeyVersion, Msg: msg}
	case errors.As(err, &ue):
		return &spec.FieldError{Key: spec.KeyVersion, Msg: ue.Msg}
	}
	return err
}
