// Package sizing detects the host rcgen sizes for and computes the plan: how
// many app processes, and how much memory every service may use, each number
// with a reason a person can read. Plan is a pure function of its inputs.
package sizing

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/rcgen/rcgen/internal/spec"
	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/mem"
	"golang.org/x/sys/unix"
)

// Host is what rcgen knows of the machine the deployment will run on.
type Host struct {
	CPUs         float64 `json:"cpus"`
	CPUSource    string  `json:"cpu_source"`
	Memory       int64   `json:"memory_bytes"`
	MemorySource string  `json:"memory_source"`
}

func (h Host) String() string {
	return fmt.Sprintf("%s cores (%s), %s memory (%s)", strconv.FormatFloat(h.CPUs, 'f', -1, 64), h.CPUSource, spec.FormatBytes(h.Memory), h.MemorySource)
}

// Detector reads host facts. Root is the file system root the cgroup files
// are read under ("/" on a real host, a fixture directory in tests).
type Detector struct {
	Root string
	// OnlineCPUs, Affinity and MemTotal default to gopsutil and the
	// scheduler; tests replace them.
	OnlineCPUs func() (int, error)
	Affinity   func() (int, error)
	MemTotal   func() (int64, error)
}

// NewDetector returns a Detector for the machine rcgen runs on.
func NewDetector() *Detector {
	return &Detector{
		Root: "/",
		OnlineCPUs: func() (int, error) {
			return cpu.Counts(true)
		},
		Affinity: func() (int, error) {
			var set unix.CPUSet
			if err := unix.SchedGetaffinity(0, &set); err != nil {
				return 0, err
			}
			return set.Count(), nil
		},
		MemTotal: func() (int64, error) {
			v, err := mem.VirtualMemory()
			if err != nil {
				return 0, err
			}
			return int64(v.Total), nil
		},
	}
}

// v1 reports "no limit" as a huge page-aligned number; anything above this is
// treated as unlimited.
const cgroupV1Unlimited = int64(1) << 62

// Detect reads cores and memory and records which source won for each: the
// smallest of the online CPUs, the affinity mask and the cgroup quota; the
// smallest of /proc/meminfo and the cgroup memory limit.
func (d *Detector) Detect() (Host, error) {
	h := Host{}
	online, err := d.OnlineCPUs()
	if err != nil || online <= 0 {
		online, err = runtime.NumCPU(), nil
	}
	h.CPUs, h.CPUSource = float64(online), "online CPUs"
	if n, err := d.Affinity(); err == nil && n > 0 && float64(n) < h.CPUs {
		h.CPUs, h.CPUSource = float64(n), "CPU affinity mask"
	}
	if q, src, ok := d.cgroupCPU(); ok && q < h.CPUs {
		h.CPUs, h.CPUSource = q, src
	}
	total, err := d.MemTotal()
	if err != nil {
		return Host{}, fmt.Errorf("reading host memory: %w (give --memory to describe the host)", err)
	}
	h.Memory, h.MemorySource = total, "/proc/meminfo"
	if l, src, ok := d.cgroupMemory(); ok && l < h.Memory {
		h.Memory, h.MemorySource = l, src
	}
	return h, nil
}

func (d *Detector) read(rel string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(d.Root, rel))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

// cgroupCPU returns the CPU quota in cores, rounded up to a half core.
func (d *Detector) cgroupCPU() (float64, string, bool) {
	if s, ok := d.read("sys/fs/cgroup/cpu.max"); ok {
		f := strings.Fields(s)
		if len(f) == 2 && f[0] != "max" {
			q, err1 := strconv.ParseFloat(f[0], 64)
			p, err2 := strconv.ParseFloat(f[1], 64)
			if err1 == nil && err2 == nil && q > 0 && p > 0 {
				return roundCores(q / p), "cgroup v2 cpu.max", true
			}
		}
		return 0, "", false
	}
	qs, ok1 := d.read("sys/fs/cgroup/cpu/cpu.cfs_quota_us")
	ps, ok2 := d.read("sys/fs/cgroup/cpu/cpu.cfs_period_us")
	if ok1 && ok2 {
		q, err1 := strconv.ParseFloat(qs, 64)
		p, err2 := strconv.ParseFloat(ps, 64)
		if err1 == nil && err2 == nil && q > 0 && p > 0 {
			return roundCores(q / p), "cgroup v1 cpu.cfs_quota_us", true
		}
	}
	return 0, "", false
}

func roundCores(c float64) float64 {
	r := math.Ceil(c*2) / 2
	if r < 1 {
		return 1
	}
	return r
}

func (d *Detector) cgroupMemory() (int64, string, bool) {
	if s, ok := d.read("sys/fs/cgroup/memory.max"); ok {
		if s == "max" {
			return 0, "", false
		}
		if v, err := strconv.ParseInt(s, 10, 64); err == nil && v > 0 {
			return v, "cgroup v2 memory.max", true
		}
		return 0, "", false
	}
	if s, ok := d.read("sys/fs/cgroup/memory/memory.limit_in_bytes"); ok {
		if v, err := strconv.ParseInt(s, 10, 64); err == nil && v > 0 && v < cgroupV1Unlimited {
			return v, "cgroup v1 memory.limit_in_bytes", true
		}
	}
	return 0, "", false
}
