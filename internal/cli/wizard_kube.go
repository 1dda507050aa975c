package cli

import (
	"errors"

	"github.com/rcgen/rcgen/internal/spec"
)

// askKube asks the Kubernetes answers (target kubernetes only): the
// namespace, the storage class of the volumes and how users come in.
func (w *wizard) askKube() error {
	a := w.a
	if !a.Kubernetes() {
		a.KubeNamespace, a.StorageClass, a.Ingress, a.GatewayName, a.KubeMonitoring = "", "", "", "", ""
		return nil
	}
	w.record(spec.KeyKubeNamespace, spec.KeyStorageClass, spec.KeyIngress, spec.KeyGatewayName)
	ns, err := w.p.Input("Kubernetes namespace:",
		"Every object goes into this namespace (rcgen's files create it). Its name never changes once MongoDB holds data: the volumes belong to it.",
		a.Namespace(), w.check(spec.KeyKubeNamespace, func(c *spec.Answers, s string) { c.KubeNamespace = s }))
	if err != nil {
		return err
	}
	a.KubeNamespace = ns
	sc, err := w.p.Input("StorageClass of the MongoDB volumes (empty: the cluster's default):",
		"One of `kubectl get storageclass`; a class of local or block volumes that follow the pod's node suits MongoDB best. "+
			"It never changes once data exists.",
		a.StorageClass, w.check(spec.KeyStorageClass, func(c *spec.Answers, s string) { c.StorageClass = s }))
	if err != nil {
		return err
	}
	a.StorageClass = sc
	const nginx, gateway = "ingress-nginx (an Ingress)", "Gateway API (an HTTPRoute on a Gateway you run)"
	def := nginx
	if a.IngressKind() == spec.IngressGateway {
		def = gateway
	}
	v, err := w.p.Select("How do users reach Rocket.Chat?",
		"rcgen writes an Ingress for ingress-nginx with cookie affinity (SockJS needs a browser to keep its pod), or an HTTPRoute for a Gateway the cluster already runs.",
		[]string{nginx, gateway}, def)
	if err != nil {
		return err
	}
	if v == nginx {
		a.Ingress, a.GatewayName = spec.IngressNginx, ""
		return nil
	}
	a.Ingress = spec.IngressGateway
	g, err := w.p.Input("Gateway the HTTPRoute attaches to (NAMESPACE/NAME):",
		"As `kubectl get gateway -A` lists it, e.g. gateway-system/public. It must terminate TLS for the domain.",
		a.GatewayName, func(s string) error {
			if s == "" {
				return errors.New("give the Gateway as NAMESPACE/NAME")
			}
			return w.check(spec.KeyGatewayName, func(c *spec.Answers, s string) { c.GatewayName = s })(s)
		})
	if err != nil {
		return err
	}
	a.GatewayName = g
	return nil
}

// askKubeTLS is the HTTPS question on Kubernetes: cert-manager gets the
// certificate, or the person's own files become a TLS Secret.
func (w *wizard) askKubeTLS() error {
	a := w.a
	a.Proxy, a.ProxyNetwork = spec.ProxyCaddy, ""
	auto := tlsAuto + " from Let's Encrypt (cert-manager gets and renews it)"
	if spec.TLSModeFor(a.Domain) == spec.TLSInternal {
		auto = tlsAuto + " from a self-signed cert-manager Issuer (a local name Let's Encrypt cannot reach)"
	}
	for {
		def := auto
		if a.TLSCert != "" {
			def = tlsOwn
		}
		v, err := w.p.Select("How should HTTPS work?",
			"cert-manager (which the cluster must run) can get and renew a certificate, or rcgen puts certificate files you already have into a TLS Secret.",
			[]string{auto, tlsOwn}, def)
		if err != nil {
			return err
		}
		if v != tlsOwn {
			a.TLSCert, a.TLSKey = "", ""
			return nil
		}
		if err := w.askCertificate(); errors.Is(err, errBack) {
			continue
		} else if err != nil {
			return err
		}
		return nil
	}
}

// askKubeMonitoring asks, on Kubernetes with monitoring on, whether the
// cluster's Prometheus operator monitors the deployment.
func (w *wizard) askKubeMonitoring() error {
	a := w.a
	if !a.Kubernetes() || !a.Monitoring {
		a.KubeMonitoring = ""
		return nil
	}
	w.record(spec.KeyKubeMonitoring)
	const operator, bundled = "The cluster's Prometheus operator (ServiceMonitors, PrometheusRules, dashboards for Grafana's sidecar)", "rcgen's own Prometheus and Grafana in the namespace"
	def := operator
	if a.KubeMonitoring == spec.KubeMonitoringBundled {
		def = bundled
	}
	v, err := w.p.Select("Who monitors it?",
		"Clusters with kube-prometheus-stack (or OpenShift's monitoring) pick up rcgen's monitors and alert rules; clusters without one get rcgen's own Prometheus and Grafana.",
		[]string{operator, bundled}, def)
	if err != nil {
		return err
	}
	a.KubeMonitoring = spec.KubeMonitoringOperator
	if v == bundled {
		a.KubeMonitoring = spec.KubeMonitoringBundled
	}
	return nil
}
