// Package render turns the answers and the plan into the files of a
// deployment, in memory, checks them with the parsers that will read them,
// and only then writes them.
package render

import (
	"bytes"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"text/template"

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

type tmpl struct {
	src, dst string
	when     func(*Data) bool
}

func always(*Data) bool { return true }

func monitoring(d *Data) bool { return d.Answers.Monitoring }

var tmpls = []tmpl{
	{"compose/compose.yaml.tmpl", ComposeFile, always},
	{"docs/README.md.tmpl", ReadmeFile, always},
	{"caddy/Caddyfile.tmpl", CaddyFile, func(d *Data) bool { return d.Proxy }},
	{"mongodb/init-replica-set.js.tmpl", MongoInitFile, always},
	{"prometheus/prometheus.yml.tmpl", PrometheusFile, monitoring},
	{"grafana/provisioning/datasources/prometheus.yaml.tmpl", DatasourceFile, monitoring},
	{"grafana/provisioning/dashboards/rcgen.yaml.tmpl", DashProvFile, monitoring},
	{"prometheus/rules/rocketchat.yml.tmpl", RulesFile, monitoring},
	{"alertmanager/alertmanager.yml.tmpl", AlertmanagerFile, func(d *Data) bool { return d.Answers.Monitoring && d.Answers.Alerting() }},
}

var parsed = template.Must(parseAll())

func parseAll() (*template.Template, error) {
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
}

// Render lays out every file of the deployment for d and secrets s. It reads
// nothing but its arguments and the embedded templates.
func Render(d *Data, s Secrets) (Files, error) {
	d.Placeholder = s.Placeholder
	var out Files
	for _, t := range tmpls {
		if !t.when(d) {
			continue
		}
		var buf bytes.Buffer
		if err := parsed.ExecuteTemplate(&buf, t.src, d); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", t.dst, err)
		}
		out = append(out, File{Path: t.dst, Mode: 0o644, Content: tidy(buf.Bytes())})
	}
	if d.Answers.Monitoring {
		dash, err := Dashboards()
		if err != nil {
			return nil, err
		}
		out = append(out, dash...)
	}
	if d.TLSMode == spec.TLSOwn {
		out = append(out,
			File{Path: TLSCertFile, Mode: 0o644, Content: []byte(d.Answers.TLSCertPEM)},
			File{Path: TLSKeyFile, Mode: 0o600, Content: []byte(d.Answers.TLSKeyPEM), Secret: true},
		)
	}
	out = append(out,
		File{Path: spec.FileName, Mode: 0o644, Content: spec.Marshal(d.Answers, d.RcgenVersion)},
		File{Path: EnvFile, Mode: 0o600, Content: envFile(d, s), Secret: true},
		File{Path: MongoKeyfile, Mode: 0o600, Content: []byte(s.MongoKeyfile + "\n"), Secret: true},
	)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
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
