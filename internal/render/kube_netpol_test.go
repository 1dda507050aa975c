package render_test

import (
	"maps"
	"slices"
	"sort"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
)

// kubePodPorts are the container ports of each component's pods, by the
// contract (kube_contract.go) and the monitoring's own pods: a policy port
// outside these opens nothing.
var kubePodPorts = map[string][]int{
	render.KubeApp:          {render.AppPort, render.MetricsPort},
	render.KubeMongo:        {27017},
	render.KubeMongoExport:  {9216},
	render.KubeNATS:         {4222, 6222, 7777}, // client; cluster routes (the Helm chart's two servers); the exporter sidecar
	render.KubePrometheus:   {render.KubePrometheusPort},
	render.KubeGrafana:      {render.KubeGrafanaPort},
	"acme-http01-solver":    {8089},
	render.KubeAppMigrate:   nil,
	render.KubeMongoInit:    nil,
	render.KubeBackup:       nil,
	render.KubeNATSExporter: nil,
}

// policy is one decoded NetworkPolicy: the component its podSelector
// selects, who may connect (components of this deployment, or
// "namespace:LABEL=VALUE") and on which ports.
type policy struct {
	selects string
	from    []string
	ports   []int
}

func netPolicies(t *testing.T, d *render.Data, o render.KubeOptions) map[string]policy {
	t.Helper()
	files, err := render.KubeNetworkPolicyFiles(d, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != render.KubeNetworkPoliciesFile {
		t.Fatalf("files %v, want only %s", files, render.KubeNetworkPoliciesFile)
	}
	project := d.Answers.Project
	out := map[string]policy{}
	for _, doc := range kubeDocs(t, files[0].Content) {
		name := dig(doc, "metadata", "name").(string)
		if doc["apiVersion"] != "networking.k8s.io/v1" || doc["kind"] != "NetworkPolicy" || dig(doc, "metadata", "namespace") != o.Namespace {
			t.Errorf("%s: %v %v in %v", name, doc["apiVersion"], doc["kind"], dig(doc, "metadata", "namespace"))
		}
		if !slices.Equal(asList(dig(doc, "spec", "policyTypes")), []any{"Ingress"}) {
			t.Errorf("%s: policyTypes %v, want Ingress only", name, dig(doc, "spec", "policyTypes"))
		}
		var p policy
		sel := strMap(dig(doc, "spec", "podSelector", "matchLabels"))
		switch {
		case len(sel) == 0:
			p.selects = "*"
		case sel["acme.cert-manager.io/http01-solver"] == "true":
			p.selects = "acme-http01-solver"
		default:
			p.selects = sel[render.KubeLabelName]
			if !maps.Equal(sel, render.KubeSelector(project, p.selects)) {
				t.Errorf("%s selects %v, not KubeSelector(%s, %s)", name, sel, project, p.selects)
			}
		}
		for _, rule := range asList(dig(doc, "spec", "ingress")) {
			for _, peer := range asList(dig(rule, "from")) {
				if ns := strMap(dig(peer, "namespaceSelector", "matchLabels")); len(ns) > 0 {
					for k, v := range ns {
						p.from = append(p.from, "namespace:"+k+"="+v)
					}
					continue
				}
				ps := dig(peer, "podSelector")
				ml := strMap(dig(ps, "matchLabels"))
				if ml[render.KubeLabelInstance] != project {
					t.Errorf("%s admits pods of instance %q, not %q", name, ml[render.KubeLabelInstance], project)
				}
				if c := ml[render.KubeLabelName]; c != "" {
					p.from = append(p.from, c)
				}
				for _, e := range asList(dig(ps, "matchExpressions")) {
					if dig(e, "key") != render.KubeLabelName || dig(e, "operator") != "In" {
						t.Errorf("%s: expression %v", name, e)
					}
					for _, v := range asList(dig(e, "values")) {
						p.from = append(p.from, v.(string))
					}
				}
			}
			for _, port := range asList(dig(rule, "ports")) {
				if dig(port, "protocol") != "TCP" {
					t.Errorf("%s: port %v is not TCP", name, port)
				}
				p.ports = append(p.ports, dig(port, "port").(int))
			}
		}
		sort.Strings(p.from)
		out[name] = p
	}
	return out
}

func TestKubeNetworkPolicies(t *testing.T) {
	gw := kubeOpts(render.KubeMonitoringBundled)
	gw.Ingress, gw.Gateway = render.KubeIngressGateway, "gateways/public"
	for _, c := range []struct {
		name      string
		processes int
		o         render.KubeOptions
		edit      func(*spec.Answers)
		want      map[string]policy
	}{
		{"one process, operator", 1, kubeOpts(render.KubeMonitoringOperator), nil, map[string]policy{
			"default-deny-ingress":     {"*", nil, nil},
			"mongodb":                  {render.KubeMongo, []string{"backup", "mongodb", "mongodb-exporter", "mongodb-init", "rocketchat", "rocketchat-migrate"}, []int{27017}},
			"rocketchat-http":          {render.KubeApp, []string{"namespace:kubernetes.io/metadata.name=ingress-nginx"}, []int{3000}},
			"acme-http01-solver":       {"acme-http01-solver", []string{"namespace:kubernetes.io/metadata.name=ingress-nginx"}, []int{8089}},
			"rocketchat-metrics":       {render.KubeApp, []string{"namespace:" + render.KubeScrapeNamespaceLabel + "=true"}, []int{9458}},
			"mongodb-exporter-metrics": {render.KubeMongoExport, []string{"namespace:" + render.KubeScrapeNamespaceLabel + "=true"}, []int{9216}},
		}},
		{"three processes, gateway, bundled", 3, gw, nil, map[string]policy{
			"default-deny-ingress":     {"*", nil, nil},
			"mongodb":                  {render.KubeMongo, []string{"backup", "mongodb", "mongodb-exporter", "mongodb-init", "rocketchat", "rocketchat-migrate"}, []int{27017}},
			"nats":                     {render.KubeNATS, []string{"rocketchat", "rocketchat-migrate"}, []int{4222}},
			"nats-cluster":             {render.KubeNATS, []string{"nats"}, []int{6222}},
			"rocketchat-http":          {render.KubeApp, []string{"namespace:kubernetes.io/metadata.name=gateways"}, []int{3000}},
			"acme-http01-solver":       {"acme-http01-solver", []string{"namespace:kubernetes.io/metadata.name=gateways"}, []int{8089}},
			"rocketchat-metrics":       {render.KubeApp, []string{"prometheus"}, []int{9458}},
			"mongodb-exporter-metrics": {render.KubeMongoExport, []string{"prometheus"}, []int{9216}},
			"nats-metrics":             {render.KubeNATS, []string{"prometheus"}, []int{7777}},
			"prometheus":               {render.KubePrometheus, []string{"grafana"}, []int{9090}},
			"grafana":                  {render.KubeGrafana, []string{"prometheus"}, []int{3000}},
		}},
		{"no monitoring, no certificate to get", 1, kubeOpts(""), func(a *spec.Answers) {
			a.Monitoring, a.Domain, a.Email = false, "chat.home.arpa", ""
		}, map[string]policy{
			"default-deny-ingress": {"*", nil, nil},
			"mongodb":              {render.KubeMongo, []string{"backup", "mongodb", "mongodb-exporter", "mongodb-init", "rocketchat", "rocketchat-migrate"}, []int{27017}},
			"rocketchat-http":      {render.KubeApp, []string{"namespace:kubernetes.io/metadata.name=ingress-nginx"}, []int{3000}},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := kubeData(t, 3, c.processes, c.edit)
			got := netPolicies(t, d, c.o)
			for name, p := range got {
				w, ok := c.want[name]
				switch {
				case !ok:
					t.Errorf("unexpected policy %s: %+v", name, p)
				case p.selects != w.selects || !slices.Equal(p.from, w.from) || !slices.Equal(p.ports, w.ports):
					t.Errorf("policy %s = %+v, want %+v", name, p, w)
				}
				// Every port a policy opens is one its pods listen on.
				for _, port := range p.ports {
					if !slices.Contains(kubePodPorts[p.selects], port) {
						t.Errorf("policy %s opens %d, which no %s container listens on (%v)", name, port, p.selects, kubePodPorts[p.selects])
					}
				}
				for _, f := range p.from {
					if _, known := kubePodPorts[f]; !known && !slices.Contains([]string{"namespace:"}, f[:min(len(f), 10)]) {
						t.Errorf("policy %s admits %q, no component of the deployment", name, f)
					}
				}
			}
			for name := range c.want {
				if _, ok := got[name]; !ok {
					t.Errorf("missing policy %s", name)
				}
			}
		})
	}
}

func TestKubeNetworkPoliciesRefuse(t *testing.T) {
	d := kubeData(t, 1, 1, nil)
	for name, o := range map[string]render.KubeOptions{
		"gateway without namespace": {Namespace: "chat", Ingress: render.KubeIngressGateway, Gateway: "public"},
		"unknown ingress":           {Namespace: "chat", Ingress: "traefik"},
		"no namespace":              {Ingress: render.KubeIngressNginx},
		"unknown monitoring":        {Namespace: "chat", Ingress: render.KubeIngressNginx, Monitoring: "both"},
	} {
		if _, err := render.KubeNetworkPolicyFiles(d, o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
