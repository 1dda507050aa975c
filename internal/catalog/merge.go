package catalog

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
)

// CheckedOn is the day the compiled-in catalog's facts were last checked
// against Rocket.Chat's and the registries' own lists (the newest fact in
// releases.go is 9.0.0 of 2026-11-10): bump it with the rows.
var CheckedOn = day("2026-11-10")

// Catalog is the catalog rcgen decides with: the compiled-in one, or the
// compiled-in one with a catalog file merged over it (Merge).
type Catalog struct {
	// File is the catalog file merged in, "" for the compiled-in catalog.
	File      string
	Generated Date
	Sources   []string
	// Notes say what the file said that rcgen did not take, and why.
	Notes []string
	// Seen are the images besides Rocket.Chat and MongoDB the file saw
	// published.
	Seen []SeenImage
	// Allow is the file's allow list: when not empty, only these are
	// deployable.
	Allow []string

	releases []Release
	series   []MongoDBSeries
	// held are lines listed but not deployable whatever their image, with
	// the reason in a few words and in full.
	held map[string][2]string
}

// Compiled is the catalog compiled into rcgen.
func Compiled() *Catalog {
	return &Catalog{releases: releases, series: mongoSeries, Generated: CheckedOn}
}

var (
	activeMu sync.RWMutex
	active   *Catalog
)

// cur is the catalog Lookup, Deployable and the rest consult.
func cur() *Catalog {
	activeMu.RLock()
	defer activeMu.RUnlock()
	if active == nil {
		return Compiled()
	}
	return active
}

// Active returns the catalog in use.
func Active() *Catalog { return cur() }

// Use makes c the catalog rcgen decides with (nil: the compiled-in one)
// and returns what puts the previous one back. A run sets it once, from
// --catalog or the answers' catalog:; tests restore it (defer).
func Use(c *Catalog) (restore func()) {
	activeMu.Lock()
	prev := active
	active = c
	activeMu.Unlock()
	return func() {
		activeMu.Lock()
		active = prev
		activeMu.Unlock()
	}
}

// Age says how old a catalog's facts are on day now ("3 days old").
func (c *Catalog) Age(now time.Time) string {
	days := int(now.Sub(c.Generated.Time).Hours() / 24)
	switch {
	case days < 0:
		return "dated in the future"
	case days == 0:
		return "from today"
	case days == 1:
		return "1 day old"
	}
	return fmt.Sprintf("%d days old", days)
}

// Merge lays a catalog file over the compiled-in catalog. The file may
// add; it never overrides a rule rcgen knows:
//
//   - a line rcgen knows keeps everything rcgen knows of it (the MongoDB
//     series its notes declare, so the bridges such as 7.13 declaring 8.0;
//     its LTS flag, dates and Node; its breaking changes): where the file
//     says otherwise, rcgen's is kept and a note says so. The file may
//     mark the image of the line's latest patch seen (the line becomes
//     deployable) and add a newer patch whose image it saw.
//   - a line rcgen does not know is added when the file gives all of it
//     (latest, released, end_of_support, lts, mongodb, node, source) and
//     the line is newer than the oldest rcgen knows; it is deployable when
//     its image was seen, it declares a MongoDB series rcgen pins, and its
//     major is one rcgen knows. A new major (9.x to an rcgen that knows
//     only 8.x) is listed, never deployed: moving onto a major has
//     breaking changes and a one-major-at-a-time upgrade path (see
//     MajorStopSource) only rcgen's own notes carry, and a file cannot
//     declare breaking changes.
//   - a MongoDB series rcgen pins may move to a newer patch of the same
//     flavour (-ubi9-slim stays -ubi9-slim: the kernel rule needs ubi9's
//     glibc) whose image was seen. A series rcgen does not pin is not
//     added: its place in the upgrade order and the kernel rule are
//     rcgen's to know.
//   - other images seen are listed (`rcgen versions`); rcgen's pins stay.
//   - allow restricts what is deployable to its lines and releases; each
//     must be in the merged catalog.
//
// Merge's error is an allow entry it cannot honour, by line.
func Merge(f *File) (*Catalog, error) {
	c := &Catalog{File: f.Name, Generated: f.Generated, Sources: slices.Clone(f.Sources), Seen: slices.Clone(f.Images),
		releases: slices.Clone(releases), series: slices.Clone(mongoSeries), held: map[string][2]string{}}
	for i := range c.releases {
		c.releases[i].MongoDB = slices.Clone(c.releases[i].MongoDB)
	}
	note := func(format string, a ...any) {
		c.Notes = append(c.Notes, fmt.Sprintf("the catalog %s ", f.Name)+fmt.Sprintf(format, a...))
	}
	for _, fr := range f.Releases {
		if fr.Line == "" || fr.Latest == "" {
			continue
		}
		i := slices.IndexFunc(c.releases, func(r Release) bool { return r.Line == fr.Line })
		if slices.ContainsFunc(releases, func(r Release) bool { return r.Line == fr.Line }) {
			c.mergeKnown(&c.releases[i], fr, note)
			continue
		}
		if i >= 0 {
			note("lists %s twice (line %d): kept the first", fr.Line, fr.At)
			continue
		}
		c.add(fr, note)
	}
	for _, fs := range f.MongoDB {
		c.mergeSeries(fs, note)
	}
	var errs []error
	for _, a := range f.Allow {
		if !c.known(a.Entry) {
			errs = append(errs, &LineError{File: f.Name, Line: a.At, Msg: fmt.Sprintf("allow[]: %s is not a release rcgen or this file knows: allow a line or release `rcgen versions --catalog %s` lists", a.Entry, f.Name)})
			continue
		}
		c.Allow = append(c.Allow, a.Entry)
	}
	return c, errors.Join(errs...)
}

func (c *Catalog) mergeKnown(r *Release, fr FileRelease, note func(string, ...any)) {
	kept := func(what, theirs, ours string) {
		note("says %s %s %s; rcgen knows %s (%s): kept rcgen's; a newer rcgen may know more", fr.Line, what, theirs, ours, r.Source)
	}
	if fr.MongoDB != nil && !slices.Equal(fr.MongoDB, r.MongoDB) {
		kept("declares MongoDB", strings.Join(fr.MongoDB, ", "), strings.Join(r.MongoDB, ", "))
	}
	if fr.LTS != nil && *fr.LTS != r.LTS {
		kept("is LTS:", fmt.Sprint(*fr.LTS), fmt.Sprint(r.LTS))
	}
	if !fr.Released.IsZero() && !fr.Released.Equal(r.Released.Time) {
		kept("was released on", fr.Released.String(), r.Released.String())
	}
	if !fr.EndOfSupport.IsZero() && !fr.EndOfSupport.Equal(r.EndOfSupport.Time) {
		kept("is supported to", fr.EndOfSupport.String(), r.EndOfSupport.String())
	}
	if fr.Node != "" && fr.Node != r.Node {
		kept("runs on Node", fr.Node, r.Node)
	}
	if fr.Image == nil {
		return
	}
	theirs, ours := semver.MustParse(fr.Latest), semver.MustParse(r.Latest)
	switch {
	case theirs.GreaterThan(ours), theirs.Equal(ours) && !r.ImageConfirmed:
		r.Latest, r.ImageConfirmed = fr.Latest, true
		r.Source += fmt.Sprintf("; image %s seen %s on %s (catalog %s)", fr.Image.Image, fr.Image.Where, fr.Image.Seen, c.File)
	}
}

func (c *Catalog) add(fr FileRelease, note func(string, ...any)) {
	var missing []string
	for _, m := range []struct {
		key  string
		miss bool
	}{{"released", fr.Released.IsZero()}, {"end_of_support", fr.EndOfSupport.IsZero()}, {"lts", fr.LTS == nil},
		{"mongodb", len(fr.MongoDB) == 0}, {"node", fr.Node == ""}, {"source", fr.Source == ""}} {
		if m.miss {
			missing = append(missing, m.key)
		}
	}
	if len(missing) > 0 {
		note("lists %s (line %d) without %s: not added (a line rcgen does not know is added only with all it needs)", fr.Line, fr.At, strings.Join(missing, ", "))
		return
	}
	v := semver.MustParse(fr.Latest)
	if v.LessThan(semver.MustParse(releases[0].Line + ".0")) {
		note("lists %s (line %d): older than %s, the oldest line rcgen deploys: not added", fr.Line, fr.At, releases[0].Line)
		return
	}
	r := Release{Line: fr.Line, Latest: fr.Latest, Released: fr.Released, EndOfSupport: fr.EndOfSupport, LTS: *fr.LTS,
		MongoDB: fr.MongoDB, Node: fr.Node, Source: fr.Source + " (catalog " + c.File + ")"}
	if fr.Image != nil {
		r.ImageConfirmed = true
		r.Source += fmt.Sprintf("; image %s seen %s on %s", fr.Image.Image, fr.Image.Where, fr.Image.Seen)
	}
	knownMajor := slices.ContainsFunc(releases, func(k Release) bool { return semver.MustParse(k.Latest).Major() == v.Major() })
	pinned := slices.ContainsFunc(fr.MongoDB, func(s string) bool { _, ok := c.seriesRow(s); return ok })
	switch {
	case !knownMajor:
		c.held[r.Line] = [2]string{"new major: needs a newer rcgen",
			fmt.Sprintf("rcgen does not deploy Rocket.Chat %d.x yet: the catalog %s lists %s, but this rcgen knows no breaking changes or upgrade path for a new major (a catalog file cannot declare them); a newer rcgen will", v.Major(), c.File, r.Line)}
	case !pinned:
		c.held[r.Line] = [2]string{"MongoDB not pinned",
			fmt.Sprintf("rcgen does not deploy Rocket.Chat %s: the catalog %s says it declares MongoDB %s, and rcgen pins none of those; a newer rcgen may", r.Line, c.File, strings.Join(r.MongoDB, ", "))}
	}
	c.releases = append(c.releases, r)
	slices.SortFunc(c.releases, func(a, b Release) int {
		return semver.MustParse(a.Line + ".0").Compare(semver.MustParse(b.Line + ".0"))
	})
}

func (c *Catalog) mergeSeries(fs FileSeries, note func(string, ...any)) {
	i := slices.IndexFunc(c.series, func(s MongoDBSeries) bool { return s.Series == fs.Series })
	if i < 0 {
		if len(fs.Patches) > 0 {
			note("lists MongoDB %s (line %d), a series rcgen does not pin: not added (its place in MongoDB's upgrade order and the kernel rule are a newer rcgen's to know)", fs.Series, fs.At)
		}
		return
	}
	s := &c.series[i]
	for _, p := range fs.Patches {
		tag := p.Image[strings.LastIndexByte(p.Image, ':')+1:]
		if mongoFlavour(tag) != mongoFlavour(s.Tag) {
			note("lists MongoDB %s (line %d); rcgen runs the %s images of %s (%s): kept rcgen's flavour", tag, p.At, strings.TrimPrefix(mongoFlavour(s.Tag), "-"), s.Series, KernelRule.Problem)
			continue
		}
		if semver.MustParse(mongoPatch(tag)).GreaterThan(semver.MustParse(mongoPatch(s.Tag))) {
			s.Tag = tag
			s.ImageSource = fmt.Sprintf("%s: %s seen on %s (catalog %s)", p.Where, tag, p.Seen, c.File)
		}
	}
}

func (c *Catalog) seriesRow(series string) (MongoDBSeries, bool) {
	for _, s := range c.series {
		if s.Series == series {
			return s, true
		}
	}
	return MongoDBSeries{}, false
}

// known reports whether an allow entry names a line of c, or a release of
// one no newer than its latest.
func (c *Catalog) known(entry string) bool {
	for _, r := range c.releases {
		if r.Line == entry {
			return true
		}
		if v, ok := exactRelease(entry); ok && fmt.Sprintf("%d.%d", v.Major(), v.Minor()) == r.Line {
			return !v.GreaterThan(semver.MustParse(r.Latest))
		}
	}
	return false
}

// allows reports whether the allow list lets v (of line r) be deployed.
func (c *Catalog) allows(v *semver.Version, r Release) bool {
	if len(c.Allow) == 0 {
		return true
	}
	for _, a := range c.Allow {
		if a == r.Line || a == v.String() {
			return true
		}
	}
	return false
}

// allowedLatest is the newest release of r the allow list lets through, or
// "" when it lets none.
func (c *Catalog) allowedLatest(r Release) string {
	if len(c.Allow) == 0 || slices.Contains(c.Allow, r.Line) {
		return r.Latest
	}
	var best *semver.Version
	for _, a := range c.Allow {
		if v, ok := exactRelease(a); ok && fmt.Sprintf("%d.%d", v.Major(), v.Minor()) == r.Line && (best == nil || v.GreaterThan(best)) {
			best = v
		}
	}
	if best == nil {
		return ""
	}
	return best.String()
}

// Describe names the catalog in a sentence: where it comes from and how
// old it is on day now.
func (c *Catalog) Describe(now time.Time) string {
	if c.File == "" {
		return fmt.Sprintf("compiled into rcgen, checked %s (%s)", c.Generated, c.Age(now))
	}
	s := fmt.Sprintf("%s, generated %s (%s), over rcgen's compiled-in catalog of %s", c.File, c.Generated, c.Age(now), CheckedOn)
	if len(c.Sources) > 0 {
		s += "; sources: " + strings.Join(c.Sources, ", ")
	}
	return s
}

// sortedSeen lists the images seen, by image.
func (c *Catalog) sortedSeen() []SeenImage {
	s := slices.Clone(c.Seen)
	slices.SortFunc(s, func(a, b SeenImage) int { return cmp.Compare(a.Image, b.Image) })
	return s
}

// SeenImages are the other images the catalog file saw published, by image.
func (c *Catalog) SeenImages() []SeenImage { return c.sortedSeen() }

// Lines are the catalog's release lines, oldest first (a refresh asks
// which lines the compiled-in catalog already knows).
func (c *Catalog) Lines() []Release { return slices.Clone(c.releases) }
