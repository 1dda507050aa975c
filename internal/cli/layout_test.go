package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rcgen/rcgen/internal/spec"
)

// rcgenFlags lists every flag of every rcgen command.
func rcgenFlags() map[string]bool {
	m := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { m[f.Name] = true })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRootCmd(Env{}))
	return m
}

// TestLowerLayersNameNoFlag: spec and sizing speak answer keys; only cli
// words them as flags, so a wizard user or someone editing rcgen.yaml
// never reads a flag they did not use.
func TestLowerLayersNameNoFlag(t *testing.T) {
	flags := rcgenFlags()
	for _, dir := range []string{"../spec", "../sizing", "../generate", "../deploy", "../doctor", "../catalog", "../upgrade", "../backup", "../stack"} {
		names, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		fset := token.NewFileSet()
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, _ := strconv.Unquote(lit.Value)
				if strings.Contains(s, "`rcgen ") {
					return true // a whole command shown to the reader, not an answer's name
				}
				for flag := range flags {
					if i := strings.Index(s, "--"+flag); i >= 0 {
						end := i + 2 + len(flag)
						if end == len(s) || !strings.ContainsAny(s[end:end+1], "abcdefghijklmnopqrstuvwxyz-") {
							t.Errorf("%s: %s names the flag --%s: carry the answer's key and let cli word it", fset.Position(lit.Pos()), lit.Value, flag)
						}
					}
				}
				return true
			})
		}
	}
}

// TestEveryAnswerHasOneFlag: each answer of the field list is settable by
// exactly one flag of generate, found by its key.
func TestEveryAnswerHasOneFlag(t *testing.T) {
	_, o := newGenerateCommand(Env{})
	for _, key := range spec.Keys() {
		flag, ok := o.flags.flagOf[key]
		if !ok {
			t.Errorf("answer %s has no flag: bind one in bindDeployment or bindSizing", key)
			continue
		}
		if o.flags.keyOf[flag] != key {
			t.Errorf("flag --%s does not map back to %s", flag, key)
		}
	}
}
