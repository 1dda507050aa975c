package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// Paths of Traefik's configuration (proxy traefik), relative to the
// deployment directory.
const (
	TraefikStaticFile  = "traefik/traefik.yml"
	TraefikDynamicFile = "traefik/dynamic.yml"
	// TraefikMetricPort is Traefik's metrics and ping entry point, on the
	// internal network only (8082 is the port of Traefik's own
	// "traefik" entry point for them: install-configuration/observability).
	TraefikMetricPort = 8082
)

// Label is one Docker label (traefik-labels), in the order written.
type Label struct{ Key, Value string }

// Traefik is what Traefik's configuration says, from the answers: for
// rcgen's own Traefik (proxy traefik) and for the operator's, by labels
// (proxy traefik-labels). Every rule and label is built here; the
// templates lay them out.
type Traefik struct {
	// EntryPoint is the entry point the routers listen on: websecure with
	// TLS, web without (the names Traefik's documentation uses).
	EntryPoint string
	// TLS is set when the router serves HTTPS.
	TLS bool
	// AppRule and GrafanaRule are the routers' rules: the domain, without
	// the metrics paths.
	AppRule, GrafanaRule string
	// Middlewares of the app's router and of Grafana's.
	Middlewares, GrafanaMiddlewares []string
	// Network is the operator's Traefik network (traefik-labels).
	Network string
	// AppLabels and GrafanaLabels are the labels of each app process (on
	// Swarm: of the app service) and of Grafana (traefik-labels).
	AppLabels, GrafanaLabels []Label
}

// blockedPaths are the paths no router matches, so Traefik answers 404:
// the app's metrics and Grafana's (as the Caddyfile blocks them).
// Traefik's rule syntax: routing-configuration/http/routing/rules-and-priority.md
// (PathRegexp, Go's regexp syntax; negation with !).
const blockedPaths = "!PathRegexp(`^/(grafana/)?metrics(/|$)`)"

// deriveTraefik fills d.Traefik for the Traefik proxies; nil otherwise.
func deriveTraefik(a spec.Answers, d *Data) *Traefik {
	if a.Proxy != spec.ProxyTraefik && a.Proxy != spec.ProxyTraefikLabels {
		return nil
	}
	t := &Traefik{EntryPoint: "web"}
	if d.TLSMode != spec.TLSNone {
		t.EntryPoint, t.TLS = "websecure", true
	}
	host := fmt.Sprintf("Host(`%s`)", a.Domain)
	t.AppRule = host + " && " + blockedPaths
	t.GrafanaRule = host + " && PathRegexp(`^/grafana(/|$)`) && !PathRegexp(`^/grafana/metrics(/|$)`)"
	if a.Proxy == spec.ProxyTraefik {
		if t.TLS {
			t.Middlewares = append(t.Middlewares, "hsts")
		}
		t.Middlewares = append(t.Middlewares, "retry")
		t.GrafanaMiddlewares = append(without(t.Middlewares, "retry"), "grafana-prefix")
		return t
	}
	t.Network = a.Network()
	t.AppLabels, t.GrafanaLabels = traefikLabels(a, d, t)
	return t
}

// without returns ms without drop.
func without(ms []string, drop string) []string {
	var out []string
	for _, m := range ms {
		if m != drop {
			out = append(out, m)
		}
	}
	return out
}

// traefikLabels are the labels the operator's Traefik reads from the app
// processes and Grafana: Docker provider labels, or on Swarm the Swarm
// provider's (deploy.labels). Names are prefixed with the project, as the
// operator's Traefik serves other apps too. References:
// doc.traefik.io/traefik/reference/routing-configuration/other-providers/docker/
// and .../swarm/ (traefik.enable, traefik.docker.network /
// traefik.swarm.network), routing-configuration/http/routing/router.md
// (rule, entrypoints, tls.certresolver, middlewares, service) and
// http/load-balancing/service.md (server.port, sticky.cookie.*,
// healthcheck.*, passivehealthcheck.*): the label keys are those options
// under traefik.http.routers.NAME. and traefik.http.services.NAME.
// lowercased.
func traefikLabels(a spec.Answers, d *Data, t *Traefik) (app, grafana []Label) {
	name := a.Project
	router := "traefik.http.routers." + name
	service := "traefik.http.services." + name
	mw := "traefik.http.middlewares." + name
	provider := "traefik.docker.network"
	if d.Swarm != nil {
		provider = "traefik.swarm.network"
	}
	add := func(ls *[]Label, k, v string) { *ls = append(*ls, Label{k, v}) }
	common := func(ls *[]Label, r string) {
		add(ls, "traefik.enable", "true")
		add(ls, provider, t.Network)
		add(ls, r+".entrypoints", t.EntryPoint)
		if t.TLS {
			add(ls, r+".tls", "true")
			if d.TLSMode == spec.TLSACME {
				add(ls, r+".tls.certresolver", a.CertResolver())
			}
		}
	}
	var mws []string
	if t.TLS {
		mws = append(mws, name+"-hsts")
	}
	common(&app, router)
	add(&app, router+".rule", t.AppRule)
	add(&app, router+".service", name)
	// A request that reaches no process is tried again, on another when
	// there is one, as rcgen's own Traefik does (dynamic.yml's retry;
	// middlewares/retry.md: only when no answer came back): a browser whose
	// process died or restarts waits instead of getting a 502.
	add(&app, router+".middlewares", strings.Join(append(slices.Clone(mws), name+"-retry"), ","))
	if t.TLS {
		add(&app, mw+"-hsts.headers.stsseconds", "31536000")
	}
	add(&app, mw+"-retry.retry.attempts", "4")
	add(&app, mw+"-retry.retry.initialinterval", "500ms")
	add(&app, service+".loadbalancer.server.port", fmt.Sprint(AppPort))
	if len(d.Apps) > 1 {
		add(&app, service+".loadbalancer.sticky.cookie.name", StickyCookie)
		add(&app, service+".loadbalancer.sticky.cookie.httponly", "true")
		if t.TLS {
			add(&app, service+".loadbalancer.sticky.cookie.secure", "true")
		}
		if d.ReadyPath != "" {
			add(&app, service+".loadbalancer.healthcheck.path", d.ReadyPath)
			add(&app, service+".loadbalancer.healthcheck.interval", "10s")
			add(&app, service+".loadbalancer.healthcheck.timeout", "5s")
		}
		add(&app, service+".loadbalancer.passivehealthcheck.maxfailedattempts", "3")
		add(&app, service+".loadbalancer.passivehealthcheck.failurewindow", "30s")
	}
	if !d.Has("grafana") {
		return app, nil
	}
	gr, gs := router+"-grafana", service+"-grafana"
	common(&grafana, gr)
	add(&grafana, gr+".rule", t.GrafanaRule)
	add(&grafana, gr+".service", name+"-grafana")
	add(&grafana, gr+".middlewares", strings.Join(append(mws, name+"-grafana-prefix"), ","))
	add(&grafana, mw+"-grafana-prefix.stripprefix.prefixes", "/grafana")
	if t.TLS {
		// Defined again here: each container's middlewares are its own
		// (identical definitions on several containers merge).
		add(&grafana, mw+"-hsts.headers.stsseconds", "31536000")
	}
	add(&grafana, gs+".loadbalancer.server.port", "3000")
	return app, grafana
}

// ProxyName is the proxy rcgen runs, as the README names it ("Caddy",
// "Traefik"), or "" when it runs none.
func (d *Data) ProxyName() string {
	switch {
	case d.Has(sizing.Caddy):
		return "Caddy"
	case d.Has(sizing.Traefik):
		return "Traefik"
	}
	return ""
}
