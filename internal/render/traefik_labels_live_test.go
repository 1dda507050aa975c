package render_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
	"github.com/rcgen/rcgen/internal/spec"
)

// labelledContainers reads the generated compose file as docker compose
// does (compose-go) and returns its services that carry Traefik labels as
// containers on the Traefik network, each at its own loopback address (on
// port 3000, the port the labels name, as in a container).
func labelledContainers(t *testing.T, files render.Files, network string) []rendertest.DockerContainer {
	t.Helper()
	p, err := render.LoadCompose(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	out := rendertest.LabelledContainers(p, network, func(string) string { n++; return fmt.Sprintf("127.77.0.%d", n+1) })
	for _, c := range out {
		name := c.Labels["com.docker.compose.service"]
		if _, ok := p.Services[name].Networks["proxy"]; !ok {
			t.Errorf("%s has Traefik labels but is not on the proxy network", name)
		}
	}
	return out
}

// dockerStandIn serves the Docker Engine stand-in on the loopback and
// returns the endpoint for providers.docker.endpoint.
func dockerStandIn(t *testing.T, containers []rendertest.DockerContainer) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rendertest.ServeDockerEngine(t, l, containers)
	return "tcp://" + l.Addr().String()
}

// runLabelledTraefik runs the image's Traefik as an operator's would be
// (entry points web and websecure, its Docker provider, nothing exposed by
// default) against the Docker stand-in serving containers, each container
// played by a stand-in process at its address.
func runLabelledTraefik(t *testing.T, containers []rendertest.DockerContainer, names map[string]string, extra string) (site, secure string, servers map[string]*http.Server) {
	t.Helper()
	servers = map[string]*http.Server{}
	for _, c := range containers {
		l, err := net.Listen("tcp", c.Addr+":3000")
		if err != nil {
			t.Skipf("cannot listen on %s:3000 for %s (another test uses it?): %v", c.Addr, c.Name, err)
		}
		srv := &http.Server{Handler: standInHandler(names[c.Labels["com.docker.compose.service"]], 200)}
		servers[names[c.Labels["com.docker.compose.service"]]] = srv
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	endpoint := dockerStandIn(t, containers)
	dir := t.TempDir()
	site, secure = freePort(t), freePort(t)
	ping := freePort(t)
	static := fmt.Sprintf(`entryPoints:
  web:
    address: %q
  websecure:
    address: %q
  traefik:
    address: %q
ping:
  entryPoint: traefik
providers:
  docker:
    endpoint: %q
    exposedByDefault: false
log:
  level: INFO
  noColor: true
`, site, secure, ping, endpoint) + strings.ReplaceAll(extra, "DIR", dir)
	startTraefik(t, dir, static, ping)
	return site, secure, servers
}

// TestTraefikLabelsRouteAsDockerProviderReadsThem: the operator's Traefik,
// reading the generated containers' labels through its Docker provider,
// routes the domain to the app processes (sticky, with a cookie), Grafana
// under /grafana/, passes websockets, and answers 404 for the metrics.
func TestTraefikLabelsRouteAsDockerProviderReadsThem(t *testing.T) {
	rendertest.NeedTraefik(t)
	a := spec.Default()
	a.Proxy, a.ProxyNetwork = spec.ProxyTraefikLabels, "edge-proxy"
	a.License, a.Processes = "LIC", 3
	files := generateAnswers(t, a)
	containers := labelledContainers(t, files, "edge-proxy")
	if len(containers) != 4 {
		t.Fatalf("%d labelled services, want the 3 app processes and Grafana", len(containers))
	}
	for _, c := range containers {
		if c.Labels["traefik.docker.network"] != "edge-proxy" {
			t.Errorf("%s: traefik.docker.network %q, want the --proxy-network", c.Name, c.Labels["traefik.docker.network"])
		}
	}
	names := map[string]string{"rocketchat-1": "p1", "rocketchat-2": "p2", "rocketchat-3": "p3", "grafana": "grafana"}
	site, _, servers := runLabelledTraefik(t, containers, names, "")
	waitFor(t, "Traefik to route by the labels", func() bool {
		_, code := fetch(t, site, "/", nil)
		return code == 200
	})

	seen := map[string]bool{}
	waitFor(t, "requests without the cookie to reach all 3 processes", func() bool {
		body, _ := fetch(t, site, "/", nil)
		seen[body] = true
		return seen["p1 /"] && seen["p2 /"] && seen["p3 /"]
	})
	h := http.Header{}
	first, _ := fetch(t, site, "/", h)
	cookie := h.Get("X-Test-Set-Cookie")
	if !strings.HasPrefix(cookie, render.StickyCookie+"=") {
		t.Fatalf("no %s cookie set: Set-Cookie %q", render.StickyCookie, cookie)
	}
	jar := http.Header{"Cookie": {strings.SplitN(cookie, ";", 2)[0]}}
	for range 20 {
		if body, _ := fetch(t, site, "/", jar); body != first {
			t.Fatalf("with the cookie of %q a request went to %q", first, body)
		}
	}
	// The browser's process dies: its very next request is answered by
	// another process (the retry middleware the labels attach), not a 502.
	_ = servers[strings.TrimSuffix(first, " /")].Close()
	if body, code := fetch(t, site, "/", jar); code != 200 || body == first {
		t.Errorf("after %q went away a request with its cookie got %d %q, want 200 from another process", first, code, body)
	}
	if body, code := fetch(t, site, "/grafana/api/health", nil); code != 200 || body != "grafana /api/health" {
		t.Errorf("/grafana/api/health: %d %q, want Grafana's /api/health", code, body)
	}
	for _, p := range []string{"/metrics", "/grafana/metrics"} {
		if body, code := fetch(t, site, p, nil); code != 404 {
			t.Errorf("%s: %d %q, want 404", p, code, body)
		}
	}
}

// TestTraefikLabelsServeHTTPS: for a public domain the labels put the
// router on the entry point websecure with TLS, the certificate resolver
// named, and HSTS; the operator's Traefik (here with a resolver
// letsencrypt whose CA cannot be reached, so it serves its default
// certificate) answers https for the domain and nothing on plain http.
func TestTraefikLabelsServeHTTPS(t *testing.T) {
	rendertest.NeedTraefik(t)
	a := spec.Default()
	a.Proxy, a.Domain = spec.ProxyTraefikLabels, "chat.example.com"
	files := generateAnswers(t, a)
	containers := labelledContainers(t, files, spec.DefaultProxyNetwork)
	for _, c := range containers {
		if c.Labels["traefik.http.routers.rocketchat.tls.certresolver"] == "" && c.Labels["traefik.http.routers.rocketchat-grafana.tls.certresolver"] == "" {
			t.Errorf("%s names no certificate resolver", c.Name)
		}
	}
	names := map[string]string{"rocketchat-1": "app", "grafana": "grafana"}
	_, secure, _ := runLabelledTraefik(t, containers, names, `certificatesResolvers:
  letsencrypt:
    acme:
      email: admin@example.com
      storage: DIR/acme.json
      caServer: https://127.0.0.1:9/directory
      tlsChallenge: {}
`)
	c := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{ServerName: "chat.example.com", InsecureSkipVerify: true}}}
	get := func(path string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", "https://"+secure+path, nil)
		req.Host = "chat.example.com"
		resp, err := c.Do(req)
		if err != nil {
			return nil, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	var resp *http.Response
	var body string
	waitFor(t, "Traefik to route https by the labels", func() bool {
		resp, body = get("/home")
		return resp != nil && resp.StatusCode == 200
	})
	if body != "app /home" {
		t.Errorf("https /home: %q, want the app's page", body)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=31536000") {
		t.Errorf("Strict-Transport-Security %q, want a year", hsts)
	}
	if resp, body := get("/grafana/api/health"); resp == nil || body != "grafana /api/health" {
		t.Errorf("https /grafana/api/health: %q", body)
	}
}
