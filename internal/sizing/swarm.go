package sizing

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/rcgen/rcgen/internal/spec"
)

// SwarmNode is what one Swarm node carries in the plan.
type SwarmNode struct {
	Name    string  `json:"name"`
	CPUs    float64 `json:"cpus"`
	Memory  int64   `json:"memory_bytes"`
	Reserve int64   `json:"reserve_bytes"`
	// Services are the services pinned to the node (a MongoDB member and
	// its exporter, the proxy, monitoring), with node exporter on every node.
	Services []string `json:"services"`
	Pinned   int64    `json:"pinned_bytes"`
	// AppTasks is how many app tasks the node can carry (0: none run there).
	AppTasks int    `json:"app_tasks"`
	Reason   string `json:"reason"`
}

// Swarm is the part of a plan only the Swarm target has.
type Swarm struct {
	Nodes []SwarmNode `json:"nodes"`
	// MemberNodes[i] is the node of member i+1.
	MemberNodes []string `json:"member_nodes"`
	ProxyNode   string   `json:"proxy_node"`
	// MonitoringNode holds Prometheus, Grafana and Alertmanager ("" without monitoring).
	MonitoringNode string `json:"monitoring_node"`
	// BackupNode holds the backup service and its archives, a volume
	// there ("" without backups).
	BackupNode string `json:"backup_node,omitempty"`
	// AppNodes are the nodes app tasks may run on (labelled rcgen.app).
	AppNodes []string `json:"app_nodes"`
	// MaxPerNode bounds the app tasks one node runs (the smallest fit).
	MaxPerNode int `json:"max_replicas_per_node"`
	// AppUpdate is how a new release rolls over the app tasks (and back).
	AppUpdate SwarmUpdate `json:"app_update"`
}

// SwarmUpdate is a service's update_config and rollback_config.
type SwarmUpdate struct {
	// Order is "start-first" (the new task runs before the old one stops)
	// or "stop-first".
	Order       string `json:"order"`
	Parallelism int    `json:"parallelism"`
	Reason      string `json:"reason"`
}

// Update orders (docker service update --update-order).
const (
	StartFirst = "start-first"
	StopFirst  = "stop-first"
)

// Slots is how many app tasks the app nodes may run at once:
// max_replicas_per_node on each node labelled for the app.
func (s *Swarm) Slots() int { return s.MaxPerNode * len(s.AppNodes) }

// NodeOf returns the node a pinned service runs on, or "".
func (s *Swarm) NodeOf(service string) string {
	for _, n := range s.Nodes {
		if slices.Contains(n.Services, service) {
			return n.Name
		}
	}
	return ""
}

// Node returns the plan of the node name.
func (s *Swarm) Node(name string) (SwarmNode, bool) {
	for _, n := range s.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return SwarmNode{}, false
}

// SwarmAppMemory is every app task's limit: a Swarm service has one limit
// for all its tasks, on nodes of any size. 1.5GiB is an idle process (about
// 500MB) with room for load, and what the single-host plans give a
// process on 8 to 16GiB hosts.
const SwarmAppMemory = 1536 * spec.MiB

// ComputeSwarm sizes a Swarm stack over the inventory: which node gets
// which MongoDB member (each its own node), the proxy and the monitoring,
// how many app tasks each node can carry, and the limits per task.
func ComputeSwarm(nodes spec.Nodes, in Inputs) (Plan, error) {
	if in.MongoDBMembers < 1 {
		in.MongoDBMembers = 1
	}
	sw := &Swarm{}
	in.Logs = in.Logs && in.Monitoring
	var total Host
	for _, n := range nodes {
		sw.Nodes = append(sw.Nodes, SwarmNode{Name: n.Name, CPUs: n.CPUs, Memory: n.Memory, Reserve: reserveFor(n.Memory)})
		total.CPUs += n.CPUs
		total.Memory += n.Memory
	}
	total.CPUSource, total.MemorySource = Given, Given
	free := func(i int) int64 { return sw.Nodes[i].Memory - sw.Nodes[i].Reserve - sw.Nodes[i].Pinned }
	// The fixed budgets are the single host's (with NATS, which several
	// tasks need); Prometheus's and the members' are sized below.
	budgets := fixedBudgets(in, 2)
	budget := func(service string) int64 {
		for _, b := range budgets {
			if b.Service == service {
				return b.Memory
			}
		}
		return 0
	}
	place := func(i int, service string, mem int64) {
		sw.Nodes[i].Services = append(sw.Nodes[i].Services, service)
		sw.Nodes[i].Pinned += mem
	}
	roleNodes := func(role string) []int {
		var idx []int
		for i, n := range nodes {
			if n.Has(role) {
				idx = append(idx, i)
			}
		}
		return idx
	}
	// Most free memory first, then by name: deterministic.
	byFree := func(idx []int) []int {
		s := slices.Clone(idx)
		slices.SortStableFunc(s, func(a, b int) int {
			if c := cmp.Compare(free(b), free(a)); c != 0 {
				return c
			}
			return strings.Compare(sw.Nodes[a].Name, sw.Nodes[b].Name)
		})
		return s
	}
	all := make([]int, len(nodes))
	for i := range all {
		all[i] = i
	}
	if in.Monitoring {
		for i := range all {
			place(i, NodeExporter, budget(NodeExporter))
			if in.Logs {
				// Global like the node exporter: each node's containers
				// write their logs to that node's disk.
				place(i, OtelCollector, budget(OtelCollector))
			}
		}
	}

	// MongoDB members: each on its own node, db-labelled ones if any.
	cand, why := roleNodes(spec.RoleDB), "labelled db"
	if len(cand) == 0 {
		cand, why = all, "in the inventory"
	}
	if len(cand) < in.MongoDBMembers {
		return Plan{}, &spec.FieldError{Key: spec.KeyNodes, Msg: fmt.Sprintf(
			"%d MongoDB members need %d nodes, one each (a member's data is a volume on its node), and %d nodes are %s: add nodes, label more db, or use one member",
			in.MongoDBMembers, in.MongoDBMembers, len(cand), why)}
	}
	memberIdx := byFree(cand)[:in.MongoDBMembers]
	slices.Sort(memberIdx) // members follow the inventory's order
	for m, i := range memberIdx {
		sw.MemberNodes = append(sw.MemberNodes, sw.Nodes[i].Name)
		if in.Monitoring {
			place(i, ExporterName(m+1), budget(ExporterName(m+1)))
		}
	}
	isMember := func(i int) bool { return slices.Contains(memberIdx, i) }
	pick := func(role string, avoid func(int) bool) int {
		if r := roleNodes(role); len(r) > 0 {
			return r[0]
		}
		var rest []int
		for _, i := range all {
			if !avoid(i) {
				rest = append(rest, i)
			}
		}
		if len(rest) == 0 {
			rest = all
		}
		return byFree(rest)[0]
	}
	// The proxy node holds the proxy when rcgen runs one, and NATS: with
	// the operator's own Traefik (traefik-labels) only NATS.
	proxy := pick(spec.RoleProxy, isMember)
	sw.ProxyNode = sw.Nodes[proxy].Name
	if in.Proxy {
		place(proxy, in.ProxyService(), budget(in.ProxyService()))
	}
	mon := -1
	if in.Monitoring {
		mon = pick(spec.RoleMonitoring, func(i int) bool { return isMember(i) || i == proxy })
		sw.MonitoringNode = sw.Nodes[mon].Name
		place(mon, Grafana, budget(Grafana))
		if in.Logs {
			place(mon, Loki, budget(Loki))
		}
		if in.Alerting {
			place(mon, Alertmanager, budget(Alertmanager))
		}
	}
	// The backup service: on the node labelled backup, else beside the
	// monitoring (kept off the members' and the proxy's nodes when the
	// inventory allows), so a member's dead disk does not take the
	// archives with it. It reaches every member over the overlay network.
	if in.Backup {
		b := mon
		if r := roleNodes(spec.RoleBackup); len(r) > 0 || b < 0 {
			b = pick(spec.RoleBackup, func(i int) bool { return isMember(i) || i == proxy })
		}
		sw.BackupNode = sw.Nodes[b].Name
		place(b, Backup, budget(Backup))
		if in.Offsite {
			// The offsite copier reads the same volume: the same node.
			place(b, BackupOffsite, budget(BackupOffsite))
		}
	}

	// MongoDB: the same limit on every member (one size for the set), half
	// of what the tightest member node has left, 1GiB to 64GiB.
	minFree := int64(math.MaxInt64)
	for _, i := range memberIdx {
		minFree = min(minFree, free(i))
	}
	// NATS and Prometheus are placed below; keep their room on their nodes.
	mongoPer := clamp(roundDown(minFree/2, step), mongoComfort, maxMongo)
	if minFree-mongoPer < 0 {
		mongoPer = roundDown(minFree, step)
	}
	if mongoPer < mongoFloor {
		return Plan{}, &spec.FieldError{Key: spec.KeyNodes, Msg: fmt.Sprintf("the MongoDB member nodes have %s left after the reserve and their other services, below the %s a member needs: give them more memory", spec.FormatBytes(max(0, minFree)), spec.FormatBytes(mongoFloor))}
	}
	for _, i := range memberIdx {
		place(i, MemberName(slices.Index(memberIdx, i)+1), mongoPer)
	}

	// App tasks: as many as each node fits (memory and a core each, a core
	// left to a member), the same bound on every node, spread by Swarm.
	fit := func(i int, reserveNATS bool) int {
		f := free(i)
		if reserveNATS && i == proxy {
			f -= budget(NATS) + budget(NATSExporter)
		}
		if i == mon {
			f -= prometheusMemory(16) // Prometheus, sized below for its targets
		}
		cores := int(math.Floor(sw.Nodes[i].CPUs))
		if isMember(i) {
			cores--
		}
		return max(0, min(int(f/SwarmAppMemory), cores))
	}
	// One bound for every node (max_replicas_per_node): the bound k and the
	// nodes that fit k or more that carry the most tasks, more nodes on a tie
	// (a dead node takes fewer tasks with it).
	eligible := func(reserveNATS bool) (idx []int, perNode int) {
		best := 0
		for _, k := range all {
			bound := fit(k, reserveNATS)
			if bound == 0 {
				continue
			}
			var with []int
			for _, i := range all {
				if fit(i, reserveNATS) >= bound {
					with = append(with, i)
				}
			}
			if t := bound * len(with); t > best || t == best && len(with) > len(idx) {
				best, idx, perNode = t, with, bound
			}
		}
		return idx, perNode
	}
	appIdx, perNode := eligible(in.Licensed || in.Processes > 1)
	if len(appIdx) == 0 {
		return Plan{}, &spec.FieldError{Key: spec.KeyNodes, Msg: fmt.Sprintf("no node has %s and a core left for an app task after MongoDB and the other services: give the nodes more memory or cores, or add a node", spec.FormatBytes(SwarmAppMemory))}
	}
	licensedMax := min(spec.MaxProcesses, perNode*len(appIdx))
	p := Plan{Host: total, MongoDBMembers: in.MongoDBMembers, LicensedProcesses: licensedMax}
	switch {
	case in.Processes > 0:
		if in.Processes > licensedMax {
			return Plan{}, &spec.FieldError{Key: spec.KeyProcesses, Msg: fmt.Sprintf("%d app tasks do not fit: the nodes carry %d (%d on each of %d nodes): give at most %d, or more nodes", in.Processes, licensedMax, perNode, len(appIdx), licensedMax)}
		}
		p.Processes, p.ProcessesReason = in.Processes, "as given"
	case in.Licensed:
		p.Processes = licensedMax
		p.ProcessesReason = fmt.Sprintf("%d on each of %s (%s and a core each, a core left to a MongoDB member; one bound for every node, chosen to carry the most)", perNode, spec.Plural(len(appIdx), "node", "nodes"), spec.FormatBytes(SwarmAppMemory))
	default:
		p.Processes = 1
		p.ProcessesReason = fmt.Sprintf("no Enterprise licence: Rocket.Chat shares real-time events between processes only with one; with a licence these nodes could run %d", licensedMax)
	}
	if p.Processes == 1 {
		// One task: any node that fits one may take it over.
		appIdx, perNode = nil, 1
		for _, i := range all {
			if fit(i, false) > 0 {
				appIdx = append(appIdx, i)
			}
		}
	}
	// Updates: a start-first task needs a free slot while the old one still
	// runs (max_replicas_per_node counts both); without one it stays
	// pending, and Swarm neither finishes nor rolls back the update
	// (moby/moby#40797: by design, "use stop-first or have more nodes").
	nodesFit := func(k int) bool {
		for _, i := range appIdx {
			if fit(i, p.Processes > 1) < k {
				return false
			}
		}
		return true
	}
	switch free := perNode*len(appIdx) - p.Processes; {
	case free > 0:
		sw.AppUpdate = SwarmUpdate{Order: StartFirst, Parallelism: 1, Reason: fmt.Sprintf(
			"start-first, one task at a time: %d of %d slots are free (at most %d on each of %s), so the new task runs before the old one stops",
			free, perNode*len(appIdx), perNode, spec.Plural(len(appIdx), "app node", "app nodes"))}
	case nodesFit(perNode + 1):
		// Room for one more on every app node: the bound keeps a free slot.
		perNode++
		sw.AppUpdate = SwarmUpdate{Order: StartFirst, Parallelism: 1, Reason: fmt.Sprintf(
			"start-first, one task at a time: at most %d on each of %s, a slot more than %s take, so the new task has a slot before the old one stops",
			perNode, spec.Plural(len(appIdx), "app node", "app nodes"), spec.Plural(p.Processes, "task", "tasks"))}
	default:
		// The old tasks stop first, a few at a time, most keep serving.
		par := max(1, min(len(appIdx), (p.Processes-1)/2))
		sw.AppUpdate = SwarmUpdate{Order: StopFirst, Parallelism: par, Reason: fmt.Sprintf(
			"stop-first, %d at a time: %s every slot (%d on each of %s) and no node fits one more, so a task started before the old one stops would stay pending and the update would never end nor roll back (moby/moby#40797)",
			par, spec.Plural(p.Processes, "task fills", "tasks fill"), perNode, spec.Plural(len(appIdx), "app node", "app nodes"))}
		if p.Processes > par {
			sw.AppUpdate.Reason += fmt.Sprintf("; %d keep serving while %d restart", p.Processes-par, par)
		} else {
			p.Warnings = append(p.Warnings, fmt.Sprintf("an update stops the one app task before its successor starts (only %s fits it): chat is down while the new release starts; a second node that fits an app task avoids it", sw.Nodes[appIdx[0]].Name))
		}
	}
	p.ProcessesReason += "; updates roll " + sw.AppUpdate.Reason
	for _, i := range appIdx {
		sw.AppNodes = append(sw.AppNodes, sw.Nodes[i].Name)
		sw.Nodes[i].AppTasks = perNode
	}
	sw.MaxPerNode = perNode
	if p.Processes > 1 {
		place(proxy, NATS, budget(NATS))
		if in.Monitoring {
			place(proxy, NATSExporter, budget(NATSExporter))
		}
	}
	p.ScrapeTargets = swarmScrapeTargets(in, p.Processes, len(nodes))
	if in.Monitoring {
		place(mon, Prometheus, prometheusMemory(len(p.ScrapeTargets)))
	}
	// Members whose nodes keep memory free (no app tasks there, say) grow
	// into it, the same for every member: MongoDB's cache is what serves.
	slack := int64(math.MaxInt64)
	for _, i := range memberIdx {
		slack = min(slack, free(i)-int64(sw.Nodes[i].AppTasks)*SwarmAppMemory)
	}
	if grow := roundDown(min(slack*9/10, maxMongo-mongoPer), step); grow > 0 {
		mongoPer += grow
		for _, i := range memberIdx {
			sw.Nodes[i].Pinned += grow
		}
	}
	for i := range sw.Nodes {
		n := &sw.Nodes[i]
		apps := int64(n.AppTasks) * SwarmAppMemory
		n.Reason = fmt.Sprintf("%s of %s pinned, room for %s of %s", spec.FormatBytes(n.Pinned), spec.FormatBytes(n.Memory-n.Reserve),
			spec.Plural(n.AppTasks, "app task", "app tasks"), spec.FormatBytes(SwarmAppMemory))
		if over := n.Pinned + apps - (n.Memory - n.Reserve); over > 0 {
			fix := "give it more memory, or move a role to another node"
			if slices.Contains(n.Services, Loki) {
				fix += ", or turn {logs} off (no Loki or log collector)"
			}
			return Plan{}, &spec.FieldError{Key: spec.KeyNodes, Msg: fmt.Sprintf("node %s would need %s more than it has for %s: %s", n.Name, spec.FormatBytes(over), strings.Join(n.Services, ", "), fix)}
		}
	}

	p.Reserve = 0
	for _, n := range sw.Nodes {
		p.Reserve += n.Reserve
	}
	p.ReserveReason = "on every node, left to the OS, Docker and the page cache: " + reserveRule
	p.AppMemory = SwarmAppMemory
	p.AppHeapMiB = p.AppMemory * 3 / 4 / spec.MiB
	p.AppReason = fmt.Sprintf("%s per task on every node (a Swarm service has one limit for all its tasks); heap --max-old-space-size is 75%% of it", spec.FormatBytes(SwarmAppMemory))
	p.MongoDBMemory = mongoPer
	p.MongoDBReason = fmt.Sprintf("what the tightest member node has left after its app tasks and other services (at least half of it before them), %s to %s, the same for every member", spec.FormatBytes(mongoComfort), spec.FormatBytes(maxMongo))
	if in.MongoDBMembers > 1 {
		p.MongoDBReason += fmt.Sprintf("; %d members on %d nodes: the set keeps a primary when one node dies", in.MongoDBMembers, in.MongoDBMembers)
	}
	p.MongoDBCacheGB, p.MongoDBCacheReason = cacheFor(p.MongoDBMemory)
	memberCores := math.MaxFloat64
	for _, i := range memberIdx {
		memberCores = math.Min(memberCores, sw.Nodes[i].CPUs-float64(sw.Nodes[i].AppTasks))
	}
	p.MongoDBCPUs = math.Max(0.5, memberCores)
	p.MongoDBCPUReason = "the cores a member's node keeps after its app tasks; a budget, not a hard limit"
	p.UsersCapacity = min(p.Processes*UsersPerProcess, DBCapacity(mongoPer, p.MongoDBCPUs))
	carry := "carry"
	if p.Processes == 1 {
		carry = "carries"
	}
	p.UsersCapacityReason = fmt.Sprintf("the fewer of what %s %s (about %d users each) and what MongoDB serves with %s per member and %s cores by Rocket.Chat's hardware table",
		spec.Plural(p.Processes, "app task", "app tasks"), carry, UsersPerProcess, spec.FormatBytes(mongoPer), FormatCores(p.MongoDBCPUs))
	p.Services = swarmBudgets(in, p.Processes, len(p.ScrapeTargets))
	p.Swarm = sw
	if in.Logs {
		p.Logs = true
		p.LogsReason = fmt.Sprintf("Loki %s on %s and a collector %s on every node (global): every container's log searchable in Grafana, and alerts on what only the logs show",
			spec.FormatBytes(LokiMemory), sw.MonitoringNode, spec.FormatBytes(OtelCollectorMemory))
	}
	if in.MongoDBMembers == 1 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("one MongoDB member: when %s is down, chat is down; three members on three nodes keep a primary when one node dies", sw.MemberNodes[0]))
	}
	if !in.Licensed && in.Processes == 0 && licensedMax > 1 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("one app task: the app runs on one node at a time (Swarm restarts it elsewhere when its node dies); with an Enterprise licence these nodes could run %d", licensedMax))
	}
	return p, nil
}

// swarmScrapeTargets lists what Prometheus scrapes on Swarm: the single
// host's targets, with a node exporter on every node (app tasks and node
// exporters are found by DNS, one target each).
func swarmScrapeTargets(in Inputs, processes, nodes int) []string {
	var t []string
	for _, x := range scrapeTargets(in, processes) {
		t = append(t, x)
		if x == NodeExporter || x == OtelCollector {
			for range nodes - 1 {
				t = append(t, x)
			}
		}
	}
	return t
}

// swarmBudgets are the fixed budgets of a Swarm stack: the single host's,
// with a prepare job per member that only hands its volume over (a Swarm
// secret is the keyfile, and mongodb-1 creates the root user itself).
func swarmBudgets(in Inputs, processes, targets int) []Budget {
	var b []Budget
	for _, x := range fixedBudgets(in, processes) {
		switch x.Service {
		case MongoDBPrepare:
			x.Memory = 64 * spec.MiB
			x.Reason = "job on each member's node, as root: hands a fresh data volume to mongod's user, then exits (again on every docker stack deploy)"
		case MongoDBInit:
			x.Reason = "job: mongosh initiates the replica set and users, then exits"
		case Prometheus:
			x.Memory = prometheusMemory(targets)
			x.Reason = fmt.Sprintf("256MiB plus 16MiB for each of its %d scrape targets", targets)
		case NodeExporter:
			x.Reason = "host metrics for Prometheus, on every node (global)"
		case OtelCollector:
			x.Reason = "reads the log files of its node's containers and sends them to Loki, on every node (global); its memory_limiter holds it under 80% of this"
		}
		b = append(b, x)
	}
	return b
}
