package catalog

import (
	"fmt"
	"time"
)

// Rocket.Chat's support rule, as its docs' "version durability" table is
// built (RocketChat/Rocket.Chat .github/actions/update-version-durability/
// index.js): take the publication date of the line's x.y.0 release, go to
// the first of its month, add six months, and print that month as the
// line's "End of Life" (e.g. 7.1.0, 2024-12-04: Jun 2025). rcgen reads the
// month as supported to its last day. The action adds six months to LTS
// lines too ("lts ? 6 : 6"); Rocket.Chat announces twelve for them
// (https://github.com/orgs/RocketChat/discussions/42302: "12 months of
// support from the release date, compared to 6 months for standard
// releases"), counted the same way: 7.10 (September 2025) to 2026-09-30,
// 8.5 (June 2026) to the end of June 2027.
const (
	SupportMonths    = 6
	LTSSupportMonths = 12
)

// SupportEnd is the last day of support of a line whose x.y.0 was
// released on released: the last day of the month SupportMonths
// (LTSSupportMonths for an LTS line) after released's month.
func SupportEnd(released Date, lts bool) Date {
	months := SupportMonths
	if lts {
		months = LTSSupportMonths
	}
	y, m, _ := released.Date()
	// Day 0 of the month after is the last day of the month wanted.
	return Date{time.Date(y, m+time.Month(months)+1, 0, 0, 0, 0, 0, time.UTC)}
}

// WithSupport returns r with EndOfSupport and EndOfSupportSource set: the
// announced date when r has one, else SupportEnd. Every row of the
// catalog goes through it, and so must any row added to it.
func WithSupport(r Release) Release {
	if !r.Announced.IsZero() {
		r.EndOfSupport = r.Announced
		r.EndOfSupportSource = "announced: " + r.AnnouncedSource
		return r
	}
	r.EndOfSupport = SupportEnd(r.Released, r.LTS)
	months, kind, src := SupportMonths, "", srcSupport
	if r.LTS {
		months, kind, src = LTSSupportMonths, "LTS ", srcLTS
	}
	r.EndOfSupportSource = fmt.Sprintf("%s.0's month (%s) plus %d months, %srule: %s", r.Line, r.Released.Format("2006-01"), months, kind, src)
	return r
}

func init() {
	for i := range releases {
		releases[i] = WithSupport(releases[i])
	}
}
