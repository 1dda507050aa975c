// Package prompttest provides a scripted Prompter for tests, and a
// Transcript that shows what a run put on the terminal.
package prompttest

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/prompt"
)

// Script is a prompt.Prompter for tests: it expects the questions in order and
// gives scripted answers. A question it does not expect, an expected one
// never asked, or a question without help (where survey would take ? for
// the answer) fails the test.
type Script struct {
	t     testing.TB
	steps []Step
	next  int
	// Errors collects the validation errors the scripted inputs met, as a
	// person would have seen them.
	Errors []string
}

// Step is one expected question (matched by a substring of its message)
// and its answer: a string for Input and Select, a bool for Confirm, or
// prompt.ErrInterrupted to cancel.
type Step struct {
	Question string
	Answer   any
}

// NewScript returns a Script and registers a check, at the end of the
// test, that every step was used.
func NewScript(t testing.TB, steps ...Step) *Script {
	s := &Script{t: t, steps: steps}
	t.Cleanup(func() {
		if s.next < len(s.steps) {
			t.Errorf("prompt script: %d question(s) never asked, next %q", len(s.steps)-s.next, s.steps[s.next].Question)
		}
	})
	return s
}

func (s *Script) step(message, help string) (Step, error) {
	s.t.Helper()
	if strings.TrimSpace(help) == "" {
		s.t.Errorf("prompt script: %q has no help, so ? would be taken as its answer: give it a help text", message)
	}
	if s.next >= len(s.steps) {
		s.t.Fatalf("prompt script: unexpected question %q", message)
	}
	st := s.steps[s.next]
	if !strings.Contains(message, st.Question) {
		s.t.Fatalf("prompt script: asked %q, expected a question containing %q", message, st.Question)
	}
	s.next++
	if st.Answer == prompt.ErrInterrupted {
		return st, prompt.ErrInterrupted
	}
	return st, nil
}

// Input implements Prompter. Answers failing validate are recorded in
// Errors and the next step must answer the same question again.
func (s *Script) Input(message, help, def string, validate func(string) error) (string, error) {
	for {
		st, err := s.step(message, help)
		if err != nil {
			return "", err
		}
		v, ok := st.Answer.(string)
		if !ok {
			s.t.Fatalf("prompt script: %q is an input, answer %v is not a string", message, st.Answer)
		}
		if v == "" {
			v = def
		}
		if validate != nil {
			if err := validate(v); err != nil {
				s.Errors = append(s.Errors, err.Error())
				continue
			}
		}
		return v, nil
	}
}

// Select implements Prompter.
func (s *Script) Select(message, help string, options []string, def string) (string, error) {
	st, err := s.step(message, help)
	if err != nil {
		return "", err
	}
	v, ok := st.Answer.(string)
	if !ok {
		s.t.Fatalf("prompt script: %q is a select, answer %v is not a string", message, st.Answer)
	}
	if v == "" {
		return def, nil
	}
	for _, o := range options {
		if strings.Contains(o, v) {
			return o, nil
		}
	}
	s.t.Fatalf("prompt script: %q has no option matching %q (options: %s)", message, v, strings.Join(options, "; "))
	return "", fmt.Errorf("unreachable")
}

// Password implements Prompter.
func (s *Script) Password(message, help string) (string, error) {
	st, err := s.step(message, help)
	if err != nil {
		return "", err
	}
	v, ok := st.Answer.(string)
	if !ok {
		s.t.Fatalf("prompt script: %q is a password, answer %v is not a string", message, st.Answer)
	}
	return v, nil
}

// Confirm implements Prompter.
func (s *Script) Confirm(message, help string, def bool) (bool, error) {
	st, err := s.step(message, help)
	if err != nil {
		return false, err
	}
	v, ok := st.Answer.(bool)
	if !ok {
		s.t.Fatalf("prompt script: %q is a confirm, answer %v is not a bool", message, st.Answer)
	}
	return v, nil
}

// Transcript is a prompt.Prompter that asks another one and writes each
// question to W as survey leaves it on the terminal once answered
// (prompt.Answered): with W also the run's output, W reads as the
// terminal did.
type Transcript struct {
	P prompt.Prompter
	W io.Writer
}

func (tr Transcript) echo(kind prompt.Kind, message, help string, answer any, err error) error {
	if err != nil {
		return err
	}
	line, err := prompt.Answered(kind, message, help, answer)
	if err != nil {
		return err
	}
	_, err = io.WriteString(tr.W, line)
	return err
}

// Input implements Prompter.
func (tr Transcript) Input(message, help, def string, validate func(string) error) (string, error) {
	v, err := tr.P.Input(message, help, def, validate)
	return v, tr.echo(prompt.KindInput, message, help, v, err)
}

// Select implements Prompter.
func (tr Transcript) Select(message, help string, options []string, def string) (string, error) {
	v, err := tr.P.Select(message, help, options, def)
	return v, tr.echo(prompt.KindSelect, message, help, v, err)
}

// Confirm implements Prompter.
func (tr Transcript) Confirm(message, help string, def bool) (bool, error) {
	v, err := tr.P.Confirm(message, help, def)
	return v, tr.echo(prompt.KindConfirm, message, help, v, err)
}

// Password implements Prompter.
func (tr Transcript) Password(message, help string) (string, error) {
	v, err := tr.P.Password(message, help)
	return v, tr.echo(prompt.KindPassword, message, help, v, err)
}
