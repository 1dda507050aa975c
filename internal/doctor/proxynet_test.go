package doctor

import (
	"context"
	"os/exec"
	"strings"
	"testing"
)

// TestProxyNetwork: the network the operator's proxy reaches the app on
// is checked as docker answers for it: missing (with the command that
// creates it), a bridge network for a Swarm stack, one no proxy is on,
// and one the proxy is on.
func TestProxyNetwork(t *testing.T) {
	answer := func(out string, stderr string) System {
		return System{Docker: func(_ context.Context, args ...string) ([]byte, error) {
			if strings.Join(args[:2], " ") != "network inspect" || args[len(args)-1] != "edge" {
				t.Errorf("docker %v", args)
			}
			if stderr != "" {
				return nil, &exec.ExitError{Stderr: []byte(stderr)}
			}
			return []byte(out), nil
		}}
	}
	cases := []struct {
		name   string
		sys    System
		swarm  bool
		status Status
		says   []string
	}{
		{"missing", answer("", "Error response from daemon: network edge not found\n"), false, Fail,
			[]string{"edge that traefik-labels reaches the app on does not exist", "docker network create edge", "--proxy-network"}},
		{"missing on Swarm", answer("", "Error: No such network: edge\n"), true, Fail,
			[]string{"docker network create --driver overlay --attachable edge"}},
		{"bridge for a stack", answer("bridge local false\n", ""), true, Fail,
			[]string{"bridge network of scope local", "attachable overlay"}},
		{"nobody on it", answer("bridge local false\nchat-rocketchat-1\n", ""), false, Warn,
			[]string{"no container other than this deployment's", "docker network connect edge"}},
		{"the proxy on it", answer("bridge local false\nchat-rocketchat-1\ntraefik\n", ""), false, OK,
			[]string{"on it: traefik"}},
		{"overlay on Swarm", answer("overlay swarm true\n", ""), true, OK,
			[]string{"attachable overlay"}},
		{"daemon down", answer("", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"), false, Warn,
			[]string{"could not inspect", "Cannot connect to the Docker daemon"}},
	}
	for _, c := range cases {
		r := ProxyNetwork(context.Background(), c.sys, "edge", "traefik-labels", "chat", c.swarm)
		if r.Status != c.status {
			t.Errorf("%s: %s, want %s", c.name, r, c.status)
		}
		for _, s := range c.says {
			if !strings.Contains(r.String(), s) {
				t.Errorf("%s: %q does not say %q", c.name, r, s)
			}
		}
	}
}
