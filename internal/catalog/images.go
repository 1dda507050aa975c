package catalog

// Images rcgen pins, never "latest". Each tag's source is beside it; run
// `docker compose pull` on a new tag before bumping one here, and
// regenerate the examples.
const (
	// RocketChatImage is published for linux/amd64 only; the tag is the
	// release (catalog.Releases), written to .env as ROCKETCHAT_VERSION.
	RocketChatImage = "registry.rocket.chat/rocketchat/rocket.chat"
	// CaddyImage: Docker Hub official image; 2.11.7 is the newest Caddy
	// release the Go module proxy serves (github.com/caddyserver/caddy/v2).
	CaddyImage = "caddy:2.11.7-alpine"
	// TraefikImage: Docker Hub official image (proxy traefik; tags follow
	// traefik/traefik's releases, docker.io/library/traefik:v3.6.12). The
	// tests build and run this exact version from its Go module
	// (github.com/traefik/traefik/v3@v3.6.12): v3.7's dependencies are not
	// all on the Go module proxy (lego v5's DNS providers, the
	// go-http-auth fork, its dynamic/ext module), so it cannot be built
	// and checked the same way. v3.6 has all rcgen uses: passive health
	// checks, the traefik.swarm.* labels, noop@internal.
	TraefikImage = "traefik:v3.6.12"
	// NATSImage: Docker Hub official image (nats-server v2.12.x).
	NATSImage = "nats:2.12.14-alpine"
	// NATSExporterImage: the version Rocket.Chat's own compose stack pins
	// (RocketChat/rocketchat-compose compose.monitoring.yml).
	NATSExporterImage = "natsio/prometheus-nats-exporter:0.17.3"
	// MongoDBExporterImage: percona/mongodb_exporter releases on GitHub.
	MongoDBExporterImage = "percona/mongodb_exporter:0.47.1"
	// PrometheusImage: Prometheus 3.13 (github.com/prometheus/prometheus releases).
	PrometheusImage = "prom/prometheus:v3.13.1"
	// GrafanaImage: grafana/grafana OSS release.
	GrafanaImage = "grafana/grafana:12.4.2"
	// NodeExporterImage: prometheus/node_exporter releases.
	NodeExporterImage = "prom/node-exporter:v1.12.1"
	// AlertmanagerImage: prometheus/alertmanager releases.
	AlertmanagerImage = "prom/alertmanager:v0.28.1"
	// BackupImage runs the backup service: the Docker Official Image of
	// MongoDB 8.0 (Ubuntu noble) installs mongodb-org-tools (mongodump,
	// mongorestore; they dump and restore MongoDB 7.0 to 8.2), mongosh,
	// and ca-certificates, which brings openssl; tar, gzip and sha256sum
	// are Ubuntu's. MongoDB's own community-server image rcgen runs the
	// members with carries no database tools. Tag and packages:
	// docker-library/repo-info repos/mongo/remote/8.0-noble.md (8.0.28,
	// amd64 and arm64).
	BackupImage = "mongo:8.0.28-noble"
	// RcloneImage copies the backups off the host (backup-offsite): rclone's
	// official image (Alpine with busybox's sh, flock, md5sum; rclone in
	// /usr/local/bin: rclone/rclone Dockerfile), tagged with the release's
	// version without the v (docker/metadata-action type=semver
	// pattern={{version}} in rclone's
	// .github/workflows/build_publish_docker_image.yml). The tests build
	// the same version from its Go module, github.com/rclone/rclone
	// (scripts/install-test-tools).
	RcloneImage = "rclone/rclone:1.76.0"
	// LokiImage stores and serves the logs (logs: true): Grafana's image,
	// tags are the release without the v (grafana/loki releases; 3.7.7 is
	// pinned by public compose stacks). Loki's Go module is AGPL, which
	// rcgen's module policy forbids, so the tests cannot build it: its
	// configuration is checked against a strict model of the 3.7
	// configuration reference instead (internal/render/loki.go).
	LokiImage = "grafana/loki:3.7.7"
	// OtelCollectorImage reads the containers' logs (logs: true): the
	// OpenTelemetry Collector's contrib distribution, tagged with the
	// release without the v (open-telemetry/opentelemetry-collector-releases).
	// The tests build a collector with the same components at this release
	// (tools/otelcol: core v0.165.0, filelog receiver v0.165.1; the count
	// connector at v0.161.0, its newest release whose dependencies the Go
	// module proxy serves) and run its `validate` on every generated
	// configuration. Chosen over Grafana Alloy, whose Go module is not
	// served here (so its configuration could not be checked), and
	// Promtail, which is deprecated.
	OtelCollectorImage = "otel/opentelemetry-collector-contrib:0.165.0"
)

// Image is one pinned image, for `rcgen versions`.
type Image struct {
	Service string `json:"service"`
	Image   string `json:"image"`
}

// PinnedImages lists every image rcgen pins besides Rocket.Chat and MongoDB
// (whose tags follow the release).
func PinnedImages() []Image {
	return []Image{
		{"caddy", CaddyImage},
		{"traefik", TraefikImage},
		{"nats", NATSImage},
		{"nats-exporter", NATSExporterImage},
		{"mongodb-exporter", MongoDBExporterImage},
		{"prometheus", PrometheusImage},
		{"grafana", GrafanaImage},
		{"node-exporter", NodeExporterImage},
		{"alertmanager", AlertmanagerImage},
		{"backup", BackupImage},
		{"backup-offsite", RcloneImage},
		{"loki", LokiImage},
		{"otel-collector", OtelCollectorImage},
	}
}
