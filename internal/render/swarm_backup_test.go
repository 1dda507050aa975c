package render_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/rcgen/rcgen/internal/backup"
	gen "github.com/rcgen/rcgen/internal/generate"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// swarmBackupStack renders a three-node Swarm stack with backups as
// answered; edit changes the answers first.
func swarmBackupStack(t *testing.T, nodes []string, edit func(*spec.Answers)) render.Files {
	t.Helper()
	a := spec.Default()
	a.Target, a.Domain, a.Email, a.MongoDBMembers = spec.TargetSwarm, "chat.example.com", "admin@example.com", 3
	for _, n := range nodes {
		if err := a.Nodes.Set(n); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		edit(&a)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("answers: %v", err)
	}
	plan, err := sizing.ComputeSwarm(a.Nodes, gen.Inputs(a, false))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	files, err := render.Generate(context.Background(), render.Input{Answers: a, Plan: plan, Secrets: fixedSecrets(t), RcgenVersion: "test"})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return files
}

var threeNodes = []string{"node-1=4:8GiB", "node-2=4:8GiB", "node-3=4:8GiB"}

// TestSwarmBackupService: a Swarm deployment that answers backup: true
// runs the compose target's backup script on the node the README labels
// rcgen.backup, its archives on a volume there, its passphrase and the
// root password as Swarm secrets (never in the stack file), the
// deployment's files where the script reads them, and its metrics for
// that node's node exporter.
func TestSwarmBackupService(t *testing.T) {
	const pass = "correct horse battery staple"
	files := swarmBackupStack(t, threeNodes, func(a *spec.Answers) { a.BackupPassphrase = pass })
	p := loadStack(t, files)
	s, ok := p.Services[sizing.Backup]
	if !ok {
		t.Fatal("the stack has no backup service")
	}
	if c := s.Deploy.Placement.Constraints; !slices.Equal(c, []string{"node.labels.rcgen.backup == true"}) {
		t.Errorf("backup placed by %v", c)
	}
	readme := string(mustGet(t, files, render.ReadmeFile).Content)
	if !strings.Contains(readme, "docker node update --label-add rcgen.backup=true node-2\n") {
		t.Errorf("the README does not label the backup node (node-2, the monitoring one, off the proxy's):\n%s", readme)
	}
	for _, want := range []string{"in the volume `rocketchat_backups` on that node", "Backups on `node-2`", "run `rcgen backup`, `rcgen backup list`,"} {
		if !strings.Contains(readme, want) {
			t.Errorf("the README does not say where the backups are (%q)", want)
		}
	}
	if strings.Contains(readme, "no backup service on Swarm") {
		t.Error("the README still says there is no backup service on Swarm")
	}
	stack := string(mustGet(t, files, render.StackFile).Content)
	if strings.Contains(stack, pass) || strings.Contains(stack, fixedSecrets(t).MongoRootPassword) {
		t.Error("the stack file holds the passphrase or the root password")
	}
	f := mustGet(t, files, "secrets/backup-passphrase")
	if string(f.Content) != pass || f.Mode != 0o600 {
		t.Errorf("secrets/backup-passphrase: %q mode %o", f.Content, f.Mode)
	}
	env := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	if env["MONGODB_ROOT_PASSWORD_FILE"] != "/run/secrets/mongodb_root_password" || env["BACKUP_PASSPHRASE_FILE"] != "/run/secrets/backup_passphrase" ||
		env["RCGEN_DEPLOYMENT_ID"] != fixedSecrets(t).DeploymentID || env["ROCKETCHAT_VERSION"] == "" || env["MONGODB_VERSION"] == "" {
		t.Errorf("backup environment %v", env)
	}
	targets := map[string]string{}
	for _, sec := range s.Secrets {
		targets[sec.Source] = sec.Target
	}
	for source, target := range map[string]string{"deployment_env": "/deployment/.env", "deployment_answers": "/deployment/rcgen.yaml", "mongodb_keyfile": "/deployment/" + render.MongoKeyfile} {
		if targets[source] != target {
			t.Errorf("secret %s at %q, want %s (backup.sh reads it there)", source, targets[source], target)
		}
	}
	var archives, metrics bool
	for _, v := range s.Volumes {
		archives = archives || v.Type == types.VolumeTypeVolume && v.Source == "backups" && v.Target == "/backups"
		metrics = metrics || v.Source == "backup-metrics" && v.Target == "/textfile"
	}
	if !archives || !metrics {
		t.Errorf("backup volumes %+v: want backups at /backups and backup-metrics at /textfile", s.Volumes)
	}
	ne := p.Services[sizing.NodeExporter]
	if !slices.Contains(ne.Command, "--collector.textfile.directory=/textfile") {
		t.Errorf("node exporter does not read the backup's metrics: %v", ne.Command)
	}
	rules := string(mustGet(t, files, render.RulesFile).Content)
	if !strings.Contains(rules, "alert: BackupTooOld") || !strings.Contains(rules, "docker service logs --tail 100 rocketchat_backup") || strings.Contains(rules, "docker compose logs --tail 100 backup") {
		t.Error("the backup alerts are missing or point at docker compose on Swarm")
	}

	// The backup role puts it on another node.
	files = swarmBackupStack(t, []string{"node-1=4:8GiB", "node-2=4:8GiB", "node-3=4:8GiB:backup"}, nil)
	if readme := string(mustGet(t, files, render.ReadmeFile).Content); !strings.Contains(readme, "--label-add rcgen.backup=true node-3\n") {
		t.Error("the backup role does not place the backup service")
	}
	if _, ok := files.Get("secrets/backup-passphrase"); ok {
		t.Error("a passphrase secret without a passphrase")
	}
	if strings.Contains(string(mustGet(t, files, render.StackFile).Content), "BACKUP_PASSPHRASE_FILE") {
		t.Error("the backup service reads a passphrase file that does not exist")
	}

	// backup: false: no service, no volume, and the README says how to back up.
	files = swarmBackupStack(t, threeNodes, func(a *spec.Answers) { a.Backup = false })
	if _, ok := loadStack(t, files).Services[sizing.Backup]; ok {
		t.Error("backup: false, and the stack runs a backup service")
	}
	if readme := string(mustGet(t, files, render.ReadmeFile).Content); strings.Contains(readme, "rcgen.backup") || !strings.Contains(readme, "There is no backup service (backup: false)") {
		t.Error("backup: false: the README labels a backup node or does not say there is none")
	}
}

// TestBackupScriptReadsSwarmSecretFiles runs backup.sh as the Swarm
// service does: the root password and the passphrase in files named by
// MONGODB_ROOT_PASSWORD_FILE and BACKUP_PASSPHRASE_FILE, nothing in the
// environment; the backup it writes opens with that passphrase.
func TestBackupScriptReadsSwarmSecretFiles(t *testing.T) {
	rendertest.Need(t)
	s := newScriptEnv(t)
	dir := t.TempDir()
	pw, pass := filepath.Join(dir, "mongodb_root_password"), filepath.Join(dir, "backup_passphrase")
	if err := os.WriteFile(pw, []byte("root-pw"), 0o400); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pass, []byte("a swarm passphrase"), 0o400); err != nil {
		t.Fatal(err)
	}
	s.env = slices.DeleteFunc(s.env, func(e string) bool { return strings.HasPrefix(e, "MONGODB_ROOT_PASSWORD=") })
	// Without the file, the script says what is missing.
	if _, errOut, err := s.run(nil, "now"); err == nil || !strings.Contains(errOut, "MONGODB_ROOT_PASSWORD is not set") {
		t.Fatalf("no password at all: %v %s", err, errOut)
	}
	name := s.must([]string{"MONGODB_ROOT_PASSWORD_FILE=" + pw, "BACKUP_PASSPHRASE_FILE=" + pass}, "now")
	path := filepath.Join(s.backups, name)
	m, err := backup.Verify(path)
	if err != nil || !m.Encrypted {
		t.Fatalf("the backup from secret files: %+v %v", m, err)
	}
	if err := backup.Authenticate(path, m, "a swarm passphrase"); err != nil {
		t.Errorf("the backup does not open with the passphrase file's: %v", err)
	}
}

// TestSwarmOffsiteCopier: a Swarm deployment with an offsite target runs
// the compose target's copier on the backup node (whose volume it reads),
// its rclone config a Swarm secret, on the edge network only; nothing of
// the credentials is in the stack file.
func TestSwarmOffsiteCopier(t *testing.T) {
	files := swarmBackupStack(t, threeNodes, func(a *spec.Answers) {
		a.BackupPassphrase = "correct horse battery staple"
		a.BackupTarget, a.BackupS3Endpoint = "s3://backups/rocketchat", "https://s3.example.com"
		a.BackupS3AccessKey, a.BackupS3SecretKey = testAccessKey, testSecretKey
	})
	p := loadStack(t, files)
	s, ok := p.Services[sizing.BackupOffsite]
	if !ok {
		t.Fatal("the stack has no backup-offsite service: the backups would never leave the node")
	}
	if c := s.Deploy.Placement.Constraints; !slices.Equal(c, []string{"node.labels.rcgen.backup == true"}) {
		t.Errorf("backup-offsite placed by %v, not beside the backup service", c)
	}
	if len(s.Secrets) == 0 || s.Secrets[0].Source != "rclone_config" {
		t.Errorf("backup-offsite secrets %v, want rclone_config", s.Secrets)
	}
	if _, ok := p.Secrets["rclone_config"]; !ok {
		t.Error("the stack declares no rclone_config secret")
	}
	if nets := slices.Sorted(func(yield func(string) bool) {
		for n := range s.Networks {
			if !yield(n) {
				return
			}
		}
	}); !slices.Equal(nets, []string{"edge"}) {
		t.Errorf("backup-offsite networks %v, want edge only", nets)
	}
	stack := string(mustGet(t, files, render.StackFile).Content)
	if strings.Contains(stack, testSecretKey) || strings.Contains(stack, testAccessKey) {
		t.Error("the stack file holds the bucket's keys")
	}
	// The deployment's README tells the operator where the copies go and
	// where its credentials are, and no longer to copy the files by hand.
	readme := string(mustGet(t, files, render.ReadmeFile).Content)
	for _, want := range []string{"### Offsite copies", "s3://backups/rocketchat", "`rclone_config`", "rcgen backup list"} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md does not say %q", want)
		}
	}
	if strings.Contains(readme, "Copy the tar files off") || strings.Contains(readme, testSecretKey) {
		t.Error("README.md still says to copy the backups by hand, or holds the bucket's key")
	}
}
