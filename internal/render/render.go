// Package render turns the answers and the plan into the files of a
// deployment, in memory, and checks them with the parsers that will read
// them. It never touches the disk: the deploy package writes.
package render

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/template"

	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
	"github.com/rcgen/rcgen/templates"
)

// File is one generated file.
type File struct {
	Path    string // slash-separated, relative to the deployment directory
	Mode    fs.FileMode
	Content []byte
	// Secret marks files whose content must never be printed.
	Secret bool
}

// Files is a deployment in memory, sorted by path.
type Files []File

// Get returns the file at path.
func (fs Files) Get(path string) (File, bool) {
	for _, f := range fs {
		if f.Path == path {
			return f, true
		}
	}
	return File{}, false
}

// tmpl is one templated file and the service it belongs to ("" for files
// every deployment has): a file exists exactly when the plan runs its
// service.
type tmpl struct {
	src, dst, service string
	// target limits the file to one target ("" for both).
	target string
	// proxy limits the file to one --proxy ("" for any).
	proxy string
}

var tmpls = []tmpl{
	{"compose/compose.yaml.tmpl", ComposeFile, "", spec.TargetCompose, ""},
	{"docs/README.md.tmpl", ReadmeFile, "", spec.TargetCompose, ""},
	{"swarm/README.md.tmpl", ReadmeFile, "", spec.TargetSwarm, ""},
	{"caddy/Caddyfile.tmpl", CaddyFile, sizing.Caddy, "", ""},
	{"traefik/traefik.yml.tmpl", TraefikStaticFile, sizing.Traefik, spec.TargetCompose, ""},
	{"traefik/dynamic.yml.tmpl", TraefikDynamicFile, sizing.Traefik, spec.TargetCompose, ""},
	{"proxy/nginx.conf.tmpl", HostNginxFile, "", spec.TargetCompose, spec.ProxyHost},
	{"proxy/Caddyfile.tmpl", HostCaddyFile, "", spec.TargetCompose, spec.ProxyHost},
	{"mongodb/init-replica-set.js.tmpl", MongoInitFile, "", "", ""},
	{"prometheus/prometheus.yml.tmpl", PrometheusFile, sizing.Prometheus, "", ""},
	{"grafana/provisioning/datasources/prometheus.yaml.tmpl", DatasourceFile, sizing.Grafana, "", ""},
	{"grafana/provisioning/dashboards/rcgen.yaml.tmpl", DashProvFile, sizing.Grafana, "", ""},
	{"prometheus/rules/rocketchat.yml.tmpl", RulesFile, sizing.Prometheus, "", ""},
	{"loki/loki.yaml.tmpl", LokiFile, sizing.Loki, "", ""},
	{"otelcol/config.yaml.tmpl", OtelcolFile, sizing.OtelCollector, "", ""},
	{"grafana/provisioning/datasources/loki.yaml.tmpl", LokiDatasourceFile, sizing.Loki, "", ""},
	{"alertmanager/alertmanager.yml.tmpl", AlertmanagerFile, sizing.Alertmanager, "", ""},
	{"backup/backup.sh.tmpl", BackupScript, sizing.Backup, "", ""},
	{"backup/counts.js.tmpl", BackupCounts, sizing.Backup, "", ""},
	// Last: it names the other files by their content.
	{"swarm/stack.yaml.tmpl", StackFile, "", spec.TargetSwarm, ""},
	// The Kubernetes manifests, after mongodb/init-replica-set.js (the
	// init Job is named after it); kustomization.yaml is built from them
	// (kubeRender).
	{"kubernetes/README.md.tmpl", ReadmeFile, "", spec.TargetKubernetes, ""},
	{"kubernetes/pointer.md.tmpl", KubeReadmeFile, "", spec.TargetKubernetes, ""},
	{"kubernetes/namespace.yaml.tmpl", KubeNamespaceFile, "", spec.TargetKubernetes, ""},
	{"kubernetes/mongodb.yaml.tmpl", KubeMongoFile, "", spec.TargetKubernetes, ""},
	{"kubernetes/mongodb-init.yaml.tmpl", KubeMongoInitFile, "", spec.TargetKubernetes, ""},
	{"kubernetes/mongodb-exporter.yaml.tmpl", KubeExporterFile, sizing.Prometheus, spec.TargetKubernetes, ""},
	{"kubernetes/nats.yaml.tmpl", KubeNATSFile, sizing.NATS, spec.TargetKubernetes, ""},
	{"kubernetes/rocketchat.yaml.tmpl", KubeAppFile, "", spec.TargetKubernetes, ""},
	{"kubernetes/ingress.yaml.tmpl", KubeIngressFile, "", spec.TargetKubernetes, ""},
	{"kubernetes/backup.yaml.tmpl", KubeBackupFile, sizing.Backup, spec.TargetKubernetes, ""},
}

// kubeShared are the files of other targets the Kubernetes target renders
// too (as ConfigMaps): the replica set script and the backup scripts.
var kubeShared = []string{MongoInitFile, BackupScript, BackupCounts}

// parsed holds the templates, parsed on first use (not at start-up, so
// `rcgen --version` does not pay for them).
var parsed = sync.OnceValues(func() (*template.Template, error) {
	root := template.New("rcgen").Funcs(funcs()).Option("missingkey=error")
	for _, t := range tmpls {
		b, err := fs.ReadFile(templates.FS, t.src)
		if err != nil {
			return nil, err
		}
		if _, err := root.New(t.src).Parse(string(b)); err != nil {
			return nil, err
		}
	}
	return root, nil
})

// OwnedPaths lists every file rcgen may generate. One of these on disk that
// a run does not generate is rcgen's own leftover (say the Caddyfile after
// switching to proxy none); anything else in a deployment is the user's.
func OwnedPaths() []string {
	var ps []string
	for _, t := range tmpls {
		if !slices.Contains(ps, t.dst) {
			ps = append(ps, t.dst)
		}
	}
	for _, d := range dashboards {
		ps = append(ps, d.file)
	}
	ps = append(ps, logsDashboard.file)
	for _, s := range swarmSecretFiles {
		ps = append(ps, s.file)
	}
	ps = append(ps, kubeWriterPaths...)
	ps = append(ps, KustomizationFile, OpenShiftKustomization, TLSCertFile, TLSKeyFile, spec.FileName, EnvFile, MongoKeyfile, RcloneConfigFile, S3AccessKeyFile, S3SecretKeyFile, SFTPKeyFile, SFTPKnownHostsFile)
	sort.Strings(ps)
	return ps
}

// Render lays out every file of the deployment for d and secrets s. It reads
// nothing but its arguments and the embedded templates.
func Render(d *Data, s Secrets) (Files, error) {
	t, err := parsed()
	if err != nil {
		return nil, err
	}
	d.Placeholder, d.DeploymentID = s.Placeholder, s.DeploymentID
	target := spec.TargetCompose
	switch {
	case d.Kube != nil:
		target = spec.TargetKubernetes
	case d.Swarm != nil:
		target = spec.TargetSwarm
	}
	var out Files
	for _, tm := range tmpls {
		if tm.service != "" && !d.Has(tm.service) || tm.target != "" && tm.target != target || tm.proxy != "" && tm.proxy != d.Answers.Proxy {
			continue
		}
		if target == spec.TargetKubernetes && tm.target == "" && !slices.Contains(kubeShared, tm.dst) {
			continue
		}
		if tm.dst == StackFile {
			// Everything it names is rendered: the stack comes last.
			sec, err := swarmSecrets(d, s)
			if err != nil {
				return nil, err
			}
			out = append(out, sec...)
			out = append(out, baseFiles(d, s)...)
			d.Configs, d.SwarmSecrets, d.DashboardConfigs = swarmObjects(d, out)
		}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, tm.src, d); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", tm.dst, err)
		}
		out = append(out, File{Path: tm.dst, Mode: 0o644, Content: tidy(buf.Bytes())})
		if tm.dst == MongoInitFile && d.Kube != nil {
			d.Kube.MongoInitJob = mongoInitJobName(buf.Bytes(), d.MongoImage())
		}
	}
	switch target {
	case spec.TargetCompose:
		out = append(out, baseFiles(d, s)...)
	case spec.TargetKubernetes:
		if out, err = kubeRender(d, s, out); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// baseFiles are the files every deployment has beside its templates: the
// dashboards, the certificate, rcgen.yaml, .env and the keyfile.
func baseFiles(d *Data, s Secrets) Files {
	var out Files
	if d.Has(sizing.Grafana) {
		dash, err := Dashboards(d.Plan.MongoDBMembers, d.Has(sizing.Backup))
		if err == nil {
			out = append(out, dash...)
		}
		if d.Has(sizing.Loki) {
			if f, err := LogsDashboard(); err == nil {
				out = append(out, f)
			}
		}
	}
	if d.TLSMode == spec.TLSOwn {
		out = append(out,
			// Only the certificates: a PEM bundle may hold the key too, and
			// this file is world-readable.
			File{Path: TLSCertFile, Mode: 0o644, Content: certificatesOnly([]byte(d.Answers.TLSCertPEM))},
			File{Path: TLSKeyFile, Mode: 0o600, Content: []byte(d.Answers.TLSKeyPEM), Secret: true},
		)
	}
	out = append(out, offsiteFiles(d)...)
	return append(out,
		File{Path: spec.FileName, Mode: 0o644, Content: spec.Marshal(d.Answers, d.RcgenVersion)},
		File{Path: EnvFile, Mode: 0o600, Content: envFile(d, s), Secret: true},
		File{Path: MongoKeyfile, Mode: 0o600, Content: []byte(s.MongoKeyfile + "\n"), Secret: true},
	)
}

// Generate renders a deployment in memory and checks it. It returns the
// files only when every check passed; nothing touches the disk.
func Generate(ctx context.Context, in Input) (Files, error) {
	d, err := Derive(in)
	if err != nil {
		return nil, err
	}
	files, err := Render(d, in.Secrets)
	if err != nil {
		return nil, err
	}
	if err := Check(ctx, files); err != nil {
		return nil, err
	}
	return files, nil
}

// certificatesOnly keeps the CERTIFICATE blocks of a PEM file, in order.
func certificatesOnly(b []byte) []byte {
	var out bytes.Buffer
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return out.Bytes()
		}
		if block.Type == "CERTIFICATE" {
			_ = pem.Encode(&out, &pem.Block{Type: block.Type, Bytes: block.Bytes})
		}
	}
}

// tidy drops trailing spaces and runs of blank lines that template actions
// leave behind, and ends the file with one newline.
func tidy(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	var out []string
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return []byte(strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n")
}
