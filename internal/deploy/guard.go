package deploy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
)

// mongoSteps are the MongoDB feature versions in upgrade order: MongoDB
// moves one step at a time, and never back.
var mongoSteps = []string{"7.0", "8.0", "8.2"}

func mongoFeature(tag string) string {
	parts := strings.SplitN(tag, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + "." + parts[1]
}

// CheckUpgrade compares the versions the deployment runs (from its .env)
// with a Rocket.Chat release a re-run would deploy. Rocket.Chat cannot
// migrate its database down, and MongoDB opens data files only one feature
// version up, so both are refused (allowDowngrade lets a Rocket.Chat
// downgrade through, for an operator who restored an older backup); one
// MongoDB step up returns the command that finishes it. Errors carry the
// rocketchat_version key.
func (d *Deployment) CheckUpgrade(rocketChatVersion string, allowDowngrade bool) (note string, err error) {
	n, err := spec.ParseVersion(rocketChatVersion)
	if err != nil {
		return "", nil // reported by the answer's own check
	}
	bad := func(format string, a ...any) (string, error) {
		return "", &spec.FieldError{Key: spec.KeyVersion, Msg: fmt.Sprintf(format, a...)}
	}
	oldRC := d.Env[render.EnvRocketChatVersion]
	if o, err := spec.ParseVersion(oldRC); err == nil && !allowDowngrade && n.Before(o) {
		return bad("%s is older than the %s this deployment runs, and Rocket.Chat cannot migrate its database back: keep %s or newer (restore a backup to go back)", rocketChatVersion, oldRC, oldRC)
	}
	from, to := mongoFeature(d.Env[render.EnvMongoDBVersion]), mongoFeature(spec.MongoDBImageTag(n))
	if from == "" || from == to {
		return "", nil
	}
	fi, ti := slices.Index(mongoSteps, from), slices.Index(mongoSteps, to)
	switch {
	case fi < 0 || ti < 0:
		return "", nil
	case ti < fi:
		return bad("it would move MongoDB from %s back to %s, which cannot open the newer data files: choose a Rocket.Chat release that runs on MongoDB %s", from, to, from)
	case ti > fi+1:
		return bad("it would move MongoDB from %s straight to %s, and MongoDB upgrades one version at a time: first upgrade through a Rocket.Chat release that runs on MongoDB %s (7.13.x does), start it, then set featureCompatibilityVersion to %s", from, to, mongoSteps[fi+1], mongoSteps[fi+1])
	}
	return fmt.Sprintf("MongoDB moves from %s to %s: once every member runs %s, finish the upgrade with: docker compose exec mongodb-1 sh -c 'mongosh -u root -p \"$MONGODB_INITDB_ROOT_PASSWORD\" --authenticationDatabase admin --eval \"db.adminCommand({setFeatureCompatibilityVersion: \\\"%s\\\", confirm: true})\"'", from, to, to, to), nil
}

// CheckProject refuses to rename the Compose project of a deployment: the
// project prefixes every volume, so a new name would orphan the data.
func (d *Deployment) CheckProject(project string) error {
	if d.Answers == nil {
		return nil
	}
	old, _, err := spec.Resolve(*d.Answers)
	if err != nil || old.Project == project {
		return nil
	}
	return &spec.FieldError{Key: spec.KeyProject, Msg: fmt.Sprintf("this deployment's project is %q, and renaming it would orphan its volumes (the data): keep %q, or generate into a new directory", old.Project, old.Project)}
}
