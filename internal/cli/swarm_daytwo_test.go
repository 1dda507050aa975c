package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/backup/backuptest"
	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/stack"
)

// swarmDocker answers docker like a manager of a healthy swarm running
// the stack rocketchat, with the backup service's task on this node
// (container c0ffee) unless elsewhere, its volume of backups in volume.
// It records every command, quoted as a shell would need it typed.
type swarmDocker struct {
	dir       string
	volume    string
	elsewhere bool
	fcv       string
	counts    backup.Counts
	log       []string
}

const swarmBackupPS = "ps -q --filter label=com.docker.swarm.service.name=rocketchat_backup --filter status=running"

func (f *swarmDocker) run(_ context.Context, _ string, args ...string) ([]byte, error) {
	line := strings.Join(args, " ")
	f.log = append(f.log, line)
	d, err := deploy.Open(f.dir)
	if err != nil {
		return nil, err
	}
	switch {
	case args[0] == "compose":
		return nil, fmt.Errorf("fake docker: docker compose on a Swarm stack: %q", args)
	case line == swarmBackupPS:
		if f.elsewhere {
			return nil, nil
		}
		return []byte("c0ffee\n"), nil
	case line == "service ps rocketchat_backup --filter desired-state=running --format {{.Node}}":
		return []byte("node-2\n"), nil
	case line == "volume inspect --format {{.Mountpoint}} rocketchat_backups":
		if f.volume == "" {
			return nil, errors.New("exit status 1: Error response from daemon: get rocketchat_backups: no such volume")
		}
		return []byte(f.volume + "\n"), nil
	case len(args) > 5 && args[0] == "exec" && args[1] == "c0ffee" && args[3] == stack.BackupScript && args[4] == "now":
		name := "rocketchat-20261202T030001Z-" + args[5] + ".tar"
		return []byte(name + "\n"), f.writeBackup(d, name, args[5])
	case len(args) > 4 && args[0] == "exec" && args[1] == "c0ffee" && args[3] == stack.BackupScript && args[4] == "restore":
		b, _ := json.Marshal(f.counts)
		return append(b, '\n'), nil
	case len(args) > 3 && args[0] == "exec" && args[1] == "c0ffee" && args[2] == "sh" && args[3] == "-c":
		js := args[len(args)-1]
		if strings.Contains(js, "setFeatureCompatibilityVersion") {
			f.fcv = strings.Split(strings.Split(js, `setFeatureCompatibilityVersion: "`)[1], `"`)[0]
			return []byte(`{"ok":1}`), nil
		}
		version, _, _ := strings.Cut(d.Env[render.EnvMongoDBVersion], "-")
		if f.fcv == "" {
			f.fcv = version[:3]
		}
		return []byte(fmt.Sprintf(`{"version":%q,"fcv":%q}`, version, f.fcv)), nil
	case line == "service ls --filter label=com.docker.stack.namespace=rocketchat --format json":
		var b bytes.Buffer
		for _, s := range d.Compose.Services {
			replicas := "1/1"
			switch {
			case s == "mongodb-init" || strings.HasPrefix(s, "mongodb-prepare-"):
				replicas = "0/1 (1/1 completed)"
			case s == "node-exporter":
				replicas = "3/3"
			case s == "rocketchat":
				replicas = "1/1 (max 1 per node)"
			}
			fmt.Fprintf(&b, `{"ID":"x","Image":"i","Mode":"replicated","Name":"rocketchat_%s","Ports":"","Replicas":%q}`+"\n", s, replicas)
		}
		return b.Bytes(), nil
	case args[0] == "service" && (args[1] == "scale" || args[1] == "update"):
		return nil, nil
	}
	return nil, fmt.Errorf("fake docker: unexpected %q", line)
}

// writeBackup writes a backup of the deployment into the volume, as the
// backup service would.
func (f *swarmDocker) writeBackup(d *deploy.Deployment, name, label string) error {
	m := backup.Manifest{Name: strings.TrimSuffix(name, ".tar"), Label: label, Project: "rocketchat",
		DeploymentID: d.Env[render.EnvDeploymentID], Created: time.Date(2026, 12, 2, 3, 0, 1, 0, time.UTC),
		RocketChatVersion: d.Env[render.EnvRocketChatVersion], MongoDBVersion: d.Env[render.EnvMongoDBVersion],
		Counts: backup.Counts{Collections: 42, Users: 7}}
	// No uploads on Swarm: .env and the empty /volumes.
	files, err := backuptest.TarGz([]backuptest.Member{{Name: ".env", Data: []byte("A=1\n")}, {Name: "./", Type: tar.TypeDir}})
	if err != nil {
		return err
	}
	members, err := backuptest.Build(m, d.Env[render.EnvBackupPassphrase], []byte("\x1f\x8b\x08\x00DUMP"), files)
	if err != nil {
		return err
	}
	return backuptest.WriteTar(filepath.Join(f.volume, name), members)
}

// newSwarmDeployment generates a Swarm deployment of three nodes, with
// extra flags, and a fake swarm whose backup volume is a directory.
func newSwarmDeployment(t *testing.T, extra ...string) *swarmDocker {
	t.Helper()
	out := filepath.Join(t.TempDir(), "sw")
	args := append([]string{"generate", "--yes", "--target", "swarm", "--mongodb-members", "3", "--domain", "chat.example.com", "--email", "admin@example.com", "--out", out}, swarmNodes...)
	if r := run(t, append(args, extra...)...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	vol := filepath.Join(t.TempDir(), "volumes", "rocketchat_backups", "_data")
	if err := os.MkdirAll(vol, 0o700); err != nil {
		t.Fatal(err)
	}
	return &swarmDocker{dir: out, volume: vol, counts: backup.Counts{Collections: 42, Users: 7}}
}

func (f *swarmDocker) cli(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := Env{IO: IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr}, Getenv: func(string) string { return "" }, Docker: f.run}
	code := Run(context.Background(), env, append(args, "--dir", f.dir))
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// wantLog compares the commands the fake got with want, in order.
func (f *swarmDocker) wantLog(t *testing.T, what string, want ...string) {
	t.Helper()
	if !slices.Equal(f.log, want) {
		t.Errorf("%s ran:\n  %s\nwant:\n  %s", what, strings.Join(f.log, "\n  "), strings.Join(want, "\n  "))
	}
	f.log = nil
}

// TestSwarmBackup: rcgen backup on a Swarm stack finds the backup task's
// container on this node, its volume's directory, runs the script there
// with docker exec, and checks the backup it wrote in the volume. On
// another node it names the node the task runs on and runs nothing else.
func TestSwarmBackup(t *testing.T) {
	pass := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(pass, []byte("correct horse battery staple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newSwarmDeployment(t, "--backup-passphrase-file", pass)
	r := f.cli(t, "backup")
	if r.code != 0 {
		t.Fatalf("rcgen backup: exit %d: %s", r.code, r.stderr)
	}
	if want := filepath.Join(f.volume, "rocketchat-20261202T030001Z-manual.tar") + "\n"; r.stdout != want {
		t.Errorf("stdout %q, want the backup's path in the volume %q", r.stdout, want)
	}
	if !strings.Contains(r.stderr, "checked. Copy it off this node.") || !strings.Contains(r.stderr, "+ docker exec c0ffee sh /rcgen/backup.sh now manual") {
		t.Errorf("stderr: %s", r.stderr)
	}
	f.wantLog(t, "rcgen backup", swarmBackupPS, "volume inspect --format {{.Mountpoint}} rocketchat_backups", swarmBackupPS, "exec c0ffee sh /rcgen/backup.sh now manual")

	// backup list reads the volume.
	r = f.cli(t, "backup", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "rocketchat-20261202T030001Z-manual.tar") {
		t.Errorf("backup list: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	f.wantLog(t, "rcgen backup list", "volume inspect --format {{.Mountpoint}} rocketchat_backups")

	// The task runs on another node: rcgen says which, and does nothing.
	f.elsewhere = true
	r = f.cli(t, "backup")
	if r.code != 1 || !strings.Contains(r.stderr, "the backup service's task runs on node node-2, and docker exec reaches only the containers of the node Docker runs on: run this on node-2 (a manager, with a copy of this deployment's directory") {
		t.Errorf("elsewhere: exit %d: %s", r.code, r.stderr)
	}
	f.wantLog(t, "rcgen backup elsewhere", swarmBackupPS, "service ps rocketchat_backup --filter desired-state=running --format {{.Node}}")
	f.volume = ""
	r = f.cli(t, "backup", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "volume rocketchat_backups is not on this node") || !strings.Contains(r.stderr, "docker node ls --filter node.label=rcgen.backup names that node") {
		t.Errorf("backup list elsewhere: exit %d: %s", r.code, r.stderr)
	}
}

// TestSwarmRestore: rcgen restore on Swarm checks the backup in the
// volume before anything runs, takes the pre-restore backup, scales the
// app to no task, restores through the backup task, scales the app back
// to the stack file's replicas and waits for every service; a backup of a
// newer release is refused with nothing run but the lookups.
func TestSwarmRestore(t *testing.T) {
	f := newSwarmDeployment(t)
	d, err := deploy.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.writeBackup(d, "rocketchat-20261201T030000Z.tar", ""); err != nil {
		t.Fatal(err)
	}
	r := f.cli(t, "restore", "rocketchat-20261201T030000Z.tar", "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "Done: the deployment runs on rocketchat-20261201T030000Z.tar.") {
		t.Fatalf("restore: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	f.wantLog(t, "rcgen restore", swarmBackupPS, "volume inspect --format {{.Mountpoint}} rocketchat_backups",
		swarmBackupPS, "exec c0ffee sh /rcgen/backup.sh now pre-restore",
		"service scale --detach=false rocketchat_rocketchat=0",
		swarmBackupPS, "exec c0ffee sh /rcgen/backup.sh restore rocketchat-20261201T030000Z.tar full",
		"service scale --detach=false rocketchat_rocketchat=1",
		"service ls --filter label=com.docker.stack.namespace=rocketchat --format json")
	if _, err := os.Stat(filepath.Join(f.volume, backup.RestoreMarker)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the restore mark is left in the volume: %v", err)
	}

	// A backup of a newer Rocket.Chat: refused before anything stops.
	m := backup.Manifest{Name: "rocketchat-20261201T040000Z", Project: "rocketchat", DeploymentID: d.Env[render.EnvDeploymentID],
		RocketChatVersion: "99.0.0", MongoDBVersion: d.Env[render.EnvMongoDBVersion], Counts: backup.Counts{Collections: 1, Users: 1}}
	members, err := backuptest.Build(m, "", []byte("\x1f\x8b\x08\x00DUMP"), []byte("FILES"))
	if err != nil {
		t.Fatal(err)
	}
	if err := backuptest.WriteTar(filepath.Join(f.volume, "rocketchat-20261201T040000Z.tar"), members); err != nil {
		t.Fatal(err)
	}
	r = f.cli(t, "restore", "rocketchat-20261201T040000Z.tar", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "nothing was changed") {
		t.Errorf("newer backup: exit %d: %s", r.code, r.stderr)
	}
	f.wantLog(t, "a refused restore", swarmBackupPS, "volume inspect --format {{.Mountpoint}} rocketchat_backups")

	// Stranded: the mark names a backup that is gone; the advice starts
	// the app with docker service scale, not docker compose.
	if err := os.WriteFile(filepath.Join(f.volume, backup.RestoreMarker), []byte("gone.tar\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = f.cli(t, "restore", "gone.tar", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "&& docker service scale rocketchat_rocketchat=1") || strings.Contains(r.stderr, "docker compose") {
		t.Errorf("stranded: exit %d: %s", r.code, r.stderr)
	}
}

// TestSwarmUpgrade: rcgen upgrade on Swarm plans from what MongoDB runs
// (read in the backup task), backs up, then rolls each image with docker
// service update (the members from the last to mongodb-1) and the backup
// service's versions, sets the FCV, waiting for every service between
// steps; the stack file is rewritten for each step.
func TestSwarmUpgrade(t *testing.T) {
	f := newSwarmDeployment(t, "--rocketchat-version", "7.12.7")
	r := f.cli(t, "upgrade", "--to", "7.13.9", "--yes", "--wait", "1m")
	if r.code != 0 || !strings.Contains(r.stdout, "Upgraded: Rocket.Chat 7.13.9 on MongoDB 8.0.") {
		t.Fatalf("upgrade: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	env := envOf(t, mustRead(filepath.Join(f.dir, render.EnvFile)))
	tag := env[render.EnvMongoDBVersion]
	if !strings.HasPrefix(tag, "8.0.") {
		t.Fatalf(".env runs MongoDB %s after the upgrade", tag)
	}
	mongo := catalog.MongoDBImageRepo + ":" + tag
	ls := "service ls --filter label=com.docker.stack.namespace=rocketchat --format json"
	if len(f.log) < 6 {
		t.Fatalf("rcgen upgrade ran %q", f.log)
	}
	versions, setFCV := f.log[3], f.log[len(f.log)-4]
	if !strings.HasPrefix(versions, `exec c0ffee sh -c MONGODB_ROOT_PASSWORD="$(cat "$MONGODB_ROOT_PASSWORD_FILE")" exec mongosh`) || !strings.Contains(versions, "featureCompatibilityVersion: 1") ||
		!strings.Contains(setFCV, `setFeatureCompatibilityVersion: "8.0", confirm: true`) {
		t.Errorf("mongosh in the backup task: %q, %q", versions, setFCV)
	}
	f.wantLog(t, "rcgen upgrade", swarmBackupPS, "volume inspect --format {{.Mountpoint}} rocketchat_backups",
		swarmBackupPS, versions,
		swarmBackupPS, "exec c0ffee sh /rcgen/backup.sh now pre-upgrade",
		"service update --detach=false --image "+catalog.RocketChatImage+":7.13.9 rocketchat_rocketchat",
		"service update --detach=false --env-add ROCKETCHAT_VERSION=7.13.9 rocketchat_backup", ls,
		"service update --detach=false --image "+mongo+" rocketchat_mongodb-3",
		"service update --detach=false --image "+mongo+" rocketchat_mongodb-2",
		"service update --detach=false --image "+mongo+" rocketchat_mongodb-1",
		"service update --detach=false --env-add MONGODB_VERSION="+tag+" rocketchat_backup", ls,
		swarmBackupPS, setFCV, swarmBackupPS, versions, ls)
	if !strings.Contains(r.stderr, "docker stack deploy applies: deploy it as README.md says") {
		t.Errorf("the upgrade does not say what docker stack deploy still applies: %s", r.stderr)
	}
	if f.fcv != "8.0" {
		t.Errorf("FCV %q after the upgrade, want 8.0", f.fcv)
	}
	stackFile := string(mustRead(filepath.Join(f.dir, render.StackFile)))
	if !strings.Contains(stackFile, catalog.RocketChatImage+":7.13.9") || !strings.Contains(stackFile, tag) {
		t.Error("stack.yaml was not rewritten for the new release")
	}
}

// TestSwarmUpgradeWithoutBackupService: with no backup service rcgen has
// nowhere on a known node to run MongoDB's commands: the dry run plans
// from .env and says so, the upgrade refuses, and no docker command runs.
func TestSwarmUpgradeWithoutBackupService(t *testing.T) {
	f := newSwarmDeployment(t, "--rocketchat-version", "7.12.7", "--no-backup")
	before := snapshot(t, f.dir)
	r := f.cli(t, "upgrade", "--to", "7.13.9", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "featureCompatibilityVersion not read") {
		t.Errorf("dry run: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	r = f.cli(t, "upgrade", "--to", "7.13.9", "--yes", "--force=no-backup")
	if r.code != 1 || !strings.Contains(r.stderr, "on Docker Swarm rcgen reads MongoDB's versions and sets its featureCompatibilityVersion in the backup service's container, and this deployment has none (backup: false in rcgen.yaml)") {
		t.Errorf("no backup service: exit %d: %s", r.code, r.stderr)
	}
	f.wantLog(t, "an upgrade without a backup service")
	unchanged(t, f.dir, before)
	for _, args := range [][]string{{"backup"}, {"restore", "x.tar", "--yes"}} {
		r = f.cli(t, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "this deployment has no backup service (backup: false in rcgen.yaml): re-run rcgen generate without --no-backup, then docker stack deploy as README.md says") {
			t.Errorf("%q without a backup service: exit %d: %s", args, r.code, r.stderr)
		}
	}
	f.wantLog(t, "backup and restore without a backup service")
}
