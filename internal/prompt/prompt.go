// Package prompt asks a person questions on a terminal. Prompter is the only
// way rcgen asks anything; the survey implementation is the only code that
// imports survey, and Script is a test double that answers from a script.
package prompt

import "errors"

// ErrInterrupted is returned when the person presses Ctrl-C or Esc.
var ErrInterrupted = errors.New("interrupted")

// HelpInput is what a person types to see a question's help. Every
// question rcgen asks has help, so it is never taken as an answer (survey
// takes it as one when a question has none).
const HelpInput = '?'

// Prompter asks questions. Every method returns ErrInterrupted when the
// person cancels. help is shown when the person types HelpInput; it must
// not be empty.
type Prompter interface {
	// Input asks for a line of text. validate, when not nil, is run on every
	// answer; an invalid answer is reported and the question asked again.
	Input(message, help, def string, validate func(string) error) (string, error)
	// Select asks to pick one of options and returns it.
	Select(message, help string, options []string, def string) (string, error)
	// Confirm asks a yes/no question.
	Confirm(message, help string, def bool) (bool, error)
	// Password asks for a secret without echoing it.
	Password(message, help string) (string, error)
}

// Kind is the kind of a question: which Prompter method asks it.
type Kind int

// The kinds of questions.
const (
	KindInput Kind = iota
	KindSelect
	KindConfirm
	KindPassword
)
