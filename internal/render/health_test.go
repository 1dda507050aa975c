package render_test

import (
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
	"github.com/rcgen/rcgen/internal/spec"
)

// TestAppHealthCheckSurvivesALaggingWatcher runs the app's container health
// check, as rendered in the compose and the stack file, with node against a
// stand-in that answers /health as Rocket.Chat does while its change-stream
// watcher lags: 500 before 7.11, where every process answers so at once
// and Swarm would replace them all, so the check must pass; 200 from 7.11
// on, where only a 200 may pass. A process that does not answer fails.
func TestAppHealthCheckSurvivesALaggingWatcher(t *testing.T) {
	rendertest.Need(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("the health check runs with node")
	}
	status := 500
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()

	for _, c := range []struct {
		version string
		pass500 bool
	}{{"7.10.15", true}, {"7.11.0", false}, {"8.8.1", false}} {
		for _, target := range []string{spec.TargetCompose, spec.TargetSwarm} {
			t.Run(c.version+"/"+target, func(t *testing.T) {
				test := appHealthTest(t, c.version, target)
				run := func(addr string, code int) bool {
					status = code
					cmd := strings.Replace(test[len(test)-1], "127.0.0.1:3000", addr, 1)
					return exec.Command(node, "-e", cmd).Run() == nil
				}
				if !run(ln.Addr().String(), 200) {
					t.Errorf("a process answering 200 is unhealthy: %q", test)
				}
				if got := run(ln.Addr().String(), 500); got != c.pass500 {
					t.Errorf("/health answering 500: healthy %v, want %v: %q", got, c.pass500, test)
				}
				if run(deadAddr, 200) {
					t.Errorf("a process that does not answer is healthy: %q", test)
				}
			})
		}
	}
}

// appHealthTest is rocketchat-1's (compose) or rocketchat's (Swarm) health
// check test, ["CMD", "node", "-e", JS].
func appHealthTest(t *testing.T, version, target string) []string {
	t.Helper()
	var files render.Files
	if target == spec.TargetSwarm {
		files = generateSwarmVersion(t, version)
	} else {
		files = generate(t, profile{name: version, host: host(4, 8*spec.GiB), answers: func(a *spec.Answers) { a.RocketChatVersion = version }})
	}
	var test []string
	if target == spec.TargetSwarm {
		test = loadStack(t, files).Services["rocketchat"].HealthCheck.Test
	} else {
		test = load(t, files).Services["rocketchat-1"].HealthCheck.Test
	}
	if len(test) != 4 || test[1] != "node" || !strings.Contains(test[3], "127.0.0.1:3000/health") {
		t.Fatalf("the app's health check is no longer node -e on 127.0.0.1:3000/health: %q", test)
	}
	return test
}
