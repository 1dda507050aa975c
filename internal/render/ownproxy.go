package render

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/rcgen/rcgen/internal/spec"
)

// Files rcgen writes for a proxy installed on the host (--proxy host).
const (
	HostNginxFile = "proxy/nginx.conf"
	HostCaddyFile = "proxy/Caddyfile"
)

// ProxyNetworkKey is the compose key of the user's proxy network.
const ProxyNetworkKey = "proxy"

// StickyCookie is the cookie every proxy rcgen configures keeps a browser
// on one app process with (Caddy's lb_policy cookie, the host nginx map).
const StickyCookie = "rcgen_lb"

// BodyLimit is the request body a proxy on the host lets through: a little
// above Rocket.Chat's own upload limit (FileUpload_MaxFileSize, 100 MiB by
// default: apps/meteor/server/settings/file-upload.ts), so that Rocket.Chat,
// which names the limit, refuses a large file, not nginx's bare 413 (nginx
// takes 1m by default: ngx_http_core_module, client_max_body_size). The
// headroom is the multipart envelope around the file.
const BodyLimit = "110m"

// KV is one environment variable or label of the app services.
type KV struct{ Key, Value string }

// ownProxy fills in what the user's own proxy needs of the app services:
// the external network, the environment nginx-proxy reads, the labels
// caddy-docker-proxy reads.
func (d *Data) ownProxy() {
	a := d.Answers
	d.ProxyNetwork = a.ProxyNetworkName()
	host := d.HostName()
	switch a.Proxy {
	case spec.ProxyNginxProxy:
		// nginx-proxy's contract (nginx-proxy/nginx-proxy docs/README.md,
		// "Virtual Hosts and Ports"): VIRTUAL_HOST routes the name here;
		// VIRTUAL_PORT picks 3000 (the container exposes the metrics port
		// too, and with more than one port nginx-proxy would take 80).
		d.ProxyEnv = []KV{{"VIRTUAL_HOST", host}, {"VIRTUAL_PORT", fmt.Sprint(AppPort)}}
		if a.TLSMode() == spec.TLSACME {
			// acme-companion: ACME_HOST is the current name
			// (nginx-proxy/acme-companion#1278), LETSENCRYPT_HOST the one
			// companions released before it read (the new ones still do):
			// both, with the same value, work with either.
			d.ProxyEnv = append(d.ProxyEnv, KV{"ACME_HOST", host}, KV{"LETSENCRYPT_HOST", host})
			if a.Email != "" {
				// Likewise ACME_EMAIL (acme-companion#1281) and LETSENCRYPT_EMAIL.
				d.ProxyEnv = append(d.ProxyEnv, KV{"ACME_EMAIL", a.Email}, KV{"LETSENCRYPT_EMAIL", a.Email})
			}
		}
		if len(d.Apps) > 1 {
			// nginx-proxy has no cookie affinity; its loadbalance label
			// (docs/README.md, "Upstream Server HTTP Load Balancing
			// Support") puts any ngx_http_upstream_module directive in the
			// upstream: a consistent hash of the client's address keeps a
			// browser on one process (and moves few when one is added).
			d.ProxyLabels = []KV{{"com.github.nginx-proxy.nginx-proxy.loadbalance", "hash $remote_addr consistent;"}}
		}
	case spec.ProxyCaddyDockerProxy:
		// lucaslorentz/caddy-docker-proxy README.md, "Labels to Caddyfile
		// conversion": `caddy` opens the site block, dots nest; every app
		// container carries the same labels and the plugin merges their
		// reverse_proxy upstreams into one (plugin/caddyfile merge:
		// same directive and matcher). {{upstreams 3000}} is each
		// container's address on the ingress network, which
		// caddy_ingress_network names per container (README, "upstreams").
		site := host
		if a.TLSMode() == spec.TLSNone {
			site = "http://" + host
		}
		d.ProxyLabels = []KV{
			{"caddy", site},
			{"caddy_ingress_network", d.ProxyNetwork},
			{"caddy.reverse_proxy", fmt.Sprintf("{{upstreams %d}}", AppPort)},
			// Rocket.Chat falls back to X-Real-IP when X-Forwarded-For is
			// short: a client must not choose it.
			{"caddy.reverse_proxy.header_up", "-X-Real-IP"},
			{"caddy.reverse_proxy.lb_try_duration", "10s"},
		}
		if len(d.Apps) > 1 {
			d.ProxyLabels = append(d.ProxyLabels,
				KV{"caddy.reverse_proxy.lb_policy", "cookie " + StickyCookie},
				KV{"caddy.reverse_proxy.fail_duration", "30s"},
				KV{"caddy.reverse_proxy.max_fails", "3"})
		}
		switch a.TLSMode() {
		case spec.TLSInternal:
			d.ProxyLabels = append(d.ProxyLabels, KV{"caddy.tls", "internal"})
		}
		if a.TLSMode() != spec.TLSNone {
			d.ProxyLabels = append(d.ProxyLabels, KV{"caddy.header", `Strict-Transport-Security "max-age=31536000"`})
		}
	}
}

// UpstreamName is the nginx upstream of the host snippet.
func (d *Data) UpstreamName() string {
	return "rcgen_" + strings.ReplaceAll(d.Answers.Project, "-", "_")
}

// ProxyHasOwnTLS reports whether the host snippet serves https.
func (d *Data) ProxyHasOwnTLS() bool { return d.TLSMode != spec.TLSNone }

// HostName is the domain as a proxy names the site: an IPv6 address in
// brackets (nginx's server_name, Caddy's site address).
func (d *Data) HostName() string {
	if ip, err := netip.ParseAddr(d.Answers.Domain); err == nil && ip.Is6() {
		return "[" + d.Answers.Domain + "]"
	}
	return d.Answers.Domain
}
