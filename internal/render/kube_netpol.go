package render

import (
	"fmt"
	"strings"

	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// The Kubernetes target's NetworkPolicies (networking.k8s.io/v1): nothing
// in the namespace accepts a connection unless a policy below names who may
// open it. Policies are additive and only restrict the pods they select
// (https://kubernetes.io/docs/concepts/services-networking/network-policies/);
// a cluster whose network plugin does not enforce them accepts and ignores
// them. Egress is not restricted.

// KubeNetworkPoliciesFile is the one file of the NetworkPolicies.
const KubeNetworkPoliciesFile = "kubernetes/network-policies.yaml"

// KubeScrapeNamespaceLabel marks the namespace of the cluster's Prometheus
// (kube_monitoring: operator): the metrics ports accept its scrapes only
// from a namespace labelled KubeScrapeNamespaceLabel=true, e.g.
// kubectl label namespace monitoring rcgen/scrape=true.
const KubeScrapeNamespaceLabel = "rcgen/scrape"

// KubeIngressNginxNamespace is the namespace ingress-nginx's own manifests
// and chart install the controller in
// (https://kubernetes.github.io/ingress-nginx/deploy/).
const KubeIngressNginxNamespace = "ingress-nginx"

// KubeNamespaceNameLabel is the label the control plane sets on every
// namespace to its name (https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-metadata-name).
const KubeNamespaceNameLabel = "kubernetes.io/metadata.name"

// Container ports the policies open, by number: a policy's port is the
// pod's, not the Service's.
const (
	k8sMongoPort       = 27017
	k8sNATSPort        = 4222
	k8sNATSClusterPort = 6222
	k8sACMESolverPort  = 8089
)

// k8sPodsOf selects this deployment's pods of components.
func k8sPodsOf(project string, components ...string) k8sMap {
	if len(components) == 1 {
		return k8sMap{{K: "podSelector", V: k8sMap{{K: "matchLabels", V: k8sLabels(KubeSelector(project, components[0]))}}}}
	}
	return k8sMap{{K: "podSelector", V: k8sMap{
		{K: "matchLabels", V: k8sLabels(map[string]string{KubeLabelInstance: project})},
		{K: "matchExpressions", V: []k8sMap{{{K: "key", V: KubeLabelName}, {K: "operator", V: "In"}, {K: "values", V: components}}}},
	}}}
}

// k8sNamespaceNamed selects every pod of the namespace called name.
func k8sNamespaceNamed(name, comment string) k8sMap {
	return k8sMap{{K: "namespaceSelector", C: comment, V: k8sMap{{K: "matchLabels", V: k8sLabels(map[string]string{KubeNamespaceNameLabel: name})}}}}
}

func k8sTCPPorts(ports ...int) []k8sMap {
	var out []k8sMap
	for _, p := range ports {
		out = append(out, k8sMap{{K: "protocol", V: "TCP"}, {K: "port", V: p}})
	}
	return out
}

// k8sNetPolicy lets from reach ports of the pods podSelector selects.
func k8sNetPolicy(d *Data, o KubeOptions, name, component, comment string, podSelector k8sMap, from []k8sMap, ports []k8sMap) k8sMap {
	p := k8sHead(d, o, "networking.k8s.io/v1", "NetworkPolicy", name, component, nil)
	rule := k8sMap{{K: "from", V: from}}
	if len(ports) > 0 {
		rule = append(rule, k8sKV{K: "ports", V: ports})
	}
	return append(p, k8sKV{K: "spec", C: comment, V: k8sMap{
		{K: "podSelector", V: podSelector},
		{K: "policyTypes", V: []string{"Ingress"}},
		{K: "ingress", V: []k8sMap{rule}},
	}})
}

func k8sSelectPods(project, component string) k8sMap {
	return k8sMap{{K: "matchLabels", V: k8sLabels(KubeSelector(project, component))}}
}

// KubeNetworkPolicyFiles are the deployment's NetworkPolicies, in one file.
func KubeNetworkPolicyFiles(d *Data, o KubeOptions) (Files, error) {
	project := d.Answers.Project
	if o.Namespace == "" {
		return nil, fmt.Errorf("the NetworkPolicies need the namespace")
	}
	var ingressFrom k8sMap
	var ingressNote string
	switch o.Ingress {
	case KubeIngressNginx:
		ingressNote = "ingress-nginx's controller, in namespace " + KubeIngressNginxNamespace + " as its manifests and chart install it (Rancher's RKE2 runs it in kube-system: change the name there)."
		ingressFrom = k8sNamespaceNamed(KubeIngressNginxNamespace, ingressNote)
	case KubeIngressGateway:
		ns, _, ok := strings.Cut(o.Gateway, "/")
		if !ok || ns == "" {
			return nil, fmt.Errorf("gateway %q is not NAMESPACE/NAME", o.Gateway)
		}
		ingressNote = "the Gateway's namespace " + ns + ": where most implementations run its proxy pods. Some run them elsewhere (Envoy Gateway: envoy-gateway-system by default): name that namespace instead."
		ingressFrom = k8sNamespaceNamed(ns, ingressNote)
	default:
		return nil, fmt.Errorf("ingress %q is neither %q nor %q", o.Ingress, KubeIngressNginx, KubeIngressGateway)
	}

	docs := []any{
		// https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-ingress-traffic
		append(k8sHead(d, o, "networking.k8s.io/v1", "NetworkPolicy", "default-deny-ingress", KubeApp, nil),
			k8sKV{K: "spec", C: "Every pod of the namespace: no connection in unless a policy below allows it.", V: k8sMap{
				{K: "podSelector", V: k8sMap{}},
				{K: "policyTypes", V: []string{"Ingress"}},
			}}),
		k8sNetPolicy(d, o, "mongodb", KubeMongo,
			"MongoDB: from Rocket.Chat (and its migration pod), the replica set's init Job, the backup job, the exporter, and the members themselves (replication).",
			k8sSelectPods(project, KubeMongo),
			[]k8sMap{k8sPodsOf(project, KubeApp, KubeAppMigrate, KubeMongoInit, KubeBackup, KubeMongoExport, KubeMongo)},
			k8sTCPPorts(k8sMongoPort)),
	}
	if d.Has(sizing.NATS) {
		docs = append(docs, k8sNetPolicy(d, o, "nats", KubeNATS,
			"NATS, the event bus between the app pods: from Rocket.Chat only.",
			k8sSelectPods(project, KubeNATS),
			[]k8sMap{k8sPodsOf(project, KubeApp, KubeAppMigrate)},
			k8sTCPPorts(k8sNATSPort)),
			// The Helm chart's NATS (helm/values.yaml, release named after
			// the project) carries the same labels and runs two servers that
			// route to each other on 6222 (https://docs.nats.io/running-a-nats-service/configuration/clustering).
			k8sNetPolicy(d, o, "nats-cluster", KubeNATS,
				"NATS servers to each other (cluster routes): the Helm chart's NATS runs two.",
				k8sSelectPods(project, KubeNATS),
				[]k8sMap{k8sPodsOf(project, KubeNATS)},
				k8sTCPPorts(k8sNATSClusterPort)))
	}
	docs = append(docs, k8sNetPolicy(d, o, "rocketchat-http", KubeApp,
		"Rocket.Chat's http port: from "+ingressNote,
		k8sSelectPods(project, KubeApp), []k8sMap{ingressFrom}, k8sTCPPorts(AppPort)))
	if d.TLSMode == spec.TLSACME {
		// cert-manager's HTTP-01 solver pods run in the namespace of the
		// Certificate, labelled acme.cert-manager.io/http01-solver: "true",
		// and listen on 8089; Let's Encrypt reaches them through the
		// ingress (https://cert-manager.io/docs/installation/best-practice/#network-requirements).
		docs = append(docs, k8sNetPolicy(d, o, "acme-http01-solver", KubeApp,
			"cert-manager's HTTP-01 solver: from the same ingress, while Let's Encrypt checks the domain.",
			k8sMap{{K: "matchLabels", V: k8sLabels(map[string]string{"acme.cert-manager.io/http01-solver": "true"})}},
			[]k8sMap{ingressFrom}, k8sTCPPorts(k8sACMESolverPort)))
	}
	if d.Answers.Monitoring && o.Monitoring != "" {
		var scraper k8sMap
		switch o.Monitoring {
		case KubeMonitoringOperator:
			scraper = k8sMap{{K: "namespaceSelector",
				C: "The cluster's Prometheus: label its namespace " + KubeScrapeNamespaceLabel + "=true (kubectl label namespace monitoring " + KubeScrapeNamespaceLabel + "=true).",
				V: k8sMap{{K: "matchLabels", V: k8sLabels(map[string]string{KubeScrapeNamespaceLabel: "true"})}}}}
		case KubeMonitoringBundled:
			scraper = k8sPodsOf(project, KubePrometheus)
		default:
			return nil, fmt.Errorf("kube_monitoring %q is neither %q nor %q", o.Monitoring, KubeMonitoringOperator, KubeMonitoringBundled)
		}
		for _, t := range k8sScrapeTargets(d) {
			docs = append(docs, k8sNetPolicy(d, o, t.component+"-metrics", t.component,
				"The metrics port of "+t.component+": from Prometheus only.",
				k8sSelectPods(project, t.component), []k8sMap{scraper}, k8sTCPPorts(t.port)))
		}
		if o.Monitoring == KubeMonitoringBundled {
			docs = append(docs,
				k8sNetPolicy(d, o, "prometheus", KubePrometheus, "Prometheus: from Grafana (its datasource).",
					k8sSelectPods(project, KubePrometheus), []k8sMap{k8sPodsOf(project, KubeGrafana)}, k8sTCPPorts(KubePrometheusPort)),
				k8sNetPolicy(d, o, "grafana", KubeGrafana, "Grafana: from Prometheus (it scrapes Grafana's metrics); people reach it with kubectl port-forward, which policies do not see.",
					k8sSelectPods(project, KubeGrafana), []k8sMap{k8sPodsOf(project, KubePrometheus)}, k8sTCPPorts(KubeGrafanaPort)))
		}
	}
	b, err := k8sYAML(d, []string{
		"NetworkPolicies (networking.k8s.io/v1): who may connect to what in namespace " + o.Namespace + ".",
		"https://kubernetes.io/docs/concepts/services-networking/network-policies/",
		"They take effect only where the cluster's network plugin enforces them",
		"(Calico, Cilium, Canal on Rancher, OVN-Kubernetes on OpenShift; not flannel alone).",
		"kubectl port-forward and kubectl exec reach pods without passing them.",
	}, docs...)
	if err != nil {
		return nil, err
	}
	return Files{{Path: KubeNetworkPoliciesFile, Mode: 0o644, Content: b}}, nil
}
