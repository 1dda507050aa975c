package rehearse

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gen "github.com/rcgen/rcgen/internal/generate"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// TestRehearseLogs runs the real OpenTelemetry Collector (tools/otelcol,
// at the image's release) on the collector configuration rcgen generates,
// on loopback: it reads Docker json-file log files written here in the
// format Docker writes them, with the labels the services' logging options
// add, and ships to a stand-in for Loki's OTLP endpoint (Loki cannot be
// built here: its module is AGPL). The records must arrive with the labels
// and parsed fields an operator searches by, other projects' lines must
// not, and an injected error burst must show on the collector's
// Prometheus endpoint under the names the alert rules read.
//
// What the rehearsal changes in the configuration, and only that: the
// directory it reads and the one it keeps its place in, the Loki endpoint
// (and JSON encoding, so the stand-in decodes it without OTLP's protobuf
// types), and loopback ports for the health check and the Prometheus
// endpoint.
func TestRehearseLogs(t *testing.T) {
	bin := rendertest.NeedOtelcol(t)
	t.Run("compose", func(t *testing.T) {
		a := spec.Default()
		plan, err := sizing.Compute(sizing.Host{}.Override(4, 8*spec.GiB), gen.Inputs(a, false))
		if err != nil {
			t.Fatal(err)
		}
		rehearseLogs(t, bin, a, plan, "rocketchat-1", func(service string) map[string]string {
			return map[string]string{"com.docker.compose.project": a.Project, "com.docker.compose.service": service}
		})
	})
	t.Run("swarm", func(t *testing.T) {
		a := spec.Default()
		a.Target, a.MongoDBMembers, a.Domain, a.Email = spec.TargetSwarm, 3, "chat.example.com", "admin@example.com"
		for _, n := range []string{"node-1=4:8GiB", "node-2=4:8GiB", "node-3=4:8GiB"} {
			if err := a.Nodes.Set(n); err != nil {
				t.Fatal(err)
			}
		}
		plan, err := sizing.ComputeSwarm(a.Nodes, gen.Inputs(a, false))
		if err != nil {
			t.Fatal(err)
		}
		// Swarm names services and tasks after the stack: docker stack
		// deploy's com.docker.swarm.service.name is STACK_SERVICE, the task
		// STACK_SERVICE.SLOT.ID.
		rehearseLogs(t, bin, a, plan, "rocketchat", func(service string) map[string]string {
			return map[string]string{"com.docker.stack.namespace": a.Project, "com.docker.swarm.service.name": a.Project + "_" + service,
				"com.docker.swarm.task.name": a.Project + "_" + service + ".1.x7m2q9"}
		})
	})
}

// rehearseLogs runs the collector configuration of the deployment a and
// plan render, over log lines of the services app (the app process's
// service) and mongodb-1, labelled by labels as the logging options make
// Docker label them.
func rehearseLogs(t *testing.T, bin string, a spec.Answers, plan sizing.Plan, app string, labels func(service string) map[string]string) {
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	secrets, _ := render.PlaceholderSecrets()
	files, err := render.Generate(context.Background(), render.Input{Answers: a, Plan: plan, Secrets: secrets, RcgenVersion: "rehearsal"})
	if err != nil {
		t.Fatal(err)
	}
	cfgFile, ok := files.Get(render.OtelcolFile)
	if !ok {
		t.Fatalf("the default deployment on 8GiB has no %s", render.OtelcolFile)
	}
	rules, _ := files.Get(render.RulesFile)

	loki := newOTLPStandin()
	srv := httptest.NewServer(loki)
	defer srv.Close()

	dir := t.TempDir()
	containers := filepath.Join(dir, "containers")
	health, metrics := freePort(t), freePort(t)
	storage := filepath.Join(dir, "storage")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := string(cfgFile.Content)
	for old, repl := range map[string]string{
		"include: [" + render.DockerContainersDir + "/*/*-json.log]": "include: [" + containers + "/*/*-json.log]",
		"directory: /var/lib/otelcol":                                "directory: " + storage,
		"logs_endpoint: http://loki:3100/otlp/v1/logs":               "logs_endpoint: " + srv.URL + "/otlp/v1/logs\n    encoding: json\n    compression: none",
		`endpoint: "0.0.0.0:13133"`:                                  fmt.Sprintf(`endpoint: "127.0.0.1:%d"`, health),
		`endpoint: "0.0.0.0:8889"`:                                   fmt.Sprintf(`endpoint: "127.0.0.1:%d"`, metrics),
	} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("the collector configuration no longer has %q", old)
		}
		cfg = strings.Replace(cfg, old, repl, 1)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	writeFile(t, cfgPath, cfg)

	// Docker's files: one directory per container, <id>/<id>-json.log,
	// each line {"log","stream","attrs","time"}.
	now := time.Now().UTC()
	line := func(service, project, log string, i int) string {
		attrs := map[string]string{}
		switch project {
		case a.Project:
			attrs = labels(service)
		case "":
		default: // another Compose project's container
			attrs["com.docker.compose.project"], attrs["com.docker.compose.service"] = project, service
			attrs["com.docker.stack.namespace"] = project
		}
		b, _ := json.Marshal(map[string]any{"log": log + "\n", "stream": "stdout", "attrs": attrs,
			"time": now.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano)})
		return string(b)
	}
	pino := func(level int, name, msg string, extra map[string]any) string {
		m := map[string]any{"level": level, "time": now.Format(time.RFC3339Nano), "pid": 1, "hostname": "b1c2", "name": name, "msg": msg}
		for k, v := range extra {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	mongo := func(s, c string, id int, msg string) string {
		b, _ := json.Marshal(map[string]any{"t": map[string]string{"$date": now.Format("2006-01-02T15:04:05.000Z07:00")}, "s": s, "c": c, "id": id, "ctx": "ReplCoord", "msg": msg, "attr": map[string]any{"term": 2}})
		return string(b)
	}
	const burst = 30
	var appLines []string
	appLines = append(appLines, line(app, a.Project, pino(30, "Server", "SERVER RUNNING", nil), 0))
	for i := range burst {
		appLines = append(appLines, line(app, a.Project, pino(50, "API", "Error: injected failure "+strconv.Itoa(i), map[string]any{"method": "GET", "url": "/api/v1/me"}), i+1))
	}
	appLines = append(appLines, line(app, a.Project, "|   Your database migration failed:   |", burst+1))
	writeLog(t, filepath.Join(containers, "app1", "app1-json.log"), strings.Join(appLines, "\n")+"\n")
	writeLog(t, filepath.Join(containers, "mongo1", "mongo1-json.log"), strings.Join([]string{
		line("mongodb-1", a.Project, mongo("I", "ELECTION", 21450, "Election succeeded, assuming primary role"), 0),
		line("mongodb-1", a.Project, mongo("I", "COMMAND", 51803, "Slow query"), 1),
		line("mongodb-1", a.Project, mongo("F", "CONTROL", 12257600, "MongoDB cannot start: Linux kernel versions 6.19 and newer has a known incompatibility with this version of MongoDB. See https://jira.mongodb.org/browse/SERVER-121912 for more information."), 2),
	}, "\n")+"\n")
	// Someone else's containers on the same host: never shipped.
	writeLog(t, filepath.Join(containers, "other", "other-json.log"), line("web", "shop", pino(50, "x", "OTHER PROJECT SECRET", nil), 0)+"\n")
	writeLog(t, filepath.Join(containers, "plain", "plain-json.log"), line("", "", "UNLABELLED SECRET", 0)+"\n")

	cmd := exec.Command(bin, "--config="+cfgPath)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf(format+"\ncollector's log:\n%s", append(a, out.String())...)
	}

	// The records arrive, parsed and labelled.
	want := burst + 5
	deadline := time.Now().Add(eventDeadline)
	for loki.count() < want && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	recs := loki.all()
	if len(recs) < want {
		fail("after %s the stand-in Loki has %d records, want %d", eventDeadline, len(recs), want)
	}
	t.Logf("%d records; the first: %+v", len(recs), recs[0])
	var sawAPI, sawElection, sawKernel bool
	for _, r := range recs {
		if strings.Contains(r.Body, "SECRET") {
			fail("a line of a container outside the project was shipped: %+v", r)
		}
		if r.Resource["service.namespace"] != a.Project {
			fail("record without service.namespace rocketchat: %+v", r)
		}
		switch {
		case r.Resource["service.name"] == app && strings.HasPrefix(r.Body, "Error: injected failure"):
			sawAPI = true
			if r.Severity != 17 || r.Attrs["method"] != "GET" || r.Attrs["url"] != "/api/v1/me" || r.Attrs["name"] != "API" || r.Attrs["log.iostream"] != "stdout" {
				fail("Rocket.Chat's error line arrived as %+v: want severity 17 (ERROR), the message as the body, method, url, name and log.iostream attributes", r)
			}
		case r.Resource["service.name"] == "mongodb-1" && r.Body == "Election succeeded, assuming primary role":
			sawElection = true
			if r.Severity != 9 || r.Attrs["c"] != "ELECTION" || r.Attrs["id"] != "21450" || r.Attrs["s"] != "I" {
				fail("mongod's election line arrived as %+v: want severity 9 (INFO) and its s, c and id attributes", r)
			}
		case r.Resource["service.name"] == "mongodb-1" && strings.HasPrefix(r.Body, "MongoDB cannot start"):
			sawKernel = true
			if r.Severity != 21 {
				fail("mongod's fatal line arrived with severity %d, want 21 (FATAL)", r.Severity)
			}
		}
	}
	if !sawAPI || !sawElection || !sawKernel {
		fail("missing records: Rocket.Chat error %v, MongoDB election %v, kernel refusal %v; got %+v", sawAPI, sawElection, sawKernel, recs)
	}

	// The counters the alert rules read, on the Prometheus endpoint.
	counters := map[string]string{
		"rcgen_log_errors_total":              app,
		"rcgen_mongodb_elections_total":       "mongodb-1",
		"rcgen_mongodb_slow_queries_total":    "mongodb-1",
		"rcgen_migrations_failed_total":       app,
		"rcgen_mongodb_kernel_refusals_total": "mongodb-1",
	}
	for name := range counters {
		if !strings.Contains(string(rules.Content), name) && name != "rcgen_mongodb_slow_queries_total" {
			t.Errorf("the alert rules do not read %s", name)
		}
	}
	var exposition string
	deadline = time.Now().Add(eventDeadline)
	for time.Now().Before(deadline) {
		exposition = scrape(fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics))
		if counter(exposition, "rcgen_log_errors_total", app) >= burst {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := counter(exposition, "rcgen_log_errors_total", app); n < burst {
		fail("the error burst of %d lines shows as rcgen_log_errors_total %v for %s:\n%s", burst, n, app, exposition)
	}
	t.Logf("the collector's Prometheus endpoint after the burst:\n%s", exposition)
	for name, svc := range counters {
		if counter(exposition, name, svc) < 1 {
			fail("%s for %s is missing from the collector's Prometheus endpoint:\n%s", name, svc, exposition)
		}
	}
}

// otlpRecord is one log record as the stand-in Loki received it.
type otlpRecord struct {
	Resource map[string]string
	Attrs    map[string]string
	Severity int
	Body     string
}

// otlpStandin takes OTLP/HTTP JSON log exports (the encoding: json of
// the otlphttp exporter) as Loki's /otlp/v1/logs would.
type otlpStandin struct {
	mu   sync.Mutex
	recs []otlpRecord
}

func newOTLPStandin() *otlpStandin { return &otlpStandin{} }

func (s *otlpStandin) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.recs) }

func (s *otlpStandin) all() []otlpRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]otlpRecord(nil), s.recs...)
}

type otlpValue struct {
	StringValue *string  `json:"stringValue"`
	IntValue    *string  `json:"intValue"`
	DoubleValue *float64 `json:"doubleValue"`
	BoolValue   *bool    `json:"boolValue"`
}

func (v otlpValue) String() string {
	switch {
	case v.StringValue != nil:
		return *v.StringValue
	case v.IntValue != nil:
		return *v.IntValue
	case v.DoubleValue != nil:
		return strconv.FormatFloat(*v.DoubleValue, 'f', -1, 64)
	case v.BoolValue != nil:
		return strconv.FormatBool(*v.BoolValue)
	}
	return ""
}

type otlpKV struct {
	Key   string    `json:"key"`
	Value otlpValue `json:"value"`
}

func kvs(l []otlpKV) map[string]string {
	m := map[string]string{}
	for _, kv := range l {
		m[kv.Key] = kv.Value.String()
	}
	return m
}

func (s *otlpStandin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/otlp/v1/logs" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		z, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = z
	}
	var req struct {
		ResourceLogs []struct {
			Resource struct {
				Attributes []otlpKV `json:"attributes"`
			} `json:"resource"`
			ScopeLogs []struct {
				LogRecords []struct {
					SeverityNumber int       `json:"severityNumber"`
					Body           otlpValue `json:"body"`
					Attributes     []otlpKV  `json:"attributes"`
				} `json:"logRecords"`
			} `json:"scopeLogs"`
		} `json:"resourceLogs"`
	}
	if err := json.NewDecoder(body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	for _, rl := range req.ResourceLogs {
		res := kvs(rl.Resource.Attributes)
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				s.recs = append(s.recs, otlpRecord{Resource: res, Attrs: kvs(lr.Attributes), Severity: lr.SeverityNumber, Body: strings.TrimSpace(lr.Body.String())})
			}
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{}"))
}

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func scrape(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// counter is the value of the series name whose service_name is service
// (the label the alert rules group by), or -1.
func counter(exposition, name, service string) float64 {
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `\{([^}]*)\} ([0-9.e+]+)`)
	sc := bufio.NewScanner(strings.NewReader(exposition))
	for sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		if m == nil || !strings.Contains(m[1], `service_name="`+service+`"`) {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err == nil {
			return v
		}
	}
	return -1
}

// lockedBuffer collects a process's output for a failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// writeLog writes a container's log file, making its directory.
func writeLog(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, p, s)
}
