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

type versionsJSON struct {
	Version  int                     `json:"version"`
	Today    string                  `json:"today"`
	Default  string                  `json:"default"`
	Releases []versionsRow           `json:"releases"`
	MongoDB  []catalog.MongoDBSeries `json:"mongodb"`
	Images   []catalog.Image         `json:"images"`
}

func newVersionsCmd(env Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "versions",
		Short: "Show the Rocket.Chat releases rcgen deploys, their MongoDB, support dates and pinned images",
		Long: `Print rcgen's release catalog: every Rocket.Chat release line rcgen knows,
whether rcgen deploys it (and why not: a line whose image rcgen has not
confirmed is listed, not deployed), the MongoDB series its release notes
declare (and the image rcgen pairs with it), its Node.js version, release
date, end of support and LTS flag, marking the default and what is past
support today; then the MongoDB series and every other pinned image. Each
row's source is in --json.`,
		Example: `  rcgen versions
  rcgen versions --json | jq '.releases[] | select(.lts)'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			if env.Now != nil {
				now = env.Now()
			}
			rows := versionRows(now)
			if asJSON {
				enc := json.NewEncoder(env.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(versionsJSON{Version: VersionsJSONVersion, Today: now.Format(time.DateOnly), Default: catalog.DefaultRocketChatVersion(),
					Releases: rows, MongoDB: catalog.AllMongoDB(), Images: catalog.PinnedImages()})
			}
			return writeVersions(env, now, rows)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the catalog as JSON, with each row's source")
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
