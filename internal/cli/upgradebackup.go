package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
)

// backUp is an upgrade's first step: a backup through the backup service,
// read back before anything changes. The file the service names must be
// there, a backup of this deployment under that name, whole (its manifest,
// each member's size and checksum: backup.Verify) and, encrypted, sealed
// with .env's passphrase (backup.Authenticate): the backup a restore would
// need if a step goes wrong. Anything less stops the upgrade, unless
// --force=no-backup says to go on without one.
func (o *upgradeOptions) backUp(ctx context.Context) error {
	stderr := o.Env.IO.ErrOut
	if !o.has(sizing.Backup) {
		fmt.Fprintf(stderr, "No backup service: skipped (--force=%s).\n", keyNoBackup)
		return nil
	}
	name, err := o.stack().Backup(ctx, "pre-upgrade")
	if err != nil {
		return o.withoutBackup(fmt.Errorf("the backup service did not take the pre-upgrade backup: %w", err))
	}
	path := filepath.Join(o.backupsDir(), name)
	m, err := o.checkBackup(path, name)
	if err != nil {
		return o.withoutBackup(err)
	}
	fmt.Fprintf(stderr, "Backed up to %s (Rocket.Chat %s, MongoDB %s, %d users), checked.\n", path, m.RocketChatVersion, m.MongoDBVersion, m.Counts.Users)
	return nil
}

// withoutBackup stops the upgrade for err, or with --force=no-backup says
// what is missing and goes on.
func (o *upgradeOptions) withoutBackup(err error) error {
	if o.force.Has(keyNoBackup) {
		fmt.Fprintf(o.Env.IO.ErrOut, "Warning: %v; going on without a checked backup (--force=%s).\n", err, keyNoBackup)
		return nil
	}
	logs := "docker compose logs backup"
	if o.swarm() {
		logs = "docker service logs " + o.project() + "_backup"
	}
	return fmt.Errorf("%w; the upgrade stopped before it changed anything: find out why (%s; rcgen backup takes a backup and checks it), "+
		"then run rcgen upgrade --to %s again; or, with a backup of your own, give --force=%s", err, logs, o.To, keyNoBackup)
}

// checkBackup reads back the backup the service says it wrote at path.
func (o *upgradeOptions) checkBackup(path, name string) (backup.Manifest, error) {
	m, err := backup.Verify(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return m, fmt.Errorf("the backup service answered that it wrote %s, and there is no such file", path)
	case errors.Is(err, fs.ErrPermission):
		return m, fmt.Errorf("the backup service answered that it wrote %s, and rcgen cannot read it to check it (%v): %s belongs to root, as the backup service writes it; run rcgen upgrade with sudo", path, err, o.backupsDir())
	case err != nil:
		return m, fmt.Errorf("the pre-upgrade backup %s does not check out: %s", path, withoutRestoreAdvice(err))
	}
	if m.Name+".tar" != name && m.Name != name {
		return m, fmt.Errorf("the pre-upgrade backup %s says it is %s: not the backup the service was asked for", path, m.Name)
	}
	if id := o.d.Env[render.EnvDeploymentID]; m.Project != o.project() || id != "" && m.DeploymentID != id {
		return m, fmt.Errorf("the pre-upgrade backup %s is of another deployment (project %q, id %q; this one is %q, id %q)", path, m.Project, m.DeploymentID, o.project(), id)
	}
	if !m.Encrypted {
		return m, nil
	}
	pass := o.d.Env[render.EnvBackupPassphrase]
	if pass == "" {
		return m, fmt.Errorf("the pre-upgrade backup %s is encrypted, and .env holds no %s: nothing here could restore it (the backup service runs with a passphrase .env lost: put it back into .env, then docker compose up -d)", path, render.EnvBackupPassphrase)
	}
	if err := backup.Authenticate(path, m, pass); err != nil {
		if errors.Is(err, backup.ErrWrongPassphrase) {
			return m, fmt.Errorf("the pre-upgrade backup %s: %w: the backup service runs with another passphrase than .env's (docker compose up -d gives it .env's), and a restore with this .env would refuse it", path, err)
		}
		return m, fmt.Errorf("the pre-upgrade backup %s does not check out: %s", path, withoutRestoreAdvice(err))
	}
	return m, nil
}

// withoutRestoreAdvice is what backup.Verify and backup.Authenticate found,
// without the advice they give for a restore ("restore another backup",
// "give a file from a deployment's backups/ directory"), which says
// nothing to an upgrade: the file is the one its backup service wrote.
func withoutRestoreAdvice(err error) string {
	msg := err.Error()
	for _, advice := range []string{": take another backup, or restore an older one", ": restore another backup"} {
		msg = strings.TrimSuffix(msg, advice)
	}
	return strings.Replace(msg, ": give a file from a deployment's backups/ directory)", ")", 1)
}
