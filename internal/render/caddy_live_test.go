package render_test

import (
	"encoding/json"
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

// backend is a stand-in app process: it serves pages, and its /health,
// /livez and /readyz answer as given (503: a failing probe).
func backend(t *testing.T, name string, probe int) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health", "/livez", "/readyz":
			w.WriteHeader(probe)
		default:
			fmt.Fprint(w, name)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// runCaddy runs the generated Caddyfile with the image's Caddy on the
// loopback: the site and metrics addresses and the app processes are
// swapped for loopback ones, and probes run every 200ms instead of 10s.
func runCaddy(t *testing.T, files render.Files, apps map[string]string) string {
	t.Helper()
	cf := string(mustGet(t, files, render.CaddyFile).Content)
	site := freePort(t)
	cf = strings.Replace(cf, "admin localhost:2019", "admin off", 1)
	cf = strings.Replace(cf, "\n:80 {", "\nhttp://"+site+" {", 1)
	cf = strings.Replace(cf, "\n:9180 {", "\nhttp://"+freePort(t)+" {", 1)
	cf = strings.Replace(cf, "health_interval 10s", "health_interval 200ms", 1)
	for name, addr := range apps {
		cf = strings.Replace(cf, name+":3000", addr, 1)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(cf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rendertest.ImageCaddy(), "run", "--adapter", "caddyfile", "--config", path)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	log, _ := os.Create(filepath.Join(dir, "caddy.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for range 100 {
		if c, err := net.Dial("tcp", site); err == nil {
			c.Close()
			return "http://" + site
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "caddy.log"))
	t.Fatalf("caddy did not start:\n%s", b)
	return ""
}

// get fetches n pages over d, without cookies, and counts each body and status.
func get(t *testing.T, url string, n int, d time.Duration) map[string]int {
	seen := map[string]int{}
	c := &http.Client{Timeout: 15 * time.Second}
	for range n {
		resp, err := c.Get(url + "/home")
		if err != nil {
			seen["error"]++
		} else {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				seen[fmt.Sprint(resp.StatusCode)]++
			} else {
				seen[string(b)]++
			}
		}
		time.Sleep(d / time.Duration(n))
	}
	return seen
}

// TestCaddyNeverDropsALoneUpstream: with one app process (every plan
// without a licence), its probes failing (/readyz answers 503 under mere
// load) must not turn the site into 503s.
func TestCaddyNeverDropsALoneUpstream(t *testing.T) {
	rendertest.Need(t)
	files := generateAnswers(t, spec.Default()) // localhost, one process
	app := backend(t, "one", http.StatusServiceUnavailable)
	url := runCaddy(t, files, map[string]string{"rocketchat-1": strings.TrimPrefix(app.URL, "http://")})
	if seen := get(t, url, 20, 2*time.Second); seen["one"] != 20 {
		t.Errorf("a lone upstream with failing probes: %v, want 20 pages", seen)
	}
}

// TestCaddyTakesOutOnlyAFailingProcess: with several processes, one whose
// probes fail is taken out (after a few probes), and the others carry the
// site without an error.
func TestCaddyTakesOutOnlyAFailingProcess(t *testing.T) {
	rendertest.Need(t)
	a := spec.Default()
	a.License, a.Processes = "LIC", 2
	files := generateAnswers(t, a)
	good, bad := backend(t, "good", http.StatusOK), backend(t, "bad", http.StatusServiceUnavailable)
	url := runCaddy(t, files, map[string]string{
		"rocketchat-1": strings.TrimPrefix(good.URL, "http://"),
		"rocketchat-2": strings.TrimPrefix(bad.URL, "http://"),
	})
	time.Sleep(1500 * time.Millisecond) // more than 3 probes
	if seen := get(t, url, 20, time.Second); seen["good"] != 20 {
		t.Errorf("after the bad process failed its probes: %v, want every page from the good one", seen)
	}
}

// adaptCaddy runs `caddy adapt` (the image's Caddy) on the generated
// Caddyfile and returns the app processes' reverse_proxy health checks as
// Caddy reads them.
func adaptCaddy(t *testing.T, files render.Files) map[string]any {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, mustGet(t, files, render.CaddyFile).Content, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rendertest.ImageCaddy(), "adapt", "--adapter", "caddyfile", "--config", path)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("caddy adapt: %v", err)
	}
	var found map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["handler"] == "reverse_proxy" && strings.Contains(string(mustJSON(t, v["upstreams"])), "rocketchat-") {
				hc, _ := v["health_checks"].(map[string]any)
				found = hc
				return
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	var cfg any
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("caddy adapt printed no JSON: %v\n%s", err, out)
	}
	walk(cfg)
	if found == nil {
		t.Fatalf("no reverse_proxy to the app processes with health checks in:\n%s", out)
	}
	return found
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCaddyProbesOnlyWhatFailsForOneProcess: Caddy (as it reads the
// Caddyfile) probes the processes of a release whose /health fails only for
// its own process (7.11 on), and never those of an older release, whose
// /health fails on every process at once while the change-stream watcher
// lags: there only requests that fail take a process out.
func TestCaddyProbesOnlyWhatFailsForOneProcess(t *testing.T) {
	rendertest.Need(t)
	for version, wantProbe := range map[string]string{"7.10.15": "", "8.8.1": "/health"} {
		a := spec.Default()
		a.License, a.Processes, a.RocketChatVersion = "LIC", 2, version
		hc := adaptCaddy(t, generateAnswers(t, a))
		active, _ := hc["active"].(map[string]any)
		switch {
		case wantProbe == "" && active != nil:
			t.Errorf("Rocket.Chat %s: Caddy probes every process (%v), and takes them all out at once when /health answers 500 everywhere", version, active)
		case wantProbe != "" && (active == nil || active["uri"] != wantProbe):
			t.Errorf("Rocket.Chat %s: active health checks %v, want probes of %s", version, active, wantProbe)
		}
		if passive, _ := hc["passive"].(map[string]any); passive == nil || passive["max_fails"] != float64(3) {
			t.Errorf("Rocket.Chat %s: passive health checks %v, want a process out after 3 failed requests", version, hc["passive"])
		}
	}
}

// TestCaddyKeepsProcessesWhoseProbesFailTogether: Rocket.Chat before 7.11
// answers 500 on /health on every process at once while its change-stream
// watcher lags (they all watch one database). Caddy must go on serving
// pages from them: with every upstream taken out it would answer 503 to
// everyone.
func TestCaddyKeepsProcessesWhoseProbesFailTogether(t *testing.T) {
	rendertest.Need(t)
	a := spec.Default()
	a.License, a.Processes, a.RocketChatVersion = "LIC", 2, "7.10.15"
	files := generateAnswers(t, a)
	probed := make(chan struct{}, 100)
	lagging := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/health" {
				select {
				case probed <- struct{}{}:
				default:
				}
				http.Error(w, "not healthy", http.StatusInternalServerError)
				return
			}
			fmt.Fprint(w, name)
		}))
		t.Cleanup(s.Close)
		return s
	}
	one, two := lagging("one"), lagging("two")
	url := runCaddy(t, files, map[string]string{
		"rocketchat-1": strings.TrimPrefix(one.URL, "http://"),
		"rocketchat-2": strings.TrimPrefix(two.URL, "http://"),
	})
	// Were the processes probed (every 200ms here), 8 probes take both
	// out; unprobed, nothing comes, and the pages are asked for after 2s.
	deadline := time.After(2 * time.Second)
	for n := 0; n < 8; n++ {
		select {
		case <-probed:
		case <-deadline:
			n = 8
		}
	}
	if seen := get(t, url, 20, time.Second); seen["one"]+seen["two"] != 20 {
		t.Errorf("processes whose /health all answer 500: %v, want 20 pages", seen)
	}
}
