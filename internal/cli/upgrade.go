package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
	"github.com/rcgen/rcgen/internal/upgrade"
)

// UpgradeJSONVersion is the version of `rcgen upgrade --dry-run --json`.
const UpgradeJSONVersion = 1

type upgradeOptions struct {
	dayTwo
	To      string
	DryRun  bool
	Yes     bool
	NoInput bool
	JSON    bool
	Offline bool
	force   forceSet
}

func newUpgradeCmd(env Env) *cobra.Command {
	o := &upgradeOptions{dayTwo: dayTwo{Env: env, command: "upgrade"}}
	cmd := &cobra.Command{
		Use:   "upgrade --to VERSION",
		Short: "Upgrade a deployment to a newer Rocket.Chat release, MongoDB step by step",
		Long: `Plan and apply the way from what the deployment runs to a newer Rocket.Chat
release. rcgen reads the versions from .env and, with the stack running, the
mongod version and featureCompatibilityVersion (FCV) from MongoDB itself, then
plans every step: a backup first; each MongoDB feature version in between (MongoDB
moves one at a time), with its FCV set after it; the Rocket.Chat releases that
must be passed through (one that runs on both MongoDB versions of a step, and
the last release of each major before the next: Rocket.Chat migrates one
major at a time); and the breaking changes of the releases crossed.

--dry-run prints the plan. Otherwise the backup is taken through the backup
service and read back (its manifest, each file's size and checksum, and an
encrypted one's authentication code with .env's passphrase) before anything
changes: a backup that is missing or does not check out stops the upgrade
there, unless --force=no-backup says to go on without one. Then each step is
applied in turn: a re-run of rcgen generate at that step's versions and
docker compose up -d, or the FCV command; then rcgen waits until the stack is
healthy (--yes) or asks you to confirm it is, before the next step. Stopped at any point, running the same
command again goes on from what the deployment runs then.`,
		Example: `  rcgen upgrade --to 8.8.1 --dry-run
  rcgen upgrade --to 8.8.1                 # asks before each step on a terminal
  rcgen upgrade --to 8.8.1 --yes --wait 20m  # unattended: checks health between steps
  rcgen upgrade --to 8.5.3 --dry-run --json | jq '.plan.steps[].kind'`,
		Args: noArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			autoRefresh(cmd.Context(), o.Env, o.Offline, pinsCatalog(o.Dir))
			if strings.TrimSpace(o.To) == "" {
				return usage(errors.New("--to: give the Rocket.Chat release to upgrade to, e.g. --to " + catalog.DefaultRocketChatVersion() + " or --to " + catalog.WordLTS + " (rcgen versions lists them)"))
			}
			// A word (latest, lts) names an exact release from here on: the
			// plan, and the command that goes on after a stop, name that.
			if v, word, meaning := catalog.ResolveWord(o.To); word != "" {
				fmt.Fprintf(o.Env.IO.ErrOut, "Note: --to %s: Rocket.Chat %s, %s.\n", word, v, meaning)
				o.To = v
			}
			// The release rule generate applies, under the deployment's
			// catalog, before Docker is asked anything.
			if err := useDeploymentCatalog(o.Dir); err != nil {
				return usage(err)
			}
			if _, err := catalog.Deployable(o.To); err != nil {
				return usage(fmt.Errorf("--to %s: %w", o.To, err))
			}
			if o.JSON && !o.DryRun {
				return usage(errors.New("--json: only with --dry-run (the plan as JSON)"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer o.close()
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	o.bind(f)
	f.StringVar(&o.To, "to", "", "the Rocket.Chat release to upgrade to: exact (e.g. "+catalog.DefaultRocketChatVersion()+"), or "+catalog.WordLatest+" (the newest rcgen deploys) or "+catalog.WordLTS+" (the newest LTS)")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the plan and change nothing")
	f.BoolVarP(&o.Yes, "yes", "y", false, "apply every step without asking, checking the stack is healthy between steps")
	f.BoolVar(&o.NoInput, "no-input", false, "never ask (as RCGEN_NO_INPUT=1); without --yes nothing is applied")
	f.BoolVar(&o.JSON, "json", false, "with --dry-run: print the plan as JSON")
	f.BoolVar(&o.Offline, "offline", false, "never touch the network: no daily catalog refresh (as RCGEN_OFFLINE=1)")
	bindForceFlag(f, &o.force, "--force=no-backup: upgrade without a checked backup: a deployment without a backup service, or when the pre-upgrade backup fails or does not read back whole (back it up yourself first)", keyNoBackup)
	_ = cmd.RegisterFlagCompletionFunc("to", o.upgradeCompletion)
	return cmd
}

const keyNoBackup = "no-backup"

func (o *upgradeOptions) run(ctx context.Context) error {
	o.kubeOK = o.DryRun
	if err := o.open(); err != nil {
		return err
	}
	if a, ok := kubeAnswers(o.d); ok {
		// A cluster: the plan from what the deployment's files say runs,
		// and the kubectl commands of each step; nothing runs here.
		from := upgrade.Deployed{RocketChat: o.d.Env[render.EnvRocketChatVersion], MongoDB: o.d.Env[render.EnvMongoDBVersion]}
		plan, err := upgrade.Compute(from, o.To)
		if err != nil {
			return usage(fmt.Errorf("--to %s: %w", o.To, err))
		}
		printUpgrade(o.Env.IO.Out, plan, nil)
		if !plan.Current() {
			printKubeUpgrade(o.Env.IO.Out, plan, a, o.Dir)
		}
		fmt.Fprintln(o.Env.IO.ErrOut, "Dry run: nothing was changed (rcgen never runs against a cluster: apply each step with the commands above).")
		return nil
	}
	stderr := o.Env.IO.ErrOut
	from := upgrade.Deployed{RocketChat: o.d.Env[render.EnvRocketChatVersion], MongoDB: o.d.Env[render.EnvMongoDBVersion]}
	var version, fcv string
	var verr error
	switch {
	case o.swarm() && !o.has(sizing.Backup):
		// MongoDB's commands run in the backup service's container on
		// Swarm: a member's task may be on any node.
		verr = fmt.Errorf("on Docker Swarm rcgen reads MongoDB's versions and sets its featureCompatibilityVersion in the backup service's container, and this deployment has none (backup: false in %s): "+
			"re-run rcgen generate without --no-backup and deploy it (README.md: Deploy, step 4), then run this again on the node labelled rcgen.backup", spec.FileName)
	case o.swarm():
		if verr = o.locateBackups(ctx); verr == nil {
			version, fcv, verr = o.stack().Versions(ctx)
		}
	default:
		version, fcv, verr = o.stack().Versions(ctx)
	}
	if verr == nil {
		if catalog.FeatureOf(version) != catalog.FeatureOf(from.MongoDB) {
			fmt.Fprintf(stderr, "Note: the members run MongoDB %s, and .env says %s: planning from what runs (docker compose up -d applies .env).\n", version, from.MongoDB)
		}
		from.MongoDB, from.FCV = version, fcv
	}
	plan, err := upgrade.Compute(from, o.To)
	if err != nil {
		return usage(fmt.Errorf("--to %s: %w", o.To, err))
	}
	if o.JSON {
		enc := json.NewEncoder(o.Env.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Version int          `json:"version"`
			Plan    upgrade.Plan `json:"plan"`
		}{UpgradeJSONVersion, plan})
	}
	printUpgrade(o.Env.IO.Out, plan, verr)
	if plan.Current() {
		return nil
	}
	if o.DryRun {
		fmt.Fprintf(stderr, "Dry run: nothing was changed. Apply it with: rcgen upgrade --to %s --dir %s\n", o.To, shellArg(o.Dir))
		return nil
	}
	if verr != nil && o.swarm() {
		return fmt.Errorf("rcgen upgrade changes the running stack, and it could not read MongoDB's versions from it: %w", verr)
	}
	if verr != nil {
		return fmt.Errorf("rcgen upgrade changes the running stack, and it could not read MongoDB's versions from it (%v): start it (docker compose up -d) and wait until it is healthy, then run this again", verr)
	}
	if a, _, err := spec.Resolve(*o.d.Answers); err == nil {
		if err := o.sameTarget(a); err != nil {
			return usage(err)
		}
	}
	ask := canPrompt(o.Env, o.Yes, o.NoInput)
	if !ask && !o.Yes {
		return usage(errors.New("rcgen upgrade changes the running stack and asks before each step; with no terminal to ask on, give --yes (rcgen checks the stack is healthy between steps) or --dry-run"))
	}
	if plan.Steps[0].Kind == upgrade.Backup {
		if err := o.needBackupService(); err != nil && !o.force.Has(keyNoBackup) {
			return usage(fmt.Errorf("%w; or, with a backup of your own, give --force=%s", err, keyNoBackup))
		}
	}
	if ask {
		ok, err := o.Env.Prompter().Confirm(fmt.Sprintf("Apply these %d steps, one at a time?", len(plan.Steps)),
			"rcgen stops after each step until you confirm the stack is healthy.", true)
		if err != nil {
			return err
		}
		if !ok {
			return errCancelled
		}
	}
	for i, step := range plan.Steps {
		fmt.Fprintf(stderr, "\nStep %d of %d: %s\n", i+1, len(plan.Steps), step.Title())
		if step.Kind == upgrade.Backup {
			// Nothing is done before it: its error says so.
			if err := o.backUp(ctx); err != nil {
				return err
			}
			continue
		}
		if err := o.apply(ctx, step); err != nil {
			return fmt.Errorf("step %d (%s): %w; what is done stays done: fix it, then run rcgen upgrade --to %s again to go on", i+1, step.Title(), err, o.To)
		}
		if i == len(plan.Steps)-1 {
			continue
		}
		if o.Yes {
			if err := o.waitHealthy(ctx); err != nil {
				return fmt.Errorf("after step %d (%s): %w; nothing further was changed: once it is healthy, run rcgen upgrade --to %s again to go on", i+1, step.Title(), err, o.To)
			}
			continue
		}
		ps := "docker compose ps"
		if o.swarm() {
			ps = "docker service ls"
		}
		ok, err := o.Env.Prompter().Confirm(fmt.Sprintf("Step %d is applied. Is the stack healthy (%s)? Go on with step %d (%s)?", i+1, ps, i+2, plan.Steps[i+1].Title()),
			"Check "+ps+" and the app in a browser. No stops here; rcgen upgrade --to "+o.To+" goes on later.", true)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintf(o.Env.IO.Out, "Stopped after step %d. Run rcgen upgrade --to %s again to go on.\n", i+1, o.To)
			return nil
		}
	}
	if o.Yes {
		if err := o.waitHealthy(ctx); err != nil {
			return fmt.Errorf("the last step is applied, but %w", err)
		}
	}
	last := plan.Steps[len(plan.Steps)-1]
	fmt.Fprintf(o.Env.IO.Out, "Upgraded: Rocket.Chat %s on MongoDB %s.\n", o.To, last.MongoDB)
	if o.swarm() {
		fmt.Fprintf(stderr, "Note: the services run the new images; %s holds the rest of what changed with them (a health check, the backup's versions in its configs), which docker stack deploy applies: deploy it as README.md says (Deploy, step 4).\n", render.StackFile)
	}
	return nil
}

func (o *upgradeOptions) apply(ctx context.Context, step upgrade.Step) error {
	s := o.stack()
	switch step.Kind {
	case upgrade.Backup:
		return o.backUp(ctx)
	case upgrade.RocketChat, upgrade.MongoDB:
		if err := o.regenerate(ctx, step.RocketChat, step.MongoDB); err != nil {
			return err
		}
		if o.swarm() {
			return o.swarmStep(ctx, step)
		}
		_, err := s.Compose(ctx, "up", "-d", "--remove-orphans")
		return err
	case upgrade.FCV:
		return s.SetFCV(ctx, step.FCV)
	}
	return fmt.Errorf("unknown step %q", step.Kind)
}

// swarmStep rolls a Swarm stack onto a step's images, one service at a
// time (docker service update --image, which waits until the service
// converges: its update_config rolls the tasks and rolls back one that
// fails its health check): the app for a release; for MongoDB, each
// member from the last to mongodb-1, so the set keeps a majority. docker
// stack deploy would need the exporter's password in the deploying shell
// (README.md: Deploy, step 4), which rcgen does not hold there. The backup
// service records the versions in every backup's manifest: its
// environment follows.
func (o *upgradeOptions) swarmStep(ctx context.Context, step upgrade.Step) error {
	s := o.stack()
	switch step.Kind {
	case upgrade.RocketChat:
		if err := s.UpdateImage(ctx, "rocketchat", catalog.RocketChatImage+":"+step.RocketChat); err != nil {
			return err
		}
		if o.has(sizing.Backup) {
			return s.UpdateEnv(ctx, sizing.Backup, render.EnvRocketChatVersion+"="+step.RocketChat)
		}
	case upgrade.MongoDB:
		tag := o.d.Env[render.EnvMongoDBVersion]
		if tag == "" {
			return fmt.Errorf("%s names no %s after the re-run", render.EnvFile, render.EnvMongoDBVersion)
		}
		for i := max(1, o.d.Compose.Members()); i >= 1; i-- {
			if err := s.UpdateImage(ctx, sizing.MemberName(i), catalog.MongoDBImageRepo+":"+tag); err != nil {
				return err
			}
		}
		if o.has(sizing.Backup) {
			return s.UpdateEnv(ctx, sizing.Backup, render.EnvMongoDBVersion+"="+tag)
		}
	}
	return nil
}

// printUpgrade writes the plan for people.
func printUpgrade(w io.Writer, p upgrade.Plan, readErr error) {
	from := fmt.Sprintf("Rocket.Chat %s on MongoDB %s", p.From.RocketChat, p.From.MongoDB)
	if p.From.FCV != "" {
		from += fmt.Sprintf(" (featureCompatibilityVersion %s)", p.From.FCV)
	} else if readErr != nil {
		from += " (featureCompatibilityVersion not read: the stack did not answer)"
	}
	if p.Current() {
		fmt.Fprintf(w, "Nothing to do: this deployment runs %s.\n", from)
	} else {
		fmt.Fprintf(w, "Upgrade from %s to Rocket.Chat %s, in %d steps:\n", from, p.To, len(p.Steps))
		for i, s := range p.Steps {
			fmt.Fprintf(w, "%3d. %s: %s\n", i+1, s.Title(), s.Why)
			for _, b := range s.Breaking {
				fmt.Fprintf(w, "       breaking in %s\n", b)
			}
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "Note: %s.\n", n)
	}
}
