package catalog

import (
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/distribution/reference"
)

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
		months := 6
		if r.LTS {
			months = 12
		}
		if end := r.Released.AddDate(0, months+1, 0); r.EndOfSupport.After(end) || !r.EndOfSupport.After(r.Released.Time) {
			t.Errorf("%s: end of support %s is not within %d months of %s", r.Line, r.EndOfSupport, months, r.Released)
		}
	}
	if _, ok := Lookup(DefaultRocketChatVersion); !ok {
		t.Errorf("the default %s is not in the catalog", DefaultRocketChatVersion)
	}
	if Default().Latest != DefaultRocketChatVersion {
		t.Errorf("the default %s is not its line's newest pinned patch %s", DefaultRocketChatVersion, Default().Latest)
	}
	for _, s := range AllMongoDB() {
		if FeatureOf(s.Tag) != s.Series || s.Source == "" {
			t.Errorf("MongoDB %s: tag %s or source wrong", s.Series, s.Tag)
		}
	}
	images := []string{RocketChatImage + ":" + DefaultRocketChatVersion}
	for _, s := range AllMongoDB() {
		images = append(images, MongoDBImageRepo+":"+s.Tag)
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
	for v, want := range map[string]string{"7.10.0": "7.0", "7.13.9": "8.0", "8.0.1": "8.2", "8.1.8": "8.2", "8.2.0": "8.0", "8.8.1": "8.0", "9.0.0": "8.0", "9.1.0": "8.0"} {
		s, err := MongoDBFor(v)
		if err != nil || s.Series != want {
			t.Errorf("MongoDBFor(%s) = %s, %v; want %s", v, s.Series, err, want)
		}
	}
	if _, err := MongoDBFor("6.13.0"); err == nil {
		t.Error("6.13.0 paired")
	}
}

func at(s string) time.Time { return day(s).Time }

// TestSupportOnAGivenDay: the clock is the caller's.
func TestSupportOnAGivenDay(t *testing.T) {
	r, _ := Lookup("8.7.1") // end of support 2027-01-31
	for now, want := range map[string]Support{"2026-11-25": Supported, "2027-01-01": EndingSoon, "2027-01-31": EndingSoon, "2027-02-02": Unsupported} {
		if got := r.SupportOn(at(now)); got != want {
			t.Errorf("8.7 on %s: %s, want %s", now, got, want)
		}
	}
	if note := r.SupportNote(at("2027-03-01")); !strings.Contains(note, "out of support since 2027-01-31") {
		t.Errorf("note: %q", note)
	}
	lts, ok := LatestLTS(at("2026-11-25"))
	if !ok || lts.Line != "8.9" {
		t.Errorf("latest LTS on 2026-11-25 = %s", lts.Line)
	}
	if lts, _ := LatestLTS(at("2026-08-01")); lts.Line != "8.5" {
		t.Errorf("latest LTS on 2026-08-01 = %s", lts.Line)
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
