package sizing

import (
	"errors"
	"testing"

	"github.com/rcgen/rcgen/internal/spec"
)

func h(cpus float64, mem int64) Host {
	return Host{CPUs: cpus, CPUSource: "test", Memory: mem, MemorySource: "test"}
}

func TestComputeProfiles(t *testing.T) {
	cases := []struct {
		name          string
		host          Host
		in            Inputs
		processes     int
		licensedCount int
	}{
		{"2c/4GiB unlicensed", h(2, 4*spec.GiB), Inputs{MongoDBMembers: 1, Monitoring: true, Proxy: true}, 1, 1},
		{"8c/16GiB unlicensed says what a licence allows", h(8, 16*spec.GiB), Inputs{MongoDBMembers: 1, Monitoring: true, Proxy: true}, 1, 7},
		{"8c/16GiB licensed, 3 members", h(8, 16*spec.GiB), Inputs{Licensed: true, MongoDBMembers: 3, Monitoring: true, Proxy: true}, 7, 7},
		{"32c/128GiB licensed", h(32, 128*spec.GiB), Inputs{Licensed: true, MongoDBMembers: 1, Monitoring: true, Proxy: true}, 31, 31},
		{"16c/8GiB licensed: memory, not cores, limits", h(16, 8*spec.GiB), Inputs{Licensed: true, MongoDBMembers: 1, Monitoring: true, Proxy: true}, 3, 3},
		{"1c/3GiB licensed, no monitoring, still runs one", h(1, 3*spec.GiB), Inputs{Licensed: true, MongoDBMembers: 1, Proxy: true}, 1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compute(c.host, c.in)
			if err != nil {
				t.Fatal(err)
			}
			if p.Processes != c.processes || p.LicensedProcesses != c.licensedCount {
				t.Errorf("processes = %d (licensed %d), want %d (licensed %d): %s", p.Processes, p.LicensedProcesses, c.processes, c.licensedCount, p.ProcessesReason)
			}
			if p.AppHeapMiB != p.AppMemory*3/4/spec.MiB {
				t.Errorf("heap %dMiB is not 75%% of the %dMiB limit", p.AppHeapMiB, p.AppMemory/spec.MiB)
			}
			if p.AppMemory < 1*spec.GiB || p.MongoDBMemory < 1*spec.GiB {
				t.Errorf("app %s, mongodb %s: below the 1GiB floor", spec.FormatBytes(p.AppMemory), spec.FormatBytes(p.MongoDBMemory))
			}
			for _, r := range []string{p.ProcessesReason, p.AppReason, p.MongoDBReason, p.MongoDBCacheReason, p.ReserveReason} {
				if r == "" {
					t.Error("a number has no reason")
				}
			}
		})
	}
}

func TestComputeRefusesTinyHost(t *testing.T) {
	_, err := Compute(h(1, 1*spec.GiB), Inputs{MongoDBMembers: 1, Monitoring: true, Proxy: true})
	var small *ErrTooSmall
	if !errors.As(err, &small) {
		t.Fatalf("1GiB host: err = %v, want ErrTooSmall", err)
	}
}

func TestComputeProcessesOverride(t *testing.T) {
	p, err := Compute(h(4, 8*spec.GiB), Inputs{Processes: 3, MongoDBMembers: 1, Monitoring: true, Proxy: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Processes != 3 || len(p.Warnings) == 0 {
		t.Errorf("processes = %d, warnings %q: want 3 and a licence warning", p.Processes, p.Warnings)
	}
	if _, err := Compute(h(4, 8*spec.GiB), Inputs{Processes: 64, Licensed: true, MongoDBMembers: 1, Proxy: true}); err == nil {
		t.Error("64 processes on 8GiB: want an error naming --processes")
	}
}

// TestComputeInvariants walks a grid of hosts and answers and checks what
// must always hold: limits fit in usable memory, processes never exceed
// max(1, cores-1), and the result is the same every time.
func TestComputeInvariants(t *testing.T) {
	for _, cores := range []float64{1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256} {
		for _, gib := range []int64{2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024} {
			for _, lic := range []bool{false, true} {
				for _, members := range []int{1, 3} {
					for _, mon := range []bool{false, true} {
						in := Inputs{Licensed: lic, MongoDBMembers: members, Monitoring: mon, Proxy: true}
						host := h(cores, gib*spec.GiB)
						p, err := Compute(host, in)
						if err != nil {
							var small *ErrTooSmall
							if !errors.As(err, &small) {
								t.Errorf("%v %+v: %v", host, in, err)
							}
							continue
						}
						if p.Total() > p.Usable() {
							t.Errorf("%v %+v: limits %s exceed usable %s", host, in, spec.FormatBytes(p.Total()), spec.FormatBytes(p.Usable()))
						}
						if limit := max(1, int(cores)-1); p.Processes > limit {
							t.Errorf("%v %+v: %d processes > %d", host, in, p.Processes, limit)
						}
						if !lic && p.Processes != 1 {
							t.Errorf("%v unlicensed: %d processes", host, p.Processes)
						}
						again, _ := Compute(host, in)
						if again.Total() != p.Total() || again.Processes != p.Processes {
							t.Errorf("%v %+v: not deterministic", host, in)
						}
					}
				}
			}
		}
	}
}
