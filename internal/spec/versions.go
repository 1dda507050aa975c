package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
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

var versionRe = regexp.MustCompile(`^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$`)

// Version is a parsed Rocket.Chat release number.
type Version struct{ Major, Minor, Patch int }

// ParseVersion reads "8.1.1".
func ParseVersion(s string) (Version, error) {
	m := versionRe.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("%q is not a release number: give an exact release such as %s (not latest, not a v prefix)", s, DefaultRocketChatVersion)
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	c, _ := strconv.Atoi(m[3])
	return Version{a, b, c}, nil
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast reports whether v >= major.minor.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// ValidateRocketChatVersion accepts exact releases rcgen can deploy.
func ValidateRocketChatVersion(s string) error {
	v, err := ParseVersion(s)
	if err != nil {
		return err
	}
	if v.Major < minRocketChatMajor {
		return fmt.Errorf("%s is older than 7.0, which rcgen does not deploy: upgrade to %s (Rocket.Chat 6.x is out of support)", s, DefaultRocketChatVersion)
	}
	return nil
}

// Untested reports whether v is newer than any release rcgen was checked with.
func (v Version) Untested() bool { return v.Major*100+v.Minor > newestKnownMajorMinor }

// MongoDBImage returns the MongoDB image for a Rocket.Chat release, following
// Rocket.Chat's compatibility table (see ../shared/design/rocketchat.md).
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

// mongoSteps are the MongoDB feature versions in upgrade order: MongoDB
// moves one step at a time, and never back.
var mongoSteps = []string{"7.0", "8.0", "8.2"}

func mongoFeature(tag string) string {
	parts := strings.SplitN(tag, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + "." + parts[1]
}

// CheckUpgrade compares the versions a deployment runs (from its .env) with
// the ones a re-run would write. Rocket.Chat cannot migrate its database
// down, and MongoDB opens data files only one feature version up, so both
// are refused; one MongoDB step up returns the command to finish it.
func CheckUpgrade(oldRC, newRC, oldMongoTag, newMongoTag string) (note string, err error) {
	if o, e1 := ParseVersion(oldRC); e1 == nil {
		if n, e2 := ParseVersion(newRC); e2 == nil && (n.Major < o.Major || n.Major == o.Major && n.Minor < o.Minor) {
			return "", fmt.Errorf("%s is older than the %s this deployment runs, and Rocket.Chat cannot migrate its database back: keep %s or newer (restore a backup to go back)", newRC, oldRC, oldRC)
		}
	}
	from, to := mongoFeature(oldMongoTag), mongoFeature(newMongoTag)
	if from == "" || from == to {
		return "", nil
	}
	fi, ti := slices.Index(mongoSteps, from), slices.Index(mongoSteps, to)
	switch {
	case fi < 0 || ti < 0:
		return "", nil
	case ti < fi:
		return "", fmt.Errorf("it would move MongoDB from %s back to %s, which cannot open the newer data files: choose a Rocket.Chat release that runs on MongoDB %s", from, to, from)
	case ti > fi+1:
		return "", fmt.Errorf("it would move MongoDB from %s straight to %s, and MongoDB upgrades one version at a time: first upgrade through a Rocket.Chat release that runs on MongoDB %s (7.13.x does), start it, then set featureCompatibilityVersion to %s", from, to, mongoSteps[fi+1], mongoSteps[fi+1])
	}
	return fmt.Sprintf("MongoDB moves from %s to %s: once every member runs %s, finish the upgrade with: docker compose exec mongodb-1 sh -c 'mongosh -u root -p \"$MONGODB_INITDB_ROOT_PASSWORD\" --authenticationDatabase admin --eval \"db.adminCommand({setFeatureCompatibilityVersion: \\\"%s\\\", confirm: true})\"'", from, to, to, to), nil
}
