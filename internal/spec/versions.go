package spec

import (
	"github.com/Masterminds/semver/v3"

	"github.com/rcgen/rcgen/internal/catalog"
)

// DefaultRocketChatVersion is the release rcgen deploys when none is given
// (the catalog decides: the newest patch of the newest LTS line whose
// image rcgen has seen).
func DefaultRocketChatVersion() string { return catalog.DefaultRocketChatVersion() }

// resolveVersionWord turns a release given as a word (latest, lts) into
// the exact release it names today, noting the word in origin: answers
// carry exact releases only, so rcgen.yaml records one and a re-run
// deploys what runs until a release is asked for again.
func resolveVersionWord(a *Answers, origin *Origin) {
	if v, word, meaning := catalog.ResolveWord(a.RocketChatVersion); word != "" {
		a.RocketChatVersion = v
		origin.Word, origin.WordMeaning = word, meaning
	}
}

// Version is a parsed Rocket.Chat release number (semantic versioning).
type Version struct{ v *semver.Version }

// ParseVersion reads an exact release such as "8.1.1": three numbers, no
// "v" prefix, no pre-release.
func ParseVersion(s string) (Version, error) {
	v, err := catalog.ParseRelease(s)
	if err != nil {
		return Version{}, err
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

// ValidateRocketChatVersion accepts the releases rcgen deploys: the
// catalog's rule (catalog.Deployable), which upgrade, `rcgen versions` and
// doctor apply too. Its error lists what rcgen deploys.
func ValidateRocketChatVersion(s string) error {
	_, err := catalog.Deployable(s)
	return err
}

// LoadCatalog reads a catalog file a person named (--catalog, catalog:),
// as every file a person names is read (ReadUserFile: a regular file, of
// bounded size), and merges it over the compiled-in catalog. Every
// mistake is reported at once, by line.
func LoadCatalog(path string) (*catalog.Catalog, error) {
	b, err := ReadUserFile(path)
	if err != nil {
		return nil, err
	}
	f, err := catalog.ParseFile(path, b)
	if err != nil {
		return nil, err
	}
	return catalog.Merge(f)
}
