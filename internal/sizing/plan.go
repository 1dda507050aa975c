package sizing

import (
	"fmt"
	"math"

	"github.com/rcgen/rcgen/internal/spec"
)

// Inputs are the answers the plan depends on.
type Inputs struct {
	Licensed bool
	// Processes overrides the computed count when above 0.
	Processes      int
	MongoDBMembers int
	Monitoring     bool
	Proxy          bool
}

// Budget is the memory limit of one service, with its reason.
type Budget struct {
	Service string `json:"service"`
	Memory  int64  `json:"memory_bytes"`
	Reason  string `json:"reason"`
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
	MongoDBReason      string  `json:"mongodb_reason"`
	MongoDBCacheReason string  `json:"mongodb_cache_reason"`

	// Services holds the fixed budgets (proxy, NATS, monitoring, one-shots).
	Services []Budget `json:"services"`

	Warnings []string `json:"warnings"`
}

// Sizing constants, each the smallest sane value or a budget measured from
// the upstream images' documented footprints.
const (
	minAppMemory   = 1 * spec.GiB // one process per GiB, as Rocket.Chat's hardware table implies
	maxAppMemory   = 4 * spec.GiB // one single-threaded Node process gains nothing beyond this
	minMongoMemory = 1 * spec.GiB
	maxMongoMemory = 64 * spec.GiB
	mongoShare     = 0.30 // of what is left after reserve and fixed budgets
	step           = 64 * spec.MiB
)

// Usable returns the memory left for containers after the OS reserve.
func (p Plan) Usable() int64 { return p.Host.Memory - p.Reserve }

// Total is the sum of every memory limit in the plan.
func (p Plan) Total() int64 {
	t := int64(p.Processes)*p.AppMemory + int64(p.MongoDBMembers)*p.MongoDBMemory
	for _, s := range p.Services {
		t += s.Memory
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

func fixedBudgets(in Inputs, processes int) []Budget {
	var b []Budget
	add := func(name string, mem int64, reason string) {
		b = append(b, Budget{name, mem, reason})
	}
	if in.Proxy {
		add("caddy", 128*spec.MiB, "TLS and proxying for all app processes; Caddy idles near 50MiB")
	}
	add("mongodb-prepare", 32*spec.MiB, "one-shot: installs the replica set keyfile and volume owners, then exits")
	add("mongodb-init", 256*spec.MiB, "one-shot: mongosh initiates the replica set and users, then exits")
	if processes > 1 {
		add("nats", 256*spec.MiB, "event bus between the app processes (TRANSPORTER)")
	}
	if in.Monitoring {
		targets := processes + 5
		prom := roundUp(256*spec.MiB+int64(targets)*16*spec.MiB, step)
		add("prometheus", prom, fmt.Sprintf("256MiB plus 16MiB for each of its %d scrape targets", targets))
		add("grafana", 256*spec.MiB, "dashboards; Grafana idles near 100MiB")
		add("mongodb-exporter", 128*spec.MiB, "MongoDB metrics for Prometheus")
		add("node-exporter", 64*spec.MiB, "host metrics for Prometheus")
		if processes > 1 {
			add("nats-exporter", 64*spec.MiB, "NATS metrics for Prometheus")
		}
	}
	return b
}

func sum(b []Budget) int64 {
	var t int64
	for _, x := range b {
		t += x.Memory
	}
	return t
}

func roundUp(v, to int64) int64   { return (v + to - 1) / to * to }
func roundDown(v, to int64) int64 { return v / to * to }

// ErrTooSmall is returned when the host cannot run Rocket.Chat at all.
type ErrTooSmall struct{ Need, Have int64 }

func (e *ErrTooSmall) Error() string {
	return fmt.Sprintf("this host has %s of memory, and the smallest deployment rcgen can make needs about %s: use a bigger host, or --no-monitoring, or give --memory if detection is wrong",
		spec.FormatBytes(e.Have), spec.FormatBytes(e.Need))
}

// Compute returns the plan for host and inputs. It is a pure function.
func Compute(h Host, in Inputs) (Plan, error) {
	if in.MongoDBMembers < 1 {
		in.MongoDBMembers = 1
	}
	p := Plan{Host: h, MongoDBMembers: in.MongoDBMembers}
	p.Reserve = clamp(roundUp(h.Memory/10, step), 512*spec.MiB, 2*spec.GiB)
	p.ReserveReason = "left to the OS, Docker and the page cache: 10% of memory, at least 512MiB, at most 2GiB"
	usable := h.Memory - p.Reserve

	coreCap := int(math.Max(1, math.Floor(h.CPUs)-1))

	// Two passes: the fixed budgets depend on whether NATS is needed.
	multi := in.Processes > 1 || in.Processes == 0 && in.Licensed && coreCap > 1
	guess := 1
	if multi {
		guess = coreCap
		if in.Processes > 1 {
			guess = in.Processes
		}
	}
	fixed := fixedBudgets(in, max(guess, 2*boolInt(multi)))
	avail := usable - sum(fixed)

	mongoTotal := clamp(roundDown(int64(float64(avail)*mongoShare), step*int64(in.MongoDBMembers)),
		minMongoMemory*int64(in.MongoDBMembers), maxMongoMemory*int64(in.MongoDBMembers))
	appBudget := avail - mongoTotal
	need := minAppMemory + minMongoMemory*int64(in.MongoDBMembers) + sum(fixedBudgets(in, 1)) + p.Reserve
	if appBudget < minAppMemory {
		return Plan{}, &ErrTooSmall{Need: need, Have: h.Memory}
	}
	memFit := int(appBudget / minAppMemory)
	p.LicensedProcesses = max(1, min(coreCap, memFit))

	switch {
	case in.Processes > 0:
		p.Processes = in.Processes
		p.ProcessesReason = "set by --processes"
		if in.Processes > memFit {
			return Plan{}, fmt.Errorf("--processes: %d app processes need at least %s, and this host has %s left for them: give at most %d, or a bigger --memory",
				in.Processes, spec.FormatBytes(int64(in.Processes)*minAppMemory), spec.FormatBytes(appBudget), memFit)
		}
		if in.Processes > coreCap {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%d app processes on %s cores: each Node.js process wants a core of its own, so more than %d (cores - 1) compete for CPU", in.Processes, fmtCores(h.CPUs), coreCap))
		}
		if !in.Licensed && in.Processes > 1 {
			p.Warnings = append(p.Warnings, "more than one app process without an Enterprise licence: instances will not share real-time events, and users will miss messages until they reload")
		}
	case in.Licensed:
		p.Processes = p.LicensedProcesses
		if coreCap <= memFit {
			p.ProcessesReason = fmt.Sprintf("one per core, leaving one core for MongoDB and the rest (%s cores - 1)", fmtCores(h.CPUs))
		} else {
			p.ProcessesReason = fmt.Sprintf("memory fits %d processes of at least %s each", memFit, spec.FormatBytes(minAppMemory))
		}
	default:
		p.Processes = 1
		if p.LicensedProcesses > 1 {
			p.ProcessesReason = fmt.Sprintf("no Enterprise licence: Rocket.Chat shares real-time events between processes only with one; with a licence this host could run %d", p.LicensedProcesses)
		} else {
			p.ProcessesReason = "this host has room for one process"
		}
	}

	// Recompute the fixed budgets for the final count.
	p.Services = fixedBudgets(in, p.Processes)
	avail = usable - sum(p.Services)
	mongoTotal = clamp(roundDown(int64(float64(avail)*mongoShare), step*int64(in.MongoDBMembers)),
		minMongoMemory*int64(in.MongoDBMembers), maxMongoMemory*int64(in.MongoDBMembers))
	p.MongoDBMemory = mongoTotal / int64(in.MongoDBMembers)
	appBudget = avail - mongoTotal
	p.AppMemory = min(maxAppMemory, roundDown(appBudget/int64(p.Processes), step))
	if p.AppMemory < minAppMemory {
		return Plan{}, &ErrTooSmall{Need: need, Have: h.Memory}
	}
	p.AppHeapMiB = p.AppMemory * 3 / 4 / spec.MiB
	if p.Processes == 1 {
		p.AppReason = fmt.Sprintf("%s is left for the app after MongoDB and the fixed budgets (one Node.js process uses at most %s); heap --max-old-space-size is 75%% of the limit",
			spec.FormatBytes(appBudget), spec.FormatBytes(maxAppMemory))
	} else {
		p.AppReason = fmt.Sprintf("%s is left for the app after MongoDB and the fixed budgets, split %d ways (at most %s each); heap --max-old-space-size is 75%% of the limit",
			spec.FormatBytes(appBudget), p.Processes, spec.FormatBytes(maxAppMemory))
	}

	p.MongoDBReason = fmt.Sprintf("30%% of what is left after the fixed budgets, at least %s per member", spec.FormatBytes(minMongoMemory))
	if in.MongoDBMembers > 1 {
		p.MongoDBReason += fmt.Sprintf(", split over %d members; all members share this host, so this protects against a crashed mongod, not a dead host", in.MongoDBMembers)
	}
	cache := math.Max(0.25, 0.5*float64(p.MongoDBMemory-spec.GiB)/float64(spec.GiB))
	p.MongoDBCacheGB = math.Floor(cache*20) / 20
	p.MongoDBCacheReason = "MongoDB's own rule applied to the container limit, not to host RAM: 50% of (limit - 1GiB), at least 0.25GB"
	return p, nil
}

func clamp(v, lo, hi int64) int64 { return max(lo, min(hi, v)) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func fmtCores(c float64) string { return fmt.Sprintf("%g", c) }
