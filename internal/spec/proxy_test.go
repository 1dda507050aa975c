package spec

import (
	"strings"
	"testing"
)

// TestOwnProxies: what each proxy answer means for the address users see,
// the network the app joins, and which combinations are refused.
func TestOwnProxies(t *testing.T) {
	for _, c := range []struct {
		proxy, network, domain string
		allowIP                bool
		url, joins, err        string
	}{
		{ProxyHost, "", "chat.example.com", false, "https://chat.example.com", "", ""},
		{ProxyHost, "", "localhost", false, "http://localhost", "", ""},
		{ProxyHost, "", "192.0.2.10", true, "http://192.0.2.10", "", ""},
		{ProxyNone, "", "localhost", false, "http://localhost:3000", "", ""}, // as before host
		{ProxyNginxProxy, "", "chat.example.com", false, "https://chat.example.com", DefaultNginxProxyNetwork, ""},
		{ProxyCaddyDockerProxy, "", "chat.home.arpa", false, "https://chat.home.arpa", DefaultCaddyDockerNetwork, ""},
		{ProxyCaddyDockerProxy, "web", "chat.example.com", false, "https://chat.example.com", "web", ""},
		{ProxyHost, "web", "chat.example.com", false, "", "", "proxy_network: a network is for a proxy container"},
		{ProxyCaddy, "web", "chat.example.com", false, "", "", "proxy_network: a network is for a proxy container"},
		{ProxyNginxProxy, "-web", "chat.example.com", false, "", "", `proxy_network: "-web" is not a Docker network name`},
		{"traefik2", "", "chat.example.com", false, "", "", `proxy: "traefik2" is not a proxy rcgen knows`},
	} {
		a := Default()
		a.Proxy, a.ProxyNetwork, a.Domain, a.AllowIP = c.proxy, c.network, c.domain, c.allowIP
		err := a.Validate()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s %q: Validate() = %v, want %q", c.proxy, c.network, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q %s: %v", c.proxy, c.network, c.domain, err)
			continue
		}
		if got := a.PublicURL(); got != c.url {
			t.Errorf("%s %s: PublicURL %q, want %q", c.proxy, c.domain, got, c.url)
		}
		if got := a.ProxyNetworkName(); got != c.joins {
			t.Errorf("%s %q: network %q, want %q", c.proxy, c.network, got, c.joins)
		}
	}
}
