package render

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// Values for Rocket.Chat's official Helm chart (issue 29), for
// organisations that must stay on Rocket.Chat's supported path: the app
// from the chart, sized by rcgen's plan, and MongoDB from rcgen's own
// manifests (the chart's bundled MongoDB is 6.0 from Bitnami's legacy
// images, which Rocket.Chat 8 refuses).

// HelmChartVersion is the version of the rocketchat chart the values are
// written for, and HelmChartSource where its keys are documented: the
// newest release tag of RocketChat/helm-charts read for rcgen
// (rocketchat-7.0.2, appVersion 8.6.1).
const (
	HelmChartVersion = "7.0.2"
	HelmChartRepo    = "https://rocketchat.github.io/helm-charts" // the repository README's helm repo add
	HelmChartSource  = "https://github.com/RocketChat/helm-charts/blob/rocketchat-" + HelmChartVersion + "/rocketchat/values.yaml"
	HelmChartReadme  = "https://github.com/RocketChat/helm-charts/blob/rocketchat-" + HelmChartVersion + "/rocketchat/README.md"
)

// HelmValuesPath is where the values are written.
const HelmValuesPath = "helm/values.yaml"

// The Secrets the values name; kube29a's secretGenerator makes them (with
// disableNameSuffixHash: Helm, not kustomize, reads these names).
const (
	// HelmMongoSecret holds the MongoDB URL (KubeMongoURI) under the key
	// the chart reads with existingMongodbSecret: mongo-uri
	// (templates/chat-deployment.yaml).
	HelmMongoSecret    = "rocketchat-helm-mongodb"
	HelmMongoSecretKey = "mongo-uri"
	// HelmLicenseSecret holds ROCKETCHAT_LICENSE: the chart passes every
	// key of extraSecret to Rocket.Chat as an environment variable
	// (envFrom), so the licence stays out of values.yaml (the chart's own
	// license key writes it into the Deployment in clear).
	HelmLicenseSecret    = "rocketchat-helm-license"
	HelmLicenseSecretKey = EnvLicense
	// HelmTLSSecret is the certificate the chart's Ingress serves:
	// cert-manager writes it (Let's Encrypt), or it is the operator's own
	// certificate as a kubernetes.io/tls Secret.
	HelmTLSSecret = "rocketchat-helm-tls"
	// HelmCertIssuer is the cert-manager Issuer in the namespace that gets
	// the certificate from Let's Encrypt.
	HelmCertIssuer = KubeIssuer
)

// helmKey is one key the chart documents: its dotted path, and whether
// what is under it is free-form (a Kubernetes object such as resources,
// passed through toYaml).
type helmKey struct {
	path     string
	freeForm bool
}

// helmDocumentedKeys are the keys of the rocketchat chart at
// HelmChartVersion that rcgen may write, each as rocketchat/values.yaml
// (HelmChartSource) or, for keys it leaves commented out, the README's
// parameter table (HelmChartReadme) documents it. Read from tag
// rocketchat-7.0.2 of github.com/RocketChat/helm-charts.
var helmDocumentedKeys = []helmKey{
	{"image.repository", false},                   // values.yaml, README
	{"image.tag", false},                          // README (templates default it to the appVersion)
	{"image.pullPolicy", false},                   // values.yaml, README
	{"host", false},                               // README; values.yaml "# host:"
	{"replicaCount", false},                       // values.yaml, README
	{"minAvailable", false},                       // values.yaml, README
	{"resources", true},                           // README; values.yaml "# resources:"
	{"existingMongodbSecret", false},              // values.yaml, README (the Secret's key: mongo-uri)
	{"externalMongodbUrl", false},                 // values.yaml, README
	{"extraSecret", false},                        // README; values.yaml "# extraSecret:"
	{"license", false},                            // README; values.yaml "# license:"
	{"mongodb.enabled", false},                    // values.yaml, README
	{"mongodb.serviceMonitor.enabled", false},     // values.yaml, README
	{"microservices.enabled", false},              // values.yaml, README
	{"nats.enabled", false},                       // README; values.yaml "# enabled: true" under nats
	{"podAntiAffinity", false},                    // values.yaml, README
	{"podAntiAffinityTopologyKey", false},         // values.yaml, README
	{"podDisruptionBudget.enabled", false},        // values.yaml, README
	{"ingress.enabled", false},                    // values.yaml, README
	{"ingress.ingressClassName", false},           // values.yaml "# ingressClassName: \"nginx\"" (templates/ingress.yaml reads it)
	{"ingress.pathType", false},                   // values.yaml, README
	{"ingress.path", false},                       // values.yaml, README
	{"ingress.annotations", true},                 // values.yaml, README
	{"ingress.tls", true},                         // values.yaml, README
	{"livenessProbe.enabled", false},              // values.yaml, README
	{"livenessProbe.path", false},                 // values.yaml
	{"livenessProbe.initialDelaySeconds", false},  // values.yaml, README
	{"livenessProbe.failureThreshold", false},     // values.yaml, README
	{"readinessProbe.enabled", false},             // values.yaml, README
	{"readinessProbe.path", false},                // values.yaml
	{"readinessProbe.initialDelaySeconds", false}, // values.yaml, README
	{"prometheusScraping.enabled", false},         // values.yaml, README
	{"prometheusScraping.port", false},            // values.yaml, README
	{"podMonitor.enabled", false},                 // values.yaml, README
	{"serviceMonitor.enabled", false},             // values.yaml, README
	{"persistence.enabled", false},                // values.yaml, README
	{"service.type", false},                       // values.yaml, README
}

// HelmDocumentedKeys returns the dotted paths of helmDocumentedKeys; a
// path ending in ".*" takes anything under it.
func HelmDocumentedKeys() []string {
	var out []string
	for _, k := range helmDocumentedKeys {
		if k.freeForm {
			out = append(out, k.path+".*")
		} else {
			out = append(out, k.path)
		}
	}
	return out
}

// KubeMongoURI is the MongoDB URL of the rocketchat user for an app in
// namespace o.Namespace: every member of rcgen's StatefulSet by its stable
// name under the headless Service (pod-0.service.namespace.svc), the
// replica set, and the admin database the user is created in, as the
// compose target's MONGO_URL.
func KubeMongoURI(d *Data, o KubeOptions, password string) string {
	var hosts []string
	for i := range max(1, len(d.Members)) {
		hosts = append(hosts, fmt.Sprintf("%s-%d.%s.%s.svc:%d", KubeMongo, i, KubeMongo, o.Namespace, k8sMongoPort))
	}
	u := url.URL{Scheme: "mongodb", User: url.UserPassword("rocketchat", password), Host: strings.Join(hosts, ","), Path: "/rocketchat",
		RawQuery: "replicaSet=" + ReplicaSet + "&authSource=admin"}
	return u.String()
}

// kubeSeconds is a Go duration in whole seconds (0 when it does not parse:
// the constants it reads do).
func kubeSeconds(d string) int {
	t, err := time.ParseDuration(d)
	if err != nil {
		return 0
	}
	return int(t / time.Second)
}

// HelmValuesFile writes helm/values.yaml for the official rocketchat chart.
func HelmValuesFile(d *Data, o KubeOptions) (File, error) {
	if o.Namespace == "" {
		return File{}, fmt.Errorf("the Helm values need the namespace")
	}
	licensed := d.Answers.License != ""
	// More than one process only with a licence: the plan decides that,
	// as for every target.
	replicas := d.Plan.Processes
	// Microservices are an Enterprise feature (values.yaml: "Only available
	// to E.E users"), and the chart turns them on by default: rcgen asks
	// for them only with a licence and past the users Rocket.Chat advises
	// them for (sizing.MicroservicesUsers).
	micro := licensed && d.Answers.Users > sizing.MicroservicesUsers
	// The plan budgets memory; a process uses up to about one core, and
	// half of one is what it is guaranteed.
	cpu := "500m"

	values := k8sMap{
		{K: "image", C: "The Rocket.Chat release rcgen pairs with MongoDB " + d.Mongo.Series + " (catalog).", V: k8sMap{
			{K: "repository", V: catalog.RocketChatImage},
			{K: "tag", V: d.Answers.RocketChatVersion},
		}},
	}
	if d.Answers.Domain != "" && d.Answers.Domain != spec.DefaultDomain {
		values = append(values, k8sKV{K: "host", C: "ROOT_URL is https://<host> (templates/chat-deployment.yaml).", V: d.Answers.Domain})
	}
	values = append(values,
		k8sKV{K: "replicaCount", C: "rcgen plan: " + d.Plan.ProcessesReason, V: replicas},
		k8sKV{K: "resources", C: "rcgen plan: " + strings.TrimSuffix(d.Plan.AppReason, ".") + ". Memory request = limit.", V: k8sResources(d.Plan.AppMemory, cpu)},
		k8sKV{K: "mongodb", C: "The chart's MongoDB is 6.0 (Bitnami's legacy images): Rocket.Chat 8 refuses it. rcgen's own StatefulSet serves instead.", V: k8sMap{
			{K: "enabled", V: false},
			{K: "serviceMonitor", V: k8sMap{{K: "enabled", V: false}}},
		}},
		k8sKV{K: "existingMongodbSecret", C: "MONGO_URL from Secret " + HelmMongoSecret + ", key " + HelmMongoSecretKey + " (rcgen writes it: the password never appears here).", V: HelmMongoSecret},
		k8sKV{K: "microservices", V: k8sMap{{K: "enabled", V: micro}}},
	)
	if licensed {
		values = append(values, k8sKV{K: "extraSecret", C: "ROCKETCHAT_LICENSE from Secret " + HelmLicenseSecret + " (every key becomes an environment variable).", V: HelmLicenseSecret})
	}
	if !micro && replicas > 1 {
		values = append(values,
			k8sKV{K: "nats", C: "Several monolith pods share events over the chart's NATS (TRANSPORTER monolith+nats://).", V: k8sMap{{K: "enabled", V: true}}},
			k8sKV{K: "podAntiAffinity", C: "Prefer one pod per node.", V: "soft"})
	}
	if d.ReadyPath != "" {
		values = append(values,
			// The chart has no startupProbe: its liveness probe starts after
			// initialDelaySeconds (60) and would kill a pod still running
			// migrations after a release change. rcgen gives it the hour the
			// other targets give (AppStartPeriod).
			k8sKV{K: "livenessProbe", C: "Migrations after a release change run before /health answers: an hour before the first liveness probe, as on the other targets.", V: k8sMap{
				{K: "path", V: d.HealthPath},
				{K: "initialDelaySeconds", V: kubeSeconds(AppStartPeriod)},
			}},
			k8sKV{K: "readinessProbe", V: k8sMap{{K: "path", V: d.ReadyPath}}})
	} else {
		// catalog.ReadyPath: before 7.11 /health fails on every process at
		// once when the change-stream watcher lags.
		values = append(values,
			k8sKV{K: "livenessProbe", C: "Before 7.11 /health fails on every pod at once when the database watcher lags (catalog.ReadyPath): no probe may restart or unready them for it.", V: k8sMap{{K: "enabled", V: false}}},
			k8sKV{K: "readinessProbe", V: k8sMap{{K: "enabled", V: false}}})
	}
	values = append(values,
		k8sKV{K: "prometheusScraping", C: "Rocket.Chat's metrics on rcgen's port, the one its NetworkPolicies open (the chart moves it to 9100 only to keep 9458 for the microservices' exporter).", V: helmScraping(d, micro)},
		k8sKV{K: "podMonitor", C: "A PodMonitor needs the Prometheus operator's CRDs.", V: k8sMap{{K: "enabled", V: d.Answers.Monitoring && o.Monitoring == KubeMonitoringOperator}}},
	)
	ing, err := helmIngress(d, o)
	if err != nil {
		return File{}, err
	}
	values = append(values, k8sKV{K: "ingress", V: ing})

	header := []string{
		"Values for Rocket.Chat's official Helm chart rocketchat " + HelmChartVersion + " (" + HelmChartRepo + "),",
		"sized by rcgen's plan; every key is one the chart documents:",
		HelmChartSource,
		"",
		"MongoDB comes from rcgen's manifests (kubernetes/): apply them first, then",
		"  helm repo add rocketchat " + HelmChartRepo,
		"  helm install " + d.Answers.Project + " rocketchat/rocketchat --version " + HelmChartVersion + " -n " + o.Namespace + " -f " + HelmValuesPath,
		"The release name " + d.Answers.Project + " gives the chart's pods the labels rcgen's NetworkPolicies",
		"admit to MongoDB. Run either rcgen's Rocket.Chat Deployment or this chart",
		"against the database, never both.",
	}
	if micro {
		header = append(header, "",
			"Microservices: the chart's presence, ddp-streamer, account and authorization",
			"pods ("+d.Answers.Project+"-presence...) need MongoDB and NATS, and ddp-streamer the",
			"ingress: rcgen's NetworkPolicies admit only the monolith pods, so add",
			"those pods to kubernetes/network-policies.yaml (or leave the policies out).")
	}
	b, err := k8sYAML(d, header, values)
	if err != nil {
		return File{}, err
	}
	return File{Path: HelmValuesPath, Mode: 0o644, Content: b}, nil
}

// helmScraping turns Rocket.Chat's metrics on with monitoring, on
// MetricsPort for the monolith.
func helmScraping(d *Data, micro bool) k8sMap {
	m := k8sMap{{K: "enabled", V: d.Answers.Monitoring}}
	if d.Answers.Monitoring && !micro {
		m = append(m, k8sKV{K: "port", V: MetricsPort})
	}
	return m
}

// helmIngress is the chart's Ingress: ingress-nginx with a sticky cookie
// (SockJS's fallback needs a browser to stay on its pod) and the body
// limit of the other targets, TLS from cert-manager or the operator's own
// certificate. The chart writes no HTTPRoute: with a Gateway, its Ingress
// stays off and rcgen's HTTPRoute serves.
func helmIngress(d *Data, o KubeOptions) (k8sMap, error) {
	if o.Ingress == KubeIngressGateway {
		return k8sMap{{K: "enabled", C: "The chart has no HTTPRoute: kubernetes/ has rcgen's, for the Gateway " + o.Gateway + ".", V: false}}, nil
	}
	if o.Ingress != KubeIngressNginx {
		return nil, fmt.Errorf("ingress %q is neither %q nor %q", o.Ingress, KubeIngressNginx, KubeIngressGateway)
	}
	// https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#session-affinity
	ann := k8sMap{
		{K: "nginx.ingress.kubernetes.io/affinity", V: "cookie"},
		{K: "nginx.ingress.kubernetes.io/session-cookie-name", V: StickyCookie},
		{K: "nginx.ingress.kubernetes.io/proxy-body-size", V: BodyLimit},
		// WebSockets pass through ingress-nginx as they are; an idle one is
		// closed after proxy-read-timeout (60s by default).
		{K: "nginx.ingress.kubernetes.io/proxy-read-timeout", V: "3600"},
		{K: "nginx.ingress.kubernetes.io/proxy-send-timeout", V: "3600"},
	}
	ing := k8sMap{
		{K: "enabled", V: true},
		{K: "ingressClassName", V: "nginx"},
	}
	var tls []k8sMap
	switch d.TLSMode {
	case spec.TLSACME:
		// https://cert-manager.io/docs/usage/ingress/
		ann = append(ann, k8sKV{K: "cert-manager.io/issuer", V: HelmCertIssuer})
		tls = append(tls, k8sMap{{K: "secretName", V: HelmTLSSecret}, {K: "hosts", V: []string{d.Answers.Domain}}})
	case spec.TLSOwn:
		tls = append(tls, k8sMap{{K: "secretName", V: HelmTLSSecret}, {K: "hosts", V: []string{d.Answers.Domain}}})
	}
	ing = append(ing, k8sKV{K: "annotations", V: ann})
	if len(tls) > 0 {
		ing = append(ing, k8sKV{K: "tls", V: tls})
	}
	return ing, nil
}
