package smoke

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	domain  = "chat.example.com"
	pinned  = "8.8.1"
	targets = `{"status":"success","data":{"activeTargets":[
		{"labels":{"job":"rocketchat","instance":"rocketchat-1:9458"},"scrapeUrl":"http://rocketchat-1:9458/metrics","lastError":"","health":"up"},
		{"labels":{"job":"node","instance":"node-exporter:9100"},"scrapeUrl":"http://node-exporter:9100/metrics","lastError":"","health":"up"}],
		"droppedTargets":[]}}`
)

// ca is a certificate authority of the test's own.
type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T, name string) *ca {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &ca{cert: cert, key: key, pool: pool}
}

// leaf issues a server certificate for names, valid from notBefore to
// notAfter; a nil ca makes it self-signed.
func leaf(t *testing.T, c *ca, names []string, notBefore, notAfter time.Time) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	parent, signer := tmpl, key
	if c != nil {
		parent, signer = c.cert, c.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// ddp answers a websocket as Rocket.Chat (Meteor) does, after the upgrade:
// it reads the client's connect and answers connected. before runs first
// (it may send frames or stop the conversation: false).
func ddp(before func(c net.Conn, r *bufio.Reader) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || r.Header.Get("Sec-WebSocket-Version") != "13" {
			http.Error(w, "not a websocket", http.StatusBadRequest)
			return
		}
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept(r.Header.Get("Sec-WebSocket-Key")))
		rw.Flush()
		if before != nil && !before(conn, rw.Reader) {
			return
		}
		// A server must close the connection on a frame the client did
		// not mask (RFC 6455 5.1).
		if h, err := rw.Reader.Peek(2); err != nil || h[1]&0x80 == 0 {
			serverFrame(conn, opClose, "\x03\xeaunmasked frame")
			return
		}
		fin, op, p, err := readFrame(rw.Reader)
		var m map[string]any
		if err != nil || !fin || op != opText || json.Unmarshal(p, &m) != nil || m["msg"] != "connect" || m["version"] != "1" {
			serverFrame(conn, opText, `{"msg":"error","reason":"bad connect"}`)
			return
		}
		serverFrame(conn, opText, `{"msg":"connected","session":"abc123"}`)
	}
}

// serverFrame writes an unmasked frame, as a server does.
func serverFrame(w net.Conn, op byte, p string) {
	h := []byte{0x80 | op}
	if len(p) < 126 {
		h = append(h, byte(len(p)))
	} else {
		h = append(h, 126)
		h = binary.BigEndian.AppendUint16(h, uint16(len(p)))
	}
	w.Write(append(h, p...))
}

// server is a front door: a TLS server for the domain with Rocket.Chat's
// and Grafana's answers, each replaceable by the test.
type server struct {
	*httptest.Server
	ca   *ca
	cert tls.Certificate
}

func newServer(t *testing.T, replace map[string]http.HandlerFunc, tweak func(*server)) *server {
	c := newCA(t, "Test Authority")
	s := &server{ca: c, cert: leaf(t, c, []string{domain}, time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour))}
	if tweak != nil {
		tweak(s)
	}
	handlers := map[string]http.HandlerFunc{
		"/api/info": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"version":"8.8","minimumClientVersions":{"desktop":"3.9.6","mobile":"4.39.0"},"success":true}`)
		},
		"/websocket": ddp(nil),
		"/grafana/api/health": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"commit":"abc","database":"ok","version":"12.3.1"}`)
		},
	}
	for p, h := range replace {
		handlers[p] = h
	}
	mux := http.NewServeMux()
	for p, h := range handlers {
		mux.Handle(p, h)
	}
	s.Server = httptest.NewUnstartedServer(mux)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{s.cert}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *server) target() Target {
	return Target{
		RootURL: "https://" + domain, Version: pinned, Address: s.Listener.Addr().String(), RootCAs: s.ca.pool,
		Grafana: true, PrometheusTargets: func(context.Context) ([]byte, error) { return []byte(targets), nil },
	}
}

// want checks that exactly the named check failed, with its detail
// containing each of details, and that every other check passed.
func want(t *testing.T, rep Report, failed string, details ...string) {
	t.Helper()
	seen := false
	for _, r := range rep.Results {
		switch {
		case r.Name == failed:
			seen = true
			if r.OK {
				t.Errorf("%s passed (%s), want it to fail", r.Name, r.Detail)
			}
			for _, d := range details {
				if !strings.Contains(r.Detail, d) {
					t.Errorf("%s: detail %q, want it to say %q", r.Name, r.Detail, d)
				}
			}
			if r.Fix == "" {
				t.Errorf("%s failed with no fix", r.Name)
			}
		case !r.OK:
			t.Errorf("%s failed too: %s (fix: %s)", r.Name, r.Detail, r.Fix)
		}
		if strings.Count(strings.TrimSuffix(r.Detail, "."), ". ") > 0 && !strings.Contains(r.Detail, "...") {
			t.Errorf("%s: detail %q is more than one sentence", r.Name, r.Detail)
		}
	}
	if failed != "" && !seen {
		t.Errorf("no %s check in %+v", failed, rep.Results)
	}
	if failed == "" && !rep.OK() {
		t.Errorf("the report is not OK: %+v", rep.Results)
	}
	if failed != "" && rep.OK() {
		t.Error("the report says OK with a failed check")
	}
}

func fixOf(rep Report, name string) string {
	for _, r := range rep.Results {
		if r.Name == name {
			return r.Fix
		}
	}
	return ""
}

func TestAllGood(t *testing.T) {
	s := newServer(t, nil, nil)
	rep := Run(context.Background(), s.target())
	want(t, rep, "")
	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Name)
	}
	if got := strings.Join(names, ","); got != "certificate,api/info,websocket,grafana,prometheus targets" {
		t.Errorf("checks %s", got)
	}
	leaf, _ := x509.ParseCertificate(s.cert.Certificate[0])
	if !rep.CertNotAfter.Equal(leaf.NotAfter) {
		t.Errorf("CertNotAfter %s, want the served certificate's %s", rep.CertNotAfter, leaf.NotAfter)
	}
	// Rocket.Chat shows anonymous callers 8.8 for 8.8.1: that is the pin.
	if d := rep.Results[1].Detail; !strings.Contains(d, "8.8") || !strings.Contains(d, pinned) {
		t.Errorf("api/info: %s", d)
	}
	if d := rep.Results[2].Detail; !strings.Contains(d, "session abc123") {
		t.Errorf("websocket: %s", d)
	}
}

func TestVersion(t *testing.T) {
	for _, tc := range []struct{ served, pinned, failure string }{
		{"8.8.1", "8.8.1", ""}, // as an admin sees it
		{"8.8", "8.8.1", ""},
		{"8.7", "8.8.1", "reports version 8.7, but the deployment pins 8.8.1"},
		{"8.7.2", "8.8.1", "reports version 8.7.2, but the deployment pins 8.8.1"},
		{"8.8", "8.8", ""},
		{"18.8", "8.8.1", "reports version 18.8"},
	} {
		s := newServer(t, map[string]http.HandlerFunc{"/api/info": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"version":%q,"success":true}`, tc.served)
		}}, nil)
		tg := s.target()
		tg.Version = tc.pinned
		rep := Run(context.Background(), tg)
		if tc.failure == "" {
			want(t, rep, "")
		} else {
			want(t, rep, CheckAPIInfo, tc.failure)
		}
	}
}

func TestAPIInfoAnswers(t *testing.T) {
	for name, tc := range map[string]struct {
		h    http.HandlerFunc
		want []string
	}{
		"html": {func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>welcome to nginx</html>") },
			[]string{"200", "not JSON", "welcome to nginx"}},
		"other json": {func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"status":"ok"}`) },
			[]string{"not Rocket.Chat's"}},
		"truncated json": {func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"version":"8.8","succ`) },
			[]string{"not JSON"}},
		"502": {func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) },
			[]string{"502 Bad Gateway", "nothing healthy answers behind it"}},
		"404": {http.NotFound, []string{"404 Not Found"}},
		"redirect": {func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://other.example.com/", http.StatusFound)
		},
			[]string{"redirects to https://other.example.com/"}},
	} {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, map[string]http.HandlerFunc{"/api/info": tc.h}, nil)
			want(t, Run(context.Background(), s.target()), CheckAPIInfo, tc.want...)
		})
	}
}

func TestCertificate(t *testing.T) {
	now := time.Now()
	other := newCA(t, "Someone Else's CA")
	for name, tc := range map[string]struct {
		cert func(s *server) tls.Certificate
		want []string
		fix  string
	}{
		"wrong name": {func(s *server) tls.Certificate {
			return leaf(t, s.ca, []string{"other.example.com", "www.other.example.com"}, now.Add(-time.Hour), now.Add(time.Hour))
		}, []string{"issued for other.example.com, www.other.example.com, not chat.example.com"}, "the domain must be chat.example.com"},
		"expired": {func(s *server) tls.Certificate {
			return leaf(t, s.ca, []string{domain}, now.Add(-90*24*time.Hour), now.Add(-48*time.Hour))
		}, []string{"expired on " + now.Add(-48*time.Hour).UTC().Format(time.DateOnly)}, "renewal failed"},
		"not yet valid": {func(s *server) tls.Certificate {
			return leaf(t, s.ca, []string{domain}, now.Add(48*time.Hour), now.Add(90*24*time.Hour))
		}, []string{"not valid before", "clock"}, "clock"},
		"self-signed": {func(s *server) tls.Certificate {
			return leaf(t, nil, []string{domain}, now.Add(-time.Hour), now.Add(time.Hour))
		}, []string{"is self-signed"}, "ACME challenge failed: DNS for chat.example.com does not point to this host, or port 80 is closed"},
		"unknown authority": {func(s *server) tls.Certificate {
			return leaf(t, other, []string{domain}, now.Add(-time.Hour), now.Add(time.Hour))
		}, []string{`signed by "Someone Else's CA", which this machine does not trust`}, "ACME challenge failed"},
		"self-signed, expired and for another name": {func(s *server) tls.Certificate {
			return leaf(t, nil, []string{"localhost"}, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
		}, []string{"expired on", "issued for localhost", "self-signed"}, "ACME challenge failed"},
		"expired and for another name": {func(s *server) tls.Certificate {
			return leaf(t, s.ca, []string{"localhost"}, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
		}, []string{"expired on", "issued for localhost"}, "the domain must be chat.example.com"},
	} {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, nil, func(s *server) { s.cert = tc.cert(s) })
			rep := Run(context.Background(), s.target())
			// The rest is checked past the certificate: it works.
			want(t, rep, CheckCertificate, tc.want...)
			if fix := fixOf(rep, CheckCertificate); !strings.Contains(fix, tc.fix) {
				t.Errorf("fix %q, want it to say %q", fix, tc.fix)
			}
			leaf, _ := x509.ParseCertificate(s.cert.Certificate[0])
			if !rep.CertNotAfter.Equal(leaf.NotAfter) {
				t.Errorf("CertNotAfter %s, want %s", rep.CertNotAfter, leaf.NotAfter)
			}
		})
	}
}

// TestNoCertificateYet: Caddy answers a handshake for a name it has no
// certificate for (ACME still failing) with an internal_error alert.
func TestNoCertificateYet(t *testing.T) {
	s := newServer(t, nil, nil)
	s.TLS.Certificates = nil
	s.TLS.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return nil, errors.New("no certificate available for 'chat.example.com'")
	}
	rep := Run(context.Background(), s.target())
	if rep.OK() || !rep.CertNotAfter.IsZero() {
		t.Fatalf("OK %v, CertNotAfter %s", rep.OK(), rep.CertNotAfter)
	}
	got := map[string]Result{}
	for _, r := range rep.Results {
		got[r.Name] = r
	}
	if r := got[CheckCertificate]; !strings.Contains(r.Detail, "has no certificate for chat.example.com yet") ||
		!strings.Contains(r.Fix, "DNS for chat.example.com points to this host and that port 80 is open") {
		t.Errorf("certificate: %+v", r)
	}
	for _, name := range []string{CheckAPIInfo, CheckWebsocket, CheckGrafana} {
		if r := got[name]; r.OK || !strings.Contains(r.Detail, "not checked") {
			t.Errorf("%s: %+v, want not checked", name, r)
		}
	}
	// Prometheus is not reached through the front door: still checked.
	if r := got[CheckPrometheus]; !r.OK {
		t.Errorf("prometheus: %+v", r)
	}
}

func TestNothingListens(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	rep := Run(context.Background(), Target{RootURL: "https://" + domain, Version: pinned, Address: addr})
	r := rep.Results[0]
	if r.OK || !strings.Contains(r.Detail, "nothing listens on "+addr) || !strings.Contains(r.Fix, "rcgen up") {
		t.Errorf("%+v", r)
	}
}

// TestFixesNameTheProxyInFront: the fixes tell the operator to look at
// the proxy that really serves the deployment: rcgen's Caddy or Traefik by
// its service name, or the operator's own proxy, never a Caddy that is not
// there.
func TestFixesNameTheProxyInFront(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	for proxy, wantFix := range map[string]string{
		"caddy":   "`docker compose logs caddy`",
		"traefik": "`docker compose ps traefik`, `docker compose logs traefik`",
		"":        "your reverse proxy",
	} {
		r := Run(context.Background(), Target{RootURL: "https://" + domain, Version: pinned, Address: addr, Proxy: proxy}).Results[0]
		if r.OK || !strings.Contains(r.Fix, wantFix) {
			t.Errorf("proxy %q: fix %q does not say %q", proxy, r.Fix, wantFix)
		}
		if proxy != "caddy" && strings.Contains(strings.ToLower(r.Fix), "caddy") {
			t.Errorf("proxy %q: fix %q names Caddy", proxy, r.Fix)
		}
	}
	if fix := renewFix("traefik"); !strings.HasPrefix(fix, "Traefik renews") || !strings.Contains(fix, "logs traefik") {
		t.Errorf("expired certificate behind Traefik: %q", fix)
	}
}

// TestNoCheckHangs: a server that accepts connections and never says a
// word, one that answers every request only when the test ends, and a
// websocket that upgrades and stays silent: each check gives up after its
// timeout and says so.
func TestNoCheckHangs(t *testing.T) {
	const timeout = 300 * time.Millisecond
	t.Run("silent listener", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		defer l.Close()
		go func() {
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				conns = append(conns, c)
			}
		}()
		rep := Run(context.Background(), Target{RootURL: "https://" + domain, Address: l.Addr().String(), Timeout: timeout})
		if r := rep.Results[0]; r.OK || !strings.Contains(r.Detail, "TLS handshake did not finish within 300ms") {
			t.Errorf("%+v", r)
		}
	})
	t.Run("slow answers", func(t *testing.T) {
		release := make(chan struct{})
		slow := func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		s := newServer(t, map[string]http.HandlerFunc{"/api/info": slow, "/grafana/api/health": slow, "/websocket": slow}, nil)
		t.Cleanup(func() { close(release) })
		tg := s.target()
		tg.Timeout = timeout
		tg.PrometheusTargets = func(ctx context.Context) ([]byte, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		rep := Run(context.Background(), tg)
		for _, r := range rep.Results[1:] {
			if r.OK || !strings.Contains(r.Detail, "within 300ms") && !strings.Contains(r.Detail, "deadline exceeded") {
				t.Errorf("%s: %+v, want a timeout", r.Name, r)
			}
		}
	})
	t.Run("ddp never answers", func(t *testing.T) {
		s := newServer(t, map[string]http.HandlerFunc{"/websocket": ddp(func(c net.Conn, r *bufio.Reader) bool {
			readFrame(r) // the connect, unanswered
			readFrame(r) // until the client goes
			return false
		})}, nil)
		tg := s.target()
		tg.Timeout = timeout
		want(t, Run(context.Background(), tg), CheckWebsocket, "upgraded but no DDP answer to connect came within 300ms")
	})
	t.Run("cancelled", func(t *testing.T) {
		s := newServer(t, nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if rep := Run(ctx, s.target()); rep.OK() {
			t.Errorf("a cancelled run passed: %+v", rep.Results)
		}
	})
}

func TestWebsocket(t *testing.T) {
	for name, tc := range map[string]struct {
		h    http.HandlerFunc
		want []string // "" for a check that passes
	}{
		"not upgrading": {func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "served-by rocketchat-1") },
			[]string{"answered 200 OK instead of upgrading"}},
		"400": {func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "websocket not allowed", http.StatusBadRequest)
		},
			[]string{"answered 400 Bad Request instead of upgrading"}},
		"wrong accept": {func(w http.ResponseWriter, r *http.Request) {
			conn, rw, _ := w.(http.Hijacker).Hijack()
			defer conn.Close()
			fmt.Fprint(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm9wZQ==\r\n\r\n")
			rw.Flush()
		}, []string{"wrong Sec-WebSocket-Accept"}},
		// Meteor before 3 greets with {"server_id":"0"}, and either side may ping.
		"server_id, ping, then connected": {ddp(func(c net.Conn, r *bufio.Reader) bool {
			serverFrame(c, opText, `{"server_id":"0"}`)
			readFrame(r) // the connect
			serverFrame(c, opText, `{"msg":"ping","id":"p1"}`)
			if _, _, p, _ := readFrame(r); string(p) != `{"id":"p1","msg":"pong"}` {
				serverFrame(c, opText, `{"msg":"error","reason":"no pong"}`)
				return false
			}
			serverFrame(c, opText, `{"msg":"connected","session":"abc123"}`)
			return false
		}), nil},
		"a websocket ping, a fragmented connected": {func(w http.ResponseWriter, r *http.Request) {
			ddp(func(c net.Conn, r *bufio.Reader) bool {
				readFrame(r) // the connect
				serverFrame(c, opPing, "hi")
				if _, op, p, err := readFrame(r); err != nil || op != opPong || string(p) != "hi" {
					serverFrame(c, opText, `{"msg":"error","reason":"no pong"}`)
					return false
				}
				c.Write([]byte{opText, 12})
				c.Write([]byte(`{"msg":"conn`))
				c.Write([]byte{0x80 | opContinuation, 11})
				c.Write([]byte(`ected"}    `))
				return false
			})(w, r)
		}, nil},
		"closed": {ddp(func(c net.Conn, r *bufio.Reader) bool {
			serverFrame(c, opClose, "\x03\xf3shutting down")
			return false
		}), []string{"closed it (status 1011: shutting down)"}},
		"failed": {ddp(func(c net.Conn, r *bufio.Reader) bool {
			readFrame(r)
			serverFrame(c, opText, `{"msg":"failed","version":"pre2"}`)
			return false
		}), []string{`wants protocol version "pre2"`}},
		"not json": {ddp(func(c net.Conn, r *bufio.Reader) bool {
			readFrame(r)
			serverFrame(c, opText, `ninja: echo`)
			return false
		}), []string{"not DDP"}},
	} {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, map[string]http.HandlerFunc{"/websocket": tc.h}, nil)
			rep := Run(context.Background(), s.target())
			if tc.want == nil {
				want(t, rep, "")
			} else {
				want(t, rep, CheckWebsocket, tc.want...)
			}
		})
	}
}

func TestGrafana(t *testing.T) {
	for name, tc := range map[string]struct {
		h    http.HandlerFunc
		want []string
	}{
		"502": {func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) },
			[]string{"the proxy answers 502 Bad Gateway for https://chat.example.com/grafana/api/health"}},
		"database failing": {func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"database":"failing"}`)
		}, []string{"503 Service Unavailable"}},
		"the app answers instead": {func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<!DOCTYPE html><html>Rocket.Chat</html>") },
			[]string{"not JSON"}},
	} {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, map[string]http.HandlerFunc{"/grafana/api/health": tc.h}, nil)
			want(t, Run(context.Background(), s.target()), CheckGrafana, tc.want...)
		})
	}
	// Monitoring off: Grafana is not looked for.
	s := newServer(t, map[string]http.HandlerFunc{"/grafana/api/health": http.NotFound}, nil)
	tg := s.target()
	tg.Grafana = false
	want(t, Run(context.Background(), tg), "")
}

func TestPrometheusTargets(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		err  error
		want []string
	}{
		"down": {body: `{"status":"success","data":{"activeTargets":[
			{"labels":{"job":"rocketchat","instance":"rocketchat-1:9458"},"lastError":"","health":"up"},
			{"labels":{"job":"rocketchat","instance":"rocketchat-2:9458"},"lastError":"Get \"http://rocketchat-2:9458/metrics\": dial tcp: lookup rocketchat-2: no such host","health":"down"},
			{"labels":{"job":"mongodb","instance":"mongodb-exporter-1:9216"},"lastError":"","health":"unknown"}],"droppedTargets":[]}}`,
			want: []string{"2 of 3 targets are not up",
				`mongodb/mongodb-exporter-1:9216 is unknown (not scraped yet)`,
				`rocketchat/rocketchat-2:9458 is down (Get "http://rocketchat-2:9458/metrics": dial tcp: lookup rocketchat-2: no such host)`}},
		"malformed": {body: `{"status":"success","data":{"activeTargets":[{"health":`, want: []string{"not its targets as JSON"}},
		"html":      {body: `<html>Prometheus Time Series Collection</html>`, want: []string{"not its targets as JSON"}},
		"error":     {body: `{"status":"error","errorType":"internal","error":"boom"}`, want: []string{"answered error: boom"}},
		"none":      {body: `{"status":"success","data":{"activeTargets":[],"droppedTargets":[]}}`, want: []string{"scrapes no target"}},
		"unreachable": {err: errors.New("dial tcp 172.18.0.5:9090: connect: connection refused"),
			want: []string{"could not be read: dial tcp 172.18.0.5:9090: connect: connection refused"}},
	} {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, nil, nil)
			tg := s.target()
			tg.PrometheusTargets = func(context.Context) ([]byte, error) { return []byte(tc.body), tc.err }
			want(t, Run(context.Background(), tg), CheckPrometheus, tc.want...)
		})
	}
}

func TestRedirect(t *testing.T) {
	for name, tc := range map[string]struct {
		h    http.HandlerFunc
		want string
	}{
		"redirects": {func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://"+r.Host+r.URL.Path, http.StatusPermanentRedirect)
		}, ""},
		"serves plain http": {func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") }, "answers 200 OK instead of a redirect to HTTPS"},
		"redirects elsewhere": {func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://"+r.Host+"/login", http.StatusFound)
		}, "answers 302 Found instead of a redirect to HTTPS"},
	} {
		t.Run(name, func(t *testing.T) {
			plain := httptest.NewServer(tc.h)
			defer plain.Close()
			s := newServer(t, nil, nil)
			tg := s.target()
			tg.HTTPAddress = plain.Listener.Addr().String()
			rep := Run(context.Background(), tg)
			if tc.want == "" {
				want(t, rep, "")
				if rep.Results[1].Name != CheckRedirect {
					t.Errorf("no redirect check: %+v", rep.Results)
				}
			} else {
				want(t, rep, CheckRedirect, tc.want)
			}
		})
	}
}

// TestPlainHTTP: a deployment without TLS (a local name, or --tls none)
// has no certificate to check; the rest is checked over plain HTTP.
func TestPlainHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/info", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"version":"8.8","success":true}`) })
	mux.Handle("/websocket", ddp(nil))
	s := httptest.NewServer(mux)
	defer s.Close()
	rep := Run(context.Background(), Target{RootURL: "http://localhost", Version: pinned, Address: s.Listener.Addr().String()})
	want(t, rep, "")
	if len(rep.Results) != 2 || !rep.CertNotAfter.IsZero() {
		t.Errorf("%+v", rep)
	}
}

func TestBadRootURL(t *testing.T) {
	for _, u := range []string{"", "chat.example.com", "ftp://chat.example.com", "https://"} {
		rep := Run(context.Background(), Target{RootURL: u})
		if rep.OK() || len(rep.Results) != 1 || rep.Results[0].Name != CheckRootURL || rep.Results[0].Fix == "" {
			t.Errorf("%q: %+v", u, rep)
		}
	}
}
