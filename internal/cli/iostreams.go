package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the standard streams and whether they are terminals.
//
// Results (the summary of a run, the plan, --json, a diff) go to Out;
// progress, warnings and questions go to ErrOut, as gh and docker do, so
// `rcgen generate | tee log` keeps the summary and still asks, and
// `rcgen plan --json > plan.json` holds only the JSON.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Interactive is true when standard input and standard error are both
	// terminals: the questions are drawn on standard error and answered on
	// standard input, whatever standard output is.
	Interactive bool
	// InTerminal, OutTerminal and ErrTerminal say which of them is.
	InTerminal, OutTerminal, ErrTerminal bool
}

// SystemIO returns the process's streams.
func SystemIO() IOStreams {
	in := term.IsTerminal(int(os.Stdin.Fd()))
	out := term.IsTerminal(int(os.Stdout.Fd()))
	errOut := term.IsTerminal(int(os.Stderr.Fd()))
	return IOStreams{
		In:          os.Stdin,
		Out:         os.Stdout,
		ErrOut:      os.Stderr,
		Interactive: in && errOut,
		InTerminal:  in,
		OutTerminal: out,
		ErrTerminal: errOut,
	}
}
