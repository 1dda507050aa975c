package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// GenerateOptions holds every flag of `rcgen generate` and its dependencies.
type GenerateOptions struct {
	Env     Env
	Answers spec.Answers

	Out         string
	LicenseFile string
	NoMonitor   bool
	Yes         bool
	DryRun      bool
	Force       bool

	// Secrets draws new secrets; tests make it deterministic.
	Secrets func() (render.Secrets, error)
	// Generate renders and checks the deployment in memory.
	Generate func(context.Context, spec.Answers, sizing.Plan, render.Secrets, string) (render.Files, error)
}

func newGenerateCmd(env Env) *cobra.Command {
	o := &GenerateOptions{Env: env, Answers: spec.Default(), Secrets: render.DefaultSecrets, Generate: render.Generate}
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
			return o.Run(cmd)
		},
	}
	f := cmd.Flags()
	a := &o.Answers
	f.StringVarP(&o.Out, "out", "o", spec.DefaultOut, "directory to write the deployment into")
	f.StringVar(&a.Domain, "domain", a.Domain, "public host name users type (localhost: plain http, no certificate)")
	f.StringVar(&a.Email, "email", "", "Let's Encrypt account email (required for a public domain)")
	f.StringVar(&a.RocketChatVersion, "rocketchat-version", a.RocketChatVersion, "exact Rocket.Chat release to deploy")
	f.IntVar(&a.MongoDBMembers, "mongodb-members", a.MongoDBMembers, "MongoDB replica set members: 1 or 3")
	f.IntVar(&a.Processes, "processes", 0, "app processes, overriding the computed count")
	f.StringVar(&o.LicenseFile, "license-file", "", "file holding a Rocket.Chat Enterprise licence (needed for more than one app process)")
	f.BoolVar(&a.AllowUnlicensedInstances, "allow-unlicensed-instances", false, "allow --processes above 1 without a licence (instances will not share real-time events)")
	f.StringVar(&a.CPUs, "cpus", "", "cores of the target host, instead of detecting this one (e.g. 8)")
	f.StringVar(&a.Memory, "memory", "", "memory of the target host, instead of detecting this one (e.g. 16GiB)")
	f.StringVar(&a.Proxy, "proxy", a.Proxy, "reverse proxy: caddy (automatic HTTPS) or none (you run your own)")
	f.BoolVar(&o.NoMonitor, "no-monitoring", false, "leave out Prometheus, Grafana and the exporters")
	f.StringVar(&a.Project, "project", a.Project, "Compose project name; it prefixes every volume, so never change it once data exists")
	f.BoolVarP(&o.Yes, "yes", "y", false, "ask nothing; use defaults for answers not given")
	f.BoolVar(&o.DryRun, "dry-run", false, "print what would be written (secrets masked) and write nothing")
	f.BoolVar(&o.Force, "force", false, "write into a directory that already holds files")
	_ = cmd.RegisterFlagCompletionFunc("proxy", cobra.FixedCompletions([]string{spec.ProxyCaddy, spec.ProxyNone}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("mongodb-members", cobra.FixedCompletions([]string{"1", "3"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

// Run generates the deployment.
func (o *GenerateOptions) Run(cmd *cobra.Command) error {
	stderr := o.Env.IO.ErrOut
	a := &o.Answers
	a.Monitoring = !o.NoMonitor
	if o.LicenseFile != "" {
		b, err := os.ReadFile(o.LicenseFile)
		if err != nil {
			return &spec.FieldError{Field: "license-file", Msg: fmt.Sprintf("cannot read %s: %v", o.LicenseFile, errors.Unwrap(err))}
		}
		a.License = spec.NormalizeLicense(string(b))
		if a.License == "" {
			return &spec.FieldError{Field: "license-file", Msg: fmt.Sprintf("%s is empty: use the licence file Rocket.Chat Cloud gave you", o.LicenseFile)}
		}
	}
	var errs []error
	if strings.TrimSpace(o.Out) == "" {
		errs = append(errs, &spec.FieldError{Field: "out", Msg: "is empty: give the directory to write the deployment into"})
	}
	if err := a.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return usage(err)
	}

	host, err := o.host()
	if err != nil {
		return err
	}
	plan, err := sizing.Compute(host, sizing.Inputs{
		Licensed:       a.Licensed(),
		Processes:      a.Processes,
		MongoDBMembers: a.MongoDBMembers,
		Monitoring:     a.Monitoring,
		Proxy:          a.Proxy == spec.ProxyCaddy,
	})
	if err != nil {
		return usage(err)
	}
	v, _ := spec.ParseVersion(a.RocketChatVersion)
	if v.Untested() {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("Rocket.Chat %s is newer than any release rcgen was checked with; check its MongoDB requirements", v))
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

	files, err := o.Generate(cmd.Context(), *a, plan, secrets, version())
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
	fmt.Fprintf(stderr, "Wrote %d files to %s for %s.\n", len(files), o.Out, host)
	fmt.Fprintf(stderr, "Plan: %d app process(es) of %s, MongoDB %d member(s) of %s.\n",
		plan.Processes, spec.FormatBytes(plan.AppMemory), plan.MongoDBMembers, spec.FormatBytes(plan.MongoDBMemory))
	if !a.Licensed() && plan.Processes == 1 && plan.LicensedProcesses > 1 {
		fmt.Fprintf(stderr, "One app process: more need an Enterprise licence; with one this host could run %d.\n", plan.LicensedProcesses)
	}
	if a.Proxy == spec.ProxyNone {
		fmt.Fprintln(stderr, "No proxy: the app listens on 127.0.0.1 only; point your own proxy at it (see README.md).")
	}
	fmt.Fprintf(stderr, "Next: cd %s && docker compose up -d, then open %s\n", o.Out, a.PublicURL())
	return nil
}

// host detects this machine, or takes --cpus and --memory instead.
func (o *GenerateOptions) host() (sizing.Host, error) {
	a := o.Answers
	var h sizing.Host
	if a.CPUs == "" || a.Memory == "" {
		detect := o.Env.Detect
		if detect == nil {
			return h, errors.New("no host detector: give --cpus and --memory")
		}
		d, err := detect()
		if err != nil {
			return h, err
		}
		h = d
	}
	if a.CPUs != "" {
		h.CPUs, _ = spec.ParseCPUs(a.CPUs)
		h.CPUSource = "--cpus"
	}
	if a.Memory != "" {
		h.Memory, _ = spec.ParseMemory(a.Memory)
		h.MemorySource = "--memory"
	}
	return h, nil
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
