// Package rendertest runs the real programs that read rcgen's files
// (promtool, caddy, yamllint, node, shellcheck) on a rendered deployment, laid out as the
// containers see it: each file at the path its service mounts it on.
package rendertest

import (
	"bytes"
	"context"
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
)

// Tool names and the Debian packages that provide them.
var Packages = map[string]string{
	"promtool": "prometheus",
	"amtool":   "prometheus-alertmanager",
	"yamllint": "yamllint",
	"node":     "nodejs",
	"openssl":  "openssl",
	// shellcheck reads the backup service's script as POSIX sh (the
	// image's /bin/sh is dash).
	"shellcheck": "shellcheck",
	// busybox runs the offsite part of the backup script as the rclone
	// image (Alpine) does.
	"busybox": "busybox",
}

// Deployment is a rendered deployment written to a directory, with its
// compose project loaded.
type Deployment struct {
	Dir     string
	Files   render.Files
	Project *types.Project
}

// Write puts files in dir and loads the compose project.
func Write(ctx context.Context, dir string, files render.Files) (*Deployment, error) {
	if err := deploy.Write(dir, files); err != nil {
		return nil, err
	}
	var p *types.Project
	var err error
	if files.Kubernetes() {
		// No compose project: the manifests are checked by rcgen's own
		// invariants here, by tools/kubecheck against the API's schemas.
		return &Deployment{Dir: dir, Files: files}, render.CheckKube(files)
	}
	if files.Swarm() {
		p, _, err = render.LoadStack(ctx, files)
	} else {
		p, err = render.LoadCompose(ctx, files)
	}
	if err != nil {
		return nil, err
	}
	return &Deployment{Dir: dir, Files: files, Project: p}, nil
}

// ContainerView lays out what service sees: under a new directory root,
// every bind mount's target holds a copy of its source. It returns root and
// a function that rewrites container paths in a config file to paths under
// root, so a tool on this machine opens what the container would open. A
// mount whose source rcgen did not write yields an error.
func (d *Deployment) ContainerView(service string) (string, func(string) string, error) {
	s, ok := d.Project.Services[service]
	if !ok {
		return "", nil, fmt.Errorf("no service %s", service)
	}
	root, err := os.MkdirTemp("", "rcgen-view-"+service+"-")
	if err != nil {
		return "", nil, err
	}
	var targets []string
	// On Swarm, files reach a service as configs and secrets.
	objects := func(key, target, file string) error {
		rel, ok := strings.CutPrefix(file, render.CheckDir+"/")
		if !ok {
			return fmt.Errorf("service %s: %s reads %s", service, key, file)
		}
		if err := copyTree(filepath.Join(d.Dir, filepath.FromSlash(rel)), filepath.Join(root, target)); err != nil {
			return err
		}
		targets = append(targets, target)
		return nil
	}
	for _, c := range s.Configs {
		target := c.Target
		if target == "" {
			target = "/" + c.Source
		}
		if err := objects(c.Source, target, d.Project.Configs[c.Source].File); err != nil {
			return "", nil, err
		}
	}
	for _, c := range s.Secrets {
		target := c.Target
		if target == "" {
			target = "/run/secrets/" + c.Source
		} else if !strings.HasPrefix(target, "/") {
			target = "/run/secrets/" + target
		}
		if err := objects(c.Source, target, d.Project.Secrets[c.Source].File); err != nil {
			return "", nil, err
		}
	}
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		rel, ok := strings.CutPrefix(v.Source, render.CheckDir+"/")
		if !ok {
			continue // a host path such as node-exporter's /
		}
		src := filepath.Join(d.Dir, filepath.FromSlash(rel))
		if err := copyTree(src, filepath.Join(root, v.Target)); err != nil {
			return "", nil, fmt.Errorf("service %s mounts ./%s on %s: %w", service, rel, v.Target, err)
		}
		targets = append(targets, v.Target)
	}
	// Longest first, so /etc/prometheus/rules wins over /etc/prometheus.
	sort.Slice(targets, func(i, j int) bool { return len(targets[i]) > len(targets[j]) })
	rewrite := func(cfg string) string {
		for _, t := range targets {
			cfg = replacePath(cfg, t, filepath.Join(root, t))
		}
		return cfg
	}
	return root, rewrite, nil
}

// replacePath replaces the container path old with new where it appears as
// a whole path (followed by a separator, quote, space or end of line).
func replacePath(s, old, new string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(old)
		whole := end == len(s) || strings.ContainsRune("/\"' \n\t", rune(s[end]))
		b.WriteString(s[:i])
		if whole {
			b.WriteString(new)
		} else {
			b.WriteString(old)
		}
		s = s[end:]
	}
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if de.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

func run(name string, env []string, args ...string) error {
	cmd := exec.Command(name, args...)
	if env != nil {
		cmd.Env = env
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// configView lays out service's view (see ContainerView) and rewrites the
// config file it reads at target so its paths point into the view. It
// returns the view's root and the config file's path on this machine.
func (d *Deployment) configView(service, target string) (string, string, error) {
	root, rewrite, err := d.ContainerView(service)
	if err != nil {
		return "", "", err
	}
	path := filepath.Join(root, filepath.FromSlash(target))
	b, err := os.ReadFile(path)
	if err != nil {
		os.RemoveAll(root)
		return "", "", fmt.Errorf("%s does not see %s: %w", service, target, err)
	}
	if err := os.WriteFile(path, []byte(rewrite(string(b))), 0o644); err != nil {
		os.RemoveAll(root)
		return "", "", err
	}
	return root, path, nil
}

// Promtool runs `promtool check config` on prometheus.yml as the prometheus
// container sees it, which also checks every rule file it names.
func (d *Deployment) Promtool() error {
	if _, ok := d.Files.Get(render.PrometheusFile); !ok {
		return nil
	}
	root, cfgPath, err := d.configView("prometheus", "/etc/prometheus/prometheus.yml")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	return run("promtool", nil, "check", "config", cfgPath)
}

// Amtool runs `amtool check-config` on alertmanager.yml as the
// alertmanager container sees it.
func (d *Deployment) Amtool() error {
	if _, ok := d.Files.Get(render.AlertmanagerFile); !ok {
		return nil
	}
	root, path, err := d.configView("alertmanager", "/etc/alertmanager/alertmanager.yml")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	return run("amtool", nil, "check-config", path)
}

// ImageCaddy is the Caddy binary at the image's exact version, built by
// scripts/install-test-tools into GOPATH/bin as caddy-vX.Y.Z.
func ImageCaddy() string {
	tag := strings.TrimSuffix(catalog.CaddyImage[strings.Index(catalog.CaddyImage, ":")+1:], "-alpine")
	return filepath.Join(build.Default.GOPATH, "bin", "caddy-v"+strings.TrimPrefix(tag, "v"))
}

// ImageRclone is the rclone binary at the version of the image the
// backup-offsite service runs, built by scripts/install-test-tools from
// its Go module into GOPATH/bin as rclone-vX.Y.Z.
func ImageRclone() string {
	tag := catalog.RcloneImage[strings.Index(catalog.RcloneImage, ":")+1:]
	return filepath.Join(build.Default.GOPATH, "bin", "rclone-v"+tag)
}

// NeedTools stops a test that runs the tools named (on PATH) when one is
// missing, as Need does: a failure under CI=true, a loud skip otherwise.
func NeedTools(tb testing.TB, tools ...string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("skipping the real-tool checks in -short mode (make check); make test runs them")
	}
	var m []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			m = append(m, tool+" (apt-get install "+Packages[tool]+")")
		}
	}
	if len(m) > 0 {
		msg := "missing " + strings.Join(m, ", ") + ": the generated files are NOT checked by the real tools"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip("SKIPPED: " + msg)
	}
}

// NeedRclone stops a test when ImageRclone is not built (or openssl, which
// the backup script encrypts with, is missing), as Need does, and returns
// its path.
func NeedRclone(tb testing.TB) string {
	tb.Helper()
	NeedTools(tb, "openssl")
	if _, err := os.Stat(ImageRclone()); err != nil {
		msg := "missing " + ImageRclone() + " (scripts/install-test-tools builds it): the offsite copy is NOT run against a real rclone"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip("SKIPPED: " + msg)
	}
	return ImageRclone()
}

// Caddy runs `caddy validate` on the Caddyfile as the caddy container sees
// it, with the environment compose gives the container.
func (d *Deployment) Caddy() error {
	if _, ok := d.Files.Get(render.CaddyFile); !ok {
		return nil
	}
	root, path, err := d.configView("caddy", "/etc/caddy/Caddyfile")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	env := []string{"HOME=" + root, "XDG_DATA_HOME=" + root, "XDG_CONFIG_HOME=" + root}
	for k, v := range d.Project.Services["caddy"].Environment {
		if v != nil {
			env = append(env, k+"="+*v)
		}
	}
	// The image's exact version (Debian's caddy, 2.6, is older than the
	// directives rcgen uses: health_fails, stream_close_delay, the global
	// metrics option). A deprecation warning is a failure too: it is logged
	// on every start.
	cmd := exec.Command(ImageCaddy(), "adapt", "--adapter", "caddyfile", "--config", path)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("caddy adapt: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "deprecated") {
		return fmt.Errorf("caddy warns about a deprecated directive:\n%s", out)
	}
	return run(ImageCaddy(), env, "validate", "--adapter", "caddyfile", "--config", path)
}

// Yamllint lints every YAML file of the deployment with config.
func (d *Deployment) Yamllint(config string) error {
	args := []string{"-s", "-f", "parsable", "-c", config}
	for _, f := range d.Files {
		if strings.HasSuffix(f.Path, ".yaml") || strings.HasSuffix(f.Path, ".yml") {
			args = append(args, filepath.Join(d.Dir, filepath.FromSlash(f.Path)))
		}
	}
	return run("yamllint", nil, args...)
}

// NodeCheck checks the mongosh scripts parse as JavaScript with node, the
// engine mongosh runs on.
func (d *Deployment) NodeCheck() error {
	for _, f := range []string{render.MongoInitFile, render.BackupCounts} {
		if _, ok := d.Files.Get(f); !ok {
			continue
		}
		if err := run("node", nil, "--check", filepath.Join(d.Dir, filepath.FromSlash(f))); err != nil {
			return err
		}
	}
	return nil
}

// Shellcheck checks the backup service's script as POSIX sh, every
// warning an error.
func (d *Deployment) Shellcheck() error {
	if _, ok := d.Files.Get(render.BackupScript); !ok {
		return nil
	}
	return run("shellcheck", nil, "--shell=sh", "--severity=info", filepath.Join(d.Dir, filepath.FromSlash(render.BackupScript)))
}

// All runs every check, returning the first tool's error per check.
func (d *Deployment) All(yamllintConfig string) []error {
	var errs []error
	for _, check := range []func() error{d.Promtool, d.Amtool, d.Caddy, func() error { return d.Yamllint(yamllintConfig) }, d.NodeCheck, d.Shellcheck} {
		if err := check(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Missing lists the tools that are not installed.
func Missing() []string {
	var m []string
	for _, tool := range []string{"promtool", "amtool", "yamllint", "node", "openssl", "shellcheck"} {
		if _, err := exec.LookPath(tool); err != nil {
			m = append(m, tool+" (apt-get install "+Packages[tool]+")")
		}
	}
	if _, err := os.Stat(ImageCaddy()); err != nil {
		m = append(m, ImageCaddy()+" (make tools builds it)")
	}
	return m
}

// Need stops a test when a real validator is missing: a failure under
// CI=true, a loud skip on a developer's machine. -short skips the real
// tools on purpose (make check).
func Need(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("skipping the real-tool checks in -short mode (make check); make test runs them")
	}
	if m := Missing(); len(m) > 0 {
		msg := "missing " + strings.Join(m, ", ") + ": the generated files are NOT checked by the real tools"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip("SKIPPED: " + msg)
	}
}

// ImageTraefik is the Traefik binary at the image's exact version, built
// from its Go module by scripts/install-test-tools into GOPATH/bin as
// traefik-vX.Y.Z.
func ImageTraefik() string {
	tag := catalog.TraefikImage[strings.Index(catalog.TraefikImage, ":")+1:]
	return filepath.Join(build.Default.GOPATH, "bin", "traefik-v"+strings.TrimPrefix(tag, "v"))
}

// NeedTraefik stops a test that runs the real Traefik when it is not
// built: a failure under CI=true, a loud skip elsewhere (as Need).
func NeedTraefik(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("skipping the real Traefik in -short mode (make check); make test runs it")
	}
	if _, err := os.Stat(ImageTraefik()); err != nil {
		msg := "missing " + ImageTraefik() + " (make tools builds it): the generated Traefik configuration is NOT checked by the real Traefik"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip("SKIPPED: " + msg)
	}
}

// ImageOtelcol is the OpenTelemetry Collector with the components rcgen's
// collector configuration uses, at the contrib image's release, built by
// scripts/install-test-tools from tools/otelcol into GOPATH/bin as
// otelcol-rcgen-vX.Y.Z.
func ImageOtelcol() string {
	tag := catalog.OtelCollectorImage[strings.Index(catalog.OtelCollectorImage, ":")+1:]
	return filepath.Join(build.Default.GOPATH, "bin", "otelcol-rcgen-v"+tag)
}

// NeedOtelcol stops a test that runs the collector when it is not built:
// a failure under CI=true, a loud skip elsewhere (as Need). It returns
// the binary's path.
func NeedOtelcol(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("skipping the real OpenTelemetry Collector in -short mode (make check); make test runs it")
	}
	if _, err := os.Stat(ImageOtelcol()); err != nil {
		msg := "missing " + ImageOtelcol() + " (make tools builds it): the generated collector configuration is NOT checked by the real collector"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip("SKIPPED: " + msg)
	}
	return ImageOtelcol()
}

// Otelcol runs the collector's own `validate` on a configuration: every
// component must exist and accept its settings, and the pipelines must
// connect.
func Otelcol(bin string, config []byte) error {
	dir, err := os.MkdirTemp("", "otelcol-validate")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// validate opens file_storage's directory, the collector's volume in
	// the container: the same configuration with a directory of this host.
	storage := filepath.Join(dir, "storage")
	if err := os.Mkdir(storage, 0o755); err != nil {
		return err
	}
	config = bytes.ReplaceAll(config, []byte("directory: /var/lib/otelcol\n"), []byte("directory: "+storage+"\n"))
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, config, 0o644); err != nil {
		return err
	}
	out, err := exec.Command(bin, "validate", "--config="+path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("otelcol validate: %v\n%s", err, out)
	}
	return nil
}
