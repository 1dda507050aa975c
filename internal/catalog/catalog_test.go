package catalog

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/distribution/reference"
)

// TestMongoDBImagesSeenWhereTheyArePulledFrom: every MongoDB image rcgen
// pins is a valid, versioned reference whose source says where that exact
// tag was seen published, on the registry the reference pulls from (a tag
// seen on quay.io proves nothing about Docker Hub). MongoDB 8 needs a ubi9
// image: only its glibc honours GLIBC_TUNABLES=glibc.pthread.rseq=1.
func TestMongoDBImagesSeenWhereTheyArePulledFrom(t *testing.T) {
	registries := map[string][]string{
		"docker.io": {"Docker Hub", "https://hub.docker.com/r/" + MongoDBImageRepo},
		"quay.io":   {"quay.io", "https://quay.io/repository/"},
	}
	for _, s := range AllMongoDB() {
		img := s.Image()
		ref, err := reference.ParseNormalizedNamed(img)
		if err != nil {
			t.Errorf("MongoDB %s: %s is not an image reference: %v", s.Series, img, err)
			continue
		}
		tagged, ok := ref.(reference.Tagged)
		if !ok || tagged.Tag() != s.Tag || s.Tag == "latest" {
			t.Errorf("MongoDB %s: %s is not pinned to its tag %s", s.Series, img, s.Tag)
		}
		domain := reference.Domain(ref)
		names, known := registries[domain]
		if !known {
			t.Errorf("MongoDB %s: %s pulls from %s, a registry this test does not know", s.Series, img, domain)
			continue
		}
		for _, n := range names {
			if !strings.Contains(s.ImageSource, n) {
				t.Errorf("MongoDB %s: %s pulls from %s, but its source does not say it was seen there (%q): %q", s.Series, img, domain, n, s.ImageSource)
			}
		}
		// The tag itself, not a longer one (8.0.32-ubi9 is not 8.0.32-ubi9-slim).
		if !regexp.MustCompile(`(^|[^\w.-])` + regexp.QuoteMeta(s.Tag) + `($|[^\w-])`).MatchString(s.ImageSource) {
			t.Errorf("MongoDB %s: the source does not name the tag %s it saw: %q", s.Series, s.Tag, s.ImageSource)
		}
		if FeatureIndex(s.Series) >= FeatureIndex("8.0") && !strings.Contains(s.Tag, "-ubi9") {
			t.Errorf("MongoDB %s: %s is not a ubi9 image, whose glibc honours %s (KernelRule)", s.Series, img, GlibcTunables)
		}
	}
}

// TestCatalogInvariants pins what every row must hold.
func TestCatalogInvariants(t *testing.T) {
	var prev *semver.Version
	for _, r := range Releases() {
		line := semver.MustParse(r.Line + ".0")
		if prev != nil && !prev.LessThan(line) {
			t.Errorf("%s comes after %s: keep the rows oldest first", r.Line, prev)
		}
		prev = line
		if !strings.HasPrefix(r.Latest, r.Line+".") {
			t.Errorf("%s: latest %s is not of the line", r.Line, r.Latest)
		}
		if len(r.MongoDB) == 0 {
			t.Errorf("%s declares no MongoDB series", r.Line)
		}
		if _, err := MongoDBFor(r.Latest); err != nil {
			t.Errorf("%s: %v", r.Line, err)
		}
		if r.Source == "" || r.Node == "" {
			t.Errorf("%s has no source or Node version", r.Line)
		}
	}
	if _, err := Deployable(DefaultRocketChatVersion()); err != nil {
		t.Errorf("the default %s is not deployable: %v", DefaultRocketChatVersion(), err)
	}
	for _, s := range AllMongoDB() {
		if FeatureOf(s.Tag) != s.Series || s.Source == "" {
			t.Errorf("MongoDB %s: tag %s or source wrong", s.Series, s.Tag)
		}
	}
	images := []string{RocketChatImage + ":" + DefaultRocketChatVersion()}
	for _, s := range AllMongoDB() {
		images = append(images, s.Image())
	}
	for _, i := range PinnedImages() {
		images = append(images, i.Image)
	}
	for _, img := range images {
		ref, err := reference.ParseNormalizedNamed(img)
		if err != nil {
			t.Errorf("%s: %v", img, err)
			continue
		}
		if tagged, ok := ref.(reference.Tagged); !ok || tagged.Tag() == "latest" {
			t.Errorf("%s is not pinned to a version", img)
		}
	}
}

// TestPairing follows the release notes: 7.x on 7.0, 7.13 up to 8.0, 8.0
// and 8.1 on 8.2, and 8.2 onwards on 8.0.
func TestPairing(t *testing.T) {
	for v, want := range map[string]string{"7.10.0": "7.0", "7.13.9": "8.0", "8.0.1": "8.2", "8.1.8": "8.2", "8.2.0": "8.0", "8.8.1": "8.0", "9.0.0": "8.0"} {
		s, err := MongoDBFor(v)
		if err != nil || s.Series != want {
			t.Errorf("MongoDBFor(%s) = %s, %v; want %s", v, s.Series, err, want)
		}
	}
	for _, v := range []string{"6.13.0", "9.1.0"} {
		if _, err := MongoDBFor(v); err == nil {
			t.Errorf("%s, a line the catalog lacks, paired", v)
		}
	}
}

func at(s string) time.Time { return day(s).Time }

// TestSupportOnAGivenDay: the clock is the caller's.
func TestSupportOnAGivenDay(t *testing.T) {
	r, _ := Lookup("8.7.1") // end of support 2027-02-28 (August 2026 + 6)
	for now, want := range map[string]Support{"2026-11-25": Supported, "2027-01-28": Supported, "2027-01-29": EndingSoon, "2027-02-28": EndingSoon, "2027-03-02": Unsupported} {
		if got := r.SupportOn(at(now)); got != want {
			t.Errorf("8.7 on %s: %s, want %s", now, got, want)
		}
	}
	if note := r.SupportNote(at("2027-03-03"), "upgrade with `rcgen upgrade --to 8.8.1`"); !strings.Contains(note, "out of support since 2027-02-28") || !strings.HasSuffix(note, "; upgrade with `rcgen upgrade --to 8.8.1`") {
		t.Errorf("note: %q", note)
	}
	if note := r.SupportNote(at("2027-02-01"), ""); !strings.Contains(note, "leaves support on 2027-02-28 (in 27 days)") || !strings.Contains(note, "a newer rcgen may know one") {
		t.Errorf("note: %q", note)
	}
	// 8.9 is LTS, but rcgen has not confirmed its image: 8.5 is the LTS
	// rcgen recommends; before 8.5 was released, 7.10, until its support ends.
	for now, want := range map[string]string{"2026-11-25": "8.5", "2026-08-01": "8.5", "2026-06-01": "7.10", "2027-07-15": ""} {
		if lts, _ := LatestLTS(at(now)); lts.Line != want {
			t.Errorf("latest deployable LTS on %s = %q, want %q", now, lts.Line, want)
		}
	}
}

func TestKernelRule(t *testing.T) {
	for release, want := range map[string]bool{
		"6.8.0-88-generic": false, "6.18.9": false, "6.19.0": true, "7.0.0-15-generic": true,
		"7.0.13-arch1-1": true, "7.0.14": false, "7.1.2-200.fc43.x86_64": false, "6.8.12-4-pve": false,
	} {
		got, err := KernelRule.Affects(release)
		if err != nil || got != want {
			t.Errorf("Affects(%s) = %v, %v; want %v", release, got, err, want)
		}
	}
	if _, err := KernelRule.Affects("unknown"); err == nil {
		t.Error("a kernel without a version accepted")
	}
}

// TestDeployable: one rule for every row. A confirmed line deploys its
// Latest and every earlier patch, never a later one; an unconfirmed line
// deploys nothing, for the same reason whatever the patch; each refusal
// lists what rcgen deploys.
func TestDeployable(t *testing.T) {
	for _, r := range Releases() {
		latest := semver.MustParse(r.Latest)
		next := latest.IncPatch()
		for _, v := range []string{r.Line + ".0", r.Latest, next.String()} {
			_, err := Deployable(v)
			want := r.ImageConfirmed && v != next.String()
			if (err == nil) != want {
				t.Errorf("Deployable(%s) = %v; want deployable %v", v, err, want)
			}
			if err != nil && !strings.Contains(err.Error(), ": rcgen deploys the lines 7.0 to 8.8, each up to its newest patch with a confirmed image (the default is "+DefaultRocketChatVersion()+"): give one of those") {
				t.Errorf("Deployable(%s): the refusal does not list what rcgen deploys: %v", v, err)
			}
		}
	}
	reason := func(v string) string {
		_, err := Deployable(v)
		if err == nil {
			t.Fatalf("%s accepted", v)
		}
		_, why, _ := strings.Cut(err.Error(), "Rocket.Chat "+v+": ")
		return why
	}
	if a, b := reason("9.0.0"), reason("9.0.1"); a != b || !strings.Contains(a, "has not confirmed that the 9.0 line's image is published") {
		t.Errorf("9.0.0 and 9.0.1 refused for different reasons:\n%s\n%s", a, b)
	}
	for v, want := range map[string]string{
		"8.8.99": "Rocket.Chat 8.8.99 is newer than the newest 8.8 patch rcgen has confirmed an image for (8.8.1)",
		"8.5.5":  "newer than the newest 8.5 patch rcgen has confirmed an image for (8.5.3)",
		"8.9.1":  "rcgen does not deploy Rocket.Chat 8.9.1: it has not confirmed",
		"6.13.0": "Rocket.Chat 6.13.0 is older than 7.0, the oldest line rcgen deploys",
		"7.14.0": "Rocket.Chat 7.14.0 is not a release rcgen knows (its catalog holds the lines 7.0 to 9.0",
		"99.0.0": "Rocket.Chat 99.0.0 is not a release rcgen knows",
		"latest": `"latest" is not a release number`,
		"v8.8.1": `"v8.8.1" is not a release number`,
		"8.8":    `"8.8" is not a release number`,
	} {
		if _, err := Deployable(v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Deployable(%s) = %v; want %q", v, err, want)
		}
	}
	for _, v := range []string{"8.8.0", "8.5.3", "7.13.9", "7.0.9"} {
		if r, err := Deployable(v); err != nil || !strings.HasPrefix(v, r.Line+".") {
			t.Errorf("Deployable(%s) = %s, %v", v, r.Line, err)
		}
	}
}

// TestReadyPath: a proxy probes /health only where it fails for the process
// alone (7.11 on); before, it fails on every process at once while the
// change-stream watcher lags, so there is no path to probe.
func TestReadyPath(t *testing.T) {
	for version, want := range map[string]string{
		"7.0.9": "", "7.10.15": "", "7.11.0": "/health", "7.13.9": "/health", "8.8.1": "/health", "9.0.0": "/health", "not-a-version": "",
	} {
		if got := ReadyPath(version); got != want {
			t.Errorf("ReadyPath(%s) = %q, want %q", version, got, want)
		}
	}
}
