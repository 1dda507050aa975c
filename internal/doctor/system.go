package doctor

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// System is the world the checks read: files under Root, the architecture,
// and the commands, resolver, network and file system they ask. Tests
// replace each with a fixture.
type System struct {
	// Root holds proc/cpuinfo, proc/meminfo, proc/sys/kernel/osrelease,
	// proc/version_signature (Ubuntu only) and
	// etc/os-release: "/" on a real host.
	Root string
	// Arch is the Go architecture name (amd64, arm64); "" reads it from
	// Root's /proc/cpuinfo (for a fixture or a mounted system).
	Arch string
	// Docker runs the docker command line and returns its standard output.
	Docker func(ctx context.Context, args ...string) ([]byte, error)
	// LookupIP resolves a host name.
	LookupIP func(ctx context.Context, host string) ([]net.IP, error)
	// LocalAddrs lists this host's addresses.
	LocalAddrs func() ([]net.IP, error)
	// Listen opens a listener, to prove a port is free.
	Listen func(network, addr string) (net.Listener, error)
	// DiskFree returns the bytes free to an unprivileged user on the file
	// system holding path (or its nearest existing parent).
	DiskFree func(path string) (uint64, error)
}

// This returns the System of the machine rcgen runs on.
func This() System {
	return System{
		Root: "/",
		Arch: runtime.GOARCH,
		Docker: func(ctx context.Context, args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, "docker", args...).Output()
		},
		LookupIP: func(ctx context.Context, host string) ([]net.IP, error) {
			return net.DefaultResolver.LookupIP(ctx, "ip", host)
		},
		LocalAddrs: func() ([]net.IP, error) {
			addrs, err := net.InterfaceAddrs()
			var ips []net.IP
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok {
					ips = append(ips, n.IP)
				}
			}
			return ips, err
		},
		Listen:   net.Listen,
		DiskFree: diskFree,
	}
}

func diskFree(path string) (uint64, error) {
	for p := path; ; p = filepath.Dir(p) {
		var st syscall.Statfs_t
		err := syscall.Statfs(p, &st)
		if err == nil {
			return st.Bavail * uint64(st.Bsize), nil
		}
		if !errors.Is(err, fs.ErrNotExist) || p == filepath.Dir(p) {
			return 0, err
		}
	}
}

// read returns a file under Root, trimmed; "" when it cannot be read.
func (s System) read(rel string) string {
	b, err := os.ReadFile(filepath.Join(s.Root, filepath.FromSlash(rel)))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// cpuinfo returns the first value of each key of /proc/cpuinfo.
func (s System) cpuinfo() map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s.read("proc/cpuinfo"), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if _, seen := m[k]; !seen {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// arch returns Arch, or the architecture /proc/cpuinfo describes.
func (s System) arch() string {
	if s.Arch != "" {
		return s.Arch
	}
	info := s.cpuinfo()
	switch {
	case info["flags"] != "":
		return "amd64"
	case info["CPU architecture"] == "8" || info["Features"] != "":
		return "arm64"
	}
	return runtime.GOARCH
}

// osName is PRETTY_NAME of /etc/os-release, or "".
func (s System) osName() string {
	for _, line := range strings.Split(s.read("etc/os-release"), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}

// meminfo returns a /proc/meminfo figure in bytes.
func (s System) meminfo(key string) (int64, bool) {
	for _, line := range strings.Split(s.read("proc/meminfo"), "\n") {
		v, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			return 0, false
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		if len(f) > 1 && strings.EqualFold(f[1], "kB") {
			n *= 1024
		}
		return n, true
	}
	return 0, false
}
