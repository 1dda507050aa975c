// Package smoke checks a started deployment through its front door, as a
// browser would: the certificate, /api/info, a DDP connect over the
// websocket, Grafana under /grafana and Prometheus's targets. It reads
// nothing from the disk and starts nothing; rcgen up and rcgen status call it.
package smoke

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Target is what one smoke test looks at.
type Target struct {
	// RootURL is the deployment's ROOT_URL, e.g. https://chat.example.com.
	RootURL string
	// Version is the Rocket.Chat version the deployment pins; /api/info
	// must report it.
	Version string
	// Address is the host:port to dial instead of resolving RootURL's host
	// (e.g. 127.0.0.1:443 on the host itself); "" resolves the name.
	Address string
	// RootCAs verifies the certificate; nil means the system's roots.
	RootCAs *x509.CertPool
	// Grafana says monitoring is on: /grafana/ must answer.
	Grafana bool
	// PrometheusTargets returns the JSON of Prometheus's /api/v1/targets,
	// fetched however the caller can reach it; nil skips the check.
	PrometheusTargets func(ctx context.Context) ([]byte, error)

	// HTTPAddress is the host:port where plain HTTP answers for the
	// domain (e.g. 127.0.0.1:80): when RootURL is https, a request there
	// must be redirected to it. "" skips that check.
	HTTPAddress string
	// Proxy is the Compose service of rcgen's own proxy ("caddy" or
	// "traefik"), which the fixes name; "" when the operator's own proxy
	// serves the deployment.
	Proxy string
	// Timeout bounds each check (each request, or the websocket from its
	// dial to the DDP answer); 0 means DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout bounds each check when Target.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// Result is one check's outcome, with the fix when it failed.
type Result struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	Fix    string `json:"fix,omitempty"`
}

// Report is a smoke test's outcome.
type Report struct {
	Results []Result `json:"results"`
	// CertNotAfter is the served certificate's expiry (zero when none was read).
	CertNotAfter time.Time `json:"cert_not_after,omitzero"`
}

// OK says every check passed.
func (r Report) OK() bool {
	for _, res := range r.Results {
		if !res.OK {
			return false
		}
	}
	return len(r.Results) > 0
}

// The checks' names, as Result.Name reports them.
const (
	CheckCertificate = "certificate"
	CheckRedirect    = "http redirect"
	CheckAPIInfo     = "api/info"
	CheckWebsocket   = "websocket"
	CheckGrafana     = "grafana"
	CheckPrometheus  = "prometheus targets"
	CheckRootURL     = "root url"
)

// Run runs every check against t. It never fails as a whole: each check's
// failure is a Result with its fix. The certificate is checked first; the
// other checks then run side by side, each within t.Timeout, so Run takes
// about two timeouts at most. When the certificate is served but not
// trusted, the others still run (over a connection that does not verify
// it), so one wrong certificate does not hide what works behind it.
func Run(ctx context.Context, t Target) Report {
	s, err := newSite(t)
	if err != nil {
		return Report{Results: []Result{{Name: CheckRootURL, Detail: err.Error(),
			Fix: "give the deployment's ROOT_URL, e.g. https://chat.example.com"}}}
	}
	defer s.close()
	var rep Report
	if s.https {
		res, notAfter := s.checkCertificate(ctx)
		rep.Results = append(rep.Results, res)
		rep.CertNotAfter = notAfter
		if notAfter.IsZero() {
			// No TLS connection at all: every other check through the front
			// door would fail the same way. Say so once.
			for _, name := range s.frontDoorChecks() {
				rep.Results = append(rep.Results, Result{Name: name,
					Detail: "not checked: " + s.host + " does not answer HTTPS (above).",
					Fix:    "fix the certificate check above first."})
			}
			if t.PrometheusTargets != nil {
				rep.Results = append(rep.Results, s.checkPrometheus(ctx))
			}
			return rep
		}
	}
	var checks []func(context.Context) Result
	if s.https && t.HTTPAddress != "" {
		checks = append(checks, s.checkRedirect)
	}
	checks = append(checks, s.checkAPIInfo, s.checkWebsocket)
	if t.Grafana {
		checks = append(checks, s.checkGrafana)
	}
	if t.PrometheusTargets != nil {
		checks = append(checks, s.checkPrometheus)
	}
	results := make([]Result, len(checks))
	var wg sync.WaitGroup
	for i, check := range checks {
		wg.Go(func() { results[i] = check(ctx) })
	}
	wg.Wait()
	rep.Results = append(rep.Results, results...)
	return rep
}

// site is one Target, parsed, with what the checks share.
type site struct {
	t       Target
	root    *url.URL // scheme and host only
	prefix  string   // ROOT_URL's path, without its trailing slash
	host    string   // the name, without port or brackets
	https   bool
	dial    string // where to connect for RootURL
	timeout time.Duration
	// insecure: the certificate was served but is not trusted; the
	// checks after it do not verify it (it is reported once).
	insecure bool
	mu       sync.Mutex
	closers  []func()
}

func newSite(t Target) (*site, error) {
	u, err := url.Parse(t.RootURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return nil, fmt.Errorf("ROOT_URL %q is not an http(s) URL with a host", t.RootURL)
	}
	s := &site{t: t, host: u.Hostname(), https: u.Scheme == "https", timeout: t.Timeout}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	s.root = &url.URL{Scheme: u.Scheme, Host: u.Host}
	s.prefix = strings.TrimSuffix(u.Path, "/")
	s.dial = t.Address
	if s.dial == "" {
		port := u.Port()
		if port == "" {
			port = map[bool]string{true: "443", false: "80"}[s.https]
		}
		s.dial = net.JoinHostPort(s.host, port)
	}
	return s, nil
}

// url is the address of path (absolute, from the domain's root) on the site.
func (s *site) url(path string) string { return s.root.String() + path }

// appURL is the address of path under ROOT_URL (Meteor serves everything
// under ROOT_URL's path).
func (s *site) appURL(path string) string { return s.root.String() + s.prefix + path }

func (s *site) frontDoorChecks() []string {
	names := []string{CheckAPIInfo, CheckWebsocket}
	if s.t.Grafana {
		names = append(names, CheckGrafana)
	}
	return names
}

func (s *site) onClose(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closers = append(s.closers, f)
}

func (s *site) close() {
	for _, f := range s.closers {
		f()
	}
}

// bounded is ctx bounded by the check's own timeout.
func (s *site) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

func pass(name, detail string) Result { return Result{Name: name, OK: true, Detail: detail} }

func fail(name, detail, fix string) Result { return Result{Name: name, Detail: detail, Fix: fix} }
