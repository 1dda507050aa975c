package render_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
)

// TestRealTools checks every profile's files with the programs that read
// them, laid out as the containers see them: promtool, caddy, yamllint,
// and node for the mongosh script.
func TestRealTools(t *testing.T) {
	rendertest.Need(t)
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			d, err := rendertest.Write(context.Background(), t.TempDir(), generate(t, p))
			if err != nil {
				t.Fatal(err)
			}
			for _, err := range d.All(filepath.Join("..", "..", ".yamllint.yaml")) {
				t.Error(err)
			}
		})
	}
}

// TestWrongMountFails moves a mount target and checks the tool run on the
// container's view then fails: the checks see what the container sees.
func TestWrongMountFails(t *testing.T) {
	rendertest.Need(t)
	files := slices.Clone(generate(t, profiles[0]))
	for i, f := range files {
		if f.Path == render.ComposeFile {
			files[i].Content = []byte(strings.Replace(string(f.Content), ":/etc/caddy/Caddyfile:ro", ":/etc/caddy/Caddyfile.txt:ro", 1))
		}
	}
	d, err := rendertest.Write(context.Background(), t.TempDir(), files)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Caddy(); err == nil || !strings.Contains(err.Error(), "caddy does not see /etc/caddy/Caddyfile") {
		t.Errorf("Caddy() with the Caddyfile mounted elsewhere = %v", err)
	}
}

// TestAlertRules runs promtool's rule unit tests (testdata/rules-tests.yml)
// against the rules rcgen renders for the medium profile.
func TestAlertRules(t *testing.T) {
	rendertest.Need(t)
	d, err := rendertest.Write(context.Background(), t.TempDir(), generate(t, profiles[1]))
	if err != nil {
		t.Fatal(err)
	}
	dir := d.Dir
	tests, err := os.ReadFile(filepath.Join("testdata", "rules-tests.yml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "prometheus", "rules-tests.yml")
	if err := os.WriteFile(path, tests, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("promtool", "test", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// TestDashboardQueriesParse feeds every PromQL expression of the dashboard
// to the real PromQL parser, as recording rules checked by promtool, and
// checks every panel uses the provisioned datasource.
func TestDashboardQueriesParse(t *testing.T) {
	rendertest.Need(t)
	dashboards, err := render.Dashboards(3, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(dashboards) < 3 {
		t.Fatalf("%d dashboards; want the overview, MongoDB and the host", len(dashboards))
	}
	var exprs []string
	for _, f := range dashboards {
		var dash struct {
			Panels []struct {
				Title      string `json:"title"`
				Datasource struct {
					UID string `json:"uid"`
				} `json:"datasource"`
				Targets []struct {
					Expr       string `json:"expr"`
					Datasource struct {
						UID string `json:"uid"`
					} `json:"datasource"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(f.Content, &dash); err != nil {
			t.Fatalf("%s is not JSON: %v", f.Path, err)
		}
		if len(dash.Panels) == 0 {
			t.Errorf("%s has no panels", f.Path)
		}
		for _, p := range dash.Panels {
			if p.Datasource.UID != render.DatasourceUID {
				t.Errorf("%s: panel %q uses datasource %q, not the provisioned %q", f.Path, p.Title, p.Datasource.UID, render.DatasourceUID)
			}
			for _, tg := range p.Targets {
				if tg.Datasource.UID != render.DatasourceUID || tg.Expr == "" {
					t.Errorf("%s: a query of panel %q uses datasource %q (expr %q)", f.Path, p.Title, tg.Datasource.UID, tg.Expr)
				}
				exprs = append(exprs, tg.Expr)
			}
		}
	}

	// Every expression, as a recording rule, through the real PromQL parser.
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		e = strings.ReplaceAll(e, "$instance", ".*")
		b.WriteString("      - record: rcgen:dashboard_query_" + strconv.Itoa(i) + "\n")
		b.WriteString("        expr: " + strconv.Quote(e) + "\n")
	}
	path := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("promtool", "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool rejects a dashboard query: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "SUCCESS: "+strconv.Itoa(len(exprs))+" rules found") {
		t.Errorf("promtool did not check all %d queries:\n%s", len(exprs), out)
	}
}
