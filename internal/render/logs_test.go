package render_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
)

// TestCollectorConfigValidates runs the real collector's `validate` (at the
// image's release, tools/otelcol) on the collector configuration of every
// profile that has one, and of the Swarm stack.
func TestCollectorConfigValidates(t *testing.T) {
	bin := rendertest.NeedOtelcol(t)
	seen := 0
	check := func(name string, files render.Files) {
		f, ok := files.Get(render.OtelcolFile)
		if !ok {
			return
		}
		seen++
		if err := rendertest.Otelcol(bin, f.Content); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, p := range profiles {
		check(p.name, generate(t, p))
	}
	check("swarm", generateSwarm(t))
	if seen < 2 {
		t.Fatalf("only %d configurations had a collector: the profiles no longer turn logs on", seen)
	}
}

// TestLokiConfigIsChecked shows the strict model refuses what Loki would:
// a key Loki does not have, a key in the wrong block, retention without a
// store for delete requests, a schema without structured metadata.
func TestLokiConfigIsChecked(t *testing.T) {
	var loki []byte
	for _, p := range profiles {
		if f, ok := generate(t, p).Get(render.LokiFile); ok {
			loki = f.Content
			break
		}
	}
	if loki == nil {
		t.Fatal("no profile has Loki")
	}
	if err := render.CheckLoki(loki); err != nil {
		t.Fatalf("the generated configuration is refused: %v", err)
	}
	for _, c := range []struct{ name, old, new, want string }{
		{"unknown key", "  log_level: warn\n", "  log_level: warn\n  log_levle: warn\n", "log_levle"},
		{"key in the wrong block", "  volume_enabled: true\n", "  volume_enabled: true\n  retention_enabled: true\n", "retention_enabled"},
		{"no delete request store", "  delete_request_store: filesystem\n", "", "delete_request_store"},
		{"old schema", "schema: v13", "schema: v12", "v13"},
		{"bad retention", "retention_period: 7d", "retention_period: 7 days", "retention_period"},
	} {
		if !strings.Contains(string(loki), c.old) {
			t.Fatalf("%s: the configuration no longer has %q", c.name, c.old)
		}
		err := render.CheckLoki([]byte(strings.Replace(string(loki), c.old, c.new, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error naming %s", c.name, err, c.want)
		}
	}
}

// TestLogAlertRules runs promtool's rule unit tests for the alerts on what
// only the logs show (testdata/rules-logs-tests.yml) against the rules
// rcgen renders for the medium profile.
func TestLogAlertRules(t *testing.T) {
	rendertest.NeedTools(t, "promtool")
	var p profile
	for _, x := range profiles {
		if strings.HasPrefix(x.name, "medium-") {
			p = x
		}
	}
	files := generate(t, p)
	if _, ok := files.Get(render.OtelcolFile); !ok {
		t.Fatalf("profile %s runs no collector", p.name)
	}
	d, err := rendertest.Write(context.Background(), t.TempDir(), files)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join("testdata", "rules-logs-tests.yml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(d.Dir, "prometheus", "rules-logs-tests.yml")
	if err := os.WriteFile(path, tests, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("promtool", "test", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
