package render_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
	"github.com/rcgen/rcgen/internal/spec"
)

// standIn is a stand-in app process (or Grafana) behind Traefik: it answers
// its name, its probes as given, the forwarded headers it received at
// /headers, and echoes the bytes of an upgraded connection at /websocket.
func standIn(t *testing.T, name string, probe int) *httptest.Server {
	s := httptest.NewServer(standInHandler(name, probe))
	t.Cleanup(s.Close)
	return s
}

func standInHandler(name string, probe int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health", "/livez", "/readyz":
			w.WriteHeader(probe)
		case "/headers":
			fmt.Fprintf(w, "%s|xff=%s|xrealip=%s", name, strings.Join(r.Header.Values("X-Forwarded-For"), ","), r.Header.Get("X-Real-Ip"))
		case "/websocket":
			if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
				http.Error(w, "no upgrade", http.StatusBadRequest)
				return
			}
			conn, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			rw.Flush()
			// Echo what comes after the upgrade, prefixed with the name.
			line, err := rw.ReadString('\n')
			if err != nil {
				return
			}
			fmt.Fprintf(rw, "%s:%s", name, line)
			rw.Flush()
		default:
			fmt.Fprintf(w, "%s %s", name, r.URL.Path)
		}
	})
}

// startTraefik runs the image's Traefik with static configuration static
// (YAML), logging to dir, and returns once its ping answers.
func startTraefik(t *testing.T, dir, static, ping string) {
	t.Helper()
	path := filepath.Join(dir, "traefik.yml")
	if err := os.WriteFile(path, []byte(static), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "traefik.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rendertest.ImageTraefik(), "--configFile="+path)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		// An error Traefik logs (a router it could not build, an option it
		// does not know) is a failure, even when the requests went through.
		if b, _ := os.ReadFile(filepath.Join(dir, "traefik.log")); strings.Contains(string(b), " ERR ") {
			t.Errorf("traefik logged errors:\n%s", b)
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "traefik.log"))
			t.Logf("traefik's log:\n%s", b)
		}
	})
	waitFor(t, "Traefik's ping on "+ping, func() bool {
		select {
		case err := <-exited:
			b, _ := os.ReadFile(filepath.Join(dir, "traefik.log"))
			t.Fatalf("traefik exited (%v) with the generated static configuration:\n%s\n%s", err, b, static)
		default:
		}
		resp, err := http.Get("http://" + ping + "/ping")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// waitFor polls ok until it holds, failing the test after a generous
// minute: it waits for an event (Traefik loading its configuration, a
// probe failing), not for a time.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runTraefik runs the generated static and dynamic configuration with the
// image's Traefik on the loopback: the entry points and the app processes
// are swapped for loopback addresses, and probes run every 200ms instead
// of 10s. It returns the site's address.
func runTraefik(t *testing.T, files render.Files, backends map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	static := string(mustGet(t, files, render.TraefikStaticFile).Content)
	dynamic := string(mustGet(t, files, render.TraefikDynamicFile).Content)
	site, ping := freePort(t), freePort(t)
	static = replaceOnce(t, static, `address: ":80"`, `address: "`+site+`"`)
	static = replaceOnce(t, static, fmt.Sprintf(`address: ":%d"`, render.TraefikMetricPort), `address: "`+ping+`"`)
	static = replaceOnce(t, static, "/etc/traefik/dynamic.yml", filepath.Join(dir, "dynamic.yml"))
	dynamic = strings.ReplaceAll(dynamic, "interval: 10s", "interval: 200ms")
	for name, addr := range backends {
		dynamic = replaceOnce(t, dynamic, "http://"+name+":3000", addr)
	}
	if err := os.WriteFile(filepath.Join(dir, "dynamic.yml"), []byte(dynamic), 0o644); err != nil {
		t.Fatal(err)
	}
	startTraefik(t, dir, static, ping)
	waitFor(t, "Traefik to route to the app", func() bool {
		_, code := fetch(t, site, "/", nil)
		return code == 200
	})
	return site
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("the generated configuration has no %q:\n%s", old, s)
	}
	return strings.Replace(s, old, new, 1)
}

// fetch asks Traefik at addr for path on the deployment's domain
// (localhost), with the given headers, and returns the body and status.
func fetch(t *testing.T, addr, path string, header http.Header) (string, int) {
	req, err := http.NewRequest("GET", "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "localhost"
	for k, vs := range header {
		req.Header[k] = vs
	}
	c := &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return err.Error(), 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if c := resp.Header.Get("Set-Cookie"); c != "" && header != nil {
		header.Set("X-Test-Set-Cookie", c)
	}
	return string(b), resp.StatusCode
}

func licensed(n int) spec.Answers {
	a := spec.Default()
	a.Proxy = spec.ProxyTraefik
	a.License, a.Processes = "LIC", n
	return a
}

func hostPort(s *httptest.Server) string { return s.URL }

// TestTraefikRoutesAndGuards: rcgen's Traefik serves the app and Grafana
// under /grafana/ (the prefix stripped), answers 404 for the metrics of
// both, and the app sees the client's address as the one X-Forwarded-For
// entry (HTTP_FORWARDED_COUNT=1), whatever the client claims.
func TestTraefikRoutesAndGuards(t *testing.T) {
	rendertest.NeedTraefik(t)
	a := spec.Default()
	a.Proxy = spec.ProxyTraefik
	files := generateAnswers(t, a)
	app, grafana := standIn(t, "app", 200), standIn(t, "grafana", 200)
	site := runTraefik(t, files, map[string]string{"rocketchat-1": hostPort(app), "grafana": hostPort(grafana)})

	if body, code := fetch(t, site, "/home", nil); code != 200 || body != "app /home" {
		t.Errorf("/home: %d %q, want the app's page", code, body)
	}
	if body, code := fetch(t, site, "/grafana/api/health", nil); code != 200 || body != "grafana /api/health" {
		t.Errorf("/grafana/api/health: %d %q, want Grafana's /api/health", code, body)
	}
	for _, p := range []string{"/metrics", "/metrics/x", "/grafana/metrics", "/grafana/metrics/x"} {
		if body, code := fetch(t, site, p, nil); code != 404 {
			t.Errorf("%s: %d %q, want 404 (metrics stay on the internal network)", p, code, body)
		}
	}
	h := http.Header{"X-Forwarded-For": {"6.6.6.6"}, "X-Real-Ip": {"6.6.6.6"}}
	if body, _ := fetch(t, site, "/headers", h); body != "app|xff=127.0.0.1|xrealip=127.0.0.1" {
		t.Errorf("forwarded headers as the app sees them: %q, want only the client's address (127.0.0.1)", body)
	}
}

// TestTraefikSticksAcrossThreeProcesses: without the cookie requests spread
// over the processes; with it, a browser stays on one.
func TestTraefikSticksAcrossThreeProcesses(t *testing.T) {
	rendertest.NeedTraefik(t)
	files := generateAnswers(t, licensed(3))
	backends := map[string]string{}
	for i := 1; i <= 3; i++ {
		backends[fmt.Sprintf("rocketchat-%d", i)] = hostPort(standIn(t, fmt.Sprintf("p%d", i), 200))
	}
	site := runTraefik(t, files, backends)
	seen := map[string]bool{}
	waitFor(t, "requests without the cookie to reach all 3 processes", func() bool {
		body, _ := fetch(t, site, "/", nil)
		seen[body] = true
		return len(seen) == 3
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
}

// TestTraefikPassesWebSockets: an upgrade reaches the process and the
// connection carries bytes both ways after it.
func TestTraefikPassesWebSockets(t *testing.T) {
	rendertest.NeedTraefik(t)
	a := spec.Default()
	a.Proxy = spec.ProxyTraefik
	files := generateAnswers(t, a)
	site := runTraefik(t, files, map[string]string{"rocketchat-1": hostPort(standIn(t, "app", 200))})
	conn, err := net.Dial("tcp", site)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answered %s", resp.Status)
	}
	fmt.Fprintf(conn, "ping\n")
	if line, err := r.ReadString('\n'); err != nil || line != "app:ping\n" {
		t.Fatalf("after the upgrade: %q, %v; want the process's echo", line, err)
	}
}

// TestTraefikNeverDropsALoneProcess: with one app process, its probes
// failing must not turn the site into 503s.
func TestTraefikNeverDropsALoneProcess(t *testing.T) {
	rendertest.NeedTraefik(t)
	a := spec.Default()
	a.Proxy = spec.ProxyTraefik
	files := generateAnswers(t, a)
	app := standIn(t, "one", http.StatusServiceUnavailable)
	site := runTraefik(t, files, map[string]string{"rocketchat-1": hostPort(app)})
	// Probes run every 200ms in this test: 40 requests span many of them.
	for i := range 40 {
		if body, code := fetch(t, site, "/", nil); code != 200 {
			t.Fatalf("request %d to a lone process with failing probes: %d %q", i, code, body)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestTraefikTakesOutOnlyAFailingProcess: with several processes, one whose
// probes fail is taken out, and the others carry the site.
func TestTraefikTakesOutOnlyAFailingProcess(t *testing.T) {
	rendertest.NeedTraefik(t)
	files := generateAnswers(t, licensed(2))
	good, bad := standIn(t, "good", 200), standIn(t, "bad", http.StatusServiceUnavailable)
	site := runTraefik(t, files, map[string]string{"rocketchat-1": hostPort(good), "rocketchat-2": hostPort(bad)})
	run := 0
	waitFor(t, "the failing process to be taken out (20 pages in a row from the good one)", func() bool {
		body, code := fetch(t, site, "/", nil)
		if code != 200 {
			t.Fatalf("while one process fails its probes: %d %q", code, body)
		}
		if body == "good /" {
			run++
		} else {
			run = 0
		}
		return run == 20
	})
}
