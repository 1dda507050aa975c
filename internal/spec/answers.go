// Package spec is rcgen's answers model: what a person tells rcgen (by flags,
// an answers file or the wizard), its defaults, and the validators shared by
// every way of giving an answer.
package spec

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Proxy choices.
const (
	ProxyCaddy = "caddy"
	ProxyNone  = "none"
)

// Defaults for answers a person may leave out.
const (
	DefaultDomain  = "localhost"
	DefaultOut     = "rocketchat"
	DefaultProject = "rocketchat"
	MaxProcesses   = 256
	MaxUsers       = 1000000
)

// Answers holds everything a person decides. The zero value of an optional
// field means "not given": ApplyDefaults fills it, the wizard may ask it.
type Answers struct {
	// Project is the Compose project name; it prefixes every volume, so it
	// must never change once data exists.
	Project string
	// Domain is the public host name users type, or "localhost".
	Domain string
	// AllowIP accepts an IP address as Domain: plain http, no certificate.
	AllowIP bool
	// Email is the Let's Encrypt account address (required for a public domain).
	Email string
	// RocketChatVersion is an exact release such as "8.1.1".
	RocketChatVersion string
	// MongoDBMembers is the replica set size: 1 or 3.
	MongoDBMembers int
	// Processes overrides the computed app process count when above 0.
	Processes int
	// Users is the expected number of concurrent users; 0 means not given.
	Users int
	// License is the Enterprise licence text (read from LicenseFile, or kept
	// from the deployment's .env).
	License string
	// LicenseFile is where the licence was read from, as recorded in
	// rcgen.yaml (relative to the deployment directory when possible).
	LicenseFile string
	// AllowUnlicensedInstances lets Processes exceed 1 without a licence.
	AllowUnlicensedInstances bool
	// Proxy is "caddy" or "none".
	Proxy string
	// Monitoring turns Prometheus, Grafana and the exporters on.
	Monitoring bool
	// TLSCert and TLSKey are the paths of the operator's own certificate and
	// key (PEM); TLSCertPEM and TLSKeyPEM their content. Set, they replace
	// automatic certificates.
	TLSCert, TLSKey       string
	TLSCertPEM, TLSKeyPEM string
	// MetricsRetention and MetricsRetentionSize bound what Prometheus keeps
	// (whichever is reached first), in Prometheus's own units.
	MetricsRetention, MetricsRetentionSize string
	// SMTP settings for alert emails; alerts are emailed when SMTPHost and
	// AlertEmail are set. SMTPPassword is a secret kept in .env.
	SMTPHost, SMTPFrom, SMTPUser, AlertEmail string
	SMTPPassword                             string
	// CPUs and Memory describe the target host; empty means detect this one.
	CPUs   string
	Memory string
}

// Default returns the answers a person gets by giving none.
func Default() Answers {
	return Answers{
		Project:              DefaultProject,
		Domain:               DefaultDomain,
		RocketChatVersion:    DefaultRocketChatVersion,
		MongoDBMembers:       1,
		Proxy:                ProxyCaddy,
		Monitoring:           true,
		MetricsRetention:     "15d",
		MetricsRetentionSize: "10GB",
	}
}

// FieldError is one invalid answer: the flag that carries it and what to do.
type FieldError struct {
	Field string // flag name without dashes, e.g. "domain"
	Msg   string
}

func (e *FieldError) Error() string { return "--" + e.Field + ": " + e.Msg }

// Licensed reports whether an Enterprise licence was given.
func (a Answers) Licensed() bool { return strings.TrimSpace(a.License) != "" }

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

// PublicURL is the URL users type; Rocket.Chat's ROOT_URL must equal it.
func (a Answers) PublicURL() string {
	host := a.Domain
	if ip, err := netip.ParseAddr(host); err == nil && ip.Is6() {
		host = "[" + host + "]"
	}
	if a.Proxy == ProxyNone {
		if a.Domain == DefaultDomain {
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

// ValidateField returns the problems Validate finds with one answer (by
// flag name), so a prompt can check just the answer it asked.
func (a Answers) ValidateField(field string) error {
	var errs []error
	for _, err := range unjoin(a.Validate()) {
		var fe *FieldError
		if errors.As(err, &fe) && fe.Field == field {
			errs = append(errs, errors.New(fe.Msg))
		}
	}
	return errors.Join(errs...)
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Validate checks every answer and reports all problems at once, each naming
// its flag. It never stops at the first error.
func (a Answers) Validate() error {
	var errs []error
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, &FieldError{Field: field, Msg: err.Error()})
		}
	}
	add("project", ValidateProject(a.Project))
	if ip, err := netip.ParseAddr(a.Domain); err == nil && a.AllowIP {
		if ip.Zone() != "" || ip.IsUnspecified() || ip.IsMulticast() {
			add("domain", fmt.Errorf("%q is not an address users can reach: give this host's address", a.Domain))
		}
	} else {
		add("domain", ValidateDomain(a.Domain))
	}
	if a.Email != "" || a.TLSMode() == TLSACME && a.Proxy == ProxyCaddy {
		add("email", ValidateEmail(a.Email, a.Domain))
	}
	add("rocketchat-version", ValidateRocketChatVersion(a.RocketChatVersion))
	if a.MongoDBMembers != 1 && a.MongoDBMembers != 3 {
		add("mongodb-members", fmt.Errorf("%d is not supported: use 1 (one member) or 3 (a replica set that survives a crashed member)", a.MongoDBMembers))
	}
	switch {
	case a.Processes < 0:
		add("processes", fmt.Errorf("%d is negative: give a count from 1 to %d, or leave it out to let rcgen size it", a.Processes, MaxProcesses))
	case a.Processes > MaxProcesses:
		add("processes", fmt.Errorf("%d is more than %d: past about 1,000 concurrent users Rocket.Chat advises microservices on Kubernetes", a.Processes, MaxProcesses))
	case a.Processes > 1 && !a.Licensed() && !a.AllowUnlicensedInstances:
		add("processes", fmt.Errorf("%d app processes need an Enterprise licence (without one, instances do not share real-time events): give --license-file, or --allow-unlicensed-instances if you know the risk", a.Processes))
	}
	if a.Users < 0 || a.Users > MaxUsers {
		add("users", fmt.Errorf("%d is not a number of concurrent users rcgen sizes for: give 1 to %d, or leave it out", a.Users, MaxUsers))
	}
	add("license-file", ValidateLicense(a.License))
	if a.TLSCertPEM != "" || a.TLSKeyPEM != "" {
		switch {
		case a.Proxy != ProxyCaddy:
			add("tls-cert", fmt.Errorf("own certificate files need rcgen's proxy: drop --proxy none, or terminate TLS in your own proxy"))
		case a.Domain == DefaultDomain:
			add("tls-cert", fmt.Errorf("a certificate needs a real --domain, not localhost"))
		default:
			add("tls-cert", ValidateCertificate([]byte(a.TLSCertPEM), []byte(a.TLSKeyPEM), a.Domain))
		}
	}
	if a.Proxy != ProxyCaddy && a.Proxy != ProxyNone {
		add("proxy", fmt.Errorf("%q is not a proxy rcgen knows: use caddy (rcgen runs the proxy and HTTPS) or none (you run your own)", a.Proxy))
	}
	add("metrics-retention", ValidatePromDuration(a.MetricsRetention))
	add("metrics-retention-size", ValidatePromSize(a.MetricsRetentionSize))
	errs = append(errs, a.validateSMTP()...)
	if a.CPUs != "" {
		_, err := ParseCPUs(a.CPUs)
		add("cpus", err)
	}
	if a.Memory != "" {
		_, err := ParseMemory(a.Memory)
		add("memory", err)
	}
	return errors.Join(errs...)
}
