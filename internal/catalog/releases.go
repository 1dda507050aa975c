package catalog

// Sources shared by the rows.
const (
	srcReleases = "https://github.com/RocketChat/Rocket.Chat/releases (Engine versions: MongoDB, Node)"
	srcSupport  = "https://docs.rocket.chat/docs/version-durability (End of Life: the month of x.y.0 plus six, as RocketChat/Rocket.Chat .github/actions/update-version-durability/index.js counts it)"
	srcLTS      = "https://github.com/orgs/RocketChat/discussions/42302 (LTS: 7.10 to 2026-09-30, 8.5 to end of June 2027, 8.9 twelve months)"
	srcDOI      = "https://github.com/docker-library/repo-info repos/rocket.chat/remote (Docker Official Image tags)"
)

// Breaking changes an operator meets when moving onto a line, from its
// x.y.0 release notes (the API removals are summed up).
var (
	breaking80 = []string{
		"the server exits on MongoDB older than 7.0 (#35961)",
		"VoIP through FreeSwitch is removed from Omnichannel (#37672)",
		"removed REST endpoints and Meteor methods (rooms.upload/:rid, use rooms.media; livechat:* methods; roleName parameters need roleId): check integrations and bots",
	}
	srcBreaking80 = "https://github.com/RocketChat/Rocket.Chat/releases/tag/8.0.0; docs.rocket.chat deprecated-and-phasing-out-features"
	breaking90    = []string{
		"Custom OAuth becomes a premium feature: without a licence with oauth-enterprise, Custom OAuth logins are refused (#42477); GitHub, GitLab, Google and the other built-in providers are not affected",
		"the legacy /ufs file download path is removed (#41054)",
		"webhook integration scripts are no longer transpiled by Babel and class bodies run in strict mode (#40142)",
		"push.token stores flat tokenValue/tokenType and answers in a new shape (#41382); rooms.createDiscussion enforces channel membership (#43038)",
	}
)

// releases are the Rocket.Chat lines rcgen knows (7.0 and later; the
// server exits on MongoDB older than 7.0 since 8.0.0, apps/meteor/server/
// startup/serverRunning.ts, PR #35961). No row types its end of support:
// init derives it from Released and LTS by Rocket.Chat's rule
// (SupportEnd), unless the row carries a date Rocket.Chat announced
// (Announced, with AnnouncedSource). ImageConfirmed
// is false where the row's source says "image not confirmed by rcgen":
// those lines are listed, not deployed (Deployable). A new row starts
// unconfirmed until its image is seen published.
var releases = []Release{
	{Line: "7.0", Latest: "7.0.9", Released: day("2024-10-31"), MongoDB: []string{"5.0", "6.0", "7.0"}, ImageConfirmed: true, Node: "20.17.0", Source: srcReleases + "; " + srcSupport},
	{Line: "7.1", Latest: "7.1.6", Released: day("2024-12-04"), MongoDB: []string{"5.0", "6.0", "7.0"}, ImageConfirmed: true, Node: "20", Source: srcReleases + " (Node patch unconfirmed); " + srcSupport},
	{Line: "7.2", Latest: "7.2.6", Released: day("2025-01-07"), MongoDB: []string{"5.0", "6.0", "7.0"}, ImageConfirmed: true, Node: "20.18.0", Source: srcReleases + "; " + srcSupport},
	{Line: "7.3", Latest: "7.3.6", Released: day("2025-01-31"), MongoDB: []string{"5.0", "6.0", "7.0"}, ImageConfirmed: true, Node: "22.11.0", Source: srcReleases + "; " + srcSupport},
	{Line: "7.4", Latest: "7.4.6", Released: day("2025-03-05"), MongoDB: []string{"5.0", "6.0", "7.0"}, ImageConfirmed: true, Node: "22.13.1", Source: srcReleases + "; " + srcSupport},
	{Line: "7.5", Latest: "7.5.5", Released: day("2025-04-07"), MongoDB: []string{"5.0", "6.0", "7.0"}, ImageConfirmed: true, Node: "22.13.1", Source: srcReleases + "; " + srcSupport},
	{Line: "7.6", Latest: "7.6.6", Released: day("2025-05-13"), MongoDB: []string{"5.0", "6.0", "7.0"}, ImageConfirmed: true, Node: "22.13.1", Source: srcReleases + "; " + srcSupport},
	{Line: "7.7", Latest: "7.7.9", Released: day("2025-05-31"), MongoDB: []string{"5.0", "6.0", "7.0"}, ImageConfirmed: true, Node: "22.14.0", Source: srcReleases + "; " + srcSupport},
	{Line: "7.8", Latest: "7.8.6", Released: day("2025-07-08"), MongoDB: []string{"5.0", "6.0", "7.0"}, ImageConfirmed: true, Node: "22", Source: srcReleases + " (Node patch unconfirmed); " + srcSupport},
	{Line: "7.9", Latest: "7.9.8", Released: day("2025-07-29"), MongoDB: []string{"5.0", "6.0", "7.0"}, ImageConfirmed: true, Node: "22.16.0", Source: srcReleases + "; " + srcSupport},
	{Line: "7.10", Latest: "7.10.15", Released: day("2025-09-04"), Announced: day("2026-09-30"), AnnouncedSource: srcLTS + " (\"7.10 LTS reaches end of life on September 30, 2026\")", LTS: true, MongoDB: []string{"5.0", "6.0", "7.0"}, ImageConfirmed: true, Node: "22.16.0", Source: srcReleases + "; " + srcLTS + "; image: " + srcDOI + " (7.10.15)"},
	{Line: "7.11", Latest: "7.11.7", Released: day("2025-10-17"), MongoDB: []string{"5.0", "6.0", "7.0"}, ImageConfirmed: true, Node: "22.16.0", Source: srcReleases + "; " + srcSupport},
	{Line: "7.12", Latest: "7.12.7", Released: day("2025-10-31"), MongoDB: []string{"5.0", "6.0", "7.0"}, ImageConfirmed: true, Node: "22.16.0", Source: srcReleases + "; " + srcSupport},
	// 7.13.9's notes declare "5, 6, 7, 8": 7.13 is the bridge from 7.0 to 8.0.
	{Line: "7.13", Latest: "7.13.9", Released: day("2025-12-05"), MongoDB: []string{"5.0", "6.0", "7.0", "8.0"}, ImageConfirmed: true, Node: "22.16.0", Source: srcReleases + " (7.13.9); " + srcSupport},
	// 8.0 and 8.1 declare MongoDB 8.2 only.
	{Line: "8.0", Latest: "8.0.8", Released: day("2026-01-12"), MongoDB: []string{"8.2"}, ImageConfirmed: true, Node: "22.16.0", Breaking: breaking80, Source: srcReleases + " (8.0.0 notes: " + srcBreaking80 + "); " + srcSupport},
	{Line: "8.1", Latest: "8.1.8", Released: day("2026-02-10"), MongoDB: []string{"8.2"}, ImageConfirmed: true, Node: "22.16.0", Source: srcReleases + "; " + srcSupport},
	// From 8.2 Rocket.Chat declares MongoDB 8.0: PR #38596 ("8.2 is a Rapid
	// Release with a short life"), and its CI tests 8.0 only.
	{Line: "8.2", Latest: "8.2.8", Released: day("2026-03-02"), MongoDB: []string{"8.0"}, ImageConfirmed: true, Node: "22.16.0", Source: srcReleases + "; RocketChat/Rocket.Chat#38596; " + srcSupport + "; image: " + srcDOI},
	{Line: "8.3", Latest: "8.3.8", Released: day("2026-04-07"), MongoDB: []string{"8.0"}, ImageConfirmed: true, Node: "22.16.0", Source: srcReleases + "; " + srcSupport + "; image: " + srcDOI},
	{Line: "8.4", Latest: "8.4.6", Released: day("2026-04-30"), MongoDB: []string{"8.0"}, ImageConfirmed: true, Node: "22.16.0", Source: srcReleases + " (Node unconfirmed); " + srcSupport + "; image: " + srcDOI},
	{Line: "8.5", Latest: "8.5.3", Released: day("2026-06-10"), Announced: day("2027-06-30"), AnnouncedSource: srcLTS + " (\"supported until the end of June 2027\")", LTS: true, MongoDB: []string{"8.0"}, ImageConfirmed: true, Node: "22.22.3", Source: srcReleases + "; " + srcLTS + "; image: " + srcDOI + " (8.5.3; 8.5.5 released, image unconfirmed)"},
	{Line: "8.6", Latest: "8.6.2", Released: day("2026-07-03"), MongoDB: []string{"8.0"}, ImageConfirmed: true, Node: "22.22.3", Source: srcReleases + "; " + srcSupport + "; image: " + srcDOI + " (8.6.2; later patches released, images unconfirmed)"},
	{Line: "8.7", Latest: "8.7.1", Released: day("2026-08-07"), MongoDB: []string{"8.0"}, ImageConfirmed: true, Node: "22.22.3", Source: srcReleases + "; " + srcSupport + "; image: " + srcDOI},
	{Line: "8.8", Latest: "8.8.1", Released: day("2026-09-01"), MongoDB: []string{"8.0"}, ImageConfirmed: true, Node: "22.22.3", Source: srcReleases + " (8.8.0 date: early September 2026, from its release candidates); " + srcSupport + "; image: " + srcDOI + " (8.8.1)"},
	{Line: "8.9", Latest: "8.9.1", Released: day("2026-10-14"), LTS: true, MongoDB: []string{"8.0"}, Node: "22.22.3 or 24.15", Source: srcReleases + " (\"8.9.1 LTS\", 2026-11-06; 8.9.0 date unconfirmed, mid October 2026); " + srcLTS + "; image not confirmed by rcgen"},
	{Line: "9.0", Latest: "9.0.0", Released: day("2026-11-10"), MongoDB: []string{"8.0"}, Node: "22.22.3 or 24.15", Breaking: breaking90, Source: srcReleases + " (9.0.0, 2026-11-10: Custom OAuth needs a premium licence, /ufs removed); " + srcSupport + "; image not confirmed by rcgen"},
}
