package render_test

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	gen "github.com/rcgen/rcgen/internal/generate"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// kubeData derives the template data of a deployment over three nodes of
// 8 cores and 16GiB (the Kubernetes target plans over an inventory of
// nodes, as Swarm does), licensed with that many app processes when
// processes > 1.
func kubeData(t testing.TB, members, processes int, edit func(*spec.Answers)) *render.Data {
	t.Helper()
	a := spec.Default()
	a.Target, a.Domain, a.Email, a.MongoDBMembers = spec.TargetKubernetes, "chat.example.com", "admin@example.com", members
	if processes > 1 {
		a.License, a.Processes = "TEST-LICENCE-NOT-REAL", processes
	}
	for _, n := range []string{"node-1=8:16GiB", "node-2=8:16GiB", "node-3=8:16GiB"} {
		if err := a.Nodes.Set(n); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		edit(&a)
	}
	a.KubeDefaults()
	if err := a.Validate(); err != nil {
		t.Fatalf("answers: %v", err)
	}
	plan, err := sizing.ComputeKube(a.Nodes, gen.Inputs(a, false))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	d, err := render.Derive(render.Input{Answers: a, Plan: plan, Secrets: fixedSecrets(t), RcgenVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func kubeOpts(monitoring string) render.KubeOptions {
	return render.KubeOptions{Namespace: "chat", Ingress: render.KubeIngressNginx, Monitoring: monitoring}
}

// kubeDocs decodes every document of a multi-document YAML file
// generically.
func kubeDocs(t testing.TB, b []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("not YAML: %v\n%s", err, b)
		}
		docs = append(docs, m)
	}
}

// dig walks a decoded document by keys (strings) and indexes (ints).
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

// strMap turns a decoded mapping of strings into a map[string]string.
func strMap(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, x := range m {
		s, _ := x.(string)
		out[k] = s
	}
	return out
}

func kubeFile(t testing.TB, files render.Files, path string) []map[string]any {
	t.Helper()
	f, ok := files.Get(path)
	if !ok {
		var have []string
		for _, f := range files {
			have = append(have, f.Path)
		}
		t.Fatalf("no %s among %v", path, have)
	}
	return kubeDocs(t, f.Content)
}

func TestKubeMonitoringOff(t *testing.T) {
	off := kubeData(t, 1, 1, func(a *spec.Answers) { a.Monitoring = false })
	on := kubeData(t, 1, 1, nil)
	for _, c := range []struct {
		name string
		d    *render.Data
		o    render.KubeOptions
	}{
		{"monitoring answered no", off, kubeOpts(render.KubeMonitoringOperator)},
		{"no kube_monitoring", on, kubeOpts("")},
	} {
		files, err := render.KubeMonitoringFiles(c.d, c.o)
		if err != nil || files != nil {
			t.Errorf("%s: %d files, %v; want none", c.name, len(files), err)
		}
	}
	if _, err := render.KubeMonitoringFiles(on, kubeOpts("both")); err == nil {
		t.Error("kube_monitoring both: no error")
	}
}

// TestKubeMonitorsSelectThePods checks the ServiceMonitors and the
// PodMonitor select the pods of the contract's labels on their metrics
// port, and give them the job labels the rules and dashboards select.
func TestKubeMonitorsSelectThePods(t *testing.T) {
	for _, c := range []struct {
		processes int
		want      map[string]string // kind/name -> job
	}{
		{1, map[string]string{"ServiceMonitor/rocketchat": "rocketchat", "ServiceMonitor/mongodb-exporter": "mongodb"}},
		{3, map[string]string{"ServiceMonitor/rocketchat": "rocketchat", "ServiceMonitor/mongodb-exporter": "mongodb", "PodMonitor/nats": "nats"}},
	} {
		d := kubeData(t, 3, c.processes, nil)
		files, err := render.KubeMonitoringFiles(d, kubeOpts(render.KubeMonitoringOperator))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, doc := range kubeFile(t, files, render.KubeServiceMonitorsFile) {
			kind, name := doc["kind"].(string), dig(doc, "metadata", "name").(string)
			if ns := dig(doc, "metadata", "namespace"); ns != "chat" {
				t.Errorf("%s/%s in namespace %v", kind, name, ns)
			}
			if sel := strMap(dig(doc, "spec", "selector", "matchLabels")); !maps.Equal(sel, render.KubeSelector(d.Answers.Project, name)) {
				t.Errorf("%s/%s selects %v, not the pods' %v", kind, name, sel, render.KubeSelector(d.Answers.Project, name))
			}
			eps := "endpoints"
			if kind == "PodMonitor" {
				eps = "podMetricsEndpoints"
			}
			ep := dig(doc, "spec", eps, 0)
			if dig(ep, "port") != render.KubePortMetrics {
				t.Errorf("%s/%s scrapes port %v, not %q", kind, name, dig(ep, "port"), render.KubePortMetrics)
			}
			for _, r := range dig(ep, "relabelings").([]any) {
				if dig(r, "targetLabel") == "job" {
					got[kind+"/"+name] = dig(r, "replacement").(string)
				}
			}
		}
		if !maps.Equal(got, c.want) {
			t.Errorf("%d processes: monitors and their jobs %v, want %v", c.processes, got, c.want)
		}
	}
}

// composeAndKube renders the medium profile (3 members, licensed) for the
// compose target, and derives the same answers' data for the Kubernetes
// objects: the rules depend on the plan only through the heap limit and
// the members, which the profile fixes.
func composeAndKube(t *testing.T, p profile) (render.Files, render.Files) {
	t.Helper()
	compose := generate(t, p)
	a := spec.Default()
	p.answers(&a)
	plan, err := sizing.Compute(p.host, gen.Inputs(a, false))
	if err != nil {
		t.Fatal(err)
	}
	d, err := render.Derive(render.Input{Answers: a, Plan: plan, Secrets: fixedSecrets(t), RcgenVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	kube, err := render.KubeMonitoringFiles(d, kubeOpts(render.KubeMonitoringOperator))
	if err != nil {
		t.Fatal(err)
	}
	return compose, kube
}

// ruleGroups returns spec.groups of the PrometheusRule as a rule file.
func ruleGroups(t *testing.T, kube render.Files) []byte {
	t.Helper()
	docs := kubeFile(t, kube, render.KubePrometheusRuleFile)
	if len(docs) != 1 || docs[0]["kind"] != "PrometheusRule" || docs[0]["apiVersion"] != "monitoring.coreos.com/v1" {
		t.Fatalf("%s is not one PrometheusRule: %v", render.KubePrometheusRuleFile, docs)
	}
	b, err := yaml.Marshal(map[string]any{"groups": dig(docs[0], "spec", "groups")})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKubePrometheusRuleIsComposeRules checks the PrometheusRule carries
// exactly the rule groups the compose target renders for the same
// answers, for one member and for three.
func TestKubePrometheusRuleIsComposeRules(t *testing.T) {
	for _, p := range []profile{profiles[0], profiles[1]} {
		t.Run(p.name, func(t *testing.T) {
			compose, kube := composeAndKube(t, p)
			want, ok := compose.Get(render.RulesFile)
			if !ok {
				t.Fatalf("the compose target has no %s", render.RulesFile)
			}
			var w, g map[string]any
			if err := yaml.Unmarshal(want.Content, &w); err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(ruleGroups(t, kube), &g); err != nil {
				t.Fatal(err)
			}
			// The backup rules read node exporter's textfile collector,
			// which the Kubernetes target does not run: they are the one
			// group left out.
			groups := asList(w["groups"])
			w["groups"] = slices.DeleteFunc(slices.Clone(groups), func(g any) bool { return dig(g, "name") == "backup" })
			if len(asList(w["groups"])) != len(groups)-1 {
				t.Errorf("the compose rules of %s have no backup group to leave out", p.name)
			}
			if !reflect.DeepEqual(w, g) {
				t.Errorf("the PrometheusRule's groups differ from %s:\n%s\nwant\n%s", render.RulesFile, ruleGroups(t, kube), want.Content)
			}
			if n := len(dig(w, "groups").([]any)); n < 4 {
				t.Errorf("only %d rule groups compared", n)
			}
		})
	}
}

// TestKubePrometheusRulePromtool runs the compose target's promtool rule
// tests (testdata/rules-tests.yml, for the medium profile) on the groups
// of the PrometheusRule: they apply unchanged.
func TestKubePrometheusRulePromtool(t *testing.T) {
	rendertest.NeedTools(t, "promtool")
	_, kube := composeAndKube(t, profiles[1])
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules", "rocketchat.yml"), ruleGroups(t, kube), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "rules-tests.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// Every test but those of the backup rules, which the Kubernetes
	// target leaves out (TestKubePrometheusRuleIsComposeRules).
	var suite map[string]any
	if err := yaml.Unmarshal(b, &suite); err != nil {
		t.Fatal(err)
	}
	var kept []any
	dropped := 0
	for _, tc := range asList(suite["tests"]) {
		m := tc.(map[string]any)
		rules := slices.DeleteFunc(slices.Clone(asList(m["alert_rule_test"])), func(r any) bool {
			return strings.HasPrefix(dig(r, "alertname").(string), "Backup")
		})
		dropped += len(asList(m["alert_rule_test"])) - len(rules)
		if len(rules) == 0 && m["promql_expr_test"] == nil {
			continue
		}
		m["alert_rule_test"] = rules
		kept = append(kept, m)
	}
	if dropped == 0 || len(kept) < 8 {
		t.Fatalf("kept %d tests, dropped %d backup checks", len(kept), dropped)
	}
	suite["tests"] = kept
	tests, err := yaml.Marshal(suite)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rules-tests.yml")
	if err := os.WriteFile(path, tests, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("promtool", "test", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules on the PrometheusRule's groups: %v\n%s", err, out)
	}
}

// TestKubeDashboardConfigMaps checks every dashboard is a ConfigMap the
// Grafana sidecar loads, holding the dashboard as the compose target's.
func TestKubeDashboardConfigMaps(t *testing.T) {
	d := kubeData(t, 3, 1, nil)
	files, err := render.KubeMonitoringFiles(d, kubeOpts(render.KubeMonitoringOperator))
	if err != nil {
		t.Fatal(err)
	}
	want, err := render.Dashboards(3, d.Has(sizing.Backup))
	if err != nil {
		t.Fatal(err)
	}
	docs := kubeFile(t, files, render.KubeDashboardsFile)
	if len(docs) != len(want) {
		t.Fatalf("%d ConfigMaps for %d dashboards", len(docs), len(want))
	}
	for i, doc := range docs {
		if doc["kind"] != "ConfigMap" || strMap(dig(doc, "metadata", "labels"))[render.GrafanaDashboardLabel] != "1" {
			t.Errorf("document %d is not a ConfigMap labelled %s: \"1\": %v", i, render.GrafanaDashboardLabel, doc["metadata"])
		}
		key := filepath.Base(want[i].Path)
		if got := dig(doc, "data", key); got != string(want[i].Content) {
			t.Errorf("ConfigMap %v does not hold %s as rendered", dig(doc, "metadata", "name"), key)
		}
	}
}

// containers lists every container of the pod templates in docs.
func containers(docs []map[string]any) map[string]any {
	out := map[string]any{}
	for _, doc := range docs {
		for _, c := range asList(dig(doc, "spec", "template", "spec", "containers")) {
			out[dig(c, "name").(string)] = c
		}
	}
	return out
}

func asList(v any) []any { l, _ := v.([]any); return l }

// TestKubeBundledMonitoring checks rcgen's own Prometheus and Grafana:
// sized by the plan, restricted securityContexts without a fixed user,
// ClusterIP Services selecting their pods, every ConfigMap and Secret they
// mount or read, and a prometheus.yml promtool accepts.
func TestKubeBundledMonitoring(t *testing.T) {
	d := kubeData(t, 3, 3, nil)
	files, err := render.KubeMonitoringFiles(d, kubeOpts(render.KubeMonitoringBundled))
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	for _, f := range files {
		docs = append(docs, kubeDocs(t, f.Content)...)
	}
	configMaps, podLabels := map[string]map[string]any{}, map[string]map[string]string{}
	for _, doc := range docs {
		name, _ := dig(doc, "metadata", "name").(string)
		switch doc["kind"] {
		case "ConfigMap":
			configMaps[name], _ = doc["data"].(map[string]any)
		case "Deployment", "StatefulSet":
			podLabels[name] = strMap(dig(doc, "spec", "template", "metadata", "labels"))
			sel := strMap(dig(doc, "spec", "selector", "matchLabels"))
			if !maps.Equal(sel, render.KubeSelector(d.Answers.Project, name)) {
				t.Errorf("%s selects %v", name, sel)
			}
			pod := dig(doc, "spec", "template", "spec")
			// Every pod runs as non-root, which the kubelet checks; prom/prometheus
			// names its user (nobody), so its pod gives nobody's number.
			if dig(pod, "securityContext", "runAsNonRoot") != true {
				t.Errorf("%s: pod securityContext %v: want runAsNonRoot", name, dig(pod, "securityContext"))
			}
			if name == render.KubePrometheus && dig(pod, "securityContext", "runAsUser") != 65534 {
				t.Errorf("%s: pod securityContext %v: want runAsUser 65534 (nobody, the image's user by name)", name, dig(pod, "securityContext"))
			}
			for _, v := range asList(dig(pod, "volumes")) {
				if cm := dig(v, "configMap", "name"); cm != nil {
					defer func(cm string) {
						if configMaps[cm] == nil {
							t.Errorf("%s mounts ConfigMap %s, which is not generated", name, cm)
						}
					}(cm.(string))
				}
				if dig(v, "hostPath") != nil {
					t.Errorf("%s mounts a hostPath", name)
				}
			}
		case "Service":
			if dig(doc, "spec", "type") != "ClusterIP" {
				t.Errorf("Service %s is %v, not ClusterIP", name, dig(doc, "spec", "type"))
			}
		}
	}
	for _, doc := range docs {
		if doc["kind"] != "Service" {
			continue
		}
		name := dig(doc, "metadata", "name").(string)
		sel := strMap(dig(doc, "spec", "selector"))
		pods, ok := podLabels[name]
		if !ok || len(sel) == 0 {
			t.Errorf("Service %s selects no pod template of its own", name)
		}
		for k, v := range sel {
			if pods[k] != v {
				t.Errorf("Service %s selects %s=%s, which its pods do not carry", name, k, v)
			}
		}
	}

	cs := containers(docs)
	for name, budget := range map[string]string{render.KubePrometheus: d.Budgets[sizing.Prometheus], render.KubeGrafana: d.Budgets[sizing.Grafana]} {
		c := cs[name]
		if c == nil {
			t.Fatalf("no %s container", name)
		}
		limit, request := dig(c, "resources", "limits", "memory"), dig(c, "resources", "requests", "memory")
		want := strings.TrimSuffix(budget, "m") + "Mi"
		if limit != want || request != want {
			t.Errorf("%s: memory request %v, limit %v; want both the plan's %s", name, request, limit, want)
		}
		sc := dig(c, "securityContext")
		if dig(sc, "runAsUser") != nil || dig(sc, "allowPrivilegeEscalation") != false || dig(sc, "privileged") == true ||
			!slices.Equal(asList(dig(sc, "capabilities", "drop")), []any{"ALL"}) || dig(sc, "seccompProfile", "type") != "RuntimeDefault" {
			t.Errorf("%s: securityContext %v is not restricted", name, sc)
		}
	}
	env := asList(dig(cs[render.KubeGrafana], "env"))
	found := false
	for _, e := range env {
		if dig(e, "name") == "GF_SECURITY_ADMIN_PASSWORD" {
			found = dig(e, "valueFrom", "secretKeyRef", "name") == render.KubeGrafanaSecret && dig(e, "valueFrom", "secretKeyRef", "key") == render.KubeGrafanaPasswordKey
		}
	}
	if !found {
		t.Errorf("Grafana does not read its admin password from Secret %s, key %s: %v", render.KubeGrafanaSecret, render.KubeGrafanaPasswordKey, env)
	}

	// prometheus.yml and its rules, as promtool checks them.
	rendertest.NeedTools(t, "promtool")
	dir := t.TempDir()
	cfg, _ := configMaps["prometheus-config"]["prometheus.yml"].(string)
	rules, _ := configMaps["prometheus-rules"]["rocketchat.yml"].(string)
	cfg = strings.ReplaceAll(cfg, "/etc/prometheus/rules/", dir+"/rules/")
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	for path, content := range map[string]string{"prometheus.yml": cfg, "rules/rocketchat.yml": rules} {
		if err := os.WriteFile(filepath.Join(dir, path), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("promtool", "check", "config", filepath.Join(dir, "prometheus.yml")).CombinedOutput()
	if err != nil && strings.Contains(string(out), "field kubernetes_sd_configs not found") {
		// Debian's promtool is built without Kubernetes service discovery
		// (its client libraries are not packaged): check everything else
		// of the file, with each job's kubernetes_sd_configs, checked
		// here, replaced by a static target.
		t.Logf("LOUD: this promtool (%s) knows no kubernetes_sd_configs: those blocks are checked by this test only", strings.TrimSpace(strings.SplitN(promtoolVersion(), "\n", 2)[0]))
		var m map[string]any
		if err := yaml.Unmarshal([]byte(cfg), &m); err != nil {
			t.Fatal(err)
		}
		for _, job := range asList(m["scrape_configs"]) {
			j := job.(map[string]any)
			sd := asList(j["kubernetes_sd_configs"])
			if sd == nil {
				continue
			}
			if len(sd) != 1 || !slices.Contains([]any{"endpoints", "pod"}, dig(sd[0], "role")) || !slices.Equal(asList(dig(sd[0], "namespaces", "names")), []any{"chat"}) {
				t.Errorf("job %v: kubernetes_sd_configs %v: want one, role endpoints or pod, in namespace chat only", j["job_name"], sd)
			}
			delete(j, "kubernetes_sd_configs")
			j["static_configs"] = []any{map[string]any{"targets": []any{"localhost:1"}}}
		}
		b, merr := yaml.Marshal(m)
		if merr != nil {
			t.Fatal(merr)
		}
		if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err = exec.Command("promtool", "check", "config", filepath.Join(dir, "prometheus.yml")).CombinedOutput()
	}
	if err != nil {
		t.Fatalf("promtool check config: %v\n%s\n%s", err, out, cfg)
	}
	if !strings.Contains(string(out), "SUCCESS: 1 rule files found") {
		t.Errorf("promtool did not check the rules:\n%s", out)
	}
	for _, job := range []string{"job_name: rocketchat", "job_name: mongodb", "job_name: nats", "role: endpoints", "role: pod", "- chat\n"} {
		if !strings.Contains(cfg, job) {
			t.Errorf("prometheus.yml lacks %q:\n%s", job, cfg)
		}
	}
}

// TestKubeMonitoringYamllint runs yamllint with the repository's rules on
// every monitoring file, NetworkPolicies and Helm values.
func TestKubeMonitoringYamllint(t *testing.T) {
	rendertest.NeedTools(t, "yamllint")
	dir := t.TempDir()
	var paths []string
	for _, m := range []string{render.KubeMonitoringOperator, render.KubeMonitoringBundled} {
		d := kubeData(t, 3, 3, nil)
		o := kubeOpts(m)
		files, err := render.KubeMonitoringFiles(d, o)
		if err != nil {
			t.Fatal(err)
		}
		np, err := render.KubeNetworkPolicyFiles(d, o)
		if err != nil {
			t.Fatal(err)
		}
		helm, err := render.HelmValuesFile(d, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range append(append(files, np...), helm) {
			p := filepath.Join(dir, m, f.Path)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f.Content, 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
	}
	// The dashboards are JSON in a block scalar: a panel's description is
	// one long line there as in grafana/dashboards/*.json, which no YAML
	// rule reads. Only line-length is relaxed, only for those files.
	conf, err := filepath.Abs(filepath.Join("..", "..", ".yamllint.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	relaxed := filepath.Join(dir, "relaxed.yaml")
	if err := os.WriteFile(relaxed, []byte("extends: "+conf+"\nrules:\n  line-length: disable\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var strict, dash []string
	for _, p := range paths {
		if strings.HasSuffix(p, render.KubeDashboardsFile) || strings.HasSuffix(p, render.KubeGrafanaFile) {
			dash = append(dash, p)
		} else {
			strict = append(strict, p)
		}
	}
	for _, run := range []struct {
		conf  string
		files []string
	}{{conf, strict}, {relaxed, dash}} {
		if out, err := exec.Command("yamllint", append([]string{"-s", "-c", run.conf}, run.files...)...).CombinedOutput(); err != nil {
			t.Errorf("yamllint: %v\n%s", err, out)
		}
	}
}

func promtoolVersion() string {
	out, _ := exec.Command("promtool", "--version").CombinedOutput()
	return string(out)
}

// TestKubeFilesDeterministic renders every Kubernetes file of this package
// twice from fresh data: the bytes are the same (no map order leaks).
func TestKubeFilesDeterministic(t *testing.T) {
	all := func() render.Files {
		var out render.Files
		for _, m := range []string{render.KubeMonitoringOperator, render.KubeMonitoringBundled} {
			d := kubeData(t, 3, 3, nil)
			o := kubeOpts(m)
			files, err := render.KubeMonitoringFiles(d, o)
			if err != nil {
				t.Fatal(err)
			}
			np, err := render.KubeNetworkPolicyFiles(d, o)
			if err != nil {
				t.Fatal(err)
			}
			helm, err := render.HelmValuesFile(d, o)
			if err != nil {
				t.Fatal(err)
			}
			out = append(append(append(out, files...), np...), helm)
		}
		return out
	}
	a := all()
	for i := range 5 {
		b := all()
		for j := range a {
			if a[j].Path != b[j].Path || !bytes.Equal(a[j].Content, b[j].Content) {
				t.Fatalf("run %d: %s differs", i, a[j].Path)
			}
		}
	}
}
