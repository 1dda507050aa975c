package sizing

import (
	"slices"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/spec"
)

// Logs run where the host has Rocket.Chat's published minimum, with their
// budgets, scrape targets and reason; below it the plan leaves them out
// and says so; without monitoring there are none.
func TestLogsFollowTheHost(t *testing.T) {
	in := Inputs{MongoDBMembers: 1, Monitoring: true, Proxy: true, Logs: true}
	p, err := Compute(Host{}.Override(4, 8*spec.GiB), in)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Logs || !p.Has(Loki) || !p.Has(OtelCollector) || !strings.Contains(p.LogsReason, "Loki 512MiB") {
		t.Errorf("8GiB: logs %v (%s), services %v", p.Logs, p.LogsReason, p.Services)
	}
	if !slices.Contains(p.ScrapeTargets, OtelCollector) || !slices.Contains(p.ScrapeTargets, Loki) {
		t.Errorf("8GiB: Prometheus scrapes %v, not the collector's counts and Loki", p.ScrapeTargets)
	}
	without := in
	without.Logs = false
	q, err := Compute(Host{}.Override(4, 8*spec.GiB), without)
	if err != nil {
		t.Fatal(err)
	}
	// Loki and the collector are counted (and Prometheus's two more
	// targets, which may fit its 64MiB step).
	if d := running(p.Services) - running(q.Services); d < LokiMemory+OtelCollectorMemory || d > LokiMemory+OtelCollectorMemory+64*spec.MiB {
		t.Errorf("logs add %s to the fixed budgets, want %s (and Prometheus's step)", spec.FormatBytes(d), spec.FormatBytes(LokiMemory+OtelCollectorMemory))
	}

	small, err := Compute(Host{}.Override(2, 3*spec.GiB), in)
	if err != nil {
		t.Fatal(err)
	}
	if small.Logs || small.Has(Loki) || small.Has(OtelCollector) || !strings.HasPrefix(small.LogsReason, "off:") {
		t.Errorf("3GiB: logs %v (%s)", small.Logs, small.LogsReason)
	}
	if !slices.ContainsFunc(small.Warnings, func(w string) bool { return strings.HasPrefix(w, "logs are left out") }) {
		t.Errorf("3GiB: no warning that logs are left out: %v", small.Warnings)
	}

	in.Monitoring = false
	none, err := Compute(Host{}.Override(4, 8*spec.GiB), in)
	if err != nil {
		t.Fatal(err)
	}
	if none.Logs || none.Has(Loki) || none.LogsReason != "" {
		t.Errorf("no monitoring: logs %v (%q)", none.Logs, none.LogsReason)
	}
}

// On Swarm the collector runs on every node (each reads its own node's
// log files) and Loki on the monitoring node, with Prometheus scraping
// every collector.
func TestSwarmLogsPlacement(t *testing.T) {
	p, err := ComputeSwarm(nodes(t, "node-1=4:8GiB", "node-2=4:8GiB", "node-3=4:8GiB"),
		Inputs{MongoDBMembers: 3, Monitoring: true, Proxy: true, Logs: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range p.Swarm.Nodes {
		if !slices.Contains(n.Services, OtelCollector) {
			t.Errorf("node %s runs no collector: %v", n.Name, n.Services)
		}
	}
	if p.Swarm.NodeOf(Loki) != p.Swarm.MonitoringNode {
		t.Errorf("Loki on %q, the monitoring on %q", p.Swarm.NodeOf(Loki), p.Swarm.MonitoringNode)
	}
	n := 0
	for _, x := range p.ScrapeTargets {
		if x == OtelCollector {
			n++
		}
	}
	if n != 3 || !p.Logs {
		t.Errorf("Prometheus scrapes %d collectors, want 3 (logs %v)", n, p.Logs)
	}
}
