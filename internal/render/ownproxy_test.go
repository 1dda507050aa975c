package render_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
	"github.com/rcgen/rcgen/internal/spec"
)

// nginxBinary is Debian's nginx (scripts/install-test-tools installs it):
// a loud skip when it is missing, a failure under CI=true.
func nginxBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the real-tool checks in -short mode (make check); make test runs them")
	}
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "missing nginx (apt-get install nginx; scripts/install-test-tools): proxy/nginx.conf is NOT checked by the real nginx"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED: " + msg)
	return ""
}

// hostAnswers are answers for --proxy host with n app processes.
func hostAnswers(domain string, n int) spec.Answers {
	a := spec.Default()
	a.Proxy, a.Domain = spec.ProxyHost, domain
	if n > 1 {
		a.License, a.Processes = "LIC", n
	}
	if ip := net.ParseIP(domain); ip != nil {
		a.AllowIP = true
	}
	return a
}

// nginxMain wraps the snippet in a main configuration the way Debian's
// nginx.conf includes conf.d/*.conf in its http block, with every path in
// dir; the certbot paths point at the test certificate.
func nginxMain(t *testing.T, dir, snippet, domain string) string {
	t.Helper()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for path, content := range map[string]string{cert: testCert, key: testKey} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	snippet = strings.ReplaceAll(snippet, "/etc/letsencrypt/live/"+domain+"/fullchain.pem", cert)
	snippet = strings.ReplaceAll(snippet, "/etc/letsencrypt/live/"+domain+"/privkey.pem", key)
	if err := os.WriteFile(filepath.Join(dir, "rocketchat.conf"), []byte(snippet), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o777); err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Geteuid() == 0 {
		// Workers would run as nobody, who cannot enter the test's
		// directories (Debian's nginx.conf says www-data).
		user = "user root;"
	}
	main := fmt.Sprintf(`%[3]s
pid %[1]s/nginx.pid;
error_log stderr;
events {}
http {
	access_log off;
	client_body_temp_path %[2]s/body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	include %[1]s/rocketchat.conf;
}
`, dir, tmp, user)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHostNginxSnippetPassesNginxT: Debian's nginx accepts proxy/nginx.conf
// (nginx -t) for one and several processes, https, localhost and bare
// addresses.
func TestHostNginxSnippetPassesNginxT(t *testing.T) {
	nginx := nginxBinary(t)
	for _, c := range []struct {
		domain string
		n      int
	}{{"localhost", 1}, {"chat.example.com", 3}, {"chat.example.com", 1}, {"chat.home.arpa", 2}, {"192.0.2.10", 2}, {"2001:db8::7", 2}} {
		t.Run(fmt.Sprintf("%s-%d", c.domain, c.n), func(t *testing.T) {
			files := generateAnswers(t, hostAnswers(c.domain, c.n))
			snippet := string(mustGet(t, files, render.HostNginxFile).Content)
			if got := strings.Count(snippet, "\tserver 127.0.0.1:"); got != c.n {
				t.Errorf("the upstream lists %d servers, want %d:\n%s", got, c.n, snippet)
			}
			dir := t.TempDir()
			main := nginxMain(t, dir, snippet, c.domain)
			out, err := exec.Command(nginx, "-t", "-e", "stderr", "-p", dir, "-c", main).CombinedOutput()
			if err != nil || bytes.Contains(out, []byte("[warn]")) {
				t.Fatalf("nginx -t: %v\n%s\n%s", err, out, snippet)
			}
		})
	}
}

// echoApp is a stand-in app process: it answers with its name and the
// client address headers it got, accepts any body, and switches
// /websocket to an echo of what the client sends.
func echoApp(t *testing.T, name string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/websocket" && r.Header.Get("Upgrade") == "websocket" && strings.EqualFold(r.Header.Get("Connection"), "upgrade") {
			c, rw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			rw.Flush()
			line, _ := rw.ReadString('\n')
			fmt.Fprintf(rw, "%s says %s", name, line)
			rw.Flush()
			return
		}
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%s|%s|%s|%d", name, r.Header.Get("X-Real-IP"), r.Header.Get("X-Forwarded-For"), n)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestHostNginxServesAsCaddyDoes runs Debian's nginx with proxy/nginx.conf
// in front of three stand-in processes: a browser sticks to one process by
// the cookie nginx sets, browsers spread over the processes, WebSocket
// upgrades pass, a client cannot choose its address, and an upload larger
// than nginx's default 1m passes.
func TestHostNginxServesAsCaddyDoes(t *testing.T) {
	nginx := nginxBinary(t)
	files := generateAnswers(t, hostAnswers("localhost", 3))
	snippet := string(mustGet(t, files, render.HostNginxFile).Content)
	site := freePort(t)
	for old, new := range map[string]string{"listen 127.0.0.1:80;": "listen " + site + ";", "listen [::1]:80;": ""} {
		if !strings.Contains(snippet, old) {
			t.Fatalf("test is stale: proxy/nginx.conf has no %q:\n%s", old, snippet)
		}
		snippet = strings.Replace(snippet, old, new, 1)
	}
	apps := map[string]bool{}
	for i := range 3 {
		name := fmt.Sprintf("rocketchat-%d", i+1)
		app := echoApp(t, name)
		apps[name] = true
		old := fmt.Sprintf("server 127.0.0.1:%d ", render.AppPort+i)
		if !strings.Contains(snippet, old) {
			t.Fatalf("test is stale: no %q in:\n%s", old, snippet)
		}
		snippet = strings.Replace(snippet, old, "server "+strings.TrimPrefix(app.URL, "http://")+" ", 1)
	}
	dir := t.TempDir()
	main := nginxMain(t, dir, snippet, "localhost")
	cmd := exec.Command(nginx, "-e", "stderr", "-p", dir, "-c", main, "-g", "daemon off;")
	logFile, err := os.Create(filepath.Join(dir, "nginx.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// SIGTERM: the master stops its workers too (SIGKILL would orphan them).
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	log := func() string { b, _ := os.ReadFile(logFile.Name()); return string(b) }
	waitListening(t, site, log)
	url := "http://" + site

	// Browsers: each keeps its cookie, and each stays on one process.
	seen := map[string]bool{}
	for b := range 12 {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 15 * time.Second}
		first := ""
		for i := range 6 {
			req, _ := http.NewRequest("GET", url+"/home", nil)
			req.Host = "localhost"
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("browser %d: %v\n%s", b, err, log())
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if i == 0 && !strings.Contains(resp.Header.Get("Set-Cookie"), render.StickyCookie+"=") {
				t.Fatalf("the first answer sets no %s cookie: %q", render.StickyCookie, resp.Header.Values("Set-Cookie"))
			}
			if i > 0 && resp.Header.Get("Set-Cookie") != "" {
				t.Errorf("a browser with the cookie is given another: %q", resp.Header.Get("Set-Cookie"))
			}
			name, _, _ := strings.Cut(string(body), "|")
			if first == "" {
				first = name
			} else if name != first {
				t.Fatalf("browser %d moved from %s to %s", b, first, name)
			}
		}
		seen[first] = true
	}
	if len(seen) < 2 {
		t.Errorf("12 browsers all landed on %v: the cookie spreads nothing", seen)
	}

	// The client's own X-Real-IP and X-Forwarded-For do not decide its
	// address: the last X-Forwarded-For entry (HTTP_FORWARDED_COUNT=1) is
	// the peer nginx saw; and a 2 MiB upload passes.
	req, _ := http.NewRequest("POST", url+"/api/v1/rooms.upload", bytes.NewReader(make([]byte, 2<<20)))
	req.Host = "localhost"
	req.Header.Set("X-Real-IP", "203.0.113.66")
	req.Header.Set("X-Forwarded-For", "203.0.113.66")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	parts := strings.Split(string(body), "|")
	if resp.StatusCode != 200 || len(parts) != 4 {
		t.Fatalf("upload: %d %q", resp.StatusCode, body)
	}
	if parts[1] != "" || !strings.HasSuffix(parts[2], ", 127.0.0.1") || parts[3] != fmt.Sprint(2<<20) {
		t.Errorf("the app got X-Real-IP %q, X-Forwarded-For %q, %s bytes; want none, the peer last, 2MiB", parts[1], parts[2], parts[3])
	}

	// A WebSocket upgrade reaches a process and carries data both ways.
	conn, err := net.Dial("tcp", site)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	fmt.Fprintf(conn, "GET /websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	r := bufio.NewReader(conn)
	status, _ := r.ReadString('\n')
	if !strings.HasPrefix(status, "HTTP/1.1 101") {
		t.Fatalf("websocket upgrade answered %q", status)
	}
	for {
		l, err := r.ReadString('\n')
		if err != nil || l == "\r\n" {
			break
		}
	}
	fmt.Fprintf(conn, "ping\n")
	echo, _ := r.ReadString('\n')
	if !regexp.MustCompile(`^rocketchat-[123] says ping\n$`).MatchString(echo) {
		t.Errorf("over the websocket: %q", echo)
	}
}

// waitListening waits until addr accepts a connection (the server is up).
func waitListening(t *testing.T, addr string, log func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s:\n%s", addr, log())
}

// caddyCheck runs the image's Caddy on a Caddyfile: adapt (no deprecation
// warning) and validate; it returns the JSON adapt prints.
func caddyCheck(t *testing.T, caddyfile string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(caddyfile), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	cmd := exec.Command(rendertest.ImageCaddy(), "adapt", "--adapter", "caddyfile", "--config", path)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || strings.Contains(stderr.String(), "deprecated") {
		t.Fatalf("caddy adapt: %v\n%s\n%s", err, stderr.String(), caddyfile)
	}
	cmd = exec.Command(rendertest.ImageCaddy(), "validate", "--adapter", "caddyfile", "--config", path)
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("caddy validate: %v\n%s\n%s", err, b, caddyfile)
	}
	return string(out)
}

// TestHostCaddySnippetIsValid: the image's Caddy adapts and validates
// proxy/Caddyfile, and reads every process and the sticky cookie from it.
func TestHostCaddySnippetIsValid(t *testing.T) {
	rendertest.Need(t)
	for _, c := range []struct {
		domain string
		n      int
	}{{"localhost", 1}, {"chat.example.com", 3}, {"chat.home.arpa", 2}, {"192.0.2.10", 1}, {"2001:db8::7", 2}} {
		t.Run(fmt.Sprintf("%s-%d", c.domain, c.n), func(t *testing.T) {
			files := generateAnswers(t, hostAnswers(c.domain, c.n))
			js := caddyCheck(t, string(mustGet(t, files, render.HostCaddyFile).Content))
			for i := range c.n {
				if want := fmt.Sprintf(`"dial":"127.0.0.1:%d"`, render.AppPort+i); !strings.Contains(js, want) {
					t.Errorf("Caddy reads no %s:\n%s", want, js)
				}
			}
			if sticky := strings.Contains(js, `"policy":"cookie"`); sticky != (c.n > 1) {
				t.Errorf("sticky cookie %v with %d processes:\n%s", sticky, c.n, js)
			}
		})
	}
}

// labelNode is one directive of the Caddyfile caddy-docker-proxy builds
// from labels.
type labelNode struct {
	name     string
	args     []string
	children []*labelNode
}

func (n *labelNode) child(name string) *labelNode {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	c := &labelNode{name: name}
	n.children = append(n.children, c)
	return c
}

// labelsToCaddyfile converts the app containers' labels as
// lucaslorentz/caddy-docker-proxy's README ("Labels to Caddyfile
// conversion") documents it: `caddy` names the site, dots nest, values are
// whitespace-separated arguments (double quotes keep one together),
// directives sorted by name; {{upstreams PORT}} is the container's address
// on the ingress network (here its service name); the containers' blocks
// of one site merge, and their reverse_proxy directives (same matcher)
// into one with every upstream (plugin/caddyfile merge). Labels other than
// caddy and caddy.* (caddy_ingress_network) configure the plugin.
func labelsToCaddyfile(t *testing.T, containers map[string]map[string]string) string {
	t.Helper()
	sites := map[string]*labelNode{}
	var order []string
	names := make([]string, 0, len(containers))
	for name := range containers {
		names = append(names, name)
	}
	sort.Strings(names)
	upstreams := regexp.MustCompile(`\{\{upstreams ([0-9]+)\}\}`)
	for _, name := range names {
		labels := containers[name]
		site, ok := labels["caddy"]
		if !ok {
			t.Fatalf("%s has no caddy label", name)
		}
		root := sites[site]
		if root == nil {
			root = &labelNode{name: site}
			sites[site] = root
			order = append(order, site)
		}
		keys := make([]string, 0, len(labels))
		for k := range labels {
			if strings.HasPrefix(k, "caddy.") {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := upstreams.ReplaceAllString(labels[k], name+":$1")
			n := root
			for _, part := range strings.Split(strings.TrimPrefix(k, "caddy."), ".") {
				n = n.child(part)
			}
			for _, a := range splitArgs(v) {
				if !slices.Contains(n.args, a) { // the same label on each container, or another upstream
					n.args = append(n.args, a)
				}
			}
		}
	}
	var b strings.Builder
	var write func(n *labelNode, depth int)
	write = func(n *labelNode, depth int) {
		b.WriteString(strings.Repeat("\t", depth) + n.name)
		for _, a := range n.args {
			b.WriteString(" " + a)
		}
		if len(n.children) > 0 {
			b.WriteString(" {\n")
			for _, c := range n.children {
				write(c, depth+1)
			}
			b.WriteString(strings.Repeat("\t", depth) + "}")
		}
		b.WriteString("\n")
	}
	for _, s := range order {
		write(sites[s], 0)
	}
	return b.String()
}

// splitArgs splits a label value into Caddyfile arguments, keeping a
// double-quoted one (quotes included) together.
func splitArgs(v string) []string {
	var args []string
	for _, m := range regexp.MustCompile(`"[^"]*"|\S+`).FindAllString(v, -1) {
		args = append(args, m)
	}
	return args
}

// TestCaddyDockerProxyLabelsMakeAValidSite converts the labels of every
// app container as caddy-docker-proxy does and has the image's Caddy adapt
// and validate the result: one site, every process an upstream of one
// reverse_proxy, the sticky cookie with several.
func TestCaddyDockerProxyLabelsMakeAValidSite(t *testing.T) {
	rendertest.Need(t)
	for _, c := range []struct {
		domain string
		n      int
	}{{"chat.example.com", 3}, {"chat.example.com", 1}, {"chat.home.arpa", 2}, {"localhost", 1}} {
		t.Run(fmt.Sprintf("%s-%d", c.domain, c.n), func(t *testing.T) {
			a := hostAnswers(c.domain, c.n)
			a.Proxy = spec.ProxyCaddyDockerProxy
			files := generateAnswers(t, a)
			p := load(t, files)
			containers := map[string]map[string]string{}
			for name, s := range p.Services {
				if strings.HasPrefix(name, "rocketchat-") {
					containers[name] = s.Labels
					if s.Labels["caddy_ingress_network"] != "caddy" || p.Networks["proxy"].Name != "caddy" || !p.Networks["proxy"].External {
						t.Errorf("%s: ingress network label %q, network %+v", name, s.Labels["caddy_ingress_network"], p.Networks["proxy"])
					}
					if _, ok := s.Networks["proxy"]; !ok {
						t.Errorf("%s is not on the proxy network", name)
					}
				} else if _, ok := s.Networks["proxy"]; ok {
					t.Errorf("%s joins the proxy's network; only the app processes may", name)
				}
			}
			if len(containers) != c.n {
				t.Fatalf("%d app containers, want %d", len(containers), c.n)
			}
			cf := labelsToCaddyfile(t, containers)
			js := caddyCheck(t, cf)
			for name := range containers {
				if !strings.Contains(js, `"dial":"`+name+`:3000"`) {
					t.Errorf("no upstream %s in:\n%s\n%s", name, cf, js)
				}
			}
			if sticky := strings.Contains(js, `"policy":"cookie"`); sticky != (c.n > 1) {
				t.Errorf("sticky cookie %v with %d processes:\n%s", sticky, c.n, cf)
			}
			env := envOf(t, mustGet(t, files, render.EnvFile).Content)
			wantURL := "https://" + c.domain
			if c.domain == "localhost" {
				wantURL = "http://localhost"
			}
			if env["ROOT_URL"] != wantURL || !strings.Contains(cf, strings.TrimPrefix(wantURL, "https://")+" {") {
				t.Errorf("ROOT_URL %s, site:\n%s", env["ROOT_URL"], cf)
			}
		})
	}
}

// TestNginxProxyContract: nginx-proxy cannot run here without its
// templates and the Docker socket, so its contract is checked as its docs
// state it (nginx-proxy docs/README.md, acme-companion README): each app
// process carries VIRTUAL_HOST and VIRTUAL_PORT (it exposes two ports),
// ACME_HOST and LETSENCRYPT_HOST for a public name only, the loadbalance
// label with several processes, joins the external network and publishes
// nothing; ROOT_URL is what the browser sees.
func TestNginxProxyContract(t *testing.T) {
	for _, c := range []struct {
		domain, email, url string
		n                  int
		acme               bool
	}{
		{"chat.example.com", "ops@example.com", "https://chat.example.com", 2, true},
		{"chat.example.com", "", "https://chat.example.com", 1, true},
		{"chat.home.arpa", "", "https://chat.home.arpa", 1, false},
		{"localhost", "", "http://localhost", 1, false},
	} {
		t.Run(c.domain, func(t *testing.T) {
			a := hostAnswers(c.domain, c.n)
			a.Proxy, a.Email, a.ProxyNetwork = spec.ProxyNginxProxy, c.email, "web"
			files := generateAnswers(t, a)
			p := load(t, files)
			if nw := p.Networks["proxy"]; nw.Name != "web" || !nw.External {
				t.Errorf("proxy network %+v, want the external network web", nw)
			}
			apps := 0
			for name, s := range p.Services {
				_, onProxy := s.Networks["proxy"]
				if !strings.HasPrefix(name, "rocketchat-") {
					if onProxy {
						t.Errorf("%s joins the proxy's network; only the app processes may", name)
					}
					continue
				}
				apps++
				env := func(k string) string {
					if v := s.Environment[k]; v != nil {
						return *v
					}
					return ""
				}
				if !onProxy || len(s.Ports) != 0 {
					t.Errorf("%s: on the proxy network %v, publishes %v", name, onProxy, s.Ports)
				}
				if env("VIRTUAL_HOST") != c.domain || env("VIRTUAL_PORT") != "3000" {
					t.Errorf("%s: VIRTUAL_HOST %q VIRTUAL_PORT %q", name, env("VIRTUAL_HOST"), env("VIRTUAL_PORT"))
				}
				if got := env("ACME_HOST") == c.domain && env("LETSENCRYPT_HOST") == c.domain; got != c.acme {
					t.Errorf("%s: ACME_HOST %q LETSENCRYPT_HOST %q, want a certificate: %v", name, env("ACME_HOST"), env("LETSENCRYPT_HOST"), c.acme)
				}
				if env("ACME_EMAIL") != c.email && c.acme {
					t.Errorf("%s: ACME_EMAIL %q, want %q", name, env("ACME_EMAIL"), c.email)
				}
				lb := s.Labels["com.github.nginx-proxy.nginx-proxy.loadbalance"]
				if (lb == "hash $remote_addr consistent;") != (c.n > 1) {
					t.Errorf("%s: loadbalance label %q with %d processes", name, lb, c.n)
				}
				if env("ROOT_URL") != c.url || env("HTTP_FORWARDED_COUNT") != "1" {
					t.Errorf("%s: ROOT_URL %q HTTP_FORWARDED_COUNT %q, want %s and 1", name, env("ROOT_URL"), env("HTTP_FORWARDED_COUNT"), c.url)
				}
			}
			if apps != c.n {
				t.Errorf("%d app processes, want %d", apps, c.n)
			}
			if gf := p.Services["grafana"].Environment["GF_SERVER_ROOT_URL"]; gf == nil || *gf != "http://127.0.0.1:3100/" {
				t.Errorf("Grafana's root URL %v, want http://127.0.0.1:3100/ (it is published there)", gf)
			}
		})
	}
}

// TestInvariantsKeepTheProxyNetworkToTheApps: a service other than the
// app processes on the user's proxy network (shared with whatever else
// runs there) fails the checks.
func TestInvariantsKeepTheProxyNetworkToTheApps(t *testing.T) {
	a := hostAnswers("chat.example.com", 1)
	a.Proxy = spec.ProxyNginxProxy
	good := generateAnswers(t, a)
	files := slices.Clone(good)
	for i, f := range files {
		if f.Path == render.ComposeFile {
			old := "    networks: [internal]\n"
			if !strings.Contains(string(f.Content), old) {
				t.Fatalf("test is stale: compose.yaml has no %q", old)
			}
			files[i].Content = []byte(strings.Replace(string(f.Content), old, "    networks: [internal, proxy]\n", 1))
		}
	}
	err := render.Check(t.Context(), files)
	if err == nil || !strings.Contains(err.Error(), "joins the external network nginx-proxy; only the app processes may") {
		t.Fatalf("Check() = %v", err)
	}
}
