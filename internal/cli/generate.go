package cli

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/doctor"
	"github.com/rcgen/rcgen/internal/generate"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// GenerateOptions holds every flag of `rcgen generate` and its dependencies.
type GenerateOptions struct {
	Env   Env
	flags *answerFlags

	Out string
	// out is --out (or --dir), the flag Out is given by.
	out *dirFlag
	Yes bool
	// ExampleSecrets swaps the random secrets for public placeholders, so
	// the examples in rcgen's documentation are deterministic.
	ExampleSecrets bool
	// NewMongoDBSecrets allows new MongoDB secrets for a deployment that
	// lost its own (only right when its data is gone too).
	NewMongoDBSecrets bool
	NoInput           bool
	DryRun            bool
	// Offline: never touch the network (no catalog refresh).
	Offline bool

	// Secrets draws new secrets; tests make it deterministic.
	Secrets func() (render.Secrets, error)
	// Render renders and checks the deployment in memory (nil: render.Generate).
	Render func(context.Context, render.Input) (render.Files, error)

	// given are the layers of this run (--config, flags), checked before
	// any question; smtpPassword is the one given by file or environment.
	given        []spec.Layer
	smtpPassword string
	passphrase   string
	// offsite holds the offsite credentials read from their files, by key.
	offsite map[string]string
	// early holds what Check found when rcgen will not ask: reported with
	// the requirements between answers, all at once.
	early error
	// unlock releases the deployment's lock (set once it is taken).
	unlock func()
	// notes are the warnings about this run's release step (stepOf).
	notes []string
	// oldTarget is the target the deployment ran on before this run
	// moved it to another (--force=target); "" when it stays.
	oldTarget string
}

func newGenerateCmd(env Env) *cobra.Command {
	cmd, _ := newGenerateCommand(env)
	return cmd
}

// newGenerateCommand returns the command and its options (tests set hooks).
func newGenerateCommand(env Env) (*cobra.Command, *GenerateOptions) {
	o := &GenerateOptions{Env: env, Secrets: env.Secrets}
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write a Rocket.Chat deployment into a directory",
		Long: `Size a deployment for the host and write it into --out: compose.yaml, .env
with generated secrets, the proxy, MongoDB, Prometheus and Grafana files, and a
README for the operator. Everything is rendered and validated in memory first:
when anything is invalid, nothing is written.

Without a terminal, or with --yes, rcgen asks nothing: answers not given take
their defaults, and a required answer that is missing stops it with exit 2.`,
		Example: `  rcgen generate --yes
  rcgen generate --domain chat.example.com --email admin@example.com --out /srv/rocketchat
  rcgen generate --cpus 4 --memory 8GiB --dry-run`,
		Args: noArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			// Before anything reads the catalog (defaults, the words
			// latest and lts): once a day, online, a fresh catalog.
			autoRefresh(cmd.Context(), o.Env, o.Offline, cmd.Flags().Changed("catalog") || pinsCatalog(o.Out))
			return o.Check()
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	o.flags = newAnswerFlags(f)
	o.out = bindDir(f, &o.Out, "out", spec.DefaultOut, "directory to write the deployment into (an existing rcgen deployment is updated in place)")
	o.flags.flagOf["out"] = "out"
	o.flags.bindDeployment()
	o.flags.bindSizing()
	f.BoolVarP(&o.Yes, "yes", "y", false, "ask nothing; use defaults for answers not given and apply changes")
	f.BoolVar(&o.NoInput, "no-input", false, "never prompt, even on a terminal (also RCGEN_NO_INPUT=1): missing required answers are errors")
	f.BoolVar(&o.DryRun, "dry-run", false, "print what would be written, or the diff for an existing deployment (secrets masked), and write nothing")
	f.BoolVar(&o.Offline, "offline", false, "never touch the network: no daily catalog refresh (as RCGEN_OFFLINE=1)")
	generateForce := []string{forceDirectory, forceMemory, deploy.KeyOlderRcgen, deploy.KeyMemberNode, deploy.KeyTarget, deploy.KeyNamespace, deploy.KeyStorageClass, "cpu", "architecture"}
	o.flags.bindForce("write into a directory that holds files rcgen did not write, and accept a host below the minimum; --force=NAME[,NAME] accepts only what it names: "+strings.Join(generateForce, ", "), generateForce...)
	f.BoolVar(&o.NewMongoDBSecrets, "new-mongodb-secrets", false, "give an existing deployment that lost .env or its keyfile new MongoDB secrets; only when its MongoDB data is gone too (the data keeps the old passwords)")
	f.BoolVar(&o.ExampleSecrets, "example-secrets", false, "use fixed, public placeholder secrets (for rcgen's documentation examples only)")
	_ = f.MarkHidden("example-secrets")
	return cmd, o
}

// Check reads and checks everything this run was given (flags, --config and
// the files they name) before any question is asked, reporting every
// problem at once. Without a terminal nothing will be asked, so the
// problems wait for the requirements between answers and are reported
// with them (Run).
func (o *GenerateOptions) Check() error {
	if err := o.out.check(); err != nil {
		return err
	}
	if o.out.Changed() && strings.TrimSpace(o.Out) == "" {
		return usage(fmt.Errorf("%s: the directory name is empty: give the directory to write the deployment into", o.out.Name()))
	}
	given, ferr := o.flags.givenLayers(o.Env.IO.In)
	err := uniqueJoin(ferr, o.check(given))
	if canPrompt(o.Env, o.Yes, o.NoInput) {
		return err
	}
	o.early = err
	return nil
}

func (o *GenerateOptions) check(given []spec.Layer) error {
	o.given = given
	errs := []error{o.flags.checkGiven(given)}
	var err error
	o.smtpPassword, err = o.secret(o.flags.smtpPasswordFile, "smtp-password-file", "RCGEN_SMTP_PASSWORD")
	errs = append(errs, err)
	o.passphrase, err = o.secret(o.flags.passphraseFile, "backup-passphrase-file", "RCGEN_BACKUP_PASSPHRASE")
	errs = append(errs, err)
	o.offsite, err = o.flags.offsiteSecrets()
	errs = append(errs, err)
	if err == nil && o.flags.passphraseFile != "" && o.passphrase == "" {
		// An empty file is a mistake (a passphrase not written yet, a
		// redirect that failed), never a wish for unencrypted backups.
		errs = append(errs, usage(fmt.Errorf("--backup-passphrase-file: %s is empty: write the passphrase in it (%d characters or more), or leave --backup-passphrase-file out for unencrypted backups", o.flags.passphraseFile, spec.MinPassphrase)))
	}
	if o.passphrase != "" {
		if err := (spec.Answers{BackupPassphrase: o.passphrase}).CheckKey(spec.KeyPassphrase); err != nil {
			o.passphrase = "" // reported here, once
			var fe *spec.FieldError
			if o.flags.passphraseFile == "" && errors.As(err, &fe) {
				errs = append(errs, usage(fmt.Errorf("RCGEN_BACKUP_PASSPHRASE: %s", fe.Msg)))
			} else {
				errs = append(errs, presenter{flags: o.flags, origins: spec.Origins{spec.KeyPassphrase: {Kind: spec.FromFlag}}}.explain(err))
			}
		}
	}
	return errors.Join(errs...)
}

// secret reads a secret answer from the file its flag names, else from
// its environment variable (never from a flag's value: a command line is
// visible to every user of the machine).
func (o *GenerateOptions) secret(file, flag, envVar string) (string, error) {
	switch {
	case file != "":
		b, err := spec.ReadUserFile(file)
		if err != nil {
			return "", usage(fmt.Errorf("--%s: %w", flag, err))
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case o.Env.Getenv != nil:
		return o.Env.Getenv(envVar), nil
	}
	return "", nil
}

// Run generates the deployment: settle the answers (asking on a terminal),
// plan, render and check in memory, then show and apply the changes.
func (o *GenerateOptions) Run(ctx context.Context) error {
	defer func() {
		if o.unlock != nil {
			o.unlock()
		}
	}()
	req, plan, w, err := o.settle()
	if err != nil {
		return uniqueJoin(o.early, err)
	}
	if o.ExampleSecrets {
		fmt.Fprintln(o.Env.IO.ErrOut, "Warning: --example-secrets: the secrets are public placeholders; never start this deployment.")
	}
	if err := o.checkHost(req.Host); err != nil {
		return err
	}
	res, err := generate.Run(ctx, req, plan)
	var lost *generate.LostSecretsError
	if errors.As(err, &lost) {
		return usage(fmt.Errorf("%w: --new-mongodb-secrets", err))
	}
	if errors.Is(err, generate.ErrExampleDeployment) {
		return usage(fmt.Errorf("%s: %s: %w", o.out.Name(), o.Out, err))
	}
	if err != nil {
		return err
	}
	// The wizard showed the warnings under the plan it asked about; said
	// once is enough.
	if w == nil || !w.planShown {
		for _, msg := range append(slices.Clone(plan.Warnings), o.notes...) {
			fmt.Fprintln(o.Env.IO.ErrOut, "Warning:", msg)
		}
	}
	supportNote(o.Env, req.Deployment, req.Answers)
	written, err := o.write(w, req.Deployment, res)
	if err != nil || !written {
		return err
	}
	o.summarize(req.Answers, plan)
	return o.startNow(ctx, w, req.Answers)
}

// startNow is the wizard's last question: start the deployment just
// written with rcgen up. Asked only in the wizard (a terminal), for the
// compose target, when docker is on the PATH; the default is no.
func (o *GenerateOptions) startNow(ctx context.Context, w *wizard, a spec.Answers) error {
	if w == nil || a.Cluster() || o.DryRun || o.Env.LookPath == nil {
		return nil
	}
	if _, err := o.Env.LookPath("docker"); err != nil {
		return nil
	}
	yes, err := w.p.Confirm("Start it now?", "Runs rcgen up: starts the stack in stages, checks it through the front door, and says what broke if something does. Later: rcgen up --dir "+shellArg(o.Out)+".", false)
	if err != nil || !yes {
		return err
	}
	// rcgen up takes the deployment's lock itself.
	if o.unlock != nil {
		o.unlock()
		o.unlock = nil
	}
	u := &upOptions{dayTwo: dayTwo{Env: o.Env, Wait: 15 * time.Minute}}
	f := pflag.NewFlagSet("up", pflag.ContinueOnError)
	u.bindDir(f)
	u.Dir = o.Out
	defer u.close()
	return u.run(ctx)
}

// settle opens the deployment, layers the answers, asks what is missing on
// a terminal, validates them, and returns the request and the plan the
// person confirmed.
func (o *GenerateOptions) settle() (generate.Request, sizing.Plan, *wizard, error) {
	var req generate.Request
	fail := func(err error) (generate.Request, sizing.Plan, *wizard, error) { return req, sizing.Plan{}, nil, err }
	var w *wizard
	if why := whyNoQuestions(o.Env, o.Yes, o.NoInput); why != "" {
		fmt.Fprintln(o.Env.IO.ErrOut, "Note:", why)
	}
	if canPrompt(o.Env, o.Yes, o.NoInput) {
		w = &wizard{p: o.Env.Prompter(), stderr: o.Env.IO.ErrOut, force: o.flags.force.Has(forceDirectory), detectProxy: o.Env.DetectProxy}
		// Show the host first: what rcgen sizes for, and where each figure
		// came from.
		if a, _, err := spec.Resolve(o.given...); err == nil {
			if h, err := host(o.Env, a); err == nil {
				fmt.Fprintf(o.Env.IO.ErrOut, "This host: %s.\n", h)
			}
		}
		if !o.out.Changed() {
			out, err := w.askOut(o.Out)
			if err != nil {
				return fail(err)
			}
			o.Out = out
		}
	}
	if o.Out == "-" {
		return fail(usage(fmt.Errorf("%s: - is not a directory: give the directory to write the deployment into", o.out.Name())))
	}
	// One run at a time on a deployment, from the first read to the last
	// write; an apply a killed run left is finished first.
	unlock, err := lockDeployment(o.Env, o.Out)
	if err != nil {
		return fail(err)
	}
	o.unlock = unlock
	d, err := deploy.Open(o.Out)
	var ae *deploy.AnswersError
	if errors.As(err, &ae) {
		return fail(o.answersFileProblems(ae))
	}
	if err != nil {
		return fail(usage(fmt.Errorf("%s: %w", o.out.Name(), err)))
	}
	if err := d.CheckWriter(fullVersion()); err != nil && !o.flags.force.Has(deploy.KeyOlderRcgen) {
		return fail(usage(fmt.Errorf("%w (or give --force=%s)", err, deploy.KeyOlderRcgen)))
	}
	if d.Recovered {
		fmt.Fprintf(o.Env.IO.ErrOut, "Warning: %s is missing: its answers were recovered from .env and compose.yaml (domain, email, release, project, members, proxy, monitoring); check them in the diff.\n", filepath.Join(o.Out, spec.FileName))
	}
	if d.State == deploy.NotEmpty && !d.Recovered && !o.flags.force.Has(forceDirectory) {
		return fail(usage(fmt.Errorf("%s: %s holds files and no %s, so rcgen did not write it: give an empty or new directory, or --force to write into it anyway (files rcgen does not generate are left alone)", o.out.Name(), o.Out, spec.FileName)))
	}
	var layers []spec.Layer
	if d.Answers != nil {
		layers = append(layers, *d.Answers)
	}
	a, origins, err := spec.Resolve(append(layers, o.given...)...)
	if err != nil {
		return fail(usage(err))
	}
	if o.smtpPassword != "" {
		a.SMTPPassword = o.smtpPassword
		origins[spec.KeySMTPPassword] = spec.Origin{Kind: spec.FromFlag}
	}
	if o.passphrase != "" {
		a.BackupPassphrase = o.passphrase
		origins[spec.KeyPassphrase] = spec.Origin{Kind: spec.FromFlag}
	}
	for key, v := range o.offsite {
		switch key {
		case spec.KeyS3AccessKey:
			a.BackupS3AccessKey = v
		case spec.KeyS3SecretKey:
			a.BackupS3SecretKey = v
		case spec.KeySFTPKey:
			a.BackupSFTPKey = v
		case spec.KeySFTPKnownHosts:
			a.BackupSFTPKnownHosts = v
		}
		origins[key] = spec.Origin{Kind: spec.FromFlag}
	}
	if w != nil {
		w.a, w.origins, w.smtpKept = &a, origins, d.SMTPPassword()
		w.now = time.Now()
		if o.Env.Now != nil {
			w.now = o.Env.Now()
		}
		w.checkVersion = func(v string) error {
			c := a
			c.RocketChatVersion = v
			_, err := stepOf(d, c)
			return err
		}
		if d.Exists() || d.Recovered {
			fmt.Fprintf(o.Env.IO.ErrOut, "Existing deployment found in %s: its answers are the defaults; Enter keeps each one.\n", o.Out)
		}
		if err := w.askMissing(); err != nil {
			return fail(err)
		}
	}
	for {
		req, plan, err := o.plan(a, origins, d, w)
		if err != nil {
			return fail(err)
		}
		if w == nil || len(w.asked) == 0 {
			return req, plan, w, nil
		}
		rel := presenter{flags: o.flags, origins: origins}.releases(req.Answers, d, req.MongoDB)
		shown := plan
		shown.Warnings = append(slices.Clone(plan.Warnings), o.notes...)
		ok, err := w.confirm(shown, rel, o.Out)
		if err != nil {
			return fail(err)
		}
		if ok {
			return req, plan, w, nil
		}
	}
}

// answersFileProblems reports the problems of the deployment's rcgen.yaml
// (an unknown key, a wrong type) with those of the values it does give,
// checked with this run's answers, all at once.
func (o *GenerateOptions) answersFileProblems(ae *deploy.AnswersError) error {
	errs := []error{o.early}
	for _, e := range unjoin(ae.Err) {
		if lineOf(e) == nil {
			e = fmt.Errorf("--out: the deployment's answers file: %w", e)
		}
		errs = append(errs, usage(e))
	}
	layers := append([]spec.Layer{ae.Answers}, o.given...)
	if a, origins, err := spec.Resolve(layers...); err == nil {
		var bad []error
		for _, key := range ae.Answers.Keys() {
			if origins[key].Kind == spec.FromDeployment {
				bad = append(bad, a.CheckKey(key))
			}
		}
		errs = append(errs, presenter{flags: o.flags, origins: origins}.explain(errors.Join(bad...)))
	}
	return uniqueJoin(errs...)
}

// plan validates the answers and computes the plan; every problem is
// worded the way its answer was given.
func (o *GenerateOptions) plan(a spec.Answers, origins spec.Origins, d *deploy.Deployment, w *wizard) (generate.Request, sizing.Plan, error) {
	p := presenter{flags: o.flags, origins: origins}
	if w != nil {
		p.questions = w.labels()
	}
	// The target: another one is a migration, named by --force=target.
	// Said first: the other answers may not fit the new target yet.
	o.oldTarget = ""
	if err := d.CheckTarget(a.Target); err != nil {
		if !o.flags.force.Has(deploy.KeyTarget) {
			return generate.Request{}, sizing.Plan{}, uniqueJoin(o.early, p.explain(err))
		}
		o.oldTarget, _ = d.Target()
	}
	if err := uniqueJoin(o.early, p.explain(generate.Prepare(&a, d))); err != nil {
		return generate.Request{}, sizing.Plan{}, err
	}
	// The release: a re-run makes one step of rcgen upgrade's way, no more.
	step, err := stepOf(d, a)
	if err != nil {
		return generate.Request{}, sizing.Plan{}, p.explain(wordStep(err, a))
	}
	h, err := host(o.Env, a)
	if err != nil {
		return generate.Request{}, sizing.Plan{}, err
	}
	req := generate.Request{
		Answers: a, Host: h, Deployment: d, Force: o.flags.force.Has(forceMemory), MoveMember: o.flags.force.Has(deploy.KeyMemberNode),
		Forced:            o.flags.force.Has,
		MongoDB:           step.MongoDB,
		NewMongoDBSecrets: o.NewMongoDBSecrets,
		NewSecrets:        o.Secrets, ExampleSecrets: o.ExampleSecrets,
		RcgenVersion: fullVersion(), Rerun: o.flags.rerunCommand, Render: o.Render,
	}
	plan, err := generate.Plan(req)
	if err != nil {
		return req, plan, p.explain(err)
	}
	// Said on this run (and in the wizard's plan), not written into the
	// README: they are about this change, and the next run has none.
	o.notes = step.Warnings
	return req, plan, nil
}

// write shows what changes (the whole tree on a new dry run, a diff on an
// existing deployment), asks on a terminal, and applies it. It reports
// whether anything was written. What changed is a result (standard
// output); a diff shown to ask about it goes with the question (standard
// error).
func (o *GenerateOptions) write(w *wizard, d *deploy.Deployment, res *generate.Result) (bool, error) {
	stdout := o.Env.IO.Out
	existing := d.State == deploy.Rcgen || d.State == deploy.NotEmpty
	pending := res.Pending()
	if existing && len(pending) == 0 {
		if !o.DryRun {
			// Nothing to write, but a secret made readable by others is
			// put back to 0600 on every run.
			applied, err := d.Apply(res.Changes, time.Time{})
			if err != nil {
				return false, err
			}
			o.reportModes(applied)
		}
		fmt.Fprintf(stdout, "Nothing to change in %s: it already matches these answers.\n", o.Out)
		return false, nil
	}
	if o.DryRun {
		if !existing {
			return false, printFiles(stdout, res.Files)
		}
		_, err := io.WriteString(stdout, deploy.UnifiedDiff(pending))
		return false, err
	}
	if existing {
		if w != nil {
			fmt.Fprintf(o.Env.IO.ErrOut, "Changes to %s (secrets masked):\n%s", o.Out, deploy.UnifiedDiff(pending))
			ok, err := w.p.Confirm("Apply these changes?", "Replaced files are kept in "+deploy.BackupDir+"/; secrets never change.", true)
			if err != nil {
				return false, err
			}
			if !ok {
				return false, errCancelled
			}
		} else {
			fmt.Fprintf(stdout, "Changes to %s (secrets masked):\n%s", o.Out, deploy.UnifiedDiff(pending))
		}
	}
	now := time.Now
	if o.Env.Now != nil {
		now = o.Env.Now
	}
	applied, err := d.Apply(res.Changes, now())
	var link *deploy.LinkError
	if errors.As(err, &link) {
		return false, usage(fmt.Errorf("%s: %w", o.out.Name(), err))
	}
	if err != nil {
		return false, err
	}
	if applied.Backup != "" {
		fmt.Fprintf(stdout, "Replaced files are kept in %s.\n", applied.Backup)
	}
	o.reportModes(applied)
	o.reportTargetChange(d, pending, applied)
	fmt.Fprintf(stdout, "Wrote %s to %s.\n", spec.Plural(len(pending), "file", "files"), o.Out)
	return true, nil
}

func (o *GenerateOptions) reportModes(a deploy.Applied) {
	if len(a.Modes) > 0 {
		fmt.Fprintf(o.Env.IO.ErrOut, "Restored the mode of %s: secrets are readable by their owner only.\n", strings.Join(a.Modes, ", "))
	}
}

// summarize tells what was planned and what to do next: the run's result,
// on standard output.
func (o *GenerateOptions) summarize(a spec.Answers, plan sizing.Plan) {
	stdout := o.Env.IO.Out
	if k := plan.Kube; k != nil {
		fmt.Fprintf(stdout, "Plan for %s on %d nodes: it serves about %d concurrent users: %s of %s, MongoDB %s of %s on %s (details in %s).\n",
			plan.Host, len(k.Nodes), plan.UsersCapacity, spec.Plural(plan.Processes, "app pod", "app pods"), spec.FormatBytes(plan.AppMemory),
			spec.Plural(plan.MongoDBMembers, "member", "members"), spec.FormatBytes(plan.MongoDBMemory), strings.Join(k.MemberNodes, ", "), filepath.Join(o.Out, render.ReadmeFile))
		platform := " (on OpenShift, generate with --openshift)"
		if a.OpenShift {
			platform = " (written for OpenShift's restricted-v2)"
		}
		fmt.Fprintf(stdout, "Next: review the manifests, then deploy with kubectl apply -k %s%s, and point %s at your ingress, as %s says (Deploy).\n",
			shellArg(o.Out), platform, a.Domain, filepath.Join(o.Out, render.ReadmeFile))
		fmt.Fprintf(stdout, "Secrets: in %s (mode 0600; kustomize makes the Secrets from them): keep them with the deployment, never in a repository.\n", filepath.Join(o.Out, "secrets"))
		return
	}
	if sw := plan.Swarm; sw != nil {
		fmt.Fprintf(stdout, "Plan for %s on %d nodes: it serves about %d concurrent users: %s of %s, MongoDB %s of %s on %s (details in %s).\n",
			plan.Host, len(sw.Nodes), plan.UsersCapacity, spec.Plural(plan.Processes, "app task", "app tasks"), spec.FormatBytes(plan.AppMemory),
			spec.Plural(plan.MongoDBMembers, "member", "members"), spec.FormatBytes(plan.MongoDBMemory), strings.Join(sw.MemberNodes, ", "), filepath.Join(o.Out, render.ReadmeFile))
		at := sw.ProxyNode
		if a.Proxy == spec.ProxyTraefikLabels {
			at = "your Traefik"
		}
		fmt.Fprintf(stdout, "Next: label the nodes, point %s at %s and deploy with docker stack deploy, as %s says (Deploy).\n", a.Domain, at, filepath.Join(o.Out, render.ReadmeFile))
		if plan.Has(sizing.Grafana) {
			fmt.Fprintf(stdout, "Grafana: %s/grafana/, user admin, password in %s.\n", a.PublicURL(), filepath.Join(o.Out, "secrets", "grafana-admin-password"))
		}
		if plan.Has(sizing.Backup) {
			if sch, err := spec.ParseSchedule(a.BackupSchedule); err == nil {
				enc := ""
				if a.BackupPassphrase != "" {
					enc = ", encrypted"
				}
				off := "copy them off it"
				if plan.Has(sizing.BackupOffsite) {
					off = "backup-offsite copies each to " + a.BackupTarget + " and checks it there"
				}
				fmt.Fprintf(stdout, "Backups: %s on %s, in its volume %s_backups%s, the newest %d kept; rcgen's backup, restore and upgrade commands run on that node (%s: Backups); %s.\n",
					sch, sw.BackupNode, a.Project, enc, a.BackupKeep, filepath.Join(o.Out, render.ReadmeFile), off)
			}
		} else {
			fmt.Fprintln(stdout, "No backup service (backup: false): back up by hand, as README.md says.")
		}
		return
	}
	fmt.Fprintf(stdout, "Plan for %s: it serves about %d concurrent users: %s of %s, MongoDB %s of %s with a %.2fGB cache (details in %s).\n", plan.Host,
		plan.UsersCapacity, spec.Plural(plan.Processes, "app process", "app processes"), spec.FormatBytes(plan.AppMemory),
		spec.Plural(plan.MongoDBMembers, "member", "members"), spec.FormatBytes(plan.MongoDBMemory), plan.MongoDBCacheGB, filepath.Join(o.Out, render.ReadmeFile))
	if !a.Licensed() && plan.Processes == 1 && plan.LicensedProcesses > 1 {
		fmt.Fprintf(stdout, "One app process: more need an Enterprise licence; with one this host could run %d.\n", plan.LicensedProcesses)
	}
	switch {
	case a.Proxy == spec.ProxyTraefikLabels:
		joins := "the app processes join"
		if plan.Has(sizing.Grafana) {
			joins = "the app processes and Grafana join"
		}
		fmt.Fprintf(stdout, "Your Traefik routes to it: %s its Docker network %s, with Traefik labels (see README.md).\n", joins, a.Network())
	case a.Proxy == spec.ProxyHost:
		fmt.Fprintf(stdout, "Your proxy on this host: the app listens on 127.0.0.1 only; copy %s (or import %s) into it, as README.md says.\n",
			filepath.Join(o.Out, render.HostNginxFile), filepath.Join(o.Out, render.HostCaddyFile))
	case a.ProxyJoinsNetwork():
		fmt.Fprintf(stdout, "Your %s: the app processes join the Docker network %s (docker network create %s, once) and publish nothing.\n",
			a.Proxy, a.ProxyNetworkName(), a.ProxyNetworkName())
		if a.Proxy == spec.ProxyNginxProxy && plan.Processes > 1 {
			// nginx-proxy has no cookie affinity (render.ownProxy).
			fmt.Fprintf(stdout, "Note: nginx-proxy has no cookie affinity: the %d processes stick by client address (its loadbalance label), so everyone behind one address shares a process; --processes 1, --proxy host or caddy-docker-proxy stick by cookie.\n", plan.Processes)
		}
	case !a.OwnProxy():
		fmt.Fprintln(stdout, "No proxy: the app listens on 127.0.0.1 only; point your own proxy at it (see README.md).")
	case a.LoopbackOnly():
		fmt.Fprintln(stdout, "It listens on 127.0.0.1 only, for this machine: to open it to the network, re-run with --domain NAME (HTTPS) or --domain ADDRESS --allow-ip (plain http).")
	}
	if plan.Has(sizing.Backup) {
		if sch, err := spec.ParseSchedule(a.BackupSchedule); err == nil {
			enc := ""
			if a.BackupPassphrase != "" {
				enc = ", encrypted"
			}
			fmt.Fprintf(stdout, "Backups: %s into %s%s, the newest %d kept; copy them off this server (rcgen backup list).\n",
				sch, filepath.Join(o.Out, render.BackupsDir), enc, a.BackupKeep)
		}
	}
	if note := passphraseNote(o.Out, a); note != "" {
		fmt.Fprintln(stdout, note)
	}
	fmt.Fprintf(stdout, "Next: cd %s && docker compose up -d, then open %s\n", o.Out, a.PublicURL())
	fmt.Fprintln(stdout, "The first account you register there becomes the workspace administrator.")
	fmt.Fprintf(stdout, "Or start it in stages, checked through the front door: rcgen up --dir %s\n", shellArg(o.Out))
	if plan.Has(sizing.Grafana) {
		grafana := a.PublicURL() + "/grafana/"
		if !a.OwnProxy() && a.Proxy != spec.ProxyTraefikLabels {
			grafana = fmt.Sprintf("http://127.0.0.1:%d/", render.GrafanaLocal)
		}
		fmt.Fprintf(stdout, "Grafana: %s, user admin, password %s in %s.\n", grafana, render.EnvGrafanaAdminPassword, filepath.Join(o.Out, render.EnvFile))
	}
}

// supportNote warns when the release is within 30 days of its end of
// support, or past it, with the date and the way on (doctor's release
// check says the same): on a re-run, the next release one step away
// (rcgen upgrade --to). It goes to stderr, not into the plan: the files
// must not depend on the day they are written. d is the deployment (nil
// for a plan alone).
func supportNote(env Env, d *deploy.Deployment, a spec.Answers) {
	now := time.Now()
	if env.Now != nil {
		now = env.Now()
	}
	mongo := ""
	if d != nil && d.Env[render.EnvRocketChatVersion] != "" {
		// What runs: the way on starts there, or, when this run changes
		// the release, from the release it deploys on the same MongoDB.
		mongo = d.Env[render.EnvMongoDBVersion]
	}
	if note := doctor.SupportWarning(a.RocketChatVersion, mongo, a.Swarm(), now); note != "" {
		fmt.Fprintln(env.IO.ErrOut, "Warning:", note)
	}
}

// checkHost runs doctor's checks of the machine itself (CPU features,
// architecture, kernel) when rcgen sizes the machine it runs on, not when
// --cpus and --memory describe another. A failure stops the run, unless
// --force names it; warnings are shown.
func (o *GenerateOptions) checkHost(h sizing.Host) error {
	if o.Env.System == nil || h.CPUSource == sizing.Given && h.MemorySource == sizing.Given {
		return nil
	}
	var errs []error
	for _, r := range doctor.Host(o.Env.System()) {
		switch {
		case r.Status == doctor.Fail && !o.flags.force.Has(r.Name):
			errs = append(errs, usage(fmt.Errorf("this host: %s: %s; %s (give --force=%s to generate anyway, e.g. for another host)", r.Name, r.Found, r.Do, r.Name)))
		case r.Status != doctor.OK:
			fmt.Fprintf(o.Env.IO.ErrOut, "Warning: this host: %s: %s; %s\n", r.Name, r.Found, r.Do)
		}
	}
	return errors.Join(errs...)
}

// printFiles shows a dry run of a new deployment: every file, secrets masked.
func printFiles(w io.Writer, files render.Files) error {
	var b bytes.Buffer
	for _, f := range files {
		fmt.Fprintf(&b, "==> %s (mode %04o) <==\n", f.Path, f.Mode)
		b.Write(deploy.Mask(f.Path, f.Content))
		b.WriteString("\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// uniqueJoin joins errors, flattening joined ones and dropping repeats
// (an answer checked before the questions and again with the others).
// The problems of an answers file are put in the order of their lines,
// in the places they hold among the others.
func uniqueJoin(errs ...error) error {
	var out []error
	seen := map[string]bool{}
	var add func(error)
	add = func(err error) {
		if err == nil {
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				add(e)
			}
			return
		}
		if !seen[err.Error()] {
			seen[err.Error()] = true
			out = append(out, err)
		}
	}
	for _, e := range errs {
		add(e)
	}
	var at []int
	for i, e := range out {
		if lineOf(e) != nil {
			at = append(at, i)
		}
	}
	lined := make([]error, len(at))
	for i, j := range at {
		lined[i] = out[j]
	}
	slices.SortStableFunc(lined, func(a, b error) int {
		la, lb := lineOf(a), lineOf(b)
		return cmp.Or(strings.Compare(la.File, lb.File), cmp.Compare(la.Line, lb.Line))
	})
	for i, j := range at {
		out[j] = lined[i]
	}
	return errors.Join(out...)
}

// lineOf is the answers-file line err is about, or nil.
func lineOf(err error) *spec.LineError {
	var le *spec.LineError
	if errors.As(err, &le) {
		return le
	}
	return nil
}

// reportTargetChange tells, after a run that moved the deployment to
// another target (--force=target), where the old target's files are and
// how to stop its stack without them: both commands find the stack by its
// name, not by a file (docker compose -p NAME down rebuilds the project
// from its containers' labels without a compose file, docker/compose#8635,
// merged 2021, long before the Compose 2.20 rcgen needs; docker stack rm
// takes the stack's name). Neither removes volumes.
func (o *GenerateOptions) reportTargetChange(d *deploy.Deployment, pending []deploy.Change, applied deploy.Applied) {
	if o.oldTarget == "" {
		return
	}
	var gone []string
	for _, c := range pending {
		if c.Kind == deploy.Removed {
			gone = append(gone, c.Path)
		}
	}
	project := d.Compose.Name
	if project == "" {
		project = "rocketchat"
	}
	kept := "nothing was removed"
	if len(gone) > 0 {
		kept = fmt.Sprintf("its files this run removed (%s) are kept in %s", strings.Join(gone, ", "), applied.Backup)
	}
	stderr := o.Env.IO.ErrOut
	switch o.oldTarget {
	case spec.TargetCompose:
		fmt.Fprintf(stderr, "Warning: --force=target: this deployment moved from the compose target to Swarm; %s. If its compose stack still runs, stop it now: docker compose -p %s down (its volumes stay; never -v). "+
			"Then deploy as %s says, and restore your backup into the new replica set by hand (rcgen restore on Swarm would stop at the one-host backup's uploads: a Swarm stack has no uploads volume).\n",
			kept, project, filepath.Join(o.Out, render.ReadmeFile))
	case spec.TargetSwarm:
		fmt.Fprintf(stderr, "Warning: --force=target: this deployment moved from Swarm to the compose target; %s. If the Swarm stack still runs, stop it on a manager: docker stack rm %s (its volumes stay on their nodes). "+
			"Then docker compose up -d here, and restore your mongodump into it by hand.\n", kept, project)
	}
}
