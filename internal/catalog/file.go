package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/distribution/reference"
	"go.yaml.in/yaml/v3"
)

// A catalog file is what rcgen knows added to from outside: the cache a
// refresh writes (the same format, written by the refresh) and the file an
// organisation pins with --catalog FILE or `catalog:` in rcgen.yaml. Its
// format, version 1:
//
//	version: 1
//	generated: 2026-12-01            # the day the file's facts were read
//	sources:                         # where they were read (one line each)
//	  - https://releases.rocket.chat/...
//	releases:                        # Rocket.Chat lines
//	  - line: "8.9"
//	    latest: 8.9.1                # the newest patch of the line
//	    released: 2026-10-14         # x.y.0's date
//	    end_of_support: 2027-09-30
//	    lts: true
//	    mongodb: ["8.0"]             # the MongoDB series the notes declare
//	    node: 22.22.3
//	    source: https://github.com/RocketChat/Rocket.Chat/releases/tag/8.9.1
//	    image:                       # the image of latest, seen published
//	      image: registry.rocket.chat/rocketchat/rocket.chat:8.9.1
//	      seen: 2026-11-07
//	      where: registry.rocket.chat tag list
//	mongodb:                         # MongoDB patches seen per series
//	  - series: "8.0"
//	    patches:
//	      - image: mongodb/mongodb-community-server:8.0.38-ubi9-slim
//	        seen: 2026-11-20
//	        where: Docker Hub tag list
//	images:                          # other pinned images seen published
//	  - image: caddy:2.11.7-alpine
//	    seen: 2026-11-20
//	    where: Docker Hub tag list
//	allow:                           # only these are deployable (optional)
//	  - "8.9"                        # a line: any patch rcgen deploys
//	  - 8.5.3                        # one release
//
// What a file may change is Merge's.

// FileVersion is the version of the catalog file format.
const FileVersion = 1

// File is a parsed catalog file.
type File struct {
	Name      string
	Generated Date
	Sources   []string
	Releases  []FileRelease
	MongoDB   []FileSeries
	Images    []SeenImage
	Allow     []Allowed
}

// FileRelease is one release line a catalog file lists. Fields it leaves
// out are zero (LTS nil).
type FileRelease struct {
	Line, Latest           string
	Released, EndOfSupport Date
	LTS                    *bool
	MongoDB                []string
	Node, Source           string
	Image                  *SeenImage
	At                     int // the line of the file
}

// SeenImage is an image a source saw published, on a day.
type SeenImage struct {
	Image string `json:"image"`
	Seen  Date   `json:"seen"`
	Where string `json:"where"`
	At    int    `json:"-"`
}

// FileSeries is a MongoDB series' patches a catalog file saw published.
type FileSeries struct {
	Series  string
	Patches []SeenImage
	At      int
}

// Allowed is one entry of a file's allow list: a line ("8.9") or one
// release ("8.5.3").
type Allowed struct {
	Entry string
	At    int
}

// LineError is a problem at a line of a catalog file.
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Msg) }

type fileParser struct {
	name string
	errs []error
}

func (p *fileParser) bad(n *yaml.Node, key, format string, a ...any) {
	p.errs = append(p.errs, &LineError{File: p.name, Line: n.Line, Msg: key + ": " + fmt.Sprintf(format, a...)})
}

// fields walks a mapping, reporting keys it does not know (with the keys
// it knows) and keys given twice.
func (p *fileParser) fields(n *yaml.Node, where string, known map[string]func(*yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.bad(n, where, "is not a mapping: write one \"key: value\" per line")
		return
	}
	var names []string
	for k := range known {
		names = append(names, k)
	}
	slices.Sort(names)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if where != "" {
			key = where + "." + k.Value
		}
		switch f, ok := known[k.Value]; {
		case k.Value == "breaking" && where == "releases[]":
			p.bad(k, key, "a catalog file cannot declare breaking changes: rcgen's own release notes decide them; remove the key (a newer rcgen knows newer ones)")
		case !ok:
			p.bad(k, key, "unknown key: the keys here are %s", strings.Join(names, ", "))
		case seen[k.Value]:
			p.bad(k, key, "is given twice: keep one")
		default:
			seen[k.Value] = true
			f(v)
		}
	}
}

func (p *fileParser) scalar(n *yaml.Node, key string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || strings.TrimSpace(n.Value) == "" {
		p.bad(n, key, "is not a value: give one, e.g. %s", example(key))
		return "", false
	}
	return n.Value, true
}

func example(key string) string {
	switch last := key[strings.LastIndex(key, ".")+1:]; last {
	case "line", "series":
		return `"8.9"`
	case "latest":
		return "8.9.1"
	case "generated", "released", "end_of_support", "seen":
		return "2026-12-01"
	case "lts":
		return "true"
	case "image":
		return RocketChatImage + ":8.9.1"
	case "allow[]":
		return `"8.9" (a line) or 8.9.1 (a release)`
	case "mongodb[]":
		return `"8.0"`
	case "sources[]":
		return "https://github.com/RocketChat/Rocket.Chat/releases"
	}
	return "a line of text"
}

func (p *fileParser) text(dst *string, key string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		if s, ok := p.scalar(n, key); ok {
			*dst = s
		}
	}
}

func (p *fileParser) date(dst *Date, key string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		s, ok := p.scalar(n, key)
		if !ok {
			return
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			p.bad(n, key, "%q is not a date: write it as 2026-12-01 (year-month-day)", s)
			return
		}
		*dst = Date{t}
	}
}

func (p *fileParser) list(n *yaml.Node, key string, item func(*yaml.Node)) {
	if n.Kind != yaml.SequenceNode {
		p.bad(n, key, "is not a list: write one \"- ...\" line per entry")
		return
	}
	for _, c := range n.Content {
		item(c)
	}
}

func (p *fileParser) line(dst *string, key string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		s, ok := p.scalar(n, key)
		if !ok {
			return
		}
		if v, err := semver.StrictNewVersion(s + ".0"); err != nil || v.Prerelease() != "" || v.Metadata() != "" {
			p.bad(n, key, "%q is not a release line: write major.minor in quotes, e.g. \"8.9\"", s)
			return
		}
		*dst = s
	}
}

func (p *fileParser) release(dst *string, key string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		s, ok := p.scalar(n, key)
		if !ok {
			return
		}
		if _, err := ParseRelease(s); err != nil {
			p.bad(n, key, "%q is not a release number: write three numbers, e.g. 8.9.1 (no v, no pre-release)", s)
			return
		}
		*dst = s
	}
}

// imageRef checks an image reference (as docker reads it) and returns its
// repository, familiar (mongodb/..., caddy) and tag.
func (p *fileParser) imageRef(n *yaml.Node, key string) (repo, tag string, ok bool) {
	s, ok := p.scalar(n, key)
	if !ok {
		return "", "", false
	}
	ref, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		p.bad(n, key, "%q is not an image reference (%v): write repository:tag, e.g. %s", s, err, CaddyImage)
		return "", "", false
	}
	tagged, isTagged := ref.(reference.Tagged)
	if !isTagged {
		p.bad(n, key, "%q names no tag: write repository:tag, e.g. %s", s, CaddyImage)
		return "", "", false
	}
	return reference.FamiliarName(ref), tagged.Tag(), true
}

// seenImage reads {image, seen, where}; check, when not nil, checks the
// repository and tag.
func (p *fileParser) seenImage(n *yaml.Node, where string, check func(n *yaml.Node, repo, tag string) bool) (SeenImage, bool) {
	im := SeenImage{At: n.Line}
	var imageNode *yaml.Node
	p.fields(n, where, map[string]func(*yaml.Node){
		"image": func(v *yaml.Node) { imageNode = v },
		"seen":  p.date(&im.Seen, where+".seen"),
		"where": p.text(&im.Where, where+".where"),
	})
	if n.Kind != yaml.MappingNode {
		return im, false
	}
	ok := !im.Seen.IsZero() && im.Where != ""
	for _, req := range []struct {
		key   string
		given bool
	}{{"image", hasKey(n, "image")}, {"seen", hasKey(n, "seen")}, {"where", hasKey(n, "where")}} {
		if !req.given {
			ok = false
			p.bad(n, where, "has no %s: an image seen says which (image), when (seen: 2026-12-01) and where (where: the registry or list it was read from)", req.key)
		}
	}
	if imageNode != nil {
		repo, tag, good := p.imageRef(imageNode, where+".image")
		if good && check != nil {
			good = check(imageNode, repo, tag)
		}
		if good {
			im.Image = imageNode.Value
		}
		ok = ok && good
	}
	return im, ok
}

// ParseFile reads a catalog file strictly: every unknown key, wrong type,
// bad version, date or image reference is reported at once, each with its
// line. The file's facts are Merge's to weigh.
func ParseFile(name string, b []byte) (*File, error) {
	f := &File{Name: name}
	p := &fileParser{name: name}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%s: is empty: a catalog file starts with \"version: %d\"", name, FileVersion)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %s: check the YAML", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: holds more than one YAML document: keep one", name)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: line %d: is not a catalog: a catalog file is a mapping starting with \"version: %d\"", name, root.Line, FileVersion)
	}
	version := 0
	p.fields(root, "", map[string]func(*yaml.Node){
		"version": func(n *yaml.Node) {
			if n.Decode(&version) != nil || version != FileVersion {
				p.bad(n, "version", "%q is not a catalog file version this rcgen reads: write \"version: %d\" (a file of a newer format needs a newer rcgen)", n.Value, FileVersion)
				version = -1
			}
		},
		"generated": p.date(&f.Generated, "generated"),
		"sources": func(n *yaml.Node) {
			p.list(n, "sources", func(c *yaml.Node) {
				if s, ok := p.scalar(c, "sources[]"); ok {
					f.Sources = append(f.Sources, s)
				}
			})
		},
		"releases": func(n *yaml.Node) { p.list(n, "releases", func(c *yaml.Node) { p.fileRelease(f, c) }) },
		"mongodb":  func(n *yaml.Node) { p.list(n, "mongodb", func(c *yaml.Node) { p.fileSeries(f, c) }) },
		"images": func(n *yaml.Node) {
			p.list(n, "images", func(c *yaml.Node) {
				if im, ok := p.seenImage(c, "images[]", nil); ok {
					f.Images = append(f.Images, im)
				}
			})
		},
		"allow": func(n *yaml.Node) {
			p.list(n, "allow", func(c *yaml.Node) {
				s, ok := p.scalar(c, "allow[]")
				if !ok {
					return
				}
				_, rerr := ParseRelease(s)
				_, lerr := semver.StrictNewVersion(s + ".0")
				if rerr != nil && lerr != nil {
					p.bad(c, "allow[]", "%q is neither a release line (\"8.9\": its patches rcgen deploys) nor a release (8.9.1): write one of those", s)
					return
				}
				f.Allow = append(f.Allow, Allowed{Entry: s, At: c.Line})
			})
		},
	})
	if version == 0 {
		p.errs = append([]error{&LineError{File: name, Line: root.Line, Msg: fmt.Sprintf("version: is missing: a catalog file starts with \"version: %d\"", FileVersion)}}, p.errs...)
	}
	if f.Generated.IsZero() && !hasKey(root, "generated") {
		p.errs = append(p.errs, &LineError{File: name, Line: root.Line, Msg: "generated: is missing: say the day the file's facts were read (generated: 2026-12-01)"})
	}
	slices.SortStableFunc(p.errs, func(a, b error) int {
		var la, lb *LineError
		errors.As(a, &la)
		errors.As(b, &lb)
		return la.Line - lb.Line
	})
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	return f, nil
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

func (p *fileParser) fileRelease(f *File, n *yaml.Node) {
	r := FileRelease{At: n.Line}
	var imageNode *yaml.Node
	lts := false
	p.fields(n, "releases[]", map[string]func(*yaml.Node){
		"line":           p.line(&r.Line, "releases[].line"),
		"latest":         p.release(&r.Latest, "releases[].latest"),
		"released":       p.date(&r.Released, "releases[].released"),
		"end_of_support": p.date(&r.EndOfSupport, "releases[].end_of_support"),
		"lts": func(v *yaml.Node) {
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&lts) != nil {
				p.bad(v, "releases[].lts", "%q is not true or false: write lts: true for a long-term support line", v.Value)
				return
			}
			r.LTS = &lts
		},
		"mongodb": func(v *yaml.Node) {
			p.list(v, "releases[].mongodb", func(c *yaml.Node) {
				s, ok := p.scalar(c, "releases[].mongodb[]")
				if !ok {
					return
				}
				if _, err := semver.StrictNewVersion(s + ".0"); err != nil {
					p.bad(c, "releases[].mongodb[]", "%q is not a MongoDB series: write major.minor in quotes, e.g. \"8.0\"", s)
					return
				}
				r.MongoDB = append(r.MongoDB, s)
			})
		},
		"node":   p.text(&r.Node, "releases[].node"),
		"source": p.text(&r.Source, "releases[].source"),
		"image":  func(v *yaml.Node) { imageNode = v },
	})
	if n.Kind != yaml.MappingNode {
		return
	}
	if r.Line == "" && !hasKey(n, "line") {
		p.bad(n, "releases[]", "has no line: give the release line, e.g. line: \"8.9\"")
	}
	if r.Latest == "" && !hasKey(n, "latest") {
		p.bad(n, "releases[]", "has no latest: give the newest patch of the line, e.g. latest: 8.9.1")
	}
	if r.Line != "" && r.Latest != "" {
		if v := semver.MustParse(r.Latest); fmt.Sprintf("%d.%d", v.Major(), v.Minor()) != r.Line {
			p.bad(n, "releases[].latest", "%s is not a release of the line %s: give a patch of the line, e.g. %s.0", r.Latest, r.Line, r.Line)
			r.Latest = ""
		}
	}
	if imageNode != nil {
		im, ok := p.seenImage(imageNode, "releases[].image", func(at *yaml.Node, repo, tag string) bool {
			if repo != RocketChatImage {
				p.bad(at, "releases[].image.image", "%s is not the image rcgen runs: a release's image is %s:<latest>", at.Value, RocketChatImage)
				return false
			}
			if r.Latest != "" && tag != r.Latest {
				p.bad(at, "releases[].image.image", "the tag %s is not the line's latest (%s): say which image of latest was seen", tag, r.Latest)
				return false
			}
			return true
		})
		if ok {
			r.Image = &im
		}
	}
	f.Releases = append(f.Releases, r)
}

func (p *fileParser) fileSeries(f *File, n *yaml.Node) {
	s := FileSeries{At: n.Line}
	var patches *yaml.Node
	p.fields(n, "mongodb[]", map[string]func(*yaml.Node){
		"series":  p.line(&s.Series, "mongodb[].series"),
		"patches": func(v *yaml.Node) { patches = v },
	})
	if n.Kind != yaml.MappingNode {
		return
	}
	if s.Series == "" && !hasKey(n, "series") {
		p.bad(n, "mongodb[]", "has no series: give the MongoDB series, e.g. series: \"8.0\"")
	}
	if patches != nil {
		p.list(patches, "mongodb[].patches", func(c *yaml.Node) {
			im, ok := p.seenImage(c, "mongodb[].patches[]", func(at *yaml.Node, repo, tag string) bool {
				if repo != MongoDBImageRepo {
					p.bad(at, "mongodb[].patches[].image", "%s is not the MongoDB image rcgen runs: write %s:<tag>", at.Value, MongoDBImageRepo)
					return false
				}
				if s.Series != "" && FeatureOf(tag) != s.Series {
					p.bad(at, "mongodb[].patches[].image", "the tag %s is not of the series %s: list it under its own series", tag, s.Series)
					return false
				}
				if _, err := semver.StrictNewVersion(mongoPatch(tag)); err != nil {
					p.bad(at, "mongodb[].patches[].image", "the tag %s does not start with a MongoDB release (8.0.38): give the tag as the registry lists it", tag)
					return false
				}
				return true
			})
			if ok {
				s.Patches = append(s.Patches, im)
			}
		})
	}
	f.MongoDB = append(f.MongoDB, s)
}

// mongoPatch is the release of a MongoDB tag ("8.0.38" of
// "8.0.38-ubi9-slim"); mongoFlavour is the rest ("-ubi9-slim").
func mongoPatch(tag string) string {
	if i := strings.IndexByte(tag, '-'); i >= 0 {
		return tag[:i]
	}
	return tag
}

func mongoFlavour(tag string) string { return strings.TrimPrefix(tag, mongoPatch(tag)) }
