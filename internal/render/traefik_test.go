package render_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
)

// TestTraefikLabelsPublishNothing: behind the operator's Traefik the app
// processes and Grafana publish no port (their only way in is the Traefik
// network, external, as named), and ROOT_URL and Grafana's root are the
// https address users type.
func TestTraefikLabelsPublishNothing(t *testing.T) {
	a := spec.Default()
	a.Proxy, a.Domain, a.ProxyNetwork = spec.ProxyTraefikLabels, "chat.example.com", "web"
	a.License, a.Processes = "LIC", 2
	files := generateAnswers(t, a)
	p, err := render.LoadCompose(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s publishes %s on %q", name, port.Published, port.HostIP)
			}
		}
		labelled := s.Labels["traefik.enable"] == "true"
		if want := strings.HasPrefix(name, "rocketchat-") || name == "grafana"; labelled != want {
			t.Errorf("%s: Traefik labels %v, want %v", name, labelled, want)
		}
		if labelled && len(s.Ports) > 0 {
			t.Errorf("%s is reached through Traefik and publishes %v", name, s.Ports)
		}
	}
	if n := p.Networks["proxy"]; !bool(n.External) || n.Name != "web" {
		t.Errorf("the proxy network: %+v, want the external network web", n)
	}
	if _, ok := files.Get(render.TraefikStaticFile); ok {
		t.Error("a Traefik configuration of ours was written for the operator's Traefik")
	}
	env, _ := render.ParseEnv(mustGet(t, files, render.EnvFile).Content)
	if env["ROOT_URL"] != "https://chat.example.com" {
		t.Errorf("ROOT_URL %q", env["ROOT_URL"])
	}
	if g := p.Services["grafana"].Environment["GF_SERVER_ROOT_URL"]; g == nil || *g != "https://chat.example.com/grafana/" {
		t.Errorf("GF_SERVER_ROOT_URL %v", g)
	}
	if c := p.Services["rocketchat-1"].Labels["traefik.http.services.rocketchat.loadbalancer.sticky.cookie.name"]; c != render.StickyCookie {
		t.Errorf("sticky cookie label %q with 2 processes", c)
	}
}
