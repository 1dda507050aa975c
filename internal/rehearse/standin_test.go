package rehearse

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Stand-ins, run as this test binary with RCGEN_STANDIN set (TestMain):
// small servers that answer like what they stand for, written from the
// documented behaviour (Rocket.Chat's health.ts, its metric names; what
// Grafana expects behind a path prefix), not from their code.

// standin runs the stand-in kind and never returns.
func standin(kind, name string) {
	var err error
	switch kind {
	case "app":
		err = appStandin(name)
	case "grafana":
		err = serve(":3000", grafanaHandler())
	case "mongodb-exporter":
		err = serve(":9216", metricsHandler(mongoMetrics))
	case "nats-exporter":
		err = serve(":7777", metricsHandler(natsMetrics))
	default:
		err = fmt.Errorf("no stand-in %q", kind)
	}
	fmt.Fprintln(os.Stderr, "stand-in:", err)
	os.Exit(1)
}

func serve(addr string, h http.Handler) error {
	return (&http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}).ListenAndServe()
}

// appStandin answers like a Rocket.Chat process: /health, /livez and
// /readyz (with RCGEN_FLAKY=1 the first probe and every third after it
// fail, as /readyz does under load in 8.x; with RCGEN_WATCHER_LAG=1 /health
// answers 500), /api/info (with RCGEN_STANDIN_VERSION), a websocket on
// /websocket (a DDP connect is answered, anything else echoed), the XHR
// streaming fallback (unbuffered chunks), pages that say which process
// served them, and Prometheus metrics on 9458 with the names rcgen's
// dashboards and alerts read.
func appStandin(name string) error {
	var probes atomic.Int64
	flaky := os.Getenv("RCGEN_FLAKY") == "1"
	mux := http.NewServeMux()
	probe := func(w http.ResponseWriter, r *http.Request) {
		if flaky && probes.Add(1)%3 == 1 {
			http.Error(w, `{"status":"error"}`, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"status":"ok"}`)
	}
	// RCGEN_WATCHER_LAG=1: /health answers 500, as Rocket.Chat before 7.11
	// does on every process at once while its change-stream watcher has
	// seen no change for 40s (apps/meteor/server/routes/health.ts,
	// isLastDocDelayed).
	lagging := os.Getenv("RCGEN_WATCHER_LAG") == "1"
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if lagging {
			http.Error(w, "not healthy", http.StatusInternalServerError)
			return
		}
		probe(w, r)
	})
	mux.HandleFunc("/livez", probe)
	mux.HandleFunc("/readyz", probe)
	mux.HandleFunc("/websocket", func(w http.ResponseWriter, r *http.Request) { websocketEcho(w, r, name) })
	// Rocket.Chat's /api/info tells anonymous callers its version without
	// the patch level: {"version":"8.8","minimumClientVersions":{...},
	// "success":true} for 8.8.1 (apps/meteor/app/api/server/default/info.ts,
	// lib/getServerInfo.ts's removePatchInfo).
	version := regexp.MustCompile(`^\d+\.\d+`).FindString(os.Getenv("RCGEN_STANDIN_VERSION"))
	mux.HandleFunc("/api/info", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"version":%q,"minimumClientVersions":{"desktop":"3.9.6","mobile":"4.39.0"},"success":true}`, version)
	})
	// A streaming session's second chunk waits for /release/SESSION (sent
	// by the rehearsal to the process itself, not through the proxy, once
	// the first chunk has reached it through the proxy): a proxy that
	// buffers holds the first chunk back and the rehearsal never sends it.
	var releases sync.Map // session -> chan struct{}
	release := func(session string) chan struct{} {
		ch, _ := releases.LoadOrStore(session, make(chan struct{}))
		return ch.(chan struct{})
	}
	mux.HandleFunc("/release/", func(w http.ResponseWriter, r *http.Request) {
		ch := release(strings.TrimPrefix(r.URL.Path, "/release/"))
		select {
		case <-ch:
		default:
			close(ch)
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/sockjs/") && strings.HasSuffix(r.URL.Path, "/xhr_streaming") {
			session := strings.Split(r.URL.Path, "/")[3]
			w.Header().Set("Content-Type", "application/javascript; charset=UTF-8")
			f := w.(http.Flusher)
			fmt.Fprint(w, strings.Repeat("h", 2048)+"\n") // sockjs's prelude
			f.Flush()
			select {
			case <-release(session):
			case <-r.Context().Done():
				return
			}
			fmt.Fprint(w, "o\n")
			f.Flush()
			return
		}
		fmt.Fprintf(w, "served-by %s path %s forwarded-for %s\n", name, r.URL.Path, r.Header.Get("X-Forwarded-For"))
	})
	go func() {
		fmt.Fprintln(os.Stderr, serve(":9458", metricsHandler(appMetrics(name))))
		os.Exit(1)
	}()
	return serve(":3000", mux)
}

// websocketEcho is the server side of RFC 6455, enough for text frames:
// the handshake, then every frame the client sends comes back, prefixed
// with the process's name, but a DDP connect (Meteor's handshake,
// packages/ddp/DDP.md), which is answered {"msg":"connected"} with the
// process's name as the session.
func websocketEcho(w http.ResponseWriter, r *http.Request, name string) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "not a websocket upgrade", http.StatusBadRequest)
		return
	}
	sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", base64.StdEncoding.EncodeToString(sum[:]))
	rw.Flush()
	for {
		msg, err := readFrame(rw.Reader)
		if err != nil {
			return
		}
		answer := []byte(name + ": " + string(msg))
		var ddp struct{ Msg, Version string }
		if json.Unmarshal(msg, &ddp) == nil && ddp.Msg == "connect" && ddp.Version == "1" {
			answer = []byte(`{"msg":"connected","session":"` + name + `"}`)
		}
		if err := writeFrame(rw.Writer, answer, false); err != nil {
			return
		}
		rw.Flush()
	}
}

// readFrame reads one text frame (masked or not).
func readFrame(r *bufio.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	var mask [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return nil, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, err
	}
	if masked {
		for i := range p {
			p[i] ^= mask[i%4]
		}
	}
	return p, nil
}

// writeFrame writes one text frame; clients mask theirs (RFC 6455 5.3).
func writeFrame(w io.Writer, p []byte, mask bool) error {
	h := []byte{0x81}
	m := byte(0)
	if mask {
		m = 0x80
	}
	switch {
	case len(p) < 126:
		h = append(h, m|byte(len(p)))
	default:
		h = append(h, m|126, byte(len(p)>>8), byte(len(p)))
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	body := append([]byte{}, p...)
	if mask {
		h = append(h, key[:]...)
		for i := range body {
			body[i] ^= key[i%4]
		}
	}
	_, err := w.Write(append(h, body...))
	return err
}

// grafanaHandler stands in for Grafana behind Caddy: it answers every path
// with the path it received (Grafana serves /d/..., /api/..., and builds its
// links from GF_SERVER_ROOT_URL: the /grafana prefix must be gone).
func grafanaHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/health":
			fmt.Fprint(w, `{"database":"ok"}`)
		case "/metrics":
			fmt.Fprint(w, "# TYPE grafana_build_info gauge\ngrafana_build_info{version=\"stand-in\"} 1\n")
		default:
			fmt.Fprintf(w, "grafana path %s\n", r.URL.Path)
		}
	})
}

func metricsHandler(body func() string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, body())
	})
}

var started = time.Now()

// appMetrics are the series rcgen's dashboards and alert rules read from
// an app process (prom-client's default metrics and Rocket.Chat's own).
func appMetrics(name string) func() string {
	return func() string {
		return fmt.Sprintf(`# TYPE rocketchat_ddp_connected_users gauge
rocketchat_ddp_connected_users 3
# TYPE rocketchat_ddp_sessions_auth gauge
rocketchat_ddp_sessions_auth 3
# TYPE rocketchat_ddp_sessions_count gauge
rocketchat_ddp_sessions_count 4
# TYPE rocketchat_message_sent counter
rocketchat_message_sent %d
# TYPE rocketchat_rest_api_count counter
rocketchat_rest_api_count{method="get",entrypoint="/api/v1/me",status="200"} 10
# TYPE nodejs_eventloop_lag_seconds gauge
nodejs_eventloop_lag_seconds 0.004
# TYPE nodejs_heap_size_used_bytes gauge
nodejs_heap_size_used_bytes 104857600
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 314572800
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 1.5
# TYPE process_start_time_seconds gauge
process_start_time_seconds %d
# stand-in %s
`, int(time.Since(started).Seconds()), started.Unix(), name)
	}
}

func mongoMetrics() string {
	return `# TYPE mongodb_up gauge
mongodb_up 1
# TYPE mongodb_ss_connections gauge
mongodb_ss_connections{conn_type="current"} 12
# TYPE mongodb_rs_members_health gauge
mongodb_rs_members_health{member_idx="mongodb-1:27017"} 1
`
}

func natsMetrics() string {
	return "# TYPE gnatsd_varz_connections gauge\ngnatsd_varz_connections 2\n"
}

// listeners lists the TCP ports listening in the current network
// namespace, as "address:port" (from /proc/net/tcp and tcp6).
func listeners(netTCP ...string) []string {
	var out []string
	for _, text := range netTCP {
		for _, line := range strings.Split(text, "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 4 || f[3] != "0A" { // LISTEN
				continue
			}
			addr, port, _ := strings.Cut(f[1], ":")
			var p int
			fmt.Sscanf(port, "%X", &p)
			out = append(out, fmt.Sprintf("%s:%d", hexIP(addr), p))
		}
	}
	return out
}

func hexIP(h string) string {
	b := make([]byte, len(h)/2)
	for i := range b {
		fmt.Sscanf(h[2*i:2*i+2], "%02X", &b[i])
	}
	if len(b) == 4 {
		return net.IPv4(b[3], b[2], b[1], b[0]).String()
	}
	// tcp6: four little-endian words
	ip := make(net.IP, 16)
	for w := 0; w < 4; w++ {
		for i := 0; i < 4; i++ {
			ip[w*4+i] = b[w*4+3-i]
		}
	}
	return "[" + ip.String() + "]"
}
