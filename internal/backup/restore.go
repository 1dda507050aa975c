package backup

import (
	"fmt"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/rcgen/rcgen/internal/catalog"
)

// Target is the deployment a backup would be restored into.
type Target struct {
	Project      string
	DeploymentID string
	// RocketChat and MongoDB are what it runs (.env).
	RocketChat, MongoDB string
	// Passphrase reports whether its .env has BACKUP_PASSPHRASE.
	Passphrase bool
}

// Mode is how a backup is restored.
type Mode string

// Restore modes: the deployment's own backup is restored whole, with its
// oplog (one point in time, the users it was taken with, which are this
// deployment's); another deployment's, only Rocket.Chat's database
// (mongorestore cannot replay an oplog into part of a dump).
const (
	Full     Mode = "full"
	Database Mode = "database"
)

// KeyOtherDeployment names the confirmation that a backup of another
// deployment is restored.
const KeyOtherDeployment = "other-deployment"

// RefusedError is a restore rcgen refuses; Override names what confirms it
// ("" when nothing may).
type RefusedError struct {
	Msg      string
	Override string
}

func (e *RefusedError) Error() string { return e.Msg }

// Check decides whether m may be restored into t, and how.
// KeyUnencrypted names the confirmation that an unencrypted backup is
// restored into a deployment that encrypts its backups.
const KeyUnencrypted = "unencrypted-backup"

// Confirmed are the confirmations (--force names) a restore was given.
type Confirmed struct {
	// OtherDeployment: a backup of another deployment (KeyOtherDeployment).
	OtherDeployment bool
	// Unencrypted: an unencrypted backup where backups are encrypted
	// (KeyUnencrypted).
	Unencrypted bool
}

func Check(m Manifest, t Target, confirmed Confirmed) (Mode, error) {
	rv, err1 := semver.NewVersion(m.RocketChatVersion)
	tv, err2 := semver.NewVersion(t.RocketChat)
	if err1 != nil || err2 != nil {
		return "", &RefusedError{Msg: fmt.Sprintf("the backup says Rocket.Chat %q and the deployment runs %q: rcgen cannot compare them", m.RocketChatVersion, t.RocketChat)}
	}
	if rv.GreaterThan(tv) {
		return "", &RefusedError{Msg: fmt.Sprintf("the backup was taken with Rocket.Chat %s, newer than the %s this deployment runs, which cannot run on a database a newer release migrated: upgrade this deployment first (`rcgen upgrade --to %s`)", rv, tv, rv)}
	}
	if err := checkMongoDB(m.MongoDBVersion, t.MongoDB); err != nil {
		return "", err
	}
	// A deployment with a passphrase writes only encrypted, authenticated
	// backups. An unencrypted one carries no MAC: nothing shows that this
	// deployment's backup service wrote it, and anyone who can write to
	// backups/ can forge one (its users, its settings, its integrations'
	// scripts), so it is taken only on the operator's word.
	if !m.Encrypted && t.Passphrase && !confirmed.Unencrypted {
		return "", &RefusedError{Override: KeyUnencrypted, Msg: "the backup is not encrypted, and this deployment encrypts its backups (BACKUP_PASSPHRASE in .env), so its backup service did not write it as it is: " +
			"an unencrypted backup carries no MAC, and anyone who can write to backups/ could have put it there; restore it only if you know where it comes from (an older backup from before the passphrase, a copy you made), and confirm it"}
	}
	if m.Encrypted && !t.Passphrase {
		return "", &RefusedError{Msg: "the backup is encrypted, and this deployment's .env has no BACKUP_PASSPHRASE: give rcgen generate the passphrase it was taken with ({backup_passphrase}), then docker compose up -d"}
	}
	if m.Project == t.Project && m.DeploymentID != "" && m.DeploymentID == t.DeploymentID {
		return Full, nil
	}
	if !confirmed.OtherDeployment {
		return "", &RefusedError{Override: KeyOtherDeployment, Msg: fmt.Sprintf(
			"the backup is of another deployment (project %q, id %q, taken %s), and this one is project %q, id %q: to move that deployment's data here, confirm it; "+
				"Rocket.Chat's database is then replaced by the backup's, and this deployment keeps its own users and passwords",
			m.Project, m.DeploymentID, m.Created.Format(time.RFC3339), t.Project, t.DeploymentID)}
	}
	return Database, nil
}

// checkMongoDB refuses a backup from a newer MongoDB series (major.minor,
// the feature compatibility version) than the deployment runs, compared
// as numbers: 99.0 is newer than 8.0, and 8.10 than 8.2. A version that
// does not parse is refused: rcgen cannot say the data is readable.
func checkMongoDB(backup, target string) error {
	bv, err1 := mongoVersion(backup)
	tv, err2 := mongoVersion(target)
	if err1 != nil {
		return &RefusedError{Msg: fmt.Sprintf("the backup says MongoDB %q, which is not a MongoDB version (like 8.0.32-ubi9): rcgen cannot tell whether this deployment's MongoDB reads its data; restore another backup", backup)}
	}
	if err2 != nil {
		return &RefusedError{Msg: fmt.Sprintf("this deployment's .env says MongoDB %q (MONGODB_VERSION), which is not a MongoDB version: re-run rcgen generate to write it again", target)}
	}
	if bv.Major() > tv.Major() || bv.Major() == tv.Major() && bv.Minor() > tv.Minor() {
		bs, ts := catalog.FeatureOf(backup), catalog.FeatureOf(target)
		return &RefusedError{Msg: fmt.Sprintf("the backup was taken from MongoDB %s, newer than the %s this deployment runs: its data may use what %s cannot read; upgrade this deployment first (rcgen upgrade)", bs, ts, ts)}
	}
	return nil
}

// mongoVersion parses a MongoDB image tag: major.minor.patch, then
// perhaps -ubi9, -ubi9-slim (Masterminds/semver takes them for a
// pre-release, which the series comparison ignores).
func mongoVersion(tag string) (*semver.Version, error) { return semver.StrictNewVersion(tag) }

// CheckCounts compares what a restore left with the manifest.
func CheckCounts(m Manifest, got Counts) error {
	if got != m.Counts {
		return fmt.Errorf("the restored database has %d collections and %d users, and the backup's manifest says %d and %d", got.Collections, got.Users, m.Counts.Collections, m.Counts.Users)
	}
	return nil
}
