package spec

import (
	"errors"
	"strings"
	"testing"
)

// TestTraefikAnswers: the traefik-labels answers are checked where given,
// refused with any other proxy, and the Swarm target takes the operator's
// Traefik but not rcgen's own.
func TestTraefikAnswers(t *testing.T) {
	nodes := func(a *Answers) {
		a.Target, a.Domain = TargetSwarm, "chat.example.com"
		for _, n := range []string{"n1=4:8GiB", "n2=4:8GiB", "n3=4:8GiB"} {
			if err := a.Nodes.Set(n); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name    string
		set     func(a *Answers)
		wantKey string // "" when valid
		want    string
	}{
		{"labels, defaults", func(a *Answers) { a.Proxy = ProxyTraefikLabels }, "", ""},
		{"labels, names", func(a *Answers) {
			a.Proxy, a.ProxyNetwork, a.ProxyCertResolver = ProxyTraefikLabels, "edge.proxy_1", "le-2"
		}, "", ""},
		{"network with caddy", func(a *Answers) { a.ProxyNetwork = "web" }, KeyProxyNetwork, "a network is for a proxy container that finds the app on it"},
		{"resolver with traefik", func(a *Answers) { a.Proxy, a.ProxyCertResolver = ProxyTraefik, "le" }, KeyProxyCertResolver, "only named with {proxy} traefik-labels"},
		{"bad network", func(a *Answers) { a.Proxy, a.ProxyNetwork = ProxyTraefikLabels, "my net" }, KeyProxyNetwork, "not a Docker network name"},
		{"bad resolver", func(a *Answers) { a.Proxy, a.ProxyCertResolver = ProxyTraefikLabels, "le.x" }, KeyProxyCertResolver, "not a certificate resolver name"},
		{"own traefik needs an email", func(a *Answers) { a.Proxy, a.Domain = ProxyTraefik, "chat.example.com" }, KeyEmail, "email address for Let's Encrypt"},
		{"labels need no email", func(a *Answers) { a.Proxy, a.Domain = ProxyTraefikLabels, "chat.example.com" }, "", ""},
		{"own certificate with labels", func(a *Answers) {
			a.Proxy, a.Domain, a.TLSCert, a.TLSKey = ProxyTraefikLabels, "chat.example.com", "c.pem", "k.pem"
		}, KeyTLSCert, "use {proxy} caddy or traefik"},
		{"swarm with labels", func(a *Answers) { nodes(a); a.Proxy = ProxyTraefikLabels }, "", ""},
		{"swarm with own traefik", func(a *Answers) { nodes(a); a.Proxy, a.Email = ProxyTraefik, "a@example.com" }, KeyProxy, "traefik-labels for your own Traefik"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Default()
			c.set(&a)
			err := a.Validate()
			if c.wantKey == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *FieldError
			for _, e := range unwrapAll(err) {
				if errors.As(e, &fe) && fe.Key == c.wantKey && strings.Contains(fe.Msg, c.want) {
					return
				}
			}
			t.Fatalf("want %s refused with %q, got %v", c.wantKey, c.want, err)
		})
	}
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
