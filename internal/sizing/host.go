// Package sizing detects the host rcgen sizes for and computes the plan: how
// many app processes, and how much memory every service may use, each number
// with a reason a person can read. Compute is a pure function of its inputs.
package sizing

import (
	"context"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shirou/gopsutil/v4/common"
	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/mem"

	"github.com/rcgen/rcgen/internal/spec"
)

// Reading is one source's view of a host figure.
type Reading struct {
	Source string  `json:"source"`
	Value  float64 `json:"value"`
}

// Host is what rcgen knows of the machine the deployment will run on: the
// figure it uses for cores and memory, which source won, and every reading.
type Host struct {
	CPUs           float64   `json:"cpus"`
	CPUSource      string    `json:"cpu_source"`
	CPUReadings    []Reading `json:"cpu_readings,omitempty"`
	Memory         int64     `json:"memory_bytes"`
	MemorySource   string    `json:"memory_source"`
	MemoryReadings []Reading `json:"memory_readings,omitempty"`
}

func (h Host) String() string {
	return fmt.Sprintf("%s cores (%s), %s memory (%s)", FormatCores(h.CPUs), h.CPUSource, spec.FormatBytes(h.Memory), h.MemorySource)
}

// Given is the source of a figure given in the answers rather than detected.
const Given = "given"

// Override replaces the detected cores and memory by the ones given (0
// keeps the detected figure).
func (h Host) Override(cpus float64, memory int64) Host {
	if cpus > 0 {
		h.CPUs, h.CPUSource, h.CPUReadings = cpus, Given, []Reading{{Source: Given, Value: cpus}}
	}
	if memory > 0 {
		h.Memory, h.MemorySource, h.MemoryReadings = memory, Given, []Reading{{Source: Given, Value: float64(memory)}}
	}
	return h
}

// FormatCores prints a core count without a needless fraction.
func FormatCores(c float64) string { return strconv.FormatFloat(c, 'f', -1, 64) }

// Detector reads host facts under Root: "/" on a real host, a fixture
// directory in tests. gopsutil gives the /proc view (which LXC virtualises);
// the CPU affinity list and the cgroup limits are read directly.
type Detector struct {
	Root string
}

// NewDetector returns a Detector for the machine rcgen runs on.
func NewDetector() *Detector { return &Detector{Root: "/"} }

// v1 reports "no limit" as a huge page-aligned number; anything above this
// is treated as unlimited.
const cgroupV1Unlimited = int64(1) << 62

// Detect takes the smallest of the online CPUs, the affinity mask and the
// cgroup CPU quota, and the smallest of /proc/meminfo and the cgroup memory
// limits, and records which source won for each.
func (d *Detector) Detect() (Host, error) {
	ctx := context.WithValue(context.Background(), common.EnvKey,
		common.EnvMap{common.HostProcEnvKey: filepath.Join(d.Root, "proc")})
	var h Host
	cpuAdd := func(src string, v float64) {
		h.CPUReadings = append(h.CPUReadings, Reading{src, v})
		if h.CPUSource == "" || v < h.CPUs {
			h.CPUs, h.CPUSource = v, src
		}
	}
	memAdd := func(src string, v int64) {
		h.MemoryReadings = append(h.MemoryReadings, Reading{src, float64(v)})
		if h.MemorySource == "" || v < h.Memory {
			h.Memory, h.MemorySource = v, src
		}
	}

	if n, err := cpu.CountsWithContext(ctx, true); err == nil && n > 0 {
		cpuAdd("online CPUs (/proc/cpuinfo)", float64(n))
	}
	if n, ok := d.affinity(); ok {
		cpuAdd("CPU affinity mask", float64(n))
	}
	if q, src, ok := d.cgroupCPU(); ok {
		cpuAdd(src, q)
	}
	if h.CPUSource == "" {
		return Host{}, fmt.Errorf("could not count the CPUs under %s: give the host's cores instead of detecting them", d.Root)
	}

	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil && vm.Total > 0 {
		memAdd("/proc/meminfo MemTotal", int64(vm.Total))
	}
	if l, src, ok := d.cgroupMemory(); ok {
		memAdd(src, l)
	}
	if h.MemorySource == "" {
		return Host{}, fmt.Errorf("could not read the memory size under %s: give the host's memory instead of detecting it", d.Root)
	}
	return h, nil
}

func (d *Detector) read(rel string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(d.Root, filepath.FromSlash(rel)))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

// affinity counts the CPUs this process may run on (Cpus_allowed_list).
func (d *Detector) affinity() (int, bool) {
	s, ok := d.read("proc/self/status")
	if !ok {
		return 0, false
	}
	for _, line := range strings.Split(s, "\n") {
		v, found := strings.CutPrefix(line, "Cpus_allowed_list:")
		if !found {
			continue
		}
		n := 0
		for _, r := range strings.Split(strings.TrimSpace(v), ",") {
			lo, hi, isRange := strings.Cut(r, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || b < a {
				return 0, false
			}
			n += b - a + 1
		}
		return n, n > 0
	}
	return 0, false
}

// cgroupDirs returns the cgroup directories that may limit this process,
// for a v2 hierarchy (controller "") or a v1 controller: the process's own
// group and its ancestors, as named in /proc/self/cgroup, and the root of
// the mount (which is the process's own group under a cgroup namespace).
func (d *Detector) cgroupDirs(mount, controller string) []string {
	dirs := []string{mount}
	s, ok := d.read("proc/self/cgroup")
	if !ok {
		return dirs
	}
	for _, line := range strings.Split(s, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		match := controller == "" && parts[0] == "0" && parts[1] == ""
		for _, c := range strings.Split(parts[1], ",") {
			if controller != "" && c == controller {
				match = true
			}
		}
		if !match {
			continue
		}
		for p := path.Clean(parts[2]); p != "/" && p != "."; p = path.Dir(p) {
			dirs = append(dirs, path.Join(mount, p))
		}
	}
	return dirs
}

// cgroupCPU returns the tightest CPU quota in cores, rounded up to half a core.
func (d *Detector) cgroupCPU() (float64, string, bool) {
	best, src := math.Inf(1), ""
	for _, dir := range d.cgroupDirs("sys/fs/cgroup", "") {
		s, ok := d.read(dir + "/cpu.max")
		if !ok {
			continue
		}
		f := strings.Fields(s)
		if len(f) != 2 || f[0] == "max" {
			continue
		}
		q, err1 := strconv.ParseFloat(f[0], 64)
		p, err2 := strconv.ParseFloat(f[1], 64)
		if err1 == nil && err2 == nil && q > 0 && p > 0 && q/p < best {
			best, src = q/p, "cgroup v2 cpu.max"
		}
	}
	for _, mount := range []string{"sys/fs/cgroup/cpu", "sys/fs/cgroup/cpu,cpuacct"} {
		for _, dir := range d.cgroupDirs(mount, "cpu") {
			qs, ok1 := d.read(dir + "/cpu.cfs_quota_us")
			ps, ok2 := d.read(dir + "/cpu.cfs_period_us")
			if !ok1 || !ok2 {
				continue
			}
			q, err1 := strconv.ParseFloat(qs, 64)
			p, err2 := strconv.ParseFloat(ps, 64)
			if err1 == nil && err2 == nil && q > 0 && p > 0 && q/p < best {
				best, src = q/p, "cgroup v1 cpu.cfs_quota_us"
			}
		}
	}
	if src == "" {
		return 0, "", false
	}
	return roundCores(best), src, true
}

// roundCores rounds a quota up to half a core: a 2.3-core quota runs two
// processes and a bit, not three.
func roundCores(c float64) float64 {
	return math.Max(0.5, math.Ceil(c*2-1e-9)/2)
}

// cgroupMemory returns the tightest cgroup memory limit.
func (d *Detector) cgroupMemory() (int64, string, bool) {
	best, src := int64(math.MaxInt64), ""
	for _, dir := range d.cgroupDirs("sys/fs/cgroup", "") {
		s, ok := d.read(dir + "/memory.max")
		if !ok || s == "max" {
			continue
		}
		if v, err := strconv.ParseInt(s, 10, 64); err == nil && v > 0 && v < best {
			best, src = v, "cgroup v2 memory.max"
		}
	}
	for _, dir := range d.cgroupDirs("sys/fs/cgroup/memory", "memory") {
		s, ok := d.read(dir + "/memory.limit_in_bytes")
		if !ok {
			continue
		}
		if v, err := strconv.ParseInt(s, 10, 64); err == nil && v > 0 && v < cgroupV1Unlimited && v < best {
			best, src = v, "cgroup v1 memory.limit_in_bytes"
		}
	}
	return best, src, src != ""
}
