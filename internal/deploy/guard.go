package deploy

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
)

// FCVCommand is what an operator runs to set featureCompatibilityVersion
// to series once every member runs it. The command must reach the primary
// (setFeatureCompatibilityVersion is refused elsewhere), so mongosh is given
// the replica set and its members as seeds ("--host rs0/h1,h2": mongosh's
// connection options, https://www.mongodb.com/docs/mongodb-shell/reference/options/)
// rather than the member it runs in, which may be a secondary or down. On
// Compose it runs in mongodb-1; on Swarm in the running task of mongodb-1
// on its node, with the root password from its secret file.
// MONGODB_INITDB_ROOT_PASSWORD is where deployments of rcgen before the
// catalog kept the password.
func (d *Deployment) FCVCommand(series string) string {
	return d.rootShell(fmt.Sprintf(`db.adminCommand({setFeatureCompatibilityVersion: \"%s\", confirm: true})`, series))
}

// onNode says where rootShell's command runs, when it matters.
func (d *Deployment) onNode() string {
	if d.Compose.Swarm {
		return ", on the node that runs mongodb-1"
	}
	return ""
}

// rootShell is the command that runs js (its double quotes escaped for sh)
// as MongoDB's root user against the replica set's primary (see FCVCommand).
// On Swarm it is run on the node that runs mongodb-1 (where, says onNode).
func (d *Deployment) rootShell(js string) string {
	var hosts []string
	for i := 1; i <= max(1, d.Compose.Members()); i++ {
		hosts = append(hosts, fmt.Sprintf("mongodb-%d:27017", i))
	}
	shell := func(password string) string {
		return fmt.Sprintf(`mongosh --quiet --host %s/%s -u root -p %s --authenticationDatabase admin --eval "%s"`, render.ReplicaSet, strings.Join(hosts, ","), password, js)
	}
	if d.Compose.Swarm {
		project := d.Compose.Name
		if project == "" {
			project = "rocketchat"
		}
		return fmt.Sprintf(`docker exec "$(docker ps -q -f label=com.docker.swarm.service.name=%s_mongodb-1)" sh -c '%s'`, project, shell(`"$(cat /run/secrets/mongodb_root_password)"`))
	}
	return fmt.Sprintf(`docker compose exec mongodb-1 sh -c '%s'`, shell(`"${MONGODB_ROOT_PASSWORD:-$MONGODB_INITDB_ROOT_PASSWORD}"`))
}

// MongoDB says which MongoDB series a re-run deploying rocketChatVersion
// runs here, comparing it with what the deployment runs (its .env), with a
// note for the operator. Rocket.Chat cannot migrate its database down (an
// error, never overridable). MongoDB opens data files one feature version
// up, so one step up is taken, with the command that finishes it, and a
// jump is refused (rcgen upgrade plans every step). MongoDB Community
// cannot move its binaries back at all, so a deployment on a newer series
// than the release's pairing (8.2 under a release that declares 8.0) keeps
// it. Errors carry the rocketchat_version key.
func (d *Deployment) MongoDB(rocketChatVersion string) (series catalog.MongoDBSeries, note string, err error) {
	target, err := catalog.MongoDBFor(rocketChatVersion)
	n, perr := spec.ParseVersion(rocketChatVersion)
	if err != nil || perr != nil {
		return target, "", nil // reported by the answer's own check
	}
	bad := func(format string, a ...any) (catalog.MongoDBSeries, string, error) {
		return target, "", &spec.FieldError{Key: spec.KeyVersion, Msg: fmt.Sprintf(format, a...)}
	}
	oldRC := d.Env[render.EnvRocketChatVersion]
	if o, err := spec.ParseVersion(oldRC); err == nil && n.Before(o) {
		return bad("%s is older than the %s this deployment runs, and Rocket.Chat cannot migrate its database back: keep %s or newer (to go back, restore a backup into a new deployment)", rocketChatVersion, oldRC, oldRC)
	}
	from, to := catalog.FeatureOf(d.Env[render.EnvMongoDBVersion]), target.Series
	if from == "" || from == to {
		return target, "", nil
	}
	fi, ti := catalog.FeatureIndex(from), catalog.FeatureIndex(to)
	switch {
	case fi < 0:
		return bad("this deployment runs MongoDB %s, which rcgen does not know: give the release it runs, or upgrade MongoDB by hand first", d.Env[render.EnvMongoDBVersion])
	case ti < fi:
		kept, ok := catalog.Series(from)
		if !ok {
			return bad("this deployment runs MongoDB %s, and rcgen pins no %s image to keep it on", d.Env[render.EnvMongoDBVersion], from)
		}
		return kept, fmt.Sprintf("MongoDB stays on %s (end of life %s): Rocket.Chat %s declares %s, but MongoDB Community cannot move its binaries back (MongoDB's downgrade notes); "+
			"to move to %s, back up, generate a new deployment on %s and restore into it (README: Backups)", from, kept.EndOfLife, n, to, to, rocketChatVersion), nil
	case ti > fi+1:
		return bad("it would move MongoDB from %s straight to %s, and MongoDB upgrades one feature version at a time: `rcgen upgrade --to %s` plans and applies every step", from, to, rocketChatVersion)
	}
	return target, fmt.Sprintf("MongoDB moves from %s to %s (`rcgen upgrade` does this step by step): once every member runs %s, finish the upgrade with%s: %s", from, to, to, d.onNode(), d.FCVCommand(to)), nil
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
	redeploy := "docker compose up -d --remove-orphans"
	if d.Compose.Swarm {
		redeploy = "deploy the stack again with --prune"
	}
	var cmds []string
	for i := have; i > members; i-- {
		cmds = append(cmds, d.rootShell(fmt.Sprintf(`rs.remove(\"mongodb-%d:27017\")`, i)))
	}
	return &spec.FieldError{Key: spec.KeyMembers, Msg: fmt.Sprintf(
		"this deployment runs %d MongoDB members, and dropping to %d would leave a set that keeps the removed members as voters and never elects a primary: "+
			"remove them from the replica set first, with the stack running%s (%s), then re-run and %s",
		have, members, d.onNode(), strings.Join(cmds, "; then "), redeploy)}
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

// KeyMemberNode names the confirmation that a member moves to another node.
const KeyMemberNode = "member-node"
