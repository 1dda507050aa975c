package doctor

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(name string) System {
	return System{Root: filepath.Join("testdata", "hosts", name)}
}

func find(t *testing.T, rs []Result, name string) Result {
	t.Helper()
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s check in %v", name, rs)
	return Result{}
}

// TestHostFixtures: each machine MongoDB or Rocket.Chat cannot run on is
// caught by the check that explains it, and good machines pass.
func TestHostFixtures(t *testing.T) {
	cases := []struct {
		host  string
		check string
		want  Status
		says  string
	}{
		{"atom-c2538", "cpu", Fail, "C2538"},
		{"pentium-g5400", "cpu", Fail, "has no AVX"},
		{"raspberry-pi-4", "cpu", Fail, "older than ARMv8.2-A"},
		{"raspberry-pi-4", "architecture", Warn, "linux/arm64"},
		{"raspberry-pi-5", "cpu", OK, "ARMv8.2-A"},
		{"ubuntu-2604", "kernel", Warn, "7.0.0-15-generic (Ubuntu 26.04 LTS): MongoDB 8 crashes"},
		{"ubuntu-2604", "cpu", OK, "has AVX"},
		{"kernel-7.0.14", "kernel", OK, "7.0.14"},
		// Ubuntu keeps 7.0.0 in the release of every 26.04 kernel; the
		// upstream version it carries is in /proc/version_signature.
		{"ubuntu-2604-fixed", "kernel", OK, "7.0.0-30-generic, built from 7.0.28 (/proc/version_signature) (Ubuntu 26.04.1 LTS)"},
		{"ubuntu-2604-unfixed", "kernel", Warn, "7.0.0-15-generic, built from 7.0.9 (/proc/version_signature) (Ubuntu 26.04 LTS): MongoDB 8 crashes"},
		{"lxc-container", "kernel", OK, "6.8.12-4-pve"},
		{"atom-c2538", "architecture", OK, "linux/amd64"},
	}
	for _, c := range cases {
		r := find(t, Host(fixture(c.host)), c.check)
		if r.Status != c.want || !strings.Contains(r.Found, c.says) {
			t.Errorf("%s %s: %s", c.host, c.check, r)
		}
		if !r.Host {
			t.Errorf("%s is not marked as a host check", c.check)
		}
	}
	k := find(t, Host(fixture("ubuntu-2604")), "kernel")
	if !strings.Contains(k.Do, "GLIBC_TUNABLES=glibc.pthread.rseq=1") {
		t.Errorf("the kernel warning does not say what the stack does about it: %s", k)
	}
}

// TestUbuntuUpstream reads /proc/version_signature as libbpf does, and
// gives nothing (uname's release is used) when it says no version.
func TestUbuntuUpstream(t *testing.T) {
	for sig, want := range map[string]string{
		"Ubuntu 7.0.0-30.30-generic 7.0.28":  "7.0.28",
		"Ubuntu 5.4.0-12.15-generic 5.4.8":   "5.4.8",
		"":                                   "",
		"Ubuntu 7.0.0-30.30-generic":         "",
		"Ubuntu 7.0.0-30.30-generic unknown": "",
	} {
		if got := ubuntuUpstream(sig); got != want {
			t.Errorf("ubuntuUpstream(%q) = %q, want %q", sig, got, want)
		}
	}
}

func TestMemorySwapDisk(t *testing.T) {
	lxc := fixture("lxc-container")
	lxc.DiskFree = func(string) (uint64, error) { return 3 << 30, nil }
	rs := Environment(context.Background(), lxc, Target{Dir: "/srv/rc"})
	if r := find(t, rs, "memory"); r.Status != Warn || r.Found != "2GiB" {
		t.Errorf("memory: %s", r)
	}
	if r := find(t, rs, "swap"); r.Status != Warn || r.Found != "none" {
		t.Errorf("swap: %s", r)
	}
	if r := find(t, rs, "disk"); r.Status != Fail || !strings.Contains(r.Found, "3GiB free at /srv/rc") {
		t.Errorf("disk: %s", r)
	}
	big := fixture("kernel-7.0.14")
	big.DiskFree = func(string) (uint64, error) { return 100 << 30, nil }
	rs = Environment(context.Background(), big, Target{})
	for _, name := range []string{"memory", "swap", "disk"} {
		if r := find(t, rs, name); r.Status != OK {
			t.Errorf("%s on a good host: %s", name, r)
		}
	}
}

// fakeDocker answers like the docker CLI does (outputs recorded from
// docker 28 and 29 and the compose plugin).
func fakeDocker(version, compose string, daemon bool) func(context.Context, ...string) ([]byte, error) {
	return func(_ context.Context, args ...string) ([]byte, error) {
		switch strings.Join(args, " ") {
		case "version --format {{json .}}":
			if !daemon {
				return []byte(`{"Client":{"Version":"` + version + `","ApiVersion":"1.51"},"Server":null}`), errors.New("exit status 1")
			}
			return []byte(`{"Client":{"Version":"` + version + `","ApiVersion":"1.51"},"Server":{"Version":"` + version + `","ApiVersion":"1.51","MinAPIVersion":"1.24"}}`), nil
		case "compose version --short":
			if compose == "" {
				return []byte("docker: 'compose' is not a docker command.\n"), errors.New("exit status 1")
			}
			return []byte(compose + "\n"), nil
		}
		return nil, errors.New("unexpected docker " + strings.Join(args, " "))
	}
}

func TestDocker(t *testing.T) {
	cases := []struct {
		name            string
		docker          func(context.Context, ...string) ([]byte, error)
		engine, compose Status
		says            string
	}{
		{"current", fakeDocker("28.2.2", "2.40.3+ds1-0ubuntu1~24.04.1", true), OK, OK, "Docker Compose 2.40.3"},
		{"compose v5 and desktop", fakeDocker("29.5.3", "v5.5.0-desktop.1", true), OK, OK, "Docker Compose 5.5.0"},
		{"old compose", fakeDocker("24.0.7", "2.12.2", true), OK, Fail, "before 2.14.2"},
		{"old engine", fakeDocker("19.03.15", "2.20.0", true), Fail, OK, "20.10"},
		{"no compose plugin", fakeDocker("28.2.2", "", true), OK, Fail, "docker-compose-plugin"},
		{"daemon down", fakeDocker("28.2.2", "2.40.3", false), Fail, OK, "cannot reach the Docker daemon"},
	}
	for _, c := range cases {
		rs := checkDocker(context.Background(), System{Docker: c.docker}, false)
		e, cp := find(t, rs, "docker"), find(t, rs, "compose")
		text := e.String() + " / " + cp.String()
		if e.Status != c.engine || cp.Status != c.compose || !strings.Contains(text, c.says) {
			t.Errorf("%s: %s", c.name, text)
		}
	}
	// A Swarm stack needs no Compose plugin: docker stack deploy is the CLI's.
	if rs := checkDocker(context.Background(), System{Docker: fakeDocker("28.2.2", "", true)}, true); len(rs) != 1 || rs[0].Name != "docker" || rs[0].Status != OK {
		t.Errorf("Swarm without the Compose plugin: %v", rs)
	}
	missing := System{Docker: func(context.Context, ...string) ([]byte, error) {
		return nil, &exec.Error{Name: "docker", Err: exec.ErrNotFound}
	}}
	if r := find(t, checkDocker(context.Background(), missing, false), "docker"); r.Status != Fail || !strings.Contains(r.Do, "install Docker Engine") {
		t.Errorf("no docker: %s", r)
	}
}

// TestPorts holds a port on loopback and checks doctor sees it taken.
func TestPorts(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := held.Addr().(*net.TCPAddr).Port
	sys := System{Listen: net.Listen}
	target := Target{Ports: []Port{{HostIP: "127.0.0.1", Port: port, Protocol: "tcp"}}}
	r := checkPorts(sys, target)[0]
	if r.Status != Fail || !strings.Contains(r.Found, "in use: 127.0.0.1:") {
		t.Errorf("a held port: %s", r)
	}
	target.Exists = true
	if r := checkPorts(sys, target)[0]; r.Status != Warn {
		t.Errorf("a held port of an existing deployment: %s", r)
	}
	held.Close()
	if r := checkPorts(sys, Target{Ports: target.Ports})[0]; r.Status != OK {
		t.Errorf("a free port: %s", r)
	}
}

func TestDNS(t *testing.T) {
	here := net.ParseIP("203.0.113.7")
	sys := System{
		LocalAddrs: func() ([]net.IP, error) { return []net.IP{net.ParseIP("127.0.0.1"), here}, nil },
		LookupIP: func(_ context.Context, host string) ([]net.IP, error) {
			switch host {
			case "chat.example.com":
				return []net.IP{here}, nil
			case "elsewhere.example.com":
				return []net.IP{net.ParseIP("198.51.100.9")}, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		},
	}
	for domain, want := range map[string]Status{"chat.example.com": OK, "elsewhere.example.com": Warn, "missing.example.com": Fail} {
		r, ok := checkDNS(context.Background(), sys, Target{Domain: domain, PublicDNS: true})
		if !ok || r.Status != want {
			t.Errorf("%s: %s", domain, r)
		}
	}
	if _, ok := checkDNS(context.Background(), sys, Target{Domain: "localhost"}); ok {
		t.Error("DNS checked for a domain that needs no certificate")
	}
}
