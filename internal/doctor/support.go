package doctor

import (
	"fmt"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/upgrade"
)

// NextRelease is the release a deployment running from moves to before
// its line leaves support: the newest release rcgen deploys that is one
// step of rcgen upgrade's way away (upgrade.NextStep, the rule a re-run of
// generate keeps too) and supported on day now; failing that, the newest
// one step away. ok is false when no newer release is one step away.
func NextRelease(from upgrade.Deployed, now time.Time) (string, bool) {
	rs := catalog.DeployableReleases()
	fallback := ""
	for i := len(rs) - 1; i >= 0; i-- {
		to := rs[i].Latest
		if to == from.RocketChat {
			continue
		}
		r, err := upgrade.NextStep(from, to)
		if err != nil || r.Step == nil || r.Step.Kind != upgrade.RocketChat {
			continue
		}
		if rs[i].SupportOn(now) == catalog.Supported {
			return to, true
		}
		if fallback == "" {
			fallback = to
		}
	}
	return fallback, fallback != ""
}

// SupportWarning is the warning about the support of Rocket.Chat version,
// run on MongoDB mongo (a version or an image tag; "" for a deployment not
// made yet), on day now: "" while the line is supported and more than
// catalog.EndingSoonDays from its end; else its end of support and the way
// on, `rcgen upgrade --to X` (swarm: a re-run of generate, which rcgen
// upgrade does not run), X from NextRelease.
func SupportWarning(version, mongo string, swarm bool, now time.Time) string {
	rel, ok := catalog.Lookup(version)
	if !ok || rel.SupportOn(now) == catalog.Supported {
		return ""
	}
	way := ""
	if mongo == "" {
		// Not deployed yet: any release rcgen deploys will do.
		if d := catalog.Default(); d.Line != rel.Line {
			way = fmt.Sprintf("deploy rcgen's default instead, Rocket.Chat %s (supported to %s)", d.Latest, d.EndOfSupport)
		}
	} else if to, ok := NextRelease(upgrade.Deployed{RocketChat: version, MongoDB: mongo}, now); ok {
		next, _ := catalog.Lookup(to)
		way = fmt.Sprintf("upgrade with `rcgen upgrade --to %s` (Rocket.Chat %s, supported to %s)", to, next.Line, next.EndOfSupport)
		if swarm {
			way = fmt.Sprintf("upgrade with `rcgen generate --rocketchat-version %s` (Rocket.Chat %s, supported to %s), then deploy the stack", to, next.Line, next.EndOfSupport)
		}
	}
	return rel.SupportNote(now, way)
}
