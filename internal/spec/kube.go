package spec

import (
	"fmt"
	"regexp"
	"strings"
)

// The Kubernetes target's answers: their values and defaults.
const (
	DefaultKubeNamespace = "rocketchat"
	// IngressNginx is an networking.k8s.io/v1 Ingress for ingress-nginx.
	IngressNginx = "nginx"
	// IngressGateway is a Gateway API HTTPRoute attached to GatewayName.
	IngressGateway = "gateway"
	// KubeMonitoringOperator: ServiceMonitors, PrometheusRules and
	// dashboard ConfigMaps for the cluster's Prometheus operator.
	KubeMonitoringOperator = "operator"
	// KubeMonitoringBundled: rcgen's own Prometheus and Grafana.
	KubeMonitoringBundled = "bundled"
)

// dns1123Label is a Kubernetes namespace name (RFC 1123 label, at most 63):
// https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-label-names
var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// dns1123Subdomain is most objects' names, StorageClasses' among them (at
// most 253): same page, #dns-subdomain-names.
var dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// IsDNSLabel reports whether s is an RFC 1123 label Kubernetes accepts.
func IsDNSLabel(s string) bool { return len(s) <= 63 && dns1123Label.MatchString(s) }

// IsDNSSubdomain reports whether s is an RFC 1123 subdomain Kubernetes accepts.
func IsDNSSubdomain(s string) bool { return len(s) <= 253 && dns1123Subdomain.MatchString(s) }

// Cluster reports whether the deployment spans several nodes (Swarm or
// Kubernetes): sized from the inventory, with no host of its own.
func (a Answers) Cluster() bool { return a.Swarm() || a.Kubernetes() }

// Namespace is the Kubernetes namespace (DefaultKubeNamespace when empty).
func (a Answers) Namespace() string {
	if a.KubeNamespace == "" {
		return DefaultKubeNamespace
	}
	return a.KubeNamespace
}

// IngressKind is the ingress answer, IngressNginx when empty.
func (a Answers) IngressKind() string {
	if a.Ingress == "" {
		return IngressNginx
	}
	return a.Ingress
}

// KubeMonitoringMode is the kube_monitoring answer: "" without
// monitoring, KubeMonitoringOperator when not given.
func (a Answers) KubeMonitoringMode() string {
	switch {
	case !a.Monitoring:
		return ""
	case a.KubeMonitoring == "":
		return KubeMonitoringOperator
	}
	return a.KubeMonitoring
}

// KubeDefaults fills the Kubernetes answers a person left out with their
// defaults, so rcgen.yaml records what the deployment was made with (the
// namespace above all: changing it later would strand the data).
func (a *Answers) KubeDefaults() {
	if !a.Kubernetes() {
		return
	}
	if a.KubeNamespace == "" {
		a.KubeNamespace = DefaultKubeNamespace
	}
	if a.Ingress == "" {
		a.Ingress = IngressNginx
	}
	if a.Monitoring && a.KubeMonitoring == "" {
		a.KubeMonitoring = KubeMonitoringOperator
	}
	// No Loki or collector on a cluster (LogsOn): rcgen.yaml must not say
	// there are.
	a.Logs = false
}

// checkKubeKey checks the form of one Kubernetes answer.
func (a Answers) checkKubeKey(key string) error {
	switch key {
	case KeyKubeNamespace:
		if a.KubeNamespace != "" && !IsDNSLabel(a.KubeNamespace) {
			return fmt.Errorf("%q is not a Kubernetes namespace name: lower-case letters, digits and -, starting and ending with a letter or digit, at most 63 (e.g. %s)", a.KubeNamespace, DefaultKubeNamespace)
		}
	case KeyStorageClass:
		if a.StorageClass != "" && !IsDNSSubdomain(a.StorageClass) {
			return fmt.Errorf("%q is not a StorageClass name: give one `kubectl get storageclass` lists (lower-case letters, digits, - and .), or leave it out for the cluster's default class", a.StorageClass)
		}
	case KeyIngress:
		if a.Ingress != "" && a.Ingress != IngressNginx && a.Ingress != IngressGateway {
			return fmt.Errorf("%q is not an ingress rcgen writes: use nginx (an Ingress for ingress-nginx) or gateway (a Gateway API HTTPRoute)", a.Ingress)
		}
	case KeyGatewayName:
		if a.GatewayName == "" {
			return nil
		}
		ns, name, ok := strings.Cut(a.GatewayName, "/")
		if !ok || !IsDNSLabel(ns) || !IsDNSSubdomain(name) {
			return fmt.Errorf("%q is not NAMESPACE/NAME of a Gateway: give it as `kubectl get gateway -A` lists it, e.g. gateway-system/public", a.GatewayName)
		}
	case KeyKubeMonitoring:
		if a.KubeMonitoring != "" && a.KubeMonitoring != KubeMonitoringOperator && a.KubeMonitoring != KubeMonitoringBundled {
			return fmt.Errorf("%q is not a way rcgen monitors on Kubernetes: use operator (the cluster's Prometheus operator) or bundled (rcgen's own Prometheus and Grafana)", a.KubeMonitoring)
		}
	}
	return nil
}

// checkKube checks what the Kubernetes answers ask of the others.
func (a Answers) checkKube() []error {
	var errs []error
	add := func(key, msg string) { errs = append(errs, &FieldError{Key: key, Msg: msg}) }
	if !a.Kubernetes() {
		for _, k := range []struct{ key, v string }{
			{KeyKubeNamespace, a.KubeNamespace}, {KeyStorageClass, a.StorageClass}, {KeyIngress, a.Ingress},
			{KeyGatewayName, a.GatewayName}, {KeyKubeMonitoring, a.KubeMonitoring},
		} {
			if k.v != "" {
				add(k.key, "{"+k.key+"} is for the Kubernetes target: give {target} kubernetes too, or leave it out")
			}
		}
		if a.OpenShift {
			add(KeyOpenShift, "{openshift} is for the Kubernetes target: give {target} kubernetes too, or leave it out")
		}
		return errs
	}
	if a.IngressKind() == IngressGateway && a.GatewayName == "" {
		add(KeyGatewayName, "an HTTPRoute attaches to a Gateway the cluster runs: give {gateway_name} as NAMESPACE/NAME, e.g. gateway-system/public")
	}
	if a.GatewayName != "" && a.IngressKind() != IngressGateway {
		add(KeyGatewayName, "a Gateway is only named with {ingress} gateway: drop {gateway_name}, or use the gateway ingress")
	}
	if a.IngressKind() == IngressGateway && (a.TLSCert != "" || a.TLSKey != "") {
		add(KeyTLSCert, "the Gateway {gateway_name} terminates TLS with its own listener's certificate: give the certificate to the Gateway, and leave out {tls_cert} and {tls_key}")
	}
	if t, err := ParseBackupTarget(a.BackupTarget); err == nil && a.BackupTarget != "" && t.Kind != OffsiteS3 {
		add(KeyBackupTarget, "on Kubernetes the backups are copied off the cluster to an S3 bucket only (s3://BUCKET/PREFIX): a directory or an SFTP server is not reachable the same way from a CronJob")
	}
	if a.KubeMonitoring != "" && !a.Monitoring {
		add(KeyKubeMonitoring, "{kube_monitoring} says how to monitor, and {monitoring} is off: drop {kube_monitoring}, or turn monitoring on")
	}
	return errs
}
