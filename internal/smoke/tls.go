package smoke

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// tlsConfig is what a browser would check: the name, against the roots.
// Once the certificate is known to be untrusted (and reported), the other
// checks look past it.
func (s *site) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.host, RootCAs: s.t.RootCAs, InsecureSkipVerify: s.insecure}
}

// dialSite opens a connection to the site: TLS when RootURL is https.
func (s *site) dialSite(ctx context.Context) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.dial)
	if err != nil || !s.https {
		return conn, err
	}
	tc := tls.Client(conn, s.tlsConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// client is an HTTP client that reaches the site at s.dial, follows no
// redirect (a redirect is an answer to report) and keeps no connection.
func (s *site) client() *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, s.dial)
		},
		TLSClientConfig:   s.tlsConfig(),
		DisableKeepAlives: true,
		Proxy:             nil, // the front door itself, never a proxy from the environment
	}
	s.onClose(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get fetches url within the check's timeout, reading at most 1 MiB.
func (s *site) get(ctx context.Context, c *http.Client, url string) (*http.Response, []byte, error) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, body, err
}

// checkCertificate connects as a browser would and names what is wrong
// with the certificate served for the host. notAfter is zero when no TLS
// connection was made; otherwise it is the leaf's expiry, and when the
// certificate is not trusted the later checks do not verify it.
func (s *site) checkCertificate(ctx context.Context) (Result, time.Time) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.dial)
	if err != nil {
		d, fix := s.netError(err, s.dial)
		return fail(CheckCertificate, d, fix), time.Time{}
	}
	defer conn.Close()
	tc := tls.Client(conn, &tls.Config{ServerName: s.host, InsecureSkipVerify: true})
	if err := tc.HandshakeContext(ctx); err != nil {
		// Caddy answers a handshake for a name it holds no certificate for
		// with an internal_error alert (RFC 8446 6.2): it is still trying to
		// get one. crypto/tls reports a received alert only as text.
		if strings.Contains(err.Error(), "remote error: tls: internal error") {
			return fail(CheckCertificate,
				fmt.Sprintf("%s answers HTTPS but has no certificate for %s yet.", s.dial, s.host),
				fmt.Sprintf("the ACME (Let's Encrypt) challenge likely failed: check that DNS for %s points to this host and that port 80 is open to the internet; %s says why.", s.host, s.proxyLogs())), time.Time{}
		}
		if ctx.Err() != nil {
			return fail(CheckCertificate, fmt.Sprintf("%s accepted a connection but the TLS handshake did not finish within %s.", s.dial, s.timeout),
				fmt.Sprintf("check that %s is running and serves HTTPS on that port: %s.", s.proxyName(), s.proxyLogs())), time.Time{}
		}
		return fail(CheckCertificate, fmt.Sprintf("the TLS handshake with %s failed: %v.", s.dial, err),
			fmt.Sprintf("check that %s serves HTTPS on that port: %s.", s.proxyName(), s.proxyLogs())), time.Time{}
	}
	certs := tc.ConnectionState().PeerCertificates
	leaf := certs[0]
	detail, fix := verify(s.host, s.t.Proxy, leaf, certs[1:], s.t.RootCAs, time.Now())
	if detail != "" {
		s.insecure = true
		return fail(CheckCertificate, detail, fix), leaf.NotAfter
	}
	return pass(CheckCertificate, fmt.Sprintf("valid for %s until %s (issued by %s).",
		s.host, leaf.NotAfter.UTC().Format(time.DateOnly), issuer(leaf))), leaf.NotAfter
}

// verify names every way leaf is wrong for host at now: expired (or not
// yet valid), issued for other names, signed by no authority roots trust.
// It returns "" when the certificate is good.
func verify(host, proxy string, leaf *x509.Certificate, intermediates []*x509.Certificate, roots *x509.CertPool, now time.Time) (detail, fix string) {
	var problems, fixes []string
	switch {
	case now.After(leaf.NotAfter):
		problems = append(problems, "expired on "+leaf.NotAfter.UTC().Format(time.DateOnly))
		fixes = append(fixes, renewFix(proxy))
	case now.Before(leaf.NotBefore):
		problems = append(problems, "not valid before "+leaf.NotBefore.UTC().Format(time.RFC3339)+" (check this machine's clock)")
		fixes = append(fixes, "set the clock right (timedatectl; an NTP service)")
	}
	if err := leaf.VerifyHostname(host); err != nil {
		problems = append(problems, fmt.Sprintf("issued for %s, not %s", names(leaf), host))
		fixes = append(fixes, fmt.Sprintf("the proxy serves a certificate for another name: the domain must be %s in rcgen.yaml (and an own certificate must cover it)", host))
	}
	pool := x509.NewCertPool()
	for _, c := range intermediates {
		pool.AddCert(c)
	}
	trusted := func(at time.Time) error {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: pool, CurrentTime: at})
		return err
	}
	err := trusted(now)
	// Dates are named above, once: the chain is then checked as of the
	// leaf's last valid moment, and a chain that fails only on dates
	// (an authority's own) adds nothing to say.
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) && invalid.Reason == x509.Expired {
		err = trusted(leaf.NotAfter.Add(-time.Second))
		if errors.As(err, &invalid) && invalid.Reason == x509.Expired {
			err = nil
		}
	}
	var unknown x509.UnknownAuthorityError
	switch {
	case err == nil:
	case errors.As(err, &unknown) && selfSigned(leaf):
		problems = append(problems, "self-signed")
		fixes = append(fixes, acmeFix(host, proxy))
	case errors.As(err, &unknown):
		problems = append(problems, "signed by "+issuer(leaf)+", which this machine does not trust")
		fixes = append(fixes, acmeFix(host, proxy))
	default:
		problems = append(problems, "not trusted: "+err.Error())
		fixes = append(fixes, acmeFix(host, proxy))
	}
	if len(problems) == 0 {
		return "", ""
	}
	// One fix, for the problem most likely the cause of the others: a
	// certificate nobody trusts (it was not issued), then a wrong name,
	// then its dates.
	return "the certificate served for " + host + " is " + strings.Join(problems, ", and ") + ".", fixes[len(fixes)-1] + "."
}

func acmeFix(host, proxy string) string {
	local := "a local name uses a certificate of the proxy's own, which each browser must be told to trust"
	if proxy == "caddy" {
		local = "a local name uses Caddy's own CA, whose root each browser must be told to trust"
	}
	return "with Let's Encrypt, the certificate was likely not issued (the ACME challenge failed: DNS for " + host +
		" does not point to this host, or port 80 is closed), see " + logsOf(proxy) + "; " + local + "; an own certificate must come from an authority browsers trust"
}

// renewFix is the fix for an expired certificate.
func renewFix(proxy string) string {
	if proxy == "" {
		return "your reverse proxy renews (or serves) the certificate: an expired one means its renewal failed (see its logs); an own certificate must be renewed and put in place again"
	}
	return proxyTitle(proxy) + " renews certificates itself: an expired one means renewal failed (" + logsOf(proxy) + "); an own certificate must be renewed and rcgen re-run"
}

// proxyName names the proxy in front, as a fix says it.
func (s *site) proxyName() string {
	if s.t.Proxy == "" {
		return "your reverse proxy"
	}
	return "the proxy (" + s.t.Proxy + ")"
}

// proxyCheck says how to check the proxy runs.
func (s *site) proxyCheck() string {
	if s.t.Proxy == "" {
		return "check that your reverse proxy is running and forwards to the app (its logs say why not)"
	}
	return "check that the proxy (" + s.t.Proxy + ") is running: `docker compose ps " + s.t.Proxy + "`, " + logsOf(s.t.Proxy)
}

// proxyLogs says where the proxy's logs are.
func (s *site) proxyLogs() string { return logsOf(s.t.Proxy) }

func logsOf(proxy string) string {
	if proxy == "" {
		return "your reverse proxy's logs"
	}
	return "`docker compose logs " + proxy + "`"
}

func proxyTitle(proxy string) string {
	if proxy == "" {
		return proxy
	}
	return strings.ToUpper(proxy[:1]) + proxy[1:]
}

func selfSigned(c *x509.Certificate) bool {
	return string(c.RawIssuer) == string(c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func issuer(c *x509.Certificate) string {
	if c.Issuer.CommonName != "" {
		return fmt.Sprintf("%q", c.Issuer.CommonName)
	}
	return fmt.Sprintf("%q", c.Issuer.String())
}

func names(c *x509.Certificate) string {
	var n []string
	n = append(n, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		n = append(n, ip.String())
	}
	if len(n) == 0 && c.Subject.CommonName != "" {
		n = append(n, c.Subject.CommonName)
	}
	if len(n) == 0 {
		return "no name"
	}
	return strings.Join(n, ", ")
}

// checkRedirect: plain HTTP on the domain sends the browser to HTTPS.
func (s *site) checkRedirect(ctx context.Context) Result {
	c := &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, s.t.HTTPAddress)
			},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	host := s.host
	if strings.Contains(host, ":") { // an IPv6 address
		host = "[" + host + "]"
	}
	from := "http://" + host + "/"
	resp, _, err := s.get(ctx, c, from)
	if err != nil {
		d, fix := s.netError(err, s.t.HTTPAddress)
		return fail(CheckRedirect, d, fix)
	}
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || !strings.HasPrefix(loc, "https://"+host) {
		return fail(CheckRedirect, fmt.Sprintf("%s answers %s instead of a redirect to HTTPS.", from, resp.Status),
			"plain HTTP reaches something other than the proxy: check what listens on port 80 (`ss -ltnp 'sport = :80'`).")
	}
	return pass(CheckRedirect, fmt.Sprintf("%s redirects to %s (%d).", from, loc, resp.StatusCode))
}

// netError says in a sentence why addr could not be reached, and what to do.
func (s *site) netError(err error, addr string) (detail, fix string) {
	var dns *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("%s did not answer within %s.", addr, s.timeout),
			s.proxyCheck() + " and that no firewall drops the connection."
	case errors.Is(err, context.Canceled):
		return "interrupted before " + addr + " answered.", "run the check again."
	case errors.As(err, &dns):
		return fmt.Sprintf("%s does not resolve: %v.", dns.Name, dns.Err),
			fmt.Sprintf("point DNS for %s to this host (an A/AAAA record), or wait for it to propagate.", dns.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing listens on %s (connection refused).", addr),
			"start the stack (`rcgen up`) and " + s.proxyCheck() + "."
	}
	return fmt.Sprintf("%s could not be reached: %v.", addr, err),
		s.proxyCheck() + "."
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
