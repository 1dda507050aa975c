package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/Masterminds/semver/v3"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/spec"
)

// Target is what the checks know of the deployment: where it lives, what
// it publishes, and the domain users type.
type Target struct {
	// Dir is the deployment directory (it may not exist yet).
	Dir string
	// Exists is true when Dir already holds an rcgen deployment (whose own
	// containers may hold its ports).
	Exists bool
	// Ports are the host ports the stack publishes.
	Ports []Port
	// Domain is checked in DNS when PublicDNS (Let's Encrypt needs it to
	// point at this host).
	Domain    string
	PublicDNS bool
	// Swarm is set for a Docker Swarm stack: docker stack deploy needs no
	// Compose plugin, and the domain points at the proxy node, not
	// necessarily here.
	Swarm bool
}

// Port is one published host port.
type Port struct {
	HostIP   string `json:"host_ip"` // "" is every interface
	Port     int    `json:"port"`
	Protocol string `json:"protocol"` // tcp or udp
}

func (p Port) addr() string {
	return net.JoinHostPort(p.HostIP, strconv.Itoa(p.Port))
}

// checkCPU: MongoDB 5.0 and later are built for x86-64 with AVX and for
// ARMv8.2-A; elsewhere mongod dies at once with "Illegal instruction"
// (MongoDB production notes, "x86_64" and "ARM64"; Rocket.Chat#29641,
// helm-charts#208).
func checkCPU(sys System) Result {
	r := Result{Name: "cpu", Host: true}
	info := sys.cpuinfo()
	model := info["model name"]
	if model == "" {
		model = info["Model"]
	}
	switch sys.arch() {
	case "amd64":
		flags := strings.Fields(info["flags"])
		if len(flags) == 0 {
			r.Status, r.Found, r.Do = Warn, "/proc/cpuinfo lists no CPU flags", "check by hand that the CPU has AVX (grep -w avx /proc/cpuinfo): MongoDB 5.0 and later need it"
			return r
		}
		if !slices.Contains(flags, "avx") {
			r.Status, r.Found = Fail, fmt.Sprintf("%s has no AVX", orUnknown(model))
			r.Do = "MongoDB 5.0 and later stop with \"Illegal instruction\" without AVX: use a CPU (or a VM CPU type, e.g. host-passthrough or x86-64-v3) that has it"
			return r
		}
		r.Found = fmt.Sprintf("%s has AVX", orUnknown(model))
	case "arm64":
		feats := strings.Fields(info["Features"])
		// LSE atomics (ARMv8.1) and DC CVAP (dcpop, mandatory in ARMv8.2).
		if !slices.Contains(feats, "atomics") || !slices.Contains(feats, "dcpop") {
			r.Status, r.Found = Fail, "the CPU is older than ARMv8.2-A (no atomics/dcpop in /proc/cpuinfo Features; a Raspberry Pi 4 is ARMv8.0)"
			r.Do = "MongoDB 5.0 and later need ARMv8.2-A: use a newer ARM CPU (Raspberry Pi 5, Graviton 2+, Ampere) or an x86-64 host"
			return r
		}
		r.Found = "ARMv8.2-A features (atomics, dcpop)"
	default:
		r.Status, r.Found, r.Do = Fail, sys.arch()+" CPU", "the images rcgen pins are built for amd64 (and some for arm64) only"
	}
	return r
}

// checkArch: every image rcgen pins is built for linux/amd64. Rocket.Chat
// documented amd64 only; since late 2025 its release workflow also builds
// arm64 (RocketChat/Rocket.Chat, merged 2025-10-31), which rcgen has not
// seen for registry.rocket.chat: a warning on arm64, a failure elsewhere.
func checkArch(sys System) Result {
	r := Result{Name: "architecture", Host: true, Found: "linux/" + sys.arch()}
	switch sys.arch() {
	case "amd64":
	case "arm64":
		r.Status = Warn
		r.Do = fmt.Sprintf("rcgen's stack is tested for amd64; check that %s has an arm64 image for your release (docker manifest inspect)", catalog.RocketChatImage)
	default:
		r.Status = Fail
		r.Do = "the images rcgen pins are built for amd64 (and some for arm64) only: use an x86-64 host"
	}
	return r
}

// Kernels that crash MongoDB 8: 6.19 up to 7.0.13 (see catalog.KernelRule).
//
// The release uname(2) gives (/proc/sys/kernel/osrelease) is what mongod's
// own startup check parses (mongodb/mongo src/mongo/db/startup_check_rseq.cpp,
// isKernelSafeForTCMallocPerCPUCache, SERVER-125742: uname's release, no
// other file), and the image's entrypoint too (platform.release()). On
// Ubuntu that release keeps the base version for the life of a series
// (7.0.0-30-generic) while Ubuntu applies the upstream stable fixes: the
// upstream version a build carries is the last field of
// /proc/version_signature ("Ubuntu 5.4.0-12.15-generic 5.4.8", as libbpf
// reads it: tools/lib/bpf/libbpf_probes.c, get_ubuntu_kernel_version, after
// https://ubuntu.com/kernel). Whether the kernel has the bug is decided by
// that version, falling back to the release elsewhere; a fixed Ubuntu
// kernel whose release is in the range passes, since mongod's check refuses
// it only while tcmalloc's per-CPU caches are on, and rcgen's stack turns
// them off (GLIBC_TUNABLES=glibc.pthread.rseq=1, catalog.KernelRule).
func checkKernel(sys System) Result {
	r := Result{Name: "kernel", Host: true}
	release := sys.read("proc/sys/kernel/osrelease")
	upstream := ubuntuUpstream(sys.read("proc/version_signature"))
	if release == "" && upstream == "" {
		r.Status, r.Found, r.Do = Warn, "unknown (no /proc/sys/kernel/osrelease)", "run uname -r: "+catalog.KernelRule.Problem
		return r
	}
	version := release
	r.Found = release
	if upstream != "" {
		version = upstream
		if release == "" {
			r.Found = upstream
		} else if !strings.HasPrefix(release, upstream+"-") && release != upstream {
			r.Found += ", built from " + upstream + " (/proc/version_signature)"
		}
	}
	if name := sys.osName(); name != "" {
		r.Found += " (" + name + ")"
	}
	affected, err := catalog.KernelRule.Affects(version)
	switch {
	case err != nil:
		r.Status, r.Do = Warn, fmt.Sprintf("could not read the kernel version (%v): %s", err, catalog.KernelRule.Problem)
	case affected:
		r.Status, r.Found = Warn, r.Found+": "+catalog.KernelRule.Problem
		r.Do = catalog.KernelRule.Remedy
	}
	return r
}

// ubuntuUpstream is the upstream kernel version an Ubuntu build carries:
// the third field of /proc/version_signature ("Ubuntu 7.0.0-30.30-generic
// 7.0.28" gives 7.0.28), or "" when the file is absent or has no version
// there (libbpf then falls back to uname as well).
func ubuntuUpstream(signature string) string {
	f := strings.Fields(signature)
	if len(f) < 3 {
		return ""
	}
	if _, err := catalog.ParseKernel(f[2]); err != nil {
		return ""
	}
	return f[2]
}

func orUnknown(s string) string {
	if s == "" {
		return "the CPU"
	}
	return s
}

// checkMemory compares MemTotal with rcgen's floor and Rocket.Chat's
// published minimum.
func checkMemory(sys System, _ Target) Result {
	r := Result{Name: "memory"}
	total, ok := sys.meminfo("MemTotal")
	if !ok {
		r.Status, r.Found = Warn, "unknown (no /proc/meminfo)"
		return r
	}
	r.Found = spec.FormatBytes(total)
	switch {
	case float64(total) < 0.92*float64(2*spec.GiB):
		r.Status, r.Do = Fail, "Rocket.Chat with MongoDB needs at least 2GiB (4GiB is Rocket.Chat's published minimum)"
	case float64(total) < 0.92*float64(4*spec.GiB):
		r.Status, r.Do = Warn, "below Rocket.Chat's published minimum of 4GiB: expect a small workspace only"
	}
	return r
}

// checkSwap: MongoDB's production notes advise swap, so that memory
// pressure slows the host down instead of waking the OOM killer.
func checkSwap(sys System) Result {
	r := Result{Name: "swap"}
	total, ok := sys.meminfo("SwapTotal")
	switch {
	case !ok:
		r.Status, r.Found = Warn, "unknown (no /proc/meminfo)"
	case total == 0:
		r.Status, r.Found, r.Do = Warn, "none", "add some swap (e.g. a 2GiB swap file): MongoDB's production notes advise it, so memory pressure does not end in the OOM killer"
	default:
		r.Found = spec.FormatBytes(total)
	}
	return r
}

// Disk thresholds: Rocket.Chat's table gives MongoDB 10 to 80 GB, and the
// images and metrics need a few more.
const (
	diskFail = 5 * spec.GiB
	diskWarn = 20 * spec.GiB
)

func checkDisk(sys System, t Target) Result {
	r := Result{Name: "disk"}
	if sys.DiskFree == nil {
		r.Status, r.Found = Warn, "not checked"
		return r
	}
	dir := t.Dir
	if dir == "" {
		dir = "."
	}
	free, err := sys.DiskFree(dir)
	if err != nil {
		r.Status, r.Found = Warn, fmt.Sprintf("could not read free space at %s: %v", dir, err)
		return r
	}
	r.Found = fmt.Sprintf("%s free at %s", spec.FormatBytes(int64(free)), dir)
	switch {
	case free < uint64(diskFail):
		r.Status, r.Do = Fail, "MongoDB's data, the images and the metrics need at least 5GiB; Rocket.Chat's table gives 10 to 80 GB for MongoDB alone"
	case free < uint64(diskWarn):
		r.Status, r.Do = Warn, "Rocket.Chat's table gives MongoDB 10 to 80 GB, and uploads are stored in MongoDB (GridFS) by default: plan for more"
	}
	// Docker keeps volumes in its own data root, often on another disk.
	r.Found += " (volumes live in Docker's data root, see docker info)"
	return r
}

// dockerVersion is what `docker version --format '{{json .}}'` prints.
type dockerVersion struct {
	Client struct {
		Version string `json:"Version"`
	} `json:"Client"`
	Server *struct {
		Version    string `json:"Version"`
		APIVersion string `json:"ApiVersion"`
	} `json:"Server"`
}

func checkDocker(ctx context.Context, sys System, swarm bool) []Result {
	engine := Result{Name: "docker"}
	compose := Result{Name: "compose"}
	if sys.Docker == nil {
		engine.Status, engine.Found = Warn, "not checked"
		return []Result{engine}
	}
	out, err := sys.Docker(ctx, "version", "--format", "{{json .}}")
	var v dockerVersion
	jerr := json.Unmarshal(out, &v)
	var notFound *exec.Error
	switch {
	case errors.As(err, &notFound):
		engine.Status, engine.Found = Fail, "docker is not installed"
		engine.Do = fmt.Sprintf("install Docker Engine %s or newer with the Compose plugin (https://docs.docker.com/engine/install/)", catalog.MinDockerEngine)
		return []Result{engine}
	case jerr != nil:
		engine.Status, engine.Found, engine.Do = Fail, fmt.Sprintf("docker version failed: %v", firstLine(err, out)), "check that docker works: docker version"
		return []Result{engine}
	case v.Server == nil || v.Server.Version == "":
		engine.Status, engine.Found = Fail, fmt.Sprintf("docker %s cannot reach the Docker daemon", v.Client.Version)
		engine.Do = "start it (systemctl start docker), and run rcgen as root or as a member of the docker group"
	default:
		engine.Found = "Docker Engine " + v.Server.Version
		if older(strings.SplitN(v.Server.Version, "-", 2)[0], catalog.MinDockerEngine) {
			engine.Status = Fail
			engine.Do = fmt.Sprintf("upgrade to Docker Engine %s or newer: %s", catalog.MinDockerEngine, catalog.MinDockerEngineWhy)
		}
	}
	if swarm {
		return []Result{engine}
	}
	out, err = sys.Docker(ctx, "compose", "version", "--short")
	// "2.40.3", "v2.40.3-desktop.1" or "2.40.3+ds1-0ubuntu1~24.04.1".
	ver := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	if i := strings.IndexAny(ver, "-+"); i >= 0 {
		ver = ver[:i]
	}
	switch {
	case err != nil || ver == "":
		compose.Status, compose.Found = Fail, "the Docker Compose plugin is missing"
		compose.Do = fmt.Sprintf("install docker-compose-plugin %s or newer (https://docs.docker.com/compose/install/linux/)", catalog.MinCompose)
	default:
		compose.Found = "Docker Compose " + ver
		if older(ver, catalog.MinCompose) {
			compose.Status = Fail
			compose.Do = fmt.Sprintf("upgrade to Docker Compose %s or newer: %s", catalog.MinCompose, catalog.MinComposeWhy)
		}
	}
	return []Result{engine, compose}
}

func firstLine(err error, out []byte) string {
	s := strings.TrimSpace(string(out))
	if s == "" && err != nil {
		s = err.Error()
	}
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// older reports whether version v is older than min (unparsable counts as older).
func older(v, min string) bool {
	a, err := semver.NewVersion(v)
	if err != nil {
		return true
	}
	return a.LessThan(semver.MustParse(min))
}

// checkPorts proves each published port free by listening on it.
func checkPorts(sys System, t Target) []Result {
	if sys.Listen == nil || len(t.Ports) == 0 {
		return nil
	}
	var busy, free, unchecked []string
	for _, p := range t.Ports {
		network := p.Protocol
		if network == "" {
			network = "tcp"
		}
		name := p.addr() + "/" + network
		if network == "udp" {
			continue // a UDP port in use shows on TCP 443 too; listening on UDP proves little
		}
		l, err := sys.Listen(network, p.addr())
		if errors.Is(err, syscall.EACCES) {
			unchecked = append(unchecked, name) // a port below 1024, and rcgen is not root
			continue
		}
		if err != nil {
			busy = append(busy, fmt.Sprintf("%s (%v)", name, unwrapOp(err)))
			continue
		}
		l.Close()
		free = append(free, name)
	}
	r := Result{Name: "ports", Found: "free: " + strings.Join(free, ", ")}
	if len(unchecked) > 0 {
		r.Status = Warn
		r.Found = strings.TrimPrefix(r.Found+"; not checked without root: "+strings.Join(unchecked, ", "), "free: ; ")
		r.Do = "run rcgen doctor as root to check them"
	}
	if len(busy) > 0 {
		r.Found = "in use: " + strings.Join(busy, ", ")
		if t.Exists {
			r.Status, r.Do = Warn, "if this deployment is running, its own containers hold them; otherwise stop what does (ss -ltnp)"
		} else {
			r.Status, r.Do = Fail, "stop what holds them (ss -ltnp shows it), or put Rocket.Chat behind the proxy you already run (the proxy answer: none)"
		}
	}
	return []Result{r}
}

func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// checkDNS proves, as discourse-setup does before asking Let's Encrypt,
// that the public domain points at this host.
func checkDNS(ctx context.Context, sys System, t Target) (Result, bool) {
	if !t.PublicDNS || t.Swarm || sys.LookupIP == nil {
		return Result{}, false
	}
	r := Result{Name: "dns"}
	ips, err := sys.LookupIP(ctx, t.Domain)
	if err != nil || len(ips) == 0 {
		r.Status, r.Found = Fail, fmt.Sprintf("%s does not resolve (%v)", t.Domain, err)
		r.Do = "create an A (and AAAA) record pointing at this host: Let's Encrypt cannot issue a certificate before it resolves"
		return r, true
	}
	var local []net.IP
	if sys.LocalAddrs != nil {
		local, _ = sys.LocalAddrs()
	}
	var names []string
	match := false
	for _, ip := range ips {
		names = append(names, ip.String())
		for _, l := range local {
			match = match || ip.Equal(l)
		}
	}
	r.Found = fmt.Sprintf("%s resolves to %s", t.Domain, strings.Join(names, ", "))
	if !match {
		r.Status = Warn
		r.Do = "no address of this host matches: fine behind NAT or a cloud's public IP, otherwise point the record here before starting Caddy"
	}
	return r, true
}
