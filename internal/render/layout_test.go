package render_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRenderNeverTouchesTheDisk: render renders and checks in memory; the
// deploy package owns the deployment directory. A non-test file of render
// importing os (or os/exec, io/ioutil) breaks that rule.
func TestRenderNeverTouchesTheDisk(t *testing.T) {
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "os" || path == "os/exec" || path == "io/ioutil" {
				t.Errorf("%s imports %s: render works in memory; reading or writing a deployment belongs in internal/deploy", name, path)
			}
		}
	}
}
