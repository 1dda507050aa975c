package sizing

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/spec"
)

// machine describes a host as its files: /proc/cpuinfo with one entry per
// online CPU, /proc/meminfo, the affinity list, and any cgroup files.
type machine struct {
	cpus     int
	memKiB   int64
	affinity string // Cpus_allowed_list; "" means all
	cgroup   string // /proc/self/cgroup
	files    map[string]string
}

func (m machine) write(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	var cpuinfo strings.Builder
	for i := range m.cpus {
		fmt.Fprintf(&cpuinfo, "processor\t: %d\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU\n\n", i)
	}
	aff := m.affinity
	if aff == "" {
		aff = fmt.Sprintf("0-%d", m.cpus-1)
	}
	cg := m.cgroup
	if cg == "" {
		cg = "0::/\n"
	}
	files := map[string]string{
		"proc/cpuinfo":     cpuinfo.String(),
		"proc/meminfo":     fmt.Sprintf("MemTotal:       %d kB\nMemFree:        %d kB\nMemAvailable:   %d kB\n", m.memKiB, m.memKiB/2, m.memKiB/2),
		"proc/self/status": fmt.Sprintf("Name:\trcgen\nCpus_allowed:\tff\nCpus_allowed_list:\t%s\n", aff),
		"proc/self/cgroup": cg,
	}
	for k, v := range m.files {
		files[k] = v
	}
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const kib = 1024

func gibKiB(g float64) int64 { return int64(g * float64(spec.GiB) / kib) }

func TestDetect(t *testing.T) {
	cases := []struct {
		name      string
		m         machine
		cpus      float64
		cpuSource string
		memory    int64
		memSource string
	}{
		{"bare host", machine{cpus: 8, memKiB: gibKiB(16)}, 8, "online CPUs (/proc/cpuinfo)", 16 * spec.GiB, "/proc/meminfo MemTotal"},
		{"affinity mask of 2 CPUs", machine{cpus: 8, memKiB: gibKiB(16), affinity: "2-3"}, 2, "CPU affinity mask", 16 * spec.GiB, "/proc/meminfo MemTotal"},
		{"affinity list with ranges and singles", machine{cpus: 16, memKiB: gibKiB(16), affinity: "0-1,4,8-9"}, 5, "CPU affinity mask", 16 * spec.GiB, "/proc/meminfo MemTotal"},
		{"2-core/3GiB cgroup v2 limit on a 64/256 host", machine{cpus: 64, memKiB: gibKiB(256), files: map[string]string{
			"sys/fs/cgroup/cpu.max":    "200000 100000\n",
			"sys/fs/cgroup/memory.max": "3221225472\n",
		}}, 2, "cgroup v2 cpu.max", 3 * spec.GiB, "cgroup v2 memory.max"},
		{"cgroup v2 limit on an ancestor group (systemd slice)", machine{cpus: 32, memKiB: gibKiB(128), cgroup: "0::/system.slice/docker.service\n", files: map[string]string{
			"sys/fs/cgroup/system.slice/memory.max":                "8589934592\n",
			"sys/fs/cgroup/system.slice/docker.service/memory.max": "max\n",
			"sys/fs/cgroup/system.slice/docker.service/cpu.max":    "max 100000\n",
		}}, 32, "online CPUs (/proc/cpuinfo)", 8 * spec.GiB, "cgroup v2 memory.max"},
		{"cgroup v2 without limits", machine{cpus: 4, memKiB: gibKiB(8), files: map[string]string{
			"sys/fs/cgroup/cpu.max":    "max 100000\n",
			"sys/fs/cgroup/memory.max": "max\n",
		}}, 4, "online CPUs (/proc/cpuinfo)", 8 * spec.GiB, "/proc/meminfo MemTotal"},
		{"fractional quota rounds up to half a core", machine{cpus: 8, memKiB: gibKiB(8), files: map[string]string{
			"sys/fs/cgroup/cpu.max": "230000 100000\n",
		}}, 2.5, "cgroup v2 cpu.max", 8 * spec.GiB, "/proc/meminfo MemTotal"},
		{"cgroup v1 limits", machine{cpus: 16, memKiB: gibKiB(64), cgroup: "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n", files: map[string]string{
			"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us":  "150000\n",
			"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
			"sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes":  "2147483648\n",
		}}, 1.5, "cgroup v1 cpu.cfs_quota_us", 2 * spec.GiB, "cgroup v1 memory.limit_in_bytes"},
		{"cgroup v1 unlimited sentinel", machine{cpus: 4, memKiB: gibKiB(8), files: map[string]string{
			"sys/fs/cgroup/cpu/cpu.cfs_quota_us":         "-1\n",
			"sys/fs/cgroup/cpu/cpu.cfs_period_us":        "100000\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
		}}, 4, "online CPUs (/proc/cpuinfo)", 8 * spec.GiB, "/proc/meminfo MemTotal"},
		// LXC (lxcfs) virtualises /proc/meminfo and /proc/cpuinfo to the
		// container's limits while the cgroup files show none.
		{"LXC-style meminfo", machine{cpus: 2, memKiB: 4194304, cgroup: "0::/\n", files: map[string]string{
			"sys/fs/cgroup/memory.max": "max\n",
		}}, 2, "online CPUs (/proc/cpuinfo)", 4 * spec.GiB, "/proc/meminfo MemTotal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := (&Detector{Root: c.m.write(t)}).Detect()
			if err != nil {
				t.Fatal(err)
			}
			if got.CPUs != c.cpus || got.CPUSource != c.cpuSource || got.Memory != c.memory || got.MemorySource != c.memSource {
				t.Errorf("Detect() = %v, want %g cores (%s), %s (%s)", got, c.cpus, c.cpuSource, spec.FormatBytes(c.memory), c.memSource)
			}
			if len(got.CPUReadings) == 0 || len(got.MemoryReadings) == 0 {
				t.Error("no readings recorded")
			}
		})
	}
}

func TestDetectEmptyRootFails(t *testing.T) {
	if _, err := (&Detector{Root: t.TempDir()}).Detect(); err == nil || !strings.Contains(err.Error(), "give the host's cores") {
		t.Errorf("Detect() on an empty root = %v, want an error asking for the host's cores", err)
	}
}

func TestDetectThisMachine(t *testing.T) {
	got, err := NewDetector().Detect()
	if err != nil {
		t.Fatal(err)
	}
	if got.CPUs < 0.5 || got.Memory < 256*spec.MiB {
		t.Errorf("Detect() on this machine = %v: not a plausible host", got)
	}
}
