package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

// Messages tell the person to run `rcgen ...` (rcgen backup list, rcgen
// upgrade --to ...). When the rcgen they would type is not this program
// (go run's temporary build, a binary not on the PATH, another rcgen
// first on the PATH), rcgen says so once, at the end of the run, with the
// form that works.

// mentions watches what a run writes for the commands it names
// ("rcgen backup list").
type mentions struct {
	re   *regexp.Regexp
	seen bool
}

// commands sets the names to watch for: root's commands, but version
// ("rcgen version 1.2.3" is what --version prints, not an instruction).
func (m *mentions) commands(root *cobra.Command) {
	var names []string
	for _, c := range root.Commands() {
		if c.Name() != "version" {
			names = append(names, regexp.QuoteMeta(c.Name()))
		}
	}
	m.re = regexp.MustCompile(`\brcgen (` + strings.Join(names, "|") + `)\b`)
}

// watch returns w, noting whether anything written to it names a command.
func (m *mentions) watch(w io.Writer) io.Writer {
	if w == nil {
		return nil
	}
	return &mentionWriter{w: w, m: m}
}

type mentionWriter struct {
	w    io.Writer
	m    *mentions
	tail []byte // the end of the last write: a name may span two writes
}

func (mw *mentionWriter) Write(p []byte) (int, error) {
	if !mw.m.seen && mw.m.re != nil {
		buf := append(append([]byte{}, mw.tail...), p...)
		mw.m.seen = mw.m.re.Match(buf)
		mw.tail = buf[len(buf)-min(len(buf), 32):]
	}
	return mw.w.Write(p)
}

// pathNote is one line saying how to run the rcgen the messages name, or
// "" when `rcgen` on the PATH is this program (or nothing can tell).
func pathNote(env Env) string {
	if env.Executable == nil || env.LookPath == nil {
		return ""
	}
	self, err := env.Executable()
	if err != nil {
		return ""
	}
	if s, err := filepath.EvalSymlinks(self); err == nil {
		self = s
	}
	found, lookErr := env.LookPath("rcgen")
	if lookErr == nil && sameFile(found, self) {
		return ""
	}
	goRun := goRunBuild(self, getenv(env, "GOCACHE"))
	switch {
	case goRun && lookErr != nil:
		return "Note: rcgen is not on your PATH, and the commands above need it (this is a go run build): in this clone, make install puts it in $(go env GOPATH)/bin (or $GOBIN); put that directory on your PATH, or type go run ./cmd/rcgen, in the clone, for rcgen."
	case goRun:
		return fmt.Sprintf("Note: the commands above run the rcgen on your PATH (%s), not this go run build: in this clone, make install puts this one in $(go env GOPATH)/bin (or $GOBIN).", found)
	case lookErr != nil:
		return fmt.Sprintf("Note: rcgen is not on your PATH: type %s where the commands above say rcgen, or put it on the PATH (sudo install -m 0755 %s /usr/local/bin/rcgen).", shellArg(self), shellArg(self))
	default:
		return fmt.Sprintf("Note: the rcgen on your PATH (%s) is not this one: type %s where the commands above say rcgen, or put this one first on the PATH.", found, shellArg(self))
	}
}

// goRunBuild reports whether path is a binary go run built: in its
// temporary directory (go-build*/b001/exe/NAME) or, since Go 1.24, in the
// build cache (go-build/xx/HASH-d/NAME under the user's cache directory,
// or under gocache, $GOCACHE).
func goRunBuild(path, gocache string) bool {
	if gocache != "" {
		if rel, err := filepath.Rel(gocache, path); err == nil && !strings.HasPrefix(rel, "..") {
			return true
		}
	}
	for d := filepath.Dir(path); d != filepath.Dir(d); d = filepath.Dir(d) {
		if strings.HasPrefix(filepath.Base(d), "go-build") {
			return true
		}
	}
	return false
}

// sameFile reports whether a and b are one file (links resolved).
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// getenv reads the environment, or "" without one.
func getenv(env Env, key string) string {
	if env.Getenv == nil {
		return ""
	}
	return env.Getenv(key)
}
