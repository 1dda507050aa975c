package render_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
)

// needTool returns the path of a real validator. A developer without it gets
// a loud skip; under CI=true a missing tool fails the test.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " is not installed (apt-get install " + pkg + "): the generated files are NOT checked by the real tool"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED: " + msg)
	return ""
}

// writeDeployment writes files to a temporary directory laid out as the
// containers see them: each mounted file at its mount path.
func writeDeployment(t *testing.T, files render.Files) string {
	t.Helper()
	dir := t.TempDir()
	if err := render.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPromtool runs `promtool check config` on every generated
// prometheus.yml.
func TestPromtool(t *testing.T) {
	promtool := needTool(t, "promtool", "prometheus")
	for _, p := range profiles {
		files := generate(t, p)
		if _, ok := files.Get(render.PrometheusFile); !ok {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			dir := writeDeployment(t, files)
			out, err := exec.Command(promtool, "check", "config", filepath.Join(dir, render.PrometheusFile)).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool rejects %s: %v\n%s", render.PrometheusFile, err, out)
			}
		})
	}
}

// TestCaddyValidate runs `caddy validate` on every generated Caddyfile with
// the environment the caddy container gets from compose.
func TestCaddyValidate(t *testing.T) {
	caddy := needTool(t, "caddy", "caddy")
	for _, p := range profiles {
		files := generate(t, p)
		if _, ok := files.Get(render.CaddyFile); !ok {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			dir := writeDeployment(t, files)
			project := load(t, files)
			// Run the Caddyfile as the container sees it: every path the
			// caddy service mounts points at the file rcgen wrote.
			caddyfile := string(mustGet(t, files, render.CaddyFile).Content)
			for _, v := range project.Services["caddy"].Volumes {
				if v.Type == "bind" && v.Target != "/etc/caddy/Caddyfile" {
					rel := strings.TrimPrefix(v.Source, "/rcgen-check/")
					caddyfile = strings.ReplaceAll(caddyfile, v.Target+"/", filepath.Join(dir, rel)+"/")
				}
			}
			if err := os.WriteFile(filepath.Join(dir, render.CaddyFile), []byte(caddyfile), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(caddy, "validate", "--adapter", "caddyfile", "--config", filepath.Join(dir, render.CaddyFile))
			cmd.Env = []string{"HOME=" + dir, "XDG_DATA_HOME=" + dir, "XDG_CONFIG_HOME=" + dir}
			for k, v := range project.Services["caddy"].Environment {
				cmd.Env = append(cmd.Env, k+"="+*v)
			}
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "Valid configuration") {
				t.Fatalf("caddy rejects %s: %v\n%s", render.CaddyFile, err, out)
			}
		})
	}
}

// TestMongoInitScriptParses checks the replica set script is valid
// JavaScript with node, the engine mongosh is built on.
func TestMongoInitScriptParses(t *testing.T) {
	node := needTool(t, "node", "nodejs")
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			dir := writeDeployment(t, generate(t, p))
			out, err := exec.Command(node, "--check", filepath.Join(dir, render.MongoInitFile)).CombinedOutput()
			if err != nil {
				t.Fatalf("node --check rejects %s: %v\n%s", render.MongoInitFile, err, out)
			}
		})
	}
}

// TestDashboardQueriesParse feeds every PromQL expression of the dashboard
// to the real PromQL parser, as recording rules checked by promtool, and
// checks every panel uses the provisioned datasource.
func TestDashboardQueriesParse(t *testing.T) {
	promtool := needTool(t, "promtool", "prometheus")
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, q := range render.DashboardQueries() {
		expr := strings.ReplaceAll(q.Expr, "$instance", ".*")
		b.WriteString("      - record: rcgen:dashboard_query_" + strconv.Itoa(i) + "\n")
		b.WriteString("        expr: " + render.YAMLQuote(expr) + "\n")
	}
	path := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool rejects a dashboard query: %v\n%s", err, out)
	}

	raw, err := render.Dashboard()
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title      string `json:"title"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Datasource struct {
					UID string `json:"uid"`
				} `json:"datasource"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	if len(dash.Panels) == 0 {
		t.Fatal("dashboard has no panels")
	}
	for _, p := range dash.Panels {
		if p.Datasource.UID != render.DatasourceUID {
			t.Errorf("panel %q uses datasource %q, not the provisioned %q", p.Title, p.Datasource.UID, render.DatasourceUID)
		}
		for _, tg := range p.Targets {
			if tg.Datasource.UID != render.DatasourceUID {
				t.Errorf("a query of panel %q uses datasource %q", p.Title, tg.Datasource.UID)
			}
		}
	}
}

// TestYamllint lints every generated YAML file with the repository's
// .yamllint.yaml.
func TestYamllint(t *testing.T) {
	yamllint := needTool(t, "yamllint", "yamllint")
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			files := generate(t, p)
			dir := writeDeployment(t, files)
			args := []string{"-s", "-f", "parsable", "-c", filepath.Join("..", "..", ".yamllint.yaml")}
			for _, f := range files {
				if strings.HasSuffix(f.Path, ".yaml") || strings.HasSuffix(f.Path, ".yml") {
					args = append(args, filepath.Join(dir, f.Path))
				}
			}
			out, err := exec.Command(yamllint, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("yamllint: %v\n%s", err, out)
			}
		})
	}
}
