package catalog

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// The release rule: Deployable decides which Rocket.Chat releases rcgen
// deploys, and generate (its flag, an answers file, the wizard), upgrade
// --to, `rcgen versions` and doctor all ask it. A release is deployable
// when
//
//   - it is an exact release number (8.8.1: no v prefix, no pre-release);
//   - its line (8.8) is in the catalog;
//   - rcgen has confirmed that the line's image is published
//     (ImageConfirmed);
//   - its patch is no newer than the line's Latest. Rocket.Chat numbers a
//     line's patches one after another and publishes an image of each, so
//     a confirmed 8.8.1 vouches for 8.8.0 too; a later number (8.8.99) may
//     not exist, or exist with no image rcgen has seen.
//
// Support is not part of the rule: a release past its end of support is
// deployed with a warning (generate) and fails doctor's release check.
// Upgrades from 7.x pass through 7.13.9, past its support, and a running
// deployment on an old release must stay re-generatable until upgraded.

// ParseRelease reads an exact release number such as "8.8.1": three
// numbers, no "v" prefix, no pre-release or build suffix.
func ParseRelease(s string) (*semver.Version, error) {
	v, ok := exactRelease(s)
	if !ok {
		return nil, fmt.Errorf("%q is not a release number: give an exact release such as %s (no v prefix), or %s or %s", s, DefaultRocketChatVersion(), WordLatest, WordLTS)
	}
	return v, nil
}

// exactRelease is ParseRelease without its message, for the code that
// decides what is deployable (the message names the default, which asks
// that code).
func exactRelease(s string) (*semver.Version, bool) {
	v, err := semver.StrictNewVersion(s)
	if err != nil || v.Prerelease() != "" || v.Metadata() != "" {
		return nil, false
	}
	return v, true
}

// RefusedError is a release rcgen does not deploy: Msg says why and what
// to do, Short says why in a few words (for a table).
type RefusedError struct {
	Version string
	Short   string
	Msg     string
}

func (e *RefusedError) Error() string { return e.Msg }

// Deployable returns the release line of version when rcgen deploys
// version, and otherwise an error (a *RefusedError once version is a
// release number) that lists what rcgen deploys.
func Deployable(version string) (Release, error) {
	v, err := ParseRelease(version)
	if err != nil {
		return Release{}, err
	}
	refuse := func(short, format string, a ...any) (Release, error) {
		return Release{}, &RefusedError{Version: version, Short: short,
			Msg: fmt.Sprintf(format, a...) + ": " + deployableList()}
	}
	c := cur()
	r, ok := Lookup(version)
	if !ok {
		oldest := c.releases[0]
		if v.LessThan(semver.MustParse(oldest.Line + ".0")) {
			return refuse("older than "+oldest.Line,
				"Rocket.Chat %s is older than %s, the oldest line rcgen deploys (6.x is out of support, and 8.x servers exit on the MongoDB it ran on)", version, oldest.Line)
		}
		return refuse("not in the catalog",
			"Rocket.Chat %s is not a release rcgen knows (its catalog holds the lines %s to %s; a newer rcgen may know more)", version, oldest.Line, Newest().Line)
	}
	if held, ok := c.held[r.Line]; ok {
		return refuse(held[0], "%s", held[1])
	}
	if !r.ImageConfirmed {
		return refuse("image not confirmed",
			"rcgen does not deploy Rocket.Chat %s: it has not confirmed that the %s line's image is published (%s:%s)", version, r.Line, RocketChatImage, r.Latest)
	}
	if latest := semver.MustParse(r.Latest); v.GreaterThan(latest) {
		return refuse("newer than "+r.Latest,
			"Rocket.Chat %s is newer than the newest %s patch rcgen has confirmed an image for (%s)", version, r.Line, r.Latest)
	}
	if !c.allows(v, r) {
		return Release{}, &RefusedError{Version: version, Short: "not allowed by " + c.File,
			Msg: fmt.Sprintf("Rocket.Chat %s is not among the releases the catalog %s allows (%s): give one of those, or ask whoever keeps %s to allow it", version, c.File, strings.Join(c.Allow, ", "), c.File)}
	}
	return r, nil
}

// DeployableReleases returns the release lines rcgen deploys, oldest
// first; each line's Latest is its newest deployable patch (earlier
// patches of the line are deployable too). The last is what latest
// names.
func DeployableReleases() []Release {
	c := cur()
	var rs []Release
	for _, r := range c.releases {
		if _, held := c.held[r.Line]; r.ImageConfirmed && !held {
			if r.Latest = c.allowedLatest(r); r.Latest != "" {
				rs = append(rs, r)
			}
		}
	}
	return rs
}

// deployableList names what rcgen deploys, as runs of lines ("7.0 to
// 8.8"), and what to do.
func deployableList() string {
	c := cur()
	releases := c.releases
	deploys := func(r Release) bool {
		_, held := c.held[r.Line]
		return r.ImageConfirmed && !held && c.allowedLatest(r) != ""
	}
	var runs []string
	start := ""
	for i, r := range releases {
		if deploys(r) && start == "" {
			start = r.Line
		}
		if start != "" && (i == len(releases)-1 || !deploys(releases[i+1])) {
			if start == r.Line {
				runs = append(runs, r.Line)
			} else {
				runs = append(runs, start+" to "+r.Line)
			}
			start = ""
		}
	}
	if len(runs) == 0 {
		return fmt.Sprintf("under the catalog %s rcgen deploys no release: allow in it a line `rcgen versions --catalog %s` says rcgen deploys", c.File, c.File)
	}
	lines := "line " + runs[0]
	if len(runs) > 1 || strings.Contains(runs[0], " to ") {
		lines = "lines " + strings.Join(runs[:len(runs)-1], ", ")
		if len(runs) > 1 {
			lines += " and "
		}
		lines += runs[len(runs)-1]
	}
	return fmt.Sprintf("rcgen deploys the %s, each up to its newest patch with a confirmed image (the default is %s): give one of those (`rcgen versions` lists them, with their support)", lines, DefaultRocketChatVersion())
}
