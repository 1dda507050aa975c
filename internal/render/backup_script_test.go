package render_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/backup/backuptest"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
)

// stubs stand in for MongoDB's tools in the backup container: mongodump
// writes a known dump, gzipped as --gzip does, where --archive says (alone:
// to standard output),
// mongorestore checks it gets that dump back (decrypted) and records its
// arguments, mongosh prints counts. Each counts as a step (stepFunc).
const stubDump = `#!/bin/sh
step mongodump
echo "mongodump $*" >>"$STUB_LOG"
for a in "$@"; do case $a in
--config=*) grep -q "^uri: 'mongodb://root:$MONGODB_ROOT_PASSWORD@" "${a#--config=}" || exit 3 ;;
--archive) printf 'DUMP-OF-THE-SET' | gzip -c; step mongodump-streamed ;;
--archive=*) printf 'DUMP-OF-THE-SET' | gzip -c >"${a#--archive=}"; step mongodump-streamed ;;
esac; done
`

const stubRestore = `#!/bin/sh
echo "mongorestore $*" >>"$STUB_LOG"
for a in "$@"; do case $a in
--archive) [ "$(gzip -dc)" = DUMP-OF-THE-SET ] || { echo "mongorestore: not the dump" >&2; exit 4; } ;;
--archive=*) [ "$(gzip -dc "${a#--archive=}")" = DUMP-OF-THE-SET ] || { echo "mongorestore: not the dump" >&2; exit 4; } ;;
esac; done
`

const stubMongosh = `#!/bin/sh
step mongosh
echo "mongosh $*" >>"$STUB_LOG"
echo '{"collections":42,"users":7}'
`

// stepFunc is put at the head of every stand-in and wrapper: with
// STUB_STEPS set, it counts the calls of each tool (STUB_STEPS/TOOL.N),
// and the call named by STUB_PAUSE_AT stops there (STUB_STEPS/paused
// appears) until a signal ends it.
const stepFunc = `step() {
	[ -n "${STUB_STEPS:-}" ] || return 0
	n=1
	while ! mkdir "$STUB_STEPS/$1.$n" 2>/dev/null; do n=$((n + 1)); done
	[ "$1.$n" = "${STUB_PAUSE_AT:-}" ] || return 0
	: >"$STUB_STEPS/paused"
	exec "$STUB_REAL_SLEEP" 3600
}
`

// wrapped are the real tools the backup runs that count as steps (mv only
// for the rename of a finished backup).
var wrapped = []string{"tar", "openssl", "sha256sum", "mv"}

func wrapper(tool, real string) string {
	body := "step " + tool + "\n"
	if tool == "mv" {
		body = "case $1 in */.tmp-*) step mv ;; esac\n"
	}
	return "#!/bin/sh\n" + stepFunc + body + "exec " + real + " \"$@\"\n"
}

// stubSleep: with STUB_SLEEP_INSTANT set, the daemon does not wait for
// the schedule.
const stubSleep = `#!/bin/sh
[ -z "${STUB_SLEEP_INSTANT:-}" ] || exit 0
exec "$STUB_REAL_SLEEP" "$@"
`

type scriptEnv struct {
	t                         *testing.T
	script, backups, textfile string
	log, tmp, deployment      string
	// bin holds the stand-ins, first on PATH.
	bin string
	env []string
}

func newScriptEnv(t *testing.T) *scriptEnv {
	t.Helper()
	rendertest.Need(t)
	return newScriptEnvWith(t, generate(t, profiles[0]))
}

// newScriptEnvWith runs the backup script of files (a deployment rendered
// by generate).
func newScriptEnvWith(t *testing.T, files render.Files) *scriptEnv {
	t.Helper()
	real := map[string]string{}
	for _, tool := range []string{"sh", "tar", "gzip", "sha256sum", "openssl", "flock", "setsid", "sleep", "mv"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("the backup script needs %s", tool)
		}
		real[tool] = p
	}
	d, err := rendertest.Write(context.Background(), t.TempDir(), files)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	bin := filepath.Join(root, "bin")
	s := &scriptEnv{t: t, script: filepath.Join(d.Dir, render.BackupScript), backups: filepath.Join(root, "backups"),
		textfile: filepath.Join(root, "textfile"), log: filepath.Join(root, "tools.log"), tmp: filepath.Join(root, "tmp"), deployment: d.Dir, bin: bin}
	volumes := filepath.Join(root, "volumes")
	for _, dir := range []string{bin, s.textfile, s.tmp, filepath.Join(volumes, "uploads"), filepath.Join(volumes, "caddy-data")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stubs := map[string]string{"mongodump": stubDump, "mongorestore": stubRestore, "mongosh": stubMongosh, "sleep": stubSleep}
	for name, body := range stubs {
		stubs[name] = strings.Replace(body, "#!/bin/sh\n", "#!/bin/sh\n"+stepFunc, 1)
	}
	for _, tool := range wrapped {
		stubs[tool] = wrapper(tool, real[tool])
	}
	for name, body := range stubs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(volumes, "uploads", "avatar.png"), []byte(uploaded), 0o644); err != nil {
		t.Fatal(err)
	}
	s.env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "STUB_LOG="+s.log, "STUB_REAL_SLEEP="+real["sleep"],
		"BACKUPS_DIR="+s.backups, "DEPLOYMENT_DIR="+d.Dir, "VOLUMES_DIR="+volumes, "TEXTFILE_DIR="+s.textfile, "TMPDIR="+s.tmp,
		"MONGODB_ROOT_PASSWORD=root-pw", "RCGEN_DEPLOYMENT_ID=abc123", "ROCKETCHAT_VERSION=8.8.1", "MONGODB_VERSION=8.0.32-ubi9")
	return s
}

// uploaded is what a user uploaded: it goes into the backup as .env does.
const uploaded = "PNG-A-PICTURE-A-USER-UPLOADED"

// run runs backup.sh with args under sh (dash here, as in the image's /bin/sh).
func (s *scriptEnv) run(extraEnv []string, args ...string) (string, string, error) {
	cmd := exec.Command("sh", append([]string{s.script}, args...)...)
	cmd.Env = append(slices.Clone(s.env), extraEnv...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func (s *scriptEnv) must(extraEnv []string, args ...string) string {
	s.t.Helper()
	out, errOut, err := s.run(extraEnv, args...)
	if err != nil {
		s.t.Fatalf("backup.sh %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return strings.TrimSpace(out)
}

func TestBackupScriptWritesAVerifiableBackup(t *testing.T) {
	s := newScriptEnv(t)
	name := s.must(nil, "now")
	if !regexp.MustCompile(`^rocketchat-[0-9]{8}T[0-9]{6}Z-manual\.tar$`).MatchString(name) {
		t.Fatalf("backup name %q", name)
	}
	path := filepath.Join(s.backups, name)
	m, err := backup.Verify(path)
	if err != nil {
		t.Fatalf("the backup the script wrote does not verify: %v", err)
	}
	if m.Project != "rocketchat" || m.DeploymentID != "abc123" || m.RocketChatVersion != "8.8.1" || m.MongoDBVersion != "8.0.32-ubi9" ||
		m.Encrypted || m.Counts != (backup.Counts{Collections: 42, Users: 7}) || m.Label != "manual" || time.Since(m.Created) > time.Hour {
		t.Errorf("manifest %+v", m)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600 (it holds .env)", info.Mode().Perm())
	}
	files := tarNames(t, path, "files.tar.gz")
	for _, want := range []string{".env", "rcgen.yaml", render.MongoKeyfile, "./uploads/avatar.png"} {
		if !slices.Contains(files, want) {
			t.Errorf("files.tar.gz lacks %s: %v", want, files)
		}
	}
	log, _ := os.ReadFile(s.log)
	if !strings.Contains(string(log), "--oplog --gzip --numParallelCollections=1 --archive --quiet") || strings.Contains(string(log), "root-pw") {
		t.Errorf("mongodump was run as %s (want --oplog into an archive on its standard output, and no password on the command line)", log)
	}
	if left, _ := os.ReadDir(s.tmp); len(left) > 0 {
		t.Errorf("the tools' config is left in TMPDIR: %v", left)
	}
	metrics, _ := os.ReadFile(filepath.Join(s.textfile, "rcgen_backup.prom"))
	for _, want := range []string{"rcgen_backup_last_run_success 1", "rcgen_backup_count 1", "rcgen_backup_period_seconds 86400", "rcgen_backup_last_success_timestamp_seconds "} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
}

func TestBackupScriptEncryptsAndRestores(t *testing.T) {
	s := newScriptEnv(t)
	pass := []string{"BACKUP_PASSPHRASE=correct horse battery staple"}
	name := s.must(pass, "now", "pre-upgrade")
	m, err := backup.Verify(filepath.Join(s.backups, name))
	if err != nil || !m.Encrypted || m.Files[0].Name != "mongodb.archive.gz.enc" {
		t.Fatalf("encrypted backup: %+v, %v", m, err)
	}
	if names := tarNames(t, filepath.Join(s.backups, name), ""); slices.Contains(names, "mongodb.archive.gz") {
		t.Fatalf("the dump is in the archive unencrypted: %v", names)
	}
	out := s.must(pass, "restore", name)
	if out != `{"collections":42,"users":7}` {
		t.Errorf("restore printed %q, want the counts to compare with the manifest", out)
	}
	log, _ := os.ReadFile(s.log)
	if !strings.Contains(string(log), "--oplogReplay --drop") || strings.Contains(string(log), "--nsInclude") {
		t.Errorf("a restore of the deployment's own backup: %s", log)
	}
	if _, errOut, err := s.run([]string{"BACKUP_PASSPHRASE=the wrong passphrase"}, "restore", name); err == nil || !strings.Contains(errOut, "does not decrypt") {
		t.Errorf("wrong passphrase: %v %s", err, errOut)
	}
	if _, errOut, err := s.run(nil, "restore", name); err == nil || !strings.Contains(errOut, "is encrypted and BACKUP_PASSPHRASE is not set") {
		t.Errorf("no passphrase: %v %s", err, errOut)
	}
	// Another deployment's backup: the database only, no oplog (mongorestore
	// refuses --oplogReplay with --nsInclude).
	os.Truncate(s.log, 0)
	s.must(pass, "restore", name, "database")
	log, _ = os.ReadFile(s.log)
	if !strings.Contains(string(log), "--drop --nsInclude=rocketchat.*") || strings.Contains(string(log), "--oplogReplay") {
		t.Errorf("a restore of another deployment's backup: %s", log)
	}
}

func TestBackupScriptRefusesDamageAndConcurrentRestore(t *testing.T) {
	s := newScriptEnv(t)
	name := s.must(nil, "now")
	path := filepath.Join(s.backups, name)
	b, _ := os.ReadFile(path)
	// A byte of the dump (gzip's checksum at its end).
	members, err := backuptest.ReadTar(path)
	if err != nil || members[1].Name != "mongodb.archive.gz" {
		t.Fatalf("%v %v", members, err)
	}
	i := bytes.Index(b, members[1].Data) + len(members[1].Data) - 1
	b[i] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Verify(path); err == nil {
		t.Error("Verify accepts a damaged backup")
	}
	if _, errOut, err := s.run(nil, "restore", name); err == nil || !strings.Contains(errOut, "damaged") && !strings.Contains(errOut, "tar") {
		t.Errorf("restore of a damaged backup: %v %s", err, errOut)
	}
	if _, errOut, err := s.run(nil, "restore", "../.env"); err == nil || !strings.Contains(errOut, "give the name of a file in backups/") {
		t.Errorf("restore ../.env: %v %s", err, errOut)
	}
	if err := os.WriteFile(filepath.Join(s.backups, ".restore-in-progress"), []byte(name), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := s.run(nil, "scheduled"); err == nil || !strings.Contains(errOut, "a restore is in progress") {
		t.Errorf("a backup during a restore: %v %s", err, errOut)
	}
	metrics, _ := os.ReadFile(filepath.Join(s.textfile, "rcgen_backup.prom"))
	if !strings.Contains(string(metrics), "rcgen_backup_last_run_success 0") {
		t.Errorf("a failed run is not in the metrics:\n%s", metrics)
	}
}

func TestBackupScriptRotatesOnlyScheduledBackups(t *testing.T) {
	s := newScriptEnv(t)
	if err := os.MkdirAll(s.backups, 0o700); err != nil {
		t.Fatal(err)
	}
	var old []string
	for i := range 9 {
		old = append(old, "rocketchat-2026010"+strconv.Itoa(i+1)+"T030000Z.tar")
	}
	for _, n := range append(slices.Clone(old), "rocketchat-20260101T030000Z-pre-upgrade.tar", "other-20260101T030000Z.tar") {
		if err := os.WriteFile(filepath.Join(s.backups, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	name := s.must(nil, "scheduled")
	entries, _ := os.ReadDir(s.backups)
	var left []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") { // the last result and the lock
			left = append(left, e.Name())
		}
	}
	// The profile keeps 7: the new one and the 6 newest old ones.
	want := append(slices.Clone(old[3:]), name, "rocketchat-20260101T030000Z-pre-upgrade.tar", "other-20260101T030000Z.tar")
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("after rotation:\n%v\nwant\n%v", left, want)
	}
}

func TestBackupScriptSchedulesDaily(t *testing.T) {
	s := newScriptEnv(t)
	next, err := strconv.ParseInt(s.must(nil, "next"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	if next%86400 != 3*3600 || next <= now || next > now+86400 {
		t.Errorf("next run %s, want the next 03:00 UTC", time.Unix(next, 0).UTC())
	}
}

// tarNames lists the names in the backup at path, or in its member inner
// (a .tar.gz) when given.
func tarNames(t *testing.T, path, inner string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if inner == "" {
			names = append(names, h.Name)
			continue
		}
		if h.Name != inner {
			continue
		}
		zr, err := gzip.NewReader(tr)
		if err != nil {
			t.Fatal(err)
		}
		ir := tar.NewReader(zr)
		for {
			h, err := ir.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, h.Name)
		}
	}
	return names
}

// TestCountsScript runs the generated counts.js with node against the
// simulated MongoDB: it counts Rocket.Chat's collections (not system ones)
// and its users, as the manifest and the restore check compare them.
func TestCountsScript(t *testing.T) {
	rendertest.Need(t)
	files := generate(t, profiles[0])
	dir := t.TempDir()
	script := filepath.Join(dir, "counts.js")
	if err := os.WriteFile(script, mustGet(t, files, render.BackupCounts).Content, 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state.json")
	if err := os.WriteFile(state, []byte(`{"initiated": true, "members": ["mongodb-1:27017"], "users": {}, "version": 1,
		"collections": {"users": 7, "rocketchat_message": 1200, "rocketchat_room": 30, "system.views": 1}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join("testdata", "mongosh-sim.js"), script, state)
	cmd.Env = append(os.Environ(), "MONGODB_ROOT_PASSWORD=pw", "RCGEN_MONGO_HOSTS=mongodb-1:27017")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var r simRun
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	if r.ExitCode != 0 || !slices.Contains(r.Log, `print: {"collections":3,"users":7}`) {
		t.Errorf("counts.js: %+v", r)
	}
}
