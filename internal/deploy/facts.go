package deploy

import (
	"fmt"
	"maps"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
)

// Compose is what the deployment's compose.yaml says about its data: the
// project name (which prefixes every volume) and its services.
type Compose struct {
	Name     string
	Services []string
	// MemberNodes maps a MongoDB member of a Swarm stack to the node its
	// data is on (the service label rcgen.node).
	MemberNodes map[string]string
	// Swarm is set when the file is a Swarm stack (stack.yaml).
	Swarm bool
	// Proxy is the user's proxy the app processes are set up for, as
	// their environment and labels show (nginx-proxy's VIRTUAL_HOST,
	// caddy-docker-proxy's caddy label), and ProxyNetwork the external
	// network they join; "" when neither shows.
	Proxy, ProxyNetwork string
	// ProxyCertResolver is the operator's Traefik certificate resolver
	// the app router names (traefik-labels), "" when none.
	ProxyCertResolver string
	// AppReplicas is a Swarm stack's app tasks (service rocketchat's
	// deploy.replicas).
	AppReplicas int
}

// Members counts the MongoDB members (mongodb-N services).
func (c Compose) Members() int {
	n := 0
	for _, s := range c.Services {
		if memberRe.MatchString(s) {
			n++
		}
	}
	return n
}

var memberRe = regexp.MustCompile(`^mongodb-[0-9]+$`)

func parseCompose(b []byte) (Compose, error) {
	var doc struct {
		Name     string `yaml:"name"`
		Services map[string]struct {
			Deploy struct {
				Labels   map[string]string `yaml:"labels"`
				Replicas any               `yaml:"replicas"`
			} `yaml:"deploy"`
			Labels      map[string]string `yaml:"labels"`
			Environment map[string]any    `yaml:"environment"`
		} `yaml:"services"`
		Networks map[string]struct {
			Name     string `yaml:"name"`
			External bool   `yaml:"external"`
		} `yaml:"networks"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Compose{}, err
	}
	c := Compose{Name: doc.Name}
	for s, svc := range doc.Services {
		c.Services = append(c.Services, s)
		if n, ok := svc.Deploy.Replicas.(int); ok && s == "rocketchat" {
			c.AppReplicas = n
		}
		if n := svc.Deploy.Labels["rcgen.node"]; n != "" && memberRe.MatchString(s) {
			if c.MemberNodes == nil {
				c.MemberNodes = map[string]string{}
			}
			c.MemberNodes[s] = n
		}
	}
	slices.Sort(c.Services)
	app, ok := doc.Services["rocketchat-1"]
	if !ok {
		app, ok = doc.Services["rocketchat"] // Swarm: one service, its labels under deploy
	}
	if ok {
		labels := maps.Clone(app.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		maps.Copy(labels, app.Deploy.Labels)
		switch {
		case app.Environment["VIRTUAL_HOST"] != nil:
			c.Proxy = spec.ProxyNginxProxy
		case labels["caddy"] != "":
			c.Proxy = spec.ProxyCaddyDockerProxy
		case labels["traefik.enable"] == "true":
			c.Proxy = spec.ProxyTraefikLabels
			c.ProxyCertResolver = labels["traefik.http.routers."+doc.Name+".tls.certresolver"]
		}
	}
	if nw, ok := doc.Networks[render.ProxyNetworkKey]; ok && nw.External {
		c.ProxyNetwork = nw.Name
	}
	return c, nil
}

// UserEnvLines returns the lines of the deployment's .env that rcgen does
// not own (a variable a compose.override.yaml reads, say), as they are.
func (d *Deployment) UserEnvLines() []string {
	var keep []string
	for _, line := range strings.Split(string(d.EnvRaw), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		kv, err := render.ParseEnv([]byte(line))
		if err != nil || len(kv) != 1 {
			continue
		}
		for k := range kv {
			if !render.OwnsEnvKey(k) {
				keep = append(keep, line)
			}
		}
	}
	return keep
}

// recoverAnswers rebuilds the answers of a deployment that lost its
// rcgen.yaml from what it still holds: .env's public address, email and
// release, and compose.yaml's project, members, proxy and monitoring.
func (d *Deployment) recoverAnswers() *spec.Layer {
	domain := d.Env[render.EnvDomain]
	if domain == "" || d.Compose.Name == "" {
		return nil
	}
	var a spec.Answers
	keys := []string{spec.KeyProject, spec.KeyDomain}
	a.Project, a.Domain = d.Compose.Name, domain
	if _, err := netip.ParseAddr(domain); err == nil {
		a.AllowIP = true
		keys = append(keys, spec.KeyAllowIP)
	}
	if v := d.Env[render.EnvRocketChatVersion]; v != "" {
		a.RocketChatVersion = v
		keys = append(keys, spec.KeyVersion)
	}
	if e := d.Env[render.EnvACMEEmail]; e != "" {
		a.Email = e
		keys = append(keys, spec.KeyEmail)
	}
	if n := d.Compose.Members(); n > 0 {
		a.MongoDBMembers = n
		keys = append(keys, spec.KeyMembers)
	}
	a.Proxy = spec.ProxyNone
	switch {
	case slices.Contains(d.Compose.Services, "caddy"):
		a.Proxy = spec.ProxyCaddy
	case d.Compose.Proxy != "":
		a.Proxy, a.ProxyNetwork = d.Compose.Proxy, d.Compose.ProxyNetwork
		keys = append(keys, spec.KeyProxyNetwork)
		if d.Compose.ProxyCertResolver != "" {
			a.ProxyCertResolver = d.Compose.ProxyCertResolver
			keys = append(keys, spec.KeyProxyCertResolver)
		}
	case fileExists(filepath.Join(d.Dir, filepath.FromSlash(render.HostNginxFile))):
		a.Proxy = spec.ProxyHost
	case slices.Contains(d.Compose.Services, "traefik"):
		a.Proxy = spec.ProxyTraefik
	}
	a.Monitoring = slices.Contains(d.Compose.Services, "prometheus")
	keys = append(keys, spec.KeyProxy, spec.KeyMonitoring)
	l := spec.LayerOf(spec.FromDeployment, a, keys...)
	l.Name = fmt.Sprintf("%s's .env and compose.yaml (its %s is missing)", d.Dir, spec.FileName)
	return &l
}

// checkKeyfile: mongod accepts a keyfile of 6 to 1024 base64 characters
// (whitespace aside); a keyfile rcgen would keep must be one.
func checkKeyfile(b []byte) error {
	k := strings.Join(strings.Fields(string(b)), "")
	if len(k) < 6 || len(k) > 1024 {
		return fmt.Errorf("holds %d characters, and mongod needs 6 to 1024", len(k))
	}
	for _, r := range k {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '=') {
			return fmt.Errorf("holds %q, and mongod accepts only base64 characters", r)
		}
	}
	return nil
}
