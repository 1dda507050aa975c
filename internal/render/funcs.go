package render

import (
	"encoding/json"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"github.com/kballard/go-shellquote"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/spec"
)

// funcs is sprig without the functions that read the environment, plus
// rcgen's compose quoting and constants. sprig's toJson quotes strings for
// JavaScript and for YAML that compose does not interpolate (JSON string
// escaping is valid YAML); sprig's quote is Go escaping, not YAML, so yq
// stays rcgen's own.
func funcs() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	f["yq"] = YAMLQuote
	f["ystr"] = yamlString
	f["cstr"] = composeString
	f["formatBytes"] = spec.FormatBytes
	f["shq"] = func(s string) string { return shellquote.Join(s) }
	// The Kubernetes manifests' labels and sizes (kube.go).
	f["klabels"] = func(project, component string, indent int) string {
		return kubeMap(KubeLabels(project, component), indent)
	}
	f["kselector"] = func(project, component string, indent int) string {
		return kubeMap(KubeSelector(project, component), indent)
	}
	f["kmem"] = KubeMemory
	f["kcpu"] = KubeCPU
	consts := map[string]any{
		"rocketChatImage":    catalog.RocketChatImage,
		"appPort":            AppPort,
		"metricsPort":        MetricsPort,
		"replicaSet":         ReplicaSet,
		"mongoUID":           MongoUID,
		"mongoKeyfile":       MongoKeyfile,
		"mongoInitFile":      MongoInitFile,
		"caddyFile":          CaddyFile,
		"prometheusFile":     PrometheusFile,
		"caddyMetricsPort":   CaddyMetricPort,
		"traefikMetricsPort": TraefikMetricPort,
		"traefikStaticFile":  TraefikStaticFile,
		"traefikDynamicFile": TraefikDynamicFile,
		"grafanaLocalPort":   GrafanaLocal,
		"datasourceUID":      DatasourceUID,
		"lokiDatasourceUID":  LokiDatasourceUID,
		"lokiFile":           LokiFile,
		"otelcolFile":        OtelcolFile,
		"otelcolPort":        OtelcolMetricsPort,
		"backupsDir":         BackupsDir,
		"stackFile":          StackFile,
		"restoreMarker":      backup.RestoreMarker,
		"mongoInitWait":      MemberWaitMinutes,
		"appStartPeriod":     AppStartPeriod,
		"kdfIter":            backup.KDFIter,
		"stickyCookie":       StickyCookie,
		"bodyLimit":          BodyLimit,
		"proxyNetworkKey":    ProxyNetworkKey,
		"hostNginxFile":      HostNginxFile,
		"hostCaddyFile":      HostCaddyFile,
		"offsiteMount":       OffsiteMount,
		"rcloneConfigTarget": RcloneConfigTarget,
		"rcloneConfigFile":   RcloneConfigFile,
		"sftpKeyFile":        SFTPKeyFile,
		"sftpKnownHostsFile": SFTPKnownHostsFile,
		"appUID":             AppUID,
		"natsUID":            NATSUID,
		"exporterUID":        ExporterUID,
		"backupUID":          BackupUID,
		"kubeApp":            KubeApp,
		"kubeMongo":          KubeMongo,
		"kubeMongoInit":      KubeMongoInit,
		"kubeExporter":       KubeMongoExport,
		"kubeNATS":           KubeNATS,
		"kubeBackup":         KubeBackup,
		"kubeMigrate":        KubeAppMigrate,
		"kubeSecretMongo":    KubeSecretMongo,
		"kubeSecretApp":      KubeSecretApp,
		"kubeSecretBackup":   KubeSecretBackup,
		"kubeSecretFiles":    KubeSecretDeployment,
		"kubeTLSSecret":      KubeTLSSecret,
		"kubeConfigInit":     KubeConfigMongoInit,
		"kubeConfigBackup":   KubeConfigBackup,
		"kubeBackupClaim":    KubeBackupClaim,
		"kubeIssuer":         KubeIssuer,
		"memberNodesKey":     KubeMemberNodesAnnotation,
		"kustomizationFile":  KustomizationFile,
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
	b, _ := json.Marshal(strings.ReplaceAll(s, "$", "$$"))
	return string(b)
}

// yamlString returns s as a double-quoted YAML scalar, for the files that
// no compose interpolation reads (Traefik's): JSON string escaping without
// the HTML escapes (& stays &, as Traefik's rules are read by people).
func yamlString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// composeString is yamlString with every $ doubled, for compose files.
func composeString(s string) string { return yamlString(strings.ReplaceAll(s, "$", "$$")) }
