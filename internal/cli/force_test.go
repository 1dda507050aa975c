package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestForceRefusesNamesOfOtherCommands: every command that takes --force
// refuses, before doing anything, a name only other commands use (such as
// restore --force=cpu), naming the flag and the names it does accept.
func TestForceRefusesNamesOfOtherCommands(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "d")
	tarball := filepath.Join(dir, "b.tar")
	// The commands that take --force, run so that only --force is wrong.
	args := map[string][]string{
		"generate": {"generate", "--yes", "--out", out},
		"plan":     {"plan"},
		"restore":  {"restore", tarball, "--dir", out},
		"upgrade":  {"upgrade", "--dir", out, "--to", "8.8.1"},
	}
	accepts := map[string][]string{}
	var all []string
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if fl := c.Flags().Lookup("force"); fl != nil {
			names := fl.Annotations[forceNamesAnnotation]
			accepts[c.Name()] = names
			all = append(all, names...)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRootCmd(Env{}))
	for cmd := range accepts {
		if args[cmd] == nil {
			t.Errorf("rcgen %s takes --force: add it to this test", cmd)
		}
	}
	for cmd, names := range accepts {
		for _, other := range all {
			if slices.Contains(names, other) {
				continue
			}
			t.Run(cmd+" --force="+other, func(t *testing.T) {
				r := run(t, append(slices.Clone(args[cmd]), "--force="+other)...)
				want := []string{`"--force"`, `"` + other + `" is nothing --force can accept here`, "see rcgen " + cmd + " --help"}
				for _, n := range names {
					want = append(want, n)
				}
				if r.code != 2 {
					t.Errorf("exit %d, want 2: %s", r.code, r.stderr)
				}
				for _, w := range want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
					}
				}
				if _, err := os.Stat(out); !os.IsNotExist(err) {
					t.Errorf("%s was written (%v)", out, err)
				}
			})
		}
	}
	// Several names: all must be the command's own.
	r := run(t, "generate", "--yes", "--out", out, "--force=cpu,no-backup")
	if r.code != 2 || !strings.Contains(r.stderr, `"no-backup" is nothing --force can accept here: name one or more of directory, memory, older-rcgen, member-node, target, namespace, storage-class, cpu, architecture`) {
		t.Errorf("generate --force=cpu,no-backup: exit %d: %s", r.code, r.stderr)
	}
}
