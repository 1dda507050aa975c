package rehearse

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/prometheus/common/model"

	gen "github.com/rcgen/rcgen/internal/generate"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

func TestMain(m *testing.M) {
	if kind := os.Getenv("RCGEN_STANDIN"); kind != "" {
		standin(kind, os.Getenv("RCGEN_STANDIN_NAME"))
	}
	os.Exit(m.Run())
}

// Timings the rehearsal shortens, and only these: Prometheus scrapes and
// evaluates every second instead of every 30, and each rule's `for:` is
// divided by 60 (2m becomes 2s). Nothing else of the generated files changes
// but what the issue of a certificate needs: a Let's Encrypt deployment's
// Caddyfile gets `local_certs` (Caddy's own CA) in its global options.
// Traefik's files run as generated, but for the paths of its volumes.
const (
	scrapeEvery = time.Second
	timeScale   = 60
)

// Deadlines: how long the rehearsal waits for an event before it calls it
// missing. They bound a broken run, never a working one's speed: each wait
// ends at the event (a port listening, a certificate served, a target up,
// an alert firing), so they are generous enough for a machine with a load
// of 10 on 2 cores. When one passes, the service's log is in the failure.
const (
	startDeadline = 2 * time.Minute // a server listens on its ports
	eventDeadline = time.Minute     // a certificate, a target up, an alert delivered
	outerDeadline = 9 * time.Minute // the whole run (go test's own default is 10m)
)

// tools are the real programs the rehearsal runs, and where they come from.
var tools = map[string]string{
	"unshare":                  "util-linux",
	"ip":                       "iproute2",
	"prometheus":               "prometheus (Debian's 2.x: the image's 3.x server does not build from its module in reasonable time)",
	"prometheus-alertmanager":  "prometheus-alertmanager",
	"nats-server":              "nats-server",
	"prometheus-node-exporter": "prometheus-node-exporter",
}

// need stops the rehearsal when it cannot run: loudly skipped on a
// developer's machine, a failure under CI=true.
func need(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("the rehearsal boots real servers: skipped in -short mode (make check); make test and make rehearse run it")
	}
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (for network namespaces)")
	}
	for tool, pkg := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool+" ("+pkg+")")
		}
	}
	if _, err := os.Stat(rendertest.ImageCaddy()); err != nil {
		missing = append(missing, rendertest.ImageCaddy()+" (make tools)")
	}
	if len(missing) == 0 {
		return
	}
	slices.Sort(missing)
	msg := "the rehearsal needs " + strings.Join(missing, ", ") + ": the stack's wiring is NOT rehearsed"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED: " + msg)
}

// TestRehearse runs itself again in a network and mount namespace of its
// own (unshare), where each compose service gets a network namespace and
// an address on a bridge, and /etc/hosts names them as Docker's DNS would.
func TestRehearse(t *testing.T) {
	if os.Getenv("RCGEN_REHEARSAL") == "" {
		need(t)
		ctx, cancel := context.WithTimeout(context.Background(), outerDeadline)
		defer cancel()
		// Everything of the run lives in namespaces of its own: network
		// (the bridge, the veths, the published ports), mount (/etc/hosts
		// and /run/netns, so the per-service namespaces' names are this
		// run's alone and two runs on one machine never meet) and PID, whose
		// processes the kernel kills when its first process dies. unshare
		// dies with this test (Pdeathsig, from this locked thread) and takes
		// that first process with it (--kill-child): a killed test leaves
		// nothing behind.
		// -run 'TestRehearse/NAME' rehearses that deployment alone.
		run := "^TestRehearse$"
		if p := flag.Lookup("test.run").Value.String(); strings.HasPrefix(p, "TestRehearse/") || strings.HasPrefix(p, "^TestRehearse$/") {
			run = p
		}
		cmd := exec.CommandContext(ctx, "unshare", "--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc",
			"--", os.Args[0], "-test.run", run, "-test.v", "-test.count=1")
		// Its files go to a tmpfs of its mount namespace (mounted on tmp by
		// the run), gone with it however it ends.
		tmp, err := os.MkdirTemp("", "rcgen-rehearsal-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(tmp)
		cmd.Env = append(os.Environ(), "RCGEN_REHEARSAL=1", "TMPDIR="+tmp)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		runtime.LockOSThread()
		out, err := cmd.CombinedOutput()
		runtime.UnlockOSThread()
		t.Logf("the rehearsal, in its namespaces:\n%s", out)
		if err != nil {
			t.Fatalf("the rehearsal failed: %v", err)
		}
		return
	}
	host := setupHost(t)
	for i, dep := range deployments() {
		t.Run(dep.name, func(t *testing.T) { rehearse(t, host, i, dep) })
	}
}

// deployment is one rehearsed deployment.
type deployment struct {
	name    string
	host    sizing.Host
	answers func(*spec.Answers)
	// published are the host ports the plan publishes, "ip:port" ("" ip: every interface).
	published []string
	flaky     bool // the app's probes fail every other time
}

func deployments() []deployment {
	h := func(c float64, m int64) sizing.Host { return sizing.Host{}.Override(c, m*spec.GiB) }
	cert, _ := os.ReadFile(filepath.Join("..", "render", "testdata", "tls", "cert.pem"))
	key, _ := os.ReadFile(filepath.Join("..", "render", "testdata", "tls", "key.pem"))
	return []deployment{
		{name: "small-unlicensed", host: h(2, 4), answers: func(a *spec.Answers) {},
			published: []string{"127.0.0.1:80", "127.0.0.1:9090"}, flaky: true},
		{name: "licensed-3-processes", host: h(8, 16), answers: func(a *spec.Answers) {
			a.License, a.Processes = "REHEARSAL-LICENCE", 3
			a.Domain, a.Email = "chat.example.com", "admin@example.com"
			a.AlertEmail, a.SMTPHost, a.SMTPFrom = "ops@example.com", "smtp.example.com:587", "alerts@example.com"
			a.SMTPUser, a.SMTPPassword = "alerts", "rehearsal-pass"
		}, published: []string{":80", ":443", "127.0.0.1:9090", "127.0.0.1:9093"}},
		{name: "proxy-none", host: h(4, 8), answers: func(a *spec.Answers) {
			a.Proxy, a.Domain = spec.ProxyNone, "chat.example.com"
		}, published: []string{"127.0.0.1:3000", "127.0.0.1:3100", "127.0.0.1:9090"}},
		{name: "own-certificate", host: h(4, 8), answers: func(a *spec.Answers) {
			a.Domain = "chat.example.com"
			a.TLSCert, a.TLSKey = "cert.pem", "key.pem"
			a.TLSCertPEM, a.TLSKeyPEM = string(cert), string(key)
		}, published: []string{":80", ":443", "127.0.0.1:9090"}},
		// rcgen's own Traefik in place of Caddy, with the operator's own
		// certificate (Let's Encrypt needs the internet; Traefik has no
		// local CA as Caddy has).
		{name: "traefik", host: h(8, 16), answers: func(a *spec.Answers) {
			a.Proxy, a.Domain = spec.ProxyTraefik, "chat.example.com"
			a.License, a.Processes = "REHEARSAL-LICENCE", 3
			a.TLSCert, a.TLSKey = "cert.pem", "key.pem"
			a.TLSCertPEM, a.TLSKeyPEM = string(cert), string(key)
		}, published: []string{":80", ":443", "127.0.0.1:9090"}},
		// No proxy of ours: the operator's Traefik (operatorTraefik) reads
		// the app processes' and Grafana's labels from a stand-in of the
		// Docker Engine API, and holds the certificate.
		{name: "traefik-labels", host: h(8, 16), answers: func(a *spec.Answers) {
			a.Proxy, a.Domain = spec.ProxyTraefikLabels, "chat.example.com"
			a.License, a.Processes = "REHEARSAL-LICENCE", 3
		}, published: []string{"127.0.0.1:9090"}},
	}
}

// hostNet is the outer namespace, standing for the Docker host.
type hostNet struct{ hosts string }

func sh(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func setupHost(t *testing.T) *hostNet {
	sh(t, "ip", "link", "set", "lo", "up")
	sh(t, "ip", "link", "add", "rcgen0", "type", "bridge")
	sh(t, "ip", "addr", "add", "10.89.0.1/24", "dev", "rcgen0")
	sh(t, "ip", "link", "set", "rcgen0", "up")
	// Every mount from here on is this mount namespace's alone: the
	// machine's /etc/hosts is untouched, and the run's files (TMPDIR, a
	// tmpfs) go when its last process does.
	sh(t, "mount", "--make-rprivate", "/")
	sh(t, "mount", "-t", "tmpfs", "rcgen-rehearsal", os.TempDir())
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh(t, "mount", "--bind", hosts, "/etc/hosts")
	// ip netns keeps its names in /run/netns: a tmpfs of this mount
	// namespace's own, so they are this run's alone, and go with it.
	if err := os.MkdirAll("/run/netns", 0o755); err != nil {
		t.Fatal(err)
	}
	sh(t, "mount", "-t", "tmpfs", "rcgen-rehearsal", "/run/netns")
	return &hostNet{hosts: hosts}
}

// container is one compose service's network namespace.
type container struct {
	name, ns, ip string
	veth         string // its end on the bridge
	log          string // its processes' output
	procs        []*proc
	data         string // where Caddy keeps its data (its local CA's root)
	config       string // Traefik's static configuration, as it runs
}

// proc is a process started in a container, waited for once.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
	err  error
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// logTail is the end of a container's log, for a failure message.
func (c *container) logTail() string {
	b, _ := os.ReadFile(c.log)
	const max = 8 << 10
	if len(b) > max {
		b = append([]byte("...\n"), b[len(b)-max:]...)
	}
	return fmt.Sprintf("%s's log (%s):\n%s", c.name, c.log, b)
}

// stack is one deployment running.
type stack struct {
	t          *testing.T
	d          *rendertest.Deployment
	dep        deployment
	answers    spec.Answers
	plan       sizing.Plan
	containers map[string]*container
	forwards   []net.Listener
	// killed is the app process a check killed, and when.
	killed   string
	killedAt time.Time
}

func rehearse(t *testing.T, host *hostNet, idx int, dep deployment) {
	a := spec.Default()
	// Loki and the collector are rehearsed on their own (logs_test.go):
	// Loki cannot be built here, so these stacks run without logs.
	a.Logs = false
	dep.answers(&a)
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	plan, err := sizing.Compute(dep.host, gen.Inputs(a, false))
	if err != nil {
		t.Fatal(err)
	}
	secrets, _ := render.PlaceholderSecrets()
	files, err := render.Generate(context.Background(), render.Input{Answers: a, Plan: plan, Secrets: secrets, RcgenVersion: "rehearsal"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := rendertest.Write(context.Background(), t.TempDir(), files)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Has(sizing.Traefik) || a.Proxy == spec.ProxyTraefikLabels {
		rendertest.NeedTraefik(t)
	}
	s := &stack{t: t, d: d, dep: dep, answers: a, plan: plan, containers: map[string]*container{}}
	t.Cleanup(s.stop)
	s.boot(host, idx)

	s.checkPublished()
	s.checkListeners()
	if s.proxy() != nil {
		s.waitCertificate()
		s.waitSite()
		// Before checkProxy, which kills an app process.
		s.checkSmoke()
		s.checkProxy()
	} else {
		s.checkDirect()
	}
	if plan.Has(sizing.Prometheus) {
		s.checkPrometheus()
	}
}

// boot starts every service that can run here, each in its namespace.
func (s *stack) boot(host *hostNet, idx int) {
	t := s.t
	names := s.d.Project.ServiceNames()
	if s.answers.Proxy == spec.ProxyTraefikLabels {
		names = append(names, operatorTraefik)
	}
	slices.Sort(names)
	var hosts strings.Builder
	hosts.WriteString("127.0.0.1 localhost\n")
	n := 0
	for _, name := range names {
		if runs(name) == "" {
			continue
		}
		n++
		c := &container{name: name, ns: fmt.Sprintf("rc%d-%s", idx, name), ip: fmt.Sprintf("10.89.0.%d", n+1), veth: fmt.Sprintf("rv%d-%d", idx, n)}
		sh(t, "ip", "netns", "add", c.ns)
		sh(t, "ip", "link", "add", c.veth, "type", "veth", "peer", "name", "eth0", "netns", c.ns)
		sh(t, "ip", "link", "set", c.veth, "master", "rcgen0", "up")
		sh(t, "ip", "-n", c.ns, "addr", "add", c.ip+"/24", "dev", "eth0")
		sh(t, "ip", "-n", c.ns, "link", "set", "eth0", "up")
		sh(t, "ip", "-n", c.ns, "link", "set", "lo", "up")
		s.containers[name] = c
		fmt.Fprintf(&hosts, "%s %s\n", c.ip, name)
	}
	// Rewritten in place: the bind mount follows the file.
	if err := os.WriteFile(host.hosts, []byte(hosts.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if c, ok := s.containers[name]; ok {
			s.start(c)
		}
	}
	for _, name := range names {
		svc := s.d.Project.Services[name]
		for _, p := range svc.Ports {
			if c, ok := s.containers[name]; ok {
				s.publish(p, c)
			}
		}
	}
	if c, ok := s.containers[operatorTraefik]; ok {
		// The operator's Traefik publishes 80 and 443 on every interface.
		for _, port := range []uint32{80, 443} {
			s.publish(types.ServicePortConfig{Target: port, Published: strconv.Itoa(int(port))}, c)
		}
	}
	for _, name := range names {
		if c, ok := s.containers[name]; ok {
			for _, port := range s.ports(name) {
				s.waitListen(c, port)
			}
		}
	}
}

// runs says how a service runs in the rehearsal: "real", "stand-in", or ""
// (MongoDB, its one-shots and the backup service need Docker's images).
func runs(name string) string {
	switch {
	case name == sizing.Caddy, name == sizing.Traefik, name == operatorTraefik, name == sizing.Prometheus, name == sizing.Alertmanager, name == sizing.NATS, name == sizing.NodeExporter:
		return "real"
	case strings.HasPrefix(name, "rocketchat-"), name == sizing.Grafana, strings.HasPrefix(name, sizing.MongoDBExporter), name == sizing.NATSExporter:
		return "stand-in"
	}
	return ""
}

// ports are the ports a running service listens on (what to wait for).
func (s *stack) ports(name string) []int {
	switch {
	case strings.HasPrefix(name, "rocketchat-"):
		return []int{3000, 9458}
	case strings.HasPrefix(name, sizing.MongoDBExporter):
		return []int{9216}
	case name == sizing.Traefik && s.answers.TLSMode() != spec.TLSNone:
		return []int{80, 443, render.TraefikMetricPort}
	case name == sizing.Traefik:
		return []int{80, render.TraefikMetricPort}
	case name == operatorTraefik:
		return []int{80, 443, operatorPingPort}
	}
	return map[string][]int{sizing.Caddy: {80}, sizing.Prometheus: {9090}, sizing.Alertmanager: {9093}, sizing.NATS: {4222, 8222},
		sizing.NodeExporter: {9100}, sizing.Grafana: {3000}, sizing.NATSExporter: {7777}}[name]
}

func (s *stack) start(c *container) {
	t := s.t
	svc := s.d.Project.Services[c.name]
	tmp := t.TempDir()
	var argv, env []string
	switch runs(c.name) {
	case "stand-in":
		kind := c.name
		switch {
		case strings.HasPrefix(kind, "rocketchat-"):
			kind = "app"
		case strings.HasPrefix(kind, sizing.MongoDBExporter):
			kind = sizing.MongoDBExporter
		}
		argv = []string{os.Args[0]}
		env = []string{"RCGEN_STANDIN=" + kind, "RCGEN_STANDIN_NAME=" + c.name}
		if s.dep.flaky {
			env = append(env, "RCGEN_FLAKY=1")
		}
		if kind == "app" {
			// /api/info answers with the version of the image compose runs.
			env = append(env, "RCGEN_STANDIN_VERSION="+svc.Image[strings.LastIndex(svc.Image, ":")+1:])
		}
	case "real":
		if c.name == operatorTraefik {
			argv = s.startOperatorTraefik(c, tmp)
			break
		}
		root, rewrite, err := s.d.ContainerView(c.name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(root) })
		for k, v := range svc.Environment {
			if v != nil {
				env = append(env, k+"="+*v)
			}
		}
		switch c.name {
		case sizing.Caddy:
			cf := filepath.Join(root, "etc", "caddy", "Caddyfile")
			b := readFile(t, cf)
			// Caddy's own CA never goes into this machine's trust store
			// (as root, Caddy would add it and run update-ca-certificates).
			global := "\t# rehearsal: this machine's trust store is not Caddy's to change\n\tskip_install_trust\n"
			if s.answers.TLSMode() == spec.TLSACME {
				global += "\t# rehearsal: Caddy's own CA instead of Let's Encrypt\n\tlocal_certs\n"
			}
			if !strings.HasPrefix(b, "{\n") && !strings.Contains(b, "\n{\n") {
				t.Fatal("the Caddyfile has no global options block to rehearse with")
			}
			b = strings.Replace(b, "{\n", "{\n"+global, 1)
			writeFile(t, cf, rewrite(b))
			env = append(env, "HOME="+tmp, "XDG_DATA_HOME="+tmp, "XDG_CONFIG_HOME="+tmp)
			c.data = filepath.Join(tmp, "caddy")
			argv = []string{rendertest.ImageCaddy(), "run", "--adapter", "caddyfile", "--config", cf}
		case sizing.Traefik:
			argv = s.startTraefik(c, root, rewrite, tmp)
		case sizing.Prometheus:
			cfg := filepath.Join(root, "etc", "prometheus", "prometheus.yml")
			b := readFile(t, cfg)
			b = regexp.MustCompile(`(?m)^(  (scrape|evaluation)_interval): 30s$`).ReplaceAllString(b, "${1}: 1s")
			b = strings.Replace(b, "scrape_timeout: 10s", "scrape_timeout: 1s", 1)
			writeFile(t, cfg, rewrite(b))
			rules := filepath.Join(root, "etc", "prometheus", "rules", "rocketchat.yml")
			writeFile(t, rules, scaleFor(t, readFile(t, rules)))
			argv = append([]string{"prometheus"}, s.args(svc, rewrite, map[string]string{"--storage.tsdb.path=": tmp})...)
		case sizing.Alertmanager:
			cfg := filepath.Join(root, "etc", "alertmanager", "alertmanager.yml")
			pw := filepath.Join(tmp, "smtp-password")
			writeFile(t, pw, s.answers.SMTPPassword)
			writeFile(t, cfg, strings.ReplaceAll(rewrite(readFile(t, cfg)), "/alertmanager/.smtp-password", pw))
			argv = []string{"prometheus-alertmanager", "--config.file=" + cfg, "--storage.path=" + tmp, "--cluster.listen-address=", "--web.listen-address=:9093"}
		case sizing.NATS:
			argv = append([]string{"nats-server"}, svc.Command...)
		case sizing.NodeExporter:
			argv = append([]string{"prometheus-node-exporter"}, s.args(svc, rewrite, map[string]string{"--path.rootfs=": "/"})...)
		}
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", c.ns}, argv...)...)
	cmd.Env = append(os.Environ(), env...)
	c.log = filepath.Join(tmp, c.name+".log")
	log, err := os.Create(c.log)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", c.name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	c.procs = append(c.procs, p)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.logTail())
		}
	})
}

// args is a service's compose command with its container paths rewritten,
// and the flags in replace given another value.
func (s *stack) args(svc types.ServiceConfig, rewrite func(string) string, replace map[string]string) []string {
	var out []string
	for _, a := range svc.Command {
		for prefix, v := range replace {
			if strings.HasPrefix(a, prefix) {
				a = prefix + v
			}
		}
		out = append(out, rewrite(a))
	}
	return out
}

var forRe = regexp.MustCompile(`(?m)^(\s+for: )(\S+)$`)

// scaleFor divides every rule's `for:` by timeScale.
func scaleFor(t *testing.T, rules string) string {
	return forRe.ReplaceAllStringFunc(rules, func(m string) string {
		g := forRe.FindStringSubmatch(m)
		d, err := model.ParseDuration(g[2])
		if err != nil {
			t.Fatalf("rule duration %q: %v", g[2], err)
		}
		return g[1] + model.Duration(time.Duration(d)/timeScale).String()
	})
}

// publish forwards a published host port to the container, as Docker's
// userland proxy does: only the ports compose publishes reach a service.
func (s *stack) publish(p types.ServicePortConfig, c *container) {
	if p.Protocol == "udp" {
		return
	}
	ip := p.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip, p.Published))
	if err != nil {
		s.t.Fatalf("publishing %s:%s: %v", ip, p.Published, err)
	}
	s.forwards = append(s.forwards, l)
	target := net.JoinHostPort(c.ip, strconv.Itoa(int(p.Target)))
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				out, err := net.DialTimeout("tcp", target, 5*time.Second)
				if err != nil {
					return
				}
				defer out.Close()
				go io.Copy(out, in)
				io.Copy(in, out)
			}()
		}
	}()
}

// waitListen waits until the container's service accepts connections on
// port, and fails at once, with its log, when its process has exited.
func (s *stack) waitListen(c *container, port int) {
	addr := net.JoinHostPort(c.ip, strconv.Itoa(port))
	start := time.Now()
	for time.Since(start) < startDeadline {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return
		}
		for _, p := range c.procs {
			if p.exited() {
				s.t.Fatalf("%s exited (%v) before it listened on %s\n%s", c.name, p.err, addr, c.logTail())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("nothing listens on %s (%s) after %s\n%s", addr, c.name, startDeadline, c.logTail())
}

// stop ends every process by its process group, then removes the
// namespaces. Each veth goes first, at once with its peer: a deleted
// namespace's devices go when the kernel gets round to it, and until then
// its address, which the next deployment may give another service, would
// answer on the bridge too.
func (s *stack) stop() {
	for _, l := range s.forwards {
		l.Close()
	}
	for _, c := range s.containers {
		for _, p := range c.procs {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		}
	}
	for _, c := range s.containers {
		for _, p := range c.procs {
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
				<-p.done
			}
		}
		_ = exec.Command("ip", "link", "del", c.veth).Run()
		_ = exec.Command("ip", "netns", "del", c.ns).Run()
	}
	// The host forgets the gone services' hardware addresses: the next
	// deployment's service at one of their addresses is another device.
	_ = exec.Command("ip", "neigh", "flush", "dev", "rcgen0").Run()
}

// kill ends one service's processes, as a crash would.
func (s *stack) kill(name string) time.Time {
	c := s.containers[name]
	for _, p := range c.procs {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	c.procs = nil
	return time.Now()
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, p, s string) {
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkPublished: the ports compose publishes are the plan's, no more.
func (s *stack) checkPublished() {
	var got []string
	for _, svc := range s.d.Project.Services {
		for _, p := range svc.Ports {
			if p.Protocol == "tcp" || p.Protocol == "" {
				got = append(got, p.HostIP+":"+p.Published)
			}
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(s.dep.published))
	if !slices.Equal(got, want) {
		s.t.Errorf("published ports %v, want %v", got, want)
	}
}

// checkListeners: our proxy listens where it should, and no further:
// Caddy's admin API on its loopback only (in its own namespace: the
// container's), Traefik's API and dashboard nowhere.
func (s *stack) checkListeners() {
	c := s.proxy()
	if c == nil || c.name == operatorTraefik {
		return
	}
	out, err := exec.Command("ip", "netns", "exec", c.ns, "cat", "/proc/net/tcp", "/proc/net/tcp6").Output()
	if err != nil {
		s.t.Fatal(err)
	}
	for _, l := range listeners(string(out)) {
		host, port, _ := net.SplitHostPort(l)
		switch {
		case port == "80", port == "443":
		case c.name == sizing.Caddy && port == "9180":
		case c.name == sizing.Traefik && port == strconv.Itoa(render.TraefikMetricPort):
		case c.name == sizing.Caddy && port == "2019":
			if host != "127.0.0.1" && host != "::1" {
				s.t.Errorf("Caddy's admin API listens on %s: only its own loopback may reach it", l)
			}
		default:
			s.t.Errorf("%s listens on %s, which the plan does not know", s.proxyName(), l)
		}
	}
}

// client reaches the published site as a browser would: by the
// deployment's domain (Host and SNI), through the host's published port.
func (s *stack) client(jar http.CookieJar) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, ServerName: s.answers.Domain},
		DisableKeepAlives: true,
	}
	return &http.Client{Transport: tr, Jar: jar, Timeout: eventDeadline,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (s *stack) fetch(c *http.Client, url string) (int, string, http.Header) {
	resp, err := c.Get(url)
	if err != nil {
		s.t.Errorf("GET %s: %v", url, err)
		return 0, "", nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (s *stack) base() string { return s.answers.PublicURL() }

// checkProxy asserts, through the real proxy, what a browser meets.
func (s *stack) checkProxy() {
	t := s.t
	c := s.client(nil)
	base := s.base()
	if code, body, _ := s.fetch(c, base+"/home"); code != 200 || !strings.HasPrefix(body, "served-by rocketchat-") {
		t.Errorf("the site: %d %q", code, body)
	}
	if strings.HasPrefix(base, "https://") {
		// Caddy answers 308; Traefik 301 to a GET (308 to the other
		// methods): both are permanent, and browsers follow both.
		code, _, h := s.fetch(c, "http://"+s.answers.Domain+"/home")
		if code != http.StatusPermanentRedirect && code != http.StatusMovedPermanently || h.Get("Location") != base+"/home" {
			t.Errorf("http: %d to %q, want a permanent redirect to %s/home", code, h.Get("Location"), base)
		}
		s.checkCertificate()
	}
	for _, p := range []string{"/metrics", "/metrics/anything", "/grafana/metrics"} {
		if code, body, _ := s.fetch(c, base+p); code != http.StatusNotFound {
			t.Errorf("%s from outside: %d %q, want 404", p, code, body)
		}
	}
	switch s.proxy().name {
	case sizing.Caddy:
		if code, body, _ := s.fetch(c, base+"/config/"); strings.Contains(body, `"apps"`) || code == 0 {
			t.Errorf("the admin API answers through the site: %d %q", code, body)
		}
		if conn, err := net.DialTimeout("tcp", "127.0.0.1:2019", time.Second); err == nil {
			conn.Close()
			t.Error("Caddy's admin API is reachable from the host")
		}
	case sizing.Traefik:
		// Traefik's API (api@internal) is not enabled: its paths are the app's.
		if code, body, _ := s.fetch(c, base+"/api/rawdata"); !strings.HasPrefix(body, "served-by rocketchat-") {
			t.Errorf("/api/rawdata through the site: %d %q, want the app's page (Traefik's API off)", code, body)
		}
		s.checkTraefikHealthcheck()
	}
	if s.plan.Has(sizing.Grafana) {
		if code, body, _ := s.fetch(c, base+"/grafana/d/rcgen-rocketchat"); code != 200 || body != "grafana path /d/rcgen-rocketchat\n" {
			t.Errorf("/grafana/d/rcgen-rocketchat reached Grafana as %d %q, want the path without its prefix", code, body)
		}
	}
	s.checkWebsocket()
	s.checkStreaming()
	if s.plan.Processes == 1 {
		// The lone process fails a probe now and then (the flaky stand-in):
		// no request may fail, nor wait for it to come back.
		// A request held for an upstream taken out waits for lb_try_duration
		// (10s) or the next good probe (health_interval 10s): 5s is far from
		// both, and from what a loaded machine adds to a direct answer.
		for i := range 20 {
			start := time.Now()
			code, body, _ := s.fetch(c, base+"/home")
			if took := time.Since(start); code != 200 || took > 5*time.Second {
				t.Errorf("request %d to a lone process whose probes flap: %d %q after %s", i, code, body, took.Round(time.Millisecond))
				break
			}
			time.Sleep(150 * time.Millisecond)
		}
	} else {
		s.checkSticky()
	}
	if s.proxy().name != sizing.Caddy && s.killed != "" {
		s.waitTakenOut(s.killed)
	}
}

// waitCertificate waits until Caddy serves a certificate for the domain:
// Caddy listens before it has one (issued in the background), and answers
// a handshake for a name it has none for with an internal error.
func (s *stack) waitCertificate() {
	if !strings.HasPrefix(s.base(), "https://") {
		return
	}
	var last error
	for start := time.Now(); time.Since(start) < eventDeadline; time.Sleep(250 * time.Millisecond) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", "127.0.0.1:443", &tls.Config{InsecureSkipVerify: true, ServerName: s.answers.Domain})
		if err == nil {
			leaf := conn.ConnectionState().PeerCertificates[0]
			conn.Close()
			if last = leaf.VerifyHostname(s.answers.Domain); last == nil {
				return
			}
			continue
		}
		last = err
	}
	s.t.Fatalf("%s served no certificate for %s within %s: %v\n%s", s.proxyName(), s.answers.Domain, eventDeadline, last, s.proxy().logTail())
}

// waitSite waits until the site answers through the proxy: Traefik listens
// before its providers have given it the routers (and answers 404 until
// then).
func (s *stack) waitSite() {
	c := s.client(nil)
	c.Timeout = 10 * time.Second
	var last string
	for start := time.Now(); time.Since(start) < eventDeadline; time.Sleep(250 * time.Millisecond) {
		resp, err := c.Get(s.base() + "/home")
		if err != nil {
			last = err.Error()
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && strings.HasPrefix(string(b), "served-by rocketchat-") {
			return
		}
		last = fmt.Sprintf("%s %.200q", resp.Status, b)
	}
	s.t.Fatalf("%s did not route %s/home to the app within %s: %s\n%s", s.proxyName(), s.base(), eventDeadline, last, s.proxy().logTail())
}

func (s *stack) checkCertificate() {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", "127.0.0.1:443", &tls.Config{InsecureSkipVerify: true, ServerName: s.answers.Domain})
	if err != nil {
		s.t.Errorf("TLS: %v", err)
		return
	}
	defer conn.Close()
	leaf := conn.ConnectionState().PeerCertificates[0]
	if err := leaf.VerifyHostname(s.answers.Domain); err != nil {
		s.t.Errorf("the certificate: %v", err)
	}
	if want := s.ownCertificate(); want != "" {
		block, _ := pem.Decode([]byte(want))
		if sha256.Sum256(block.Bytes) != sha256.Sum256(leaf.Raw) {
			s.t.Errorf("%s does not present the operator's certificate", s.proxyName())
		}
	}
}

// dialSite opens a connection to the published site (TLS when https).
func (s *stack) dialSite() (net.Conn, error) {
	if strings.HasPrefix(s.base(), "https://") {
		return tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", "127.0.0.1:443", &tls.Config{InsecureSkipVerify: true, ServerName: s.answers.Domain})
	}
	return net.DialTimeout("tcp", "127.0.0.1:80", 5*time.Second)
}

// checkWebsocket: an upgrade passes the proxy and frames flow both ways.
func (s *stack) checkWebsocket() {
	t := s.t
	conn, err := s.dialSite()
	if err != nil {
		t.Errorf("websocket: %v", err)
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(eventDeadline))
	fmt.Fprintf(conn, "GET /websocket HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", s.answers.Domain)
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Errorf("websocket upgrade: %v %v", resp, err)
		return
	}
	for _, msg := range []string{"ping", "second frame"} {
		if err := writeFrame(conn, []byte(msg), true); err != nil {
			t.Errorf("websocket write: %v", err)
			return
		}
		got, err := readFrame(r)
		if err != nil || !strings.HasSuffix(string(got), ": "+msg) {
			t.Errorf("websocket echo of %q: %q %v", msg, got, err)
		}
	}
}

// checkStreaming: the XHR fallback's first chunk reaches the browser
// while the process still holds the next one back (until the rehearsal,
// having read the first, releases it on the process directly): nothing
// between them buffers the response.
func (s *stack) checkStreaming() {
	c := s.client(nil)
	c.Timeout = eventDeadline
	const session = "rehearsal"
	resp, err := c.Get(s.base() + "/sockjs/123/" + session + "/xhr_streaming")
	if err != nil {
		s.t.Errorf("streaming: %v (a proxy that buffers the XHR streaming fallback holds its first chunk back)", err)
		return
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if _, err := r.ReadString('\n'); err != nil {
		s.t.Errorf("streaming: the first chunk never came: %v (a proxy that buffers the XHR streaming fallback holds it back)", err)
		return
	}
	for name, ctr := range s.containers {
		if strings.HasPrefix(name, "rocketchat-") && len(ctr.procs) > 0 {
			resp, err := http.Get("http://" + ctr.ip + ":3000/release/" + session)
			if err != nil {
				s.t.Errorf("releasing the stream on %s: %v", name, err)
				return
			}
			resp.Body.Close()
		}
	}
	if line, _ := r.ReadString('\n'); line != "o\n" {
		s.t.Errorf("streaming: then %q", line)
	}
}

// checkSticky: one browser stays on one process across requests, and moves
// to another when its process dies.
func (s *stack) checkSticky() {
	t := s.t
	jar, _ := cookiejar.New(nil)
	c := s.client(jar)
	who := func() string {
		_, body, _ := s.fetch(c, s.base()+"/home")
		f := strings.Fields(body)
		if len(f) < 2 || f[0] != "served-by" {
			return ""
		}
		return f[1]
	}
	first := who()
	for range 10 {
		if got := who(); got != first {
			t.Errorf("a browser with the lb cookie moved from %s to %s", first, got)
			return
		}
	}
	s.killedAt, s.killed = s.kill(first), first
	next := who()
	if s.answers.Proxy == spec.ProxyTraefikLabels {
		// The labels give the operator's Traefik no retry (a middleware
		// of its own, which we cannot assume): requests to the dead
		// process fail until the passive health check has counted 3
		// failures (passivehealthcheck.maxfailedattempts) or the active
		// one a failed probe, and never more.
		failed := 0
		for ; (next == "" || next == first) && failed < 3; failed++ {
			next = who()
		}
		t.Logf("after %s died, %d requests failed before the operator's Traefik moved the browser", first, failed)
	}
	if next == "" || next == first {
		t.Errorf("after %s died, the browser got %q", first, next)
		return
	}
	for range 5 {
		if got := who(); got != next {
			t.Errorf("after the move, the browser went from %s to %s", next, got)
			return
		}
	}
}

// checkDirect: with --proxy none the app is published on 127.0.0.1 for the
// operator's own proxy, and Grafana too.
func (s *stack) checkDirect() {
	c := &http.Client{Timeout: 10 * time.Second}
	if code, body, _ := s.fetch(c, "http://127.0.0.1:3000/home"); code != 200 || !strings.HasPrefix(body, "served-by rocketchat-1") {
		s.t.Errorf("the app on 127.0.0.1:3000: %d %q", code, body)
	}
	if code, body, _ := s.fetch(c, "http://127.0.0.1:3100/d/x"); code != 200 || body != "grafana path /d/x\n" {
		s.t.Errorf("Grafana on 127.0.0.1:3100: %d %q", code, body)
	}
}

// prom queries Prometheus's API on its container address.
func (s *stack) prom(path string, v any) error {
	return getJSON("http://"+s.containers[sizing.Prometheus].ip+":9090"+path, v)
}

// getJSON decodes an API's answer, and only a 200 with a JSON body: a
// server still starting answers 503 in plain text ("Service Unavailable").
func getJSON(url string, v any) error {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("GET %s: %s (%s) %.200q", url, resp.Status, ct, body)
	}
	return json.Unmarshal(body, v)
}

// waitReady waits until Prometheus says it is ready to serve queries
// (/-/ready answers 503 while its storage starts).
func (s *stack) waitReady() {
	c := &http.Client{Timeout: 10 * time.Second}
	url := "http://" + s.containers[sizing.Prometheus].ip + ":9090/-/ready"
	var last string
	for start := time.Now(); time.Since(start) < eventDeadline; time.Sleep(250 * time.Millisecond) {
		resp, err := c.Get(url)
		if err != nil {
			last = err.Error()
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
		last = resp.Status
	}
	s.t.Fatalf("Prometheus not ready within %s: %s\n%s", eventDeadline, last, s.containers[sizing.Prometheus].logTail())
}

// checkPrometheus: every scrape target up within a bound, every rule
// loaded, and a dead app process's alert firing when the rules promise.
func (s *stack) checkPrometheus() {
	t := s.t
	var targets struct {
		Data struct {
			ActiveTargets []struct {
				Labels    map[string]string `json:"labels"`
				Health    string            `json:"health"`
				LastError string            `json:"lastError"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	s.waitReady()
	want := len(s.plan.ScrapeTargets)
	deadline := time.Now().Add(eventDeadline)
	var down []string
	for time.Now().Before(deadline) {
		down = nil
		if err := s.prom("/api/v1/targets", &targets); err != nil {
			down = append(down, err.Error())
			time.Sleep(250 * time.Millisecond)
			continue
		}
		for _, tg := range targets.Data.ActiveTargets {
			if tg.Health != "up" && s.killed != tg.Labels["instance"] {
				down = append(down, tg.Labels["job"]+"/"+tg.Labels["instance"]+": "+tg.Health+" "+tg.LastError)
			}
		}
		if len(targets.Data.ActiveTargets) == want && len(down) == 0 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if n := len(targets.Data.ActiveTargets); n != want || len(down) > 0 {
		t.Errorf("after %s Prometheus has %d targets (the plan scrapes %d), not up: %v", eventDeadline, n, want, down)
	}
	var rules struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name   string `json:"name"`
					Health string `json:"health"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := s.prom("/api/v1/rules", &rules); err != nil {
		t.Fatal(err)
	}
	if len(rules.Data.Groups) < 3 {
		t.Errorf("Prometheus loaded %d rule groups", len(rules.Data.Groups))
	}
	// An app process dies (the sticky check may have killed one already).
	victim, at := s.killed, s.killedAt
	if victim == "" {
		victim, at = "rocketchat-1", s.kill("rocketchat-1")
	}
	forDur := 2 * time.Minute / timeScale // RocketChatProcessDown's for: 2m
	fired := time.Time{}
	// Never before its for:, and at all: how soon after is Prometheus's
	// evaluation loop on a busy machine, not the rules (promtool's rule
	// tests pin each alert's timing in simulated time).
	bound := eventDeadline
	var lastErr error
	for deadline := at.Add(bound); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var alerts struct {
			Data struct {
				Alerts []struct {
					Labels map[string]string `json:"labels"`
					State  string            `json:"state"`
				} `json:"alerts"`
			} `json:"data"`
		}
		if lastErr = s.prom("/api/v1/alerts", &alerts); lastErr != nil {
			continue
		}
		for _, a := range alerts.Data.Alerts {
			if a.Labels["alertname"] == "RocketChatProcessDown" && a.Labels["instance"] == victim && a.State == "firing" {
				fired = time.Now()
			}
		}
		if !fired.IsZero() {
			break
		}
	}
	switch {
	case fired.IsZero():
		t.Errorf("RocketChatProcessDown did not fire for %s within %s of its death (last query: %v)\n%s", victim, bound, lastErr, s.containers[sizing.Prometheus].logTail())
	case fired.Sub(at) < forDur:
		t.Errorf("RocketChatProcessDown fired %s after %s died, before its for: (%s)", fired.Sub(at), victim, forDur)
	default:
		t.Logf("RocketChatProcessDown fired %s after %s died (for: %s, scaled)", fired.Sub(at).Round(100*time.Millisecond), victim, forDur)
	}
	if s.plan.Has(sizing.Alertmanager) && !fired.IsZero() {
		var got []struct {
			Labels map[string]string `json:"labels"`
		}
		ok := false
		for deadline := time.Now().Add(eventDeadline); time.Now().Before(deadline) && !ok; time.Sleep(250 * time.Millisecond) {
			if lastErr = getJSON("http://"+s.containers[sizing.Alertmanager].ip+":9093/api/v2/alerts", &got); lastErr != nil {
				continue
			}
			for _, a := range got {
				ok = ok || a.Labels["alertname"] == "RocketChatProcessDown"
			}
		}
		if !ok {
			t.Errorf("Alertmanager never received RocketChatProcessDown from Prometheus within %s (last query: %v)\n%s\n%s",
				eventDeadline, lastErr, s.containers[sizing.Alertmanager].logTail(), s.containers[sizing.Prometheus].logTail())
		}
	}
}
