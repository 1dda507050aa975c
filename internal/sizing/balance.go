package sizing

import (
	"math"

	"github.com/rcgen/rcgen/internal/spec"
)

// Rocket.Chat's hardware table (docs, system requirements) pairs every load
// with a MongoDB size: up to 25 concurrent users 2 GiB and 2 vCPU, under 500
// 4 GiB and 2 vCPU, 500 to 5,000 4 to 16 GiB and 2 to 8 vCPU, over 5,000
// 16 GiB and 4 vCPU per member. rcgen reads it as curves, linear between
// the table's points, so every figure in between has a size: the users a
// MongoDB member of a given memory (and core budget) serves well, and back.

// curvePoint is one point of a curve: a resource and the users it serves.
type curvePoint struct {
	x     float64
	users float64
}

// dbMemory: memory per member (GiB) -> concurrent users served.
var dbMemory = []curvePoint{{0.5, 5}, {2, 25}, {4, 500}, {16, 5000}, {64, 20000}}

// dbCores: cores left to MongoDB -> concurrent users served (the table's
// 2 vCPU up to 500 users, 4 for 5,000 and over).
var dbCores = []curvePoint{{0.5, 5}, {1, 25}, {2, 500}, {4, 5000}, {8, 20000}}

// usersFor reads a curve at x: 0 below its first point, flat after its last.
func usersFor(c []curvePoint, x float64) int {
	if x < c[0].x {
		return int(c[0].users * x / c[0].x)
	}
	for i := 1; i < len(c); i++ {
		if x <= c[i].x {
			a, b := c[i-1], c[i]
			return int(a.users + (b.users-a.users)*(x-a.x)/(b.x-a.x))
		}
	}
	return int(c[len(c)-1].users)
}

// neededFor reads a curve backwards: the resource that serves users.
func neededFor(c []curvePoint, users int) float64 {
	u := float64(users)
	if u <= c[0].users {
		return c[0].x * u / c[0].users
	}
	for i := 1; i < len(c); i++ {
		if u <= c[i].users {
			a, b := c[i-1], c[i]
			return a.x + (b.x-a.x)*(u-a.users)/(b.users-a.users)
		}
	}
	return c[len(c)-1].x
}

// DBCapacity is how many concurrent users MongoDB serves well with mem per
// member and cores left to it, by the table.
func DBCapacity(mem int64, cores float64) int {
	return min(usersFor(dbMemory, float64(mem)/float64(spec.GiB)), usersFor(dbCores, cores))
}

// DBMemoryFor is the table's memory per member for users, rounded up to the
// planning step.
func DBMemoryFor(users int) int64 {
	return roundUp(int64(math.Ceil(neededFor(dbMemory, users)*float64(spec.GiB))), step)
}

// DBCoresFor is the table's cores for MongoDB at users.
func DBCoresFor(users int) float64 { return neededFor(dbCores, users) }

// balance is one way to spend a host: n processes, MongoDB at mongoPer per
// member, serving capacity users.
type balance struct {
	n         int
	appBudget int64 // for all processes together
	mongoPer  int64
	capacity  int
}

// balanceFor plans n processes: MongoDB gets what the load n processes can
// produce needs by the table (what fits, when less), the app processes the
// rest; target caps the load (the expected users, or 0).
func balanceFor(h Host, in Inputs, usable int64, n, target int) (balance, bool) {
	members := int64(in.MongoDBMembers)
	avail := usable - runningFixed(in, n)
	mongoCores := math.Max(0.5, h.CPUs-float64(n))
	load := n * UsersPerProcess
	if target > 0 {
		load = min(load, target)
	}
	load = min(load, usersFor(dbCores, mongoCores))
	// The most MongoDB can have while each process keeps its comfortable
	// size (a lone process on a small host makes do with its floor).
	appMin := appComfort
	roomPer := roundDown((avail-int64(n)*appMin)/members, step)
	if roomPer < mongoComfort && n == 1 {
		appMin = appFloor
		roomPer = roundDown((avail-appMin)/members, step)
	}
	if roomPer < mongoFloor {
		return balance{}, false
	}
	mongoPer := clamp(DBMemoryFor(load), mongoComfort, maxMongo)
	if mongoPer > roomPer {
		mongoPer = roomPer
	}
	// What is left goes to both: the processes up to their cap, MongoDB
	// (a bigger cache) with the rest, up to its cap.
	left := avail - int64(n)*appMin - members*mongoPer
	appExtra := min(left/2, int64(n)*(maxAppMemory-appMin))
	mongoPer = min(maxMongo, roundDown(mongoPer+(left-appExtra)/members, step))
	appBudget := avail - members*mongoPer
	if appBudget/int64(n) > maxAppMemory {
		appBudget = int64(n) * maxAppMemory
	}
	capacity := min(n*UsersPerProcess, DBCapacity(mongoPer, mongoCores))
	return balance{n: n, appBudget: appBudget, mongoPer: mongoPer, capacity: capacity}, true
}

// bestBalance tries every process count up to limit and keeps the one that
// serves the most users (the fewest processes among equals: a process the
// database cannot keep busy buys nothing); with a target, the fewest
// processes that serve it, when any does.
func bestBalance(h Host, in Inputs, usable int64, limit, target int) (balance, bool) {
	var best balance
	found := false
	for n := 1; n <= limit; n++ {
		// Each more process leaves MongoDB a core less: once what those
		// cores serve cannot beat the best, no more processes can.
		if found && usersFor(dbCores, math.Max(0.5, h.CPUs-float64(n))) <= best.capacity {
			break
		}
		b, ok := balanceFor(h, in, usable, n, target)
		if !ok {
			break // more processes only leave less room
		}
		if target > 0 && b.capacity >= target {
			return b, true
		}
		if !found || b.capacity > best.capacity {
			best, found = b, true
		}
	}
	return best, found
}

// runningFixed is running(fixedBudgets(in, n)) without building the list:
// the planner asks it for every process count.
func runningFixed(in Inputs, n int) int64 {
	var t int64
	if in.Proxy {
		t += 128 * spec.MiB
	}
	if n > 1 {
		t += 128 * spec.MiB // nats
	}
	if in.Backup {
		t += BackupMemory
		if in.Offsite {
			t += OffsiteMemory
		}
	}
	if in.Monitoring {
		targets := n + max(1, in.MongoDBMembers) + 3 // apps, exporters, node, grafana, prometheus
		if n > 1 {
			targets++
		}
		if in.Proxy {
			targets++
		}
		if in.Alerting {
			targets++
			t += 64 * spec.MiB
		}
		if in.Logs {
			targets += 2 // loki, otel-collector
			t += LokiMemory + OtelCollectorMemory
		}
		t += prometheusMemory(targets) + 256*spec.MiB + int64(max(1, in.MongoDBMembers))*128*spec.MiB + 64*spec.MiB
		if n > 1 {
			t += 64 * spec.MiB // nats exporter
		}
	}
	return t
}
