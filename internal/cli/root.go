// Package cli holds rcgen's commands: flag parsing, the options structs, and
// the flow from answers to written files.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcgen/rcgen/internal/doctor"
	"github.com/rcgen/rcgen/internal/prompt"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=v1.2.3".
var Version = ""

// version returns the rcgen version: the ldflags value, else the module
// version go install recorded, else "dev".
func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
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
}

// Main runs rcgen with the process's arguments and streams and returns the
// exit code.
func Main() int {
	env := Env{
		IO:       SystemIO(),
		Detect:   func() (sizing.Host, error) { return sizing.NewDetector().Detect() },
		Getenv:   os.Getenv,
		Prompter: func() prompt.Prompter { return prompt.NewSurvey(os.Stdin, os.Stdout, os.Stderr) },
		System:   doctor.This,
	}
	return Run(context.Background(), env, os.Args[1:])
}

// Run executes rcgen with args and returns the exit code.
func Run(ctx context.Context, env Env, args []string) int {
	root := NewRootCmd(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, prompt.ErrInterrupted):
		fmt.Fprintln(env.IO.ErrOut, "Interrupted: nothing was written.")
		return ExitInterrupted
	case errors.Is(err, errCancelled):
		fmt.Fprintln(env.IO.ErrOut, "Cancelled: nothing was written.")
		return ExitError
	case errors.Is(err, errChecksFailed):
		fmt.Fprintln(env.IO.ErrOut, "Doctor:", err)
		return ExitError
	}
	fmt.Fprintln(env.IO.ErrOut, "Error:", err)
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
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(env.IO.In)
	root.SetOut(env.IO.Out)
	root.SetErr(env.IO.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usage(fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
	})
	gen := newGenerateCmd(env)
	root.AddCommand(gen, newPlanCmd(env), newVersionsCmd(env), newDoctorCmd(env))
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
	return root
}

// IOStreams are the standard streams and whether they are terminals.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Interactive is true when stdin and stdout are both terminals.
	Interactive bool
	// InTerminal and OutTerminal say which of them is.
	InTerminal, OutTerminal bool
}

// noArgs refuses positional arguments as a usage error (exit 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usage(fmt.Errorf("%s takes no arguments, and got %q (see %s --help)", cmd.CommandPath(), args[0], cmd.CommandPath()))
	}
	return nil
}

// canPrompt is the one place that decides whether rcgen may ask: both ends
// are terminals, a prompter exists, and neither --yes, --no-input nor
// RCGEN_NO_INPUT forbids it.
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
	case !env.IO.OutTerminal:
		return "standard output is not a terminal (piped or redirected), so rcgen asks nothing: answers not given take their defaults; run it without the pipe to answer questions, or give --yes to say so"
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
