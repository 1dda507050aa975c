package generate

import (
	"path/filepath"
	"slices"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
)

// KeptPassphrases returns the earlier backup passphrases of d that a
// backup in its backups/ still needs, once current is the passphrase:
// its BACKUP_PASSPHRASE (when current replaces it) first, then its
// BACKUP_PASSPHRASE_1... A passphrase no backup needs goes; when
// backups/ cannot be read (it is root's, and rcgen runs as another
// user), every one is kept: rcgen cannot tell, and never loses a secret.
func KeptPassphrases(d *deploy.Deployment, current string) []string {
	var earlier []string
	for _, p := range append([]string{d.Env[render.EnvBackupPassphrase]}, render.OldBackupPassphrases(d.Env)...) {
		if p != "" && p != current && !slices.Contains(earlier, p) {
			earlier = append(earlier, p)
		}
	}
	if len(earlier) == 0 {
		return nil
	}
	opened, err := backup.Opened(filepath.Join(d.Dir, render.BackupsDir), earlier)
	if err != nil {
		return earlier
	}
	var keep []string
	for i, p := range earlier {
		if len(opened[i]) > 0 {
			keep = append(keep, p)
		}
	}
	return keep
}
