// Package catalog is rcgen's release catalog, compiled in: every
// Rocket.Chat release line rcgen knows with the MongoDB series its release
// notes declare, its Node.js version, release date, end of support, LTS
// flag and whether its image is confirmed; the one rule that says which
// releases rcgen deploys (Deployable); the MongoDB series with their pinned
// image tags and end of life; and every other image rcgen pins. Each row
// carries its source. Nothing here reads the clock: callers pass today's
// date.
package catalog

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
)

// Release is one Rocket.Chat release line (major.minor).
type Release struct {
	Line string `json:"line"` // "8.7"
	// Latest is the newest patch of the line rcgen knows; when
	// ImageConfirmed, rcgen has seen its image published.
	Latest string `json:"latest"`
	// ImageConfirmed says rcgen has seen the image of Latest published
	// (the row's Source names where). A line without it is listed, never
	// deployed (see Deployable).
	ImageConfirmed bool `json:"image_confirmed"`
	// Released is the date of the line's first release (x.y.0).
	Released Date `json:"released"`
	// EndOfSupport is the last day Rocket.Chat supports the line: Announced
	// when Rocket.Chat announced a date, else derived from Released by its
	// rule (SupportEnd). No row types it.
	EndOfSupport Date `json:"end_of_support"`
	// EndOfSupportSource says where EndOfSupport comes from: the rule and
	// the month it counts from, or the announcement.
	EndOfSupportSource string `json:"end_of_support_source"`
	// Announced is an end of support Rocket.Chat announced for the line
	// (zero: none), and AnnouncedSource where.
	Announced       Date   `json:"-"`
	AnnouncedSource string `json:"-"`
	LTS             bool   `json:"lts"`
	// MongoDB lists the MongoDB feature versions the release notes declare.
	MongoDB []string `json:"mongodb"`
	Node    string   `json:"node"`
	// Breaking lists what an operator must know before moving onto the
	// line (from its x.y.0 release notes); empty when rcgen has noted none.
	Breaking []string `json:"breaking,omitempty"`
	// Source is where the row's facts come from.
	Source string `json:"source"`
}

// Date is a calendar day, printed as 2006-01-02.
type Date struct{ time.Time }

func day(s string) Date {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic("catalog: bad date " + s)
	}
	return Date{t}
}

func (d Date) String() string { return d.Format(time.DateOnly) }

// MarshalText writes the date as 2006-01-02.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Support says where a release line stands on a day.
type Support int

// Support states.
const (
	Supported   Support = iota
	EndingSoon          // within 30 days of its end of support
	Unsupported         // past its end of support
)

// EndingSoonDays is how early rcgen warns before a line's end of support.
const EndingSoonDays = 30

func (s Support) String() string {
	return [...]string{"supported", "ending soon", "unsupported"}[s]
}

// SupportOn says whether r is supported on day now.
func (r Release) SupportOn(now time.Time) Support {
	end := r.EndOfSupport.Time
	switch {
	case now.After(end.AddDate(0, 0, 1)):
		return Unsupported
	case !now.Before(end.AddDate(0, 0, -EndingSoonDays)):
		return EndingSoon
	}
	return Supported
}

// SupportNote is a warning about r's support on day now, or "": the date
// and way, what the operator should do (e.g. "`rcgen upgrade --to
// 8.5.3`"), which the caller works out (the catalog knows no deployment).
func (r Release) SupportNote(now time.Time, way string) string {
	after := "the push gateway, the marketplace and the official mobile and desktop apps stop working with it"
	if way == "" {
		way = "no newer release rcgen deploys is one step away: a newer rcgen may know one (rcgen versions)"
	}
	switch r.SupportOn(now) {
	case Unsupported:
		return fmt.Sprintf("Rocket.Chat %s has been out of support since %s: %s; %s", r.Line, r.EndOfSupport, after, way)
	case EndingSoon:
		return fmt.Sprintf("Rocket.Chat %s leaves support on %s (in %d days), after which %s; %s", r.Line, r.EndOfSupport, daysUntil(now, r.EndOfSupport), after, way)
	}
	return ""
}

// daysUntil counts the calendar days from now's day to end.
func daysUntil(now time.Time, end Date) int {
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return int(end.Sub(today).Hours() / 24)
}

// Releases returns the release lines, oldest first.
func Releases() []Release { return slices.Clone(cur().releases) }

// Lookup returns the release line of version (e.g. 8.7 for 8.7.1).
func Lookup(version string) (Release, bool) {
	v, err := semver.NewVersion(version)
	if err != nil {
		return Release{}, false
	}
	line := fmt.Sprintf("%d.%d", v.Major(), v.Minor())
	for _, r := range cur().releases {
		if r.Line == line {
			return r, true
		}
	}
	return Release{}, false
}

// Default is the release line rcgen deploys when none is given
// (DefaultRocketChatVersion).
func Default() Release {
	r, ok := Lookup(DefaultRocketChatVersion())
	if !ok {
		panic("catalog: the default release is not in the catalog")
	}
	return r
}

// LatestLTS returns the newest LTS line rcgen deploys that is released
// and still supported on day now: the one `rcgen versions` recommends.
func LatestLTS(now time.Time) (Release, bool) {
	rs := DeployableReleases()
	for i := len(rs) - 1; i >= 0; i-- {
		if r := rs[i]; r.LTS && !r.Released.After(now) && r.SupportOn(now) != Unsupported {
			return r, true
		}
	}
	return Release{}, false
}

// LatestOfMajor returns the newest line rcgen deploys of a major release
// (7 for 7.x): the one an upgrade passes through.
func LatestOfMajor(major uint64) (Release, bool) {
	rs := DeployableReleases()
	for i := len(rs) - 1; i >= 0; i-- {
		if v := semver.MustParse(rs[i].Latest); v.Major() == major {
			return rs[i], true
		}
	}
	return Release{}, false
}

// MajorStopSource is why Rocket.Chat moves one major release at a time: a
// major release drops the migrations of the one before last, and the
// server refuses a database older than the previous major
// ("UPGRADE NOT SUPPORTED! ... you need to update to version (X-1).x
// first").
const MajorStopSource = "RocketChat/Rocket.Chat apps/meteor/server/startup/migrations/minimumVersion.ts; PR #36168 (8.0: migrations from 7.0 on); issue #29921 (\"You need to update one major at time\")"

// Newest returns the newest line in the catalog, deployable or not.
func Newest() Release { rs := cur().releases; return rs[len(rs)-1] }

// MongoDBSeries is one MongoDB feature version rcgen can run.
type MongoDBSeries struct {
	Series string `json:"series"` // "8.0"
	// Tag is the pinned tag of MongoDBImageRepo (.env's MONGODB_VERSION).
	Tag string `json:"tag"`
	// EndOfLife is MongoDB's end of life for the series.
	EndOfLife Date   `json:"end_of_life"`
	Source    string `json:"source"`
	// ImageSource says where the image (Image()) was seen published.
	ImageSource string `json:"image_source"`
}

// MongoDBImageRepo is the MongoDB image rcgen runs, on Docker Hub.
const MongoDBImageRepo = "mongodb/mongodb-community-server"

// Image is the series' full image reference.
func (s MongoDBSeries) Image() string { return MongoDBImageRepo + ":" + s.Tag }

// MongoDBFor returns the MongoDB series rcgen pairs with a Rocket.Chat
// release of a line in the catalog: the newest series its release notes
// declare that rcgen pins.
func MongoDBFor(version string) (MongoDBSeries, error) {
	r, ok := Lookup(version)
	if !ok {
		return MongoDBSeries{}, fmt.Errorf("Rocket.Chat %s is not in rcgen's catalog", version)
	}
	for i := len(r.MongoDB) - 1; i >= 0; i-- {
		if s, ok := Series(r.MongoDB[i]); ok {
			return s, nil
		}
	}
	return MongoDBSeries{}, fmt.Errorf("rcgen pins no MongoDB series Rocket.Chat %s declares (%s)", version, strings.Join(r.MongoDB, ", "))
}

// Series returns the MongoDB series row.
func Series(series string) (MongoDBSeries, bool) {
	for _, s := range cur().series {
		if s.Series == series {
			return s, true
		}
	}
	return MongoDBSeries{}, false
}

// AllMongoDB returns the MongoDB series rcgen pins, oldest first.
func AllMongoDB() []MongoDBSeries { return slices.Clone(cur().series) }

// FeatureOf returns the series ("8.0") of a MongoDB tag ("8.0.32-ubi9-slim").
func FeatureOf(tag string) string {
	parts := strings.SplitN(tag, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + "." + parts[1]
}

// HealthPath is the app endpoint the container health check asks: /health
// (apps/meteor/server/routes/health.ts). From 7.11 it answers 200 whenever
// the process serves HTTP (a deprecated alias kept with no checks,
// RocketChat/Rocket.Chat#36955). /livez and /readyz answer 503 when the
// event loop lags over 70ms, the heap is over 85% or a MongoDB ping fails
// (and /livez does so in 8.x until RocketChat/Rocket.Chat#39070): a
// container check or a lone upstream's probe on them flaps under load.
// Before 7.11 /health is the only probe there is, and it answers 500 while
// the change-stream watcher has seen no change for 40s (isLastDocDelayed:
// four MULTIPLE_INSTANCES_PING_INTERVALs, RocketChat/Rocket.Chat#27026).
func HealthPath(string) string { return "/health" }

// ProbesFrom is the first release whose /health fails only when its own
// process cannot serve (RocketChat/Rocket.Chat#36955, in 7.11.0:
// RocketChat/helm-charts#205).
const ProbesFrom = "7.11.0"

// HealthStrict reports whether the container health check may require a 200
// from HealthPath: from ProbesFrom on. Before, /health answers 500 on every
// process at once while the watcher lags, and Swarm replaces an unhealthy
// task, so a strict check would restart every process together (and hold
// back the processes that wait for the first): there the check asks only
// that the process answers HTTP at all.
func HealthStrict(version string) bool { return ReadyPath(version) != "" }

// ReadyPath is the endpoint a proxy probes to pick among several processes,
// or "" when a release has none a proxy may probe. It must fail only for a
// process that cannot serve: a proxy takes out every upstream whose probe
// fails, and with all of them out answers 503 to everyone. From 7.11 that
// is /health. Before, /health answers 500 on every process at once when the
// watcher lags (all watch the same database: a primary election, a stalled
// change stream), so there a proxy must not probe at all.
func ReadyPath(version string) string {
	v, err := semver.NewVersion(version)
	if err != nil || v.LessThan(semver.MustParse(ProbesFrom)) {
		return ""
	}
	return HealthPath(version)
}
