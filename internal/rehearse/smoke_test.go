package rehearse

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/smoke"
)

// checkSmoke runs the smoke test rcgen up and rcgen status run (package
// smoke) against the real Caddy in front of the stand-ins, from the host,
// through the published ports: the certificate against the CA that signed
// it, the redirect from http, /api/info against the pinned version, a DDP
// connect over the websocket, Grafana under /grafana, and Prometheus's
// targets. It waits (within eventDeadline) for the run that passes: right
// after the boot Prometheus has not scraped every target yet.
func (s *stack) checkSmoke() {
	t := s.t
	app := s.d.Project.Services["rocketchat-1"]
	root := app.Environment["ROOT_URL"]
	if root == nil {
		t.Fatal("rocketchat-1 has no ROOT_URL")
	}
	u, err := url.Parse(*root)
	if err != nil {
		t.Fatal(err)
	}
	target := smoke.Target{
		RootURL: *root,
		Version: s.answers.RocketChatVersion,
		Grafana: s.plan.Has(sizing.Grafana),
	}
	want := []string{smoke.CheckAPIInfo, smoke.CheckWebsocket}
	if u.Scheme == "https" {
		target.Address, target.HTTPAddress, target.RootCAs = "127.0.0.1:443", "127.0.0.1:80", s.roots()
		want = append([]string{smoke.CheckCertificate, smoke.CheckRedirect}, want...)
	} else {
		port := u.Port()
		if port == "" {
			port = "80"
		}
		target.Address = net.JoinHostPort("127.0.0.1", port)
	}
	if target.Grafana {
		want = append(want, smoke.CheckGrafana)
	}
	if s.plan.Has(sizing.Prometheus) {
		prom := "http://" + s.containers[sizing.Prometheus].ip + ":9090/api/v1/targets"
		target.PrometheusTargets = func(ctx context.Context) ([]byte, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, prom, nil)
			if err != nil {
				return nil, err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			return io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		}
		want = append(want, smoke.CheckPrometheus)
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventDeadline)
	defer cancel()
	var rep smoke.Report
	for {
		rep = smoke.Run(ctx, target)
		if rep.OK() || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, want) {
		t.Errorf("the smoke test ran %v, want %v", names, want)
	}
	if !rep.OK() {
		t.Errorf("the smoke test through the real %s did not pass within %s:\n%s\n%s", s.proxyName(), eventDeadline, describe(rep), s.proxy().logTail())
		return
	}
	t.Logf("the smoke test through the real %s:\n%s", s.proxyName(), describe(rep))
	if u.Scheme == "https" && rep.CertNotAfter.Before(time.Now()) {
		t.Errorf("the smoke test read the certificate's expiry as %s", rep.CertNotAfter)
	}

	// And it sees what is wrong: a pinned version the stand-ins do not run,
	// a certificate this machine does not trust.
	target.Version, target.PrometheusTargets = "7.0.0", nil
	rep = smoke.Run(context.Background(), target)
	for _, r := range rep.Results {
		if r.OK == (r.Name == smoke.CheckAPIInfo) {
			t.Errorf("pinning 7.0.0, the smoke test's %s: %+v", r.Name, r)
		}
	}
	if u.Scheme == "https" {
		target.Version, target.RootCAs = s.answers.RocketChatVersion, x509.NewCertPool()
		rep = smoke.Run(context.Background(), target)
		// Caddy's local CA's, or the operator's own, self-signed.
		untrusted := regexp.MustCompile(`is (signed by "Caddy Local Authority - ECC Intermediate", which this machine does not trust|self-signed)\.$`)
		for _, r := range rep.Results {
			if r.OK == (r.Name == smoke.CheckCertificate) || r.Name == smoke.CheckCertificate && !untrusted.MatchString(r.Detail) {
				t.Errorf("trusting no authority, the smoke test's %s: %+v", r.Name, r)
			}
		}
		t.Logf("trusting no authority:\n%s", describe(rep))
	}
}

// roots is what verifies the certificate the proxy serves: the operator's
// own (self-signed, in the rehearsal), or Caddy's local CA's root (tls
// internal, and the rehearsal's local_certs for a Let's Encrypt domain).
func (s *stack) roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pem := []byte(s.ownCertificate())
	if len(pem) == 0 {
		// Caddy's data directory ($XDG_DATA_HOME/caddy), pki/authorities/local
		// (caddyserver/caddy modules/caddypki: the local CA's storage).
		b, err := os.ReadFile(filepath.Join(s.containers[sizing.Caddy].data, "pki", "authorities", "local", "root.crt"))
		if err != nil {
			s.t.Fatalf("Caddy's local CA: %v", err)
		}
		pem = b
	}
	if !pool.AppendCertsFromPEM(pem) {
		s.t.Fatal("no certificate to trust")
	}
	return pool
}

func describe(rep smoke.Report) string {
	var b strings.Builder
	for _, r := range rep.Results {
		mark := "ok  "
		if !r.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s %-18s %s", mark, r.Name, r.Detail)
		if r.Fix != "" {
			fmt.Fprintf(&b, " Fix: %s", r.Fix)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
