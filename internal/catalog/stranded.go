package catalog

// Stranding says whether a deployment of version starts on a MongoDB
// series that later releases leave for an older one: MongoDB Community
// cannot move its binaries back (MongoDB's downgrade notes), and rcgen
// restore takes no backup into an older MongoDB, so such a deployment stays
// on the series after every upgrade. It returns the series and the first
// line that leaves it (and every line after it pairs with an older series).
//
// That is Rocket.Chat 8.0 and 8.1: their release notes declare MongoDB 8.2
// only (8.0.0: "workspaces must upgrade to MongoDB 8.2 before moving to
// Rocket.Chat v8.0.0"; 8.1.x the same, RocketChat/Rocket.Chat#41022), a
// Rapid Release whose end of life is 2026-07-31, and from 8.2 on Rocket.Chat
// declares MongoDB 8.0 (RocketChat/Rocket.Chat#38596: "8.2 belongs to the
// Rapid Release channel, which has a short support lifecycle"). Neither
// declares 8.0, so rcgen does not pair them with it.
func Stranding(version string) (on MongoDBSeries, leftBy Release, ok bool) {
	r, known := Lookup(version)
	if !known {
		return MongoDBSeries{}, Release{}, false
	}
	on, err := MongoDBFor(r.Latest)
	if err != nil {
		return MongoDBSeries{}, Release{}, false
	}
	after := false
	for _, l := range releases {
		if l.Line == r.Line {
			after = true
			continue
		}
		if !after {
			continue
		}
		s, err := MongoDBFor(l.Latest)
		if err != nil || FeatureIndex(s.Series) >= FeatureIndex(on.Series) {
			leftBy = Release{}
			continue
		}
		if leftBy.Line == "" {
			leftBy = l
		}
	}
	// leftBy is reset by any later line back on the series (or newer):
	// only a series the releases leave for good strands a deployment.
	return on, leftBy, leftBy.Line != ""
}
