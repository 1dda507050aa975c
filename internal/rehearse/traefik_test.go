package rehearse

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// The operator's own Traefik, in front of a traefik-labels deployment: not
// a service of ours, so it is no compose service; it runs in a namespace of
// its own on the bridge (the operator's Traefik network), publishes 80 and
// 443, and reads the containers and their labels from a stand-in of the
// Docker Engine API (rendertest.ServeDockerEngine), as it would from
// /var/run/docker.sock.
const (
	operatorTraefik  = "operator-traefik"
	operatorPingPort = 8080 // its ping and metrics (Traefik's own "traefik" entry point)
)

// operatorCertDir holds the certificate the operator's Traefik serves by
// default (its own, for the domain; the ACME resolver the labels name
// cannot reach Let's Encrypt here).
var operatorCertDir = filepath.Join("..", "render", "testdata", "tls")

// proxy is the container of the proxy in front of the app: Caddy, our
// Traefik or the operator's; nil with --proxy none.
func (s *stack) proxy() *container {
	for _, name := range []string{sizing.Caddy, sizing.Traefik, operatorTraefik} {
		if c, ok := s.containers[name]; ok {
			return c
		}
	}
	return nil
}

// proxyName names the proxy in messages.
func (s *stack) proxyName() string {
	switch c := s.proxy(); {
	case c == nil:
		return "no proxy"
	case c.name == sizing.Caddy:
		return "Caddy"
	case c.name == sizing.Traefik:
		return "Traefik"
	}
	return "operator's Traefik"
}

// ownCertificate is the PEM of the certificate the proxy must serve when it
// is the operator's own: the answers' (Caddy, our Traefik), or the one the
// operator's Traefik holds; "" when the proxy issues its own (Caddy).
func (s *stack) ownCertificate() string {
	switch {
	case s.answers.Proxy == spec.ProxyTraefikLabels && strings.HasPrefix(s.base(), "https://"):
		return readFile(s.t, filepath.Join(operatorCertDir, "cert.pem"))
	case s.answers.TLSMode() == spec.TLSOwn:
		return s.answers.TLSCertPEM
	}
	return ""
}

// startTraefik readies rcgen's Traefik as its container would run it: the
// static configuration at /etc/traefik/traefik.yml naming the dynamic one
// beside it, the certificates in /certs, its state in the traefik-data
// volume (/data). Both files run as generated, intervals included; only
// their container paths point into the container's view.
func (s *stack) startTraefik(c *container, root string, rewrite func(string) string, tmp string) []string {
	t := s.t
	if s.answers.TLSMode() == spec.TLSACME || s.answers.TLSMode() == spec.TLSInternal {
		t.Fatalf("Traefik with TLS %s cannot be rehearsed offline: rehearse it with the operator's own certificate", s.answers.TLSMode())
	}
	static := filepath.Join(root, "etc", "traefik", "traefik.yml")
	b := rewrite(readFile(t, static))
	b = strings.ReplaceAll(b, "/data/", tmp+"/")
	writeFile(t, static, b)
	dynamic := filepath.Join(root, "etc", "traefik", "dynamic.yml")
	writeFile(t, dynamic, rewrite(readFile(t, dynamic)))
	c.config = static
	s.noTraefikErrors(c)
	return []string{rendertest.ImageTraefik(), "--configFile=" + static}
}

// startOperatorTraefik readies the operator's Traefik as Traefik's
// documentation sets one up for Docker: entry points web (redirecting to
// websecure) and websecure, the Docker provider with nothing exposed by
// default, the certificate resolver the labels name (Let's Encrypt, out of
// reach here), and a default certificate of the operator's for the domain.
func (s *stack) startOperatorTraefik(c *container, tmp string) []string {
	t := s.t
	sockDir, err := os.MkdirTemp("", "docker")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	sock := filepath.Join(sockDir, "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	network := s.answers.ProxyNetworkName()
	containers := rendertest.LabelledContainers(s.d.Project, network, func(service string) string {
		ctr, ok := s.containers[service]
		if !ok {
			t.Fatalf("%s carries Traefik labels but does not run in the rehearsal", service)
		}
		return ctr.ip
	})
	if len(containers) == 0 {
		t.Fatal("no service carries Traefik labels")
	}
	rendertest.ServeDockerEngine(t, l, containers)
	cert, key := filepath.Join(operatorCertDir, "cert.pem"), filepath.Join(operatorCertDir, "key.pem")
	for _, f := range []*string{&cert, &key} {
		abs, err := filepath.Abs(*f)
		if err != nil {
			t.Fatal(err)
		}
		*f = abs
	}
	writeFile(t, filepath.Join(tmp, "tls.yml"), fmt.Sprintf(`tls:
  stores:
    default:
      defaultCertificate:
        certFile: %q
        keyFile: %q
`, cert, key))
	static := filepath.Join(tmp, "traefik.yml")
	writeFile(t, static, fmt.Sprintf(`entryPoints:
  web:
    address: ":80"
    http:
      redirections:
        entryPoint:
          to: websecure
          scheme: https
          permanent: true
  websecure:
    address: ":443"
  traefik:
    address: ":%d"
ping:
  entryPoint: traefik
metrics:
  prometheus:
    entryPoint: traefik
providers:
  docker:
    endpoint: "unix://%s"
    exposedByDefault: false
  file:
    filename: %q
certificatesResolvers:
  %s:
    acme:
      email: ops@example.com
      storage: %q
      caServer: https://127.0.0.1:9/directory
      tlsChallenge: {}
log:
  level: INFO
  noColor: true
global:
  checkNewVersion: false
  sendAnonymousUsage: false
`, operatorPingPort, sock, filepath.Join(tmp, "tls.yml"), s.answers.CertResolver(), filepath.Join(tmp, "acme.json")))
	c.config = static
	s.noTraefikErrors(c)
	return []string{rendertest.ImageTraefik(), "--configFile=" + static}
}

// noTraefikErrors fails the test when Traefik logged an error (a router it
// could not build from our files or labels, an option it does not know),
// even when the requests went through. Its ACME resolver failing to reach
// Let's Encrypt is the rehearsal's doing, not an error of ours.
func (s *stack) noTraefikErrors(c *container) {
	s.t.Cleanup(func() {
		b, _ := os.ReadFile(c.log)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, " ERR ") && !strings.Contains(line, "acme") && !strings.Contains(line, "ACME") {
				s.t.Errorf("%s logged an error: %s", c.name, line)
			}
		}
	})
}

// checkTraefikHealthcheck runs the container's health check (compose's
// healthcheck test, `traefik healthcheck`, reading the same static
// configuration), as Docker would in the container.
func (s *stack) checkTraefikHealthcheck() {
	c := s.containers[sizing.Traefik]
	hc := s.d.Project.Services[sizing.Traefik].HealthCheck
	if hc == nil || len(hc.Test) < 3 || hc.Test[0] != "CMD" || hc.Test[1] != "traefik" {
		s.t.Errorf("Traefik's health check is %v, want [CMD traefik ...]", hc)
		return
	}
	args := append([]string{"netns", "exec", c.ns, rendertest.ImageTraefik()}, hc.Test[2:]...)
	// The image's Traefik finds its static configuration at
	// /etc/traefik/traefik.yml; this one, in the container's view.
	args = append(args, "--configFile="+c.config)
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		s.t.Errorf("Traefik's health check (%s) fails: %v\n%s", strings.Join(hc.Test[1:], " "), err, out)
	}
}

var serverUp = regexp.MustCompile(`(?m)^traefik_service_server_up\{[^}]*url="http://([^"]+):3000"[^}]*\} (\S+)$`)

// waitTakenOut waits until Traefik's health checks have taken the dead app
// process out (its traefik_service_server_up is 0: the passive check after
// failed requests, or the active one after a failed probe), while the
// others stay in. Traefik reports it on its metrics entry point
// (install-configuration/observability/metrics.md; traefik/traefik
// pkg/healthcheck sets the gauge when it changes a server's status).
func (s *stack) waitTakenOut(victim string) {
	p := s.proxy()
	port := render.TraefikMetricPort
	if p.name == operatorTraefik {
		port = operatorPingPort
	}
	url := "http://" + net.JoinHostPort(p.ip, strconv.Itoa(port)) + "/metrics"
	// Our Traefik names the servers by service name, the operator's by
	// the address the Docker provider gave.
	name := map[string]string{}
	for n, c := range s.containers {
		if strings.HasPrefix(n, "rocketchat-") {
			name[n], name[c.ip] = n, n
		}
	}
	c := &http.Client{Timeout: 10 * time.Second}
	var last string
	for deadline := s.killedAt.Add(eventDeadline); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		resp, err := c.Get(url)
		if err != nil {
			last = err.Error()
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		up := map[string]string{}
		for _, m := range serverUp.FindAllStringSubmatch(string(b), -1) {
			up[name[m[1]]] = m[2]
		}
		last = fmt.Sprint(up)
		if up[victim] != "0" {
			continue
		}
		// Traefik reports a server only once its status has changed (a
		// healthy one from the start may have no series at all).
		for n := range s.containers {
			if strings.HasPrefix(n, "rocketchat-") && n != victim && up[n] == "0" {
				s.t.Errorf("with %s dead, Traefik took %s out too: %v", victim, n, up)
			}
		}
		s.t.Logf("%s took %s out %s after it died", s.proxyName(), victim, time.Since(s.killedAt).Round(100*time.Millisecond))
		return
	}
	s.t.Errorf("%s's health check did not take the dead %s out within %s: traefik_service_server_up %s\n%s", s.proxyName(), victim, eventDeadline, last, p.logTail())
}
