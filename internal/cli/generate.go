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

	Out    string
	Yes    bool
	DryRun bool

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
	f.BoolVar(&o.DryRun, "dry-run", false, "print what would be written, or the diff for an existing deployment (secrets masked), and write nothing")
	f.BoolVar(&o.Force, "force", false, "write into a directory that holds files rcgen did not write, and accept a host below the minimum")
	registerCompletions(cmd)
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

// Run generates the deployment.
func (o *GenerateOptions) Run(ctx context.Context) error {
	stderr := o.Env.IO.ErrOut
	o.stdin = o.Env.IO.In
	if strings.TrimSpace(o.Out) == "" {
		return usage(&spec.FieldError{Field: "out", Msg: "is empty: give the directory to write the deployment into"})
	}
	state, err := render.Inspect(o.Out)
	if err != nil {
		return err
	}
	if state == render.DirNotEmpty && !o.Force {
		return usage(fmt.Errorf("--out: %s holds files and no %s, so rcgen did not write it: give an empty or new directory, or --force to write into it anyway (files rcgen does not generate are left alone)", o.Out, spec.FileName))
	}
	if err := o.resolve(o.Out); err != nil {
		return err
	}
	a := &o.Answers
	plan, err := o.plan(o.Env)
	if err != nil {
		return err
	}
	secrets, err := o.Secrets()
	if err != nil {
		return err
	}
	old, err := render.ReadExistingSecrets(o.Out)
	if err != nil {
		return err
	}
	secrets = secrets.Keep(old)

	files, err := o.Generate(ctx, *a, plan, secrets, version())
	if err != nil {
		return fmt.Errorf("the generated deployment did not validate, so nothing was written: %w", err)
	}
	changes, err := render.Changes(o.Out, files)
	if err != nil {
		return err
	}
	pending := render.Pending(changes)
	existing := state == render.DirRcgen || state == render.DirNotEmpty
	for _, w := range plan.Warnings {
		fmt.Fprintln(stderr, "Warning:", w)
	}
	if o.DryRun {
		if !existing {
			return printFiles(o.Env.IO.Out, files)
		}
		if len(pending) == 0 {
			fmt.Fprintf(stderr, "Nothing would change in %s.\n", o.Out)
			return nil
		}
		_, err := io.WriteString(o.Env.IO.Out, render.UnifiedDiff(pending))
		return err
	}
	if existing {
		if len(pending) == 0 {
			fmt.Fprintf(stderr, "Nothing to change in %s: it already matches these answers.\n", o.Out)
			return nil
		}
		fmt.Fprintf(stderr, "Changes to %s (secrets masked):\n%s", o.Out, render.UnifiedDiff(pending))
	}
	now := time.Now
	if o.Env.Now != nil {
		now = o.Env.Now
	}
	backup, err := render.Apply(o.Out, changes, now())
	if err != nil {
		return err
	}
	if backup != "" {
		fmt.Fprintf(stderr, "Replaced files are kept in %s.\n", backup)
	}
	fmt.Fprintf(stderr, "Wrote %d files to %s for %s.\n", len(pending), o.Out, plan.Host)
	fmt.Fprintf(stderr, "Plan: %d app process(es) of %s, MongoDB %d member(s) of %s (details in %s).\n",
		plan.Processes, spec.FormatBytes(plan.AppMemory), plan.MongoDBMembers, spec.FormatBytes(plan.MongoDBMemory), filepath.Join(o.Out, render.ReadmeFile))
	if !a.Licensed() && plan.Processes == 1 && plan.LicensedProcesses > 1 {
		fmt.Fprintf(stderr, "One app process: more need an Enterprise licence; with one this host could run %d.\n", plan.LicensedProcesses)
	}
	if a.Proxy == spec.ProxyNone {
		fmt.Fprintln(stderr, "No proxy: the app listens on 127.0.0.1 only; point your own proxy at it (see README.md).")
	}
	fmt.Fprintf(stderr, "Next: cd %s && docker compose up -d, then open %s\n", o.Out, a.PublicURL())
	return nil
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
