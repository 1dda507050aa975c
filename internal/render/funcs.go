package render

import (
	"encoding/json"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"

	"github.com/rcgen/rcgen/internal/spec"
)

// funcs is sprig without the functions that read the environment, plus
// rcgen's quoting helpers and constants.
func funcs() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	f["yq"] = YAMLQuote
	f["jsonq"] = jsonQuote
	f["yamlq"] = jsonQuote // YAML that compose does not read: no $ escaping
	f["formatBytes"] = spec.FormatBytes
	consts := map[string]any{
		"rocketChatImage":  spec.RocketChatImage,
		"appPort":          AppPort,
		"metricsPort":      MetricsPort,
		"replicaSet":       ReplicaSet,
		"mongoUID":         MongoUID,
		"mongoKeyfile":     MongoKeyfile,
		"mongoInitFile":    MongoInitFile,
		"caddyFile":        CaddyFile,
		"prometheusFile":   PrometheusFile,
		"caddyMetricsPort": CaddyMetricPort,
		"grafanaLocalPort": GrafanaLocal,
		"datasourceUID":    DatasourceUID,
	}
	for k, v := range consts {
		f[k] = func() any { return v }
	}
	return f
}

// YAMLQuote returns s as a double-quoted YAML scalar that compose reads back
// as exactly s: JSON string escaping is valid YAML, and every $ is doubled so
// compose's interpolation leaves it alone.
func YAMLQuote(s string) string {
	return jsonQuote(strings.ReplaceAll(s, "$", "$$"))
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
