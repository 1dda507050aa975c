package spec

import (
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"regexp"
	"strings"
	"sync"
)

var (
	labelRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`) })
	projectRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`) })
)

// ValidateProject checks a Compose project name (Compose's own rule: lower
// case letters, digits, dashes and underscores, starting with a letter or digit).
func ValidateProject(s string) error {
	if !projectRe().MatchString(s) {
		return fmt.Errorf("%q is not a Compose project name: use lower case letters, digits, - and _, starting with a letter or digit (at most 63)", s)
	}
	return nil
}

// TLSModeFor tells how a proxy gets a certificate for domain.
func TLSModeFor(domain string) string {
	if _, err := netip.ParseAddr(domain); err == nil {
		return TLSNone // no certificate for a bare address: plain http
	}
	switch {
	case domain == "localhost" || strings.HasSuffix(domain, ".localhost"):
		return TLSNone
	case strings.HasSuffix(domain, ".local") || strings.HasSuffix(domain, ".internal") ||
		strings.HasSuffix(domain, ".home.arpa") || strings.HasSuffix(domain, ".lan"):
		return TLSInternal
	default:
		return TLSACME
	}
}

// ValidateDomain checks that s is a host name users can type: "localhost" or
// a DNS name with at least two labels. IP addresses, URLs, ports and paths
// are refused with a hint.
func ValidateDomain(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("the host name is empty: give the host name users will type, e.g. chat.example.com, or localhost to try rcgen out")
	case strings.Contains(s, "://"):
		return fmt.Errorf("%q is a URL: give only the host name, e.g. chat.example.com", s)
	case strings.ContainsAny(s, "/:@?#"):
		return fmt.Errorf("%q holds a port, path or user: give only the host name, e.g. chat.example.com", s)
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return fmt.Errorf("%q is an IP address: Let's Encrypt needs a DNS name pointing at this host, e.g. chat.example.com; give {allow_ip} to use the address anyway over plain http", s)
	}
	if s == "localhost" {
		return nil
	}
	if len(s) > 253 {
		return fmt.Errorf("the host name is %d characters long: a DNS name has at most 253", len(s))
	}
	labels := strings.Split(strings.ToLower(s), ".")
	if len(labels) < 2 {
		return fmt.Errorf("%q is not a fully qualified name: give e.g. chat.example.com (or localhost)", s)
	}
	for _, l := range labels {
		if !labelRe().MatchString(l) {
			return fmt.Errorf("%q is not a valid host name: each dot-separated part is 1-63 of a-z, 0-9 and -, not starting or ending with -", s)
		}
	}
	tld := labels[len(labels)-1]
	if strings.Trim(tld, "0123456789") == "" {
		return fmt.Errorf("%q ends in a number: give a DNS name such as chat.example.com", s)
	}
	if s != strings.ToLower(s) {
		return fmt.Errorf("%q has upper case letters: write it in lower case, %q", s, strings.ToLower(s))
	}
	return nil
}

// ValidateEmail checks the Let's Encrypt account address.
func ValidateEmail(s, domain string) error {
	if s == "" {
		return fmt.Errorf("an email address is required for Let's Encrypt's certificate for %s (it sends expiry warnings there): give e.g. admin@%s", domain, domain)
	}
	if validAddress(s) != nil {
		return fmt.Errorf("%q is not an email address: give a plain address such as admin@example.com", s)
	}
	at := strings.LastIndex(s, "@")
	local, host := s[:at], s[at+1:]
	if strings.ContainsAny(local, "\"\\ $`'{}") {
		return fmt.Errorf("%q has quotes, spaces or $ in it: give a plain address such as admin@example.com", s)
	}
	if err := ValidateDomain(host); err != nil || host == "localhost" || TLSModeFor(host) != TLSACME {
		return fmt.Errorf("%q does not end in a public domain: Let's Encrypt needs an address it can reach", s)
	}
	return nil
}

// validAddress accepts a bare address, no display name.
func validAddress(s string) error {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return errors.New("not a plain address")
	}
	return nil
}

// ValidateLicense checks the Enterprise licence text. Rocket.Chat licences are
// one opaque base64-like token; rcgen stores it in .env, so it must be one
// line of printable characters without quotes or $.
func ValidateLicense(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > 64*1024 {
		return fmt.Errorf("the licence is %d bytes: a Rocket.Chat licence is a few kilobytes, check the file", len(s))
	}
	for _, r := range s {
		if r <= ' ' || r > '~' || r == '"' || r == '\'' || r == '$' || r == '\\' || r == '`' {
			return fmt.Errorf("the licence holds %q, which a licence never does: use the file Rocket.Chat Cloud gave you, unchanged", r)
		}
	}
	return nil
}

// NormalizeLicense trims the surrounding whitespace and the final newline
// editors add to a licence file.
func NormalizeLicense(s string) string { return strings.TrimSpace(s) }

// certResolverRe is what rcgen writes into the tls.certresolver label: a
// name of the operator's static configuration (certificatesResolvers.NAME),
// without the dots, commas and quotes that would split a label key or value.
var certResolverRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`) })

// ValidateCertResolver checks the name of a certificate resolver of the
// operator's own Traefik.
func ValidateCertResolver(s string) error {
	if len(s) > 64 || !certResolverRe().MatchString(s) {
		return fmt.Errorf("%q is not a certificate resolver name: give the NAME of certificatesResolvers.NAME in your Traefik's static configuration (letters, digits, _ -), e.g. %s", s, DefaultProxyCertResolver)
	}
	return nil
}
