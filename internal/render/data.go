package render

import (
	"fmt"
	"strconv"
	"strings"

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
	TLSCertFile      = "certs/cert.pem"
	TLSKeyFile       = "certs/key.pem"
	DatasourceUID    = "prometheus"
	ReplicaSet       = "rs0"
	MetricsPort      = 9458
	AppPort          = 3000
	CaddyMetricPort  = 9180
	GrafanaLocal     = 3100 // host port Grafana gets on 127.0.0.1 with --proxy none
	MongoUID         = 1001 // the mongod user of mongodb/mongodb-community-server
)

// App is one Rocket.Chat process.
type App struct {
	Name string
	// HostPort is the 127.0.0.1 port it is published on with --proxy none.
	HostPort int
}

// Member is one MongoDB replica set member.
type Member struct {
	Name   string
	Volume string
	// Primary marks the member that creates the root user and is preferred
	// as primary.
	Primary bool
}

// Data is everything the templates lay out. Logic lives here, not in them.
type Data struct {
	Answers   spec.Answers
	Plan      sizing.Plan
	Version   spec.Version
	PublicURL string
	TLSMode   string
	Proxy     bool
	NATS      bool

	Apps         []App
	AppMemory    string // compose memory limit, e.g. "1536m"
	AppHeapMiB   int64
	HealthPath   string // liveness, for the container health check
	ReadyPath    string // readiness, for the proxy's active health check
	Members      []Member
	MongoHosts   string // "mongodb-1:27017,mongodb-2:27017"
	MongoMemory  string
	MongoCacheGB string

	Images map[string]string
	// Budgets maps a fixed service to its compose memory limit.
	Budgets map[string]string

	// Rerun is the rcgen command that regenerates this deployment in place.
	Rerun string
	// Placeholder is set for documentation examples with public secrets.
	Placeholder bool

	Retention      string
	HeapAlertBytes string // 90% of the heap limit, for the alert rule
	RetentionSize  string
	RcgenVersion   string
}

// Derive computes the template data from validated answers and a plan.
func Derive(a spec.Answers, p sizing.Plan, rcgenVersion string) (*Data, error) {
	v, err := spec.ParseVersion(a.RocketChatVersion)
	if err != nil {
		return nil, err
	}
	d := &Data{
		Answers:      a,
		Plan:         p,
		Version:      v,
		PublicURL:    a.PublicURL(),
		TLSMode:      a.TLSMode(),
		Proxy:        a.Proxy == spec.ProxyCaddy,
		NATS:         p.Processes > 1,
		AppMemory:    composeBytes(p.AppMemory),
		AppHeapMiB:   p.AppHeapMiB,
		HealthPath:   spec.HealthPath(v),
		ReadyPath:    spec.ReadyPath(v),
		MongoMemory:  composeBytes(p.MongoDBMemory),
		MongoCacheGB: strconv.FormatFloat(p.MongoDBCacheGB, 'f', 2, 64),
		Images: map[string]string{
			"caddy":            spec.CaddyImage,
			"nats":             spec.NATSImage,
			"nats-exporter":    spec.NATSExporterImage,
			"mongodb-exporter": spec.MongoDBExporterImage,
			"prometheus":       spec.PrometheusImage,
			"grafana":          spec.GrafanaImage,
			"node-exporter":    spec.NodeExporterImage,
			"alertmanager":     spec.AlertmanagerImage,
		},
		Budgets:        map[string]string{},
		Retention:      a.MetricsRetention,
		RetentionSize:  a.MetricsRetentionSize,
		HeapAlertBytes: strconv.FormatInt(p.AppHeapMiB*spec.MiB*9/10, 10),
		RcgenVersion:   rcgenVersion,
	}
	for i := 1; i <= p.Processes; i++ {
		d.Apps = append(d.Apps, App{Name: fmt.Sprintf("rocketchat-%d", i), HostPort: AppPort + i - 1})
	}
	var hosts []string
	for i := 1; i <= p.MongoDBMembers; i++ {
		name := fmt.Sprintf("mongodb-%d", i)
		d.Members = append(d.Members, Member{Name: name, Volume: name + "-data", Primary: i == 1})
		hosts = append(hosts, fmt.Sprintf("%s:27017", name))
	}
	d.MongoHosts = strings.Join(hosts, ",")
	d.Rerun = rerunCommand(a)
	for _, b := range p.Services {
		d.Budgets[b.Service] = composeBytes(b.Memory)
	}
	return d, nil
}

// MongoImageTag is the MongoDB image tag written to .env.
func (d *Data) MongoImageTag() string { return spec.MongoDBImageTag(d.Version) }

// MongoImageRepo is the MongoDB image without its tag.
func (d *Data) MongoImageRepo() string {
	img := spec.MongoDBImage(d.Version)
	return img[:strings.LastIndex(img, ":")]
}

// composeBytes writes a size the way compose reads it, in whole MiB.
func composeBytes(b int64) string {
	return strconv.FormatInt(b/spec.MiB, 10) + "m"
}

// rerunCommand spells out the flags that reproduce these answers, so the
// operator can change one and keep the rest.
func rerunCommand(a spec.Answers) string {
	def := spec.Default()
	args := []string{"rcgen generate --out . --force"}
	add := func(flag, v, dflt string) {
		if v != dflt {
			args = append(args, "--"+flag+" "+v)
		}
	}
	add("project", a.Project, def.Project)
	add("domain", a.Domain, def.Domain)
	if a.AllowIP {
		args = append(args, "--allow-ip")
	}
	add("email", a.Email, "")
	add("rocketchat-version", a.RocketChatVersion, def.RocketChatVersion)
	add("mongodb-members", strconv.Itoa(a.MongoDBMembers), strconv.Itoa(def.MongoDBMembers))
	if a.Processes > 0 {
		add("processes", strconv.Itoa(a.Processes), "")
	}
	if a.Users > 0 {
		add("users", strconv.Itoa(a.Users), "")
	}
	if a.Licensed() {
		args = append(args, "--license-file FILE")
	}
	if a.AllowUnlicensedInstances {
		args = append(args, "--allow-unlicensed-instances")
	}
	add("proxy", a.Proxy, def.Proxy)
	if !a.Monitoring {
		args = append(args, "--no-monitoring")
	}
	add("tls-cert", a.TLSCert, "")
	add("tls-key", a.TLSKey, "")
	add("metrics-retention", a.MetricsRetention, def.MetricsRetention)
	add("metrics-retention-size", a.MetricsRetentionSize, def.MetricsRetentionSize)
	add("alert-email", a.AlertEmail, "")
	add("smtp-host", a.SMTPHost, "")
	add("smtp-from", a.SMTPFrom, "")
	add("smtp-user", a.SMTPUser, "")
	add("cpus", a.CPUs, "")
	add("memory", a.Memory, "")
	return strings.Join(args, " ")
}
