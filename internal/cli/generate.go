package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// GenerateOptions holds every flag of `rcgen generate` and its dependencies.
type GenerateOptions struct {
	answerOptions
	Env Env

	Out string
	Yes bool
	// ExampleSecrets swaps the random secrets for public placeholders, so
	// the examples in rcgen's documentation are deterministic.
	ExampleSecrets bool
	NoInput        bool
	DryRun         bool

	// Secrets draws new secrets; tests make it deterministic.
	Secrets func() (render.Secrets, error)
	// Generate renders and checks the deployment in memory.
	Generate func(context.Context, spec.Answers, sizing.Plan, render.Secrets, string) (render.Files, error)
}

func newGenerateCmd(env Env) *cobra.Command {
	o := &GenerateOptions{answerOptions: newAnswerOptions(), Env: env, Secrets: render.DefaultSecrets, Generate: render.Generate}
	if env.Secrets != nil {
		o.Secrets = env.Secrets
	}
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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Out, "out", "o", spec.DefaultOut, "directory to write the deployment into (an existing rcgen deployment is updated in place)")
	o.bindDeployment(f)
	o.bindSizing(f)
	f.BoolVarP(&o.Yes, "yes", "y", false, "ask nothing; use defaults for answers not given and apply changes")
	f.BoolVar(&o.NoInput, "no-input", false, "never prompt, even on a terminal (also RCGEN_NO_INPUT=1): missing required answers are errors")
	f.BoolVar(&o.DryRun, "dry-run", false, "print what would be written, or the diff for an existing deployment (secrets masked), and write nothing")
	f.BoolVar(&o.Force, "force", false, "write into a directory that holds files rcgen did not write, and accept a host below the minimum")
	f.BoolVar(&o.ExampleSecrets, "example-secrets", false, "use fixed, public placeholder secrets (for rcgen's documentation examples only)")
	_ = f.MarkHidden("example-secrets")
	registerCompletions(cmd)
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

// Run generates the deployment: settle the answers (asking on a terminal),
// plan, render and check in memory, then show and apply the changes.
func (o *GenerateOptions) Run(ctx context.Context) error {
	o.stdin, o.getenv = o.Env.IO.In, o.Env.Getenv
	w, state, plan, err := o.settle()
	if err != nil {
		return err
	}
	secrets, err := o.secrets()
	if err != nil {
		return err
	}
	files, err := o.Generate(ctx, o.Answers, plan, secrets, version())
	if err != nil {
		return fmt.Errorf("the generated deployment did not validate, so nothing was written: %w", err)
	}
	for _, msg := range plan.Warnings {
		fmt.Fprintln(o.Env.IO.ErrOut, "Warning:", msg)
	}
	written, err := o.write(w, state == render.DirRcgen || state == render.DirNotEmpty, files)
	if err != nil || !written {
		return err
	}
	o.summarize(plan)
	return nil
}

// settle layers the answers, asks what is missing on a terminal, validates
// them, and returns the plan the person confirmed.
func (o *GenerateOptions) settle() (*wizard, render.DirState, sizing.Plan, error) {
	var w *wizard
	if o.interactive() {
		w = &wizard{o: o, p: o.Env.Prompter()}
		// Show the host first: what rcgen sizes for, and where each figure
		// came from.
		if err := o.layer(""); err != nil {
			return nil, 0, sizing.Plan{}, err
		}
		if h, err := o.host(o.Env); err == nil {
			fmt.Fprintf(o.Env.IO.ErrOut, "This host: %s.\n", h)
		}
		if o.flags == nil || !o.flags.Changed("out") {
			if err := w.askOut(); err != nil {
				return nil, 0, sizing.Plan{}, err
			}
		}
	}
	fail := func(err error) (*wizard, render.DirState, sizing.Plan, error) { return nil, 0, sizing.Plan{}, err }
	if strings.TrimSpace(o.Out) == "" {
		return fail(usage(&spec.FieldError{Field: "out", Msg: "is empty: give the directory to write the deployment into"}))
	}
	state, err := render.Inspect(o.Out)
	if err != nil {
		return fail(usage(&spec.FieldError{Field: "out", Msg: err.Error()}))
	}
	if state == render.DirNotEmpty && !o.Force {
		return fail(usage(fmt.Errorf("--out: %s holds files and no %s, so rcgen did not write it: give an empty or new directory, or --force to write into it anyway (files rcgen does not generate are left alone)", o.Out, spec.FileName)))
	}
	if err := o.layer(o.Out); err != nil {
		return fail(err)
	}
	if w != nil {
		if err := w.askMissing(); err != nil {
			return fail(err)
		}
	}
	plan, err := o.checkedPlan()
	if err != nil {
		return fail(err)
	}
	for w != nil && len(w.asked) > 0 {
		ok, err := w.confirm(plan)
		if err != nil {
			return fail(err)
		}
		if ok {
			break
		}
		if plan, err = o.checkedPlan(); err != nil {
			return fail(err)
		}
	}
	return w, state, plan, nil
}

// checkedPlan validates the answers, refuses upgrades that would strand
// the deployment's data, and computes the plan.
func (o *GenerateOptions) checkedPlan() (sizing.Plan, error) {
	if err := o.finish(o.Out); err != nil {
		return sizing.Plan{}, err
	}
	note, err := o.checkUpgrade()
	if err != nil {
		return sizing.Plan{}, err
	}
	plan, err := o.plan(o.Env)
	if err != nil {
		return sizing.Plan{}, err
	}
	if note != "" {
		plan.Warnings = append(plan.Warnings, note)
	}
	return plan, nil
}

// secrets draws new secrets and keeps every one the deployment already has.
func (o *GenerateOptions) secrets() (render.Secrets, error) {
	newSecrets := o.Secrets
	if o.ExampleSecrets {
		newSecrets = render.PlaceholderSecrets
		fmt.Fprintln(o.Env.IO.ErrOut, "Warning: --example-secrets: the secrets are public placeholders; never start this deployment.")
	}
	secrets, err := newSecrets()
	if err != nil {
		return render.Secrets{}, err
	}
	old, err := render.ReadExistingSecrets(o.Out)
	if err != nil {
		return render.Secrets{}, err
	}
	if old.IsPlaceholder() && !o.ExampleSecrets {
		return render.Secrets{}, usage(fmt.Errorf("--out: %s is one of rcgen's documentation examples, with public placeholder secrets: generate a real deployment into a new directory", o.Out))
	}
	return secrets.Keep(old), nil
}

// write shows what changes (the whole tree on a new dry run, a diff on an
// existing deployment), asks on a terminal, and applies it. It reports
// whether anything was written.
func (o *GenerateOptions) write(w *wizard, existing bool, files render.Files) (bool, error) {
	stderr := o.Env.IO.ErrOut
	changes, err := render.Changes(o.Out, files)
	if err != nil {
		return false, err
	}
	pending := render.Pending(changes)
	if existing && len(pending) == 0 {
		fmt.Fprintf(stderr, "Nothing to change in %s: it already matches these answers.\n", o.Out)
		return false, nil
	}
	if o.DryRun {
		if !existing {
			return false, printFiles(o.Env.IO.Out, files)
		}
		_, err := io.WriteString(o.Env.IO.Out, render.UnifiedDiff(pending))
		return false, err
	}
	if existing {
		fmt.Fprintf(stderr, "Changes to %s (secrets masked):\n%s", o.Out, render.UnifiedDiff(pending))
		if w != nil {
			ok, err := w.p.Confirm("Apply these changes?", "Replaced files are kept in "+render.BackupDir+"/; secrets never change.", true)
			if err != nil {
				return false, err
			}
			if !ok {
				return false, errCancelled
			}
		}
	}
	now := time.Now
	if o.Env.Now != nil {
		now = o.Env.Now
	}
	backup, err := render.Apply(o.Out, changes, now())
	if err != nil {
		return false, err
	}
	if backup != "" {
		fmt.Fprintf(stderr, "Replaced files are kept in %s.\n", backup)
	}
	fmt.Fprintf(stderr, "Wrote %d files to %s.\n", len(pending), o.Out)
	return true, nil
}

// summarize tells what was planned and what to do next.
func (o *GenerateOptions) summarize(plan sizing.Plan) {
	stderr, a := o.Env.IO.ErrOut, o.Answers
	fmt.Fprintf(stderr, "Plan for %s: %s of %s, MongoDB %s of %s (details in %s).\n", plan.Host,
		plural(plan.Processes, "app process", "app processes"), spec.FormatBytes(plan.AppMemory),
		plural(plan.MongoDBMembers, "member", "members"), spec.FormatBytes(plan.MongoDBMemory), filepath.Join(o.Out, render.ReadmeFile))
	if !a.Licensed() && plan.Processes == 1 && plan.LicensedProcesses > 1 {
		fmt.Fprintf(stderr, "One app process: more need an Enterprise licence; with one this host could run %d.\n", plan.LicensedProcesses)
	}
	if a.Proxy == spec.ProxyNone {
		fmt.Fprintln(stderr, "No proxy: the app listens on 127.0.0.1 only; point your own proxy at it (see README.md).")
	}
	fmt.Fprintf(stderr, "Next: cd %s && docker compose up -d, then open %s\n", o.Out, a.PublicURL())
	fmt.Fprintln(stderr, "The first account you register there becomes the workspace administrator.")
	if a.Monitoring {
		grafana := a.PublicURL() + "/grafana/"
		if a.Proxy == spec.ProxyNone {
			grafana = fmt.Sprintf("http://127.0.0.1:%d/", render.GrafanaLocal)
		}
		fmt.Fprintf(stderr, "Grafana: %s, user admin, password %s in %s.\n", grafana, render.EnvGrafanaAdminPassword, filepath.Join(o.Out, render.EnvFile))
	}
}

// interactive reports whether rcgen may ask questions: a terminal on both
// ends, and neither --yes, --no-input nor RCGEN_NO_INPUT.
func (o *GenerateOptions) interactive() bool {
	return o.Env.IO.Interactive && o.Env.Prompter != nil && !o.Yes && !o.NoInput && !noInputEnv(o.Env)
}

// printFiles shows a dry run of a new deployment: every file, secrets masked.
func printFiles(w io.Writer, files render.Files) error {
	var b bytes.Buffer
	for _, f := range files {
		fmt.Fprintf(&b, "==> %s (mode %04o) <==\n", f.Path, f.Mode)
		b.Write(render.MaskSecrets(f.Path, f.Content))
		b.WriteString("\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// checkUpgrade refuses version changes that would strand the deployment's
// data: a Rocket.Chat downgrade, or a MongoDB jump of more than one version
// (or back). --force lets a Rocket.Chat downgrade through, for an operator
// who restored an older backup.
func (o *GenerateOptions) checkUpgrade() (string, error) {
	env, err := render.ReadEnv(o.Out)
	if err != nil {
		return "", err
	}
	v, err := spec.ParseVersion(o.Answers.RocketChatVersion)
	if err != nil {
		return "", nil
	}
	oldRC := env["ROCKETCHAT_VERSION"]
	if o.Force {
		oldRC = ""
	}
	note, err := spec.CheckUpgrade(oldRC, o.Answers.RocketChatVersion, env["MONGODB_VERSION"], spec.MongoDBImageTag(v))
	if err != nil {
		return "", usage(&spec.FieldError{Field: "rocketchat-version", Msg: err.Error()})
	}
	return note, nil
}
