package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/doctor"
	"github.com/rcgen/rcgen/internal/prompt"
	"github.com/rcgen/rcgen/internal/prompt/prompttest"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/smoke"
	"github.com/rcgen/rcgen/internal/spec"
)

// composeFake answers docker compose like the deployment in its
// directory running: every service up unless down names it, a primary,
// mongod at .env's version; it records every call.
type composeFake struct {
	mu     sync.Mutex
	calls  []string
	down   map[string]string // service -> its ps line's State/Health JSON
	logs   map[string]string
	alerts string
	noRS   bool
}

func (f *composeFake) run(_ context.Context, dir string, args ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := strings.Join(args, " ")
	f.calls = append(f.calls, a)
	d, err := deploy.Open(dir)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(a, "compose up --detach "):
		return nil, nil
	case a == "compose ps --all --format json":
		var b bytes.Buffer
		for _, s := range d.Compose.Services {
			line := `"State":"running","Health":"healthy"`
			if s == "mongodb-prepare" || s == "mongodb-init" {
				line = `"State":"exited","ExitCode":0`
			}
			if st, ok := f.down[s]; ok {
				line = st
			}
			fmt.Fprintf(&b, `{"Service":%q,%s,"Image":"img:%s"}`+"\n", s, line, d.Env[render.EnvRocketChatVersion])
		}
		return b.Bytes(), nil
	case strings.HasPrefix(a, "compose ps --all --quiet "):
		return []byte("id-" + args[4]), nil
	case args[0] == "inspect":
		return []byte(`{"Status":"running"}`), nil
	case strings.HasPrefix(a, "compose logs "):
		return []byte(f.logs[args[len(args)-1]]), nil
	case strings.HasPrefix(a, "compose exec -T mongodb-"):
		js := args[len(args)-1]
		switch {
		case f.noRS:
			return nil, errors.New("exit status 1: MongoServerSelectionError: connect ECONNREFUSED")
		case strings.Contains(js, "replSetGetStatus"):
			return []byte(`{"ok":1,"members":[{"name":"mongodb-1:27017","state":"PRIMARY","health":1,"optime":5000}]}`), nil
		case strings.Contains(js, "getParameter"):
			v, _, _ := strings.Cut(d.Env[render.EnvMongoDBVersion], "-")
			return []byte(fmt.Sprintf(`{"version":%q,"fcv":%q}`, v, v[:3])), nil
		case strings.Contains(js, "dbStats"):
			return []byte(`{"used":20000000000,"total":100000000000}`), nil
		}
	case strings.HasPrefix(a, "compose exec -T alertmanager wget"):
		return []byte(f.alerts), nil
	case strings.HasPrefix(a, "compose exec -T"):
		return nil, errors.New("exit status 1: not here")
	}
	return nil, fmt.Errorf("fake docker: unexpected %q", a)
}

// removed lists calls that would remove something.
func (f *composeFake) removed() []string {
	var bad []string
	for _, c := range f.calls {
		for _, w := range []string{"down", " rm", "volume", "prune", "kill"} {
			if strings.Contains(" "+c, w) {
				bad = append(bad, c)
			}
		}
	}
	return bad
}

var upNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// okSmoke passes every check, with a certificate valid for 80 days.
func okSmoke(_ context.Context, t smoke.Target) smoke.Report {
	return smoke.Report{Results: []smoke.Result{{Name: "https", OK: true}, {Name: "api/info " + t.Version, OK: true}}, CertNotAfter: upNow.Add(80 * 24 * time.Hour)}
}

// runUp runs rcgen on the 7.0.14 kernel fixture with f as docker compose
// and reg as the registry.
func runUp(t *testing.T, f *composeFake, reg *fakeRegistryDocker, sm func(context.Context, smoke.Target) smoke.Report, args ...string) result {
	t.Helper()
	r := runEnv(func(env *Env) {
		env.Now = func() time.Time { return upNow }
		env.System = func() doctor.System {
			return doctor.System{Root: filepath.Join("..", "doctor", "testdata", "hosts", "kernel-7.0.14"), Docker: reg.run}
		}
		env.Docker = f.run
		env.Smoke = sm
	}, args...)
	if bad := f.removed(); len(bad) > 0 {
		t.Errorf("rcgen removed something: %q", bad)
	}
	return r
}

func upDeployment(t *testing.T, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "d")
	if r := runOn(t, "kernel-7.0.14", upNow, append([]string{"generate", "--yes", "--out", out}, args...)...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	return out
}

// TestUpStopsBeforeAnythingStartsWhenAnImageIsMissing: an image its
// registry does not have fails the preflight, naming the image, the
// registry and the fix, and docker compose is never asked to start
// anything.
func TestUpStopsBeforeAnythingStartsWhenAnImageIsMissing(t *testing.T) {
	dir := upDeployment(t)
	rc := catalog.RocketChatImage + ":" + spec.DefaultRocketChatVersion()
	f := &composeFake{}
	r := runUp(t, f, &fakeRegistryDocker{missing: []string{rc}}, okSmoke, "up", "--dir", dir)
	if r.code != 1 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"fail image " + rc + ": not on registry.rocket.chat, for rocketchat-1 (no such manifest: " + rc + "); the release's image is not published",
		"Error: preflight failed: image " + rc + "; nothing was started",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if len(f.calls) > 0 {
		t.Errorf("docker compose was asked %q before the preflight passed", f.calls)
	}
}

// TestUpReport: a stack that comes up and passes the smoke test gets the
// report: where to open it, the admin step, what to back up; --json the
// same for scripts.
func TestUpReport(t *testing.T) {
	dir := upDeployment(t)
	f := &composeFake{logs: map[string]string{"rocketchat-1": "|      Site URL: http://localhost  |\n"}}
	var target smoke.Target
	sm := func(ctx context.Context, tg smoke.Target) smoke.Report { target = tg; return okSmoke(ctx, tg) }
	r := runUp(t, f, &fakeRegistryDocker{}, sm, "up", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	v := spec.DefaultRocketChatVersion()
	for _, want := range []string{
		"Rocket.Chat " + v + " is running at http://localhost\n",
		"Next: open http://localhost and register the first user: Rocket.Chat makes the first account the administrator",
		"Back up: the backup service writes to " + filepath.Join(dir, "backups") + "/",
		"Grafana: http://localhost/grafana/",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if target.RootURL != "http://localhost" || target.Version != v || target.Address != "127.0.0.1:80" || !target.Grafana || target.PrometheusTargets == nil {
		t.Errorf("smoke target: %+v", target)
	}
	if !strings.Contains(r.stderr, "[1/6] MongoDB members: docker compose up --detach mongodb-prepare mongodb-1\n") {
		t.Errorf("progress: %s", r.stderr)
	}
	j := runUp(t, f, &fakeRegistryDocker{}, okSmoke, "up", "--dir", dir, "--json")
	var rep upReport
	if err := json.Unmarshal([]byte(j.stdout), &rep); err != nil || rep.Version != UpJSONVersion || rep.URL != "http://localhost" || rep.CertExpiry == nil {
		t.Errorf("--json: %v: %s", err, j.stdout)
	}
}

// TestUpSmokeFailureSaysWhy: a smoke test that fails on HTTPS with
// Caddy's log showing a failed ACME challenge names the cause.
func TestUpSmokeFailureSaysWhy(t *testing.T) {
	dir := upDeployment(t, "--domain", "chat.example.com", "--email", "admin@example.com")
	f := &composeFake{logs: map[string]string{
		"rocketchat-1": "|      Site URL: https://chat.example.com  |\n",
		"caddy":        `{"level":"error","logger":"tls.issuance.acme.acme_client","msg":"challenge failed","identifier":"chat.example.com","problem":{"type":"urn:ietf:params:acme:error:connection","detail":"203.0.113.7: Fetching http://chat.example.com/.well-known/acme-challenge/x: Connection refused"}}` + "\n",
	}}
	bad := func(context.Context, smoke.Target) smoke.Report {
		return smoke.Report{Results: []smoke.Result{{Name: "https", Detail: "tls: handshake failure", Fix: "see Caddy's log"}}}
	}
	reg := &fakeRegistryDocker{}
	r := runEnv(func(env *Env) {
		env.Now = func() time.Time { return upNow }
		env.System = func() doctor.System {
			return doctor.System{Root: filepath.Join("..", "doctor", "testdata", "hosts", "kernel-7.0.14"), Docker: reg.run}
		}
		env.Docker, env.Smoke = f.run, bad
	}, "up", "--dir", dir)
	if r.code != 1 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"every service is up, and the smoke test through the front door failed:\n  https: tls: handshake failure; see Caddy's log",
		"Caddy's log says why: Let's Encrypt cannot reach this host to issue a certificate for chat.example.com (203.0.113.7: Fetching http://chat.example.com/.well-known/acme-challenge/x: Connection refused)",
		"Fix: open ports 80 and 443",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if bad := f.removed(); len(bad) > 0 {
		t.Errorf("removed: %q", bad)
	}
}

// TestUpAndStatusOnSwarm: up says plainly it does not cover Swarm and
// what to run; status reads the services' replicas and says what it does
// not read there.
func TestUpAndStatusOnSwarm(t *testing.T) {
	dir := upDeployment(t, "--target", "swarm", "--node", "app-1=8:16GiB:proxy,monitoring,db", "--domain", "chat.example.com", "--email", "admin@example.com")
	f := &composeFake{}
	r := runUp(t, f, &fakeRegistryDocker{}, okSmoke, "up", "--dir", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "rcgen up covers the compose target only for now: start it with `docker stack deploy -c stack.yaml rocketchat`") {
		t.Errorf("up on Swarm: exit %d: %s", r.code, r.stderr)
	}
	if len(f.calls) > 0 {
		t.Errorf("up on Swarm ran %q", f.calls)
	}
	d, err := deploy.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		replicas map[string]string
		code     int
		want     string
	}{
		{"healthy", nil, StatusHealthy, "Status: healthy (app processes up: 1 of 1)"},
		{"caddy down", map[string]string{"caddy": "0/1"}, StatusDegraded, "! caddy runs 0/1 replicas (docker service ps rocketchat_caddy says why)"},
		{"no app", map[string]string{"rocketchat": "0/1"}, StatusDown, "! no app task runs"},
	} {
		var asked []string
		swarm := func(_ context.Context, _ string, args ...string) ([]byte, error) {
			asked = append(asked, strings.Join(args, " "))
			var b strings.Builder
			for _, s := range d.Compose.Services {
				rep := "1/1"
				if strings.HasPrefix(s, "mongodb-prepare") || s == "mongodb-init" {
					rep = "0/1 (1/1 completed)"
				}
				if v, ok := c.replicas[s]; ok {
					rep = v
				}
				fmt.Fprintf(&b, `{"ID":"x","Mode":"replicated","Name":"rocketchat_%s","Replicas":%q}`+"\n", s, rep)
			}
			return []byte(b.String()), nil
		}
		r := runEnv(func(e *Env) { e.Docker = swarm }, "status", "--dir", dir)
		if r.code != c.code || !strings.Contains(r.stdout, c.want) || !strings.Contains(r.stdout, "on Swarm, rcgen status reads the services only for now") {
			t.Errorf("%s: exit %d:\n%s%s", c.name, r.code, r.stdout, r.stderr)
		}
		if len(asked) != 1 || asked[0] != "stack services rocketchat --format {{json .}}" {
			t.Errorf("%s: asked docker %q", c.name, asked)
		}
	}
}

// TestStatusExitCodes: 0 healthy, 1 degraded (an app process of two
// down, an alert firing), 2 down (no primary).
func TestStatusExitCodes(t *testing.T) {
	dir := upDeployment(t, "--processes", "2", "--allow-unlicensed-instances", "--smtp-host", "smtp.example.com:587", "--smtp-from", "alerts@example.com", "--alert-email", "ops@example.com")
	if err := os.MkdirAll(filepath.Join(dir, "backups"), 0o700); err != nil {
		t.Fatal(err)
	}
	healthy := runUp(t, &composeFake{alerts: "[]"}, &fakeRegistryDocker{}, okSmoke, "status", "--dir", dir)
	if healthy.code != StatusDegraded || !strings.Contains(healthy.stdout, "! no backup yet (rcgen backup takes one)") {
		t.Errorf("no backup: exit %d: %s%s", healthy.code, healthy.stdout, healthy.stderr)
	}
	for _, want := range []string{"Status: degraded (app processes up: 2 of 2)", "mongodb-1:27017 PRIMARY", "Rocket.Chat: running " + spec.DefaultRocketChatVersion() + ", pinned " + spec.DefaultRocketChatVersion(),
		"Certificate: valid until 2027-02-13", "Database disk: 74.51GiB free of 93.13GiB"} {
		if !strings.Contains(healthy.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, healthy.stdout)
		}
	}
	// Without a backup service nothing says "no backup": healthy, exit 0.
	clean := runUp(t, &composeFake{alerts: "[]"}, &fakeRegistryDocker{}, okSmoke, "status", "--dir", upDeployment(t, "--no-backup"))
	if clean.code != StatusHealthy || !strings.Contains(clean.stdout, "Status: healthy (app processes up: 1 of 1)") {
		t.Errorf("healthy: exit %d: %s%s", clean.code, clean.stdout, clean.stderr)
	}
	f := &composeFake{down: map[string]string{"rocketchat-2": `"State":"running","Health":"unhealthy"`},
		alerts: `[{"labels":{"alertname":"RocketChatDown","severity":"critical"},"startsAt":"2026-11-25T11:50:00Z"}]`}
	r := runUp(t, f, &fakeRegistryDocker{}, okSmoke, "status", "--dir", dir, "--json")
	var got statusReport
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err, r.stdout)
	}
	if r.code != StatusDegraded || got.Status != "degraded" || got.Apps.Up != 1 || got.Apps.Total != 2 || len(got.Alerts) != 1 || got.Alerts[0].Name != "RocketChatDown" {
		t.Errorf("one app down, an alert: exit %d: %s", r.code, r.stdout)
	}
	down := runUp(t, &composeFake{noRS: true}, &fakeRegistryDocker{}, okSmoke, "status", "--dir", dir)
	if down.code != StatusDown || !strings.Contains(down.stdout, "Status: down") || !strings.Contains(down.stdout, "! the replica set cannot be read") {
		t.Errorf("no replica set: exit %d: %s", down.code, down.stdout)
	}
}

// TestWizardStartsItWhenAsked: the wizard's last question, "Start it
// now?", runs rcgen up on the deployment just written when answered yes;
// no (the default) starts nothing; without docker on the PATH it is not
// asked.
func TestWizardStartsItWhenAsked(t *testing.T) {
	for _, c := range []struct {
		name   string
		docker bool
		steps  []step
		starts bool
	}{
		{"yes", true, []step{{Question: "Start it now?", Answer: true}}, true},
		{"no", true, []step{{Question: "Start it now?", Answer: false}}, false},
		{"no docker", false, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "d")
			script := prompttest.NewScript(t, c.steps...)
			f := &composeFake{logs: map[string]string{"rocketchat-1": "|      Site URL: https://chat.example.com  |\n"}}
			reg := &fakeRegistryDocker{}
			var stdout, stderr bytes.Buffer
			env := Env{
				IO: IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr, Interactive: true},
				Detect: func() (sizing.Host, error) {
					return sizing.Host{CPUs: 8, CPUSource: "test", Memory: 16 * spec.GiB, MemorySource: "test"}, nil
				},
				Getenv:   func(string) string { return "" },
				Prompter: func() prompt.Prompter { return script },
				Now:      func() time.Time { return upNow },
				System: func() doctor.System {
					return doctor.System{Root: filepath.Join("..", "doctor", "testdata", "hosts", "kernel-7.0.14"), Docker: reg.run}
				},
				Docker: f.run, Smoke: okSmoke,
				LookPath: func(name string) (string, error) {
					if c.docker {
						return "/usr/bin/" + name, nil
					}
					return "", errors.New("not found")
				},
			}
			code := Run(context.Background(), env, []string{"generate", "--out", out, "--domain", "chat.example.com", "--proxy", "caddy",
				"--email", "a@example.com", "--license-file", "", "--users", "10", "--mongodb-members", "1", "--no-monitoring", "--backup-schedule", "6h", "--target", "compose"})
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			started := strings.Contains(stdout.String(), "is running at https://chat.example.com")
			if started != c.starts || (len(f.calls) > 0) != c.starts {
				t.Errorf("started %v (docker asked %d times), want %v:\n%s\n%s", started, len(f.calls), c.starts, stdout.String(), stderr.String())
			}
			if bad := f.removed(); len(bad) > 0 {
				t.Errorf("removed: %q", bad)
			}
		})
	}
}

// TestUpJSONFailure: with --json a failed stage is an object on standard
// output too (the message on standard error as always).
func TestUpJSONFailure(t *testing.T) {
	dir := upDeployment(t)
	f := &composeFake{down: map[string]string{"mongodb-1": `"State":"exited","ExitCode":132`}}
	r := runUp(t, f, &fakeRegistryDocker{}, okSmoke, "up", "--dir", dir, "--json")
	var got struct {
		Version int
		Failure struct {
			Stage, Service, What string
			Cause                struct{ Name, Message, Fix string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v: %q", err, r.stdout)
	}
	if r.code != 1 || got.Failure.Service != "mongodb-1" || got.Failure.Cause.Name != "no AVX" || !strings.Contains(r.stderr, "this CPU has no AVX") {
		t.Errorf("exit %d: %+v\n%s", r.code, got, r.stderr)
	}
}

// TestUpWaitsForTheSmokeTestToSettle: right after the start Prometheus
// has not scraped its targets (a failure that mends itself): up runs the
// smoke test again until it passes. A failure that does not mend itself
// (a wrong version) is reported after one run, without waiting.
func TestUpWaitsForTheSmokeTestToSettle(t *testing.T) {
	dir := upDeployment(t)
	f := &composeFake{logs: map[string]string{"rocketchat-1": "|      Site URL: http://localhost  |\n"}}
	runs := 0
	settling := func(ctx context.Context, tg smoke.Target) smoke.Report {
		runs++
		if runs < 3 {
			return smoke.Report{Results: []smoke.Result{{Name: smoke.CheckAPIInfo, OK: true}, {Name: smoke.CheckPrometheus, Detail: "mongodb-exporter: unknown (not scraped yet)"}}}
		}
		return okSmoke(ctx, tg)
	}
	r := runUp(t, f, &fakeRegistryDocker{}, settling, "up", "--dir", dir, "--timeout", "1m")
	if r.code != 0 || runs != 3 {
		t.Fatalf("exit %d after %d smoke runs, want 0 after 3: %s", r.code, runs, r.stderr)
	}
	if strings.Count(r.stderr, "Smoke test: waiting for prometheus targets...") != 1 {
		t.Errorf("the wait is not said once on a pipe:\n%s", r.stderr)
	}
	runs = 0
	wrong := func(context.Context, smoke.Target) smoke.Report {
		runs++
		return smoke.Report{Results: []smoke.Result{{Name: smoke.CheckAPIInfo, Detail: "/api/info says 7.0", Fix: "pull the pinned image"}, {Name: smoke.CheckPrometheus, Detail: "unknown"}}}
	}
	r = runUp(t, f, &fakeRegistryDocker{}, wrong, "up", "--dir", dir, "--timeout", "1m")
	if r.code != 1 || runs != 1 {
		t.Errorf("exit %d after %d smoke runs, want 1 after 1: %s", r.code, runs, r.stderr)
	}
}
