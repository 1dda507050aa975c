package cli

import (
	"os"

	"golang.org/x/term"
)

// SystemIO returns the process's streams.
func SystemIO() IOStreams {
	in, out := term.IsTerminal(int(os.Stdin.Fd())), term.IsTerminal(int(os.Stdout.Fd()))
	return IOStreams{
		In:          os.Stdin,
		Out:         os.Stdout,
		ErrOut:      os.Stderr,
		Interactive: in && out,
		InTerminal:  in,
		OutTerminal: out,
	}
}
