package up

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Progress shows what rcgen up waits for. On a terminal it is one line,
// rewritten in place with the time waited; elsewhere (a pipe, a log file)
// each new state is a plain line of its own, printed once, with no
// control characters.
type Progress struct {
	w    io.Writer
	tty  bool
	last string
	open bool
	// Width is the terminal's width: a status line longer than it would
	// wrap, and only its last row would be rewritten. 0: 80.
	Width int
}

// NewProgress writes to w; tty says w is a terminal.
func NewProgress(w io.Writer, tty bool) *Progress { return &Progress{w: w, tty: tty} }

// Status shows what is being waited for, and for how long so far.
func (p *Progress) Status(text string, waited time.Duration) {
	text = oneLine(text)
	if p.tty {
		line := fmt.Sprintf("%s (%s)", text, waited.Round(time.Second))
		width := p.Width
		if width <= 0 {
			width = 80
		}
		if r := []rune(line); len(r) > width-1 {
			line = string(r[:max(width-4, 1)]) + "..."
		}
		fmt.Fprint(p.w, "\r\x1b[K"+line)
		p.open = true
		return
	}
	if text != p.last {
		fmt.Fprintln(p.w, text)
		p.last = text
	}
}

// Line prints a line that stays: a finished stage, a command run.
func (p *Progress) Line(text string) {
	p.clear()
	fmt.Fprintln(p.w, text)
	p.last = ""
}

// Done clears the status line (on a terminal) before other output.
func (p *Progress) Done() { p.clear() }

func (p *Progress) clear() {
	if p.tty && p.open {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.open = false
	}
}

// oneLine keeps text to one printable line of at most 160 characters: a
// log line may hold anything.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 160 {
		s = string(r[:157]) + "..."
	}
	return s
}
