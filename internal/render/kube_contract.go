package render

// The Kubernetes target's shared names (issue 29). The manifests
// (kubernetes/*.yaml), the monitoring objects, the NetworkPolicies and the
// Helm values all select pods by these labels and reach them by these
// Service names and ports, so they are defined once here.

// Label keys every generated object carries (Kubernetes' recommended
// labels: https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/).
const (
	KubeLabelName     = "app.kubernetes.io/name"       // the component: KubeApp, KubeMongo...
	KubeLabelInstance = "app.kubernetes.io/instance"   // the deployment: the project answer
	KubeLabelPartOf   = "app.kubernetes.io/part-of"    // always "rocketchat"
	KubeLabelManaged  = "app.kubernetes.io/managed-by" // always "rcgen"
)

// Components: the value of KubeLabelName on each workload's pods, and the
// name of its Service (where it has one), Deployment/StatefulSet/Job.
const (
	KubeApp          = "rocketchat"         // Deployment + Service rocketchat (ports http 3000, metrics 9458)
	KubeAppMigrate   = "rocketchat-migrate" // the one pod/Job that runs migrations first
	KubeMongo        = "mongodb"            // StatefulSet + headless Service mongodb (port mongodb 27017)
	KubeMongoInit    = "mongodb-init"       // Job that initiates and grows the replica set
	KubeMongoExport  = "mongodb-exporter"   // Deployment + Service (port metrics 9216)
	KubeNATS         = "nats"               // Deployment + Service nats (client 4222, monitor 8222)
	KubeNATSExporter = "nats-exporter"      // sidecar port metrics 7777 in the nats pod
	KubeBackup       = "backup"             // CronJob
	KubePrometheus   = "prometheus"         // bundled only (kube_monitoring: bundled)
	KubeGrafana      = "grafana"            // bundled only
)

// Port names on the Services above (ServiceMonitors select by name).
const (
	KubePortHTTP    = "http"
	KubePortMetrics = "metrics"
	KubePortMongo   = "mongodb"
	KubePortNATS    = "client"
)

// Values of the kube_monitoring answer.
const (
	KubeMonitoringOperator = "operator" // ServiceMonitor/PodMonitor/PrometheusRule + dashboard ConfigMaps
	KubeMonitoringBundled  = "bundled"  // rcgen's own Prometheus and Grafana in the namespace
)

// Values of the ingress answer.
const (
	KubeIngressNginx   = "nginx"   // networking.k8s.io/v1 Ingress for ingress-nginx
	KubeIngressGateway = "gateway" // gateway.networking.k8s.io/v1 HTTPRoute
)

// KubeOptions are the Kubernetes answers the manifests need beside Data.
type KubeOptions struct {
	Namespace    string // kube_namespace answer (default "rocketchat")
	StorageClass string // storage_class answer ("" = the cluster's default)
	Ingress      string // KubeIngressNginx or KubeIngressGateway
	Monitoring   string // KubeMonitoringOperator, KubeMonitoringBundled, or "" (monitoring off)
	// Gateway is the parent Gateway of the HTTPRoute as NAMESPACE/NAME
	// (gateway_name answer; Ingress == KubeIngressGateway only).
	Gateway string
}

// KubeLabels are the labels of component in instance (the project).
func KubeLabels(instance, component string) map[string]string {
	return map[string]string{
		KubeLabelName:     component,
		KubeLabelInstance: instance,
		KubeLabelPartOf:   "rocketchat",
		KubeLabelManaged:  "rcgen",
	}
}

// KubeSelector is the label selector of component's pods: name and
// instance only (the other labels may change between releases; selectors
// of Deployments and StatefulSets are immutable).
func KubeSelector(instance, component string) map[string]string {
	return map[string]string{KubeLabelName: component, KubeLabelInstance: instance}
}
