package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"
	"github.com/kballard/go-shellquote"
	"github.com/spf13/cobra"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
	"github.com/rcgen/rcgen/internal/stack"
)

// BackupListJSONVersion is the version of `rcgen backup list --json`.
const BackupListJSONVersion = 1

func newBackupCmd(env Env) *cobra.Command {
	o := &dayTwo{Env: env, command: "backup"}
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Take a backup of a deployment now (see also: backup list, restore)",
		Long: `Take a backup now through the deployment's backup service: a consistent dump
of the MongoDB replica set (mongodump --oplog) with .env, rcgen.yaml, the
keyfile, the uploads and Caddy's certificates, in one file in backups/ with a
manifest of checksums, versions and counts, encrypted when BACKUP_PASSPHRASE
is set. rcgen checks the file once it is written. Backups taken this way are
never deleted by the schedule's rotation.

On Docker Swarm the backups are in the volume backups on the node labelled
rcgen.backup, and rcgen reaches the backup service with docker exec, which
sees only the containers of the node Docker runs on: run it there (README.md
of the deployment: Backups).

The backup's path is the result, alone on standard output (for scripts:
path=$(rcgen backup)); what it holds and the commands run go to standard
error.`,
		Example: `  rcgen backup
  rcgen backup --dir /srv/rocketchat
  rcgen backup list`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer o.close()
			if err := o.open(); err != nil {
				return err
			}
			if err := o.needBackupService(); err != nil {
				return err
			}
			if err := o.locateBackups(cmd.Context()); err != nil {
				return err
			}
			name, err := o.stack().Backup(cmd.Context(), "manual")
			if err != nil {
				return err
			}
			path := filepath.Join(o.backupsDir(), name)
			m, err := backup.Verify(path)
			if err != nil {
				return fmt.Errorf("the backup service wrote %s, but it does not check out: %w", path, err)
			}
			if pass := o.d.Env[render.EnvBackupPassphrase]; m.Encrypted && pass != "" {
				if err := backup.Authenticate(path, m, pass); err != nil {
					if errors.Is(err, backup.ErrWrongPassphrase) {
						return fmt.Errorf("the backup service wrote %s, but %w: the service runs with another passphrase than .env's (%s gives it .env's), and a restore with this .env would refuse the backup", path, err, o.applyCommand())
					}
					return fmt.Errorf("the backup service wrote %s, but it does not check out: %w", path, err)
				}
			}
			fmt.Fprintln(env.IO.Out, path)
			off := fmt.Sprintf("Copy it off this %s.", map[bool]string{false: "server", true: "node"}[o.swarm()])
			if o.has(stack.OffsiteService) {
				off = "backup-offsite copies it to the offsite target within a minute (rcgen backup list shows it there)."
			}
			fmt.Fprintf(env.IO.ErrOut, "Backed up: Rocket.Chat %s on MongoDB %s, %d collections, %d users, %s%s, checked. %s\n",
				m.RocketChatVersion, m.MongoDBVersion, m.Counts.Collections, m.Counts.Users, sizeOf(path), encryptedNote(m), off)
			return nil
		},
	}
	o.bindDir(cmd.Flags())
	o.Wait = time.Minute
	cmd.AddCommand(newBackupListCmd(env))
	return cmd
}

func encryptedNote(m backup.Manifest) string {
	if m.Encrypted {
		return ", encrypted"
	}
	return ""
}

func sizeOf(path string) string {
	if fi, err := os.Stat(path); err == nil {
		return humanSize(fi.Size())
	}
	return "?"
}

// humanSize is a backup's size: backups range from kilobytes to gigabytes.
func humanSize(n int64) string { return units.BytesSize(float64(n)) }

func newBackupListCmd(env Env) *cobra.Command {
	o := &dayTwo{Env: env, command: "backup list"}
	var asJSON, verify bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a deployment's backups, newest first",
		Long: `List the backups in the deployment's backups/ directory, newest first, from
their manifests: when, which Rocket.Chat and MongoDB, counts, size, whether
encrypted. --verify also reads each file whole and checks its checksums.
Needs no Docker on one host; on Docker Swarm the backups are the volume
backups on the node labelled rcgen.backup, which docker volume inspect finds:
run it there. For a deployment with an offsite target (--backup-target),
its copies there are listed too, through the running backup-offsite
service (an OFFSITE column, and the copies found only there, which rcgen
restore fetches back).`,
		Example: `  rcgen backup list
  rcgen backup list --verify
  rcgen backup list --json | jq -r '.backups[0].name'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.checkDir(); err != nil {
				return err
			}
			dir := o.Dir
			backups := filepath.Join(dir, render.BackupsDir)
			if _, err := os.Stat(filepath.Join(dir, spec.FileName)); err != nil {
				return usage(fmt.Errorf("%s: %s holds no deployment rcgen wrote (no %s): give the directory rcgen generate wrote", o.dir.Name(), dir, spec.FileName))
			}
			if d, err := deploy.Open(dir); err == nil {
				o.d = d
				if o.swarm() && o.has(sizing.Backup) {
					v, err := o.stack().Volume(cmd.Context(), "backups")
					if err != nil {
						return fmt.Errorf("%w; docker node ls --filter node.label=rcgen.backup names that node", err)
					}
					backups = v
				}
			}
			list, err := backup.List(backups)
			if err != nil {
				if errors.Is(err, os.ErrPermission) {
					return fmt.Errorf("%w: backups/ belongs to root (the backup service writes it): run rcgen with sudo", err)
				}
				return err
			}
			if verify {
				for i := range list {
					if list[i].Problem == "" {
						if _, err := backup.Verify(list[i].Path); err != nil {
							list[i].Problem = err.Error()
						}
					}
				}
			}
			opens := whichPassphrase(dir, list)
			off := offsiteCopies(cmd.Context(), env, dir)
			if off != nil && off.err != nil {
				fmt.Fprintf(env.IO.ErrOut, "Warning: the copies at the offsite target are not listed: %v (is the stack running? docker compose ps %s)\n", off.err, stack.OffsiteService)
			}
			if asJSON {
				return writeBackupsJSON(env.IO.Out, list, opens, off)
			}
			if len(list) == 0 && (off == nil || len(off.copies) == 0) {
				where, _ := filepath.Abs(backups)
				if d, err := deploy.Open(dir); err == nil && !slices.Contains(d.Compose.Services, sizing.Backup) {
					fmt.Fprintf(env.IO.Out, "No backups in %s: %s.\n", where, (&dayTwo{d: d}).needBackupService())
					return nil
				}
				take := "rcgen backup"
				if o.dir.Changed() {
					take += " " + o.dir.Name() + " " + shellArg(dir)
				}
				fmt.Fprintf(env.IO.Out, "No backups yet in %s: take one now with %s (the stack must be running); the backup service also takes them on its schedule.\n", where, take)
				return nil
			}
			return writeBackups(env.IO.Out, list, verify, opens, off)
		},
	}
	f := cmd.Flags()
	o.bindDir(f)
	f.BoolVar(&asJSON, "json", false, "print the list as JSON")
	f.BoolVar(&verify, "verify", false, "read every backup whole and check its checksums")
	return cmd
}

type backupJSON struct {
	Name     string           `json:"name"`
	Path     string           `json:"path"`
	Size     int64            `json:"size_bytes"`
	Manifest *backup.Manifest `json:"manifest,omitempty"`
	// Passphrase is the .env key whose passphrase opens it, when .env
	// keeps earlier ones ("" when none does).
	Passphrase string `json:"passphrase,omitempty"`
	Problem    string `json:"problem,omitempty"`
	// Offsite tells whether the offsite target holds a copy of it (the
	// same size), when there is a target and it was listed.
	Offsite *bool `json:"offsite,omitempty"`
}

// whichPassphrase tells, when the deployment's .env keeps earlier backup
// passphrases, which one opens each encrypted backup in list (by name;
// "" when none does). With one passphrase it tells nothing: each answer
// costs a key derivation.
func whichPassphrase(dir string, list []backup.Archive) map[string]string {
	d, err := deploy.Open(dir)
	if err != nil {
		return nil
	}
	keys := passphraseKeys(d.Env)
	if len(keys) < 2 {
		return nil
	}
	out := map[string]string{}
	for _, a := range list {
		if a.Problem != "" || !a.Manifest.Encrypted {
			continue
		}
		out[a.Name()] = ""
		for _, k := range keys {
			if ok, err := backup.Opens(a.Path, a.Manifest, k.Passphrase); err == nil && ok {
				out[a.Name()] = k.Name
				break
			}
		}
	}
	return out
}

// offsiteView is what the offsite target holds, as backup-offsite listed
// it (err: it could not).
type offsiteView struct {
	copies []stack.OffsiteCopy
	err    error
}

// has reports whether the target holds name at size.
func (o *offsiteView) has(name string, size int64) bool {
	return slices.Contains(o.copies, stack.OffsiteCopy{Name: name, Size: size})
}

// only lists the copies the target holds that backups/ lacks, newest first.
func (o *offsiteView) only(list []backup.Archive) []stack.OffsiteCopy {
	var out []stack.OffsiteCopy
	for _, c := range o.copies {
		if !slices.ContainsFunc(list, func(a backup.Archive) bool { return a.Name() == c.Name }) {
			out = append(out, c)
		}
	}
	slices.Reverse(out)
	return out
}

// offsiteCopies lists the offsite copies of the deployment in dir, when
// it has an offsite target (nil when it has none).
func offsiteCopies(ctx context.Context, env Env, dir string) *offsiteView {
	d, err := deploy.Open(dir)
	if err != nil || !slices.Contains(d.Compose.Services, stack.OffsiteService) {
		return nil
	}
	run := env.Docker
	if run == nil {
		run = stack.Docker
	}
	copies, err := stack.Stack{Dir: dir, Run: run}.OffsiteList(ctx)
	return &offsiteView{copies: copies, err: err}
}

func writeBackupsJSON(w io.Writer, list []backup.Archive, opens map[string]string, off *offsiteView) error {
	type offsiteJSON struct {
		// Listed is false when backup-offsite could not list them (Error).
		Listed bool                `json:"listed"`
		Error  string              `json:"error,omitempty"`
		Copies []stack.OffsiteCopy `json:"copies"`
	}
	out := struct {
		Version int          `json:"version"`
		Backups []backupJSON `json:"backups"`
		// Offsite is the offsite target's copies, when there is one.
		Offsite *offsiteJSON `json:"offsite,omitempty"`
	}{Version: BackupListJSONVersion, Backups: []backupJSON{}}
	if off != nil {
		out.Offsite = &offsiteJSON{Listed: off.err == nil, Copies: slices.Clone(off.copies)}
		if off.err != nil {
			out.Offsite.Error = off.err.Error()
		}
		if out.Offsite.Copies == nil {
			out.Offsite.Copies = []stack.OffsiteCopy{}
		}
	}
	for _, a := range list {
		j := backupJSON{Name: a.Name(), Path: a.Path, Size: a.Size, Problem: a.Problem, Passphrase: opens[a.Name()]}
		if off != nil && off.err == nil {
			copied := off.has(a.Name(), a.Size)
			j.Offsite = &copied
		}
		if a.Problem == "" {
			m := a.Manifest
			j.Manifest = &m
		}
		out.Backups = append(out.Backups, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeBackups(w io.Writer, list []backup.Archive, verified bool, opens map[string]string, off *offsiteView) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	state := "OK"
	if verified {
		state = "CHECKED"
	}
	// offsite is the OFFSITE column of a backup, when there is a target.
	offsite := func(a backup.Archive) string {
		switch {
		case off == nil:
			return ""
		case off.err != nil:
			return "\t?"
		case off.has(a.Name(), a.Size):
			return "\tyes"
		}
		return "\tno"
	}
	head := ""
	if off != nil {
		head = "\tOFFSITE"
	}
	fmt.Fprintf(tw, "NAME\tTAKEN (UTC)\tROCKET.CHAT\tMONGODB\tUSERS\tSIZE\tENCRYPTED\t%s%s\n", state, head)
	for _, a := range list {
		if a.Problem != "" {
			fmt.Fprintf(tw, "%s\t\t\t\t\t%s\t\tno: %s%s\n", a.Name(), humanSize(a.Size), a.Problem, offsite(a))
			continue
		}
		m := a.Manifest
		enc := "no"
		if m.Encrypted {
			enc = "yes"
			if k, ok := opens[a.Name()]; ok {
				enc = "yes, " + cmp.Or(k, "no passphrase in .env opens it")
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\tyes%s\n", a.Name(), m.Created.UTC().Format("2006-01-02 15:04"), m.RocketChatVersion,
			m.MongoDBVersion, m.Counts.Users, humanSize(a.Size), enc, offsite(a))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if off == nil || off.err != nil {
		return nil
	}
	if only := off.only(list); len(only) > 0 {
		fmt.Fprintf(w, "\nAt the offsite target only (rcgen restore NAME fetches one into backups/ and checks it):\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSIZE")
		for _, c := range only {
			fmt.Fprintf(tw, "%s\t%s\n", c.Name, humanSize(c.Size))
		}
		return tw.Flush()
	}
	return nil
}

type restoreOptions struct {
	dayTwo
	Yes     bool
	NoInput bool
	force   forceSet
}

func newRestoreCmd(env Env) *cobra.Command {
	o := &restoreOptions{dayTwo: dayTwo{Env: env, command: "restore"}}
	cmd := &cobra.Command{
		Use:   "restore BACKUP",
		Short: "Restore a backup into a deployment: stop the app, restore, check, start it",
		Long: `Restore a backup (a file in backups/, by name or path; a file from elsewhere is
copied into backups/ first; a name found only at the offsite target,
--backup-target, is fetched into backups/ by the backup-offsite service,
which checks its size and MD5 there) into the deployment's MongoDB replica set.

Before anything stops, rcgen checks the file whole against its manifest's
checksums (each member's size against the manifest and the file first: a
sparse or forged member is refused unread), that it holds regular files
only, named as the backup service names them, and, when it is encrypted,
its authentication code with the passphrase in .env that opens it (the
current one, or an earlier one .env keeps while backups need it; a changed
or cut backup and a wrong passphrase are refused, and told apart). It reads
the files the restore would extract (the uploads) and refuses an absolute
path, a path climbing out with .., a link or a device among them. It refuses
a backup from a newer Rocket.Chat or MongoDB than the deployment runs, an
encrypted one without the passphrase, an unencrypted one where backups are
encrypted (nothing shows who wrote it) unless --force=unencrypted-backup
names it, and one of another deployment unless
--force=other-deployment names it (then only Rocket.Chat's database is
restored; this deployment keeps its own users and passwords).

Then it takes a backup of the database as it is (pre-restore), stops the app
processes, replaces Rocket.Chat's database with the backup's (the whole dump
with its oplog, for the deployment's own backup), restores the uploads
volume, compares the collections and users with the manifest, and starts the
app again. An interrupted restore is marked in backups/: the app stays
stopped, no scheduled backup runs, and the same command finishes it (when
that backup's file is gone, restoring another one replaces it). A copy
into backups/ interrupted by Ctrl-C is removed; one a killed run left is
replaced by the next.`,
		Example: `  rcgen backup list
  rcgen restore rocketchat-20261124T030000Z.tar
  rcgen restore /mnt/offsite/rocketchat-20261124T030000Z.tar --yes
  rcgen restore old-server.tar --force=other-deployment   # move a deployment here`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usage(fmt.Errorf("rcgen restore takes one backup (a name in backups/ or a path), and got %d arguments: rcgen backup list shows them", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			defer o.close()
			return o.run(cmd.Context(), args[0])
		},
	}
	f := cmd.Flags()
	o.bind(f)
	f.BoolVarP(&o.Yes, "yes", "y", false, "restore without asking (the app is stopped meanwhile)")
	f.BoolVar(&o.NoInput, "no-input", false, "never ask (as RCGEN_NO_INPUT=1); without --yes nothing is restored")
	bindForceFlag(f, &o.force, "--force=other-deployment: restore a backup of another deployment (its database only); --force=unencrypted-backup: restore an unencrypted backup where backups are encrypted", keyOtherDeployment, backup.KeyUnencrypted)
	cmd.ValidArgsFunction = o.backupCompletion
	return cmd
}

// restoreCommand is the command that restores the backup name, quoted
// for the shell so that it runs as printed.
func restoreCommand(name string) string {
	return shellquote.Join("rcgen", "restore", name)
}

func (o *restoreOptions) run(ctx context.Context, arg string) error {
	if err := o.open(); err != nil {
		return err
	}
	if err := o.needBackupService(); err != nil {
		return err
	}
	if err := o.locateBackups(ctx); err != nil {
		return err
	}
	stderr := o.Env.IO.ErrOut
	marker := filepath.Join(o.backupsDir(), backup.RestoreMarker)
	marked := ""
	if b, err := os.ReadFile(marker); err == nil {
		marked = strings.TrimSpace(string(b))
	}
	// The mark names a backup whose file is gone: it can never be
	// finished, and the app stays stopped until the user does something.
	stranded := marked != "" && !fileExists(filepath.Join(o.backupsDir(), marked))
	if stranded && (arg == marked || filepath.Base(arg) == marked && !fileExists(arg)) {
		return usage(fmt.Errorf("a restore of %s was interrupted, and %s is no longer in %s (deleted or moved), so it cannot be finished: the database may hold part of it and the app is stopped. %s", marked, marked, o.backupsDir(), o.strandedAdvice()))
	}
	name, path, copyTo, err := o.locate(ctx, arg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Checking %s...\n", path)
	m, err := backup.Verify(path)
	if err != nil {
		return usage(fmt.Errorf("%w; nothing was changed", err))
	}
	// An encrypted backup's MAC (and so the passphrase) before its
	// manifest is believed, and before anything stops: each passphrase
	// .env keeps (the current one, then the earlier ones).
	keys := passphraseKeys(o.d.Env)
	var key backup.Key
	if m.Encrypted && len(keys) > 0 {
		key, err = backup.Unlock(path, m, keys)
		if err != nil {
			do := "restore another backup"
			if errors.Is(err, backup.ErrWrongPassphrase) {
				do = "give rcgen generate the passphrase it was taken with (--backup-passphrase-file; the one it replaces is kept while backups need it), then " + o.applyCommand() + "; or restore another backup"
			}
			return usage(fmt.Errorf("%w: %s; nothing was changed", err, do))
		}
		if key.Name != render.EnvBackupPassphrase {
			fmt.Fprintf(stderr, "%s opens with %s in .env, an earlier passphrase.\n", name, key.Name)
		}
		if m.Format == backup.FormatV1 {
			fmt.Fprintf(stderr, "%s is a format 1 backup: encrypted without authentication, so rcgen checked its checksums and that the passphrase opens it, not that it is as it was written.\n", name)
		}
	}
	// What the restore would extract, read here before anything stops:
	// the container checks it again, after the app is stopped.
	if !m.Encrypted || key.Passphrase != "" {
		if err := backup.CheckContents(path, m, key.Passphrase); err != nil {
			return usage(fmt.Errorf("%w; nothing was changed", err))
		}
	}
	target := backup.Target{Project: o.project(), DeploymentID: o.d.Env[render.EnvDeploymentID],
		RocketChat: o.d.Env[render.EnvRocketChatVersion], MongoDB: o.d.Env[render.EnvMongoDBVersion],
		Passphrase: len(keys) > 0}
	mode, err := backup.Check(m, target, backup.Confirmed{OtherDeployment: o.force.Has(backup.KeyOtherDeployment), Unencrypted: o.force.Has(backup.KeyUnencrypted)})
	var refused *backup.RefusedError
	if errors.As(err, &refused) {
		refused.Msg = strings.ReplaceAll(refused.Msg, "{backup_passphrase}", "--backup-passphrase-file")
		if refused.Override != "" {
			return usage(fmt.Errorf("%s: %w (--force=%s); nothing was changed", name, err, refused.Override))
		}
		return usage(fmt.Errorf("%s: %w; nothing was changed", name, err))
	}
	resuming := false
	switch {
	case marked == "":
	case stranded:
		// Its pre-restore backup was taken before it; the backup service
		// takes none while the mark is there, and the database is as the
		// interrupted restore left it: this restore replaces it whole.
		resuming = true
		fmt.Fprintf(stderr, "The restore of %s was interrupted and its file is gone: restoring %s in its place.\n", marked, name)
	case marked != name:
		return usage(fmt.Errorf("a restore of %s was interrupted (%s): the database may hold part of it and the app is stopped; finish that one first (%s), or remove %s once you know the database is as you want it", marked, marker, restoreCommand(marked), marker))
	default:
		resuming = true
		fmt.Fprintf(stderr, "Finishing the interrupted restore of %s.\n", name)
	}
	fmt.Fprintf(stderr, "%s: taken %s with Rocket.Chat %s on MongoDB %s: %d collections, %d users%s.\n", name, m.Created.UTC().Format(time.RFC3339),
		m.RocketChatVersion, m.MongoDBVersion, m.Counts.Collections, m.Counts.Users, encryptedNote(m))
	if mode == backup.Database {
		fmt.Fprintln(stderr, "Another deployment's backup: only Rocket.Chat's database is restored, without its oplog (the data as each collection was read); this deployment keeps its users and passwords.")
	}
	if canPrompt(o.Env, o.Yes, o.NoInput) {
		ok, err := o.Env.Prompter().Confirm(fmt.Sprintf("Replace this deployment's Rocket.Chat database with %s? The app stops meanwhile.", name),
			"A backup of the database as it is now is taken first (pre-restore).", false)
		if err != nil {
			return err
		}
		if !ok {
			return errCancelled
		}
	} else if !o.Yes {
		return usage(errors.New("rcgen restore replaces the database and stops the app meanwhile; with no terminal to ask on, give --yes"))
	}
	if copyTo != "" {
		if err := o.copyIn(ctx, path, copyTo); err != nil {
			return err
		}
	}
	s := o.stack()
	if !resuming {
		safety, err := s.Backup(ctx, "pre-restore")
		if err != nil {
			return fmt.Errorf("the backup of the database as it is now failed, so nothing was restored: %w", err)
		}
		fmt.Fprintf(stderr, "The database as it was is in %s.\n", filepath.Join(o.backupsDir(), safety))
	}
	if !resuming || marked != name {
		if err := os.WriteFile(marker, []byte(name+"\n"), 0o600); err != nil {
			return fmt.Errorf("marking the restore in %s: %w; nothing was restored", marker, err)
		}
	}
	if err := o.stopApps(ctx); err != nil {
		return fmt.Errorf("%w; nothing was restored (the restore mark %s stays: %s goes on)", err, marker, restoreCommand(name))
	}
	got, err := s.Restore(ctx, name, mode)
	if err != nil {
		return fmt.Errorf("%w; the app stays stopped and the restore mark stays: fix the cause, then %s again", err, restoreCommand(name))
	}
	if err := backup.CheckCounts(m, got); err != nil {
		return fmt.Errorf("%w; the app stays stopped and the restore mark stays: run %s again, or, if the difference is writes made while the backup ran, start the app (%s) and remove %s", err, restoreCommand(name), o.upCommand(), marker)
	}
	fmt.Fprintf(stderr, "Restored: %d collections, %d users, as the manifest says.\n", got.Collections, got.Users)
	if err := o.startApps(ctx); err != nil {
		return fmt.Errorf("the database is restored, but starting the app failed: %w (%s)", err, o.upCommand())
	}
	if err := os.Remove(marker); err != nil {
		return err
	}
	if err := o.waitHealthy(ctx); err != nil {
		return fmt.Errorf("the database is restored and the app started, but %w", err)
	}
	fmt.Fprintf(o.Env.IO.Out, "Done: the deployment runs on %s.\n", name)
	return nil
}

// stopApps stops the app processes: on Swarm, the app service scaled to
// no task (the stack file's replicas bring it back: startApps).
func (o *restoreOptions) stopApps(ctx context.Context) error {
	s := o.stack()
	if o.swarm() {
		return s.ScaleApps(ctx, 0)
	}
	_, err := s.Compose(ctx, append([]string{"stop"}, o.apps()...)...)
	return err
}

// startApps starts the app again after a restore.
func (o *restoreOptions) startApps(ctx context.Context) error {
	s := o.stack()
	if o.swarm() {
		return s.ScaleApps(ctx, max(1, o.d.Compose.AppReplicas))
	}
	_, err := s.Compose(ctx, "up", "-d")
	return err
}

// strandedAdvice says what to do when the restore mark names a backup
// whose file is gone: restore another one, or give up the restore.
func (o *restoreOptions) strandedAdvice() string {
	dirArg := ""
	if o.dir != nil && o.dir.Changed() {
		dirArg = " " + o.dir.Name() + " " + shellArg(o.Dir)
	}
	restore := "rcgen restore NAME" + dirArg
	if pre := newestLabelled(o.backupsDir(), "pre-restore"); pre != "" {
		restore = fmt.Sprintf("%s%s puts back the database as it was before that restore; rcgen backup list%s shows the others", restoreCommand(pre), dirArg, dirArg)
	} else {
		restore += fmt.Sprintf(" (rcgen backup list%s shows them)", dirArg)
	}
	start := fmt.Sprintf("(cd %s && docker compose up -d)", shellArg(o.Dir))
	if o.swarm() {
		start = o.upCommand()
	}
	return fmt.Sprintf("Either restore another backup by name: %s. Or, once you know the database is as you want it, remove the mark and start the app: rm %s && %s",
		restore, shellArg(filepath.Join(o.backupsDir(), backup.RestoreMarker)), start)
}

// newestLabelled is the newest sound backup in dir with label ("" when
// none).
func newestLabelled(dir, label string) string {
	list, _ := backup.List(dir)
	for _, a := range list {
		if a.Problem == "" && a.Manifest.Label == label {
			return a.Name()
		}
	}
	return ""
}

// copyIn copies a backup from outside backups/ into it. Ctrl-C (or a
// SIGTERM) during the copy removes the partial copy; one a killed run
// left is recognised and replaced (copyFile).
func (o *restoreOptions) copyIn(ctx context.Context, path, copyTo string) error {
	if err := os.MkdirAll(o.backupsDir(), 0o700); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	stale, err := copyFile(ctx, path, copyTo)
	if stale {
		fmt.Fprintf(o.Env.IO.ErrOut, "Removed %s.part: a copy a killed run left (no other rcgen works on this deployment now).\n", copyTo)
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("interrupted while copying %s into %s: the partial copy was removed; nothing was restored: %w", path, o.backupsDir(), context.Canceled)
	}
	if err != nil {
		return fmt.Errorf("copying %s into %s: %w; nothing was restored", path, o.backupsDir(), err)
	}
	fmt.Fprintf(o.Env.IO.ErrOut, "Copied %s to %s (the backup service reads backups/ only).\n", path, copyTo)
	return nil
}

// locate finds the backup arg names: a name in backups/, or a path. A
// file outside backups/ is copied there (the backup service sees only that
// directory) once the restore is decided: copy is then its destination.
func (o *restoreOptions) locate(ctx context.Context, arg string) (name, path, copyTo string, err error) {
	dir := o.backupsDir()
	if !strings.ContainsRune(arg, os.PathSeparator) {
		if p := filepath.Join(dir, arg); fileExists(p) {
			return arg, p, "", nil
		}
		// Not here: at the offsite target, backup-offsite fetches it into
		// backups/ (checking its size and MD5 there); then it is checked
		// as any backup.
		if _, err := os.Lstat(arg); errors.Is(err, os.ErrNotExist) && o.has(stack.OffsiteService) {
			fmt.Fprintf(o.Env.IO.ErrOut, "%s is not in %s: fetching it from the offsite target...\n", arg, dir)
			if err := o.stack().Fetch(ctx, arg); err != nil {
				return "", "", "", usage(fmt.Errorf("%s: not in %s, and fetching it from the offsite target failed: %w; nothing was changed (rcgen backup list shows the copies there)", arg, dir, err))
			}
			fmt.Fprintf(o.Env.IO.ErrOut, "Fetched %s into %s.\n", arg, dir)
			return arg, filepath.Join(dir, arg), "", nil
		}
	}
	fi, err := os.Lstat(arg)
	if err != nil {
		return "", "", "", usage(fmt.Errorf("%s: no such backup here or in %s (rcgen backup list shows them)", arg, dir))
	}
	if !fi.Mode().IsRegular() {
		return "", "", "", usage(fmt.Errorf("%s is not a regular file: give a backup file", arg))
	}
	name = filepath.Base(arg)
	absArg, _ := filepath.Abs(arg)
	absDir, _ := filepath.Abs(dir)
	if filepath.Dir(absArg) == absDir {
		return name, arg, "", nil
	}
	if !strings.HasSuffix(name, ".tar") || strings.HasPrefix(name, ".") {
		name = strings.TrimPrefix(name, ".") + ".tar"
	}
	dst := filepath.Join(dir, name)
	if fileExists(dst) {
		return "", "", "", usage(fmt.Errorf("%s: %s already holds a file of that name: restore that one by its name, or rename one", arg, dst))
	}
	return name, arg, dst, nil
}

func fileExists(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode().IsRegular()
}

// copyProgress, when set (by tests), is called after each chunk copyFile
// writes.
var copyProgress func(ctx context.Context, written int64)

// copyFile copies src to dst through dst.part, renamed once whole and
// synced. The caller holds the deployment's lock, so a dst.part already
// there is a killed run's: it is removed (stale reports it). When ctx
// ends, the partial copy is removed.
func copyFile(ctx context.Context, src, dst string) (stale bool, err error) {
	in, err := os.Open(src)
	if err != nil {
		return false, err
	}
	defer in.Close()
	tmp := dst + ".part"
	if fi, err := os.Lstat(tmp); err == nil {
		if !fi.Mode().IsRegular() {
			return false, fmt.Errorf("%s is in the way and is not a file rcgen writes: remove it", tmp)
		}
		if err := os.Remove(tmp); err != nil {
			return false, err
		}
		stale = true
	}
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return stale, err
	}
	fail := func(err error) (bool, error) {
		out.Close()
		os.Remove(tmp)
		return stale, err
	}
	buf := make([]byte, 1<<20)
	var written int64
	for {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		n, rerr := in.Read(buf)
		if n > 0 {
			if _, err := out.Write(buf[:n]); err != nil {
				return fail(err)
			}
			written += int64(n)
			if copyProgress != nil {
				copyProgress(ctx, written)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fail(rerr)
		}
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if err := out.Sync(); err != nil {
		return fail(err)
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return stale, err
	}
	return stale, os.Rename(tmp, dst)
}

// passphraseKeys are the backup passphrases of a deployment's .env, by
// the key that holds each: BACKUP_PASSPHRASE, then the earlier ones its
// backups still need (BACKUP_PASSPHRASE_1...).
func passphraseKeys(env map[string]string) []backup.Key {
	var keys []backup.Key
	if p := env[render.EnvBackupPassphrase]; p != "" {
		keys = append(keys, backup.Key{Name: render.EnvBackupPassphrase, Passphrase: p})
	}
	for i, p := range render.OldBackupPassphrases(env) {
		keys = append(keys, backup.Key{Name: render.EnvOldBackupPassphrase(i + 1), Passphrase: p})
	}
	return keys
}

// passphraseNote says, after generate wrote a deployment that keeps
// earlier backup passphrases, which backups need which ("" when it keeps
// none).
func passphraseNote(dir string, a spec.Answers) string {
	if len(a.OldBackupPassphrases) == 0 {
		return ""
	}
	var keys []string
	for i := range a.OldBackupPassphrases {
		keys = append(keys, render.EnvOldBackupPassphrase(i+1))
	}
	where := filepath.Join(dir, render.EnvFile)
	opened, err := backup.Opened(filepath.Join(dir, render.BackupsDir), a.OldBackupPassphrases)
	if err != nil {
		return fmt.Sprintf("Backup passphrases: %s encrypts the backups from now on; %s keeps the earlier ones (%s), as rcgen cannot tell from %s which backups need them (%v): once it can (with sudo, when backups/ is root's), a re-run drops those no backup needs.",
			render.EnvBackupPassphrase, where, strings.Join(keys, ", "), filepath.Join(dir, render.BackupsDir), err)
	}
	var needs []string
	for i, names := range opened {
		list := names
		more := ""
		if len(list) > 3 {
			list, more = list[:3], fmt.Sprintf(" and %d more", len(names)-3)
		}
		needs = append(needs, fmt.Sprintf("%s opens %s%s", keys[i], strings.Join(list, ", "), more))
	}
	return fmt.Sprintf("Backup passphrases: %s encrypts the backups from now on; %s keeps the earlier ones the backups there still need: %s. rcgen restore tries each; a re-run drops one once no backup needs it. Keep them with your copies off this server.",
		render.EnvBackupPassphrase, where, strings.Join(needs, "; "))
}
