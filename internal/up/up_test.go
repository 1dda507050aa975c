package up

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/stack"
)

// fakeDocker answers docker commands for one scenario and records them.
type fakeDocker struct {
	mu       sync.Mutex
	calls    []string
	started  []string
	svcs     map[string]*fakeService
	primary  bool
	polls    map[string]int
	logPolls map[string]int
}

type fakeService struct {
	// states are what docker compose ps says on each poll (the last one
	// stays); none means running and healthy (exited 0 for a one-shot).
	states  []stack.Container
	inspect stack.State
	// logs are its log on each poll of the logs (the last one stays).
	logs [][]string
	// logsSince are what docker compose logs --since returns instead.
	logsSince [][]string
	upErr     string
}

func newFake(services []string) *fakeDocker {
	f := &fakeDocker{svcs: map[string]*fakeService{}, primary: true, polls: map[string]int{}, logPolls: map[string]int{}}
	for _, s := range services {
		f.svcs[s] = &fakeService{}
	}
	return f
}

func (f *fakeDocker) run(_ context.Context, _ string, args ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, strings.Join(args, " "))
	a := strings.Join(args, " ")
	switch {
	case strings.HasPrefix(a, "compose up --detach "):
		for _, s := range args[3:] {
			if e := f.svcs[s].upErr; e != "" {
				return nil, errors.New(e)
			}
		}
		f.started = append(f.started, args[3:]...)
		return nil, nil
	case a == "compose ps --all --format json":
		var b bytes.Buffer
		for _, s := range f.started {
			c := f.state(s)
			j, _ := json.Marshal(c)
			b.Write(append(j, '\n'))
		}
		return b.Bytes(), nil
	case strings.HasPrefix(a, "compose ps --all --quiet "):
		return []byte("id-" + args[4] + "\n"), nil
	case args[0] == "inspect":
		svc := strings.TrimPrefix(args[len(args)-1], "id-")
		j, _ := json.Marshal(f.svcs[svc].inspect)
		return j, nil
	case strings.HasPrefix(a, "compose logs "):
		svc := args[len(args)-1]
		ls := f.svcs[svc].logs
		if slices.Contains(args, "--since") {
			ls = f.svcs[svc].logsSince
		}
		if len(ls) == 0 {
			return nil, nil
		}
		i := min(f.logPolls[svc], len(ls)-1)
		f.logPolls[svc]++
		return []byte(strings.Join(ls[i], "\n") + "\n"), nil
	case strings.HasPrefix(a, "compose exec -T mongodb-") && strings.Contains(a, "replSetGetStatus"):
		state := "SECONDARY"
		if f.primary {
			state = "PRIMARY"
		}
		return []byte(fmt.Sprintf(`{"ok":1,"members":[{"name":"mongodb-1:27017","state":%q,"health":1,"optime":1000}]}`, state)), nil
	}
	return nil, fmt.Errorf("fake docker: unexpected %q", a)
}

// state is svc's docker compose ps line on this poll.
func (f *fakeDocker) state(svc string) stack.Container {
	s := f.svcs[svc]
	if len(s.states) == 0 {
		if slices.Contains(stack.OneShots, svc) {
			return stack.Container{Service: svc, State: "exited"}
		}
		return stack.Container{Service: svc, State: "running", Health: "healthy"}
	}
	i := min(f.polls[svc], len(s.states)-1)
	f.polls[svc]++
	c := s.states[i]
	c.Service = svc
	return c
}

// removed lists the calls that would remove something.
func (f *fakeDocker) removed() []string {
	var bad []string
	for _, c := range f.calls {
		if strings.Contains(c, " rm") || strings.HasPrefix(c, "rm") || strings.Contains(c, "down") || strings.Contains(c, "-v") || strings.Contains(c, "volume") || strings.Contains(c, "prune") {
			bad = append(bad, c)
		}
	}
	return bad
}

var small = []string{"rocketchat-1", "mongodb-1", "mongodb-prepare", "mongodb-init", "backup", "caddy", "prometheus", "grafana", "mongodb-exporter-1", "node-exporter"}

// start runs up with f; it returns the progress and the error.
func start(t *testing.T, f *fakeDocker, tty bool) (string, error) {
	t.Helper()
	var out bytes.Buffer
	clock := time.Unix(0, 0)
	o := Options{
		Stack:    stack.Stack{Dir: t.TempDir(), Run: f.run, Members: 1},
		Services: small, Timeout: 10 * time.Minute, Poll: time.Millisecond,
		Progress: NewProgress(&out, tty),
		Expect:   Expect{RootURL: "https://chat.example.com", Domain: "chat.example.com"},
		// Each reading of the clock is a minute later: a stage's time runs
		// out after ten polls, with no real waiting.
		Now: func() time.Time { clock = clock.Add(time.Minute); return clock },
	}
	err := Run(context.Background(), o)
	if bad := f.removed(); len(bad) > 0 {
		t.Errorf("rcgen up removed something: %q", bad)
	}
	return out.String(), err
}

func TestStagesStartInOrder(t *testing.T) {
	f := newFake(small)
	out, err := start(t, f, false)
	if err != nil {
		t.Fatal(err)
	}
	var ups []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, "compose up") {
			ups = append(ups, strings.TrimPrefix(c, "compose up --detach "))
		}
	}
	want := []string{"mongodb-prepare mongodb-1", "mongodb-init", "rocketchat-1", "caddy", "prometheus grafana mongodb-exporter-1 node-exporter", "backup"}
	if !slices.Equal(ups, want) {
		t.Errorf("started %q, want %q", ups, want)
	}
	for _, line := range []string{
		"[1/6] MongoDB members: docker compose up --detach mongodb-prepare mongodb-1",
		"[2/6] replica set: primary mongodb-1:27017",
		"[6/6] backups: up (backup)",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("progress lacks %q:\n%s", line, out)
		}
	}
	if strings.ContainsAny(out, "\r\x1b") {
		t.Errorf("progress on a pipe holds control characters: %q", out)
	}
}

// TestFailures: each known failure gets its own message and fix; an
// unknown one, the service, its state and its last 20 log lines.
func TestFailures(t *testing.T) {
	long := make([]string, 30)
	for i := range long {
		long[i] = fmt.Sprintf("line %d", i+1)
	}
	for _, tc := range []struct {
		name  string
		setup func(f *fakeDocker)
		want  []string
	}{
		{"port in use", func(f *fakeDocker) {
			f.svcs["caddy"].upErr = "exit status 1: Error response from daemon: driver failed programming external connectivity on endpoint rocketchat-caddy-1 (3f2a): Bind for 0.0.0.0:443 failed: port is already allocated"
		}, []string{"caddy (stage: proxy) did not start: caddy cannot start: port 443 is already taken on this host", "Fix: see what holds it with `ss -ltnp 'sport = :443'`"}},
		{"address in use", func(f *fakeDocker) {
			f.svcs["caddy"].upErr = "exit status 1: Error response from daemon: failed to set up container networking: driver failed programming external connectivity on endpoint rocketchat-caddy-1: failed to bind host port for 0.0.0.0:80:172.18.0.5:80/tcp: listen tcp4 0.0.0.0:80: bind: address already in use"
		}, []string{"port 80 is already taken on this host"}},
		{"out of memory", func(f *fakeDocker) {
			f.svcs["rocketchat-1"].states = []stack.Container{{State: "running", Health: "starting"}, {State: "exited", ExitCode: 137}}
			f.svcs["rocketchat-1"].inspect = stack.State{Status: "exited", OOMKilled: true, ExitCode: 137}
		}, []string{"rocketchat-1 (stage: rocketchat-1 (migrations)) exited with code 137: rocketchat-1 was killed for lack of memory (OOMKilled)", "Fix: check the host's free memory"}},
		{"kernel", func(f *fakeDocker) {
			f.svcs["mongodb-1"].states = []stack.Container{{State: "restarting", ExitCode: 14}}
			f.svcs["mongodb-1"].logs = [][]string{{`{"t":{"$date":"2026-11-30T10:00:00.000+00:00"},"s":"F","c":"CONTROL","id":12257600,"ctx":"initandlisten","msg":"MongoDB cannot start: Linux kernel versions 6.19 and newer has a known incompatibility with this version of MongoDB. See https://jira.mongodb.org/browse/SERVER-121912 for more information."}`}}
		}, []string{"mongodb-1 (stage: MongoDB members) keeps restarting (last exit code 14): mongodb-1 refused to start on this kernel: MongoDB 8 crashes (or refuses to start) on kernels 6.19 to 7.0.13", "GLIBC_TUNABLES=glibc.pthread.rseq=1"}},
		{"no AVX", func(f *fakeDocker) {
			f.svcs["mongodb-1"].states = []stack.Container{{State: "exited", ExitCode: 132}}
		}, []string{"mongodb-1 stopped with \"Illegal instruction\": this CPU has no AVX", "Fix: run on a CPU with AVX"}},
		{"keyfile", func(f *fakeDocker) {
			f.svcs["mongodb-1"].states = []stack.Container{{State: "exited", ExitCode: 1}}
			f.svcs["mongodb-1"].logs = [][]string{{`{"t":{"$date":"2026-11-30T10:00:00.000+00:00"},"s":"E","c":"ACCESS","id":20254,"ctx":"initandlisten","msg":"Read security file failed","attr":{"error":{"code":30,"codeName":"InvalidPath","errmsg":"permissions on /etc/mongodb/keyfile/mongodb.keyfile are too open"}}}`}}
		}, []string{"mongodb-1 cannot use the replica set's keyfile", "are too open", "Fix: mongodb-prepare copies secrets/mongodb.keyfile"}},
		{"MongoDB version", func(f *fakeDocker) {
			f.svcs["rocketchat-1"].states = []stack.Container{{State: "running", Health: "starting"}}
			f.svcs["rocketchat-1"].logs = [][]string{{"+----------------------------------------------------+", "|                    SERVER ERROR                    |", "|  YOUR CURRENT MONGODB VERSION IS NOT SUPPORTED BY ROCKET.CHAT,  |", "|  PLEASE UPGRADE TO VERSION 7.0 OR LATER            |"}}
		}, []string{"rocketchat-1 refuses the MongoDB it runs on: the release needs MongoDB 7.0 or later", "rcgen upgrade"}},
		{"migration", func(f *fakeDocker) {
			f.svcs["rocketchat-1"].states = []stack.Container{{State: "running", Health: "starting"}}
			f.svcs["rocketchat-1"].logs = [][]string{{"Migrating from version 318 -> 320", "Running up() on version 319", "+------------------------------------+", "|       ERROR! SERVER STOPPED        |", "| Your database migration failed:    |", "| E11000 duplicate key error collection: rocketchat.users |"}}
		}, []string{"rocketchat-1 stopped: a database migration failed: E11000 duplicate key error collection: rocketchat.users", "restore the backup taken before the upgrade"}},
		{"ROOT_URL", func(f *fakeDocker) {
			f.svcs["rocketchat-1"].logs = [][]string{{"|      Site URL: https://old.example.com  |"}}
		}, []string{"rocketchat-1 runs with Site URL https://old.example.com, and this deployment's ROOT_URL is https://chat.example.com", "Site URL to it"}},
		{"member never healthy", func(f *fakeDocker) {
			f.svcs["mongodb-1"].states = []stack.Container{{State: "running", Health: "starting"}}
			f.svcs["mongodb-1"].logs = [][]string{long}
		}, []string{"mongodb-1 (stage: MongoDB members) was not up after 10m0s; its state: running (starting). rcgen does not know this failure; its last 20 log lines:\n  line 11\n", "\n  line 30\nSee all of it with: docker compose logs mongodb-1"}},
		{"no primary", func(f *fakeDocker) { f.primary = false }, []string{"mongodb-init (stage: replica set) finished, and the replica set had no primary after 10m0s; its state: no primary yet (mongodb-1:27017 SECONDARY)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(small)
			tc.setup(f)
			_, err := start(t, f, false)
			if _, ok := IsFailure(err); !ok {
				t.Fatalf("not a stage's failure: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the message lacks %q:\n%s", w, err)
				}
			}
			if !strings.Contains(err.Error(), "Nothing was removed") {
				t.Errorf("the message does not say nothing was removed:\n%s", err)
			}
		})
	}
}

// TestSlowMigration: while rocketchat-1 migrates, the progress shows the
// migration it is on; on a pipe each once, on a terminal one line
// rewritten.
func TestSlowMigration(t *testing.T) {
	for _, tty := range []bool{false, true} {
		f := newFake(small)
		rc := f.svcs["rocketchat-1"]
		rc.states = []stack.Container{{State: "running", Health: "starting"}, {State: "running", Health: "starting"}, {State: "running", Health: "starting"}, {State: "running", Health: "healthy"}}
		rc.logs = [][]string{{"Migrating from version 300 -> 302"}, {"Migrating from version 300 -> 302", "Running up() on version 301"}, {"Running up() on version 302"}, {"Finished migrating.", "|      Site URL: https://chat.example.com  |"}}
		out, err := start(t, f, tty)
		if err != nil {
			t.Fatal(err)
		}
		stage, waiting := "[3/6] rocketchat-1 (migrations): ", "; waiting for rocketchat-1: running (starting)"
		if !tty {
			want := stage + "Migrating from version 300 -> 302" + waiting + "\n" + stage + "Running up() on version 301" + waiting + "\n" +
				stage + "Running up() on version 302" + waiting + "\n" + stage + "up (rocketchat-1)\n"
			if !strings.Contains(out, want) {
				t.Errorf("on a pipe, want\n%s\nin\n%s", want, out)
			}
			continue
		}
		// 80 columns: the line is cut to 79, the migration kept.
		if !strings.Contains(out, "\r\x1b[K"+stage+"Running up() on version 301; waiting for ro...\r") || !strings.Contains(out, "\r\x1b[K"+stage+"up (rocketchat-1)\n") {
			t.Errorf("on a terminal, the line is not rewritten: %q", out)
		}
	}
}

// TestACME: Caddy's log of a failed challenge (its JSON lines, with Let's
// Encrypt's problem detail) says whether DNS or the network is to blame.
func TestACME(t *testing.T) {
	x := Expect{Domain: "chat.example.com"}
	for _, tc := range []struct{ line, want, fix string }{
		{`{"level":"error","ts":1764669600.1,"logger":"tls.issuance.acme.acme_client","msg":"challenge failed","identifier":"chat.example.com","challenge_type":"http-01","problem":{"type":"urn:ietf:params:acme:error:dns","title":"","detail":"DNS problem: NXDOMAIN looking up A for chat.example.com - check that a DNS record exists for this domain","instance":"","subproblems":null}}`,
			"Let's Encrypt cannot issue a certificate for chat.example.com: its DNS does not point here (DNS problem: NXDOMAIN looking up A for chat.example.com", "create an A (and AAAA) record for chat.example.com"},
		{`{"level":"error","ts":1764669600.1,"logger":"tls.issuance.acme.acme_client","msg":"challenge failed","identifier":"chat.example.com","challenge_type":"http-01","problem":{"type":"urn:ietf:params:acme:error:connection","title":"","detail":"203.0.113.7: Fetching http://chat.example.com/.well-known/acme-challenge/x: Timeout during connect (likely firewall problem)","instance":"","subproblems":null}}`,
			"Let's Encrypt cannot reach this host to issue a certificate for chat.example.com (203.0.113.7: Fetching http://chat.example.com/.well-known/acme-challenge/x: Timeout during connect (likely firewall problem))", "open ports 80 and 443"},
		{`{"level":"error","ts":1764669600.2,"logger":"tls.obtain","msg":"could not get certificate from issuer","identifier":"chat.example.com","issuer":"acme-v02.api.letsencrypt.org-directory","error":"HTTP 400 urn:ietf:params:acme:error:connection - 203.0.113.7: Fetching http://chat.example.com/.well-known/acme-challenge/y: Timeout during connect (likely firewall problem)"}`,
			"Let's Encrypt cannot reach this host to issue a certificate for chat.example.com (HTTP 400 urn:ietf:params:acme:error:connection - 203.0.113.7: Fetching http://chat.example.com/.well-known/acme-challenge/y: Timeout during connect (likely firewall problem))", "open ports 80 and 443"},
	} {
		c, ok := Diagnose(Evidence{Service: "caddy", Logs: []string{`{"level":"info","msg":"trying to solve challenge"}`, tc.line}}, x)
		if !ok || !strings.Contains(c.Message, tc.want) || !strings.Contains(c.Fix, tc.fix) {
			t.Errorf("diagnosed %+v (%v), want %q / %q", c, ok, tc.want, tc.fix)
		}
	}
	if c, ok := Diagnose(Evidence{Service: "caddy", Logs: []string{`{"level":"info","msg":"certificate obtained successfully"}`}}, x); ok {
		t.Errorf("a good log diagnosed as %+v", c)
	}
}

// TestOldLinesAreNotTheCurrentFailure: a container that ran before keeps
// its old log; a migration that failed then, and was fixed since, does
// not stop this start: while waiting, rcgen reads what was logged since
// the stage began (docker compose logs --since).
func TestOldLinesAreNotTheCurrentFailure(t *testing.T) {
	f := newFake(small)
	rc := f.svcs["rocketchat-1"]
	rc.states = []stack.Container{{State: "running", Health: "starting"}, {State: "running", Health: "healthy"}}
	rc.logs = [][]string{{"|       ERROR! SERVER STOPPED        |", "| Your database migration failed:    |", "| E11000 duplicate key |"}}
	rc.logsSince = [][]string{{"Running up() on version 321", "|      Site URL: https://chat.example.com  |"}}
	var out bytes.Buffer
	o := Options{
		Stack:    stack.Stack{Dir: t.TempDir(), Run: f.run, Members: 1},
		Services: small, Timeout: time.Minute, Poll: time.Millisecond,
		Progress: NewProgress(&out, false),
		Expect:   Expect{RootURL: "https://chat.example.com"},
	}
	if err := Run(context.Background(), o); err != nil {
		t.Fatalf("an old failure in the log stopped the start: %v", err)
	}
	if !strings.Contains(out.String(), "(migrations): Running up() on version 321; waiting") {
		t.Errorf("progress: %s", out.String())
	}
}

// TestFatalLineEndsTheWait: mongod refusing the kernel while docker still
// calls it running (it restarts) stops the stage at once, not after its
// time.
func TestFatalLineEndsTheWait(t *testing.T) {
	f := newFake(small)
	m := f.svcs["mongodb-1"]
	m.states = []stack.Container{{State: "running", Health: "starting"}}
	m.logsSince = [][]string{{`{"s":"F","c":"CONTROL","id":12257600,"msg":"MongoDB cannot start: Linux kernel versions 6.19 and newer has a known incompatibility with this version of MongoDB. See https://jira.mongodb.org/browse/SERVER-121912 for more information."}`}}
	m.logs = m.logsSince
	_, err := start(t, f, false)
	fl, ok := IsFailure(err)
	if !ok || fl.Service != "mongodb-1" || fl.What != "failed" || fl.Cause == nil || fl.Cause.Name != "kernel refused" {
		t.Fatalf("got %v", err)
	}
	polls := 0
	for _, c := range f.calls {
		if c == "compose ps --all --format json" {
			polls++
		}
	}
	if polls > 3 {
		t.Errorf("waited %d polls for a fatal line", polls)
	}
}

// TestStatusLineFitsTheTerminal: on a terminal a status line longer than
// the terminal is cut to fit (a wrapped line could not be rewritten).
func TestStatusLineFitsTheTerminal(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, true)
	p.Width = 40
	p.Status(strings.Repeat("x", 100), time.Minute)
	line := strings.TrimPrefix(b.String(), "\r\x1b[K")
	if len([]rune(line)) != 39 || !strings.HasSuffix(line, "...") {
		t.Errorf("%q (%d)", line, len(line))
	}
}
