package sizing

import (
	"fmt"
	"math"
	"strings"

	"github.com/rcgen/rcgen/internal/spec"
)

// Inputs are the answers the plan depends on.
type Inputs struct {
	Licensed bool
	// Processes overrides the computed count when above 0.
	Processes int
	// Users is the expected number of concurrent users; 0 means not given.
	Users          int
	MongoDBMembers int
	Monitoring     bool
	// Logs adds Loki and the log collector (with Monitoring); the plan
	// drops them on a host without the memory for them.
	Logs bool
	// logsWeighed: Compute has decided whether Logs fit.
	logsWeighed bool
	// Proxy runs rcgen's own proxy: Caddy, or Traefik when Traefik is set.
	Proxy   bool
	Traefik bool
	// Force accepts a host below the absolute minimum.
	Force bool
	// Alerting adds Alertmanager (alerts by email).
	Alerting bool
	// Backup adds the backup service.
	Backup bool
	// Offsite adds the service that copies the backups off the host
	// (with Backup).
	Offsite bool
	// ClusterMonitoring: the cluster's own Prometheus and Grafana monitor
	// a Kubernetes deployment (ComputeKube places none of them).
	ClusterMonitoring bool
}

// Budget is the memory limit of one service, with its reason.
type Budget struct {
	Service string `json:"service"`
	Memory  int64  `json:"memory_bytes"`
	Reason  string `json:"reason"`
	// OneShot services exit before the app processes start (the apps wait
	// for them), so they never hold memory at the same time and are not
	// counted in the total.
	OneShot bool `json:"one_shot"`
}

// Plan is the sizing of a deployment: every number carries a reason.
type Plan struct {
	Host Host `json:"host"`

	Reserve       int64  `json:"reserve_bytes"`
	ReserveReason string `json:"reserve_reason"`

	Processes       int    `json:"processes"`
	ProcessesReason string `json:"processes_reason"`
	// LicensedProcesses is what this host could run with an Enterprise licence.
	LicensedProcesses int `json:"licensed_processes"`

	AppMemory  int64  `json:"app_memory_bytes"`
	AppHeapMiB int64  `json:"app_heap_mib"`
	AppReason  string `json:"app_reason"`

	MongoDBMembers     int     `json:"mongodb_members"`
	MongoDBMemory      int64   `json:"mongodb_memory_bytes"`
	MongoDBCacheGB     float64 `json:"mongodb_cache_gb"`
	MongoDBCPUs        float64 `json:"mongodb_cpus"`
	MongoDBReason      string  `json:"mongodb_reason"`
	MongoDBCacheReason string  `json:"mongodb_cache_reason"`
	MongoDBCPUReason   string  `json:"mongodb_cpus_reason"`

	// UsersCapacity is how many concurrent users this plan serves well by
	// Rocket.Chat's hardware table: its app processes and its database.
	UsersCapacity       int    `json:"users_capacity"`
	UsersCapacityReason string `json:"users_capacity_reason"`

	// Services holds the fixed budgets (proxy, NATS, monitoring, one-shots).
	// With the app processes and the MongoDB members they are the set of
	// services the deployment runs: templates, files and checks follow it.
	Services []Budget `json:"services"`
	// ScrapeTargets are the services Prometheus scrapes (empty without
	// monitoring); its memory budget counts them.
	ScrapeTargets []string `json:"scrape_targets"`

	// Logs says whether the deployment runs Loki and the log collector,
	// and LogsReason why (or why not).
	Logs       bool   `json:"logs"`
	LogsReason string `json:"logs_reason,omitempty"`

	Warnings []string `json:"warnings"`

	// Swarm is the placement over the nodes (the Swarm target only).
	Swarm *Swarm `json:"swarm,omitempty"`
	// Kube is the placement over the nodes of a Kubernetes deployment
	// (ComputeKube): the same shape as Swarm's.
	Kube *Swarm `json:"kubernetes,omitempty"`
}

// Sizing constants. Floors are what a service needs to run at all; the
// comfortable sizes are what rcgen aims for.
const (
	appFloor     = 768 * spec.MiB // an idle Rocket.Chat process is about 500MB RSS
	appComfort   = 1 * spec.GiB   // one process per GiB, as Rocket.Chat's hardware table implies
	maxAppMemory = 4 * spec.GiB   // one single-threaded Node process gains nothing beyond this
	mongoFloor   = 512 * spec.MiB
	mongoComfort = 1 * spec.GiB
	maxMongo     = 64 * spec.GiB
	mongoShare   = 0.30 // of what is left after the reserve and fixed budgets
	step         = 64 * spec.MiB
	// UsersPerProcess is how many concurrent users one app process carries:
	// Rocket.Chat's hardware table gives 16 cores for 5,000 users.
	UsersPerProcess = 300
	// MicroservicesUsers is where Rocket.Chat advises microservices on Kubernetes.
	MicroservicesUsers = 1000
	// tolerance accepts machines sold as N GB that report a little less
	// (a "4 GB" VM shows about 3.8GiB).
	tolerance = 0.92
	// minHostMemory is the absolute minimum: below it rcgen refuses unless forced.
	minHostMemory = spec.MinHostMemory
)

// tier is a row of Rocket.Chat's published hardware table (system requirements).
type tier struct {
	users              int
	appCPU, mongoCPU   float64
	appMem, mongoMem   int64
	label, recommended string
}

var hardwareTable = []tier{
	{25, 1, 2, 2 * spec.GiB, 2 * spec.GiB, "up to 25 concurrent users", ""},
	{500, 2, 2, 4 * spec.GiB, 4 * spec.GiB, "up to 500 concurrent users", "3 MongoDB members"},
	{5000, 4, 2, 4 * spec.GiB, 4 * spec.GiB, "500 to 5,000 concurrent users", "3 MongoDB members"},
	{math.MaxInt, 16, 4, 12 * spec.GiB, 16 * spec.GiB, "over 5,000 concurrent users", "3 MongoDB members"},
}

func tierFor(users int) tier {
	for _, t := range hardwareTable {
		if users <= t.users {
			return t
		}
	}
	return hardwareTable[len(hardwareTable)-1]
}

// Usable returns the memory left for containers after the OS reserve.
func (p Plan) Usable() int64 { return p.Host.Memory - p.Reserve }

// Total is the sum of the memory limits of every service that runs at the
// same time as the app processes (one-shots exit before they start).
func (p Plan) Total() int64 {
	t := int64(p.Processes)*p.AppMemory + int64(p.MongoDBMembers)*p.MongoDBMemory
	for _, s := range p.Services {
		if !s.OneShot {
			t += s.Memory
		}
	}
	return t
}

// Budget returns the fixed budget of service, or 0.
func (p Plan) Budget(service string) int64 {
	for _, s := range p.Services {
		if s.Service == service {
			return s.Memory
		}
	}
	return 0
}

// Service names: the plan decides which of them exist.
const (
	Caddy           = "caddy"
	Traefik         = "traefik"
	MongoDBPrepare  = "mongodb-prepare"
	MongoDBInit     = "mongodb-init"
	NATS            = "nats"
	Prometheus      = "prometheus"
	Grafana         = "grafana"
	MongoDBExporter = "mongodb-exporter"
	NodeExporter    = "node-exporter"
	NATSExporter    = "nats-exporter"
	Alertmanager    = "alertmanager"
	Backup          = "backup"
	BackupOffsite   = "backup-offsite"
	Loki            = "loki"
	OtelCollector   = "otel-collector"
)

// Logs budgets. Loki runs as one binary (ingester, querier and compactor
// in one process) over a handful of streams (one per container): its
// ingester holds at most chunk_target_size (1.5MiB) per stream in memory
// until it flushes, and queries over a week of a few GiB of logs fit in
// hundreds of MiB. The collector tails files and batches: its
// memory_limiter refuses data at 80% of the limit, well before the kernel
// kills it.
const (
	LokiMemory          = 512 * spec.MiB
	OtelCollectorMemory = 256 * spec.MiB
	// LogsMinHost is the least memory on which the plan turns logs on:
	// Rocket.Chat's published minimum of 4GB. Below it, the 768MiB Loki
	// and the collector take would come out of the app and MongoDB.
	LogsMinHost = 4 * spec.GiB
)

// OffsiteMemory is the offsite copier's budget: rclone copies one archive
// at a time (its --buffer-size is 16MiB; an S3 multipart upload holds
// upload_concurrency 4 parts of chunk_size 5MiB: rclone.org/s3).
const OffsiteMemory = 128 * spec.MiB

// ProxyService is the service of rcgen's own proxy (with Proxy set).
func (in Inputs) ProxyService() string {
	if in.Traefik {
		return Traefik
	}
	return Caddy
}

// BackupMemory is the backup service's budget: mongodump streams one
// collection at a time (--numParallelCollections=1) through gzip, and
// openssl and tar stream too; a document is 16MiB at most.
const BackupMemory = 256 * spec.MiB

// AppName and MemberName name the i-th app process and MongoDB member (from 1).
func AppName(i int) string    { return fmt.Sprintf("rocketchat-%d", i) }
func MemberName(i int) string { return fmt.Sprintf("mongodb-%d", i) }

// ExporterName names the MongoDB exporter of the i-th member: one per
// member, so a dead mongodb-1 does not blind the monitoring of the set.
func ExporterName(i int) string { return fmt.Sprintf("%s-%d", MongoDBExporter, i) }

// Has reports whether the deployment runs service.
func (p Plan) Has(service string) bool {
	for i := 1; i <= p.Processes; i++ {
		if service == AppName(i) {
			return true
		}
	}
	for i := 1; i <= p.MongoDBMembers; i++ {
		if service == MemberName(i) {
			return true
		}
	}
	for _, s := range p.Services {
		if s.Service == service {
			return true
		}
	}
	return false
}

// scrapeTargets lists what Prometheus scrapes for these inputs.
func scrapeTargets(in Inputs, processes int) []string {
	if !in.Monitoring {
		return nil
	}
	var t []string
	for i := 1; i <= processes; i++ {
		t = append(t, AppName(i))
	}
	for i := 1; i <= in.MongoDBMembers; i++ {
		t = append(t, ExporterName(i))
	}
	if processes > 1 {
		t = append(t, NATSExporter)
	}
	t = append(t, NodeExporter)
	if in.Proxy {
		t = append(t, in.ProxyService())
	}
	t = append(t, Grafana)
	if in.Logs {
		// Loki's own metrics (and up), and the log-derived counters
		// (errors, elections, failed migrations) the alert rules read.
		t = append(t, Loki, OtelCollector)
	}
	if in.Alerting {
		t = append(t, Alertmanager)
	}
	return append(t, Prometheus)
}

func fixedBudgets(in Inputs, processes int) []Budget {
	var b []Budget
	add := func(name string, mem int64, oneShot bool, reason string) {
		b = append(b, Budget{name, mem, reason, oneShot})
	}
	switch {
	case in.Proxy && in.Traefik:
		add(Traefik, 128*spec.MiB, false, "TLS and proxying for all app processes; Traefik idles near 50MiB")
	case in.Proxy:
		add(Caddy, 128*spec.MiB, false, "TLS and proxying for all app processes; Caddy idles near 50MiB")
	}
	add(MongoDBPrepare, 512*spec.MiB, true, "one-shot: installs the replica set keyfile and volume owners, and on the first start the root user (a mongod and mongosh of its own), then exits")
	add(MongoDBInit, 256*spec.MiB, true, "one-shot: mongosh initiates the replica set and users, then exits before the app starts")
	if in.Backup {
		add(Backup, BackupMemory, false, "scheduled backups: mongodump streams one collection at a time through gzip")
		if in.Offsite {
			add(BackupOffsite, OffsiteMemory, false, "rclone copies each finished backup off the host, one at a time, and checks it")
		}
	}
	if processes > 1 {
		add(NATS, 128*spec.MiB, false, "event bus between the app processes (TRANSPORTER); NATS idles near 20MiB")
	}
	if in.Monitoring {
		targets := len(scrapeTargets(in, processes))
		prom := prometheusMemory(targets)
		add(Prometheus, prom, false, fmt.Sprintf("256MiB plus 16MiB for each of its %d scrape targets", targets))
		add(Grafana, 256*spec.MiB, false, "dashboards; Grafana idles near 100MiB")
		for i := 1; i <= max(1, in.MongoDBMembers); i++ {
			add(ExporterName(i), 128*spec.MiB, false, fmt.Sprintf("metrics of %s for Prometheus (one exporter per member)", MemberName(i)))
		}
		add(NodeExporter, 64*spec.MiB, false, "host metrics for Prometheus")
		if processes > 1 {
			add(NATSExporter, 64*spec.MiB, false, "NATS metrics for Prometheus")
		}
		if in.Alerting {
			add(Alertmanager, 64*spec.MiB, false, "emails alerts; Alertmanager idles near 20MiB")
		}
		if in.Logs {
			add(Loki, LokiMemory, false, "stores and serves the logs: one binary over one stream per container, filesystem storage")
			add(OtelCollector, OtelCollectorMemory, false, "reads every container's log file and sends it to Loki; its memory_limiter holds it under 80% of this")
		}
	}
	return b
}

// reserveFor is what a machine of mem keeps for the OS (reserveRule).
func reserveFor(mem int64) int64 { return clamp(roundUp(mem/10, step), 256*spec.MiB, 2*spec.GiB) }

const reserveRule = "10% of memory, at least 256MiB, at most 2GiB"

// cacheFor is MongoDB's WiredTiger cache rule applied to a member's limit.
func cacheFor(limit int64) (gb float64, reason string) {
	cache := math.Max(0.25, 0.5*float64(limit-spec.GiB)/float64(spec.GiB))
	return math.Floor(cache*20) / 20, "MongoDB's own rule applied to the container limit, not to host RAM: 50% of (limit - 1GiB), at least 0.25GB"
}

// prometheusMemory is Prometheus's budget for its scrape targets.
func prometheusMemory(targets int) int64 {
	return roundUp(256*spec.MiB+int64(targets)*16*spec.MiB, step)
}

func running(b []Budget) int64 {
	var t int64
	for _, x := range b {
		if !x.OneShot {
			t += x.Memory
		}
	}
	return t
}

func roundUp(v, to int64) int64   { return (v + to - 1) / to * to }
func roundDown(v, to int64) int64 { return v / to * to }
func clamp(v, lo, hi int64) int64 { return max(lo, min(hi, v)) }

// ErrTooSmall is returned when the host cannot run Rocket.Chat at all.
type ErrTooSmall struct {
	Host Host
	Need int64
	// Forcible is true when forcing would accept the host.
	Forcible bool
	Hint     string
}

func (e *ErrTooSmall) Error() string {
	msg := fmt.Sprintf("this host has %s of memory (%s), and Rocket.Chat with MongoDB needs at least %s",
		spec.FormatBytes(e.Host.Memory), e.Host.MemorySource, spec.FormatBytes(e.Need))
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}

// Compute returns the plan for host and inputs. It is a pure function:
// the same host and inputs always give the same plan.
func Compute(h Host, in Inputs) (Plan, error) {
	if in.MongoDBMembers < 1 {
		in.MongoDBMembers = 1
	}
	p := Plan{Host: h, MongoDBMembers: in.MongoDBMembers}
	in.Logs = in.Logs && in.Monitoring
	if in.Logs && !in.logsWeighed {
		// Logs go in when the host has the memory: not below Rocket.Chat's
		// published minimum, and not when their budgets would squeeze the
		// app or MongoDB below the sizes rcgen aims for.
		in.logsWeighed = true
		why := fmt.Sprintf("this host has %s, below Rocket.Chat's published minimum of %s", spec.FormatBytes(h.Memory), spec.FormatBytes(LogsMinHost))
		if float64(h.Memory) >= float64(LogsMinHost)*tolerance {
			p, err := Compute(h, in)
			if err != nil || p.AppMemory >= appComfort && p.MongoDBMemory >= mongoComfort && p.Total() <= p.Usable() {
				return p, err
			}
			why = fmt.Sprintf("with them the limits would add up to %s of the %s usable, the app would get %s and MongoDB %s (rcgen aims for %s and %s)",
				spec.FormatBytes(p.Total()), spec.FormatBytes(p.Usable()), spec.FormatBytes(p.AppMemory), spec.FormatBytes(p.MongoDBMemory), spec.FormatBytes(appComfort), spec.FormatBytes(mongoComfort))
		}
		in.Logs = false
		q, err := Compute(h, in)
		if err != nil {
			return q, err
		}
		q.LogsReason = fmt.Sprintf("off: Loki and its collector (%s) do not fit: %s", spec.FormatBytes(LokiMemory+OtelCollectorMemory), why)
		q.Warnings = append(q.Warnings, "logs are left out: "+strings.TrimPrefix(q.LogsReason, "off: ")+"; give the host more memory for them")
		return q, nil
	}
	if in.Logs {
		p.Logs = true
		p.LogsReason = fmt.Sprintf("Loki %s and the collector %s: every container's log searchable in Grafana, and alerts on what only the logs show",
			spec.FormatBytes(LokiMemory), spec.FormatBytes(OtelCollectorMemory))
	}

	if float64(h.Memory) < float64(minHostMemory)*tolerance && !in.Force {
		return Plan{}, &ErrTooSmall{Host: h, Need: minHostMemory, Forcible: true,
			Hint: "use a host with 2GiB or more (4GiB is Rocket.Chat's published minimum), or give the host's memory if detection is wrong"}
	}
	p.Reserve = reserveFor(h.Memory)
	p.ReserveReason = "left to the OS, Docker and the page cache: " + reserveRule
	usable := h.Memory - p.Reserve
	coreCap := min(spec.MaxProcesses, max(1, int(math.Floor(h.CPUs))-1))
	usersNeed := 0
	if in.Users > 0 {
		usersNeed = (in.Users + UsersPerProcess - 1) / UsersPerProcess
	}
	members := int64(in.MongoDBMembers)
	tooSmall := func(n int) error {
		avail := usable - running(fixedBudgets(in, n))
		need := h.Memory - avail + appFloor + mongoFloor*members
		hint := "use a bigger host, or give the host's memory if detection is wrong"
		if in.Monitoring {
			hint = "use a bigger host, or turn monitoring off, or give the host's memory if detection is wrong"
		}
		return &ErrTooSmall{Host: h, Need: roundUp(need, step), Hint: hint}
	}

	// What a licence would allow: the balance that serves the most users.
	lic, ok := bestBalance(h, in, usable, coreCap, 0)
	if !ok {
		return Plan{}, tooSmall(1)
	}
	p.LicensedProcesses = lic.n

	var b balance
	switch {
	case in.Processes > 0:
		b, ok = balanceFor(h, in, usable, in.Processes, in.Users)
		if !ok || int64(in.Processes)*appFloor > b.appBudget {
			avail := usable - running(fixedBudgets(in, in.Processes)) - members*mongoFloor
			return Plan{}, &spec.FieldError{Key: spec.KeyProcesses, Msg: fmt.Sprintf("%d app processes need at least %s, and this host has %s left for them: give at most %d, or more memory",
				in.Processes, spec.FormatBytes(int64(in.Processes)*appFloor), spec.FormatBytes(max(0, avail)), max(1, avail/appFloor))}
		}
		p.ProcessesReason = "as given"
	case in.Licensed:
		b, _ = bestBalance(h, in, usable, coreCap, in.Users)
		switch {
		case in.Users > 0 && b.capacity >= in.Users:
			p.ProcessesReason = fmt.Sprintf("%d expected concurrent users need %d at about %d users each, with MongoDB sized for them by Rocket.Chat's table (the host could run %d)", in.Users, b.n, UsersPerProcess, lic.n)
		case b.n < coreCap:
			p.ProcessesReason = fmt.Sprintf("the most users this host serves well: MongoDB sized by Rocket.Chat's table for the load of %d processes leaves room for no more (one per core but one would be %d)", b.n, coreCap)
		default:
			p.ProcessesReason = fmt.Sprintf("one per core, leaving one core for MongoDB and the rest (%s cores - 1)", FormatCores(h.CPUs))
		}
	default:
		b, _ = balanceFor(h, in, usable, 1, in.Users)
		if lic.n > 1 {
			p.ProcessesReason = fmt.Sprintf("no Enterprise licence: Rocket.Chat shares real-time events between processes only with one; with a licence this host could run %d (about %d users)", lic.n, lic.capacity)
		} else {
			p.ProcessesReason = "this host has room for one process"
		}
	}
	p.Processes = b.n
	p.Services = fixedBudgets(in, p.Processes)
	p.ScrapeTargets = scrapeTargets(in, p.Processes)
	mongoPer, appBudget := b.mongoPer, b.appBudget
	p.UsersCapacity = b.capacity
	carry := "carry"
	if p.Processes == 1 {
		carry = "carries"
	}
	p.UsersCapacityReason = fmt.Sprintf("the fewer of what %s %s (about %d users each) and what MongoDB serves with %s per member and %s cores by Rocket.Chat's hardware table",
		spec.Plural(p.Processes, "app process", "app processes"), carry, UsersPerProcess, spec.FormatBytes(mongoPer), FormatCores(math.Max(0.5, h.CPUs-float64(p.Processes))))
	if in.Users > 0 {
		if b.capacity >= in.Users {
			p.UsersCapacityReason += fmt.Sprintf("; sized for %d expected users, so about %d of headroom", in.Users, b.capacity-in.Users)
		} else {
			p.UsersCapacityReason += fmt.Sprintf("; %d expected users are more than this host serves well", in.Users)
		}
	}

	p.MongoDBMemory = mongoPer
	p.AppMemory = min(maxAppMemory, roundDown(appBudget/int64(p.Processes), step))
	p.AppHeapMiB = p.AppMemory * 3 / 4 / spec.MiB
	if p.Processes == 1 {
		p.AppReason = fmt.Sprintf("%s is left for the app after MongoDB and the fixed budgets (one Node.js process uses at most %s); heap --max-old-space-size is 75%% of the limit",
			spec.FormatBytes(appBudget), spec.FormatBytes(maxAppMemory))
	} else {
		p.AppReason = fmt.Sprintf("%s is left for the app after MongoDB and the fixed budgets, split %d ways (at most %s each); heap --max-old-space-size is 75%% of the limit",
			spec.FormatBytes(appBudget), p.Processes, spec.FormatBytes(maxAppMemory))
	}

	tableMem := DBMemoryFor(b.capacity)
	p.MongoDBReason = fmt.Sprintf("Rocket.Chat's hardware table gives MongoDB %s per member for the %d users this plan serves; it also gets half of what is left after the app's comfortable size, %s to %s per member",
		spec.FormatBytes(max(tableMem, mongoComfort)), b.capacity, spec.FormatBytes(mongoComfort), spec.FormatBytes(maxMongo))
	if mongoPer < mongoComfort {
		p.MongoDBReason = fmt.Sprintf("squeezed below the %s rcgen prefers so the app keeps %s", spec.FormatBytes(mongoComfort), spec.FormatBytes(appFloor))
	}
	if in.MongoDBMembers > 1 {
		p.MongoDBReason += fmt.Sprintf("; %d members on one host protect against a crashed mongod, not against a dead host, and cost %d times the memory", in.MongoDBMembers, in.MongoDBMembers)
	}
	p.MongoDBCacheGB, p.MongoDBCacheReason = cacheFor(p.MongoDBMemory)
	p.MongoDBCPUs = math.Max(0.5, h.CPUs-float64(p.Processes))
	p.MongoDBCPUReason = fmt.Sprintf("the cores the app processes leave (the table asks %s for %d users); a budget, not a hard limit, which would throttle MongoDB under load",
		FormatCores(math.Ceil(DBCoresFor(b.capacity)*10)/10), b.capacity)

	p.Warnings = warnings(h, in, p, usersNeed)
	if in.MongoDBMembers > 1 {
		one := in
		one.MongoDBMembers = 1
		limit := coreCap
		if !in.Licensed && in.Processes == 0 {
			limit = 1
		}
		if alt, ok := bestBalance(h, one, usable, limit, in.Users); ok && alt.capacity > b.capacity*11/10 {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%d MongoDB members at the size Rocket.Chat's table asks cost %d times the memory: this plan serves about %d concurrent users; with one member it would serve about %d (%s of %s each, MongoDB %s)",
				in.MongoDBMembers, in.MongoDBMembers, b.capacity, alt.capacity, spec.Plural(alt.n, "app process", "app processes"), spec.FormatBytes(min(maxAppMemory, roundDown(alt.appBudget/int64(alt.n), step))), spec.FormatBytes(alt.mongoPer)))
		}
		if mongoPer < DBMemoryFor(25) {
			p.Warnings = append(p.Warnings, fmt.Sprintf("each of the %d MongoDB members gets %s, below the %s Rocket.Chat's table asks even for 25 users: use one member on this host",
				in.MongoDBMembers, spec.FormatBytes(mongoPer), spec.FormatBytes(DBMemoryFor(25))))
		}
	}
	return p, nil
}

func warnings(h Host, in Inputs, p Plan, usersNeed int) []string {
	var w []string
	coreCap := max(1, int(math.Floor(h.CPUs))-1)
	if float64(h.Memory) < float64(minHostMemory)*tolerance {
		w = append(w, fmt.Sprintf("%s is below the %s rcgen needs to run at all; forced, expect out-of-memory kills", spec.FormatBytes(h.Memory), spec.FormatBytes(minHostMemory)))
	}
	t := tierFor(in.Users)
	if needCPU := t.appCPU + t.mongoCPU; h.CPUs < needCPU {
		w = append(w, fmt.Sprintf("fewer cores than Rocket.Chat's published minimum for %s: %s vCPU for the app and %s for MongoDB, %s on one host; this host has %s",
			t.label, FormatCores(t.appCPU), FormatCores(t.mongoCPU), FormatCores(needCPU), FormatCores(h.CPUs)))
	}
	if needMem := t.appMem + t.mongoMem; float64(h.Memory) < float64(needMem)*tolerance {
		w = append(w, fmt.Sprintf("less memory than Rocket.Chat's published minimum for %s: %s for the app and %s for MongoDB, %s on one host; this host has %s",
			t.label, spec.FormatBytes(t.appMem), spec.FormatBytes(t.mongoMem), spec.FormatBytes(needMem), spec.FormatBytes(h.Memory)))
	}
	if in.Users > 0 && t.recommended != "" && in.MongoDBMembers < 3 {
		w = append(w, fmt.Sprintf("for %s Rocket.Chat recommends %s", t.label, t.recommended))
	}
	if in.Processes > coreCap {
		w = append(w, fmt.Sprintf("%d app processes on %s cores: each Node.js process wants a core of its own, so more than %d (cores - 1) compete for CPU", in.Processes, FormatCores(h.CPUs), coreCap))
	}
	if !in.Licensed && p.Processes > 1 {
		w = append(w, "more than one app process without an Enterprise licence: instances will not share real-time events, and users will miss messages until they reload")
	}
	if !in.Licensed && usersNeed > 1 {
		w = append(w, fmt.Sprintf("%d expected concurrent users is more than one process carries well (about %d): with an Enterprise licence this host could run %d", in.Users, UsersPerProcess, p.LicensedProcesses))
	}
	if in.Licensed && usersNeed > p.Processes {
		w = append(w, fmt.Sprintf("%d expected concurrent users need about %d app processes, and this host fits %d: give it more cores or memory", in.Users, usersNeed, p.Processes))
	}
	if in.Users > MicroservicesUsers {
		w = append(w, fmt.Sprintf("above about %d concurrent users Rocket.Chat advises its microservices deployment on Kubernetes (the official Helm chart) rather than one host", MicroservicesUsers))
	}
	return w
}
