package adopt

import (
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
)

func day(s string) catalog.Date {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return catalog.Date{Time: t}
}

// testCatalog is a small catalog of the shape rcgen's: 7.x on MongoDB
// 7.0, 7.13 also on 8.0, 8.0-8.1 on 8.2 only, 8.2 on 8.0.
func testCatalog() Catalog {
	rel := func(line, latest, end string, mongo ...string) catalog.Release {
		return catalog.Release{Line: line, Latest: latest, ImageConfirmed: true, EndOfSupport: day(end), MongoDB: mongo}
	}
	return Catalog{
		Deployable: []catalog.Release{
			rel("7.10", "7.10.15", "2026-09-30", "5.0", "6.0", "7.0"),
			rel("7.13", "7.13.9", "2026-06-30", "5.0", "6.0", "7.0", "8.0"),
			rel("8.0", "8.0.8", "2026-07-31", "8.2"),
			rel("8.1", "8.1.8", "2026-08-31", "8.2"),
			rel("8.5", "8.5.3", "2027-06-30", "8.0"),
		},
		Series: []catalog.MongoDBSeries{
			{Series: "7.0", Tag: "7.0.28-ubi8"},
			{Series: "8.0", Tag: "8.0.32-ubi9-slim"},
			{Series: "8.2", Tag: "8.2.12-ubi9-slim"},
		},
	}
}

const gib = 1 << 30

func official() Old {
	o := Old{Layout: LayoutCompose, Dir: "/srv/rc", Project: "rc", App: "rocketchat", Version: "8.0.1", Domain: "chat.example.com", Stop: []string{"rocketchat", "traefik"},
		Mongo:   Mongo{Service: "mongodb", Version: "8.2", Volume: "rc_mongodb_data", DB: "rocketchat", ReplicaSet: "rs0"},
		Uploads: Uploads{Storage: "GridFS"},
		Sizes:   Sizes{DataSize: 2 * gib, StorageSize: 3 * gib}}
	o.Mongo.SetURL("mongodb://mongodb:27017/rocketchat?replicaSet=rs0")
	return o
}

func TestPlan(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	roomy := Host{FreeDump: 100 * gib, FreeVolumes: 100 * gib, SameDisk: true, Now: now}
	tests := []struct {
		name      string
		old       func(o *Old)
		host      Host
		rc, mongo string
		// notes and refusals hold these substrings.
		notes, refusals []string
		moves           int
		downtime        time.Duration
	}{
		{name: "official 8.0.1 on MongoDB 8.2 lands on 8.5.3 and MongoDB 8.0", host: roomy, rc: "8.5.3", mongo: "8.0",
			notes: []string{"moves to 8.5.3, the nearest release in support", "MongoDB 8.2 lands on 8.0: MongoDB Community cannot take its binaries back"}, moves: 1,
			downtime: 20*time.Second + 68*time.Second + 3*time.Minute},
		{name: "a release in support stays", old: func(o *Old) { o.Version = "8.5.1"; o.Mongo.Version = "8.0" }, host: roomy, rc: "8.5.1", mongo: "8.0", moves: 1},
		{name: "bitnami 7.10 on 6.0 stays on 7.10, MongoDB 7.0", old: func(o *Old) { o.Version = "7.10.5"; o.Mongo.Version = "6.0"; o.Mongo.Bitnami = true },
			host: Host{FreeDump: 100 * gib, FreeVolumes: 100 * gib, SameDisk: true, Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}, rc: "7.10.5", mongo: "7.0",
			notes: []string{"MongoDB 6.0 moves to 7.0 by dump and restore"}, moves: 1},
		{name: "out of support 7.10 moves within its major", old: func(o *Old) { o.Version = "7.10.5"; o.Mongo.Version = "6.0" }, host: roomy, rc: "7.13.9", mongo: "8.0",
			notes: []string{"newest release one step away"}, moves: 1},
		{name: "last of a major may cross", old: func(o *Old) { o.Version = "7.13.9"; o.Mongo.Version = "7.0" }, host: roomy, rc: "8.5.3", mongo: "8.0", moves: 1},
		{name: "6.x is too old", old: func(o *Old) { o.Version = "6.13.1"; o.Mongo.Version = "6.0" }, host: roomy,
			refusals: []string{"Rocket.Chat 6.13.1 is too old to move into rcgen in one step: upgrade it in place first to the last 6.x release, then to 7.10"}},
		{name: "unknown release", old: func(o *Old) { o.Version = "" }, host: roomy, refusals: []string{"could not tell which Rocket.Chat", "give --from-version"}},
		{name: "dump and volumes on one full disk", host: Host{FreeDump: 5 * gib, FreeVolumes: 5 * gib, SameDisk: true, Now: now}, rc: "8.5.3", mongo: "8.0", moves: 1,
			refusals: []string{"not enough free disk: the dump (2.0 GiB) and the new volumes (3.0 GiB) need 5.5 GiB with a 10% margin, and 5.0 GiB is free"}},
		{name: "two disks, the dump's too small", host: Host{FreeDump: 1 * gib, FreeVolumes: 100 * gib, Now: now}, rc: "8.5.3", mongo: "8.0", moves: 1,
			refusals: []string{"not enough free disk for the dump: it needs 2.2 GiB"}},
		{name: "two disks, Docker's too small", host: Host{FreeDump: 100 * gib, FreeVolumes: 2 * gib, Now: now}, rc: "8.5.3", mongo: "8.0", moves: 1,
			refusals: []string{"not enough free disk for the new volumes: they need 3.3 GiB"}},
		{name: "FileSystem uploads on a volume are copied", old: func(o *Old) {
			o.Uploads = Uploads{Storage: "FileSystem", Path: "/app/uploads", Volume: "rc_uploads"}
			o.Sizes.Uploads = 10 * gib
		}, host: roomy, rc: "8.5.3", mongo: "8.0", moves: 2},
		{name: "FileSystem uploads nowhere to copy from", old: func(o *Old) { o.Uploads = Uploads{Storage: "FileSystem", Path: "/app/uploads"} }, host: roomy, rc: "8.5.3", mongo: "8.0", moves: 1,
			refusals: []string{"the uploads are on the file system (/app/uploads), and no volume or host directory"}},
		{name: "S3 uploads stay", old: func(o *Old) { o.Uploads = Uploads{Storage: "AmazonS3"} }, host: roomy, rc: "8.5.3", mongo: "8.0", moves: 1,
			notes: []string{"the uploads are in AmazonS3: they stay there"}},
		{name: "uploads storage unread", old: func(o *Old) { o.Uploads = Uploads{} }, host: roomy, rc: "8.5.3", mongo: "8.0", moves: 1,
			refusals: []string{"could not read where the uploads live"}},
		{name: "external MongoDB is dumped over the network", old: func(o *Old) {
			o.Mongo = Mongo{External: true, Auth: true, DB: "chat", ReplicaSet: "prod"}
			o.Mongo.SetURL("mongodb://u:pw@db.example:27017/chat?replicaSet=prod")
		}, host: roomy, rc: "8.5.3", mongo: "8.0", moves: 1, notes: []string{"the old MongoDB is not part of the old deployment (MONGO_URL mongodb://u:***@db.example"}},
		{name: "no domain", old: func(o *Old) { o.Domain = "" }, host: roomy, rc: "8.5.3", mongo: "8.0", moves: 1, refusals: []string{"ROOT_URL names no host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := official()
			if tt.old != nil {
				tt.old(&o)
			}
			p, refusals := Compute(o, tt.host, testCatalog())
			if p.Target.RocketChat != tt.rc || p.Target.MongoDB != tt.mongo {
				t.Errorf("target %s on %s, want %s on %s", p.Target.RocketChat, p.Target.MongoDB, tt.rc, tt.mongo)
			}
			notes := strings.Join(p.Notes, "\n")
			for _, n := range tt.notes {
				if !strings.Contains(notes, n) {
					t.Errorf("notes lack %q:\n%s", n, notes)
				}
			}
			var rs []string
			for _, r := range refusals {
				if r.Reason == "" || r.Fix == "" {
					t.Errorf("a refusal without its reason or fix: %+v", r)
				}
				rs = append(rs, r.String())
			}
			got := strings.Join(rs, "\n")
			for _, r := range tt.refusals {
				if !strings.Contains(got, r) {
					t.Errorf("refusals lack %q:\n%s", r, got)
				}
			}
			if len(tt.refusals) == 0 && len(refusals) > 0 {
				t.Errorf("refused: %s", got)
			}
			if tt.rc != "" && len(p.Moves) != tt.moves {
				t.Errorf("%d moves, want %d: %+v", len(p.Moves), tt.moves, p.Moves)
			}
			if tt.downtime != 0 && p.Downtime != tt.downtime {
				t.Errorf("downtime %s, want %s", p.Downtime, tt.downtime)
			}
			if !strings.Contains(strings.Join(p.Untouched, "\n"), "keeps running") {
				t.Errorf("untouched %v", p.Untouched)
			}
		})
	}
}

// The compiled-in catalog: the official compose default (8.0.1 on
// MongoDB 8.2) has a target, and it is not on MongoDB 8.2.
func TestPlanCompiledCatalog(t *testing.T) {
	p, refusals := Compute(official(), Host{FreeDump: 100 * gib, FreeVolumes: 100 * gib, SameDisk: true, Now: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}, ActiveCatalog())
	if len(refusals) > 0 || p.Target.RocketChat == "" || p.Target.MongoDB == "8.2" {
		t.Fatalf("target %+v, refusals %v", p.Target, refusals)
	}
	if _, err := catalog.Deployable(p.Target.RocketChat); err != nil {
		t.Errorf("the target is not deployable: %v", err)
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 3 * gib: "3.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
