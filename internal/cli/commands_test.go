package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kballard/go-shellquote"
	"github.com/spf13/cobra"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// printed is one rcgen command rcgen printed: where, and the line as printed.
type printed struct {
	where, line string
	// mention is a bare `rcgen SUBCOMMAND` in prose: it names a command
	// (which must exist) rather than giving a command line to run.
	mention bool
}

// readmeCommands returns every rcgen command of a deployment README: the
// lines of its code blocks that start with rcgen (joined over trailing
// backslashes, as a shell joins them), and its inline code spans that do.
func readmeCommands(where, md string) []printed {
	var out []printed
	inBlock := false
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "```") {
			inBlock = !inBlock
			continue
		}
		if inBlock {
			if l != "rcgen" && !strings.HasPrefix(l, "rcgen ") {
				continue
			}
			for strings.HasSuffix(l, `\`) && i+1 < len(lines) {
				i++
				l = strings.TrimSuffix(l, `\`) + strings.TrimSpace(lines[i])
			}
			out = append(out, printed{where: where, line: l})
			continue
		}
		for _, m := range inlineSpan.FindAllStringSubmatch(l, -1) {
			out = append(out, printed{where: where, line: m[1], mention: len(strings.Fields(m[1])) == 2})
		}
	}
	return out
}

var inlineSpan = regexp.MustCompile("`(rcgen(?: [^`]*)?)`")

// summaryCommands returns the rcgen commands in what rcgen printed on
// stderr besides the diff of the files: from "rcgen SUBCOMMAND" to the end
// of the line, a closing parenthesis or backtick, without a sentence's
// final full stop.
func summaryCommands(where, stderr string, subcommands []string) []printed {
	re := regexp.MustCompile(`rcgen (?:` + strings.Join(subcommands, "|") + `)\b[^)\x60\n]*`)
	var out []printed
	for _, l := range strings.Split(stderr, "\n") {
		if l == "" || strings.ContainsAny(l[:1], "+- @") {
			continue // the diff: the files' content, checked as READMEs
		}
		for _, m := range re.FindAllString(l, -1) {
			out = append(out, printed{where: where, line: strings.TrimSuffix(strings.TrimSpace(m), ".")})
		}
	}
	return out
}

// placeholders stand for what the reader fills in.
var placeholders = map[string]string{
	"VERSION": newestDeployable(),
	"NAME":    "rocketchat-20260101T030000Z-manual.tar",
	"DIR":     ".",
}

// shellWords splits a command line exactly as a POSIX shell would: quotes,
// escapes, and a word starting with # beginning a comment.
func shellWords(line string) ([]string, error) {
	words, err := shellquote.Split(line)
	if err != nil {
		return nil, err
	}
	// shellquote has no comments; a # only starts one at a word's start,
	// unquoted, which is what rcgen prints (`rcgen backup   # one now`).
	for i, w := range words {
		if strings.HasPrefix(w, "#") && strings.Contains(line, " "+w) {
			return words[:i], nil
		}
	}
	return words, nil
}

// commandEnv is a host overridden to 8 cores and 16GiB, no terminal, no
// environment, and no host checks: nothing outside the test's directory.
func commandEnv(out, errOut *bytes.Buffer) Env {
	return Env{
		IO: IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut},
		Detect: func() (sizing.Host, error) {
			return sizing.Host{CPUs: 8, CPUSource: "test", Memory: 16 * spec.GiB, MemorySource: "test"}, nil
		},
		Getenv: func(string) string { return "" },
	}
}

// runPrinted runs one printed command in the current directory through
// rcgen's command tree. generate runs whole, with --dry-run, and must
// change nothing when reproduce is set; plan and versions run whole (they
// write nothing); the day-two commands and doctor, which would reach Docker
// or this machine, are parsed, their arguments checked and their PreRunE
// run, but not their work.
func runPrinted(c printed, reproduce bool) error {
	words, err := shellWords(c.line)
	if err != nil {
		return fmt.Errorf("%s: %s does not split as a shell would split it: %v", c.where, c.line, err)
	}
	if len(words) < 2 || words[0] != "rcgen" {
		return fmt.Errorf("%s: %s is not an rcgen command", c.where, c.line)
	}
	for i, w := range words {
		if placeholder.MatchString(w) {
			v, ok := placeholders[w]
			if !ok {
				return fmt.Errorf("%s: %s: placeholder %s has no stand-in value in this test", c.where, c.line, w)
			}
			words[i] = v
		}
	}
	args := words[1:]
	var out, errOut bytes.Buffer
	root := NewRootCmd(commandEnv(&out, &errOut))
	cmd, _, err := root.Find(args)
	if err != nil || cmd == root {
		return fmt.Errorf("%s: %s: rcgen has no command %q (%v)", c.where, c.line, args[0], err)
	}
	if c.mention {
		return nil
	}
	switch cmd.Name() {
	case "generate":
		args = append(args, "--dry-run")
	case "plan", "versions":
	default:
		cmd.RunE = func(*cobra.Command, []string) error { return nil }
	}
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		return fmt.Errorf("%s: %s fails as printed: %v\n%s", c.where, c.line, err, errOut.String())
	}
	if reproduce && cmd.Name() == "generate" && !strings.Contains(out.String(), "Nothing to change") {
		return fmt.Errorf("%s: %s does not reproduce the deployment it is printed in:\n%s%s", c.where, c.line, out.String(), errOut.String())
	}
	return nil
}

var placeholder = regexp.MustCompile(`^[A-Z][A-Z_]{2,}$`)

// copyTree copies a deployment tree into dir.
func copyTree(t *testing.T, from, dir string) {
	t.Helper()
	if err := os.CopyFS(dir, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// TestPrintedCommandsRun: every rcgen command a generated README shows
// (the golden trees and the examples, both targets) and every one rcgen's
// summary prints runs as printed: split as a shell splits it, through
// rcgen's real command tree, in the deployment's directory, its answers
// valid; a README's re-run command reproduces the deployment it is in.
func TestPrintedCommandsRun(t *testing.T) {
	var subcommands []string
	for _, c := range NewRootCmd(Env{}).Commands() {
		subcommands = append(subcommands, c.Name())
	}

	examples, err := filepath.Glob(filepath.Join("..", "..", "examples", "*", render.ReadmeFile))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	kinds := map[string]bool{}
	for _, readme := range examples {
		dir := filepath.Dir(readme)
		name := filepath.Base(dir)
		t.Run("examples/"+name, func(t *testing.T) {
			// The deployment a user gets from these answers: the answers
			// file and what it names, generated for real (the committed
			// example's secrets are placeholders rcgen will not re-run on).
			work := filepath.Join(t.TempDir(), name)
			if err := os.MkdirAll(work, 0o755); err != nil {
				t.Fatal(err)
			}
			inputs := []string{spec.FileName}
			if matches, _ := filepath.Glob(filepath.Join(dir, "*.license")); len(matches) > 0 {
				inputs = append(inputs, filepath.Base(matches[0]))
			}
			for _, in := range inputs {
				if err := os.WriteFile(filepath.Join(work, in), read(t, filepath.Join(dir, in)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var out, errOut bytes.Buffer
			if code := Run(context.Background(), commandEnv(&out, &errOut), []string{"generate", "--yes", "--new-mongodb-secrets", "--out", work}); code != 0 {
				t.Fatalf("generate: exit %d\n%s", code, errOut.String())
			}
			kinds[render.ComposeFile] = kinds[render.ComposeFile] || exists(filepath.Join(work, render.ComposeFile))
			kinds[render.StackFile] = kinds[render.StackFile] || exists(filepath.Join(work, render.StackFile))
			// The committed example's README and the one this rcgen writes
			// for the same answers (the same commands, unless one is stale).
			cmds := readmeCommands("examples/"+name+"/README.md", string(read(t, readme)))
			for _, c := range readmeCommands("the README generate writes for examples/"+name, string(read(t, filepath.Join(work, render.ReadmeFile)))) {
				if !slices.ContainsFunc(cmds, func(o printed) bool { return o.line == c.line }) {
					cmds = append(cmds, c)
				}
			}
			cmds = append(cmds, summaryCommands("the summary of generate --out "+name, out.String()+errOut.String(), subcommands)...)
			if !slices.ContainsFunc(cmds, func(c printed) bool { return strings.HasPrefix(c.line, "rcgen generate ") }) {
				t.Fatalf("examples/%s/README.md shows no re-run command", name)
			}
			t.Chdir(work)
			for _, c := range cmds {
				if err := runPrinted(c, true); err != nil {
					t.Error(err)
				}
				t.Logf("%s: %s", c.where, c.line)
			}
		})
	}
	if !kinds[render.ComposeFile] || !kinds[render.StackFile] {
		t.Errorf("the examples do not cover both targets: %v", kinds)
	}

	goldens, err := filepath.Glob(filepath.Join("..", "render", "testdata", "golden", "*", render.ReadmeFile))
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no golden trees found: %v", err)
	}
	for _, readme := range goldens {
		dir := filepath.Dir(readme)
		name := filepath.Base(dir)
		t.Run("golden/"+name, func(t *testing.T) {
			work := filepath.Join(t.TempDir(), name)
			copyTree(t, dir, work)
			// What its answers name beside it (an own certificate).
			layer, err := spec.ParseFile(spec.FileName, read(t, filepath.Join(work, spec.FileName)), "")
			if err != nil {
				t.Fatal(err)
			}
			a, _, err := spec.Resolve(layer)
			if err != nil {
				t.Fatal(err)
			}
			for named, from := range map[string]string{a.TLSCert: render.TLSCertFile, a.TLSKey: render.TLSKeyFile} {
				if named == "" {
					continue
				}
				if err := os.MkdirAll(filepath.Dir(filepath.Join(work, named)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(work, named), read(t, filepath.Join(work, from)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cmds := readmeCommands("golden/"+name+"/README.md", string(read(t, readme)))
			t.Chdir(work)
			// The golden trees' re-run command is the render test's stand-in,
			// and their files say "rcgen test": run, not reproduced.
			for _, c := range cmds {
				if err := runPrinted(c, false); err != nil {
					t.Error(err)
				}
				t.Logf("%s: %s", c.where, c.line)
			}
		})
	}
}

// TestPrintedCommandsCatchOneWordForSeveralFlags: the check above fails on
// the command the Swarm README used to print, the nodes quoted as one word,
// and on a flag or command rcgen does not have.
func TestPrintedCommandsCatchOneWordForSeveralFlags(t *testing.T) {
	t.Chdir(t.TempDir())
	for line, want := range map[string]string{
		"rcgen generate --out . --target swarm --node 'node-1=4:8GiB node-2=4:8GiB node-3=4:8GiB' --domain chat.example.com --email admin@example.com --mongodb-members 3": `--node: "node-1=4:8GiB node-2=4:8GiB node-3=4:8GiB"`,
		"rcgen backup --colour":    "unknown flag: --colour",
		"rcgen restore":            "takes one backup",
		"rcgen upgrade --to":       "flag needs an argument",
		"rcgen backups list":       `rcgen has no command "backups"`,
		"rcgen upgrade --to TAG":   "placeholder TAG has no stand-in",
		"rcgen plan --cpus 'four'": "--cpus",
	} {
		err := runPrinted(printed{where: "test", line: line}, false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", line, err, want)
		}
	}
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// newestDeployable is the newest release rcgen deploys: what a user would
// give an upgrade's --to.
func newestDeployable() string {
	rs := catalog.DeployableReleases()
	return rs[len(rs)-1].Latest
}
