package prompt

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/core"
	"github.com/AlecAivazis/survey/v2/terminal"
	"golang.org/x/sys/unix"
)

// Survey asks questions on a terminal with github.com/AlecAivazis/survey/v2.
// It is the only file of rcgen that imports survey (archived upstream), so
// replacing it means replacing this file.
type Survey struct {
	in     terminal.FileReader
	out    terminal.FileWriter
	errOut io.Writer
}

// NewSurvey returns a Prompter on the given terminal streams. NO_COLOR
// (https://no-color.org) turns its colours off.
func NewSurvey(in *os.File, out *os.File, errOut io.Writer) *Survey {
	if os.Getenv("NO_COLOR") != "" {
		core.DisableColor = true
	}
	return &Survey{in: escReader{in}, out: out, errOut: errOut}
}

// escWait is how long a lone ESC byte waits for the rest of an escape
// sequence: an arrow key's bytes may arrive in separate reads (a slow
// link, ssh), and must not cancel.
const escWait = 60 // milliseconds

// escReader turns a lone Esc key press (an ESC byte with nothing after it
// within escWait, not the start of an arrow-key sequence) into Ctrl-C, so
// Esc cancels like Ctrl-C does.
type escReader struct{ f *os.File }

func (r escReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	if n == 1 && p[0] == 0x1b {
		fds := []unix.PollFd{{Fd: int32(r.f.Fd()), Events: unix.POLLIN}}
		if k, perr := unix.Poll(fds, escWait); perr == nil && k > 0 && len(p) > 1 {
			m, err := r.f.Read(p[1:])
			return 1 + m, err
		}
		p[0] = 0x03
	}
	return n, err
}

func (r escReader) Fd() uintptr { return r.f.Fd() }

func (s *Survey) opts() []survey.AskOpt {
	return []survey.AskOpt{survey.WithStdio(s.in, s.out, s.errOut), survey.WithHelpInput(HelpInput)}
}

func mapErr(err error) error {
	if errors.Is(err, terminal.InterruptErr) {
		return ErrInterrupted
	}
	return err
}

// Input implements Prompter.
func (s *Survey) Input(message, help, def string, validate func(string) error) (string, error) {
	var answer string
	q := &survey.Input{Message: message, Help: help, Default: def}
	opts := s.opts()
	if validate != nil {
		opts = append(opts, survey.WithValidator(func(v any) error {
			str, _ := v.(string)
			return validate(str)
		}))
	}
	err := survey.AskOne(q, &answer, opts...)
	return answer, mapErr(err)
}

// Select implements Prompter.
func (s *Survey) Select(message, help string, options []string, def string) (string, error) {
	var answer string
	q := &survey.Select{Message: message, Help: help, Options: options, Default: def}
	err := survey.AskOne(q, &answer, s.opts()...)
	return answer, mapErr(err)
}

// Password implements Prompter.
func (s *Survey) Password(message, help string) (string, error) {
	var answer string
	err := survey.AskOne(&survey.Password{Message: message, Help: help}, &answer, s.opts()...)
	return answer, mapErr(err)
}

// Confirm implements Prompter.
func (s *Survey) Confirm(message, help string, def bool) (bool, error) {
	var answer bool
	q := &survey.Confirm{Message: message, Help: help, Default: def}
	err := survey.AskOne(q, &answer, s.opts()...)
	return answer, mapErr(err)
}

// answeredConfig is what Answered renders with: survey's icons and help
// key, as every question is asked.
var answeredConfig = survey.PromptConfig{
	HelpInput: string(HelpInput),
	Icons: survey.IconSet{
		Question: survey.Icon{Text: "?"},
		Help:     survey.Icon{Text: "?"},
	},
}

// Answered returns a question as survey leaves it on the terminal once it
// is answered, without colours, from survey's own templates: the line a
// transcript of a run shows. answer is a string (an input, a select's
// option, a password) or a bool (a confirmation); a password shows one *
// per character, as it was typed (after its "[? for help]", which survey
// leaves there unless ? was typed).
func Answered(kind Kind, message, help string, answer any) (string, error) {
	var tmpl string
	var data any
	switch kind {
	case KindInput:
		s, _ := answer.(string)
		tmpl = survey.InputQuestionTemplate
		data = survey.InputTemplateData{Input: survey.Input{Message: message, Help: help}, ShowAnswer: true, Answer: s, Config: &answeredConfig}
	case KindSelect:
		s, _ := answer.(string)
		tmpl = survey.SelectQuestionTemplate
		data = survey.SelectTemplateData{Select: survey.Select{Message: message, Help: help}, ShowAnswer: true, Answer: s, Config: &answeredConfig}
	case KindConfirm:
		b, _ := answer.(bool)
		yes := "No"
		if b {
			yes = "Yes"
		}
		tmpl = survey.ConfirmQuestionTemplate
		data = survey.ConfirmTemplateData{Confirm: survey.Confirm{Message: message, Help: help}, Answer: yes, Config: &answeredConfig}
	case KindPassword:
		s, _ := answer.(string)
		_, out, err := core.RunTemplate(survey.PasswordQuestionTemplate, survey.PasswordTemplateData{Password: survey.Password{Message: message, Help: help}, Config: &answeredConfig})
		return out + strings.Repeat("*", utf8.RuneCountInString(s)) + "\n", err
	default:
		return "", fmt.Errorf("prompt: no question of kind %d", kind)
	}
	// The second rendering is survey's own, without colour codes.
	_, out, err := core.RunTemplate(tmpl, data)
	return out, err
}
