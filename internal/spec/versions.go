package spec

import (
	"fmt"

	"github.com/Masterminds/semver/v3"

	"github.com/rcgen/rcgen/internal/catalog"
)

// DefaultRocketChatVersion is the release rcgen deploys when none is given
// (the catalog decides).
const DefaultRocketChatVersion = catalog.DefaultRocketChatVersion

// minRocketChatMajor: Rocket.Chat 6.x is out of support, and 8.x servers
// exit on the MongoDB versions 6.x ran on.
const minRocketChatMajor = 7

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

// Major is the release's first number.
func (v Version) Major() int { return int(v.v.Major()) }

// Minor is the release's second number.
func (v Version) Minor() int { return int(v.v.Minor()) }

// AtLeast reports whether v >= major.minor.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major() > major || v.Major() == major && v.Minor() >= minor
}

// Before reports whether v's feature release (major.minor) is older than o's.
func (v Version) Before(o Version) bool { return !v.AtLeast(o.Major(), o.Minor()) }

// ValidateRocketChatVersion accepts exact releases rcgen can deploy: 7.0
// and later, in the catalog or newer than it (a newer release is planned
// with a warning).
func ValidateRocketChatVersion(s string) error {
	v, err := ParseVersion(s)
	if err != nil {
		return err
	}
	if v.Major() < minRocketChatMajor {
		return fmt.Errorf("%s is older than 7.0, which rcgen does not deploy: upgrade to %s (Rocket.Chat 6.x is out of support)", s, DefaultRocketChatVersion)
	}
	if newest := catalog.Newest(); v.Major() > int(semver.MustParse(newest.Latest).Major())+1 {
		return fmt.Errorf("%s is far newer than any Rocket.Chat release (the newest rcgen knows is %s): check the number", s, newest.Latest)
	}
	if _, err := catalog.MongoDBFor(s); err != nil {
		return fmt.Errorf("%s: %v: give a release from `rcgen versions`", s, err)
	}
	return nil
}

// Untested reports whether v is newer than every release in the catalog.
func (v Version) Untested() bool {
	_, ok := catalog.Lookup(v.String())
	return !ok
}
