package catalog

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func mustMerge(t *testing.T, text string) *Catalog {
	t.Helper()
	f, err := ParseFile("org.yaml", []byte(text))
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	c, err := Merge(f)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	return c
}

// use makes c active for the test and puts the previous catalog back.
func use(t *testing.T, c *Catalog) {
	t.Helper()
	t.Cleanup(Use(c))
}

// TestCatalogFileErrorsByLine: every kind of mistake is reported at once,
// each with the file, its line and its key.
func TestCatalogFileErrorsByLine(t *testing.T) {
	text := `version: 1
generated: 2026-13-01
sources: https://example.com
releases:
  - line: 8.x
    latest: v8.9.1
    lts: "yes"
    breaking: [something]
    nodee: 22
    image:
      image: "registry.rocket.chat/rocketchat/Rocket.Chat:8.9.1"
      seen: 2026-11-07
      where: registry
  - line: "8.9"
    latest: 8.10.0
  - line: "8.8"
    latest: 8.8.2
    image:
      image: rocketchat/rocket.chat:8.8.2
      seen: yesterday
mongodb:
  - series: "8.0"
    patches:
      - image: mongodb/mongodb-community-server:8.2.1-ubi9-slim
        seen: 2026-11-20
        where: Docker Hub
images:
  - image: caddy
    seen: 2026-11-20
    where: Docker Hub
allow: [latest]
extra: 1
`
	_, err := ParseFile("org.yaml", []byte(text))
	if err == nil {
		t.Fatal("accepted a file full of mistakes")
	}
	want := []string{
		"org.yaml: line 2: generated: \"2026-13-01\" is not a date",
		"org.yaml: line 3: sources: is not a list",
		"org.yaml: line 5: releases[].line: \"8.x\" is not a release line",
		"org.yaml: line 6: releases[].latest: \"v8.9.1\" is not a release number",
		"org.yaml: line 7: releases[].lts: \"yes\" is not true or false",
		"org.yaml: line 8: releases[].breaking: a catalog file cannot declare breaking changes",
		"org.yaml: line 9: releases[].nodee: unknown key: the keys here are end_of_support, image, latest, line, lts, mongodb, node, released, source",
		"org.yaml: line 11: releases[].image.image: \"registry.rocket.chat/rocketchat/Rocket.Chat:8.9.1\" is not an image reference",
		"org.yaml: line 14: releases[].latest: 8.10.0 is not a release of the line 8.9",
		"org.yaml: line 19: releases[].image: has no where",
		"org.yaml: line 19: releases[].image.image: rocketchat/rocket.chat:8.8.2 is not the image rcgen runs",
		"org.yaml: line 20: releases[].image.seen: \"yesterday\" is not a date",
		"org.yaml: line 24: mongodb[].patches[].image: the tag 8.2.1-ubi9-slim is not of the series 8.0",
		"org.yaml: line 28: images[].image: \"caddy\" names no tag",
		"org.yaml: line 31: allow[]: \"latest\" is neither a release line",
		"org.yaml: line 32: extra: unknown key",
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != len(want) {
		t.Errorf("%d errors, want %d:\n%s", n, len(want), got)
	}
}

func TestCatalogFileVersionAndDocument(t *testing.T) {
	for text, want := range map[string]string{
		"":                                    "org.yaml: is empty",
		"generated: 2026-12-01\n":             "org.yaml: line 1: version: is missing",
		"version: 2\ngenerated: 2026-12-01\n": "org.yaml: line 1: version: \"2\" is not a catalog file version this rcgen reads",
		"version: 1\n":                        "org.yaml: line 1: generated: is missing",
		"- 1\n":                               "org.yaml: line 1: is not a catalog",
		"version: 1\ngenerated: 2026-12-01\nreleases:\n  - line: \"8.9\"\n": "org.yaml: line 4: releases[]: has no latest",
	} {
		_, err := ParseFile("org.yaml", []byte(text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", text, err, want)
		}
	}
}

// TestCatalogFileCannotChangeAPairing: for every line rcgen knows, a file
// that says it declares another MongoDB, flips its LTS flag or moves its
// dates changes nothing rcgen decides with, and a note says what was kept.
func TestCatalogFileCannotChangeAPairing(t *testing.T) {
	for _, r := range Releases() {
		t.Run(r.Line, func(t *testing.T) {
			before, err := MongoDBFor(r.Latest)
			if err != nil {
				t.Fatal(err)
			}
			other := "8.0"
			if slices.Contains(r.MongoDB, "8.0") {
				other = "8.2"
			}
			c := mustMerge(t, fmt.Sprintf(`version: 1
generated: 2026-12-01
releases:
  - line: %q
    latest: %s
    mongodb: [%q]
    lts: %v
    released: 2020-01-01
    end_of_support: 2030-01-01
`, r.Line, r.Latest, other, !r.LTS))
			use(t, c)
			after, err := MongoDBFor(r.Latest)
			if err != nil || after != before {
				t.Errorf("MongoDB for %s: %v %v, want %v (rcgen's pairing)", r.Latest, after, err, before)
			}
			got, _ := Lookup(r.Latest)
			if !slices.Equal(got.MongoDB, r.MongoDB) || got.LTS != r.LTS || got.Released != r.Released || got.EndOfSupport != r.EndOfSupport || !slices.Equal(got.Breaking, r.Breaking) {
				t.Errorf("the file changed %s: %+v, want %+v", r.Line, got, r)
			}
			notes := strings.Join(c.Notes, "\n")
			for _, w := range []string{
				fmt.Sprintf("the catalog org.yaml says %s declares MongoDB %s; rcgen knows %s", r.Line, other, strings.Join(r.MongoDB, ", ")),
				"kept rcgen's; a newer rcgen may know more",
				fmt.Sprintf("says %s is LTS: %v; rcgen knows %v", r.Line, !r.LTS, r.LTS),
				fmt.Sprintf("says %s was released on 2020-01-01; rcgen knows %s", r.Line, r.Released),
				fmt.Sprintf("says %s is supported to 2030-01-01; rcgen knows %s", r.Line, r.EndOfSupport),
			} {
				if !strings.Contains(notes, w) {
					t.Errorf("no note %q in:\n%s", w, notes)
				}
			}
		})
	}
}

const seen891 = `version: 1
generated: 2026-12-01
sources: [https://releases.rocket.chat, https://registry.rocket.chat]
releases:
  - line: "8.9"
    latest: 8.9.1
    image:
      image: registry.rocket.chat/rocketchat/rocket.chat:8.9.1
      seen: 2026-11-07
      where: registry.rocket.chat tag list
`

// TestCatalogFileAdditions: what a file adds is deployable only as Merge
// says: a known line once its image was seen; a new line of a known major
// when complete, seen and on a pinned MongoDB; a new major never.
func TestCatalogFileAdditions(t *testing.T) {
	if _, err := Deployable("8.9.1"); err == nil {
		t.Fatal("8.9.1 is deployable without a file: the test needs a line whose image rcgen has not confirmed")
	}
	use(t, mustMerge(t, seen891))
	if _, err := Deployable("8.9.1"); err != nil {
		t.Errorf("8.9.1 seen by the file: %v", err)
	}
	if _, err := Deployable("8.9.2"); err == nil {
		t.Error("8.9.2 deployable: the file saw 8.9.1 only")
	}
	if rs := DeployableReleases(); rs[len(rs)-1].Latest != "8.9.1" {
		t.Errorf("newest deployable %s, want 8.9.1", rs[len(rs)-1].Latest)
	}

	newLine := func(line, latest, mongo, extra string) string {
		return fmt.Sprintf(`
  - line: %q
    latest: %s
    released: 2026-12-01
    end_of_support: 2027-05-31
    lts: false
    mongodb: [%q]
    node: 22.22.3
    source: https://github.com/RocketChat/Rocket.Chat/releases/tag/%s
    image:
      image: registry.rocket.chat/rocketchat/rocket.chat:%s
      seen: 2026-12-01
      where: registry.rocket.chat tag list%s`, line, latest, mongo, latest, latest, extra)
	}
	c := mustMerge(t, "version: 1\ngenerated: 2026-12-01\nreleases:"+
		newLine("9.1", "9.1.0", "8.0", "")+
		newLine("9.2", "9.2.0", "8.4", "")+
		newLine("10.0", "10.0.0", "8.0", "")+
		"\n  - line: \"9.3\"\n    latest: 9.3.0\n    image:\n      image: registry.rocket.chat/rocketchat/rocket.chat:9.3.0\n      seen: 2026-12-01\n      where: somewhere\n"+
		`mongodb:
  - series: "8.0"
    patches:
      - image: mongodb/mongodb-community-server:8.0.38-ubi9-slim
        seen: 2026-11-20
        where: Docker Hub tag list
      - image: mongodb/mongodb-community-server:8.0.40-ubi8
        seen: 2026-11-20
        where: Docker Hub tag list
  - series: "8.4"
    patches:
      - image: mongodb/mongodb-community-server:8.4.1-ubi9-slim
        seen: 2026-11-20
        where: Docker Hub tag list
`)
	use(t, c)
	if _, err := Deployable("9.1.0"); err != nil {
		t.Errorf("9.1.0, complete and seen, of the known major 9: %v", err)
	}
	for v, short := range map[string]string{"9.2.0": "MongoDB not pinned", "10.0.0": "new major: needs a newer rcgen", "9.3.0": "not in the catalog"} {
		_, err := Deployable(v)
		re, ok := err.(*RefusedError)
		if !ok || re.Short != short {
			t.Errorf("%s: %v, want refused as %q", v, err, short)
		}
	}
	if _, ok := Lookup("10.0.0"); !ok {
		t.Error("10.0 not listed")
	}
	if m, err := MongoDBFor("8.8.1"); err != nil || m.Tag != "8.0.38-ubi9-slim" {
		t.Errorf("MongoDB for 8.8.1: %v %v, want the newer patch seen, 8.0.38-ubi9-slim", m.Tag, err)
	}
	notes := strings.Join(c.Notes, "\n")
	for _, w := range []string{
		"lists 9.3 (line 40) without released, end_of_support, lts, mongodb, node, source: not added",
		"lists MongoDB 8.0.40-ubi8 (line 52); rcgen runs the ubi9-slim images of 8.0",
		"lists MongoDB 8.4 (line 55), a series rcgen does not pin: not added",
	} {
		if !strings.Contains(notes, w) {
			t.Errorf("no note %q in:\n%s", w, notes)
		}
	}
}

// TestCatalogFileAllowRestricts: an allow list makes only its lines and
// releases deployable, and the refusal names the file.
func TestCatalogFileAllowRestricts(t *testing.T) {
	c := mustMerge(t, seen891+"allow:\n  - \"8.9\"\n  - 8.5.2\n")
	use(t, c)
	for v, ok := range map[string]bool{"8.9.1": true, "8.9.0": true, "8.5.2": true, "8.5.3": false, "8.8.1": false} {
		_, err := Deployable(v)
		if (err == nil) != ok {
			t.Errorf("%s: %v, want deployable %v", v, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), "not among the releases the catalog org.yaml allows (8.9, 8.5.2)") {
			t.Errorf("%s: %v: does not name the catalog's allow list", v, err)
		}
	}
	var got []string
	for _, r := range DeployableReleases() {
		got = append(got, r.Latest)
	}
	if !slices.Equal(got, []string{"8.5.2", "8.9.1"}) {
		t.Errorf("deployable %v, want [8.5.2 8.9.1]", got)
	}

	f, err := ParseFile("org.yaml", []byte("version: 1\ngenerated: 2026-12-01\nallow:\n  - \"8.99\"\n  - 8.8.9\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Merge(f)
	for _, w := range []string{"org.yaml: line 4: allow[]: 8.99 is not a release", "org.yaml: line 5: allow[]: 8.8.9 is not a release"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("got %v, want %q", err, w)
		}
	}
}

// TestUseRestores: the catalog a test or run sets is put back.
func TestUseRestores(t *testing.T) {
	restore := Use(mustMerge(t, seen891))
	if Active().File != "org.yaml" {
		t.Fatal("Use did not set the catalog")
	}
	restore()
	if Active().File != "" {
		t.Fatal("the compiled-in catalog is not back")
	}
	if _, err := Deployable("8.9.1"); err == nil {
		t.Error("8.9.1 still deployable after restore")
	}
}
