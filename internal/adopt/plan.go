package adopt

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/rcgen/rcgen/internal/catalog"
)

// Catalog is the part of rcgen's catalog a plan reads: the releases rcgen
// deploys (with their support dates and declared MongoDB series) and the
// MongoDB series it pins.
type Catalog struct {
	Deployable []catalog.Release
	Series     []catalog.MongoDBSeries
}

// ActiveCatalog is the catalog rcgen decides with now.
func ActiveCatalog() Catalog {
	return Catalog{Deployable: catalog.DeployableReleases(), Series: catalog.AllMongoDB()}
}

// Host is what the plan needs to know of the machine.
type Host struct {
	// FreeDump is the free space where the dump is written, FreeVolumes
	// where Docker keeps volumes; SameDisk when they are one filesystem.
	FreeDump    int64 `json:"free_dump"`
	FreeVolumes int64 `json:"free_volumes"`
	SameDisk    bool  `json:"same_disk"`
	// Now is today (support windows).
	Now time.Time `json:"-"`
}

// Target is the rcgen deployment adopt writes.
type Target struct {
	RocketChat string `json:"rocketchat"`
	MongoDB    string `json:"mongodb"`
	MongoDBTag string `json:"mongodb_tag"`
	Domain     string `json:"domain"`
	Email      string `json:"email,omitempty"`
	// UploadsUID owns the copied uploads: the user the Rocket.Chat image
	// runs as.
	UploadsUID int `json:"uploads_uid"`
}

// Move is one piece of data carried over.
type Move struct {
	What  string `json:"what"`
	From  string `json:"from"`
	To    string `json:"to"`
	Bytes int64  `json:"bytes"`
	How   string `json:"how"`
}

// Disk is the space the moves need.
type Disk struct {
	Dump    int64 `json:"dump"`
	Volumes int64 `json:"volumes"`
	Need    int64 `json:"need"`
	Free    int64 `json:"free"`
}

// Plan is what adopt will do.
type Plan struct {
	From     Old           `json:"from"`
	Target   Target        `json:"target"`
	Moves    []Move        `json:"moves"`
	Disk     Disk          `json:"disk"`
	Time     time.Duration `json:"-"`
	Downtime time.Duration `json:"-"`
	// TimeSeconds and DowntimeSeconds are Time and Downtime for scripts.
	TimeSeconds     int64 `json:"time_estimate_seconds"`
	DowntimeSeconds int64 `json:"downtime_estimate_seconds"`
	// Untouched is what stays as it is, for the way back.
	Untouched []string `json:"untouched"`
	Notes     []string `json:"notes,omitempty"`
}

// Refusal is a reason adopt will not go on, with what to do.
type Refusal struct {
	Reason string `json:"reason"`
	Fix    string `json:"fix"`
}

func (r Refusal) String() string { return r.Reason + ": " + r.Fix }

// Rates the estimates assume (a conservative single disk: mongodump and a
// copy stream at about 100 MB/s; mongorestore rebuilds every index, at
// about a third of that), and the time the new stack takes to start.
const (
	dumpRate    = 100 << 20
	restoreRate = 30 << 20
	copyRate    = 100 << 20
	startTime   = 3 * time.Minute
	// margin is the share of free space kept free: MongoDB and Docker
	// write beside the moves.
	marginPercent = 10
)

// UploadsUID is the user the Rocket.Chat image runs as, who must own the
// uploads volume: 65533 (the rocketchat user of the image's Dockerfile,
// RocketChat/Rocket.Chat apps/meteor/.docker/Dockerfile; the 8.5 images and
// later as the issue records).
func UploadsUID(string) int { return 65533 }

// Compute plans the adoption of old on host under cat. It is pure: old
// carries every fact read (Read, Inspect, Probe).
func Compute(old Old, h Host, cat Catalog) (Plan, []Refusal) {
	p := Plan{From: old}
	var refusals []Refusal
	refuse := func(reason, fix string) { refusals = append(refusals, Refusal{reason, fix}) }

	rc, why, r := targetRelease(old.Version, h.Now, cat)
	if r != nil {
		refusals = append(refusals, *r)
	}
	p.Target = Target{RocketChat: rc, Domain: old.Domain, Email: old.Email, UploadsUID: UploadsUID(rc)}
	if why != "" {
		p.Notes = append(p.Notes, why)
	}
	if rc != "" {
		if s, ok := seriesFor(rc, cat); ok {
			p.Target.MongoDB, p.Target.MongoDBTag = s.Series, s.Tag
		} else {
			refuse(fmt.Sprintf("rcgen pins no MongoDB series Rocket.Chat %s declares", rc), "a newer rcgen may; rcgen versions lists what it pins")
		}
	}
	from := old.Mongo.Version
	if p.Target.MongoDB != "" && from != "" && from != p.Target.MongoDB {
		fi, ti := catalog.FeatureIndex(from), catalog.FeatureIndex(p.Target.MongoDB)
		switch {
		case fi > ti:
			p.Notes = append(p.Notes, fmt.Sprintf("MongoDB %s lands on %s: MongoDB Community cannot take its binaries back (https://www.mongodb.com/docs/manual/release-notes/8.2-downgrade), and a dump restored into a new deployment is the way down", from, p.Target.MongoDB))
		default:
			p.Notes = append(p.Notes, fmt.Sprintf("MongoDB %s moves to %s by dump and restore, no feature-version steps in between", from, p.Target.MongoDB))
		}
	}
	if old.Mongo.Version != "" && catalog.FeatureIndex(old.Mongo.Version) >= 0 && catalog.FeatureIndex(old.Mongo.Version) < catalog.FeatureIndex("4.4") {
		refuse("MongoDB "+old.Mongo.Version+" is older than the 4.4 the pinned database tools dump", "upgrade it in place first")
	}
	if old.Domain == "" {
		refuse("the old deployment's ROOT_URL names no host", "give --domain")
	}

	if old.LetsEncrypt {
		p.Notes = append(p.Notes, "the new proxy gets its own Let's Encrypt certificate for "+old.Domain+" on its first start; the old Traefik's certificates stay in its volume")
	}
	if old.License {
		p.Notes = append(p.Notes, "the old app's environment sets a licence or registration token; a licence added in the admin's Workspace page is in the database and moves with it, one from the environment does not: give it to the new deployment with rcgen generate --license-file")
	}
	if old.SMTP != "" {
		p.Notes = append(p.Notes, "the old app's environment sets the mail server "+old.SMTP+" (OVERWRITE_SETTING_SMTP_*); the settings in the database move with it, the environment does not")
	}

	// The data moves.
	src := "MongoDB " + old.Mongo.Service
	if old.Mongo.External {
		src = "MongoDB at " + old.Mongo.URL
		p.Notes = append(p.Notes, "the old MongoDB is not part of the old deployment (MONGO_URL "+old.Mongo.URL+"): it is dumped over the network from this host and left running as it is")
	}
	p.Moves = append(p.Moves, Move{What: "database " + old.Mongo.DB, From: src, To: "mongodb-1 (database rocketchat)", Bytes: old.Sizes.DataSize,
		How: "mongodump --archive, mongorestore --archive with the new root user"})
	switch old.Uploads.Storage {
	case "GridFS", "":
		if old.Uploads.Storage == "" {
			refuse("rcgen could not read where the uploads live (FileUpload_Storage_Type in rocketchat_settings)", "start the old MongoDB so rcgen can read it, or give --uploads gridfs|filesystem")
		}
	case "FileSystem":
		holder := old.Uploads.Volume
		if holder == "" {
			holder = old.Uploads.HostPath
		}
		if holder == "" {
			refuse(fmt.Sprintf("the uploads are on the file system (%s), and no volume or host directory of the old deployment holds that path", old.Uploads.Path),
				"mount it on a named volume or host directory in the old deployment first, or copy it yourself")
		} else {
			p.Moves = append(p.Moves, Move{What: "uploads (" + old.Uploads.Path + ")", From: holder, To: "the uploads volume", Bytes: old.Sizes.Uploads,
				How: fmt.Sprintf("copied read-only, then owned by uid %d (the user Rocket.Chat runs as)", p.Target.UploadsUID)})
		}
	default:
		p.Notes = append(p.Notes, "the uploads are in "+old.Uploads.Storage+": they stay there; the restored settings keep pointing at it")
	}

	// Disk: the dump, then the new volume (storage and indexes) and the
	// uploads copy where Docker keeps volumes.
	p.Disk.Dump = old.Sizes.DataSize
	p.Disk.Volumes = old.Sizes.StorageSize + old.Sizes.Uploads
	need := func(n int64) int64 { return n + n*marginPercent/100 }
	if h.SameDisk {
		p.Disk.Need, p.Disk.Free = need(p.Disk.Dump+p.Disk.Volumes), h.FreeVolumes
		if p.Disk.Need > p.Disk.Free {
			refuse(fmt.Sprintf("not enough free disk: the dump (%s) and the new volumes (%s) need %s with a %d%% margin, and %s is free", Bytes(p.Disk.Dump), Bytes(p.Disk.Volumes), Bytes(p.Disk.Need), marginPercent, Bytes(p.Disk.Free)),
				"free space, or put --out on another disk")
		}
	} else {
		p.Disk.Need, p.Disk.Free = need(p.Disk.Dump), h.FreeDump
		if p.Disk.Need > h.FreeDump {
			refuse(fmt.Sprintf("not enough free disk for the dump: it needs %s with a %d%% margin, and %s is free beside --out", Bytes(p.Disk.Need), marginPercent, Bytes(h.FreeDump)), "free space, or put --out on another disk")
		}
		if n := need(p.Disk.Volumes); n > h.FreeVolumes {
			refuse(fmt.Sprintf("not enough free disk for the new volumes: they need %s with a %d%% margin, and %s is free where Docker keeps volumes", Bytes(n), marginPercent, Bytes(h.FreeVolumes)), "free space in Docker's data root")
		}
	}
	copyTime := time.Duration(0)
	if len(p.Moves) > 1 {
		copyTime = seconds(old.Sizes.Uploads, copyRate)
	}
	p.Time = seconds(old.Sizes.DataSize, dumpRate) + seconds(old.Sizes.DataSize, restoreRate) + copyTime + startTime
	p.Downtime = p.Time
	p.TimeSeconds, p.DowntimeSeconds = int64(p.Time/time.Second), int64(p.Downtime/time.Second)

	p.Untouched = []string{"the old directory " + old.Dir + " and every file in it"}
	if old.Layout == LayoutContainer {
		p.Untouched = []string{"the old container " + old.App + " (stopped, not removed)"}
	}
	if old.Mongo.Volume != "" {
		p.Untouched = append(p.Untouched, "the MongoDB volume "+old.Mongo.Volume+" (read over the network, never mounted)")
	}
	if old.Mongo.HostPath != "" {
		p.Untouched = append(p.Untouched, "the MongoDB directory "+old.Mongo.HostPath+" (read over the network, never mounted)")
	}
	if old.Uploads.Volume != "" {
		p.Untouched = append(p.Untouched, "the uploads volume "+old.Uploads.Volume+" (mounted read-only to copy)")
	}
	if old.Uploads.HostPath != "" {
		p.Untouched = append(p.Untouched, "the uploads directory "+old.Uploads.HostPath+" (mounted read-only to copy)")
	}
	p.Untouched = append(p.Untouched, "the old MongoDB keeps running; only "+strings.Join(old.Stop, ", ")+" stop")
	return p, refusals
}

func seconds(n int64, rate int64) time.Duration {
	return (time.Duration(n) * time.Second / time.Duration(rate)).Round(time.Second)
}

// targetRelease is the release adopt deploys for an old one: the same
// when rcgen deploys it and it is in support; else the nearest later
// release in support one step away (the same major, or the next from the
// last release of a major: Rocket.Chat migrates one major at a time,
// catalog.MajorStopSource, as rcgen upgrade plans it); else the newest one
// step away.
func targetRelease(old string, now time.Time, cat Catalog) (string, string, *Refusal) {
	if old == "" {
		return "", "", &Refusal{"rcgen could not tell which Rocket.Chat the old deployment runs", "give --from-version (the release its image runs; the admin's Workspace page shows it)"}
	}
	v, err := semver.StrictNewVersion(old)
	if err != nil {
		return "", "", &Refusal{fmt.Sprintf("%q is not a Rocket.Chat release", old), "give --from-version X.Y.Z"}
	}
	var lastOfMajor *semver.Version
	for _, r := range cat.Deployable {
		if lv := semver.MustParse(r.Latest); lv.Major() == v.Major() {
			lastOfMajor = lv
		}
	}
	var candidates []catalog.Release
	for _, r := range cat.Deployable {
		lv := semver.MustParse(r.Latest)
		if lv.LessThan(v) {
			continue
		}
		if lv.Major() == v.Major() || (lv.Major() == v.Major()+1 && lastOfMajor != nil && !v.LessThan(lastOfMajor)) {
			candidates = append(candidates, r)
		}
	}
	if len(candidates) == 0 {
		fix := "upgrade it in place first, one major release at a time, to a release rcgen deploys (rcgen versions lists them), then run rcgen adopt again"
		if lastOfMajor == nil && len(cat.Deployable) > 0 {
			first := cat.Deployable[0]
			fix = fmt.Sprintf("upgrade it in place first to the last %d.x release, then to %s or later (Rocket.Chat migrates one major release at a time; rcgen deploys %s to %s), then run rcgen adopt again",
				v.Major(), first.Line, first.Line, cat.Deployable[len(cat.Deployable)-1].Latest)
		}
		return "", "", &Refusal{fmt.Sprintf("Rocket.Chat %s is too old to move into rcgen in one step", old), fix}
	}
	line := fmt.Sprintf("%d.%d", v.Major(), v.Minor())
	for _, r := range candidates {
		if r.Line == line && r.SupportOn(now) != catalog.Unsupported {
			return old, "", nil
		}
	}
	for _, r := range candidates {
		if r.SupportOn(now) != catalog.Unsupported {
			why := fmt.Sprintf("Rocket.Chat %s moves to %s, the nearest release in support (%s until %s); its migrations run on the first start", old, r.Latest, r.Line, r.EndOfSupport)
			if r.Line == line {
				why = fmt.Sprintf("Rocket.Chat %s moves to %s, the newest %s patch rcgen deploys", old, r.Latest, r.Line)
			}
			return r.Latest, why, nil
		}
	}
	last := candidates[len(candidates)-1]
	if last.Line == line && !semver.MustParse(last.Latest).GreaterThan(v) {
		return old, fmt.Sprintf("Rocket.Chat %s is out of support, and no release in support is one step away: rcgen upgrade moves it on afterwards", last.Line), nil
	}
	return last.Latest, fmt.Sprintf("Rocket.Chat %s moves to %s, the newest release one step away (none in support is)", old, last.Latest), nil
}

// seriesFor is the MongoDB series rcgen runs a release on: the newest
// series its notes declare that rcgen pins (catalog.MongoDBFor's rule).
func seriesFor(version string, cat Catalog) (catalog.MongoDBSeries, bool) {
	v := semver.MustParse(version)
	line := fmt.Sprintf("%d.%d", v.Major(), v.Minor())
	i := slices.IndexFunc(cat.Deployable, func(r catalog.Release) bool { return r.Line == line })
	if i < 0 {
		return catalog.MongoDBSeries{}, false
	}
	declared := cat.Deployable[i].MongoDB
	for j := len(declared) - 1; j >= 0; j-- {
		for _, s := range cat.Series {
			if s.Series == declared[j] {
				return s, true
			}
		}
	}
	return catalog.MongoDBSeries{}, false
}

// Bytes is n for people (binary units).
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
