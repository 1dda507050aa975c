package sizing

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/spec"
)

func nodes(t *testing.T, specs ...string) spec.Nodes {
	t.Helper()
	var ns spec.Nodes
	for _, s := range specs {
		if err := ns.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	return ns
}

func TestSwarmThreeNodesUnlicensed(t *testing.T) {
	p, err := ComputeSwarm(nodes(t, "node-1=4:8GiB", "node-2=4:8GiB", "node-3=4:8GiB"),
		Inputs{MongoDBMembers: 3, Monitoring: true, Proxy: true})
	if err != nil {
		t.Fatal(err)
	}
	sw := p.Swarm
	if strings.Join(sw.MemberNodes, ",") != "node-1,node-2,node-3" {
		t.Errorf("members on %v, want one per node", sw.MemberNodes)
	}
	if p.Processes != 1 || p.LicensedProcesses < 3 {
		t.Errorf("unlicensed: %d tasks (licensed %d)", p.Processes, p.LicensedProcesses)
	}
	if sw.ProxyNode == "" || sw.MonitoringNode == "" || !p.Has(MongoDBPrepare) || !p.Has(MongoDBInit) || p.Has(NATS) {
		t.Errorf("placement %+v, services %+v", sw, p.Services)
	}
	for _, n := range sw.Nodes {
		if n.Pinned+int64(n.AppTasks)*SwarmAppMemory > n.Memory-n.Reserve {
			t.Errorf("node %s over-committed: %+v", n.Name, n)
		}
	}
	t.Logf("%+v", *sw)
}

func TestSwarmFiveNodesLicensed(t *testing.T) {
	p, err := ComputeSwarm(nodes(t, "db-1=4:16GiB:db", "db-2=4:16GiB:db", "db-3=4:16GiB:db", "app-1=8:16GiB:proxy", "app-2=8:16GiB:monitoring"),
		Inputs{MongoDBMembers: 3, Monitoring: true, Proxy: true, Licensed: true})
	if err != nil {
		t.Fatal(err)
	}
	sw := p.Swarm
	if strings.Join(sw.MemberNodes, ",") != "db-1,db-2,db-3" || sw.ProxyNode != "app-1" || sw.MonitoringNode != "app-2" {
		t.Errorf("roles not honoured: %+v", sw)
	}
	if p.Processes < 5 || !p.Has(NATS) || sw.MaxPerNode < 1 || p.Processes > sw.MaxPerNode*len(sw.AppNodes) {
		t.Errorf("licensed: %d tasks, %d per node on %v", p.Processes, sw.MaxPerNode, sw.AppNodes)
	}
	// 16 tasks, 8 on each of the two app nodes: every slot taken, and
	// app-2 (Prometheus, Grafana) has no room for a ninth.
	up := sw.AppUpdate
	if p.Processes != sw.Slots() || up.Order != StopFirst || up.Parallelism != 2 || !strings.Contains(up.Reason, "moby/moby#40797") ||
		!strings.Contains(p.ProcessesReason, "updates roll stop-first, 2 at a time") || !strings.Contains(up.Reason, "14 keep serving while 2 restart") {
		t.Errorf("full app nodes: %d tasks in %d slots, update %+v, reason %q", p.Processes, sw.Slots(), up, p.ProcessesReason)
	}
	t.Logf("tasks %d, per node %d, mongo %s, %+v", p.Processes, sw.MaxPerNode, spec.FormatBytes(p.MongoDBMemory), sw.Nodes)
}

// TestSwarmUpdateOrder: the way a release rolls follows the free slots.
func TestSwarmUpdateOrder(t *testing.T) {
	cases := []struct {
		name      string
		nodes     []string
		in        Inputs
		order     string
		par, max  int
		warn, why string
	}{
		{"free slots", []string{"a=4:8GiB", "b=4:8GiB", "c=4:8GiB"}, Inputs{MongoDBMembers: 3, Proxy: true}, StartFirst, 1, 1, "", "2 of 3 slots are free"},
		{"fewer tasks than slots", []string{"db-1=4:16GiB:db", "db-2=4:16GiB:db", "db-3=4:16GiB:db", "app-1=8:16GiB:proxy", "app-2=8:16GiB:monitoring"},
			Inputs{MongoDBMembers: 3, Monitoring: true, Proxy: true, Licensed: true, Processes: 12}, StartFirst, 1, 8, "", "4 of 16 slots are free"},
		{"given as many as fit", []string{"db-1=4:16GiB:db", "db-2=4:16GiB:db", "db-3=4:16GiB:db", "app-1=8:16GiB:proxy", "app-2=8:16GiB:monitoring"},
			Inputs{MongoDBMembers: 3, Monitoring: true, Proxy: true, Licensed: true, Processes: 16}, StopFirst, 2, 8, "", "16 tasks fill every slot"},
		// One node fits the app: one task, and room for a second one.
		{"a slot of headroom", []string{"a=4:16GiB"}, Inputs{MongoDBMembers: 1, Proxy: true, Monitoring: true}, StartFirst, 1, 2, "", "at most 2 on each of 1 app node, a slot more than 1 task take"},
		// One node, one core left for the app: the task stops first.
		{"no room for two", []string{"a=2:8GiB"}, Inputs{MongoDBMembers: 1, Proxy: true}, StopFirst, 1, 1, "chat is down while the new release starts", "1 task fills every slot"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := ComputeSwarm(nodes(t, c.nodes...), c.in)
			if err != nil {
				t.Fatal(err)
			}
			up := p.Swarm.AppUpdate
			if up.Order != c.order || up.Parallelism != c.par || p.Swarm.MaxPerNode != c.max || !strings.Contains(up.Reason, c.why) {
				t.Errorf("%d tasks on %v, at most %d each: update %+v; want %s, %d at a time, at most %d each, %q",
					p.Processes, p.Swarm.AppNodes, p.Swarm.MaxPerNode, up, c.order, c.par, c.max, c.why)
			}
			if !strings.Contains(p.ProcessesReason, "updates roll "+up.Reason) {
				t.Errorf("the plan's reason %q does not say how updates roll", p.ProcessesReason)
			}
			if got := strings.Join(p.Warnings, "\n"); c.warn != "" && !strings.Contains(got, c.warn) {
				t.Errorf("warnings %q, want %q", got, c.warn)
			}
		})
	}
}

// checkUpdate is what every Swarm plan keeps: a start-first update has a
// free slot for each task it starts, and stop-first is chosen only when no
// app node fits one more task (memory and a core each), a majority serving.
func checkUpdate(t *testing.T, label string, p Plan) {
	t.Helper()
	sw, up := p.Swarm, p.Swarm.AppUpdate
	switch up.Order {
	case StartFirst:
		if p.Processes+up.Parallelism > sw.Slots() {
			t.Errorf("%s: start-first, %d at a time, with %d tasks in %d slots: the new task would stay pending", label, up.Parallelism, p.Processes, sw.Slots())
		}
	case StopFirst:
		roomy := true
		for _, name := range sw.AppNodes {
			n, _ := sw.Node(name)
			cores := int(n.CPUs)
			if slices.Contains(sw.MemberNodes, name) {
				cores--
			}
			if n.Pinned+int64(n.AppTasks+1)*SwarmAppMemory > n.Memory-n.Reserve || n.AppTasks+1 > cores {
				roomy = false
			}
		}
		if roomy || p.Processes != sw.Slots() {
			t.Errorf("%s: stop-first although there is room: %d tasks in %d slots on %+v", label, p.Processes, sw.Slots(), sw.Nodes)
		}
		if up.Parallelism < 1 || p.Processes > 1 && p.Processes-up.Parallelism < (p.Processes+1)/2 {
			t.Errorf("%s: stop-first, %d of %d at a time", label, up.Parallelism, p.Processes)
		}
	default:
		t.Errorf("%s: update order %q", label, up.Order)
	}
}

func TestSwarmRefusesWhatCannotBePlaced(t *testing.T) {
	_, err := ComputeSwarm(nodes(t, "a=4:8GiB", "b=4:8GiB"), Inputs{MongoDBMembers: 3, Proxy: true})
	if err == nil || !strings.Contains(err.Error(), "3 MongoDB members need 3 nodes, one each") || !strings.Contains(err.Error(), "2 nodes are in the inventory") {
		t.Errorf("3 members on 2 nodes: %v", err)
	}
	_, err = ComputeSwarm(nodes(t, "a=4:8GiB:db", "b=4:8GiB", "c=4:8GiB"), Inputs{MongoDBMembers: 3, Proxy: true})
	if err == nil || !strings.Contains(err.Error(), "1 nodes are labelled db") {
		t.Errorf("3 members, one db node: %v", err)
	}
	_, err = ComputeSwarm(nodes(t, "a=1:2GiB"), Inputs{MongoDBMembers: 1, Proxy: true, Monitoring: true})
	if err == nil {
		t.Error("a 1-core 2GiB node carries everything?")
	}
}

// TestSwarmGrid plans many inventories and checks what every Swarm plan
// keeps: no node holds more than it has, members on distinct nodes, the
// tasks fit the bound on the nodes that take them, and refusals name the
// inventory.
func TestSwarmGrid(t *testing.T) {
	sizes := []string{"2:4GiB", "4:8GiB", "8:16GiB", "16:64GiB"}
	plans := 0
	for n := 1; n <= 5; n++ {
		for first := range sizes {
			for _, members := range []int{1, 3} {
				for _, lic := range []bool{false, true} {
					var specs []string
					for i := range n {
						specs = append(specs, fmt.Sprintf("n%d=%s", i+1, sizes[(first+i)%len(sizes)]))
					}
					in := Inputs{MongoDBMembers: members, Monitoring: true, Proxy: true, Licensed: lic, Alerting: lic}
					p, err := ComputeSwarm(nodes(t, specs...), in)
					if err != nil {
						var fe *spec.FieldError
						if !errors.As(err, &fe) || fe.Key != spec.KeyNodes {
							t.Errorf("%v %+v: %v is not about the nodes", specs, in, err)
						}
						continue
					}
					plans++
					sw := p.Swarm
					seen := map[string]bool{}
					for _, m := range sw.MemberNodes {
						if seen[m] {
							t.Errorf("%v: two members on %s", specs, m)
						}
						seen[m] = true
					}
					for _, nd := range sw.Nodes {
						if nd.Pinned+int64(nd.AppTasks)*SwarmAppMemory > nd.Memory-nd.Reserve {
							t.Errorf("%v: %s over-committed: %+v", specs, nd.Name, nd)
						}
					}
					if p.Processes < 1 || p.Processes > sw.MaxPerNode*len(sw.AppNodes) || (!lic && p.Processes != 1) {
						t.Errorf("%v lic=%v: %d tasks, %d per node on %v", specs, lic, p.Processes, sw.MaxPerNode, sw.AppNodes)
					}
					if p.MongoDBMemory < mongoFloor || p.MongoDBMemory > maxMongo {
						t.Errorf("%v: MongoDB %d", specs, p.MongoDBMemory)
					}
					checkUpdate(t, fmt.Sprintf("%v lic=%v", specs, lic), p)
					if lic && sw.Slots() > 1 {
						// As many tasks as fit, given: the nodes are full.
						in.Processes = sw.Slots()
						if full, err := ComputeSwarm(nodes(t, specs...), in); err == nil {
							checkUpdate(t, fmt.Sprintf("%v %d given", specs, in.Processes), full)
						} else {
							t.Errorf("%v: %d tasks, as many as the plan found room for: %v", specs, in.Processes, err)
						}
					}
				}
			}
		}
	}
	if plans < 40 {
		t.Errorf("only %d inventories planned", plans)
	}
}

// BenchmarkComputeSwarm plans the five-node licensed inventory of the
// examples (make bench).
func BenchmarkComputeSwarm(b *testing.B) {
	var ns spec.Nodes
	for _, s := range []string{"db-1=4:16GiB:db", "db-2=4:16GiB:db", "db-3=4:16GiB:db", "app-1=8:16GiB:proxy", "app-2=8:16GiB:monitoring"} {
		if err := ns.Set(s); err != nil {
			b.Fatal(err)
		}
	}
	in := Inputs{MongoDBMembers: 3, Monitoring: true, Proxy: true, Licensed: true}
	for b.Loop() {
		if _, err := ComputeSwarm(ns, in); err != nil {
			b.Fatal(err)
		}
	}
}
