package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/refresh"
)

// offline reports whether rcgen may not touch the network: --offline or
// RCGEN_OFFLINE=1.
func offline(env Env, flag bool) bool {
	if flag {
		return true
	}
	if env.Getenv == nil {
		return false
	}
	switch strings.ToLower(env.Getenv("RCGEN_OFFLINE")) {
	case "1", "true", "yes":
		return true
	}
	return false
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
// catalog of this run. On failure it says why and which catalog stands.
func refreshNow(ctx context.Context, env Env) {
	out := env.IO.ErrOut
	if env.CatalogCache == "" {
		fmt.Fprintln(out, "Refresh: no cache directory for rcgen on this machine (os.UserCacheDir): using the compiled-in catalog")
		return
	}
	o := refreshOptions(env)
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
		fmt.Fprintf(out, "Refresh failed: %v: using %s\n", err, kept)
		return
	}
	catalog.Use(c)
	fmt.Fprintf(out, "Refreshed from %s; cached in %s\n", strings.Join(f.Sources, ", "), env.CatalogCache)
	changes := catalogChanges(catalog.Compiled(), c)
	if len(changes) == 0 {
		fmt.Fprintln(out, "Nothing new against rcgen's compiled-in catalog.")
	}
	for _, ch := range changes {
		fmt.Fprintf(out, "  %s\n", ch)
	}
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
