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
	return []Result{checkFiles(d, pending), checkModes(d), Release(version, now), checkBackups(d, now)}
}

// checkBackups: a deployment with the backup service has a backup newer
// than its schedule allows (an hour more for the dump), and no restore
// left half done.
func checkBackups(d *deploy.Deployment, now time.Time) Result {
	r := Result{Name: "backups"}
	if _, err := os.Stat(filepath.Join(d.Dir, render.StackFile)); err == nil {
		r.Status, r.Found = Warn, "a Swarm stack: no backup service on Swarm yet"
		r.Do = "back up with mongodump as the deployment's README.md says, and keep .env, rcgen.yaml and secrets/ with it"
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
	if age > sch.Period()+time.Hour {
		r.Status = Fail
		r.Do = fmt.Sprintf("the schedule (%s) allows %s: docker compose logs --tail 100 backup shows why; `rcgen backup` takes one now", sch, sch.Period())
	}
	return r
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

// checkModes: the secrets must be readable by their owner only.
func checkModes(d *deploy.Deployment) Result {
	r := Result{Name: "secrets", Found: "readable by their owner only"}
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
// release rcgen does not deploy is never called supported.
func Release(version string, now time.Time) Result {
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
		r.Status, r.Do = Warn, rel.SupportNote(now)
	case catalog.Unsupported:
		r.Status, r.Do = Fail, rel.SupportNote(now)
	}
	return r
}
