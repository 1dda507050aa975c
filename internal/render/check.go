package render

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/sizing"
)

// CheckDir is where the checks pretend the deployment lives; compose-go
// resolves relative bind mounts against it.
const CheckDir = "/rcgen-check"

// LoadCompose loads the rendered compose file with compose-go, the loader
// `docker compose` uses: schema, interpolation against the rendered .env,
// and its consistency checks. Nothing is read from disk.
func LoadCompose(ctx context.Context, files Files) (*types.Project, error) {
	cf, ok := files.Get(ComposeFile)
	if !ok {
		return nil, fmt.Errorf("%s was not rendered", ComposeFile)
	}
	env := map[string]string{}
	if ef, ok := files.Get(EnvFile); ok {
		parsed, err := ParseEnv(ef.Content)
		if err != nil {
			return nil, err
		}
		env = parsed
	}
	details := types.ConfigDetails{
		WorkingDir:  CheckDir,
		ConfigFiles: []types.ConfigFile{{Filename: path.Join(CheckDir, ComposeFile), Content: cf.Content}},
		Environment: env,
	}
	p, err := loader.LoadWithContext(ctx, details, func(o *loader.Options) {
		o.ResolvePaths = true
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ComposeFile, err)
	}
	return p, nil
}

// Check validates a rendered deployment before anything is written: the
// compose file must load, and rcgen's own invariants must hold. Every problem
// is reported, each naming its file.
func Check(ctx context.Context, files Files) error {
	if files.Kubernetes() {
		return CheckKube(files)
	}
	if f, ok := files.Get(LokiFile); ok {
		if err := CheckLoki(f.Content); err != nil {
			return err
		}
	}
	if files.Swarm() {
		return CheckSwarm(ctx, files)
	}
	p, err := LoadCompose(ctx, files)
	if err != nil {
		return err
	}
	return errors.Join(Invariants(p, files)...)
}

// oneShots are services that run to completion (others wait for them with
// service_completed_successfully).
func oneShots(p *types.Project) map[string]bool {
	m := map[string]bool{}
	for _, s := range p.Services {
		for dep, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionCompletedSuccessfully {
				m[dep] = true
			}
		}
	}
	return m
}

// scratchImages are images built FROM scratch: nothing inside can run a
// health check, so Prometheus watches them (their "up" series) instead.
var scratchImages = map[string]bool{
	catalog.MongoDBExporterImage: true,
	catalog.NATSExporterImage:    true,
	// The contrib collector's Dockerfile is FROM scratch
	// (open-telemetry/opentelemetry-collector-releases).
	catalog.OtelCollectorImage: true,
}

// hostPaths are the host directories a service may mount that rcgen does
// not generate (node-exporter reads the host's root file system read-only).
var hostPaths = map[string]string{"/": sizing.NodeExporter, DockerContainersDir: sizing.OtelCollector}

// DockerContainersDir is where Docker keeps each container's json-file
// log (its default data root): the log collector reads it, read-only.
const DockerContainersDir = "/var/lib/docker/containers"

// PublishedPortsSection is the README's heading over the table of what the
// deployment publishes.
const PublishedPortsSection = "## Published ports"

// readmePortRow is one row of that table: port/protocol, where, service.
var readmePortRow = regexp.MustCompile("^\\| `([0-9]+)/(tcp|udp)` \\| ([^|]+) \\| `([a-z0-9-]+)` \\|")

// portKey names one published port: "service ip:port/protocol", * for
// every interface.
func portKey(service, ip, port, protocol string) string {
	if ip == "" || ip == "0.0.0.0" || ip == "::" {
		ip = "*"
	}
	if protocol == "" {
		protocol = "tcp"
	}
	return fmt.Sprintf("%s %s:%s/%s", service, ip, port, protocol)
}

// readmePorts reads the README's table of published ports.
func readmePorts(files Files) ([]string, error) {
	f, ok := files.Get(ReadmeFile)
	if !ok {
		return nil, fmt.Errorf("%s was not rendered", ReadmeFile)
	}
	_, section, ok := strings.Cut(string(f.Content), "\n"+PublishedPortsSection+"\n")
	if !ok {
		return nil, fmt.Errorf("%s has no %q section listing the published ports", ReadmeFile, PublishedPortsSection)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var keys []string
	for _, l := range strings.Split(section, "\n") {
		m := readmePortRow.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		ip := ""
		if where, _, _ := strings.Cut(m[3], " "); where != "every" {
			ip = where
		}
		keys = append(keys, portKey(m[4], ip, m[1], m[2]))
	}
	slices.Sort(keys)
	return keys, nil
}

// publishing checks the ports a compose or stack file publishes: each
// service that publishes one is attached to a network that is not
// internal (Docker publishes nothing of a container attached only to
// internal networks, moby/moby#36174), and the README lists exactly them.
func publishing(p *types.Project, files Files, file string) []error {
	var errs []error
	var published []string
	names := p.ServiceNames()
	slices.Sort(names)
	for _, name := range names {
		s := p.Services[name]
		if len(s.Ports) == 0 {
			continue
		}
		reachable := len(s.Networks) == 0 && s.NetworkMode == ""
		for n := range s.Networks {
			if nw, ok := p.Networks[n]; ok && !nw.Internal {
				reachable = true
			}
		}
		for _, port := range s.Ports {
			published = append(published, portKey(name, port.HostIP, port.Published, port.Protocol))
			if !reachable {
				errs = append(errs, fmt.Errorf("%s: service %s: publishes port %s but is attached only to internal networks, where Docker publishes nothing (moby/moby#36174): attach it to a network that is not internal too", file, name, port.Published))
			}
		}
	}
	slices.Sort(published)
	listed, err := readmePorts(files)
	if err != nil {
		return append(errs, err)
	}
	for _, k := range published {
		if !slices.Contains(listed, k) {
			errs = append(errs, fmt.Errorf("%s: publishes %s, which %s does not list under %q", file, k, ReadmeFile, PublishedPortsSection))
		}
	}
	for _, k := range listed {
		if !slices.Contains(published, k) {
			errs = append(errs, fmt.Errorf("%s: lists %s under %q, which %s does not publish", ReadmeFile, k, PublishedPortsSection, file))
		}
	}
	return errs
}

// Invariants checks the rules every rcgen deployment keeps.
func Invariants(p *types.Project, files Files) []error {
	errs := publishing(p, files, ComposeFile)
	bad := func(svc, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: service %s: %s", ComposeFile, svc, fmt.Sprintf(format, a...)))
	}
	once := oneShots(p)
	names := p.ServiceNames()
	slices.Sort(names)
	for _, name := range names {
		s := p.Services[name]
		for _, problem := range basics(s) {
			bad(name, "%s", problem)
		}
		for dep := range s.DependsOn {
			if _, ok := p.Services[dep]; !ok {
				bad(name, "depends on %s, which does not exist", dep)
			}
		}
		if s.Restart == "" {
			bad(name, "has no restart policy")
		}
		if !once[name] && !scratchImages[s.Image] {
			if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
				bad(name, "is long-running but has no health check")
			}
		}
		if !once[name] {
			if s.Restart == types.RestartPolicyNo {
				bad(name, "is long-running but never restarts")
			}
		}
		// The user's proxy network is shared with whatever else runs
		// there: only the app processes join it (render.ownProxy), and
		// Grafana when the user's Traefik routes /grafana by its labels
		// (render.deriveTraefik).
		for n := range s.Networks {
			if nw, ok := p.Networks[n]; ok && bool(nw.External) && !strings.HasPrefix(name, "rocketchat-") &&
				(name != sizing.Grafana || len(s.Labels) == 0) {
				bad(name, "joins the external network %s; only the app processes may (and Grafana, with the labels of your Traefik)", nw.Name)
			}
		}
		for _, port := range s.Ports {
			public := port.HostIP == "" || port.HostIP == "0.0.0.0" || port.HostIP == "::"
			if public && name != sizing.Caddy && name != sizing.Traefik {
				bad(name, "publishes port %s on every interface; only the proxy may (use 127.0.0.1)", port.Published)
			}
		}
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if owner, ok := hostPaths[v.Source]; ok && owner == name && v.ReadOnly {
				continue
			}
			// The backup service alone reads the whole directory (what it
			// backs up) and writes its own data directory, backups/.
			if name == sizing.Backup && (v.Source == CheckDir && v.ReadOnly || v.Source == CheckDir+"/"+BackupsDir) {
				continue
			}
			// The offsite copier reads backups/ (and fetches into it for a
			// restore), and writes the offsite directory of a dir target.
			if name == sizing.BackupOffsite && (v.Source == CheckDir+"/"+BackupsDir || v.Target == OffsiteMount) {
				continue
			}
			rel, ok := strings.CutPrefix(v.Source, CheckDir+"/")
			if !ok {
				bad(name, "mounts %s from outside the deployment directory", v.Source)
				continue
			}
			if !generated(files, rel) {
				bad(name, "mounts ./%s, which rcgen did not generate", rel)
			}
			if !v.ReadOnly {
				bad(name, "mounts ./%s writable; generated files are mounted read-only", rel)
			}
		}
	}
	return errs
}

// basics are the rules every service of either target keeps: an image
// pinned to a version, log rotation, a memory limit.
func basics(s types.ServiceConfig) []string {
	var problems []string
	if err := checkImage(s.Image); err != nil {
		problems = append(problems, err.Error())
	}
	if s.Logging == nil || s.Logging.Options["max-size"] == "" {
		problems = append(problems, "has no log rotation (logging.options.max-size)")
	}
	if s.Deploy == nil || s.Deploy.Resources.Limits == nil || s.Deploy.Resources.Limits.MemoryBytes == 0 {
		problems = append(problems, "has no memory limit")
	}
	return problems
}

// generated reports whether rel is a generated file or a directory holding one.
func generated(files Files, rel string) bool {
	for _, f := range files {
		if f.Path == rel || strings.HasPrefix(f.Path, rel+"/") {
			return true
		}
	}
	return false
}

// checkImage requires a reference docker accepts (distribution/reference,
// the parser docker uses) pinned to a digest or to an explicit version tag:
// not missing, not latest, and with a digit in it.
func checkImage(image string) error {
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return fmt.Errorf("image %s is not an image reference: %v", image, err)
	}
	if _, ok := ref.(reference.Digested); ok {
		return nil
	}
	tagged, ok := ref.(reference.Tagged)
	if !ok {
		return fmt.Errorf("image %s has no tag: pin an explicit version", image)
	}
	if tag := tagged.Tag(); tag == "latest" || !strings.ContainsAny(tag, "0123456789") {
		return fmt.Errorf("image %s is not pinned to a version (tag %q)", image, tag)
	}
	return nil
}
