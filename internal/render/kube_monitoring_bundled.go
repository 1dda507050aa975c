package render

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/rcgen/rcgen/internal/sizing"
)

// rcgen's own Prometheus and Grafana in the namespace (kube_monitoring:
// bundled), for clusters without a monitoring stack: the compose target's
// configuration, with Kubernetes' service discovery in place of the
// compose network's names.

// k8sPromMeta is a Kubernetes meta label of Prometheus's kubernetes_sd_configs
// for a label of the object: every character not valid in a label name
// becomes an underscore (https://prometheus.io/docs/prometheus/latest/configuration/configuration/#kubernetes_sd_config).
func k8sPromMeta(prefix, label string) string {
	var b strings.Builder
	for _, r := range label {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return prefix + b.String()
}

// k8sPrometheusConfig is prometheus.yml for the bundled Prometheus: the
// compose target's global settings and rule files, and a job per scrape
// target found through the Kubernetes API in the namespace only
// (role endpoints for a Service's metrics port, role pod for the NATS
// exporter sidecar). The jobs and instance labels are the ones the rules
// and dashboards select.
func k8sPrometheusConfig(d *Data, o KubeOptions) k8sMap {
	project := d.Answers.Project
	var jobs []k8sMap
	jobs = append(jobs, k8sMap{
		{K: "job_name", V: "prometheus"},
		{K: "static_configs", V: []k8sMap{{{K: "targets", V: []string{fmt.Sprintf("localhost:%d", KubePrometheusPort)}}, {K: "labels", V: k8sMap{{K: "instance", V: "prometheus"}}}}}},
	})
	for _, t := range k8sScrapeTargets(d) {
		role, prefix, portLabel := "endpoints", "__meta_kubernetes_service_label_", "__meta_kubernetes_endpoint_port_name"
		if !t.service {
			role, prefix, portLabel = "pod", "__meta_kubernetes_pod_label_", "__meta_kubernetes_pod_container_port_name"
		}
		sel := KubeSelector(project, t.component)
		var relabel []k8sMap
		for _, k := range []string{KubeLabelName, KubeLabelInstance} {
			relabel = append(relabel, k8sMap{{K: "source_labels", V: []string{k8sPromMeta(prefix, k)}}, {K: "regex", V: sel[k]}, {K: "action", V: "keep"}})
		}
		relabel = append(relabel,
			k8sMap{{K: "source_labels", V: []string{portLabel}}, {K: "regex", V: KubePortMetrics}, {K: "action", V: "keep"}},
			k8sMap{{K: "source_labels", V: []string{"__meta_kubernetes_pod_name"}}, {K: "target_label", V: "instance"}})
		jobs = append(jobs, k8sMap{
			{K: "job_name", V: t.job},
			{K: "metrics_path", V: t.path},
			{K: "kubernetes_sd_configs", V: []k8sMap{{{K: "role", V: role}, {K: "namespaces", V: k8sMap{{K: "names", V: []string{o.Namespace}}}}}}},
			{K: "relabel_configs", V: relabel},
		})
	}
	jobs = append(jobs, k8sMap{
		{K: "job_name", V: "grafana"},
		{K: "static_configs", V: []k8sMap{{{K: "targets", V: []string{fmt.Sprintf("%s:%d", KubeGrafana, KubeGrafanaPort)}}, {K: "labels", V: k8sMap{{K: "instance", V: "grafana"}}}}}},
	})
	return k8sMap{
		{K: "global", V: k8sMap{{K: "scrape_interval", V: "30s"}, {K: "scrape_timeout", V: "10s"}, {K: "evaluation_interval", V: "30s"}}},
		{K: "rule_files", V: []string{"/etc/prometheus/rules/*.yml"}},
		{K: "scrape_configs", V: jobs},
	}
}

func k8sBundledFiles(d *Data, o KubeOptions) (Files, error) {
	if o.Namespace == "" {
		return nil, fmt.Errorf("the bundled Prometheus needs the namespace it discovers its targets in")
	}
	prom, err := k8sBundledPrometheus(d, o)
	if err != nil {
		return nil, err
	}
	graf, err := k8sBundledGrafana(d, o)
	if err != nil {
		return nil, err
	}
	return Files{
		{Path: KubeGrafanaFile, Mode: 0o644, Content: graf},
		{Path: KubePrometheusFile, Mode: 0o644, Content: prom},
	}, nil
}

func k8sBundledPrometheus(d *Data, o KubeOptions) ([]byte, error) {
	project := d.Answers.Project
	cfg, err := k8sYAML(d, nil, k8sPrometheusConfig(d, o))
	if err != nil {
		return nil, err
	}
	_, rules, err := k8sComposeRuleGroups(d)
	if err != nil {
		return nil, err
	}
	disk, err := k8sPrometheusDisk(d.Answers.MetricsRetentionSize)
	if err != nil {
		return nil, err
	}
	mem := d.Plan.Budget(sizing.Prometheus)
	if mem == 0 {
		return nil, fmt.Errorf("the plan budgets no memory for Prometheus")
	}

	sa := k8sHead(d, o, "v1", "ServiceAccount", KubePrometheus, KubePrometheus, nil)
	// Read-only access to what kubernetes_sd_configs lists and watches, in
	// this namespace only (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#role-and-clusterrole).
	role := append(k8sHead(d, o, "rbac.authorization.k8s.io/v1", "Role", KubePrometheus, KubePrometheus, nil),
		k8sKV{K: "rules", V: []k8sMap{{
			{K: "apiGroups", V: []string{""}},
			{K: "resources", V: []string{"endpoints", "pods", "services"}},
			{K: "verbs", V: []string{"get", "list", "watch"}},
		}}})
	binding := append(k8sHead(d, o, "rbac.authorization.k8s.io/v1", "RoleBinding", KubePrometheus, KubePrometheus, nil),
		k8sKV{K: "roleRef", V: k8sMap{{K: "apiGroup", V: "rbac.authorization.k8s.io"}, {K: "kind", V: "Role"}, {K: "name", V: KubePrometheus}}},
		k8sKV{K: "subjects", V: []k8sMap{{{K: "kind", V: "ServiceAccount"}, {K: "name", V: KubePrometheus}, {K: "namespace", V: o.Namespace}}}})
	config := append(k8sHead(d, o, "v1", "ConfigMap", "prometheus-config", KubePrometheus, nil),
		k8sKV{K: "data", V: k8sMap{{K: "prometheus.yml", V: string(cfg)}}})
	ruleCM := append(k8sHead(d, o, "v1", "ConfigMap", "prometheus-rules", KubePrometheus, nil),
		k8sKV{K: "data", V: k8sMap{{K: "rocketchat.yml", V: string(rules)}}})
	svc := append(k8sHead(d, o, "v1", "Service", KubePrometheus, KubePrometheus, nil),
		k8sKV{K: "spec", V: k8sMap{
			{K: "type", V: "ClusterIP"},
			{K: "selector", V: k8sLabels(KubeSelector(project, KubePrometheus))},
			{K: "ports", V: []k8sMap{{{K: "name", V: KubePortHTTP}, {K: "port", V: KubePrometheusPort}, {K: "targetPort", V: KubePortHTTP}}}},
		}})

	pvc := k8sMap{
		{K: "metadata", V: k8sMap{{K: "name", V: "data"}}},
		{K: "spec", V: k8sPVCSpec(o, disk)},
	}
	probe := func(path string, failures int) k8sMap {
		return k8sMap{
			{K: "httpGet", V: k8sMap{{K: "path", V: path}, {K: "port", V: KubePortHTTP}}},
			{K: "periodSeconds", V: 30},
			{K: "timeoutSeconds", V: 5},
			{K: "failureThreshold", V: failures},
		}
	}
	container := k8sMap{
		{K: "name", V: KubePrometheus},
		{K: "image", V: d.Images[sizing.Prometheus]},
		{K: "args", V: []string{
			"--config.file=/etc/prometheus/config/prometheus.yml",
			"--storage.tsdb.path=/prometheus",
			"--storage.tsdb.retention.time=" + d.Retention,
			"--storage.tsdb.retention.size=" + d.RetentionSize,
			// Reached with kubectl port-forward svc/prometheus 9090.
			fmt.Sprintf("--web.external-url=http://127.0.0.1:%d/", KubePrometheusPort),
		}},
		{K: "ports", V: []k8sMap{{{K: "name", V: KubePortHTTP}, {K: "containerPort", V: KubePrometheusPort}}}},
		// A replay of a big WAL after a restart takes a while: the
		// startupProbe gives it up to 30 minutes.
		{K: "startupProbe", V: probe("/-/ready", 60)},
		{K: "readinessProbe", V: probe("/-/ready", 3)},
		{K: "livenessProbe", V: probe("/-/healthy", 3)},
		{K: "resources", V: k8sResources(mem, "100m")},
		{K: "securityContext", V: k8sRestrictedContainer(true)},
		{K: "volumeMounts", V: []k8sMap{
			{{K: "name", V: "config"}, {K: "mountPath", V: "/etc/prometheus/config"}, {K: "readOnly", V: true}},
			{{K: "name", V: "rules"}, {K: "mountPath", V: "/etc/prometheus/rules"}, {K: "readOnly", V: true}},
			{{K: "name", V: "data"}, {K: "mountPath", V: "/prometheus"}},
		}},
	}
	sts := append(k8sHead(d, o, "apps/v1", "StatefulSet", KubePrometheus, KubePrometheus, nil),
		k8sKV{K: "spec", V: k8sMap{
			{K: "replicas", V: 1},
			{K: "serviceName", V: KubePrometheus},
			{K: "selector", V: k8sMap{{K: "matchLabels", V: k8sLabels(KubeSelector(project, KubePrometheus))}}},
			{K: "template", V: k8sMap{
				{K: "metadata", V: k8sMap{{K: "labels", V: k8sLabels(KubeLabels(project, KubePrometheus))}}},
				{K: "spec", V: k8sMap{
					{K: "serviceAccountName", V: KubePrometheus},
					// prom/prometheus runs as nobody (65534, by number:
					// k8sNamedUserUID) and writes /prometheus: the volume
					// must be writable by its group.
					{K: "securityContext", V: k8sRestrictedPod(k8sFixedID(d, k8sNamedUserUID), k8sFixedID(d, k8sNamedUserUID), true)},
					{K: "containers", V: []k8sMap{container}},
					{K: "volumes", V: []k8sMap{
						{{K: "name", V: "config"}, {K: "configMap", V: k8sMap{{K: "name", V: "prometheus-config"}}}},
						{{K: "name", V: "rules"}, {K: "configMap", V: k8sMap{{K: "name", V: "prometheus-rules"}}}},
					}},
				}},
			}},
			{K: "volumeClaimTemplates", V: []k8sMap{pvc}},
		}})
	return k8sYAML(d, []string{
		"rcgen's own Prometheus (kube_monitoring: bundled), for clusters without one.",
		"It finds its targets through the Kubernetes API in namespace " + o.Namespace + " only",
		"(a Role, not a ClusterRole) and evaluates the compose target's alert rules.",
		"Reach it with: kubectl -n " + o.Namespace + fmt.Sprintf(" port-forward svc/prometheus %d", KubePrometheusPort),
		"No Alertmanager runs here: the alerts show in Prometheus's Alerts page.",
	}, sa, role, binding, config, ruleCM, svc, sts)
}

// k8sPVCSpec is a ReadWriteOnce claim of size in the storage_class answer
// (none: the cluster's default class).
func k8sPVCSpec(o KubeOptions, size string) k8sMap {
	s := k8sMap{{K: "accessModes", V: []string{"ReadWriteOnce"}}}
	if o.StorageClass != "" {
		s = append(s, k8sKV{K: "storageClassName", V: o.StorageClass})
	}
	return append(s, k8sKV{K: "resources", V: k8sMap{{K: "requests", V: k8sMap{{K: "storage", V: size}}}}})
}

// k8sRenderTemplate executes one of the parsed templates for d.
func k8sRenderTemplate(d *Data, src string) ([]byte, error) {
	t, err := parsed()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, src, d); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", src, err)
	}
	return buf.Bytes(), nil
}

func k8sBundledGrafana(d *Data, o KubeOptions) ([]byte, error) {
	project := d.Answers.Project
	// The compose target's provisioning files: the datasource is
	// http://prometheus:9090, the Service above; the dashboards are read
	// from /etc/grafana/dashboards.
	ds, err := k8sRenderTemplate(d, "grafana/provisioning/datasources/prometheus.yaml.tmpl")
	if err != nil {
		return nil, err
	}
	prov, err := k8sRenderTemplate(d, "grafana/provisioning/dashboards/rcgen.yaml.tmpl")
	if err != nil {
		return nil, err
	}
	dash, err := Dashboards(d.Plan.MongoDBMembers, d.Has(sizing.Backup))
	if err != nil {
		return nil, err
	}
	mem := d.Plan.Budget(sizing.Grafana)
	if mem == 0 {
		return nil, fmt.Errorf("the plan budgets no memory for Grafana")
	}
	var dashData k8sMap
	for _, f := range dash {
		dashData = append(dashData, k8sKV{K: f.Path[strings.LastIndex(f.Path, "/")+1:], V: string(f.Content)})
	}
	cmDS := append(k8sHead(d, o, "v1", "ConfigMap", "grafana-datasources", KubeGrafana, nil),
		k8sKV{K: "data", V: k8sMap{{K: "prometheus.yaml", V: string(ds)}}})
	cmProv := append(k8sHead(d, o, "v1", "ConfigMap", "grafana-dashboard-provider", KubeGrafana, nil),
		k8sKV{K: "data", V: k8sMap{{K: "rcgen.yaml", V: string(prov)}}})
	cmDash := append(k8sHead(d, o, "v1", "ConfigMap", "grafana-dashboards", KubeGrafana, nil),
		k8sKV{K: "data", V: dashData})
	svc := append(k8sHead(d, o, "v1", "Service", KubeGrafana, KubeGrafana, nil),
		k8sKV{K: "spec", V: k8sMap{
			{K: "type", V: "ClusterIP"},
			{K: "selector", V: k8sLabels(KubeSelector(project, KubeGrafana))},
			{K: "ports", V: []k8sMap{{{K: "name", V: KubePortHTTP}, {K: "port", V: KubeGrafanaPort}, {K: "targetPort", V: KubePortHTTP}}}},
		}})
	env := []k8sMap{
		{{K: "name", V: "GF_SECURITY_ADMIN_USER"}, {K: "value", V: "admin"}},
		{{K: "name", V: "GF_SECURITY_ADMIN_PASSWORD"}, {K: "valueFrom", V: k8sMap{{K: "secretKeyRef", V: k8sMap{{K: "name", V: KubeGrafanaSecret}, {K: "key", V: KubeGrafanaPasswordKey}}}}}},
		{{K: "name", V: "GF_AUTH_ANONYMOUS_ENABLED"}, {K: "value", V: "false"}},
		{{K: "name", V: "GF_USERS_ALLOW_SIGN_UP"}, {K: "value", V: "false"}},
		{{K: "name", V: "GF_ANALYTICS_REPORTING_ENABLED"}, {K: "value", V: "false"}},
		{{K: "name", V: "GF_ANALYTICS_CHECK_FOR_UPDATES"}, {K: "value", V: "false"}},
		// Reached with kubectl port-forward svc/grafana 3000.
		{{K: "name", V: "GF_SERVER_ROOT_URL"}, {K: "value", V: fmt.Sprintf("http://127.0.0.1:%d/", KubeGrafanaPort)}},
		// The root filesystem is read-only: logs go to stdout only
		// (https://grafana.com/docs/grafana/latest/setup-grafana/configure-grafana/#mode).
		{{K: "name", V: "GF_LOG_MODE"}, {K: "value", V: "console"}},
	}
	probe := func(failures int) k8sMap {
		return k8sMap{
			{K: "httpGet", V: k8sMap{{K: "path", V: "/api/health"}, {K: "port", V: KubePortHTTP}}},
			{K: "periodSeconds", V: 30},
			{K: "timeoutSeconds", V: 5},
			{K: "failureThreshold", V: failures},
		}
	}
	container := k8sMap{
		{K: "name", V: KubeGrafana},
		{K: "image", V: d.Images[sizing.Grafana]},
		{K: "env", V: env},
		{K: "ports", V: []k8sMap{{{K: "name", V: KubePortHTTP}, {K: "containerPort", V: KubeGrafanaPort}}}},
		{K: "startupProbe", V: probe(20)},
		{K: "readinessProbe", V: probe(3)},
		{K: "livenessProbe", V: probe(3)},
		{K: "resources", V: k8sResources(mem, "50m")},
		{K: "securityContext", V: k8sRestrictedContainer(true)},
		{K: "volumeMounts", V: []k8sMap{
			{{K: "name", V: "datasources"}, {K: "mountPath", V: "/etc/grafana/provisioning/datasources"}, {K: "readOnly", V: true}},
			{{K: "name", V: "dashboard-provider"}, {K: "mountPath", V: "/etc/grafana/provisioning/dashboards"}, {K: "readOnly", V: true}},
			{{K: "name", V: "dashboards"}, {K: "mountPath", V: "/etc/grafana/dashboards"}, {K: "readOnly", V: true}},
			{{K: "name", V: "data"}, {K: "mountPath", V: "/var/lib/grafana"}},
			{{K: "name", V: "tmp"}, {K: "mountPath", V: "/tmp"}},
		}},
	}
	deploy := append(k8sHead(d, o, "apps/v1", "Deployment", KubeGrafana, KubeGrafana, nil),
		k8sKV{K: "spec", V: k8sMap{
			{K: "replicas", V: 1},
			{K: "selector", V: k8sMap{{K: "matchLabels", V: k8sLabels(KubeSelector(project, KubeGrafana))}}},
			{K: "template", V: k8sMap{
				{K: "metadata", V: k8sMap{{K: "labels", V: k8sLabels(KubeLabels(project, KubeGrafana))}}},
				{K: "spec", V: k8sMap{
					// Everything Grafana keeps is provisioned: its data
					// directory is an emptyDir (writable by any user, so no
					// fsGroup), and no Kubernetes API access.
					{K: "automountServiceAccountToken", V: false},
					// grafana/grafana runs as 472, a number.
					{K: "securityContext", V: k8sRestrictedPod(0, 0, true)},
					{K: "containers", V: []k8sMap{container}},
					{K: "volumes", V: []k8sMap{
						{{K: "name", V: "datasources"}, {K: "configMap", V: k8sMap{{K: "name", V: "grafana-datasources"}}}},
						{{K: "name", V: "dashboard-provider"}, {K: "configMap", V: k8sMap{{K: "name", V: "grafana-dashboard-provider"}}}},
						{{K: "name", V: "dashboards"}, {K: "configMap", V: k8sMap{{K: "name", V: "grafana-dashboards"}}}},
						{{K: "name", V: "data"}, {K: "emptyDir", V: k8sMap{}}},
						{{K: "name", V: "tmp"}, {K: "emptyDir", V: k8sMap{}}},
					}},
				}},
			}},
		}})
	return k8sYAML(d, []string{
		"rcgen's own Grafana (kube_monitoring: bundled) with the compose target's",
		"datasource and dashboards. The admin password is in Secret " + KubeGrafanaSecret + ", key " + KubeGrafanaPasswordKey + ".",
		"Reach it with: kubectl -n " + o.Namespace + fmt.Sprintf(" port-forward svc/grafana %d", KubeGrafanaPort),
	}, cmDS, cmProv, cmDash, svc, deploy)
}
