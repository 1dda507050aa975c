package render

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// Paths of the generated files, relative to the deployment directory.
const (
	ComposeFile      = "compose.yaml"
	EnvFile          = ".env"
	ReadmeFile       = "README.md"
	CaddyFile        = "caddy/Caddyfile"
	PrometheusFile   = "prometheus/prometheus.yml"
	DatasourceFile   = "grafana/provisioning/datasources/prometheus.yaml"
	DashProvFile     = "grafana/provisioning/dashboards/rcgen.yaml"
	DashboardFile    = "grafana/dashboards/rocketchat.json"
	MongoInitFile    = "mongodb/init-replica-set.js"
	MongoKeyfile     = "secrets/mongodb.keyfile"
	RulesFile        = "prometheus/rules/rocketchat.yml"
	AlertmanagerFile = "alertmanager/alertmanager.yml"
	BackupScript     = "backup/backup.sh"
	BackupCounts     = "backup/counts.js"
	// LokiFile and OtelcolFile configure Loki and the log collector
	// (logs: true); LokiDatasourceFile is Grafana's datasource for Loki.
	LokiFile           = "loki/loki.yaml"
	OtelcolFile        = "otelcol/config.yaml"
	LokiDatasourceFile = "grafana/provisioning/datasources/loki.yaml"
	LokiDatasourceUID  = "loki"
	// OtelcolMetricsPort is where the collector's prometheus exporter
	// serves the log-derived counters, on the internal network.
	OtelcolMetricsPort = 8889
	// BackupsDir is where the backup service writes (not generated).
	BackupsDir  = "backups"
	TLSCertFile = "certs/cert.pem"
	TLSKeyFile  = "certs/key.pem"
	// The offsite copy's secrets (mode 0600): the credentials as given
	// (kept for re-runs) and the rclone config built from them.
	S3AccessKeyFile    = "secrets/backup-s3-access-key"
	S3SecretKeyFile    = "secrets/backup-s3-secret-key"
	SFTPKeyFile        = "secrets/backup-sftp-key"
	SFTPKnownHostsFile = "secrets/backup-sftp-known-hosts"
	RcloneConfigFile   = "secrets/rclone.conf"
	DatasourceUID      = "prometheus"
	ReplicaSet         = "rs0"
	MetricsPort        = 9458
	AppPort            = 3000
	CaddyMetricPort    = 9180
	GrafanaLocal       = 3100 // host port Grafana gets on 127.0.0.1 with --proxy none
	MongoUID           = 1001 // the mongod user of mongodb/mongodb-community-server
	// MemberWaitMinutes is how long mongodb-init waits for a majority of the
	// members to answer (init-replica-set.js).
	MemberWaitMinutes = 5
	// AppStartPeriod is how long an app process may take to first answer
	// its health check (compose.yaml): the migrations after a release
	// change run before it serves, and processes 2..N wait for the first.
	AppStartPeriod = "1h"
)

// App is one Rocket.Chat process.
type App struct {
	Name string
	// HostPort is the 127.0.0.1 port it is published on with --proxy none.
	HostPort int
}

// Member is one MongoDB replica set member.
type Member struct {
	Name string
	// Host is its address in the replica set configuration: NAME:27017,
	// or on Kubernetes the StatefulSet pod's stable name through the
	// headless Service (NAME.mongodb:27017).
	Host   string
	Volume string
	// Primary marks the member that creates the root user and is preferred
	// as primary.
	Primary bool
}

// ScrapeJob is one job of prometheus.yml.
type ScrapeJob struct {
	Name    string
	Path    string // metrics_path when not Prometheus's default
	Targets []ScrapeTarget
	// DNS and Port find the targets by DNS instead (Swarm's tasks.SERVICE).
	DNS  string
	Port int
}

// ScrapeTarget is one address Prometheus scrapes, with its instance label.
type ScrapeTarget struct{ Address, Instance string }

// scrapeEndpoints maps each service Prometheus can scrape to its job, the
// address on the compose network and the instance label.
var scrapeEndpoints = map[string]struct{ job, addr, instance string }{
	sizing.NATSExporter:  {"nats", "nats-exporter:7777", "nats"},
	sizing.NodeExporter:  {"node", "node-exporter:9100", "host"},
	sizing.Caddy:         {"caddy", fmt.Sprintf("caddy:%d", CaddyMetricPort), "caddy"},
	sizing.Traefik:       {"traefik", fmt.Sprintf("traefik:%d", TraefikMetricPort), "traefik"},
	sizing.Grafana:       {"grafana", "grafana:3000", "grafana"},
	sizing.Alertmanager:  {"alertmanager", "alertmanager:9093", "alertmanager"},
	sizing.Prometheus:    {"prometheus", "localhost:9090", "prometheus"},
	sizing.Loki:          {"loki", "loki:3100", "loki"},
	sizing.OtelCollector: {"otelcol", fmt.Sprintf("otel-collector:%d", OtelcolMetricsPort), "otel-collector"},
}

// scrapeJobs lays out the plan's scrape targets as prometheus.yml jobs, in
// the plan's order; the app processes share one job. On Swarm the app tasks
// and the node exporters (one per node) are found by DNS.
func scrapeJobs(p sizing.Plan) ([]ScrapeJob, error) {
	var jobs []ScrapeJob
	for _, t := range p.ScrapeTargets {
		if p.Swarm != nil && (strings.HasPrefix(t, "rocketchat-") || t == sizing.NodeExporter || t == sizing.OtelCollector) {
			job, dns, port := "rocketchat", "tasks.rocketchat", MetricsPort
			switch t {
			case sizing.NodeExporter:
				job, dns, port = "node", "tasks.node-exporter", 9100
			case sizing.OtelCollector:
				// One collector per node (global).
				job, dns, port = "otelcol", "tasks.otel-collector", OtelcolMetricsPort
			}
			if !slices.ContainsFunc(jobs, func(j ScrapeJob) bool { return j.Name == job }) {
				jobs = append(jobs, ScrapeJob{Name: job, DNS: dns, Port: port})
			}
			continue
		}
		if member, ok := strings.CutPrefix(t, sizing.MongoDBExporter+"-"); ok {
			if len(jobs) == 0 || jobs[len(jobs)-1].Name != "mongodb" {
				jobs = append(jobs, ScrapeJob{Name: "mongodb"})
			}
			j := &jobs[len(jobs)-1]
			j.Targets = append(j.Targets, ScrapeTarget{t + ":9216", "mongodb-" + member})
			continue
		}
		if strings.HasPrefix(t, "rocketchat-") {
			if len(jobs) == 0 || jobs[len(jobs)-1].Name != "rocketchat" {
				jobs = append(jobs, ScrapeJob{Name: "rocketchat", Path: "/metrics"})
			}
			j := &jobs[len(jobs)-1]
			j.Targets = append(j.Targets, ScrapeTarget{fmt.Sprintf("%s:%d", t, MetricsPort), t})
			continue
		}
		e, ok := scrapeEndpoints[t]
		if !ok {
			return nil, fmt.Errorf("the plan scrapes %s, and render knows no metrics endpoint for it", t)
		}
		jobs = append(jobs, ScrapeJob{Name: e.job, Targets: []ScrapeTarget{{e.addr, e.instance}}})
	}
	return jobs, nil
}

// Port is one port the deployment publishes on its host: the compose (or
// stack) file publishes exactly these, and the README lists exactly these,
// both from this one list (Data.Ports).
type Port struct {
	Service string
	// HostIP is the address it is bound to: "" for every interface.
	HostIP    string
	Published int
	Target    int
	Protocol  string // "tcp" or "udp"
	// Node is the Swarm node it is published on ("" on one host).
	Node string
	// For says what a person reaches there.
	For string
}

// Compose is the port in compose's short syntax ("127.0.0.1:9090:9090",
// "443:443/udp").
func (p Port) Compose() string {
	s := fmt.Sprintf("%d:%d", p.Published, p.Target)
	if p.HostIP != "" {
		s = p.HostIP + ":" + s
	}
	if p.Protocol != "tcp" {
		s += "/" + p.Protocol
	}
	return s
}

// Where is where the port is bound, as the README lists it: "every
// interface" (of the node, on Swarm) or "127.0.0.1 only".
func (p Port) Where() string {
	switch {
	case p.HostIP != "":
		return p.HostIP + " only"
	case p.Node != "":
		return "every interface of `" + p.Node + "`"
	}
	return "every interface"
}

// Forward is the SSH command that brings a port bound to the loopback to
// the operator's machine ("" for one on every interface).
func (p Port) Forward() string {
	if p.HostIP == "" {
		return ""
	}
	return fmt.Sprintf("ssh -L %d:%s:%d you@server", p.Published, p.HostIP, p.Published)
}

// Forwarded returns the first port published on the loopback only that
// needs no root to forward (the README's example of reaching one from
// elsewhere), or nil.
func (d *Data) Forwarded() *Port {
	for i, p := range d.Ports {
		if p.HostIP != "" && p.Published >= 1024 {
			return &d.Ports[i]
		}
	}
	return nil
}

// ports lists what the deployment publishes. On one host: the proxy (on
// the loopback only for a localhost deployment), or each app process on
// the loopback for the operator's own proxy; Prometheus, Alertmanager and
// (without Caddy) Grafana on the loopback, for the operator. On Swarm only
// the proxy, on its node (the stack's other ports would go through the
// routing mesh, which binds every interface of every node).
func ports(a spec.Answers, p sizing.Plan, apps []App) []Port {
	var out []Port
	node := ""
	if p.Swarm != nil {
		node = p.Swarm.ProxyNode
	}
	add := func(service, ip string, published, target int, proto, what string) {
		out = append(out, Port{Service: service, HostIP: ip, Published: published, Target: target, Protocol: proto, Node: node, For: what})
	}
	proxy := ""
	for _, s := range []string{sizing.Caddy, sizing.Traefik} {
		if p.Has(s) {
			proxy = s
		}
	}
	switch {
	case proxy != "":
		ip := ""
		if p.Swarm == nil && a.LoopbackOnly() {
			ip = "127.0.0.1"
		}
		if a.TLSMode() == spec.TLSNone {
			add(proxy, ip, 80, 80, "tcp", "Rocket.Chat over http")
		} else {
			http := "http, redirected to https"
			if a.TLSMode() == spec.TLSACME && proxy == sizing.Caddy {
				// Traefik answers the TLS-ALPN challenge, on 443.
				http += ", and Let's Encrypt's challenge"
			}
			add(proxy, ip, 80, 80, "tcp", http)
			add(proxy, ip, 443, 443, "tcp", "Rocket.Chat over https")
			add(proxy, ip, 443, 443, "udp", "Rocket.Chat over HTTP/3")
		}
	case a.AppsOnLoopback():
		what := "this app process, for your own proxy"
		if a.Proxy == spec.ProxyHost {
			what = "this app process, for the proxy on this host (" + HostNginxFile + ", " + HostCaddyFile + ")"
		}
		for _, app := range apps {
			add(app.Name, "127.0.0.1", app.HostPort, AppPort, "tcp", what)
		}
	}
	// nginx-proxy and caddy-docker-proxy reach the app processes on
	// their own network: nothing of theirs is published.
	if p.Swarm != nil {
		return out
	}
	if p.Has(sizing.Prometheus) {
		add(sizing.Prometheus, "127.0.0.1", 9090, 9090, "tcp", "Prometheus: its UI, API and the links in alerts")
	}
	if p.Has(sizing.Grafana) && proxy == "" && a.Proxy != spec.ProxyTraefikLabels {
		add(sizing.Grafana, "127.0.0.1", GrafanaLocal, 3000, "tcp", "Grafana")
	}
	if p.Has(sizing.Alertmanager) {
		add(sizing.Alertmanager, "127.0.0.1", 9093, 9093, "tcp", "Alertmanager: silences, and the links in alert emails")
	}
	return out
}

// PortsOf returns the ports service publishes.
func (d *Data) PortsOf(service string) []Port {
	var out []Port
	for _, p := range d.Ports {
		if p.Service == service {
			out = append(out, p)
		}
	}
	return out
}

// Data is everything the templates lay out. Logic lives here, not in them.
type Data struct {
	Answers   spec.Answers
	Plan      sizing.Plan
	Version   spec.Version
	PublicURL string
	TLSMode   string
	// ScrapeJobs are prometheus.yml's jobs, from the plan's scrape targets.
	ScrapeJobs []ScrapeJob
	// LoopbackOnly publishes the proxy on 127.0.0.1 only: a localhost
	// deployment is for this machine.
	LoopbackOnly bool
	// Majority is how many members elect a primary.
	Majority int
	// SMTP is the mail server split for Rocket.Chat's settings.
	SMTP struct{ Host, Port, Protocol string }
	// Mongo is the MongoDB series the release runs on (catalog).
	Mongo catalog.MongoDBSeries
	// Swarm is the placement over the nodes (target swarm), else nil.
	Swarm *sizing.Swarm
	// Kube is what the Kubernetes manifests need beside the rest (target
	// kubernetes), else nil.
	Kube *Kube
	// Configs, SwarmSecrets and DashboardConfigs are the Swarm configs and
	// secrets the stack file names (Render fills them from the files).
	Configs, SwarmSecrets, DashboardConfigs []SwarmObject
	// SMTPPasswordFile is where Alertmanager reads the SMTP password.
	SMTPPasswordFile string
	// Backup is the backup service's schedule, when the plan runs it.
	Backup struct {
		Schedule spec.Schedule
		// EverySeconds is the interval (0 for a daily time); PeriodSeconds
		// the longest gap between two backups.
		EverySeconds, PeriodSeconds int64
		// AlertAfter is how old the newest backup may get before the
		// alert fires: the period and an hour for the dump itself.
		AlertAfter string
	}
	// Offsite is where the backup-offsite service copies every finished
	// backup (backup_target), when the plan runs it.
	Offsite Offsite

	Apps       []App
	AppMemory  string // compose memory limit, e.g. "1536m"
	AppHeapMiB int64
	HealthPath string // liveness, for the container health check
	// HealthOK is the JavaScript condition on the answer r the container
	// health check accepts (catalog.HealthStrict).
	HealthOK     string
	ReadyPath    string // readiness, for the proxy's active health check
	Members      []Member
	MongoHosts   string // "mongodb-1:27017,mongodb-2:27017"
	MongoMemory  string
	MongoCacheGB string

	// Traefik is the Traefik configuration (proxy traefik or
	// traefik-labels), else nil.
	Traefik *Traefik
	// Ports are what the deployment publishes on its host.
	Ports []Port

	// ProxyNetwork is the user's proxy's external network the app
	// processes join ("" when the proxy reaches them otherwise); ProxyEnv
	// and ProxyLabels are what that proxy reads on each of them (ownProxy).
	ProxyNetwork string
	ProxyEnv     []KV
	ProxyLabels  []KV

	Images map[string]string
	// Budgets maps a fixed service to its compose memory limit.
	Budgets map[string]string

	// Rerun is the rcgen command that regenerates this deployment in place.
	Rerun string
	// KeepEnv are the operator's .env lines, kept (see Input).
	KeepEnv []string
	// Placeholder is set for documentation examples with public secrets.
	Placeholder bool
	// DeploymentID names the deployment in its backups (the Swarm backup
	// service's environment: docker stack deploy reads no .env).
	DeploymentID string

	Retention      string
	LogsRetention  string
	HeapAlertBytes string // 90% of the heap limit, for the alert rule
	RetentionSize  string
	RcgenVersion   string
}

// Has reports whether the plan runs service: templates ask this, never
// the answers, so the set of services is decided once, by the plan.
func (d *Data) Has(service string) bool { return d.Plan.Has(service) }

// Input is what a deployment is rendered from.
type Input struct {
	Answers spec.Answers
	Plan    sizing.Plan
	Secrets Secrets
	// RcgenVersion goes into every file's header.
	RcgenVersion string
	// Rerun is the command that regenerates the deployment in place, as
	// the README shows it (already shell-quoted).
	Rerun string
	// KeepEnv are the operator's own lines of the deployment's .env (keys
	// rcgen does not own), kept in the new .env as they were.
	KeepEnv []string
	// MongoDB is the MongoDB series to run instead of the release's own
	// (an upgrade's intermediate step); "" for the catalog's pairing.
	MongoDB string
}

// Derive computes the template data from validated answers and a plan.
func Derive(in Input) (*Data, error) {
	a, p := in.Answers, in.Plan
	v, err := spec.ParseVersion(a.RocketChatVersion)
	if err != nil {
		return nil, err
	}
	mongo, err := catalog.MongoDBFor(a.RocketChatVersion)
	if err != nil {
		return nil, err
	}
	if in.MongoDB != "" {
		s, ok := catalog.Series(in.MongoDB)
		if !ok {
			return nil, fmt.Errorf("rcgen pins no MongoDB %s image", in.MongoDB)
		}
		mongo = s
	}
	jobs, err := scrapeJobs(p)
	if err != nil {
		return nil, err
	}
	d := &Data{
		Answers:      a,
		Plan:         p,
		Version:      v,
		PublicURL:    a.PublicURL(),
		TLSMode:      a.TLSMode(),
		ScrapeJobs:   jobs,
		LoopbackOnly: a.LoopbackOnly(),
		Mongo:        mongo,
		AppMemory:    composeBytes(p.AppMemory),
		AppHeapMiB:   p.AppHeapMiB,
		HealthPath:   catalog.HealthPath(a.RocketChatVersion),
		HealthOK:     healthOK(a.RocketChatVersion),
		ReadyPath:    catalog.ReadyPath(a.RocketChatVersion),
		MongoMemory:  composeBytes(p.MongoDBMemory),
		MongoCacheGB: strconv.FormatFloat(p.MongoDBCacheGB, 'f', 2, 64),
		Images: map[string]string{
			sizing.Caddy:           catalog.CaddyImage,
			sizing.Traefik:         catalog.TraefikImage,
			sizing.NATS:            catalog.NATSImage,
			sizing.NATSExporter:    catalog.NATSExporterImage,
			sizing.MongoDBExporter: catalog.MongoDBExporterImage,
			sizing.Prometheus:      catalog.PrometheusImage,
			sizing.Grafana:         catalog.GrafanaImage,
			sizing.NodeExporter:    catalog.NodeExporterImage,
			sizing.Alertmanager:    catalog.AlertmanagerImage,
			sizing.Backup:          catalog.BackupImage,
			sizing.BackupOffsite:   catalog.RcloneImage,
			sizing.Loki:            catalog.LokiImage,
			sizing.OtelCollector:   catalog.OtelCollectorImage,
		},
		Budgets:        map[string]string{},
		Retention:      a.MetricsRetention,
		RetentionSize:  a.MetricsRetentionSize,
		LogsRetention:  a.LogsRetention,
		HeapAlertBytes: strconv.FormatInt(p.AppHeapMiB*spec.MiB*9/10, 10),
		RcgenVersion:   in.RcgenVersion,
		Rerun:          in.Rerun,
		KeepEnv:        in.KeepEnv,
		Placeholder:    in.Secrets.Placeholder,
		DeploymentID:   in.Secrets.DeploymentID,
	}
	if host, port, err := net.SplitHostPort(a.SMTPHost); err == nil {
		d.SMTP.Host, d.SMTP.Port, d.SMTP.Protocol = host, port, "smtp"
		if port == "465" {
			d.SMTP.Protocol = "smtps" // implicit TLS; 587 and 25 use STARTTLS
		}
	}
	for i := 1; i <= p.Processes; i++ {
		d.Apps = append(d.Apps, App{Name: sizing.AppName(i), HostPort: AppPort + i - 1})
	}
	var hosts []string
	for i := 1; i <= p.MongoDBMembers; i++ {
		name := sizing.MemberName(i)
		host := fmt.Sprintf("%s:27017", name)
		if p.Kube != nil {
			// StatefulSet pods count from 0: mongodb-0 is the first member.
			name = fmt.Sprintf("%s-%d", KubeMongo, i-1)
			host = fmt.Sprintf("%s.%s:27017", name, KubeMongo)
		}
		d.Members = append(d.Members, Member{Name: name, Host: host, Volume: name + "-data", Primary: i == 1})
		hosts = append(hosts, host)
	}
	d.MongoHosts = strings.Join(hosts, ",")
	d.Ports = ports(a, p, d.Apps)
	d.ownProxy()
	d.Majority = len(d.Members)/2 + 1
	for _, b := range p.Services {
		d.Budgets[b.Service] = composeBytes(b.Memory)
	}
	d.Swarm = p.Swarm
	if p.Kube != nil {
		d.Kube = deriveKube(d)
	}
	d.Traefik = deriveTraefik(a, d)
	d.SMTPPasswordFile = "/alertmanager/.smtp-password"
	if d.Swarm != nil {
		d.SMTPPasswordFile = "/run/secrets/smtp_password"
	}
	if p.Has(sizing.Backup) {
		sch, err := spec.ParseSchedule(a.BackupSchedule)
		if err != nil {
			return nil, err
		}
		d.Backup.Schedule = sch
		d.Backup.EverySeconds = int64(sch.Every / time.Second)
		d.Backup.PeriodSeconds = int64(sch.Period() / time.Second)
		d.Backup.AlertAfter = model.Duration(sch.Period() + time.Hour).String()
		if p.Has(sizing.BackupOffsite) {
			o, err := offsiteFor(a, sch)
			if err != nil {
				return nil, err
			}
			d.Offsite = o
		}
	}
	return d, nil
}

// MemberNode is the Swarm node a member runs on.
func (d *Data) MemberNode(member string) string {
	for i, m := range d.Members {
		if m.Name == member && d.Swarm != nil && i < len(d.Swarm.MemberNodes) {
			return d.Swarm.MemberNodes[i]
		}
	}
	return ""
}

// SwarmObject is a Swarm config or secret of the stack: its key in the
// stack file, its name in the swarm (with a hash of its content, as Swarm's
// are immutable), the deployment file it is made from, and where a service
// sees it.
type SwarmObject struct{ Key, Name, File, Target string }

// MongoImageTag is the MongoDB image tag written to .env.
func (d *Data) MongoImageTag() string { return d.Mongo.Tag }

// MongoImageRepo is the MongoDB image without its tag.
func (d *Data) MongoImageRepo() string { return catalog.MongoDBImageRepo }

// GlibcTunables is the environment every mongod runs with (catalog.KernelRule).
func (d *Data) GlibcTunables() string { return catalog.GlibcTunables }

// composeBytes writes a size the way compose reads it, in whole MiB.
func composeBytes(b int64) string {
	return strconv.FormatInt(b/spec.MiB, 10) + "m"
}

// healthOK is what the app's container health check accepts: a 200 where
// /health fails only for its own process, else any HTTP answer (the
// process serves; catalog.HealthStrict says why).
func healthOK(version string) string {
	if catalog.HealthStrict(version) {
		return "r.statusCode === 200"
	}
	return "r.statusCode > 0"
}
