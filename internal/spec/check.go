package spec

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rcgen/rcgen/internal/catalog"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
)

// FieldError is one invalid answer: its key and what to do. The cli words
// the key as the flag, the answers-file line or the question it came from.
// Msg may name other answers as {key}; Text spells them for the reader.
type FieldError struct {
	Key string // the rcgen.yaml key, e.g. "domain"
	Msg string
	// Override names what the person may confirm to go ahead anyway (the
	// cli words it as --force=NAME); "" when nothing overrides the refusal.
	Override string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Text(func(k string) string { return k }) }

// Text returns Msg with every {key} it mentions spelled by name(key): a
// flag for a person using flags, the key for one editing rcgen.yaml.
func (e *FieldError) Text(name func(key string) string) string {
	return refRe().ReplaceAllStringFunc(e.Msg, func(m string) string {
		key := m[1 : len(m)-1]
		if !IsKey(key) && !IsMaterialKey(key) {
			return m
		}
		return name(key)
	})
}

// networkRe is a Docker network name rcgen writes into compose.yaml:
// what Docker accepts for a container name (moby daemon/names), at most 64.
var networkRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$`)

// IsMaterialKey reports whether key names material an answer leads to
// (a secret given in a file or the environment), not in rcgen.yaml.
func IsMaterialKey(key string) bool {
	switch key {
	case KeySMTPPassword, KeyPassphrase, KeyS3AccessKey, KeyS3SecretKey, KeySFTPKey, KeySFTPKnownHosts:
		return true
	}
	return false
}

var refRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{[a-z][a-z0-9_]*\}`) })

// fieldErr wraps err as the error of key, or returns nil.
func fieldErr(key string, err error) error {
	if err == nil {
		return nil
	}
	return &FieldError{Key: key, Msg: err.Error()}
}

// CheckKey checks the form of one answer, in the context of the others:
// the check its flag, its line of an answers file and its wizard question
// all run. Requirements between answers (an email for a public domain, a
// licence for several processes) are Validate's.
func (a Answers) CheckKey(key string) error {
	return fieldErr(key, a.check(key))
}

func (a Answers) check(key string) error {
	switch key {
	case KeyProject:
		return ValidateProject(a.Project)
	case KeyDomain:
		if ip, err := netip.ParseAddr(a.Domain); err == nil && a.AllowIP {
			return checkAddress(ip, a.Domain)
		}
		return ValidateDomain(a.Domain)
	case KeyEmail:
		if a.Email == "" {
			return nil
		}
		return ValidateEmail(a.Email, a.Domain)
	case KeyCatalog:
		if a.Catalog == "" {
			return nil
		}
		if err := plainPath(a.Catalog); err != nil {
			return err
		}
		// The catalog checked is the catalog the run decides with: the
		// field list checks it before the release (cli.Run puts the
		// compiled-in one back when the run ends).
		c, err := LoadCatalog(a.Catalog)
		if err != nil {
			return err
		}
		catalog.Use(c)
	case KeyVersion:
		return ValidateRocketChatVersion(a.RocketChatVersion)
	case KeyMembers:
		if a.MongoDBMembers != 1 && a.MongoDBMembers != 3 {
			return fmt.Errorf("%d is not supported: use 1 (one member) or 3 (a replica set that survives a crashed member)", a.MongoDBMembers)
		}
	case KeyProcesses:
		switch {
		case a.Processes < 0:
			return fmt.Errorf("%d is negative: give a count from 1 to %d, or leave it out to let rcgen size it", a.Processes, MaxProcesses)
		case a.Processes > MaxProcesses:
			return fmt.Errorf("%d is more than %d: past about 1,000 concurrent users Rocket.Chat advises microservices on Kubernetes", a.Processes, MaxProcesses)
		}
	case KeyUsers:
		if a.Users < 0 || a.Users > MaxUsers {
			return fmt.Errorf("%d is not a number of concurrent users rcgen sizes for: give 1 to %d, or leave it out", a.Users, MaxUsers)
		}
	case KeyLicenseFile:
		if err := plainPath(a.LicenseFile); err != nil {
			return err
		}
		return ValidateLicense(a.License)
	case KeyTLSCert:
		return plainPath(a.TLSCert)
	case KeyTLSKey:
		return plainPath(a.TLSKey)
	case KeyProxy:
		switch a.Proxy {
		case ProxyCaddy, ProxyTraefik, ProxyHost, ProxyTraefikLabels, ProxyNginxProxy, ProxyCaddyDockerProxy, ProxyNone:
		default:
			return fmt.Errorf("%q is not a proxy rcgen knows: use caddy or traefik (rcgen runs the proxy and HTTPS), host (nginx or Caddy installed on this host), traefik-labels, nginx-proxy or caddy-docker-proxy (your proxy container)", a.Proxy)
		}
	case KeyProxyNetwork:
		// Whether the proxy joins a network at all is Validate's (the
		// proxy may be given after the network).
		if a.ProxyNetwork != "" && !networkRe.MatchString(a.ProxyNetwork) {
			return fmt.Errorf("%q is not a Docker network name: give the name `docker network ls` shows for your proxy's network (letters, digits, _, . and -, starting with a letter or digit, at most 64), e.g. %s", a.ProxyNetwork, cmpOr(a.ProxyNetworkName(), DefaultProxyNetwork))
		}
	case KeyProxyCertResolver:
		if a.ProxyCertResolver == "" {
			return nil
		}
		if a.Proxy != ProxyTraefikLabels {
			return errors.New("a certificate resolver is only named with {proxy} traefik-labels: drop it, or use traefik-labels")
		}
		return ValidateCertResolver(a.ProxyCertResolver)
	case "metrics_retention":
		return ValidatePromDuration(a.MetricsRetention)
	case "metrics_retention_size":
		return ValidatePromSize(a.MetricsRetentionSize)
	case KeyLogsRetention:
		if a.LogsRetention == "" && !a.Logs {
			return nil // no logs kept (the Kubernetes target keeps none)
		}
		return ValidateLogsRetention(a.LogsRetention)
	case KeySMTPHost:
		if a.SMTPHost == "" {
			return nil
		}
		host, port, err := net.SplitHostPort(a.SMTPHost)
		p, perr := strconv.Atoi(port)
		if err != nil || perr != nil || p < 1 || p > 65535 || host == "" || ValidateDomain(host) != nil && net.ParseIP(host) == nil {
			return fmt.Errorf("%q is not host:port: give e.g. smtp.example.com:587", a.SMTPHost)
		}
		if ip := net.ParseIP(host); host == "localhost" || strings.HasSuffix(host, ".localhost") || ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
			return fmt.Errorf("%q is Alertmanager's own container, not this server: give the mail server's name or address (for a relay on this host, its address on the Docker network, e.g. 172.17.0.1)", a.SMTPHost)
		}
	case KeySMTPFrom:
		if a.SMTPFrom != "" {
			return plainAddress(a.SMTPFrom)
		}
	case KeyAlertEmail:
		if a.AlertEmail != "" {
			return plainAddress(a.AlertEmail)
		}
	case KeySMTPUser:
		if strings.ContainsAny(a.SMTPUser, "\"'$`\\ \t\n") {
			return fmt.Errorf("%q has quotes, spaces or $ in it", a.SMTPUser)
		}
	case KeyTarget:
		if a.Target != TargetCompose && a.Target != TargetSwarm && a.Target != TargetKubernetes {
			return fmt.Errorf("%q is not a target rcgen knows: use compose (one host), swarm (several hosts, docker stack deploy) or kubernetes (a cluster, kubectl apply -k)", a.Target)
		}
	case KeyKubeNamespace, KeyStorageClass, KeyIngress, KeyGatewayName, KeyKubeMonitoring, KeyOpenShift:
		return a.checkKubeKey(key)
	case KeySchedule:
		if a.Backup || a.BackupSchedule != "" {
			_, err := ParseSchedule(a.BackupSchedule)
			return err
		}
	case KeyBackupKeep:
		if a.Backup && (a.BackupKeep < 1 || a.BackupKeep > MaxBackupKeep) {
			return fmt.Errorf("%d backups: keep between 1 and %d (the newest are kept, older ones deleted)", a.BackupKeep, MaxBackupKeep)
		}
	case KeyPassphrase:
		if a.BackupPassphrase == "" {
			return nil
		}
		if strings.TrimSpace(a.BackupPassphrase) == "" {
			return errors.New("the backup passphrase is only blanks: give a passphrase (it is all that protects the backups off this server)")
		}
		if len([]rune(a.BackupPassphrase)) < MinPassphrase {
			return fmt.Errorf("the backup passphrase is shorter than %d characters: give a longer one (it is all that protects the backups off this server)", MinPassphrase)
		}
		for _, r := range a.BackupPassphrase {
			if r < ' ' || r == '\'' || r == 0x7f {
				return errors.New("the backup passphrase holds a newline, a control character or ': rcgen cannot store it safely in .env")
			}
		}
	case KeyBackupTarget:
		_, err := ParseBackupTarget(a.BackupTarget)
		return err
	case KeyS3Endpoint:
		if a.BackupS3Endpoint != "" {
			return ValidateS3Endpoint(a.BackupS3Endpoint)
		}
	case KeyS3Region:
		if a.BackupS3Region != "" && !regionRe.MatchString(a.BackupS3Region) {
			return fmt.Errorf("%q is not a region name: give it as the service writes it (e.g. eu-central-1), or leave it out", a.BackupS3Region)
		}
	case KeyS3AccessKey:
		return credential("access key", a.BackupS3AccessKey)
	case KeyS3SecretKey:
		return credential("secret key", a.BackupS3SecretKey)
	case KeySFTPKey:
		return ValidateSFTPKey(a.BackupSFTPKey)
	case KeySFTPKnownHosts:
		_, err := KnownHosts(a.BackupSFTPKnownHosts)
		return err
	case KeySMTPPassword:
		for _, r := range a.SMTPPassword {
			if r < ' ' || r == '\'' || r == 0x7f {
				return errors.New("the SMTP password holds a newline, a control character or ': rcgen cannot store it safely in .env")
			}
		}
	}
	// allow_ip, allow_unlicensed_instances, monitoring, tls_*, cpus,
	// memory and nodes are checked by their type (nodes: each as it is
	// added, Nodes.Set), or together in Validate.
	return nil
}

// Validate checks every answer and the requirements between them, and
// reports all problems at once, each naming its key. It never stops at the
// first error.
func (a Answers) Validate() error {
	var errs []error
	add := func(key string, err error) {
		if err != nil {
			errs = append(errs, fieldErr(key, err))
		}
	}
	for _, key := range append(Keys(), KeySMTPPassword, KeyPassphrase, KeyS3AccessKey, KeyS3SecretKey, KeySFTPKey, KeySFTPKnownHosts) {
		if err := a.CheckKey(key); err != nil {
			errs = append(errs, err)
		}
	}
	if a.Email == "" && a.TLSMode() == TLSACME && a.OwnProxy() {
		add(KeyEmail, fmt.Errorf("an email address for Let's Encrypt is required to get a certificate for %s (Let's Encrypt sends expiry warnings there): give {email}, e.g. admin@%s, or your own certificate with {tls_cert} and {tls_key}", a.Domain, a.Domain))
	}
	if a.Processes > 1 && a.Processes <= MaxProcesses && !a.Licensed() && !a.AllowUnlicensedInstances {
		add(KeyProcesses, fmt.Errorf("%d app processes need an Enterprise licence (without one, instances do not share real-time events): give {license_file}, or {allow_unlicensed_instances} if you know the risk", a.Processes))
	}
	switch {
	case a.TLSCert == "" && a.TLSKey == "":
	case a.TLSCert == "" || a.TLSKey == "":
		add(KeyTLSCert, errors.New("give both the certificate and its key (PEM files)"))
	case !a.OwnProxy():
		add(KeyTLSCert, fmt.Errorf("own certificate files need rcgen's proxy: use {proxy} caddy or traefik instead of %s, or give the certificate to your own proxy", a.Proxy))
	case a.Domain == DefaultDomain:
		add(KeyTLSCert, errors.New("a certificate needs a real {domain}, not localhost"))
	case a.TLSCertPEM != "" || a.TLSKeyPEM != "":
		add(KeyTLSCert, ValidateCertificate([]byte(a.TLSCertPEM), []byte(a.TLSKeyPEM), a.Domain))
	}
	if a.ProxyNetwork != "" && !a.ProxyJoinsNetwork() {
		add(KeyProxyNetwork, fmt.Errorf("a network is for a proxy container that finds the app on it (traefik-labels, nginx-proxy or caddy-docker-proxy), and {proxy} is %s: drop {proxy_network}", a.Proxy))
	}
	errs = append(errs, a.requireSMTP()...)
	errs = append(errs, a.checkTarget()...)
	errs = append(errs, a.checkOffsite()...)
	return errors.Join(errs...)
}

// requireSMTP checks that the mail server has everything it needs, and a
// use (alerts, Rocket.Chat's own email).
func (a Answers) requireSMTP() []error {
	if !a.Mail() && a.SMTPHost == "" && a.SMTPFrom == "" && a.SMTPUser == "" && a.SMTPPassword == "" {
		return nil
	}
	var errs []error
	add := func(key, msg string) { errs = append(errs, &FieldError{Key: key, Msg: msg}) }
	if !a.Mail() {
		add(KeySMTPHost, "a mail server is given for nothing: give {alert_email} to email alerts, or {app_email} for Rocket.Chat's own email")
	}
	if a.Alerting() && !a.Monitoring {
		add(KeyAlertEmail, "alerts need monitoring: turn it back on, or drop the alert address")
	}
	if a.Mail() && a.SMTPHost == "" {
		add(KeySMTPHost, "a mail server is required to send email: give it as host:port, e.g. smtp.example.com:587")
	}
	if a.Mail() && a.SMTPFrom == "" {
		add(KeySMTPFrom, "a sender address is required to send email: give one, e.g. rocketchat@example.com")
	}
	if a.SMTPPassword != "" && a.SMTPUser == "" {
		add(KeySMTPUser, "an SMTP login is required with an SMTP password: give the login, or drop the password")
	}
	if a.SMTPUser != "" && a.SMTPPassword == "" {
		add(KeySMTPPassword, "an SMTP password is required with an SMTP login, or every mail fails: give it in a file, or in RCGEN_SMTP_PASSWORD")
	}
	return errs
}

// ValidatePromDuration checks a Prometheus retention time such as 15d or 1y
// with Prometheus's own duration parser.
func ValidatePromDuration(s string) error {
	d, err := model.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a Prometheus duration: give e.g. 15d, 8w or 1y (each unit once, largest first)", s)
	}
	return nil
}

// ValidateLogsRetention checks how long Loki keeps logs. Loki reads
// limits_config.retention_period with the same parser as Prometheus
// (prometheus/common model.Duration), and its compactor deletes by whole
// index periods of 24h (tsdb, schema v13): "the minimum retention period
// is 24h" (https://grafana.com/docs/loki/v3.7.x/operations/storage/retention/).
// So whole days only, which is what the operator means anyway.
func ValidateLogsRetention(s string) error {
	d, err := model.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a duration Loki reads: give whole days, e.g. 7d, 2w or 30d (each unit once, largest first)", s)
	}
	if time.Duration(d)%(24*time.Hour) != 0 {
		return fmt.Errorf("%q is not whole days: Loki deletes logs a day at a time, give e.g. 7d or 2w", s)
	}
	if time.Duration(d) > 10*365*24*time.Hour {
		return fmt.Errorf("%q is more than 10 years: give e.g. 30d or 1y", s)
	}
	return nil
}

// ValidatePromSize checks a Prometheus retention size such as 10GB with the
// parser Prometheus reads --storage.tsdb.retention.size with
// (alecthomas/units, base 2).
func ValidatePromSize(s string) error {
	tooLarge := fmt.Errorf("%q is more disk than any host has: give e.g. 10GB", s)
	b, err := units.ParseBase2Bytes(s)
	if err != nil && promOverflows(s) {
		return tooLarge
	}
	if err != nil || b <= 0 || strings.HasPrefix(s, "+") {
		return fmt.Errorf("%q is not a Prometheus size: give e.g. 10GB or 500MB (units B, KB, MB, GB, TB, PB)", s)
	}
	if int64(b) > MaxMemory*1024 {
		return tooLarge
	}
	return nil
}

// promOverflows reports whether s is a well-formed size (digits, at most
// one point, a unit the parser knows) that Prometheus's parser refuses only
// for being past the int64 range ("units: overflow parsing unit", or too
// many digits for its integer part).
func promOverflows(s string) bool {
	num := strings.TrimRight(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
	unit := s[len(num):]
	if unit == "" || num == "" || strings.Trim(num, "0123456789.") != "" || strings.Count(num, ".") > 1 || strings.Trim(num, ".") == "" {
		return false
	}
	if _, err := units.ParseBase2Bytes("1" + unit); err != nil {
		return false
	}
	v, err := strconv.ParseFloat(num, 64)
	return (err == nil || errors.Is(err, strconv.ErrRange)) && v > 0
}

// checkAddress accepts an IP address as the domain only when users can
// reach it and write it as ROOT_URL does.
func checkAddress(ip netip.Addr, s string) error {
	switch {
	case ip.Zone() != "" || ip.IsUnspecified() || ip.IsMulticast() || ip.IsLinkLocalUnicast():
		return fmt.Errorf("%q is not an address users can reach: give this host's address", s)
	case ip.IsLoopback():
		return fmt.Errorf("%q is this machine only: use localhost for that, or give the address users reach this host at", s)
	case ip.Is4In6():
		return fmt.Errorf("%q is an IPv4 address in IPv6 form: give it as %s", s, ip.Unmap())
	case ip.String() != s:
		return fmt.Errorf("%q is not written the way browsers write it: give %s, so ROOT_URL matches what users type", s, ip)
	}
	return nil
}

// plainPath refuses a file path that would not survive rcgen.yaml (and the
// commands rcgen prints) exactly: invalid UTF-8 or control characters.
func plainPath(p string) error {
	if !utf8.ValidString(p) {
		return fmt.Errorf("%q is not valid UTF-8: rename the file, or give a path without those bytes", p)
	}
	for _, r := range p {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("%q holds a control character: rename the file", p)
		}
	}
	return nil
}

func plainAddress(s string) error {
	if err := validAddress(s); err != nil || strings.ContainsAny(s, "\"'$`\\ ") {
		return fmt.Errorf("%q is not a plain email address such as ops@example.com", s)
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
