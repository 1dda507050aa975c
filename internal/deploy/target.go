package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/kballard/go-shellquote"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
)

// KeyTarget names the confirmation that a deployment changes target
// (compose to swarm or back) in place.
const KeyTarget = "target"

// Target is the target the deployment runs on, and the file that says so:
// its compose.yaml (compose) or stack.yaml (swarm), else what its
// rcgen.yaml records (a directory whose run was cut short); "" for a new
// directory or one rcgen did not write.
func (d *Deployment) Target() (target, from string) {
	exists := func(rel string) bool {
		_, err := os.Lstat(filepath.Join(d.Dir, rel))
		return err == nil
	}
	switch {
	case exists(render.ComposeFile):
		return spec.TargetCompose, render.ComposeFile
	case exists(render.StackFile):
		return spec.TargetSwarm, render.StackFile
	case d.Answers != nil && d.State == Rcgen:
		if a, _, err := spec.Resolve(*d.Answers); err == nil {
			return a.Target, spec.FileName
		}
	}
	return "", ""
}

// CheckTarget refuses to move a deployment to another target in place: the
// old target's stack may still run from the files a re-run would replace
// or remove (compose.yaml, the backup service's script; stack.yaml), and
// its data does not follow (MongoDB's volumes stay where they are, on this
// host or on the Swarm nodes; a Swarm stack has no uploads volume). A
// change of target is a migration, which the error spells out: back up,
// stop the old stack, re-run with KeyTarget confirmed, deploy, restore.
// Errors carry the target key, and name the confirmation {force:target},
// which the cli words.
func (d *Deployment) CheckTarget(target string) error {
	old, from := d.Target()
	if old == "" || target == "" || old == target {
		return nil
	}
	dir := shellquote.Join(d.Dir)
	project := d.Compose.Name
	if project == "" {
		project = "rocketchat"
	}
	if old == spec.TargetKubernetes || target == spec.TargetKubernetes {
		return &spec.FieldError{Key: spec.KeyTarget, Override: KeyTarget, Msg: fmt.Sprintf(
			"this deployment runs on the %s target (%s in %s), and {target} %s would rewrite it in place for another platform, while its data stays where it is "+
				"(MongoDB's volumes on the old hosts or in the cluster's volume claims). Changing the target is a migration, nothing was written: "+
				"back up (the README's Backups), stop the old deployment, run this command again with {force:target} (rcgen keeps the secrets, and the files it removes in %s/), "+
				"deploy as the new README.md says, and restore the backup into the new replica set by hand (mongorestore --archive --gzip --drop as MongoDB's root user)",
			old, from, d.Dir, target, BackupDir)}
	}
	if old == spec.TargetCompose {
		backup := fmt.Sprintf("`rcgen backup --dir %s` (it takes and checks one in backups/; copy it off this server)", dir)
		if !slices.Contains(d.Compose.Services, "backup") {
			backup = "by hand, as README.md says (Back up): this deployment has no backup service"
		}
		return &spec.FieldError{Key: spec.KeyTarget, Override: KeyTarget, Msg: fmt.Sprintf(
			"this deployment runs on the compose target (%s in %s), and {target} %s would turn it into a Swarm stack in place: "+
				"compose.yaml and the backup service's files would go while its stack may still run, and the Swarm stack starts with empty MongoDB members "+
				"(a member's data is a volume on its node) and no uploads volume. Changing the target is a migration, nothing was written: "+
				"1. files users uploaded to the file system (volume %s_uploads) do not follow: move them to GridFS or object storage first (Administration, File Upload, Storage Type); "+
				"2. back up: %s; "+
				"3. stop the compose stack: cd %s && docker compose down (its volumes stay; never -v); "+
				"4. run this command again with {force:target} (rcgen keeps the secrets, and the files it removes in %s/); "+
				"5. deploy the stack as the new README.md says (Deploy); "+
				"6. restore the backup by hand (rcgen restore on Swarm would stop at the one-host backup's uploads: a Swarm stack has no uploads volume): tar -xOf backups/NAME.tar mongodb.archive.gz "+
				"(an encrypted backup holds mongodb.archive.gz.enc: pipe it through openssl enc -d -aes-256-ctr -pbkdf2 -iter 600000 -md sha256 -pass env:BACKUP_PASSPHRASE, with .env's BACKUP_PASSPHRASE exported) "+
				"and load it with mongorestore --archive --gzip --oplogReplay --drop as MongoDB's root user against the new replica set",
			from, d.Dir, target, project, backup, dir, BackupDir)}
	}
	return &spec.FieldError{Key: spec.KeyTarget, Override: KeyTarget, Msg: fmt.Sprintf(
		"this deployment is a Swarm stack (%s in %s), and {target} %s would turn it into a one-host deployment in place: "+
			"stack.yaml would go while the stack may still run, and the compose stack starts with empty MongoDB volumes on this host "+
			"(a Swarm member's data is a volume on its node). Changing the target is a migration, nothing was written: "+
			"1. back up: with a backup service, rcgen backup on the node labelled rcgen.backup (README.md: Backups), copied into backups/ here, and step 5 is rcgen restore NAME; without one, with mongodump as README.md says, and keep .env, rcgen.yaml and secrets/ with it; "+
			"2. stop the stack, on a manager: docker stack rm %s (its volumes stay on their nodes); "+
			"3. on the host that is to run it, take nodes out of rcgen.yaml (the compose target sizes one host) and run this command again with {force:target} (rcgen keeps the secrets, and stack.yaml in %s/); "+
			"4. cd %s && docker compose up -d; "+
			"5. restore the dump by hand (rcgen restore reads only the backups of rcgen's backup service), with MongoDB's tools on the internal network: "+
			`docker run --rm -i --network %s_internal -e PW="$(grep ^MONGODB_ROOT_PASSWORD= .env | cut -d= -f2)" %s sh -c 'mongorestore --archive --gzip --drop --uri "mongodb://root:$PW@mongodb-1:27017/?replicaSet=%s&authSource=admin"' <DUMP; `+
			"then rcgen backup takes the new deployment's first backup",
		from, d.Dir, target, project, BackupDir, dir, project, catalog.BackupImage, render.ReplicaSet)}
}
