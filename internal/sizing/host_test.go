package sizing

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rcgen/rcgen/internal/spec"
)

func fixture(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
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

func detector(root string, online, affinity int, mem int64) *Detector {
	return &Detector{
		Root:       root,
		OnlineCPUs: func() (int, error) { return online, nil },
		Affinity:   func() (int, error) { return affinity, nil },
		MemTotal:   func() (int64, error) { return mem, nil },
	}
}

func TestDetect(t *testing.T) {
	cases := []struct {
		name      string
		files     map[string]string
		online    int
		affinity  int
		mem       int64
		cpus      float64
		cpuSource string
		memory    int64
		memSource string
	}{
		{"bare host", nil, 8, 8, 16 * spec.GiB, 8, "online CPUs", 16 * spec.GiB, "/proc/meminfo"},
		{"affinity mask of 2", nil, 8, 2, 16 * spec.GiB, 2, "CPU affinity mask", 16 * spec.GiB, "/proc/meminfo"},
		{"cgroup v2 limits win", map[string]string{
			"sys/fs/cgroup/cpu.max":    "200000 100000\n",
			"sys/fs/cgroup/memory.max": "3221225472\n",
		}, 64, 64, 256 * spec.GiB, 2, "cgroup v2 cpu.max", 3 * spec.GiB, "cgroup v2 memory.max"},
		{"cgroup v2 without limits", map[string]string{
			"sys/fs/cgroup/cpu.max":    "max 100000\n",
			"sys/fs/cgroup/memory.max": "max\n",
		}, 4, 4, 8 * spec.GiB, 4, "online CPUs", 8 * spec.GiB, "/proc/meminfo"},
		{"cgroup v1 limits win", map[string]string{
			"sys/fs/cgroup/cpu/cpu.cfs_quota_us":         "150000\n",
			"sys/fs/cgroup/cpu/cpu.cfs_period_us":        "100000\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "2147483648\n",
		}, 16, 16, 64 * spec.GiB, 1.5, "cgroup v1 cpu.cfs_quota_us", 2 * spec.GiB, "cgroup v1 memory.limit_in_bytes"},
		{"cgroup v1 unlimited sentinel", map[string]string{
			"sys/fs/cgroup/cpu/cpu.cfs_quota_us":         "-1\n",
			"sys/fs/cgroup/cpu/cpu.cfs_period_us":        "100000\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
		}, 4, 4, 8 * spec.GiB, 4, "online CPUs", 8 * spec.GiB, "/proc/meminfo"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := detector(fixture(t, c.files), c.online, c.affinity, c.mem).Detect()
			if err != nil {
				t.Fatal(err)
			}
			if got.CPUs != c.cpus || got.CPUSource != c.cpuSource || got.Memory != c.memory || got.MemorySource != c.memSource {
				t.Errorf("Detect() = %v, want %g cores (%s), %s (%s)", got, c.cpus, c.cpuSource, spec.FormatBytes(c.memory), c.memSource)
			}
		})
	}
}

func TestDetectThisMachine(t *testing.T) {
	got, err := NewDetector().Detect()
	if err != nil {
		t.Fatal(err)
	}
	if got.CPUs < 1 || got.Memory < 256*spec.MiB {
		t.Errorf("Detect() on this machine = %v: not a plausible host", got)
	}
}
