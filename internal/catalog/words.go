package catalog

import (
	"fmt"
	"strings"
)

// The words a release may be given as, wherever rcgen takes one (generate's
// answer, upgrade --to). Each is resolved when it is read to an exact
// release, which is what rcgen.yaml records: a re-run deploys the same
// release whatever the catalog has learned since, and a run that gives the
// word again asks for the release it names then, which a re-run takes only
// one step of rcgen upgrade's way at a time.
const (
	// WordLatest is the newest release rcgen deploys.
	WordLatest = "latest"
	// WordLTS is the newest patch of the newest LTS line rcgen deploys:
	// the default.
	WordLTS = "lts"
)

// DefaultRocketChatVersion is the release rcgen deploys when none is
// given: the newest patch of the newest LTS line whose image rcgen has
// seen published (ImageConfirmed), the release Rocket.Chat supports
// longest among those rcgen deploys (twelve months from x.y.0, six for a
// standard release: https://github.com/orgs/RocketChat/discussions/42302);
// the newest deployable release when no LTS line is. DefaultReason says
// why.
func DefaultRocketChatVersion() string { return defaultRelease().Latest }

func defaultRelease() Release {
	rs := DeployableReleases()
	if len(rs) == 0 {
		return Release{} // a catalog file's allow list left nothing: Deployable says why
	}
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].LTS {
			return rs[i]
		}
	}
	return rs[len(rs)-1]
}

// DefaultReason says why the default is what it is: "the newest patch of
// the newest LTS line whose image rcgen has seen (8.5; 8.9 LTS is listed,
// its image not confirmed yet)".
func DefaultReason() string {
	d := defaultRelease()
	if !d.LTS {
		return "the newest release whose image rcgen has seen (no LTS line's image is confirmed)"
	}
	why := fmt.Sprintf("the newest patch of the newest LTS line whose image rcgen has seen (%s", d.Line)
	var unseen []string
	for _, r := range cur().releases {
		if r.LTS && !r.ImageConfirmed && lineAfter(r.Line, d.Line) {
			unseen = append(unseen, r.Line)
		}
	}
	if len(unseen) > 0 {
		why += fmt.Sprintf("; %s LTS is listed, its image not confirmed yet", strings.Join(unseen, ", "))
	}
	return why + ")"
}

// lineAfter reports whether line a comes after line b in the catalog.
func lineAfter(a, b string) bool {
	seen := false
	for _, r := range cur().releases {
		switch r.Line {
		case b:
			seen = true
		case a:
			return seen
		}
	}
	return false
}

// ResolveWord turns a word (latest, lts; any case, spaces around) into the
// exact release it names today, with what it means; any other s comes
// back as it is, with word "".
func ResolveWord(s string) (version, word, meaning string) {
	switch w := strings.ToLower(strings.TrimSpace(s)); w {
	case WordLatest:
		rs := DeployableReleases()
		return rs[len(rs)-1].Latest, w, "the newest release rcgen deploys"
	case WordLTS:
		d := defaultRelease()
		if !d.LTS {
			return d.Latest, w, "no LTS line's image is confirmed: the newest release rcgen deploys"
		}
		return d.Latest, w, "the newest patch of the newest LTS line rcgen deploys"
	}
	return s, "", ""
}
