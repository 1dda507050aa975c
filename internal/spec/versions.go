package spec

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// DefaultRocketChatVersion is the Rocket.Chat release rcgen deploys when
// none is given. Bump it (and the golden files) when a new release is vetted.
const DefaultRocketChatVersion = "8.7.1"

// Images pinned by rcgen, never "latest". Each tag was found pinned in public
// compose files, Helm values or tag lists (late 2026): Rocket.Chat 8.7.1 on
// registry.rocket.chat; Prometheus 3.13 is an LTS line; the NATS exporter
// version is the one Rocket.Chat's own compose stack pins. Run
// `docker compose pull` on a new tag before bumping one here.
const (
	RocketChatImage       = "registry.rocket.chat/rocketchat/rocket.chat"
	CaddyImage            = "caddy:2.11.7-alpine"
	NATSImage             = "nats:2.12.14-alpine"
	NATSExporterImage     = "natsio/prometheus-nats-exporter:0.17.3"
	MongoDBExporterImage  = "percona/mongodb_exporter:0.47.1"
	PrometheusImage       = "prom/prometheus:v3.13.1"
	GrafanaImage          = "grafana/grafana:12.4.2"
	NodeExporterImage     = "prom/node-exporter:v1.12.1"
	AlertmanagerImage     = "prom/alertmanager:v0.28.1"
	mongoDBImageRepo      = "mongodb/mongodb-community-server"
	mongoDBImageSuffix    = "-ubi8"
	minRocketChatMajor    = 7
	newestKnownMajorMinor = 900 // 9.0: newer releases are accepted with a warning
)

// Version is a parsed Rocket.Chat release number (semantic versioning).
type Version struct{ v *semver.Version }

// ParseVersion reads an exact release such as "8.1.1": three numbers, no
// "v" prefix, no pre-release.
func ParseVersion(s string) (Version, error) {
	v, err := semver.StrictNewVersion(s)
	if err != nil || v.Prerelease() != "" || v.Metadata() != "" {
		return Version{}, fmt.Errorf("%q is not a release number: give an exact release such as %s (not latest, not a v prefix)", s, DefaultRocketChatVersion)
	}
	return Version{v}, nil
}

func (v Version) String() string { return v.v.String() }

// Major and Minor are the release's first two numbers.
func (v Version) Major() int { return int(v.v.Major()) }

// Minor is the release's second number.
func (v Version) Minor() int { return int(v.v.Minor()) }

// AtLeast reports whether v >= major.minor.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major() > major || v.Major() == major && v.Minor() >= minor
}

// Before reports whether v's feature release (major.minor) is older than o's.
func (v Version) Before(o Version) bool { return !v.AtLeast(o.Major(), o.Minor()) }

// ValidateRocketChatVersion accepts exact releases rcgen can deploy.
func ValidateRocketChatVersion(s string) error {
	v, err := ParseVersion(s)
	if err != nil {
		return err
	}
	if v.Major() < minRocketChatMajor {
		return fmt.Errorf("%s is older than 7.0, which rcgen does not deploy: upgrade to %s (Rocket.Chat 6.x is out of support)", s, DefaultRocketChatVersion)
	}
	return nil
}

// Untested reports whether v is newer than any release rcgen was checked with.
func (v Version) Untested() bool { return v.Major()*100+v.Minor() > newestKnownMajorMinor }

// MongoDBImage returns the MongoDB image for a Rocket.Chat release, following
// the MongoDB versions Rocket.Chat's release notes declare for each release
// (github.com/RocketChat/Rocket.Chat/releases: "MongoDB" under each
// release's engine versions).
func MongoDBImage(rc Version) string {
	var tag string
	switch {
	case rc.AtLeast(8, 0):
		tag = "8.2.3"
	case rc.AtLeast(7, 13):
		tag = "8.0.15"
	default:
		tag = "7.0.28"
	}
	return mongoDBImageRepo + ":" + tag + mongoDBImageSuffix
}

// MongoDBImageTag returns only the tag of MongoDBImage.
func MongoDBImageTag(rc Version) string {
	img := MongoDBImage(rc)
	return img[strings.LastIndex(img, ":")+1:]
}

// HealthPath is the app's liveness endpoint: /livez since 7.11, /health before.
func HealthPath(rc Version) string {
	if rc.AtLeast(7, 11) {
		return "/livez"
	}
	return "/health"
}

// ReadyPath is the app's readiness endpoint: /readyz since 7.11, /health before.
func ReadyPath(rc Version) string {
	if rc.AtLeast(7, 11) {
		return "/readyz"
	}
	return "/health"
}
