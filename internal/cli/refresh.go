package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/refresh"
)

// offline reports whether rcgen may not touch the network: --offline, or
// RCGEN_OFFLINE set to anything but empty, 0, false or no (a person who
// set it meant it).
func offline(env Env, flag bool) bool {
	if flag {
		return true
	}
	if env.Getenv == nil {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(env.Getenv("RCGEN_OFFLINE"))) {
	case "", "0", "false", "no":
		return false
	}
	return true
}

func envNow(env Env) time.Time {
	if env.Now != nil {
		return env.Now()
	}
	return time.Now()
}

// cachedCatalog is the refreshed catalog in the cache, merged over the
// compiled-in one, or nil (no cache configured, none written yet, or one
// that does not read: the compiled-in catalog stands).
func cachedCatalog(env Env) *catalog.Catalog {
	if env.CatalogCache == "" {
		return nil
	}
	c, _, err := refresh.Load(env.CatalogCache, envNow(env))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(env.IO.ErrOut, "Note: the cached catalog is not used (%v): rcgen uses its compiled-in catalog; rcgen versions --refresh writes the cache again\n", err)
		}
		return nil
	}
	return c
}

func refreshOptions(env Env) refresh.Options {
	o := env.Refresh
	if o.UserAgent == "" {
		o.UserAgent = "rcgen/" + version()
	}
	if o.Now == nil {
		o.Now = env.Now
	}
	return o
}

// refreshNow reads the sources, writes the cache and makes it the
// catalog of this run (rcgen versions --refresh). On failure it says why
// and which catalog stands.
func refreshNow(ctx context.Context, env Env) {
	if env.CatalogCache == "" {
		fmt.Fprintln(env.IO.ErrOut, "Refresh: no cache directory for rcgen on this machine (os.UserCacheDir): using the compiled-in catalog")
		return
	}
	doRefresh(ctx, env, refreshOptions(env), false)
}

// autoRefresh is the refresh generate, upgrade and doctor make on their
// own, once a day: never offline (--offline, RCGEN_OFFLINE=1), never when
// the user pinned a catalog file (the file wins: an organisation that pins
// its versions, or a host without the network, declared so), never without
// a cache directory (as in tests), and within refresh.AutoTimeout. The
// first time, it says that rcgen looks things up and how to stop it.
func autoRefresh(ctx context.Context, env Env, offlineFlag, pinned bool) {
	if env.CatalogCache == "" || offline(env, offlineFlag) || pinned {
		return
	}
	now := envNow(env)
	if !refresh.Due(env.CatalogCache, now) {
		return
	}
	out := env.IO.ErrOut
	o := refreshOptions(env)
	if o.Timeout <= 0 {
		o.Timeout = refresh.AutoTimeout
	}
	if refresh.FirstLookup(env.CatalogCache) {
		fmt.Fprintf(out, "Note: once a day rcgen looks up new Rocket.Chat releases and image tags (%s) within %s, and caches them in %s; --offline or RCGEN_OFFLINE=1 stops it.\n",
			strings.Join(sourceHosts(o), ", "), o.Timeout, filepath.Dir(env.CatalogCache))
	}
	if err := refresh.Attempted(env.CatalogCache, now); err != nil {
		fmt.Fprintf(out, "Note: the catalog cache %s cannot be written (%v): rcgen looks up releases on every run until it can; --offline stops it\n", filepath.Dir(env.CatalogCache), err)
	}
	doRefresh(ctx, env, o, true)
}

// sourceHosts names the hosts a refresh asks, as a person knows them.
func sourceHosts(o refresh.Options) []string {
	var hosts []string
	for _, u := range []string{cmpOr(o.GitHubAPI, refresh.GitHubAPI), cmpOr(o.RocketChatRegistry, refresh.RocketChatRegistry), cmpOr(o.DockerHub, refresh.DockerHub)} {
		if p, err := url.Parse(u); err == nil && p.Host != "" {
			u = p.Host
		}
		hosts = append(hosts, u)
	}
	return hosts
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func doRefresh(ctx context.Context, env Env, o refresh.Options, auto bool) {
	out := env.IO.ErrOut
	b, f, err := refresh.Fetch(ctx, o)
	if err == nil {
		err = refresh.Write(env.CatalogCache, b)
	}
	var c *catalog.Catalog
	if err == nil {
		f.Name = env.CatalogCache
		c, err = catalog.Merge(f)
	}
	if err != nil {
		now := envNow(env)
		kept := fmt.Sprintf("the compiled-in catalog of %s (%s)", catalog.CheckedOn, catalog.Compiled().Age(now))
		if prev := catalog.Active(); prev.File != "" {
			kept = fmt.Sprintf("%s (%s)", prev.File, prev.Age(now))
		}
		if auto {
			fmt.Fprintf(out, "Note: the catalog was not refreshed (%v): using %s; rcgen tries again in %s (rcgen versions --refresh tries now; --offline skips it)\n", err, kept, refresh.RetryAfter)
			return
		}
		fmt.Fprintf(out, "Refresh failed: %v: using %s\n", err, kept)
		return
	}
	catalog.Use(c)
	changes := catalogChanges(catalog.Compiled(), c)
	switch {
	case auto && len(changes) == 0:
		fmt.Fprintf(out, "Catalog refreshed from %s: nothing new against rcgen's compiled-in catalog\n", strings.Join(sourceHosts(o), ", "))
	case auto:
		fmt.Fprintf(out, "Catalog refreshed from %s (rcgen versions shows it all):\n", strings.Join(sourceHosts(o), ", "))
	default:
		fmt.Fprintf(out, "Refreshed from %s; cached in %s\n", strings.Join(f.Sources, ", "), env.CatalogCache)
		if len(changes) == 0 {
			fmt.Fprintln(out, "Nothing new against rcgen's compiled-in catalog.")
		}
	}
	for _, ch := range changes {
		fmt.Fprintf(out, "  %s\n", ch)
	}
	for _, im := range unseenPins(c) {
		fmt.Fprintf(out, "Warning: Docker Hub does not list %s, an image rcgen pins: the stack cannot pull it; a newer rcgen pins one that exists (rcgen doctor checks what this host's registries serve)\n", im)
	}
}

// unseenPins are the pinned images on Docker Hub that a refresh did not
// see listed there.
func unseenPins(c *catalog.Catalog) []string {
	seen := map[string]bool{}
	for _, s := range c.SeenImages() {
		seen[s.Image] = true
	}
	var out []string
	for _, im := range catalog.PinnedImages() {
		if !seen[im.Image] && refresh.OnDockerHub(im.Image) {
			out = append(out, im.Image)
		}
	}
	return out
}

// catalogChanges says what c adds to the compiled-in catalog, line by line.
func catalogChanges(compiled, c *catalog.Catalog) []string {
	var out []string
	old := compiled.Lines()
	for _, r := range c.Lines() {
		i := slices.IndexFunc(old, func(o catalog.Release) bool { return o.Line == r.Line })
		switch {
		case i < 0:
			out = append(out, fmt.Sprintf("%s: new line, latest %s", r.Line, r.Latest))
		case old[i].Latest != r.Latest:
			out = append(out, fmt.Sprintf("%s: %s -> %s (image seen)", r.Line, old[i].Latest, r.Latest))
		case !old[i].ImageConfirmed && r.ImageConfirmed:
			out = append(out, fmt.Sprintf("%s: image of %s seen published", r.Line, r.Latest))
		}
	}
	prev := catalog.Use(compiled)
	oldSeries := catalog.AllMongoDB()
	prev()
	prev = catalog.Use(c)
	newSeries := catalog.AllMongoDB()
	prev()
	for _, s := range newSeries {
		for _, o := range oldSeries {
			if o.Series == s.Series && o.Tag != s.Tag {
				out = append(out, fmt.Sprintf("MongoDB %s: %s -> %s", s.Series, o.Tag, s.Tag))
			}
		}
	}
	return out
}
