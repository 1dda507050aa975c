package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/sizing"
)

// fakeSwarm answers a manager's docker node, service, secret and config
// commands; every command it gets is recorded.
type fakeSwarm struct {
	nodes   map[string]string            // node -> ManagerStatus ("" a worker); all Ready
	labels  map[string]map[string]string // node -> labels
	runsOn  map[string]string            // service -> node of its running task
	objects []string                     // the secrets' and configs' names in the swarm
	fail    bool                         // docker node ls fails (not a manager)
	log     []string
}

func (f *fakeSwarm) docker(_ context.Context, args ...string) ([]byte, error) {
	line := strings.Join(args, " ")
	f.log = append(f.log, line)
	var b strings.Builder
	switch {
	case line == "node ls --format json":
		if f.fail {
			return nil, errors.New("exit status 1: This node is not a swarm manager.")
		}
		for _, n := range []string{"node-1", "node-2", "node-3"} {
			if ms, ok := f.nodes[n]; ok {
				fmt.Fprintf(&b, `{"Hostname":%q,"Status":"Ready","Availability":"Active","ManagerStatus":%q}`+"\n", n, ms)
			}
		}
	case strings.HasPrefix(line, "node inspect --format {{.Description.Hostname}} {{json .Spec.Labels}} "):
		for _, n := range args[4:] {
			l := "{"
			sep := ""
			for k, v := range f.labels[n] {
				l += fmt.Sprintf("%s%q:%q", sep, k, v)
				sep = ","
			}
			fmt.Fprintf(&b, "%s %s}\n", n, l)
		}
	case args[0] == "service" && args[1] == "ps":
		if n := f.runsOn[args[2]]; n != "" {
			b.WriteString(n + "\n")
		}
	case (args[0] == "secret" || args[0] == "config") && args[1] == "ls":
		// Both lists: the names differ by key, so each finds its own.
		for _, o := range f.objects {
			b.WriteString(o + "\n")
		}
	default:
		return nil, fmt.Errorf("fake docker: %q", line)
	}
	return []byte(b.String()), nil
}

// swarmExample is examples/swarm-3-nodes and its plan: members on node-1
// to node-3, the proxy on node-1, monitoring and backups on node-2.
func swarmExample(t *testing.T) (*deploy.Deployment, *sizing.Swarm, []string) {
	t.Helper()
	dir := filepath.Join("..", "..", "examples", "swarm-3-nodes")
	d, err := deploy.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	sw := &sizing.Swarm{Nodes: []sizing.SwarmNode{{Name: "node-1"}, {Name: "node-2"}, {Name: "node-3"}},
		MemberNodes: []string{"node-1", "node-2", "node-3"}, ProxyNode: "node-1", MonitoringNode: "node-2", BackupNode: "node-2",
		AppNodes: []string{"node-1", "node-2", "node-3"}}
	b, err := os.ReadFile(filepath.Join(dir, "stack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var objects []string
	for _, m := range regexp.MustCompile(`(?m)^    name: (rocketchat_\S+)$`).FindAllStringSubmatch(string(b), -1) {
		objects = append(objects, m[1])
	}
	if len(objects) < 10 {
		t.Fatalf("the example's stack names %d secrets and configs", len(objects))
	}
	return d, sw, objects
}

func healthySwarm(objects []string) *fakeSwarm {
	return &fakeSwarm{
		nodes: map[string]string{"node-1": "Leader", "node-2": "Reachable", "node-3": ""},
		labels: map[string]map[string]string{
			"node-1": {"rcgen.app": "true", "rcgen.mongodb-1": "true", "rcgen.proxy": "true"},
			"node-2": {"rcgen.app": "true", "rcgen.mongodb-2": "true", "rcgen.monitoring": "true", "rcgen.backup": "true"},
			"node-3": {"rcgen.app": "true", "rcgen.mongodb-3": "true", "other.label": "x"},
		},
		runsOn:  map[string]string{"rocketchat_mongodb-1": "node-1", "rocketchat_mongodb-2": "node-2", "rocketchat_mongodb-3": "node-3"},
		objects: objects,
	}
}

func byName(rs []Result) map[string]Result {
	m := map[string]Result{}
	for _, r := range rs {
		m[r.Name] = r
	}
	return m
}

// TestSwarmChecks: doctor on a Swarm deployment asks the manager for the
// nodes (docker node ls), their labels (docker node inspect), where each
// member runs (docker service ps), and the stack's secrets and configs;
// a swarm as the plan wants passes, each difference fails or warns with
// the command that fixes it.
func TestSwarmChecks(t *testing.T) {
	d, sw, objects := swarmExample(t)
	f := healthySwarm(objects)
	rs := byName(Swarm(context.Background(), System{Docker: f.docker}, d, "rocketchat", sw))
	for _, name := range []string{"swarm nodes", "swarm labels", "member volumes", "backup node", "swarm secrets and configs"} {
		if r, ok := rs[name]; !ok || r.Status != OK {
			t.Errorf("%s: %+v, want ok", name, r)
		}
	}
	want := []string{"node ls --format json", "node inspect --format {{.Description.Hostname}} {{json .Spec.Labels}} node-1 node-2 node-3",
		"service ps rocketchat_mongodb-1 --filter desired-state=running --format {{.Node}}",
		"service ps rocketchat_mongodb-2 --filter desired-state=running --format {{.Node}}",
		"service ps rocketchat_mongodb-3 --filter desired-state=running --format {{.Node}}",
		"secret ls --format {{.Name}}", "config ls --format {{.Name}}"}
	if strings.Join(f.log, "\n") != strings.Join(want, "\n") {
		t.Errorf("doctor ran:\n%s\nwant:\n%s", strings.Join(f.log, "\n"), strings.Join(want, "\n"))
	}

	// Everything wrong at once.
	f = healthySwarm(objects[1:])
	delete(f.nodes, "node-3")
	f.nodes["node-2"] = ""
	delete(f.labels["node-2"], "rcgen.backup")
	f.labels["node-1"]["rcgen.mongodb-2"] = "true"
	f.runsOn["rocketchat_mongodb-2"] = "node-1"
	delete(f.runsOn, "rocketchat_mongodb-3")
	rs = byName(Swarm(context.Background(), System{Docker: f.docker}, d, "rocketchat", sw))
	for _, c := range []struct {
		name   string
		status Status
		want   string
	}{
		{"swarm nodes", Fail, "the plan's nodes node-3 are not in this swarm"},
		{"swarm labels", Fail, "docker node update --label-add rcgen.backup=true node-2; docker node update --label-rm rcgen.mongodb-2 node-1"},
		{"member volumes", Fail, "mongodb-2 runs on node-1, and its volume is on node-2"},
		{"backup node", Warn, "docker node promote node-2"},
		{"swarm secrets and configs", Warn, "config " + objects[0]},
	} {
		r := rs[c.name]
		if r.Status != c.status || !strings.Contains(r.Found+"; "+r.Do, c.want) {
			t.Errorf("%s: %s, want %s with %q", c.name, r, c.status, c.want)
		}
	}

	// Not a manager: one warning, nothing else asked.
	f = &fakeSwarm{fail: true}
	got := Swarm(context.Background(), System{Docker: f.docker}, d, "rocketchat", sw)
	if len(got) != 1 || got[0].Status != Warn || !strings.Contains(got[0].Do, "run rcgen doctor on a manager") || len(f.log) != 1 {
		t.Errorf("not a manager: %v (ran %q)", got, f.log)
	}
}
