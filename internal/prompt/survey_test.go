package prompt

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ansi matches the terminal's control sequences: CSI ones, and saving and
// restoring the cursor.
var ansi = regexp.MustCompile(`\x1b(\[[0-9;?]*[a-zA-Z]|[78])`)

// screen is what a pseudo-terminal's program wrote, answered as a
// terminal answers survey's cursor-position queries.
type screen struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func (s *screen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.ReplaceAll(ansi.ReplaceAllString(s.buf.String(), ""), "\r", "")
}

// quiet waits until nothing more is written for a while: survey reads the
// terminal's answer to its cursor query before the keys.
func (s *screen) quiet() {
	last, still := -1, 0
	for still < 5 {
		time.Sleep(40 * time.Millisecond)
		s.mu.Lock()
		n := s.buf.Len()
		s.mu.Unlock()
		if n == last {
			still++
		} else {
			last, still = n, 0
		}
	}
}

// onTerminal asks one question with ask on a pseudo-terminal, types keys
// once it shows, and returns what the terminal shows afterwards.
func onTerminal(t *testing.T, message string, ask func(*Survey) error, keys ...string) string {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		msg := "no pseudo-terminal available (" + err.Error() + "): Answered is NOT checked against survey"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPED: " + msg)
	}
	defer master.Close()
	defer tty.Close()
	_ = pty.Setsize(master, &pty.Winsize{Rows: 40, Cols: 200})
	s := &screen{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			for range bytes.Count(b[:n], []byte("\x1b[6n")) {
				_, _ = master.WriteString("\x1b[10;1R")
			}
			s.mu.Lock()
			s.buf.Write(b[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- ask(&Survey{in: escReader{tty}, out: tty, errOut: tty}) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.text(), message) {
		if time.Now().After(deadline) {
			t.Fatalf("the question never showed; the terminal shows:\n%s", s.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, k := range keys {
		s.quiet()
		if _, err := master.WriteString(k); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the question was never answered; the terminal shows:\n%s", s.text())
	}
	s.quiet()
	return s.text()
}

// TestAnsweredIsWhatSurveyLeaves: an answered question, as Answered
// renders it for a transcript, is what survey leaves on the terminal, for
// each kind of question (after ? showed the help, but for a password:
// survey then asks again without its "[? for help]").
func TestAnsweredIsWhatSurveyLeaves(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the pseudo-terminal test in -short mode (make check); make test runs it")
	}
	const help = "Some help."
	for _, c := range []struct {
		name   string
		kind   Kind
		answer any
		ask    func(*Survey) error
		keys   []string
	}{
		{"input", KindInput, "typed", func(s *Survey) error { _, err := s.Input("Name:", help, "def", nil); return err }, []string{"?\r", "typed\r"}},
		{"input default", KindInput, "def", func(s *Survey) error { _, err := s.Input("Name:", help, "def", nil); return err }, []string{"\r"}},
		{"select", KindSelect, "two", func(s *Survey) error { _, err := s.Select("Pick:", help, []string{"one", "two"}, "one"); return err }, []string{"?", "\x1b[B", "\r"}},
		{"confirm", KindConfirm, false, func(s *Survey) error { _, err := s.Confirm("Sure?", help, true); return err }, []string{"?\r", "n\r"}},
		{"password", KindPassword, "s3cret", func(s *Survey) error { _, err := s.Password("Secret:", help); return err }, []string{"s3cret\r"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			message := map[Kind]string{KindInput: "Name:", KindSelect: "Pick:", KindConfirm: "Sure?", KindPassword: "Secret:"}[c.kind]
			shown := onTerminal(t, message, c.ask, c.keys...)
			want, err := Answered(c.kind, message, help, c.answer)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(shown, want) {
				t.Errorf("survey left %q; Answered says %q", shown[max(0, len(shown)-len(want)-40):], want)
			}
		})
	}
}
