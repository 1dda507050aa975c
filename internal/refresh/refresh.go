// Package refresh reads Rocket.Chat's published releases and the image
// registries' tag lists and writes what it read as a catalog file (the
// format catalog.ParseFile reads), cached in the user's cache directory.
// It never writes rules: no breaking changes, no allow list; what the file
// may change is catalog.Merge's to decide.
package refresh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/distribution/reference"
	"go.yaml.in/yaml/v3"

	"github.com/rcgen/rcgen/internal/catalog"
)

const (
	// DefaultTimeout bounds a whole refresh: every source together.
	DefaultTimeout = 5 * time.Second
	// MaxBody bounds each answer read.
	MaxBody = 8 << 20
	// FreshFor is how long a cached catalog is used without a refresh.
	FreshFor = 24 * time.Hour

	// GitHubAPI, RocketChatRegistry and DockerHub are the sources read.
	GitHubAPI          = "https://api.github.com"
	RocketChatRegistry = "https://registry.rocket.chat"
	DockerHub          = "https://hub.docker.com"

	releasesPath = "/repos/RocketChat/Rocket.Chat/releases?per_page=100"
	rocketRepo   = "rocketchat/rocket.chat"
)

// Options say where and how to read. Zero fields take the defaults.
type Options struct {
	Client    *http.Client
	Timeout   time.Duration
	UserAgent string
	Now       func() time.Time
	// Base URLs of the sources (tests point them at local servers).
	GitHubAPI, RocketChatRegistry, DockerHub string
}

func (o Options) withDefaults() Options {
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = "rcgen"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.GitHubAPI = strings.TrimSuffix(cmpOr(o.GitHubAPI, GitHubAPI), "/")
	o.RocketChatRegistry = strings.TrimSuffix(cmpOr(o.RocketChatRegistry, RocketChatRegistry), "/")
	o.DockerHub = strings.TrimSuffix(cmpOr(o.DockerHub, DockerHub), "/")
	return o
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// SourceError says which source failed and why.
type SourceError struct {
	Source  string // the host, as a person knows it
	Timeout time.Duration
	Err     error
}

func (e *SourceError) Error() string {
	if errors.Is(e.Err, context.DeadlineExceeded) {
		return fmt.Sprintf("could not reach %s within %s", e.Source, e.Timeout)
	}
	return fmt.Sprintf("%s: %v", e.Source, e.Err)
}

func (e *SourceError) Unwrap() error { return e.Err }

// Fetch reads every source within o.Timeout and returns the catalog file
// they make, marshalled (what Write caches) and parsed.
func Fetch(ctx context.Context, o Options) ([]byte, *catalog.File, error) {
	o = o.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	g := getter{o: o}
	var rels []ghRelease
	if err := g.json(ctx, o.GitHubAPI+releasesPath, "", &rels); err != nil {
		return nil, nil, g.fail(o.GitHubAPI, err)
	}
	tags, err := g.registryTags(ctx)
	if err != nil {
		return nil, nil, g.fail(o.RocketChatRegistry, err)
	}
	mongo := map[string][]string{}
	for _, s := range catalog.AllMongoDB() {
		t, err := g.hubTags(ctx, catalog.MongoDBImageRepo, s.Series+".")
		if err != nil {
			return nil, nil, g.fail(o.DockerHub, err)
		}
		mongo[s.Series] = t
	}
	pinned, err := g.pinnedSeen(ctx)
	if err != nil {
		return nil, nil, g.fail(o.DockerHub, err)
	}
	today := catalog.Date{Time: o.Now().UTC().Truncate(24 * time.Hour)}
	b := Build(today, rels, tags, mongo, pinned, []string{
		o.GitHubAPI + releasesPath,
		o.RocketChatRegistry + "/v2/" + rocketRepo + "/tags/list",
		o.DockerHub + "/v2/repositories/" + catalog.MongoDBImageRepo + "/tags",
		o.DockerHub + "/v2/namespaces/NAMESPACE/repositories/REPOSITORY/tags/TAG",
	}, g.hosts())
	f, err := catalog.ParseFile("refreshed catalog", b)
	if err != nil {
		return nil, nil, fmt.Errorf("the refreshed catalog does not read back (a bug in rcgen: please report it): %w", err)
	}
	return b, f, nil
}

type getter struct {
	o Options
}

func (g getter) hosts() [3]string {
	return [3]string{host(g.o.GitHubAPI), host(g.o.RocketChatRegistry), host(g.o.DockerHub)}
}

func host(base string) string {
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		return u.Host
	}
	return base
}

func (g getter) fail(base string, err error) error {
	return &SourceError{Source: host(base), Timeout: g.o.Timeout, Err: err}
}

// get reads u (bounded), with token as a bearer when given.
func (g getter) get(ctx context.Context, u, token string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("User-Agent", g.o.UserAgent)
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := g.o.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, err
	}
	if len(body) > MaxBody {
		return nil, nil, fmt.Errorf("%s answered more than %d MiB: not read", u, MaxBody>>20)
	}
	return resp, body, nil
}

func (g getter) json(ctx context.Context, u, token string, v any) error {
	resp, body, err := g.get(ctx, u, token)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", u, resp.Status)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s answered something that is not the JSON expected: %v", u, err)
	}
	return nil
}

// registryTags reads Rocket.Chat's image tags by the OCI distribution API,
// anonymously: a 401 with a Bearer challenge is answered with an
// anonymous token (the Docker registry token protocol). Pages follow the
// Link header.
func (g getter) registryTags(ctx context.Context) (map[string]bool, error) {
	u := g.o.RocketChatRegistry + "/v2/" + rocketRepo + "/tags/list?n=1000"
	token := ""
	tags := map[string]bool{}
	for page := 0; page < 50 && u != ""; page++ {
		resp, body, err := g.get(ctx, u, token)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized && token == "" {
			if token, err = g.anonymousToken(ctx, resp.Header.Get("WWW-Authenticate")); err != nil {
				return nil, err
			}
			page--
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s answered %s", u, resp.Status)
		}
		var list struct {
			Tags []string `json:"tags"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, fmt.Errorf("%s answered something that is not a tag list: %v", u, err)
		}
		for _, t := range list.Tags {
			tags[t] = true
		}
		u = nextLink(u, resp.Header.Get("Link"))
	}
	return tags, nil
}

var challengeParam = regexp.MustCompile(`(\w+)="([^"]*)"`)

func (g getter) anonymousToken(ctx context.Context, challenge string) (string, error) {
	if !strings.HasPrefix(strings.ToLower(challenge), "bearer ") {
		return "", fmt.Errorf("the registry asks for credentials (%q): rcgen reads it anonymously only", challenge)
	}
	p := map[string]string{}
	for _, m := range challengeParam.FindAllStringSubmatch(challenge, -1) {
		p[m[1]] = m[2]
	}
	if p["realm"] == "" {
		return "", fmt.Errorf("the registry's challenge names no realm: %q", challenge)
	}
	q := url.Values{}
	for _, k := range []string{"service", "scope"} {
		if p[k] != "" {
			q.Set(k, p[k])
		}
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := g.json(ctx, p["realm"]+"?"+q.Encode(), "", &tok); err != nil {
		return "", err
	}
	return cmpOr(tok.Token, tok.AccessToken), nil
}

// nextLink resolves a Link: <...>; rel="next" header against u.
func nextLink(u, link string) string {
	for _, part := range strings.Split(link, ",") {
		if !strings.Contains(part, `rel="next"`) {
			continue
		}
		i, j := strings.IndexByte(part, '<'), strings.IndexByte(part, '>')
		if i < 0 || j < i {
			return ""
		}
		base, err1 := url.Parse(u)
		ref, err2 := url.Parse(part[i+1 : j])
		if err1 != nil || err2 != nil {
			return ""
		}
		return base.ResolveReference(ref).String()
	}
	return ""
}

// hubTags reads Docker Hub's tags of repo whose names contain prefix.
func (g getter) hubTags(ctx context.Context, repo, prefix string) ([]string, error) {
	u := fmt.Sprintf("%s/v2/repositories/%s/tags?page_size=100&name=%s", g.o.DockerHub, repo, url.QueryEscape(prefix))
	var tags []string
	for page := 0; page < 10 && u != ""; page++ {
		var p struct {
			Next    string `json:"next"`
			Results []struct {
				Name string `json:"name"`
			} `json:"results"`
		}
		if err := g.json(ctx, u, "", &p); err != nil {
			return nil, err
		}
		for _, r := range p.Results {
			tags = append(tags, r.Name)
		}
		u = ""
		if p.Next != "" {
			// Follow the next page on the same host only.
			if n, err := url.Parse(p.Next); err == nil {
				b, _ := url.Parse(g.o.DockerHub)
				n.Scheme, n.Host = b.Scheme, b.Host
				u = n.String()
			}
		}
	}
	return tags, nil
}

// pinnedSeen asks Docker Hub, side by side, whether each other image rcgen
// pins (catalog.PinnedImages) is published under its tag, and returns those
// it lists. Docker Hub's "Read repository tag" answers 200 for a tag that
// exists and 404 for one that does not
// (https://docs.docker.com/reference/api/hub/latest/operations/GetRepositoryTag/);
// an official image's namespace is "library". Every image rcgen pins is on
// Docker Hub (MongoDB's own images too, which quay.io mirrors), so no other
// registry is asked; an image on another registry is left unmarked.
func (g getter) pinnedSeen(ctx context.Context) ([]string, error) {
	images := catalog.PinnedImages()
	type answer struct {
		seen bool
		err  error
	}
	answers := make([]answer, len(images))
	var wg sync.WaitGroup
	for i, im := range images {
		ns, repo, tag, ok := hubRef(im.Image)
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := fmt.Sprintf("%s/v2/namespaces/%s/repositories/%s/tags/%s", g.o.DockerHub, ns, repo, url.PathEscape(tag))
			resp, _, err := g.get(ctx, u, "")
			switch {
			case err != nil:
				answers[i].err = err
			case resp.StatusCode == http.StatusOK:
				answers[i].seen = true
			case resp.StatusCode == http.StatusNotFound:
			default:
				answers[i].err = fmt.Errorf("%s answered %s", u, resp.Status)
			}
		}()
	}
	wg.Wait()
	var seen []string
	for i, a := range answers {
		if a.err != nil {
			return nil, a.err
		}
		if a.seen {
			seen = append(seen, images[i].Image)
		}
	}
	return seen, nil
}

// OnDockerHub says whether image is on Docker Hub (a refresh checks its tag).
func OnDockerHub(image string) bool {
	_, _, _, ok := hubRef(image)
	return ok
}

// hubRef splits a Docker Hub image reference into namespace, repository
// and tag ("caddy:2.11.7-alpine" is library/caddy, 2.11.7-alpine); ok is
// false for an image on another registry or without a tag.
func hubRef(image string) (ns, repo, tag string, ok bool) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil || reference.Domain(named) != "docker.io" {
		return "", "", "", false
	}
	tagged, isTagged := named.(reference.Tagged)
	if !isTagged {
		return "", "", "", false
	}
	ns, repo, found := strings.Cut(reference.Path(named), "/")
	if !found {
		return "", "", "", false
	}
	return ns, repo, tagged.Tag(), true
}

type ghRelease struct {
	TagName     string    `json:"tag_name"`
	Name        string    `json:"name"`
	PublishedAt time.Time `json:"published_at"`
	Prerelease  bool      `json:"prerelease"`
	Draft       bool      `json:"draft"`
	Body        string    `json:"body"`
	HTMLURL     string    `json:"html_url"`
}

// Engines reads a release body's "Engine versions" section: its Node and
// the MongoDB series it declares ("5.0, 6.0, 7.0"; "5, 6, 7, 8" is read
// as 5.0 to 8.0).
func Engines(body string) (node string, mongodb []string) {
	in := false
	for _, raw := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "#") || (strings.HasPrefix(line, "**") && strings.HasSuffix(line, "**")) {
			in = strings.Contains(strings.ToLower(line), "engine versions")
			continue
		}
		if !in {
			continue
		}
		line = strings.TrimLeft(line, "-*+ ")
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(strings.ReplaceAll(v, "`", ""))
		switch strings.ToLower(strings.TrimSpace(strings.Trim(k, "*_ "))) {
		case "node", "node.js", "nodejs":
			node = v
		case "mongodb":
			for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
				s = strings.TrimSuffix(strings.TrimSuffix(s, ".x"), ".")
				if !strings.Contains(s, ".") {
					s += ".0"
				}
				parts := strings.Split(s, ".")
				s = parts[0] + "." + parts[1]
				if _, err := semver.StrictNewVersion(s + ".0"); err == nil && !slices.Contains(mongodb, s) {
					mongodb = append(mongodb, s)
				}
			}
		}
	}
	return node, mongodb
}

var ltsWord = regexp.MustCompile(`\bLTS\b`)

// Build turns what the sources answered into a catalog file: a release
// line per x.y with published patches, its latest the newest patch whose
// image the registry lists (else the newest released, with no image
// seen); a MongoDB patch per series rcgen pins, the newest of rcgen's
// flavour the registry lists. Lines the compiled-in catalog knows carry
// only what a refresh may add (latest, image) and the MongoDB the notes
// declare (so Merge can say when upstream contradicts rcgen's rule).
func Build(today catalog.Date, rels []ghRelease, rcTags map[string]bool, mongoTags map[string][]string, pinned []string, sources []string, hosts [3]string) []byte {
	known := map[string]bool{}
	for _, r := range catalog.Compiled().Lines() {
		known[r.Line] = true
	}
	type line struct {
		patches []*semver.Version
		byTag   map[string]ghRelease
	}
	lines := map[string]*line{}
	for _, r := range rels {
		if r.Draft || r.Prerelease {
			continue
		}
		v, err := catalog.ParseRelease(strings.TrimPrefix(r.TagName, "v"))
		if err != nil {
			continue
		}
		key := fmt.Sprintf("%d.%d", v.Major(), v.Minor())
		if lines[key] == nil {
			lines[key] = &line{byTag: map[string]ghRelease{}}
		}
		lines[key].patches = append(lines[key].patches, v)
		lines[key].byTag[v.String()] = r
	}
	var keys []string
	for k := range lines {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return semver.MustParse(a + ".0").Compare(semver.MustParse(b + ".0")) })

	out := fileYAML{Version: catalog.FileVersion, Generated: today.String(), Sources: sources}
	for _, k := range keys {
		l := lines[k]
		slices.SortFunc(l.patches, func(a, b *semver.Version) int { return b.Compare(a) })
		latest := l.patches[0]
		seen := false
		for _, p := range l.patches {
			if rcTags[p.String()] {
				latest, seen = p, true
				break
			}
		}
		r := l.byTag[latest.String()]
		node, mongo := Engines(r.Body)
		fr := releaseYAML{Line: k, Latest: latest.String(), MongoDB: mongo,
			Source: cmpOr(r.HTMLURL, "https://github.com/RocketChat/Rocket.Chat/releases/tag/"+r.TagName)}
		if seen {
			fr.Image = &imageYAML{Image: catalog.RocketChatImage + ":" + latest.String(), Seen: today.String(), Where: hosts[1] + " tag list"}
		}
		if !known[k] {
			fr.Node = node
			if first, ok := l.byTag[k+".0"]; ok {
				lts := ltsWord.MatchString(r.Name) || ltsWord.MatchString(first.Name)
				rel := catalog.Date{Time: first.PublishedAt.UTC().Truncate(24 * time.Hour)}
				fr.LTS = &lts
				fr.Released = rel.String()
				fr.EndOfSupport = catalog.SupportEnd(rel, lts).String()
			}
		}
		out.Releases = append(out.Releases, fr)
	}
	for _, s := range catalog.AllMongoDB() {
		flavour := strings.TrimPrefix(s.Tag, strings.SplitN(s.Tag, "-", 2)[0])
		var best *semver.Version
		bestTag := ""
		for _, t := range mongoTags[s.Series] {
			patch, fl, _ := strings.Cut(t, "-")
			if fl != "" {
				fl = "-" + fl
			}
			v, err := semver.StrictNewVersion(patch)
			if fl != flavour || err != nil || catalog.FeatureOf(t) != s.Series {
				continue
			}
			if best == nil || v.GreaterThan(best) {
				best, bestTag = v, t
			}
		}
		if best != nil {
			out.MongoDB = append(out.MongoDB, seriesYAML{Series: s.Series, Patches: []imageYAML{{
				Image: catalog.MongoDBImageRepo + ":" + bestTag, Seen: today.String(), Where: hosts[2] + " tag list"}}})
		}
	}
	for _, im := range pinned {
		out.Images = append(out.Images, imageYAML{Image: im, Seen: today.String(), Where: hosts[2]})
	}
	b, err := yaml.Marshal(out)
	if err != nil {
		panic(err) // plain strings and lists always marshal
	}
	return append([]byte("# rcgen's refreshed catalog: written by `rcgen versions --refresh`, read like --catalog FILE.\n"), b...)
}

type fileYAML struct {
	Version   int           `yaml:"version"`
	Generated string        `yaml:"generated"`
	Sources   []string      `yaml:"sources,omitempty"`
	Releases  []releaseYAML `yaml:"releases,omitempty"`
	MongoDB   []seriesYAML  `yaml:"mongodb,omitempty"`
	Images    []imageYAML   `yaml:"images,omitempty"`
}

type releaseYAML struct {
	Line         string     `yaml:"line"`
	Latest       string     `yaml:"latest"`
	Released     string     `yaml:"released,omitempty"`
	EndOfSupport string     `yaml:"end_of_support,omitempty"`
	LTS          *bool      `yaml:"lts,omitempty"`
	MongoDB      []string   `yaml:"mongodb,omitempty"`
	Node         string     `yaml:"node,omitempty"`
	Source       string     `yaml:"source,omitempty"`
	Image        *imageYAML `yaml:"image,omitempty"`
}

type imageYAML struct {
	Image string `yaml:"image"`
	Seen  string `yaml:"seen"`
	Where string `yaml:"where"`
}

type seriesYAML struct {
	Series  string      `yaml:"series"`
	Patches []imageYAML `yaml:"patches"`
}

// CachePath is where the refreshed catalog is kept: the user's cache
// directory, rcgen/catalog.yaml.
func CachePath() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "rcgen", "catalog.yaml"), nil
}

// Write writes b to path atomically (a temporary file in the same
// directory, renamed over it), mode 0644.
func Write(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".catalog-*.yaml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Load reads the cache at path and merges it over the compiled-in
// catalog; fresh says whether it was written less than FreshFor before
// now. A cache that is missing or does not read is an error (the caller
// keeps the compiled-in catalog).
func Load(path string, now time.Time) (c *catalog.Catalog, fresh bool, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, false, err
	}
	if !st.Mode().IsRegular() {
		return nil, false, fmt.Errorf("%s is not a regular file: not read (remove it; rcgen versions --refresh writes it again)", path)
	}
	if st.Size() > MaxBody {
		return nil, false, fmt.Errorf("%s is larger than %d MiB: not read", path, MaxBody>>20)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, MaxBody+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(b)) > MaxBody {
		return nil, false, fmt.Errorf("%s is larger than %d MiB: not read", path, MaxBody>>20)
	}
	f, err := catalog.ParseFile(path, b)
	if err != nil {
		return nil, false, err
	}
	c, err = catalog.Merge(f)
	if err != nil {
		return nil, false, err
	}
	return c, now.Sub(st.ModTime()) < FreshFor, nil
}
