package render_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
)

// TestUserCountsAreNotDoubleCounted evaluates the overview's user counts
// with promtool on two processes: 3 users connected to the first, 2 to the
// second, some possibly on both (a phone and a browser), and the statistics
// snapshot every process reports alike (4 users online). A count that sums
// what each process counts would show a user on two processes twice: the
// connected users are shown as their bounds (3 to 5, whatever the overlap),
// and the snapshot once (4, not 8).
func TestUserCountsAreNotDoubleCounted(t *testing.T) {
	rendertest.Need(t)
	dash, err := render.Dashboards(1, true)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := dash.Get("grafana/dashboards/rocketchat.json")
	if !ok {
		t.Fatal("no overview dashboard")
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr         string `json:"expr"`
				LegendFormat string `json:"legendFormat"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(f.Content, &d); err != nil {
		t.Fatal(err)
	}
	// What each user-count panel must show, by legend.
	want := map[string]map[string]float64{
		"Users connected":                 {"at least": 3, "at most": 5},
		"Users online (daily statistics)": {"online": 4},
	}
	var tests strings.Builder
	for _, p := range d.Panels {
		w, counted := want[p.Title]
		reads := false
		for _, tg := range p.Targets {
			reads = reads || strings.Contains(tg.Expr, "rocketchat_ddp_connected_users") || strings.Contains(tg.Expr, "rocketchat_users_")
		}
		if !counted {
			if reads {
				t.Errorf("panel %q counts users but this test does not know what it must show", p.Title)
			}
			continue
		}
		delete(want, p.Title)
		legends := map[string]bool{}
		for _, tg := range p.Targets {
			v, ok := w[tg.LegendFormat]
			if !ok {
				t.Errorf("panel %q: a value labelled %q (%s); want exactly %v", p.Title, tg.LegendFormat, tg.Expr, w)
				continue
			}
			legends[tg.LegendFormat] = true
			fmt.Fprintf(&tests, "      - expr: '%s'\n        eval_time: 1m\n        exp_samples:\n          - labels: '{}'\n            value: %g\n", tg.Expr, v)
		}
		if len(legends) != len(w) {
			t.Errorf("panel %q shows %v; want %v", p.Title, legends, w)
		}
	}
	for title := range want {
		t.Errorf("no panel %q", title)
	}
	dir := t.TempDir()
	rules := filepath.Join(dir, "none.yml")
	if err := os.WriteFile(rules, []byte("groups: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := `rule_files: [none.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'rocketchat_ddp_connected_users{job="rocketchat", instance="rocketchat-1:9458"}'
        values: '3 3'
      - series: 'rocketchat_ddp_connected_users{job="rocketchat", instance="rocketchat-2:9458"}'
        values: '2 2'
      - series: 'rocketchat_users_online{job="rocketchat", instance="rocketchat-1:9458"}'
        values: '4 4'
      - series: 'rocketchat_users_online{job="rocketchat", instance="rocketchat-2:9458"}'
        values: '4 4'
    promql_expr_test:
` + tests.String()
	path := filepath.Join(dir, "users-test.yml")
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("promtool", "test", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool test rules: %v\n%s\n%s", err, out, file)
	}
}

// TestDashboardsLinkToTheLogs: the overview and MongoDB dashboards link to
// the logs dashboard over the same time range, by the tag only the logs
// dashboard carries (so where logs are off the link lists nothing).
func TestDashboardsLinkToTheLogs(t *testing.T) {
	type link struct {
		Type     string   `json:"type"`
		Tags     []string `json:"tags"`
		KeepTime bool     `json:"keepTime"`
	}
	type dash struct {
		UID   string   `json:"uid"`
		Tags  []string `json:"tags"`
		Links []link   `json:"links"`
	}
	logsFile, err := render.LogsDashboard()
	if err != nil {
		t.Fatal(err)
	}
	var logs dash
	if err := json.Unmarshal(logsFile.Content, &logs); err != nil {
		t.Fatal(err)
	}
	files, err := render.Dashboards(3, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		var d dash
		if err := json.Unmarshal(f.Content, &d); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, l := range d.Links {
			for _, tag := range l.Tags {
				if l.Type == "dashboards" && l.KeepTime && slices.Contains(logs.Tags, tag) && !slices.Contains(d.Tags, tag) {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s (%s) has no link to the logs dashboard's tag over the same time range: links %+v, logs tags %v", f.Path, d.UID, d.Links, logs.Tags)
		}
	}
}
