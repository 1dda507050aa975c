package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

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
	a := &o.Answers
	f.StringVarP(&o.Out, "out", "o", spec.DefaultOut, "directory to write the deployment into")
	f.StringVar(&a.Domain, "domain", a.Domain, "public host name users type (localhost: plain http, no certificate)")
	f.StringVar(&a.Email, "email", "", "Let's Encrypt account email (required for a public domain)")
	f.StringVar(&a.RocketChatVersion, "rocketchat-version", a.RocketChatVersion, "exact Rocket.Chat release to deploy")
	o.bindSizing(f)
	f.StringVar(&a.Project, "project", a.Project, "Compose project name; it prefixes every volume, so never change it once data exists")
	f.BoolVarP(&o.Yes, "yes", "y", false, "ask nothing; use defaults for answers not given")
	f.BoolVar(&o.DryRun, "dry-run", false, "print what would be written (secrets masked) and write nothing")
	f.BoolVar(&o.Force, "force", false, "write into a directory that already holds files (its secrets are kept), and accept a host below the minimum")
	registerCompletions(cmd)
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

// Run generates the deployment.
func (o *GenerateOptions) Run(ctx context.Context) error {
	stderr := o.Env.IO.ErrOut
	a := &o.Answers
	err := o.resolve()
	if strings.TrimSpace(o.Out) == "" {
		err = errors.Join(err, usage(&spec.FieldError{Field: "out", Msg: "is empty: give the directory to write the deployment into"}))
	}
	if err != nil {
		return err
	}
	plan, err := o.plan(o.Env)
	if err != nil {
		return err
	}

	state, err := render.Inspect(o.Out)
	if err != nil {
		return err
	}
	if state == render.DirNotEmpty && !o.Force && !o.DryRun {
		return usage(fmt.Errorf("--out: %s already holds files: rcgen writes only into a new or empty directory; give --force to write into it (secrets already in its .env are kept)", o.Out))
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
	for _, w := range plan.Warnings {
		fmt.Fprintln(stderr, "Warning:", w)
	}
	if o.DryRun {
		return printFiles(o.Env.IO.Out, files)
	}
	if err := render.Write(o.Out, files); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Wrote %d files to %s for %s.\n", len(files), o.Out, plan.Host)
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

// printFiles shows a dry run: every file, secrets masked.
func printFiles(w io.Writer, files render.Files) error {
	var b bytes.Buffer
	for _, f := range files {
		fmt.Fprintf(&b, "==> %s (mode %04o) <==\n", f.Path, f.Mode)
		if f.Secret {
			b.Write(mask(f))
		} else {
			b.Write(f.Content)
		}
		b.WriteString("\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

var secretKeys = map[string]bool{
	render.EnvMongoRootPassword: true, render.EnvMongoRocketChatPassword: true,
	render.EnvMongoExporterPassword: true, render.EnvGrafanaAdminPassword: true,
	"ROCKETCHAT_LICENSE": true,
}

func mask(f render.File) []byte {
	if f.Path != render.EnvFile {
		return []byte("(secret, not shown)\n")
	}
	var b bytes.Buffer
	for _, line := range strings.SplitAfter(string(f.Content), "\n") {
		k, _, ok := strings.Cut(line, "=")
		if ok && secretKeys[k] {
			line = k + "=********\n"
		}
		b.WriteString(line)
	}
	return b.Bytes()
}
