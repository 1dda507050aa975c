package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/spec"
)

// VersionsJSONVersion is the version of the `rcgen versions --json` object.
const VersionsJSONVersion = 1

type versionsRow struct {
	catalog.Release
	MongoDBImage string `json:"mongodb_image"`
	Default      bool   `json:"default"`
	Support      string `json:"support"`
	// Deployable says whether rcgen deploys the line's latest release
	// (catalog.Deployable, the rule generate and upgrade apply); WhyNot
	// says why not, in a few words.
	Deployable bool   `json:"deployable"`
	WhyNot     string `json:"why_not,omitempty"`
}

// catalogJSON says which catalog `rcgen versions` used.
type catalogJSON struct {
	// File is the catalog file merged over the compiled-in catalog, ""
	// for the compiled-in one.
	File      string              `json:"file,omitempty"`
	Generated string              `json:"generated"`
	Sources   []string            `json:"sources,omitempty"`
	Allow     []string            `json:"allow,omitempty"`
	Notes     []string            `json:"notes,omitempty"`
	Seen      []catalog.SeenImage `json:"images_seen,omitempty"`
}

type versionsJSON struct {
	Version  int                     `json:"version"`
	Catalog  catalogJSON             `json:"catalog"`
	Today    string                  `json:"today"`
	Default  string                  `json:"default"`
	Releases []versionsRow           `json:"releases"`
	MongoDB  []catalog.MongoDBSeries `json:"mongodb"`
	Images   []catalog.Image         `json:"images"`
}

func newVersionsCmd(env Env) *cobra.Command {
	var asJSON bool
	var file string
	var doRefresh, noNetwork bool
	cmd := &cobra.Command{
		Use:   "versions",
		Short: "Show the Rocket.Chat releases rcgen deploys, their MongoDB, support dates and pinned images",
		Long: `Print rcgen's release catalog: every Rocket.Chat release line rcgen knows,
whether rcgen deploys it (and why not: a line whose image rcgen has not
confirmed is listed, not deployed), the MongoDB series its release notes
declare (and the image rcgen pairs with it), its Node.js version, release
date, end of support and LTS flag, marking the default and what is past
support today; then the MongoDB series and every other pinned image. Each
row's source is in --json.

It says first which catalog it used: the one compiled into rcgen (and how
old it is), or the catalog file --catalog names, merged over it. A catalog
file (YAML, "version: 1", see the README's Versions section) may add
releases and MongoDB patches and mark images seen, and an allow: list may
restrict what is deployable; it never changes what rcgen knows of a
release (the MongoDB it declares, its LTS flag and dates, its breaking
changes): where it says otherwise, rcgen keeps its own and says so here.
generate and plan take the same --catalog (or catalog: in rcgen.yaml).

--refresh reads Rocket.Chat's GitHub releases (their "Engine versions")
and the registries' tag lists (registry.rocket.chat, Docker Hub) within 5
seconds and caches what it read, as a catalog file, in the user's cache
directory (rcgen/catalog.yaml); every later run uses that cache over the
compiled-in catalog (a --catalog file still wins). A refresh marks an
image seen only when its registry lists the tag (every pinned image's tag
is asked of Docker Hub), and never writes a rule. generate, upgrade and
doctor refresh on their own once a day, within 3 seconds.
--offline or RCGEN_OFFLINE=1: rcgen never touches the network.`,
		Example: `  rcgen versions
  rcgen versions --refresh
  rcgen versions --catalog approved-versions.yaml
  rcgen versions --json | jq '.releases[] | select(.lts)'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			if env.Now != nil {
				now = env.Now()
			}
			if doRefresh && noNetwork {
				return usage(errors.New("--refresh and --offline contradict each other: give one"))
			}
			switch {
			case doRefresh && offline(env, false):
				fmt.Fprintln(env.IO.ErrOut, "Refresh skipped: RCGEN_OFFLINE is set, so rcgen does not touch the network (unset it to refresh)")
			case doRefresh:
				refreshNow(cmd.Context(), env)
			}
			if file != "" {
				c, err := spec.LoadCatalog(file)
				if err != nil {
					return usage(fmt.Errorf("--catalog: %w", err))
				}
				catalog.Use(c) // for this run: Run puts the compiled-in one back
			}
			c := catalog.Active()
			rows := versionRows(now)
			if asJSON {
				enc := json.NewEncoder(env.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(versionsJSON{Version: VersionsJSONVersion,
					Catalog: catalogJSON{File: c.File, Generated: c.Generated.String(), Sources: c.Sources, Allow: c.Allow, Notes: c.Notes, Seen: c.SeenImages()},
					Today:   now.Format(time.DateOnly), Default: catalog.DefaultRocketChatVersion(),
					Releases: rows, MongoDB: catalog.AllMongoDB(), Images: catalog.PinnedImages()})
			}
			return writeVersions(env, now, rows)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the catalog as JSON, with each row's source")
	cmd.Flags().BoolVar(&doRefresh, "refresh", false, "read Rocket.Chat's releases and the registries' tag lists now (5s at most) and cache them")
	cmd.Flags().BoolVar(&noNetwork, "offline", false, "never touch the network (as RCGEN_OFFLINE=1)")
	cmd.Flags().StringVar(&file, "catalog", "", "a catalog file your organisation pins, merged over rcgen's compiled-in catalog (see --help)")
	return cmd
}

func versionRows(now time.Time) []versionsRow {
	var rows []versionsRow
	for _, r := range catalog.Releases() {
		m, _ := catalog.MongoDBFor(r.Latest)
		row := versionsRow{Release: r, MongoDBImage: m.Image(),
			Default: r.Latest == catalog.DefaultRocketChatVersion(), Support: r.SupportOn(now).String(), Deployable: true}
		if _, err := catalog.Deployable(r.Latest); err != nil {
			row.Deployable, row.WhyNot = false, err.Error()
			var re *catalog.RefusedError
			if errors.As(err, &re) {
				row.WhyNot = re.Short
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func writeVersions(env Env, now time.Time, rows []versionsRow) error {
	c := catalog.Active()
	fmt.Fprintf(env.IO.Out, "Catalog: %s\n", c.Describe(now))
	if c.File == "" {
		fmt.Fprintln(env.IO.Out, "(a newer rcgen knows newer releases; an organisation pins its own with --catalog FILE)")
	}
	if len(c.Allow) > 0 {
		fmt.Fprintf(env.IO.Out, "Allowed by %s: %s (nothing else is deployed)\n", c.File, strings.Join(c.Allow, ", "))
	}
	for _, n := range c.Notes {
		fmt.Fprintf(env.IO.Out, "Note: %s\n", n)
	}
	fmt.Fprintln(env.IO.Out)
	w := tabwriter.NewWriter(env.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ROCKET.CHAT\tRELEASED\tSUPPORTED TO\tSTATUS\tRCGEN DEPLOYS\tMONGODB DECLARED\tRCGEN RUNS\tNODE")
	newest, _, _ := catalog.ResolveWord(catalog.WordLatest)
	for _, r := range rows {
		name := r.Latest
		var marks []string
		if r.Default {
			marks = append(marks, "default")
		}
		if r.Deployable && r.Latest == newest {
			marks = append(marks, catalog.WordLatest)
		}
		if r.LTS {
			marks = append(marks, "LTS")
		}
		if len(marks) > 0 {
			name += " (" + strings.Join(marks, ", ") + ")"
		}
		deploys := "yes"
		if !r.Deployable {
			deploys = "no: " + r.WhyNot
		}
		m, _ := catalog.MongoDBFor(r.Latest)
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, r.Released, r.EndOfSupport, r.Support, deploys, strings.Join(r.MongoDB, ", "), m.Tag, r.Node)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "MONGODB\tIMAGE TAG\tEND OF LIFE\tSTATUS")
	for _, s := range catalog.AllMongoDB() {
		status := "supported"
		if now.After(s.EndOfLife.Time) {
			status = "end of life"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Series, s.Image(), s.EndOfLife, status)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "SERVICE\tIMAGE")
	fmt.Fprintf(w, "rocketchat\t%s:<release>\n", catalog.RocketChatImage)
	for _, i := range catalog.PinnedImages() {
		fmt.Fprintf(w, "%s\t%s\n", i.Service, i.Image)
	}
	if seen := c.SeenImages(); len(seen) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "SEEN BY %s\tON\tWHERE\n", c.File)
		for _, i := range seen {
			fmt.Fprintf(w, "%s\t%s\t%s\n", i.Image, i.Seen, i.Where)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if lts, ok := catalog.LatestLTS(now); ok {
		fmt.Fprintf(env.IO.Out, "\nThe newest LTS line rcgen deploys is %s (supported to %s): rcgen generate --rocketchat-version %s\n", lts.Line, lts.EndOfSupport, lts.Latest)
	}
	fmt.Fprintf(env.IO.Out, "The default is %s: %s. The words %s (%s) and %s (%s) are taken wherever a release is given, and recorded as the release they name.\n",
		catalog.DefaultRocketChatVersion(), catalog.DefaultReason(), catalog.WordLTS, catalog.DefaultRocketChatVersion(), catalog.WordLatest, newest)
	return nil
}
