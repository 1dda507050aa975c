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
	ProxyCaddy = "caddy"
	ProxyNone  = "none"
	// ProxyTraefik is rcgen's own Traefik v3 in place of Caddy.
	ProxyTraefik = "traefik"
	// ProxyTraefikLabels runs no proxy of ours: the app processes (and
	// Grafana) join the Docker network of the operator's own Traefik with
	// the labels its Docker (or Swarm) provider reads.
	ProxyTraefikLabels = "traefik-labels"
)

// Defaults of the traefik-labels answers: the network and certificate
// resolver names Traefik's own documentation uses (doc.traefik.io, "Docker
// provider" user guide and "Let's Encrypt" examples).
const (
	DefaultProxyNetwork      = "traefik"
	DefaultProxyCertResolver = "letsencrypt"
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
	// Target is where the deployment runs: compose (one host) or swarm
	// (several hosts, docker stack deploy).
	Target string `yaml:"target"`
	// Nodes is the Swarm inventory (target swarm only).
	Nodes Nodes `yaml:"nodes,omitempty"`
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
	// Proxy is "caddy", "traefik", "traefik-labels" or "none".
	Proxy string `yaml:"proxy"`
	// ProxyNetwork is the external Docker network the operator's Traefik
	// watches (traefik-labels only; DefaultProxyNetwork when empty).
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
	KeySchedule          = "backup_schedule"
	KeyBackupKeep        = "backup_keep"
	// KeyPassphrase is material, not in rcgen.yaml.
	KeyPassphrase = "backup_passphrase"
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
		Backup:               true,
		BackupSchedule:       DefaultBackupSchedule,
		BackupKeep:           DefaultBackupKeep,
	}
}

// Swarm reports whether the deployment is a Docker Swarm stack.
func (a Answers) Swarm() bool { return a.Target == TargetSwarm }

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

// OwnProxy reports whether rcgen runs the proxy (Caddy or Traefik) and
// with it TLS.
func (a Answers) OwnProxy() bool { return a.Proxy == ProxyCaddy || a.Proxy == ProxyTraefik }

// Network is the external Docker network of the operator's Traefik
// (traefik-labels).
func (a Answers) Network() string {
	if a.ProxyNetwork != "" {
		return a.ProxyNetwork
	}
	return DefaultProxyNetwork
}

// CertResolver is the certificate resolver of the operator's Traefik
// (traefik-labels).
func (a Answers) CertResolver() string {
	if a.ProxyCertResolver != "" {
		return a.ProxyCertResolver
	}
	return DefaultProxyCertResolver
}
