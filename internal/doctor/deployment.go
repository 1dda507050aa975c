package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kballard/go-shellquote"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// Deployment runs the checks of an existing deployment: the files rcgen
// owns as rcgen would write them (pending are the changes a re-run would
// make), the modes of its secrets, and the support status of its release.
func Deployment(d *deploy.Deployment, pending []deploy.Change, version string, now time.Time) []Result {
	return []Result{checkFiles(d, pending), checkModes(d), Release(version, d.Env[render.EnvMongoDBVersion], now), checkBackups(d, now)}
}

// Unplanned runs the checks of a deployment that need no plan, for one
// rcgen could not plan (a lost keyfile, say): its secrets, their modes,
// its backups. The files rcgen owns are not compared (nothing to compare
// them with), and the result says so.
func Unplanned(d *deploy.Deployment, now time.Time) []Result {
	return []Result{checkModes(d), checkBackups(d, now),
		{Name: "files", Status: Warn, Found: "not compared with what rcgen writes: it could not plan the stack", Do: "fix what the other checks say, then run rcgen doctor again"}}
}

// restoreSecretsAdvice says where to get lost secrets back: the newest
// backup holds .env and the keyfile (files.tar.gz), and rcgen keeps the
// versions of files it replaced in rcgen-backups/.
func restoreSecretsAdvice(d *deploy.Deployment, missing []string) string {
	var files []string
	for _, m := range missing {
		f := render.EnvFile
		if m == render.MongoKeyfile {
			f = render.MongoKeyfile
		}
		if !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	keep := fmt.Sprintf("a copy may be in %s/", filepath.Join(d.Dir, deploy.BackupDir))
	list, err := backup.List(filepath.Join(d.Dir, render.BackupsDir))
	if err != nil {
		return fmt.Sprintf("restore %s from a backup (backups/ is root's: run rcgen doctor with sudo to be told how), or %s; never generate new ones while the MongoDB volumes hold data", strings.Join(files, " and "), keep)
	}
	for _, a := range list {
		if a.Problem != "" {
			continue
		}
		m := a.Manifest
		args := append([]string{"tar", "-xzf", "-"}, files...)
		extract := shellquote.Join(args...)
		var cmd string
		switch {
		case !m.Encrypted:
			cmd = fmt.Sprintf("tar -xOf %s %s | %s", shellquote.Join(filepath.Join(render.BackupsDir, a.Name())), backup.FilesFile, extract)
		case m.Format == backup.Format:
			cmd = fmt.Sprintf("tar -xOf %s %s | openssl enc -d -%s -pbkdf2 -iter %d -md sha256 -pass env:BACKUP_PASSPHRASE | %s",
				shellquote.Join(filepath.Join(render.BackupsDir, a.Name())), backup.FilesFile+backup.EncSuffix, backup.Cipher, backup.KDFIter, extract)
		default:
			continue
		}
		with := ""
		if m.Encrypted {
			with = ", with BACKUP_PASSPHRASE exported (the passphrase it was taken with)"
		}
		return fmt.Sprintf("restore %s from the newest backup: in %s, as root%s: `%s`; or %s. Never generate new ones while the MongoDB volumes hold data",
			strings.Join(files, " and "), d.Dir, with, cmd, keep)
	}
	return fmt.Sprintf("restore %s from a copy of this deployment (none is in backups/), or %s; never generate new ones while the MongoDB volumes hold data", strings.Join(files, " and "), keep)
}

// checkBackups: a deployment with the backup service has a backup newer
// than its schedule allows (an hour more for the dump), and no restore
// left half done.
func checkBackups(d *deploy.Deployment, now time.Time) Result {
	r := Result{Name: "backups"}
	if _, err := os.Stat(filepath.Join(d.Dir, render.StackFile)); err == nil {
		if !slices.Contains(d.Compose.Services, sizing.Backup) {
			r.Status, r.Found = Warn, "a Swarm stack without a backup service"
			r.Do = "turn backups on (backup: true in rcgen.yaml), re-run `rcgen generate` and deploy; or back up with mongodump as the deployment's README.md says, and keep .env, rcgen.yaml and secrets/ with it"
			return r
		}
		r.Found = "a Swarm stack: the backups are in the volume backups on the node labelled rcgen.backup, not here (Prometheus alerts when the newest is too old); `rcgen backup list --verify` on that node checks them"
		return r
	}
	if !slices.Contains(d.Compose.Services, sizing.Backup) {
		r.Status, r.Found = Warn, "no backup service"
		r.Do = "turn backups on (backup: true in rcgen.yaml) and re-run `rcgen generate`, or back up by hand (README.md here)"
		return r
	}
	dir := filepath.Join(d.Dir, render.BackupsDir)
	if b, err := os.ReadFile(filepath.Join(dir, backup.RestoreMarker)); err == nil {
		name := strings.TrimSpace(string(b))
		r.Status, r.Found = Fail, fmt.Sprintf("a restore of %s was interrupted: the app is stopped", name)
		r.Do = fmt.Sprintf("finish it: `%s`", shellquote.Join("rcgen", "restore", name))
		if fi, err := os.Lstat(filepath.Join(dir, name)); err != nil || !fi.Mode().IsRegular() {
			r.Found += fmt.Sprintf(", and %s is no longer in %s, so it cannot be finished", name, dir)
			r.Do = strandedAdvice(d.Dir, dir)
		}
		return r
	}
	a := spec.Default()
	if d.Answers != nil {
		if got, _, err := spec.Resolve(*d.Answers); err == nil {
			a = got
		}
	}
	sch, err := spec.ParseSchedule(a.BackupSchedule)
	if err != nil {
		sch, _ = spec.ParseSchedule(spec.DefaultBackupSchedule)
	}
	list, err := backup.List(dir)
	if err != nil {
		r.Status, r.Found = Warn, fmt.Sprintf("cannot read %s: %v", dir, err)
		r.Do = "backups/ is root's (the backup service writes it): run rcgen doctor with sudo"
		return r
	}
	var good []backup.Archive
	for _, b := range list {
		if b.Problem == "" {
			good = append(good, b)
		}
	}
	if len(good) == 0 {
		r.Status, r.Found = Warn, "no backup yet"
		r.Do = fmt.Sprintf("the backup service backs up %s; `rcgen backup` takes one now", sch)
		return r
	}
	newest := good[0]
	age := now.Sub(newest.Manifest.Created).Round(time.Minute)
	r.Found = fmt.Sprintf("%d backups, the newest %s old (%s)", len(good), age, newest.Name())
	var do []string
	if age > sch.Period()+time.Hour {
		r.Status = Fail
		do = append(do, fmt.Sprintf("the schedule (%s) allows %s: docker compose logs --tail 100 backup shows why; `rcgen backup` takes one now", sch, sch.Period()))
	} else if lastRunFailed(dir) {
		r.Status = Fail
		r.Found += "; the last backup run failed"
		do = append(do, "docker compose logs --tail 100 backup shows why; `rcgen backup` takes one now and checks it")
	}
	if found, fix, status := exposed(list); status != OK {
		r.Status = max(r.Status, status)
		r.Found += "; " + found
		do = append(do, fix)
	}
	r.Do = strings.Join(do, "; ")
	return r
}

// lastRunFailed reports whether the backup service's last run failed:
// backup.sh writes 1 or 0 in backups/.last-run after each.
func lastRunFailed(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, ".last-run"))
	return err == nil && strings.TrimSpace(string(b)) == "0"
}

// exposed finds backups others than their owner can read (backup.sh
// writes them 0600; a copy or a chmod opens them): a failure when one is
// not encrypted, since it holds .env (every password) and the keyfile in
// plain text; a warning when all such are encrypted.
func exposed(list []backup.Archive) (found, fix string, status Status) {
	var plain, sealed, plainNames, sealedNames []string
	for _, a := range list {
		fi, err := os.Stat(a.Path)
		if err != nil || fi.Mode().Perm()&0o077 == 0 {
			continue
		}
		entry := fmt.Sprintf("%s (%04o)", a.Name(), fi.Mode().Perm())
		if a.Problem == "" && a.Manifest.Encrypted {
			sealed, sealedNames = append(sealed, entry), append(sealedNames, a.Name())
		} else {
			plain, plainNames = append(plain, entry), append(plainNames, a.Name())
		}
	}
	switch {
	case len(plain) > 0:
		return "readable by others, unencrypted (they hold .env and the keyfile in plain text): " + strings.Join(plain, ", "),
			fmt.Sprintf("chmod 600 them (in backups/: chmod 600 %s), and encrypt backups with a passphrase (`rcgen generate --backup-passphrase-file FILE`, then `docker compose up -d`)", shellquote.Join(plainNames...)), Fail
	case len(sealed) > 0:
		return "readable by others (encrypted): " + strings.Join(sealed, ", "),
			fmt.Sprintf("chmod 600 them (in backups/: chmod 600 %s)", shellquote.Join(sealedNames...)), Warn
	}
	return "", "", OK
}

// strandedAdvice says what to do when the restore mark in backups names
// a backup whose file is gone.
func strandedAdvice(deployment, backups string) string {
	marker := filepath.Join(backups, backup.RestoreMarker)
	restore := "restore another backup by name (`rcgen backup list` shows them)"
	if list, err := backup.List(backups); err == nil {
		for _, a := range list {
			if a.Problem == "" && a.Manifest.Label == "pre-restore" {
				restore = fmt.Sprintf("restore another backup by name: `%s` puts back the database as it was before that restore (`rcgen backup list` shows the others)", shellquote.Join("rcgen", "restore", a.Name()))
				break
			}
		}
	}
	return fmt.Sprintf("%s; or, once you know the database is as you want it, remove the mark and start the app: `rm %s && (cd %s && docker compose up -d)`",
		restore, shellquote.Join(marker), shellquote.Join(deployment))
}

func checkFiles(d *deploy.Deployment, pending []deploy.Change) Result {
	r := Result{Name: "files", Found: "every file rcgen owns is as rcgen writes it"}
	if len(pending) == 0 {
		return r
	}
	var names []string
	for _, c := range pending {
		names = append(names, c.Path)
	}
	r.Status = Warn
	r.Found = "differ from what rcgen writes for these answers: " + strings.Join(names, ", ")
	r.Do = fmt.Sprintf("edited by hand, or a re-run would change them: a dry run of rcgen generate on %s shows the diff (hand edits are overwritten)", d.Dir)
	return r
}

// checkModes: the secrets must be there, and readable by their owner
// only.
func checkModes(d *deploy.Deployment) Result {
	r := Result{Name: "secrets", Found: "readable by their owner only"}
	if missing := render.SecretsFrom(d.Env, d.Keyfile).MissingMongoDB(); d.Exists() && len(missing) > 0 {
		r.Status, r.Found = Fail, "missing: "+strings.Join(missing, ", ")+" (MongoDB keeps the passwords and the keyfile its data was created with; without them the stack does not start)"
		r.Do = restoreSecretsAdvice(d, missing)
		return r
	}
	var open []string
	for _, rel := range []string{render.EnvFile, render.MongoKeyfile, render.TLSKeyFile} {
		fi, err := os.Stat(filepath.Join(d.Dir, filepath.FromSlash(rel)))
		if err != nil {
			continue
		}
		if fi.Mode().Perm()&0o077 != 0 {
			open = append(open, fmt.Sprintf("%s (%04o)", rel, fi.Mode().Perm()))
		}
	}
	if len(open) > 0 {
		r.Status, r.Found = Fail, "readable by others: "+strings.Join(open, ", ")
		r.Do = "chmod 600 them (a re-run of rcgen generate does it too)"
	}
	return r
}

// Release checks the deployment's release by the rule generate and
// upgrade apply (catalog.Deployable), then its support on day now: a
// warning from catalog.EndingSoonDays before its end, a failure after,
// each with the date and the way on (SupportWarning; mongo is what the
// deployment's MongoDB runs). A release rcgen does not deploy is never
// called supported.
func Release(version, mongo string, now time.Time) Result {
	r := Result{Name: "release"}
	rel, err := catalog.Deployable(version)
	if err != nil {
		r.Status, r.Found = Warn, err.Error()
		r.Do = "a re-run of rcgen generate refuses it until rocketchat_version in rcgen.yaml names one"
		return r
	}
	r.Found = fmt.Sprintf("Rocket.Chat %s, supported to %s", version, rel.EndOfSupport)
	switch rel.SupportOn(now) {
	case catalog.EndingSoon:
		r.Status, r.Do = Warn, SupportWarning(version, mongo, false, now)
	case catalog.Unsupported:
		r.Status, r.Do = Fail, SupportWarning(version, mongo, false, now)
	}
	return r
}
