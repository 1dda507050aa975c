// Package spec is rcgen's answers model: what a person tells rcgen (by flags,
// an answers file or the wizard), its defaults, how layers of answers merge,
// and the validators shared by every way of giving an answer.
//
// Answers is the one field list: its yaml tags are the rcgen.yaml schema and
// the keys every layer, error and origin speak. Nothing in this package
// names a command-line flag; errors carry the answer's key and the cli
// words them for the flag, file line or question the person used.
package spec

import (
	"net/netip"
	"strings"
)

// Proxy choices.
const (
	// ProxyCaddy is rcgen's own Caddy in front (HTTPS, sticky sessions).
	ProxyCaddy = "caddy"
	// ProxyNone is kept for deployments made before ProxyHost: each app
	// process on 127.0.0.1:3000+, ROOT_URL http://localhost:3000 on
	// localhost, and no proxy snippets. ProxyHost supersedes it.
	ProxyNone = "none"
	// ProxyHost is a proxy installed on the host (nginx, Caddy, Apache):
	// each app process on 127.0.0.1:3000+, and ready snippets in proxy/.
	ProxyHost = "host"
	// ProxyNginxProxy is nginx-proxy (with its acme-companion) in a
	// container: VIRTUAL_HOST and friends on its external network.
	ProxyNginxProxy = "nginx-proxy"
	// ProxyCaddyDockerProxy is lucaslorentz/caddy-docker-proxy: caddy
	// labels on the network its ingress watches.
	ProxyCaddyDockerProxy = "caddy-docker-proxy"
	// ProxyTraefik is rcgen's own Traefik v3 in place of Caddy.
	ProxyTraefik = "traefik"
	// ProxyTraefikLabels runs no proxy of ours: the app processes (and
	// Grafana) join the Docker network of the operator's own Traefik with
	// the labels its Docker (or Swarm) provider reads.
	ProxyTraefikLabels = "traefik-labels"
)

// Default external networks of the proxies that find the app by Docker
// network: nginx-proxy's docs name none (it proxies the networks its own
// container is on), so the network is named after it;
// caddy-docker-proxy's README creates "caddy" (docker network create caddy,
// CADDY_INGRESS_NETWORKS=caddy); Traefik's own documentation uses
// "traefik" and the resolver "letsencrypt" (doc.traefik.io, "Docker
// provider" user guide and "Let's Encrypt" examples).
const (
	DefaultNginxProxyNetwork  = "nginx-proxy"
	DefaultCaddyDockerNetwork = "caddy"
	DefaultProxyNetwork       = "traefik"
	DefaultProxyCertResolver  = "letsencrypt"
)

// Defaults for answers a person may leave out.
const (
	DefaultDomain  = "localhost"
	DefaultOut     = "rocketchat"
	DefaultProject = "rocketchat"
	MaxProcesses   = 256
	MaxUsers       = 1000000
)

// Answers holds everything a person decides. Each field with a yaml key is
// an answer: it is read from rcgen.yaml, layered by that key, validated by
// CheckKey, and written back by Marshal in this order. Fields tagged "-" are
// material the answers lead to (file contents, a password): never written to
// rcgen.yaml.
//
// Adding an answer: a field here, a case in CheckKey, a flag line in cli.
type Answers struct {
	// Target is where the deployment runs: compose (one host), swarm
	// (several hosts, docker stack deploy) or kubernetes (kubectl apply -k).
	Target string `yaml:"target"`
	// Nodes is the inventory of the Swarm or Kubernetes nodes the
	// deployment may use (targets swarm and kubernetes only).
	Nodes Nodes `yaml:"nodes,omitempty"`
	// KubeNamespace is the Kubernetes namespace every object lives in
	// (target kubernetes; DefaultKubeNamespace when empty). Like the
	// project, it must never change once data exists.
	KubeNamespace string `yaml:"kube_namespace,omitempty"`
	// StorageClass is the StorageClass of the MongoDB members' (and the
	// backups') volumes; "" is the cluster's default class.
	StorageClass string `yaml:"storage_class,omitempty"`
	// Ingress is how users reach the app on Kubernetes: IngressNginx (an
	// Ingress for ingress-nginx, the default) or IngressGateway (an
	// HTTPRoute of the Gateway API).
	Ingress string `yaml:"ingress,omitempty"`
	// GatewayName is the Gateway the HTTPRoute attaches to, as
	// NAMESPACE/NAME (ingress gateway only).
	GatewayName string `yaml:"gateway_name,omitempty"`
	// KubeMonitoring is how a Kubernetes deployment is monitored:
	// KubeMonitoringOperator (the cluster's Prometheus operator, default)
	// or KubeMonitoringBundled (rcgen's own Prometheus and Grafana).
	KubeMonitoring string `yaml:"kube_monitoring,omitempty"`
	// OpenShift writes the manifests for OpenShift's restricted-v2 SCC:
	// no pod names a user, group or fsGroup (OpenShift assigns them from
	// the namespace's range and refuses others). Elsewhere the pods name
	// their images' users by number, which runAsNonRoot needs.
	OpenShift bool `yaml:"openshift,omitempty"`
	// Project is the Compose project name (the stack name on Swarm); it
	// prefixes every volume, so it must never change once data exists.
	Project string `yaml:"project"`
	// Domain is the public host name users type, or "localhost".
	Domain string `yaml:"domain"`
	// AllowIP accepts an IP address as Domain: plain http, no certificate.
	AllowIP bool `yaml:"allow_ip,omitempty"`
	// Email is the Let's Encrypt account address (required for a public domain).
	Email string `yaml:"email,omitempty"`
	// Catalog is a catalog file an organisation pins (catalog.ParseFile's
	// format): it adds to rcgen's compiled-in catalog and may restrict
	// what is deployable. Relative paths are taken from the answers file.
	// It comes before RocketChatVersion: checking it makes it the catalog
	// the release is checked against (CheckKey).
	Catalog string `yaml:"catalog,omitempty" rcgen:"path"`
	// RocketChatVersion is an exact release such as "8.1.1" (a word given,
	// latest or lts, is resolved to one when read: Resolve).
	RocketChatVersion string `yaml:"rocketchat_version"`
	// MongoDBMembers is the replica set size: 1 or 3.
	MongoDBMembers int `yaml:"mongodb_members"`
	// Processes overrides the computed app process count when above 0.
	Processes int `yaml:"processes,omitempty"`
	// Users is the expected number of concurrent users; 0 means not given.
	Users int `yaml:"users,omitempty"`
	// LicenseFile is the file holding an Enterprise licence. Relative paths
	// are taken from the answers file that names them.
	LicenseFile string `yaml:"license_file,omitempty" rcgen:"path"`
	// AllowUnlicensedInstances lets Processes exceed 1 without a licence.
	AllowUnlicensedInstances bool `yaml:"allow_unlicensed_instances,omitempty"`
	// TLSCert and TLSKey are the operator's own certificate and key (PEM
	// files). Set, they replace automatic certificates.
	TLSCert string `yaml:"tls_cert,omitempty" rcgen:"path"`
	TLSKey  string `yaml:"tls_key,omitempty" rcgen:"path"`
	// Proxy is who serves users: "caddy" or "traefik" (rcgen's own),
	// "traefik-labels", "nginx-proxy", "caddy-docker-proxy" (the user's
	// proxy container), "host", or "none" (the older "host").
	Proxy string `yaml:"proxy"`
	// ProxyNetwork is the external Docker network the user's proxy
	// container reaches the app on ("" is the proxy's usual one:
	// ProxyNetworkName).
	ProxyNetwork string `yaml:"proxy_network,omitempty"`
	// ProxyCertResolver is the certificate resolver of the operator's
	// Traefik the router names (traefik-labels only;
	// DefaultProxyCertResolver when empty).
	ProxyCertResolver string `yaml:"proxy_certresolver,omitempty"`
	// Monitoring turns Prometheus, Grafana and the exporters on.
	Monitoring bool `yaml:"monitoring"`
	// MetricsRetention and MetricsRetentionSize bound what Prometheus keeps
	// (whichever is reached first), in Prometheus's own units.
	MetricsRetention     string `yaml:"metrics_retention,omitempty"`
	MetricsRetentionSize string `yaml:"metrics_retention_size,omitempty"`
	// Logs adds Loki and a log collector to the monitoring: every
	// container's log in one place, searchable in Grafana, with alerts on
	// what only the logs show. It needs monitoring; the plan leaves it out
	// on a host without the memory for it (sizing.Plan.LogsReason).
	Logs bool `yaml:"logs"`
	// LogsRetention is how long Loki keeps logs, in whole days (a
	// Prometheus-style duration such as 7d or 2w).
	LogsRetention string `yaml:"logs_retention,omitempty"`
	// SMTP settings for alert emails; alerts are emailed when SMTPHost and
	// AlertEmail are set.
	SMTPHost   string `yaml:"smtp_host,omitempty"`
	SMTPFrom   string `yaml:"smtp_from,omitempty"`
	SMTPUser   string `yaml:"smtp_user,omitempty"`
	AlertEmail string `yaml:"alert_email,omitempty"`
	// AppEmail sends Rocket.Chat's own email (invitations, password
	// resets) through the same mail server.
	AppEmail bool `yaml:"app_email,omitempty"`
	// Backup runs the backup service: consistent MongoDB dumps with the
	// deployment's files, on a schedule, kept in backups/.
	Backup bool `yaml:"backup"`
	// BackupSchedule is when it runs: "HH:MM" once a day (UTC), or an
	// interval such as "6h".
	BackupSchedule string `yaml:"backup_schedule,omitempty"`
	// BackupKeep is how many scheduled backups are kept.
	BackupKeep int `yaml:"backup_keep,omitempty"`
	// BackupTarget is where every finished backup is copied besides
	// backups/: "" (nowhere else), a directory of this host (another disk),
	// s3://BUCKET/PREFIX or sftp://USER@HOST[:PORT]/PATH (ParseBackupTarget).
	BackupTarget string `yaml:"backup_target,omitempty"`
	// BackupS3Endpoint is the S3-compatible service's URL; BackupS3Region
	// its region ("" for most services but AWS).
	BackupS3Endpoint string `yaml:"backup_s3_endpoint,omitempty"`
	BackupS3Region   string `yaml:"backup_s3_region,omitempty"`
	// BackupUnencryptedOffsite accepts copying unencrypted backups (no
	// backup passphrase) off this host.
	BackupUnencryptedOffsite bool `yaml:"backup_unencrypted_offsite,omitempty"`
	// CPUs and Memory describe the target host; empty means detect this one.
	CPUs   Cores `yaml:"cpus,omitempty"`
	Memory Size  `yaml:"memory,omitempty"`

	// License is the licence text read from LicenseFile (or kept from the
	// deployment's .env).
	License string `yaml:"-"`
	// TLSCertPEM and TLSKeyPEM are the contents of TLSCert and TLSKey.
	TLSCertPEM string `yaml:"-"`
	TLSKeyPEM  string `yaml:"-"`
	// SMTPPassword is a secret kept in .env, never in rcgen.yaml.
	SMTPPassword string `yaml:"-"`
	// BackupPassphrase encrypts backups at rest; kept in .env, never in
	// rcgen.yaml.
	BackupPassphrase string `yaml:"-"`
	// OldBackupPassphrases are earlier backup passphrases that backups
	// still kept need (.env's BACKUP_PASSPHRASE_1...): a new passphrase
	// never strands the backups taken with the one before. Oldest last.
	OldBackupPassphrases []string `yaml:"-"`
	// BackupS3AccessKey and BackupS3SecretKey are the S3 credentials,
	// BackupSFTPKey the SSH private key of an sftp target: read from the
	// files their flags name, kept in the deployment's secrets/ (mode
	// 0600), never in rcgen.yaml or compose.yaml.
	BackupS3AccessKey string `yaml:"-"`
	BackupS3SecretKey string `yaml:"-"`
	BackupSFTPKey     string `yaml:"-"`
	// BackupSFTPKnownHosts is the SFTP server's host key, as OpenSSH's
	// known_hosts file writes it: rclone checks the server against it.
	BackupSFTPKnownHosts string `yaml:"-"`
}

// Keys of answers that other code refers to by name.
const (
	KeyProject     = "project"
	KeyDomain      = "domain"
	KeyEmail       = "email"
	KeyVersion     = "rocketchat_version"
	KeyCatalog     = "catalog"
	KeyMembers     = "mongodb_members"
	KeyProcesses   = "processes"
	KeyUsers       = "users"
	KeyLicenseFile = "license_file"
	KeyTLSCert     = "tls_cert"
	KeyTLSKey      = "tls_key"
	KeyProxy       = "proxy"
	// KeyProxyNetwork and KeyProxyCertResolver are traefik-labels' answers.
	KeyProxyNetwork      = "proxy_network"
	KeyProxyCertResolver = "proxy_certresolver"
	KeyMonitoring        = "monitoring"
	KeyLogs              = "logs"
	KeyLogsRetention     = "logs_retention"
	KeyAlertEmail        = "alert_email"
	KeySMTPHost          = "smtp_host"
	KeySMTPFrom          = "smtp_from"
	KeySMTPUser          = "smtp_user"
	KeyCPUs              = "cpus"
	KeyMemory            = "memory"
	KeyAllowIP           = "allow_ip"
	KeySMTPPassword      = "smtp_password" // material, not in rcgen.yaml
	KeyAppEmail          = "app_email"
	KeyBackup            = "backup"
	KeyTarget            = "target"
	KeyNodes             = "nodes"
	// The Kubernetes target's answers.
	KeyKubeNamespace  = "kube_namespace"
	KeyStorageClass   = "storage_class"
	KeyIngress        = "ingress"
	KeyGatewayName    = "gateway_name"
	KeyKubeMonitoring = "kube_monitoring"
	KeyOpenShift      = "openshift"
	KeySchedule       = "backup_schedule"
	KeyBackupKeep     = "backup_keep"
	// KeyPassphrase is material, not in rcgen.yaml.
	KeyPassphrase         = "backup_passphrase"
	KeyBackupTarget       = "backup_target"
	KeyS3Endpoint         = "backup_s3_endpoint"
	KeyS3Region           = "backup_s3_region"
	KeyUnencryptedOffsite = "backup_unencrypted_offsite"
	// The offsite credentials are material, not in rcgen.yaml.
	KeyS3AccessKey    = "backup_s3_access_key"
	KeyS3SecretKey    = "backup_s3_secret_key"
	KeySFTPKey        = "backup_sftp_key"
	KeySFTPKnownHosts = "backup_sftp_known_hosts"
)

// Backup defaults.
const (
	DefaultBackupSchedule = "03:00"
	DefaultBackupKeep     = 7
	MaxBackupKeep         = 366
	MinPassphrase         = 12
)

// Default returns the answers a person gets by giving none.
func Default() Answers {
	return Answers{
		Target:               TargetCompose,
		Project:              DefaultProject,
		Domain:               DefaultDomain,
		RocketChatVersion:    DefaultRocketChatVersion(),
		MongoDBMembers:       1,
		Proxy:                ProxyCaddy,
		Monitoring:           true,
		MetricsRetention:     "15d",
		MetricsRetentionSize: "10GB",
		Logs:                 true,
		LogsRetention:        DefaultLogsRetention,
		Backup:               true,
		BackupSchedule:       DefaultBackupSchedule,
		BackupKeep:           DefaultBackupKeep,
	}
}

// DefaultLogsRetention is how long Loki keeps logs unless told: a week
// covers a weekend's incident found on Monday, and Loki, unlike
// Prometheus, has no size limit, so the disk is bounded by time (and the
// rate at which the processes log).
const DefaultLogsRetention = "7d"

// LogsOn reports whether the deployment asks for logs: logs are part of
// the monitoring. Not on Kubernetes: a cluster ships its pods' logs with
// its own stack (the Kubernetes README says so), and rcgen writes no Loki
// or collector there.
func (a Answers) LogsOn() bool { return a.Monitoring && a.Logs && !a.Kubernetes() }

// Swarm reports whether the deployment is a Docker Swarm stack.
func (a Answers) Swarm() bool { return a.Target == TargetSwarm }

// Kubernetes reports whether the deployment is for a Kubernetes cluster.
func (a Answers) Kubernetes() bool { return a.Target == TargetKubernetes }

// Licensed reports whether an Enterprise licence was given.
func (a Answers) Licensed() bool { return strings.TrimSpace(a.License) != "" }

// Alerting reports whether alerts are emailed.
func (a Answers) Alerting() bool { return a.AlertEmail != "" }

// Mail reports whether a mail server is used at all (alerts, Rocket.Chat).
func (a Answers) Mail() bool { return a.Alerting() || a.AppEmail }

// TLS modes derived from the domain.
const (
	TLSNone     = "none"     // localhost: plain http
	TLSInternal = "internal" // .local/.internal/.home.arpa: Caddy's own CA
	TLSACME     = "acme"     // a public domain: Let's Encrypt
	TLSOwn      = "own"      // the operator's own certificate files
)

// TLSMode says how the proxy gets a certificate for the domain.
func (a Answers) TLSMode() string {
	if a.TLSCert != "" || a.TLSCertPEM != "" {
		return TLSOwn
	}
	return TLSModeFor(a.Domain)
}

// LoopbackOnly reports whether the deployment is for this machine only
// (localhost): nothing it publishes may listen beyond the loopback.
func (a Answers) LoopbackOnly() bool {
	return a.Domain == DefaultDomain || strings.HasSuffix(a.Domain, ".localhost")
}

// PublicURL is the URL users type; Rocket.Chat's ROOT_URL must equal it.
func (a Answers) PublicURL() string {
	host := a.Domain
	if ip, err := netip.ParseAddr(host); err == nil && ip.Is6() {
		host = "[" + host + "]"
	}
	if a.Proxy == ProxyNone || a.Proxy == ProxyTraefikLabels {
		// As before ProxyHost: existing deployments keep their ROOT_URL.
		if a.Domain == DefaultDomain && a.Proxy == ProxyNone {
			return "http://localhost:3000"
		}
		// Another proxy terminates TLS in front of us.
		return "https://" + host
	}
	if a.TLSMode() == TLSNone {
		return "http://" + host
	}
	return "https://" + host
}

// ProxyJoinsNetwork reports whether the user's proxy reaches the app
// processes over an external Docker network (ProxyNetwork).
func (a Answers) ProxyJoinsNetwork() bool {
	return a.Proxy == ProxyNginxProxy || a.Proxy == ProxyCaddyDockerProxy || a.Proxy == ProxyTraefikLabels
}

// ProxyNetworkName is the external network the app joins: ProxyNetwork,
// or the proxy's usual one; "" when the proxy joins none.
func (a Answers) ProxyNetworkName() string {
	switch {
	case !a.ProxyJoinsNetwork():
		return ""
	case a.ProxyNetwork != "":
		return a.ProxyNetwork
	case a.Proxy == ProxyNginxProxy:
		return DefaultNginxProxyNetwork
	case a.Proxy == ProxyTraefikLabels:
		return DefaultProxyNetwork
	}
	return DefaultCaddyDockerNetwork
}

// UserProxy reports whether the person's own proxy serves users (not
// rcgen's Caddy or Traefik): the app answers it, not the internet.
func (a Answers) UserProxy() bool { return !a.OwnProxy() }

// AppsOnLoopback reports whether each app process is published on
// 127.0.0.1 for a proxy on the host.
func (a Answers) AppsOnLoopback() bool { return a.Proxy == ProxyHost || a.Proxy == ProxyNone }

// OwnProxy reports whether rcgen runs the proxy (Caddy or Traefik) and
// with it TLS.
func (a Answers) OwnProxy() bool { return a.Proxy == ProxyCaddy || a.Proxy == ProxyTraefik }

// Network is the external Docker network of the operator's Traefik
// (traefik-labels).
func (a Answers) Network() string { return a.ProxyNetworkName() }

// CertResolver is the certificate resolver of the operator's Traefik
// (traefik-labels).
func (a Answers) CertResolver() string {
	if a.ProxyCertResolver != "" {
		return a.ProxyCertResolver
	}
	return DefaultProxyCertResolver
}
