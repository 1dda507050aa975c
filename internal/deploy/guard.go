package deploy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
)

// mongoSteps are the MongoDB feature versions in upgrade order (the
// catalog's): MongoDB moves one step at a time, and never back without
// lowering its featureCompatibilityVersion first.
func mongoSteps() []string {
	var steps []string
	for _, s := range catalog.AllMongoDB() {
		steps = append(steps, s.Series)
	}
	return steps
}

// Upgrade says what the guard allows.
type Upgrade struct {
	// MongoDBFCVLowered confirms that MongoDB's featureCompatibilityVersion
	// was set to the older series, so its binaries may step back (8.2 to 8.0).
	MongoDBFCVLowered bool
}

// KeyFCVLowered names the confirmation of a lowered featureCompatibilityVersion.
const KeyFCVLowered = "mongodb-fcv"

// fcvCommand is what an operator runs to set featureCompatibilityVersion.
func fcvCommand(series string) string {
	return rootShell(fmt.Sprintf(`db.adminCommand({setFeatureCompatibilityVersion: \"%s\", confirm: true})`, series))
}

// rootShell is the command that runs js (with its double quotes escaped
// for sh) as MongoDB's root user in mongodb-1. MONGODB_INITDB_ROOT_PASSWORD
// is where deployments of rcgen before the catalog kept the password.
func rootShell(js string) string {
	return fmt.Sprintf(`docker compose exec mongodb-1 sh -c 'mongosh -u root -p "${MONGODB_ROOT_PASSWORD:-$MONGODB_INITDB_ROOT_PASSWORD}" --authenticationDatabase admin --eval "%s"'`, js)
}

// CheckUpgrade compares the versions the deployment runs (from its .env)
// with a Rocket.Chat release a re-run would deploy. Rocket.Chat cannot
// migrate its database down; MongoDB opens data files only one feature
// version up, and one back only once featureCompatibilityVersion is
// lowered. A step up returns the command that finishes it. Errors carry
// the rocketchat_version key. A Rocket.Chat downgrade is never allowed.
func (d *Deployment) CheckUpgrade(rocketChatVersion string, u Upgrade) (note string, err error) {
	n, err := spec.ParseVersion(rocketChatVersion)
	if err != nil {
		return "", nil // reported by the answer's own check
	}
	bad := func(format string, a ...any) (string, error) {
		return "", &spec.FieldError{Key: spec.KeyVersion, Msg: fmt.Sprintf(format, a...)}
	}
	oldRC := d.Env[render.EnvRocketChatVersion]
	// Never overridable: Rocket.Chat's migrations are one-way.
	if o, err := spec.ParseVersion(oldRC); err == nil && n.Before(o) {
		return bad("%s is older than the %s this deployment runs, and Rocket.Chat cannot migrate its database back: keep %s or newer (to go back, restore a backup into a new deployment)", rocketChatVersion, oldRC, oldRC)
	}
	target, err := catalog.MongoDBFor(rocketChatVersion)
	if err != nil {
		return "", nil
	}
	from, to := catalog.FeatureOf(d.Env[render.EnvMongoDBVersion]), target.Series
	if from == "" || from == to {
		return "", nil
	}
	steps := mongoSteps()
	fi, ti := slices.Index(steps, from), slices.Index(steps, to)
	switch {
	case fi < 0 || ti < 0:
		return "", nil
	case ti == fi-1 && u.MongoDBFCVLowered:
		return fmt.Sprintf("MongoDB moves back from %s to %s, as its featureCompatibilityVersion was lowered to %s first", from, to, to), nil
	case ti == fi-1:
		old, _ := catalog.Series(from)
		return "", &spec.FieldError{Key: spec.KeyVersion, Override: KeyFCVLowered, Msg: fmt.Sprintf(
			"Rocket.Chat %s runs on MongoDB %s, and this deployment runs %s (end of life %s). MongoDB can step back one version only after its featureCompatibilityVersion is lowered: "+
				"1) back up the data; 2) with the stack running, %s; 3) run rcgen again confirming it (%s), then docker compose up -d",
			rocketChatVersion, to, from, old.EndOfLife, fcvCommand(to), KeyFCVLowered)}
	case ti < fi:
		return bad("it would move MongoDB from %s back to %s, which cannot open the newer data files: choose a Rocket.Chat release that runs on MongoDB %s", from, to, from)
	case ti > fi+1:
		return bad("it would move MongoDB from %s straight to %s, and MongoDB upgrades one version at a time: first upgrade through a Rocket.Chat release that runs on MongoDB %s (7.13.x does), start it, then set featureCompatibilityVersion to %s", from, to, steps[fi+1], steps[fi+1])
	}
	return fmt.Sprintf("MongoDB moves from %s to %s: once every member runs %s, finish the upgrade with: %s", from, to, to, fcvCommand(to)), nil
}

// CheckProject refuses to rename the Compose project of a deployment: the
// project prefixes every volume, so a new name would orphan the data. It
// trusts what the data uses (compose.yaml's name) before the answers file,
// which is only a record of the answers.
func (d *Deployment) CheckProject(project string) error {
	old := d.Compose.Name
	if old == "" && d.Answers != nil {
		a, _, err := spec.Resolve(*d.Answers)
		if err != nil {
			return nil
		}
		old = a.Project
	}
	if old == "" || old == project {
		return nil
	}
	return &spec.FieldError{Key: spec.KeyProject, Msg: fmt.Sprintf("this deployment's volumes belong to project %q (compose.yaml's name), and renaming it would orphan them (the data): keep %q, or generate into a new directory", old, old)}
}

// CheckMembers refuses fewer MongoDB members than the deployment runs: the
// members left keep the removed ones as voters, never reach a majority, and
// no primary is elected, so the app never starts.
func (d *Deployment) CheckMembers(members int) error {
	have := d.Compose.Members()
	if have <= members {
		return nil
	}
	var cmds []string
	for i := have; i > members; i-- {
		cmds = append(cmds, rootShell(fmt.Sprintf(`rs.remove(\"mongodb-%d:27017\")`, i)))
	}
	return &spec.FieldError{Key: spec.KeyMembers, Msg: fmt.Sprintf(
		"this deployment runs %d MongoDB members, and dropping to %d would leave a set that keeps the removed members as voters and never elects a primary: "+
			"remove them from the replica set first, with the stack running (%s), then re-run and docker compose up -d --remove-orphans",
		have, members, strings.Join(cmds, "; then "))}
}

// KeyOlderRcgen names the confirmation that an older rcgen may rewrite a
// deployment a newer one wrote.
const KeyOlderRcgen = "older-rcgen"

// NewerWriterError: the deployment was written by a newer rcgen than the
// one running, which would rewrite its files without what the newer one
// added (a fix, a pin, a safeguard).
type NewerWriterError struct{ Written, Running string }

func (e *NewerWriterError) Error() string {
	return fmt.Sprintf("this deployment was written by rcgen %s, newer than this rcgen (%s), which would silently take back what the newer one changed: use rcgen %s or newer", e.Written, e.Running, e.Written)
}

// CheckWriter compares the rcgen that last wrote the deployment with the
// running one; development builds ("dev") are not compared.
func (d *Deployment) CheckWriter(running string) error {
	if d.Answers == nil || d.Answers.WrittenBy == "" {
		return nil
	}
	clean := func(v string) string { v, _, _ = strings.Cut(v, " "); return v }
	w, err1 := semver.NewVersion(clean(d.Answers.WrittenBy))
	r, err2 := semver.NewVersion(clean(running))
	if err1 != nil || err2 != nil || !w.GreaterThan(r) {
		return nil
	}
	return &NewerWriterError{Written: clean(d.Answers.WrittenBy), Running: clean(running)}
}
