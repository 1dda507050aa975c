// Package hostproxy tells which reverse proxy a host already runs, for the
// wizard's default: a container named, labelled or built from an image like
// Traefik, nginx-proxy or caddy-docker-proxy (docker ps), else a process
// listening on port 80 or 443 (/proc/net/tcp and tcp6). It only reads;
// every source is injectable, and a missing one (no Docker) finds nothing.
package hostproxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Kinds of proxy found: the --proxy answer each one means.
const (
	NginxProxy       = "nginx-proxy"
	CaddyDockerProxy = "caddy-docker-proxy"
	TraefikLabels    = "traefik-labels"
	Host             = "host"
)

// Finding is what Detect saw: Proxy is "" when nothing.
type Finding struct {
	Proxy string
	// Network is a Docker network the proxy's container is on ("" unknown).
	Network string
	// Seen says what was seen, for the person: "container nginx-proxy
	// (nginxproxy/nginx-proxy:1.6)".
	Seen string
}

// Sources are what Detect reads.
type Sources struct {
	// DockerPS prints `docker ps --format json` (a JSON object a line); an
	// error (no Docker, no permission) finds no container.
	DockerPS func() ([]byte, error)
	// Proc is the proc file system ("" is /proc).
	Proc string
}

// System reads this machine.
func System() Sources {
	return Sources{DockerPS: func() ([]byte, error) {
		// A Docker that does not answer must not hold the wizard.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return exec.CommandContext(ctx, "docker", "ps", "--format", "json").Output()
	}}
}

// container is the part of a `docker ps --format json` line Detect reads
// (docker/cli formatter: Names, Image, Labels and Networks are
// comma-separated strings).
type container struct {
	Names, Image, Labels, Networks string
}

// Detect returns the proxy the host seems to run: containers first (a
// container's published port is a docker-proxy listener too), then any
// listener on 80 or 443, which a proxy installed on the host would be.
func Detect(s Sources) Finding {
	if s.DockerPS != nil {
		if out, err := s.DockerPS(); err == nil {
			if f := fromContainers(out); f.Proxy != "" {
				return f
			}
		}
	}
	proc := s.Proc
	if proc == "" {
		proc = "/proc"
	}
	for _, port := range []int{443, 80} {
		if listening(proc, port) {
			return Finding{Proxy: Host, Seen: fmt.Sprintf("a process listening on port %d", port)}
		}
	}
	return Finding{}
}

// fromContainers classifies the containers docker ps lists.
func fromContainers(out []byte) Finding {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var c container
		if json.Unmarshal(sc.Bytes(), &c) != nil {
			continue
		}
		kind := classify(c)
		if kind == "" {
			continue
		}
		network, _, _ := strings.Cut(c.Networks, ",")
		return Finding{Proxy: kind, Network: network, Seen: fmt.Sprintf("container %s (%s)", c.Names, c.Image)}
	}
	return Finding{}
}

func classify(c container) string {
	image := strings.ToLower(c.Image)
	name := strings.ToLower(c.Names)
	labels := strings.ToLower(c.Labels)
	switch {
	case strings.Contains(image, "caddy-docker-proxy") || strings.Contains(name, "caddy-docker-proxy"):
		return CaddyDockerProxy
	// The acme-companion finds nginx-proxy by this label
	// (nginx-proxy/acme-companion docs: com.github.nginx-proxy.nginx).
	case strings.Contains(image, "nginx-proxy") || strings.Contains(name, "nginx-proxy") || strings.Contains(labels, "com.github.nginx-proxy.nginx"):
		return NginxProxy
	case strings.Contains(image, "traefik") || strings.Contains(name, "traefik"):
		return TraefikLabels
	case strings.Contains(name, "caddy") || strings.HasPrefix(image, "caddy") || strings.Contains(image, "/caddy"):
		// A container named caddy that publishes the web ports: most
		// likely caddy-docker-proxy; the wizard lets the person say.
		return CaddyDockerProxy
	}
	return ""
}

// listening reports whether a TCP socket listens on port (/proc/net/tcp
// and tcp6: local_address is HEX_IP:HEX_PORT, st 0A is LISTEN; proc(5)).
func listening(proc string, port int) bool {
	for _, f := range []string{"net/tcp", "net/tcp6"} {
		b, err := os.ReadFile(filepath.Join(proc, f))
		if err != nil {
			continue
		}
		lines := strings.Split(string(b), "\n")
		for _, l := range lines[min(1, len(lines)):] {
			fs := strings.Fields(l)
			if len(fs) < 4 || fs[3] != "0A" {
				continue
			}
			_, hexPort, ok := strings.Cut(fs[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); ok && err == nil && int(p) == port {
				return true
			}
		}
	}
	return false
}
