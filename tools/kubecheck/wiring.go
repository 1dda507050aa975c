package kubecheck

import (
	"encoding/json"
	"fmt"
	"strconv"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// wiring: what points at something by name or label points at something
// of the deployment: ServiceMonitors at Services and their named ports,
// PodMonitors at pods and their named ports, HTTPRoutes and Ingresses at
// Services and their ports, Certificates and Ingresses at cert-manager
// Issuers (a ClusterIssuer is the cluster's, outside the deployment).
func wiring(objs []*Object, ws []workload) []error {
	var errs []error
	bad := func(o *Object, format string, a ...interface{}) {
		errs = append(errs, fmt.Errorf("%s: %s", o.ID(), fmt.Sprintf(format, a...)))
	}
	svcs := map[[2]string]*corev1.Service{}
	issuers := map[[2]string]bool{}
	for _, o := range objs {
		if s, ok := o.Typed.(*corev1.Service); ok {
			svcs[[2]string{o.Namespace, o.Name}] = s
		}
		if o.GVK.Group == "cert-manager.io" && o.GVK.Kind == "Issuer" {
			issuers[[2]string{o.Namespace, o.Name}] = true
		}
	}
	servicePort := func(o *Object, where, ns, name string, port intOrName) {
		s, ok := svcs[[2]string{ns, name}]
		if !ok {
			bad(o, "%s names Service %q, which is not in the deployment", where, name)
			return
		}
		for _, p := range s.Spec.Ports {
			if (port.name != "" && p.Name == port.name) || (port.name == "" && p.Port == port.num) {
				return
			}
		}
		bad(o, "%s names port %s of Service %q, which has no such port", where, port, name)
	}
	for _, o := range objs {
		switch {
		case o.GVK.Group == "monitoring.coreos.com" && o.GVK.Kind == "ServiceMonitor":
			var sm monitoringv1.ServiceMonitor
			if fromRaw(o, &sm) != nil || (len(sm.Spec.NamespaceSelector.MatchNames) > 0 || sm.Spec.NamespaceSelector.Any) {
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
			if err != nil {
				bad(o, "selector: %v", err)
				continue
			}
			var matched []*corev1.Service
			for k, s := range svcs {
				if k[0] == o.Namespace && sel.Matches(labels.Set(s.Labels)) {
					matched = append(matched, s)
				}
			}
			if len(matched) == 0 || sel.Empty() {
				bad(o, "selector %s selects no Service of the deployment (by the Services' own labels)", sel)
				continue
			}
			for i, ep := range sm.Spec.Endpoints {
				if ep.Port == "" {
					continue
				}
				found := false
				for _, s := range matched {
					for _, p := range s.Spec.Ports {
						found = found || p.Name == ep.Port
					}
				}
				if !found {
					bad(o, "endpoints[%d].port %q is no port name of the Services it selects", i, ep.Port)
				}
			}
		case o.GVK.Group == "monitoring.coreos.com" && o.GVK.Kind == "PodMonitor":
			var pm monitoringv1.PodMonitor
			if fromRaw(o, &pm) != nil || (len(pm.Spec.NamespaceSelector.MatchNames) > 0 || pm.Spec.NamespaceSelector.Any) {
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(&pm.Spec.Selector)
			if err != nil {
				bad(o, "selector: %v", err)
				continue
			}
			pods := podsIn(ws, o.Namespace, sel)
			if len(pods) == 0 || sel.Empty() {
				bad(o, "selector %s selects no pod of the deployment", sel)
				continue
			}
			for i, ep := range pm.Spec.PodMetricsEndpoints {
				if ep.Port != nil && *ep.Port != "" && !anyPodHasPort(pods, *ep.Port) {
					bad(o, "podMetricsEndpoints[%d].port %q is no container port name of the pods it selects", i, *ep.Port)
				}
			}
		case o.GVK.Group == "gateway.networking.k8s.io" && o.GVK.Kind == "HTTPRoute":
			var hr struct {
				Spec struct {
					Rules []struct {
						BackendRefs []struct {
							Group     *string `json:"group"`
							Kind      *string `json:"kind"`
							Name      string  `json:"name"`
							Namespace *string `json:"namespace"`
							Port      *int32  `json:"port"`
						} `json:"backendRefs"`
					} `json:"rules"`
				} `json:"spec"`
			}
			if fromRaw(o, &hr) != nil {
				continue
			}
			for i, r := range hr.Spec.Rules {
				for j, b := range r.BackendRefs {
					if (b.Group != nil && *b.Group != "") || (b.Kind != nil && *b.Kind != "Service") || (b.Namespace != nil && *b.Namespace != o.Namespace) || b.Port == nil {
						continue
					}
					servicePort(o, fmt.Sprintf("rules[%d].backendRefs[%d]", i, j), o.Namespace, b.Name, intOrName{num: *b.Port})
				}
			}
		case o.GVK.Group == "cert-manager.io" && o.GVK.Kind == "Certificate":
			var c struct {
				Spec struct {
					IssuerRef struct{ Name, Kind, Group string } `json:"issuerRef"`
				} `json:"spec"`
			}
			if fromRaw(o, &c) == nil && (c.Spec.IssuerRef.Kind == "" || c.Spec.IssuerRef.Kind == "Issuer") && !issuers[[2]string{o.Namespace, c.Spec.IssuerRef.Name}] {
				bad(o, "issuerRef names Issuer %q, which is not in the deployment", c.Spec.IssuerRef.Name)
			}
		}
		if ing, ok := o.Typed.(*networkingv1.Ingress); ok {
			// cert-manager's ingress-shim reads this annotation:
			// https://cert-manager.io/docs/usage/ingress/#supported-annotations
			if is, ok := ing.Annotations["cert-manager.io/issuer"]; ok && !issuers[[2]string{o.Namespace, is}] {
				bad(o, "annotation cert-manager.io/issuer names Issuer %q, which is not in the deployment", is)
			}
			backend := func(where string, b *networkingv1.IngressBackend) {
				if b == nil || b.Service == nil {
					return
				}
				servicePort(o, where, o.Namespace, b.Service.Name, intOrName{num: b.Service.Port.Number, name: b.Service.Port.Name})
			}
			backend("defaultBackend", ing.Spec.DefaultBackend)
			for i, r := range ing.Spec.Rules {
				if r.HTTP == nil {
					continue
				}
				for j, p := range r.HTTP.Paths {
					backend(fmt.Sprintf("rules[%d].http.paths[%d].backend", i, j), &p.Backend)
				}
			}
		}
	}
	return errs
}

type intOrName struct {
	num  int32
	name string
}

func (p intOrName) String() string {
	if p.name != "" {
		return strconv.Quote(p.name)
	}
	return strconv.Itoa(int(p.num))
}

// fromRaw decodes o's JSON into v, leniently: the schema checks are
// validateObject's.
func fromRaw(o *Object, v interface{}) error {
	b, err := json.Marshal(o.Raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
