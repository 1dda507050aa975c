// Package cli holds rcgen's commands: flag parsing, the options structs, and
// the flow from answers to written files.
package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/rcgen/rcgen/internal/hostproxy"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/doctor"
	"github.com/rcgen/rcgen/internal/prompt"
	"github.com/rcgen/rcgen/internal/refresh"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/smoke"
	"github.com/rcgen/rcgen/internal/spec"
	"github.com/rcgen/rcgen/internal/stack"
)

// Version and Commit are set at build time (make build, make dist) with
// -ldflags "-X .../internal/cli.Version=v1.2.3 -X .../internal/cli.Commit=abc1234".
var Version, Commit = "", ""

// version returns the rcgen version: the ldflags value, else the module
// version `go install module@version` recorded, else "dev" (a build from a
// checkout without make, or go test).
func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// commit returns the commit rcgen was built from: the ldflags value, else
// what go build recorded from the checkout (vcs.revision), else "".
func commit() string {
	if Commit != "" {
		return Commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" && dirty {
			rev += "-dirty"
		}
		return rev
	}
	return ""
}

// fullVersion is what --version and every generated file's header show:
// the version and, when known, the commit.
func fullVersion() string {
	if c := commit(); c != "" && !strings.Contains(version(), c) {
		return version() + " (" + c + ")"
	}
	return version()
}

// Exit codes.
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitInterrupted = 130
)

// usageError marks invalid input: exit 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usage(err error) error {
	if err == nil {
		return nil
	}
	return &usageError{err}
}

// Env is what a command needs from the outside world; tests replace it.
type Env struct {
	IO IOStreams
	// Detector reads the host; nil means the real machine.
	Detect func() (sizing.Host, error)
	// Getenv reads the environment (RCGEN_NO_INPUT and friends).
	Getenv func(string) string
	// Secrets draws new secrets; nil means crypto/rand.
	Secrets func() (render.Secrets, error)
	// Now is the clock (names backup folders); nil means time.Now.
	Now func() time.Time
	// Prompter asks questions on the terminal; nil means never ask.
	Prompter func() prompt.Prompter
	// System is what doctor (and generate's host checks) read; nil means
	// generate skips the host checks and doctor reads this machine.
	System func() doctor.System
	// Docker runs the docker command (upgrade, backup, restore); nil means
	// the real one.
	Docker stack.Runner
	// Executable and LookPath find this program and the rcgen a person
	// would type (os.Executable, exec.LookPath): when they differ, a run
	// that told the person to run rcgen says how. nil: not checked.
	Executable func() (string, error)
	LookPath   func(string) (string, error)
	// CatalogCache is where the refreshed catalog is cached ("": none,
	// as in tests); Refresh says where a refresh reads (zero: the real
	// sources).
	CatalogCache string
	Refresh      refresh.Options
	// Smoke runs the front-door smoke test (rcgen up, status); nil means
	// smoke.Run.
	Smoke func(context.Context, smoke.Target) smoke.Report
	// DetectProxy tells which reverse proxy the host already runs, for the
	// wizard's default; nil finds none.
	DetectProxy func() hostproxy.Finding
	// DiskFree returns the bytes free on path's file system and its
	// device (rcgen adopt); nil means the real one.
	DiskFree func(path string) (free int64, device uint64, err error)
}

// Main runs rcgen with the process's arguments and streams and returns the
// exit code.
func Main() int { return MainWith(nil) }

// MainWith is Main with adjust applied to the environment first (tests
// that run the program stand in for what cannot run there).
func MainWith(adjust func(*Env)) int {
	env := Env{
		IO:     SystemIO(),
		Detect: func() (sizing.Host, error) { return sizing.NewDetector().Detect() },
		Getenv: os.Getenv,
		// The questions are drawn on standard error, beside the progress,
		// so standard output keeps only results (rcgen generate | tee log).
		Prompter:    func() prompt.Prompter { return prompt.NewSurvey(os.Stdin, os.Stderr, os.Stderr) },
		System:      doctor.This,
		DetectProxy: func() hostproxy.Finding { return hostproxy.Detect(hostproxy.System()) },
		Executable:  os.Executable,
		LookPath:    exec.LookPath,
	}
	if p, err := refresh.CachePath(); err == nil {
		env.CatalogCache = p
	}
	if adjust != nil {
		adjust(&env)
	}
	return Run(context.Background(), env, os.Args[1:])
}

// Run executes rcgen with args and returns the exit code.
func Run(ctx context.Context, env Env, args []string) int {
	// Every message naming an rcgen command is noted: at the end, one line
	// says how to run rcgen when the one on the PATH is not this program.
	stderr := env.IO.ErrOut
	m := &mentions{}
	env.IO.Out, env.IO.ErrOut = m.watch(env.IO.Out), m.watch(env.IO.ErrOut)
	// Each run starts from the compiled-in catalog; --catalog or an
	// answers file's catalog: sets another for this run only.
	// The refreshed catalog, when cached, stands in for the compiled-in one
	// (an explicit --catalog or catalog: still wins).
	defer catalog.Use(cachedCatalog(env))()
	root := NewRootCmd(env)
	m.commands(root)
	root.SetArgs(args)
	ran, err := root.ExecuteContextC(ctx)
	code := exitCode(env.IO.ErrOut, err)
	if m.seen && !completing(ran) {
		if note := pathNote(env); note != "" {
			fmt.Fprintln(stderr, note)
		}
	}
	return code
}

// completing reports whether cmd writes shell completions, which no note
// may follow.
func completing(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Name() == "completion" || strings.HasPrefix(c.Name(), cobra.ShellCompRequestCmd) {
			return true
		}
	}
	return false
}

// exitCode reports err on w and returns the exit code it stands for.
func exitCode(w io.Writer, err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, new(*exitStatus)):
		var es *exitStatus
		errors.As(err, &es)
		return es.code
	case errors.Is(err, prompt.ErrInterrupted):
		fmt.Fprintln(w, "Interrupted: nothing was written.")
		return ExitInterrupted
	case errors.Is(err, errCancelled):
		fmt.Fprintln(w, "Cancelled: nothing was written.")
		return ExitError
	case errors.Is(err, errChecksFailed):
		fmt.Fprintln(w, "Doctor:", err)
		return ExitError
	}
	fmt.Fprintln(w, "Error:", err)
	var ue *usageError
	var fe *spec.FieldError
	var ts *sizing.ErrTooSmall
	switch {
	case errors.As(err, &ue), errors.As(err, &fe), errors.As(err, &ts):
		return ExitUsage
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	default:
		return ExitError
	}
}

// NewRootCmd builds the command tree.
func NewRootCmd(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "rcgen",
		Short: "Generate a complete, validated Docker Compose deployment of Rocket.Chat",
		Long: `rcgen sizes a deployment of Rocket.Chat for a host (its cores and memory)
and writes it as Docker Compose files: app processes behind Caddy with
automatic HTTPS, a MongoDB replica set, Prometheus and Grafana. Every file is
validated before anything is written.`,
		Example: `  # A deployment for this host on defaults (http://localhost), no questions:
  rcgen generate --yes

  # A public server with Let's Encrypt:
  rcgen generate --domain chat.example.com --email admin@example.com

  # Size for another machine, with an Enterprise licence:
  rcgen generate --cpus 8 --memory 16GiB --license-file rocketchat.license \
    --domain chat.example.com --email admin@example.com --mongodb-members 3`,
		Version:       fullVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate(versionTemplate)
	root.SetIn(env.IO.In)
	root.SetOut(env.IO.Out)
	root.SetErr(env.IO.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usage(fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
	})
	gen := newGenerateCmd(env)
	root.AddCommand(gen, newPlanCmd(env), newVersionsCmd(env), newDoctorCmd(env), newUpgradeCmd(env), newBackupCmd(env), newRestoreCmd(env), newUpCmd(env), newAdoptCmd(env), newStatusCmd(env), newVersionCmd(env))
	// On a terminal, plain `rcgen` is the wizard; elsewhere it shows help.
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usage(fmt.Errorf("unknown command %q (see rcgen --help)", args[0]))
		}
		if !canPrompt(env, false, false) {
			return cmd.Help()
		}
		gen.SetContext(cmd.Context())
		if err := gen.PreRunE(gen, nil); err != nil {
			return err
		}
		return gen.RunE(gen, nil)
	}
	root.Args = cobra.ArbitraryArgs
	registerCompletions(root)
	return root
}

// noArgs refuses positional arguments as a usage error (exit 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usage(fmt.Errorf("%s takes no arguments, and got %q (see %s --help)", cmd.CommandPath(), args[0], cmd.CommandPath()))
	}
	return nil
}

// canPrompt is the one place that decides whether rcgen may ask: standard
// input and standard error (where the questions are drawn) are terminals,
// a prompter exists, and neither --yes, --no-input, RCGEN_NO_INPUT nor
// TERM=dumb forbids it. Standard output may be anything.
func canPrompt(env Env, yes, noInput bool) bool {
	return env.IO.Interactive && env.Prompter != nil && !yes && !noInput && !noInputEnv(env) && !dumbTerminal(env)
}

// dumbTerminal: TERM=dumb cannot move the cursor, which the questions need.
func dumbTerminal(env Env) bool { return env.Getenv != nil && env.Getenv("TERM") == "dumb" }

// whyNoQuestions says, when a person at a terminal might expect questions,
// why none are asked ("" when it is obvious: a script, --yes, --no-input).
func whyNoQuestions(env Env, yes, noInput bool) string {
	switch {
	case yes || noInput || noInputEnv(env) || !env.IO.InTerminal:
		return ""
	case !env.IO.ErrTerminal:
		return "standard error is not a terminal (redirected), and rcgen asks its questions there, so it asks nothing: answers not given take their defaults; run it without redirecting standard error to answer questions, or give --yes to say so"
	case dumbTerminal(env):
		return "TERM=dumb cannot show the questions, so rcgen asks nothing: answers not given take their defaults"
	}
	return ""
}

// noInputEnv reports whether RCGEN_NO_INPUT forbids prompting.
func noInputEnv(env Env) bool {
	if env.Getenv == nil {
		return false
	}
	v := env.Getenv("RCGEN_NO_INPUT")
	return v != "" && v != "0" && v != "false"
}
