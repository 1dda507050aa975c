package sizing

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/spec"
)

func h(cpus float64, mem int64) Host {
	return Host{CPUs: cpus, CPUSource: "test", Memory: mem, MemorySource: "test"}
}

var defaults = Inputs{MongoDBMembers: 1, Monitoring: true, Proxy: true}

func with(f func(*Inputs)) Inputs {
	in := defaults
	f(&in)
	return in
}

var licensed = with(func(in *Inputs) { in.Licensed = true })

// expect is the plan a profile must get; MiB figures are the limits.
type expect struct {
	refused    string // substring of the refusal, if refused
	forcible   bool   // the refusal says forcing would accept the host
	processes  int
	licensedN  int
	appMiB     int64
	mongoMiB   int64
	cacheGB    float64
	warnings   []string // substrings that must appear
	noWarnings []string // substrings that must not
}

// TestHostProfiles runs detection and the plan on machine fixtures, GitLab
// style: each profile is a set of /proc and cgroup files and the plan it
// must get, without and with a licence.
func TestHostProfiles(t *testing.T) {
	cases := []struct {
		name     string
		m        machine
		in       Inputs
		unlic    expect
		licensed expect
	}{
		{"1 core / 1GiB is refused", machine{cpus: 1, memKiB: gibKiB(1)}, defaults,
			expect{refused: "needs at least 2GiB: use a host with 2GiB or more"},
			expect{refused: "needs at least 2GiB", forcible: true}},
		{"1 core / 2GiB: monitoring does not fit", machine{cpus: 1, memKiB: gibKiB(2)}, defaults,
			expect{refused: "or turn monitoring off"},
			expect{refused: "or turn monitoring off"}},
		{"1 core / 2GiB without monitoring", machine{cpus: 1, memKiB: gibKiB(2)}, with(func(in *Inputs) { in.Monitoring = false }),
			expect{processes: 1, licensedN: 1, appMiB: 768, mongoMiB: 896, cacheGB: 0.25, warnings: []string{"fewer cores than", "less memory than"}},
			expect{processes: 1, licensedN: 1, appMiB: 768, mongoMiB: 896, cacheGB: 0.25}},
		{"2 cores / 4GiB", machine{cpus: 2, memKiB: gibKiB(4)}, defaults,
			expect{processes: 1, licensedN: 1, appMiB: 1024, mongoMiB: 1664, cacheGB: 0.3, warnings: []string{"fewer cores than Rocket.Chat's published minimum for up to 25"}, noWarnings: []string{"less memory"}},
			expect{processes: 1, licensedN: 1, appMiB: 1024, mongoMiB: 1664, cacheGB: 0.3}},
		{"a 4GB host reporting 3.8GiB is within tolerance", machine{cpus: 2, memKiB: gibKiB(3.8)}, defaults,
			expect{processes: 1, licensedN: 1, appMiB: 1024, mongoMiB: 1408, cacheGB: 0.25, noWarnings: []string{"less memory"}},
			expect{processes: 1, licensedN: 1, appMiB: 1024, mongoMiB: 1408, cacheGB: 0.25}},
		{"4 cores / 8GiB", machine{cpus: 4, memKiB: gibKiB(8)}, defaults,
			expect{processes: 1, licensedN: 2, appMiB: 2112, mongoMiB: 4288, cacheGB: 1.55, noWarnings: []string{"published minimum"}},
			expect{processes: 2, licensedN: 2, appMiB: 1024, mongoMiB: 4096, cacheGB: 1.5}},
		{"8 cores / 16GiB", machine{cpus: 8, memKiB: gibKiB(16)}, defaults,
			expect{processes: 1, licensedN: 5, appMiB: 4096, mongoMiB: 9664, cacheGB: 4.2},
			expect{processes: 5, licensedN: 5, appMiB: 1152, mongoMiB: 7616, cacheGB: 3.2}},
		{"16 cores / 64GiB", machine{cpus: 16, memKiB: gibKiB(64)}, defaults,
			expect{processes: 1, licensedN: 12, appMiB: 4096, mongoMiB: 58432, cacheGB: 28},
			expect{processes: 12, licensedN: 12, appMiB: 2560, mongoMiB: 31232, cacheGB: 14.75}},
		{"64 cores / 256GiB", machine{cpus: 64, memKiB: gibKiB(256)}, defaults,
			expect{processes: 1, licensedN: 56, appMiB: 4096, mongoMiB: 65536, cacheGB: 31.5},
			expect{processes: 56, licensedN: 56, appMiB: 3392, mongoMiB: 65536, cacheGB: 31.5}},
		{"128 cores / 1TiB", machine{cpus: 128, memKiB: gibKiB(1024)}, defaults,
			expect{processes: 1, licensedN: 67, appMiB: 4096, mongoMiB: 65536, cacheGB: 31.5},
			expect{processes: 67, licensedN: 67, appMiB: 4096, mongoMiB: 65536, cacheGB: 31.5}},
		{"2-core / 3GiB cgroup limit on a 64/256 host: the limit wins", machine{cpus: 64, memKiB: gibKiB(256), files: map[string]string{
			"sys/fs/cgroup/cpu.max": "200000 100000\n", "sys/fs/cgroup/memory.max": "3221225472\n",
		}}, defaults,
			expect{processes: 1, licensedN: 1, appMiB: 768, mongoMiB: 1024, cacheGB: 0.25, warnings: []string{"less memory than"}},
			expect{processes: 1, licensedN: 1, appMiB: 768, mongoMiB: 1024, cacheGB: 0.25}},
		{"LXC container: meminfo shows the container's 4GiB", machine{cpus: 2, memKiB: 4194304, files: map[string]string{
			"sys/fs/cgroup/memory.max": "max\n",
		}}, defaults,
			expect{processes: 1, licensedN: 1, appMiB: 1024, mongoMiB: 1664, cacheGB: 0.3},
			expect{processes: 1, licensedN: 1, appMiB: 1024, mongoMiB: 1664, cacheGB: 0.3}},
		{"affinity mask of 2 CPUs on an 8/16 host", machine{cpus: 8, memKiB: gibKiB(16), affinity: "0,4"}, defaults,
			expect{processes: 1, licensedN: 1, appMiB: 4096, mongoMiB: 9664, cacheGB: 4.2},
			expect{processes: 1, licensedN: 1, appMiB: 4096, mongoMiB: 9664, cacheGB: 4.2}},
	}
	for _, c := range cases {
		host, err := (&Detector{Root: c.m.write(t)}).Detect()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, lic := range []bool{false, true} {
			want, in, label := c.unlic, c.in, c.name+"/unlicensed"
			if lic {
				want, label = c.licensed, c.name+"/licensed"
				in.Licensed = true
			}
			t.Run(label, func(t *testing.T) {
				p, err := Compute(host, in)
				if want.refused != "" {
					if err == nil || !strings.Contains(err.Error(), want.refused) {
						t.Fatalf("err = %v, want a refusal containing %q", err, want.refused)
					}
					var ts *ErrTooSmall
					if want.forcible && (!errors.As(err, &ts) || !ts.Forcible) {
						t.Errorf("err = %v, want one that forcing would accept", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				got := expect{processes: p.Processes, licensedN: p.LicensedProcesses, appMiB: p.AppMemory / spec.MiB, mongoMiB: p.MongoDBMemory / spec.MiB, cacheGB: p.MongoDBCacheGB}
				if got.processes != want.processes || got.licensedN != want.licensedN || got.appMiB != want.appMiB || got.mongoMiB != want.mongoMiB || got.cacheGB != want.cacheGB {
					t.Errorf("host %v:\n got %d processes (licence allows %d), app %dMiB, mongo %dMiB, cache %.2fGB\nwant %d processes (licence allows %d), app %dMiB, mongo %dMiB, cache %.2fGB",
						host, got.processes, got.licensedN, got.appMiB, got.mongoMiB, got.cacheGB,
						want.processes, want.licensedN, want.appMiB, want.mongoMiB, want.cacheGB)
				}
				all := strings.Join(p.Warnings, "\n")
				for _, w := range want.warnings {
					if !strings.Contains(all, w) {
						t.Errorf("no warning containing %q in:\n%s", w, all)
					}
				}
				for _, w := range want.noWarnings {
					if strings.Contains(all, w) {
						t.Errorf("unexpected warning containing %q:\n%s", w, all)
					}
				}
			})
		}
	}
}

func TestForceAcceptsATinyHost(t *testing.T) {
	tiny := h(1, 1800*spec.MiB)
	if _, err := Compute(tiny, with(func(in *Inputs) { in.Monitoring = false })); err == nil {
		t.Fatal("1800MiB accepted without --force")
	}
	p, err := Compute(tiny, with(func(in *Inputs) { in.Monitoring = false; in.Force = true }))
	if err != nil {
		t.Fatalf("with --force: %v", err)
	}
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "forced, expect out-of-memory kills") {
		t.Errorf("forced plan does not say so: %q", p.Warnings)
	}
	var small *ErrTooSmall
	if _, err := Compute(h(1, 1*spec.GiB), with(func(in *Inputs) { in.Force = true })); !errors.As(err, &small) || small.Forcible {
		t.Errorf("1GiB with --force: err = %v, want a refusal --force cannot override", err)
	}
}

func TestUsers(t *testing.T) {
	big := h(16, 64*spec.GiB)
	p, err := Compute(big, with(func(in *Inputs) { in.Licensed = true; in.Users = 800 }))
	if err != nil {
		t.Fatal(err)
	}
	if p.Processes != 3 || !strings.Contains(p.ProcessesReason, "800 expected concurrent users need 3") {
		t.Errorf("800 users licensed: %d processes (%s), want 3", p.Processes, p.ProcessesReason)
	}
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "recommends 3 MongoDB members") {
		t.Errorf("800 users on one member: no advice to run 3 members: %q", p.Warnings)
	}
	p, _ = Compute(big, with(func(in *Inputs) { in.Users = 800 }))
	if p.Processes != 1 || !strings.Contains(strings.Join(p.Warnings, "\n"), "more than one process carries well") {
		t.Errorf("800 users unlicensed: %d processes, warnings %q", p.Processes, p.Warnings)
	}
	p, _ = Compute(big, with(func(in *Inputs) { in.Licensed = true; in.Users = 4000 }))
	// 14 processes would leave MongoDB 2 cores, which serve 500 users by the
	// table: 12 leave it 4, and serve 3,600.
	if p.Processes != 12 || p.UsersCapacity != 3600 || !strings.Contains(strings.Join(p.Warnings, "\n"), "microservices deployment on Kubernetes") ||
		!strings.Contains(strings.Join(p.Warnings, "\n"), "need about 14 app processes, and this host fits 12") {
		t.Errorf("4000 users: %d processes (want 12, serving 3600: %d), warnings %q (want the shortfall and the microservices advice)", p.Processes, p.UsersCapacity, p.Warnings)
	}
	p, _ = Compute(h(4, 8*spec.GiB), with(func(in *Inputs) { in.Licensed = true; in.Users = 2000 }))
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "need about 7 app processes, and this host fits 2") {
		t.Errorf("2000 users on 4 cores: warnings %q, want the shortfall", p.Warnings)
	}
}

func TestProcessesOverride(t *testing.T) {
	p, err := Compute(h(4, 8*spec.GiB), with(func(in *Inputs) { in.Processes = 3 }))
	if err != nil {
		t.Fatal(err)
	}
	if p.Processes != 3 || !strings.Contains(strings.Join(p.Warnings, "\n"), "without an Enterprise licence") {
		t.Errorf("processes = %d, warnings %q: want 3 and a licence warning", p.Processes, p.Warnings)
	}
	_, err = Compute(h(4, 8*spec.GiB), with(func(in *Inputs) { in.Licensed = true; in.Processes = 64 }))
	var fe *spec.FieldError
	if !errors.As(err, &fe) || fe.Key != spec.KeyProcesses || !strings.HasPrefix(fe.Msg, "64 app processes need at least") {
		t.Errorf("64 processes on 8GiB: err = %v, want an error of the processes answer", err)
	}
}

func TestThreeMembersSayWhatTheyProtect(t *testing.T) {
	p, err := Compute(h(8, 16*spec.GiB), with(func(in *Inputs) { in.Licensed = true; in.MongoDBMembers = 3 }))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.MongoDBReason, "not against a dead host") {
		t.Errorf("3 members: reason %q does not say one host is still one point of failure", p.MongoDBReason)
	}
}

// TestComputeInvariants walks a grid of hosts and answers and checks what
// must always hold: limits fit in usable memory, processes never exceed
// max(1, cores-1), the cache fits its container, and the same inputs give
// the same plan.
func TestComputeInvariants(t *testing.T) {
	var cores []float64
	for c := 1; c <= 256; c++ {
		if c <= 16 || c%8 == 0 {
			cores = append(cores, float64(c))
		}
	}
	var mems []int64
	for g := int64(1); g <= 1024; g++ {
		if g <= 32 || g%16 == 0 {
			mems = append(mems, g*spec.GiB)
		}
	}
	mems = append(mems, 3800*spec.MiB, 1900*spec.MiB)
	points := 0
	// capacity[key][i][j] is the claimed capacity on cores[i], mems[j].
	capacity := map[string][][]int{}
	for i, c := range cores {
		for j, m := range mems {
			for _, lic := range []bool{false, true} {
				for _, members := range []int{1, 3} {
					for _, mon := range []bool{false, true} {
						for _, users := range []int{0, 800} {
							in := Inputs{Licensed: lic, MongoDBMembers: members, Monitoring: mon, Proxy: true, Users: users, Alerting: mon && users > 0}
							host := h(c, m)
							p, err := Compute(host, in)
							points++
							key := fmt.Sprint(lic, members, mon, users)
							if capacity[key] == nil {
								capacity[key] = make([][]int, len(cores))
							}
							if capacity[key][i] == nil {
								capacity[key][i] = make([]int, len(mems))
							}
							if err != nil {
								var small *ErrTooSmall
								if !errors.As(err, &small) {
									t.Fatalf("%v %+v: %v", host, in, err)
								}
								if m >= 8*spec.GiB {
									t.Errorf("%v %+v refused: %v", host, in, err)
								}
								continue
							}
							if got, want := runningFixed(in, p.Processes), running(p.Services); got != want {
								t.Fatalf("%v %+v: runningFixed %d, the budgets sum to %d", host, in, got, want)
							}
							if p.Total() > p.Usable() {
								t.Errorf("%v %+v: limits %s exceed usable %s", host, in, spec.FormatBytes(p.Total()), spec.FormatBytes(p.Usable()))
							}
							if limit := max(1, int(c)-1); p.Processes > limit || p.Processes < 1 {
								t.Errorf("%v %+v: %d processes, limit %d", host, in, p.Processes, limit)
							}
							if !lic && p.Processes != 1 {
								t.Errorf("%v unlicensed: %d processes", host, p.Processes)
							}
							if p.AppMemory < appFloor || p.MongoDBMemory < mongoFloor {
								t.Errorf("%v %+v: app %s, mongo %s below the floors", host, in, spec.FormatBytes(p.AppMemory), spec.FormatBytes(p.MongoDBMemory))
							}
							if p.AppHeapMiB*spec.MiB >= p.AppMemory {
								t.Errorf("%v: heap %dMiB not below the limit", host, p.AppHeapMiB)
							}
							if cache := int64(p.MongoDBCacheGB * float64(spec.GiB)); cache > p.MongoDBMemory/2+spec.GiB/4 {
								t.Errorf("%v: cache %.2fGB too big for a %s container", host, p.MongoDBCacheGB, spec.FormatBytes(p.MongoDBMemory))
							}
							again, _ := Compute(host, in)
							if again.Total() != p.Total() || again.Processes != p.Processes || again.ProcessesReason != p.ProcessesReason {
								t.Errorf("%v %+v: not deterministic", host, in)
							}
							// Balanced by Rocket.Chat's table: the database is sized
							// for the load the plan claims, on memory and cores,
							// and the claim is no more than the database serves.
							belowTable := strings.Contains(strings.Join(p.Warnings, "\n"), "below the")
							if p.MongoDBMemory < DBMemoryFor(p.UsersCapacity)-step && !belowTable && p.MongoDBMemory >= mongoComfort {
								t.Errorf("%v %+v: MongoDB %s per member, the table asks %s for the %d users claimed", host, in, spec.FormatBytes(p.MongoDBMemory), spec.FormatBytes(DBMemoryFor(p.UsersCapacity)), p.UsersCapacity)
							}
							if p.MongoDBCPUs+0.05 < DBCoresFor(p.UsersCapacity) {
								t.Errorf("%v %+v: MongoDB's %s cores are fewer than the table's %.1f for %d users", host, in, FormatCores(p.MongoDBCPUs), DBCoresFor(p.UsersCapacity), p.UsersCapacity)
							}
							if p.UsersCapacity > DBCapacity(p.MongoDBMemory, p.MongoDBCPUs) || p.UsersCapacity > p.Processes*UsersPerProcess {
								t.Errorf("%v %+v: claims %d users, beyond its database (%d) or processes", host, in, p.UsersCapacity, DBCapacity(p.MongoDBMemory, p.MongoDBCPUs))
							}
							capacity[key][i][j] = p.UsersCapacity
						}
					}
				}
			}
		}
	}
	// More cores or more memory never serve fewer users.
	for key, grid := range capacity {
		for i := range grid {
			for j := range grid[i] {
				if grid[i][j] == 0 {
					continue
				}
				if i > 0 && grid[i-1][j] > grid[i][j] {
					t.Errorf("%s: %s cores serve %d, %s cores %d (%s)", key, FormatCores(cores[i-1]), grid[i-1][j], FormatCores(cores[i]), grid[i][j], spec.FormatBytes(mems[j]))
				}
				if j > 0 && grid[i][j-1] > grid[i][j] && mems[j-1] < mems[j] {
					t.Errorf("%s: %s serve %d, %s %d (%s cores)", key, spec.FormatBytes(mems[j-1]), grid[i][j-1], spec.FormatBytes(mems[j]), grid[i][j], FormatCores(cores[i]))
				}
			}
		}
	}
	t.Logf("checked %d points", points)
}
