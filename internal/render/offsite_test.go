package render_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/render/rendertest"
	"github.com/rcgen/rcgen/internal/spec"
)

// offsiteProfile is the golden profile that copies its backups to S3.
func offsiteProfile(t *testing.T) profile {
	t.Helper()
	for _, p := range profiles {
		if strings.HasPrefix(p.name, "offsite-s3") {
			return p
		}
	}
	t.Fatal("no offsite profile")
	return profile{}
}

// TestOffsiteAlertRules runs promtool's rule unit tests for the offsite
// alerts (testdata/rules-offsite-tests.yml) against the rules rcgen
// renders for the offsite profile.
func TestOffsiteAlertRules(t *testing.T) {
	rendertest.NeedTools(t, "promtool")
	d, err := rendertest.Write(context.Background(), t.TempDir(), generate(t, offsiteProfile(t)))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join("testdata", "rules-offsite-tests.yml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(d.Dir, "prometheus", "rules-offsite-tests.yml")
	if err := os.WriteFile(path, tests, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("promtool", "test", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// s3Server is `rclone serve s3` on a loopback port, serving root (each
// directory a bucket).
type s3Server struct {
	URL  string
	Root string
	cmd  *exec.Cmd
}

const (
	testAccessKey = "RCGENTESTACCESS"
	testSecretKey = "rcgen-test-secret/key+1"
)

// serveS3 starts rclone serve s3 with the test's keys and waits for it to
// say where it listens (its "Starting s3 server on" line).
func serveS3(t *testing.T, rclone string) *s3Server {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "rocketchat-backups"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rclone, "serve", "s3", "--config", "/dev/null", "--addr", "127.0.0.1:0",
		"--auth-key", testAccessKey+","+testSecretKey, root)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// A server that never says where it listens is ended, so the test
	// fails rather than hangs (a guard, not a timed assertion).
	guard := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() })
	defer guard.Stop()
	lines := bufio.NewScanner(stderr)
	re := regexp.MustCompile(`Starting s3 server on \[(http://127\.0\.0\.1:[0-9]+)/?\]`)
	for lines.Scan() {
		if m := re.FindStringSubmatch(lines.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			return &s3Server{URL: m[1], Root: root, cmd: cmd}
		}
	}
	t.Fatalf("rclone serve s3 ended without saying where it listens: %v", lines.Err())
	return nil
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// generateOffsite renders the offsite profile against endpoint.
func generateOffsite(t *testing.T, endpoint string) render.Files {
	p := offsiteProfile(t)
	inner := p.answers
	p.answers = func(a *spec.Answers) {
		inner(a)
		a.BackupS3Endpoint, a.BackupS3Region = endpoint, ""
		a.BackupS3AccessKey, a.BackupS3SecretKey = testAccessKey, testSecretKey
	}
	return generate(t, p)
}

// offsiteEnv is the backup script's harness with the real rclone on PATH,
// reading the rclone config rcgen generated (as RCLONE_CONFIG does in the
// container), retrying once so a failure comes back at once.
func offsiteEnv(t *testing.T, rclone, endpoint string) (*scriptEnv, []string) {
	t.Helper()
	s := newScriptEnvWith(t, generateOffsite(t, endpoint))
	if err := os.Symlink(rclone, filepath.Join(s.bin, "rclone")); err != nil {
		t.Fatal(err)
	}
	env := []string{"BACKUP_PASSPHRASE=correct horse battery staple",
		"RCLONE_CONFIG=" + filepath.Join(s.deployment, render.RcloneConfigFile),
		"RCLONE_RETRIES=1", "RCLONE_LOW_LEVEL_RETRIES=1", "RCLONE_CONTIMEOUT=10s"}
	return s, env
}

func (s *scriptEnv) offsiteMetrics() string {
	b, _ := os.ReadFile(filepath.Join(s.textfile, "rcgen_backup_offsite.prom"))
	return string(b)
}

// TestOffsiteCopiesChecksPrunesAndFetches runs backup.sh's offsite copy
// for real: rclone (the image's version) against rclone serve s3 on the
// loopback, with the rclone config rcgen generated. The backups the
// script wrote land in the bucket byte for byte, the retention prunes
// there too, a second pass copies nothing, and a copy fetched back
// restores through the normal checks.
func TestOffsiteCopiesChecksPrunesAndFetches(t *testing.T) {
	rclone := rendertest.NeedRclone(t)
	srv := serveS3(t, rclone)
	s, env := offsiteEnv(t, rclone, srv.URL)
	bucket := filepath.Join(srv.Root, "rocketchat-backups", "chat")

	scheduled := s.must(env, "scheduled")
	manual := s.must(env, "now")
	// Older scheduled copies already in the bucket: the profile keeps 7.
	if err := os.MkdirAll(bucket, 0o755); err != nil {
		t.Fatal(err)
	}
	var old []string
	for _, day := range []string{"01", "02", "03", "04", "05", "06", "07", "08", "09"} {
		n := "rocketchat-202601" + day + "T030000Z.tar"
		old = append(old, n)
		if err := os.WriteFile(filepath.Join(bucket, n), []byte("an older backup"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	foreign := "other-20260101T030000Z.tar"
	if err := os.WriteFile(filepath.Join(bucket, foreign), []byte("another deployment's"), 0o644); err != nil {
		t.Fatal(err)
	}

	_, errOut, err := s.run(env, "offsite")
	if err != nil {
		t.Fatalf("backup.sh offsite: %v\n%s", err, errOut)
	}
	for _, n := range []string{scheduled, manual} {
		want, _ := os.ReadFile(filepath.Join(s.backups, n))
		got, err := os.ReadFile(filepath.Join(bucket, n))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s in the bucket: %d bytes of %d, %v", n, len(got), len(want), err)
		}
		if !strings.Contains(errOut, "copied "+n+" to s3://rocketchat-backups/chat and checked it") {
			t.Errorf("the copy of %s was not checked:\n%s", n, errOut)
		}
	}
	var left []string
	entries, _ := os.ReadDir(bucket)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := append(slices.Clone(old[3:]), scheduled, manual, foreign)
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("the bucket after the pass:\n%v\nwant (the newest 7 scheduled, the labelled one, another deployment's)\n%v", left, want)
	}
	m := s.offsiteMetrics()
	for _, w := range []string{"rcgen_backup_offsite_last_run_success 1", "rcgen_backup_offsite_count 8", "rcgen_backup_offsite_last_success_timestamp_seconds "} {
		if !strings.Contains(m, w) {
			t.Errorf("metrics lack %q:\n%s", w, m)
		}
	}

	// A second pass finds every backup there: it copies nothing.
	if _, errOut, err := s.run(env, "offsite"); err != nil || strings.Contains(errOut, "copying") {
		t.Errorf("a second pass: %v\n%s", err, errOut)
	}

	// The list rcgen backup list shows: this deployment's copies, oldest first.
	list := s.must(env, "offsite-list")
	if strings.Contains(list, foreign) || !strings.Contains(list, manual) || !strings.HasPrefix(list, "15 "+old[3]) {
		t.Errorf("offsite-list:\n%s", list)
	}

	// Read back: the local copy is gone (a dead disk); fetch brings it
	// back into backups/, and it verifies and restores as any backup.
	if err := os.Remove(filepath.Join(s.backups, scheduled)); err != nil {
		t.Fatal(err)
	}
	if got := s.must(env, "fetch", scheduled); got != scheduled {
		t.Errorf("fetch printed %q", got)
	}
	if _, err := backup.Verify(filepath.Join(s.backups, scheduled)); err != nil {
		t.Errorf("the fetched copy does not verify: %v", err)
	}
	if out := s.must(env, "restore", scheduled); out != `{"collections":42,"users":7}` {
		t.Errorf("restore of the fetched copy printed %q", out)
	}
	if _, errOut, err := s.run(env, "fetch", "rocketchat-20250101T030000Z.tar"); err == nil || !strings.Contains(errOut, "no backup rocketchat-20250101T030000Z.tar at s3://rocketchat-backups/chat") {
		t.Errorf("fetch of a backup the bucket lacks: %v\n%s", err, errOut)
	}
	if _, errOut, err := s.run(env, "fetch", "../.env"); err == nil || !strings.Contains(errOut, "is not named as this deployment's backups are") {
		t.Errorf("fetch ../.env: %v\n%s", err, errOut)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(s.backups, ".tmp-*")); len(leftovers) > 0 {
		t.Errorf("fetch left %v", leftovers)
	}
}

// TestOffsiteFailuresSetTheMetrics: a wrong secret key and an unreachable
// endpoint fail the pass, say why, and set
// rcgen_backup_offsite_last_run_success to 0 (what OffsiteBackupFailing
// fires on: rules-offsite-tests.yml), keeping the time of the last good
// copy (what OffsiteBackupTooOld watches).
func TestOffsiteFailuresSetTheMetrics(t *testing.T) {
	rclone := rendertest.NeedRclone(t)
	srv := serveS3(t, rclone)
	s, env := offsiteEnv(t, rclone, srv.URL)
	s.must(env, "scheduled")
	s.must(env, "offsite")
	if m := s.offsiteMetrics(); !strings.Contains(m, "rcgen_backup_offsite_last_run_success 1") {
		t.Fatalf("a good pass:\n%s", m)
	}
	s.must(env, "now")
	conf := filepath.Join(s.deployment, render.RcloneConfigFile)
	good, _ := os.ReadFile(conf)
	for _, c := range []struct{ name, from, to, says string }{
		{"wrong key", "secret_access_key = " + testSecretKey, "secret_access_key = not-the-key", "SignatureDoesNotMatch"},
		{"unreachable endpoint", "endpoint = " + srv.URL, "endpoint = http://" + closedPort(t), "connection refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := strings.Replace(string(good), c.from, c.to, 1)
			if bad == string(good) {
				t.Fatalf("the rclone config has no %q:\n%s", c.from, good)
			}
			if err := os.WriteFile(conf, []byte(bad), 0o600); err != nil {
				t.Fatal(err)
			}
			_, errOut, err := s.run(env, "offsite")
			if err == nil || !strings.Contains(errOut, c.says) || !strings.Contains(errOut, "cannot list s3://rocketchat-backups/chat") {
				t.Errorf("backup.sh offsite with a %s: %v\n%s", c.name, err, errOut)
			}
			m := s.offsiteMetrics()
			if !strings.Contains(m, "rcgen_backup_offsite_last_run_success 0") || !strings.Contains(m, "rcgen_backup_offsite_last_success_timestamp_seconds ") {
				t.Errorf("metrics after a %s:\n%s", c.name, m)
			}
		})
	}
}

// serveSFTP starts rclone serve sftp on a loopback port, serving root to
// the user backup with the key it returns (a PEM private key), and waits
// for it to say where it listens.
func serveSFTP(t *testing.T, rclone string) (addr, root, key string, hostKey ssh.PublicKey) {
	t.Helper()
	dir := t.TempDir()
	root = filepath.Join(dir, "root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	keyPEM := func() (string, ssh.PublicKey) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		block, err := ssh.MarshalPrivateKey(priv, "")
		if err != nil {
			t.Fatal(err)
		}
		pub, err := ssh.NewPublicKey(priv.Public())
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(block)), pub
	}
	hostPEM, hostKey := keyPEM()
	key, pub := keyPEM()
	hostFile, authFile := filepath.Join(dir, "host_key"), filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(hostFile, []byte(hostPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(authFile, ssh.MarshalAuthorizedKey(pub), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rclone, "serve", "sftp", "--config", "/dev/null", "--addr", "127.0.0.1:0", "--key", hostFile,
		"--authorized-keys", authFile, "--user", "backup", root)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	guard := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() })
	defer guard.Stop()
	lines := bufio.NewScanner(stderr)
	re := regexp.MustCompile(`SFTP server listening on (127\.0\.0\.1:[0-9]+)`)
	for lines.Scan() {
		if m := re.FindStringSubmatch(lines.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			return m[1], root, key, hostKey
		}
	}
	t.Fatalf("rclone serve sftp ended without saying where it listens: %v", lines.Err())
	return "", "", "", nil
}

// TestOffsiteOverSFTP copies a backup the script wrote to rclone serve
// sftp with the sftp remote rcgen generated (its key file where the test
// keeps it, as the container sees the secret at /run/secrets), checks it
// there (the MD5 the server computes) and fetches it back.
func TestOffsiteOverSFTP(t *testing.T) {
	rclone := rendertest.NeedRclone(t)
	addr, root, key, hostKey := serveSFTP(t, rclone)
	host := "[" + strings.Replace(addr, ":", "]:", 1)
	p := offsiteProfile(t)
	inner := p.answers
	p.answers = func(a *spec.Answers) {
		inner(a)
		a.BackupS3Endpoint, a.BackupS3Region, a.BackupS3AccessKey, a.BackupS3SecretKey = "", "", "", ""
		a.BackupTarget, a.BackupSFTPKey = "sftp://backup@"+addr+"/~/rocketchat", key
		a.BackupSFTPKnownHosts = host + " " + string(ssh.MarshalAuthorizedKey(hostKey))
	}
	s := newScriptEnvWith(t, generate(t, p))
	if err := os.Symlink(rclone, filepath.Join(s.bin, "rclone")); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(s.deployment, render.SFTPKeyFile)
	knownHosts := filepath.Join(s.deployment, render.SFTPKnownHostsFile)
	conf := filepath.Join(s.deployment, render.RcloneConfigFile)
	b, _ := os.ReadFile(conf)
	local := strings.Replace(string(b), "key_file = "+render.SFTPKeyTarget, "key_file = "+keyFile, 1)
	local = strings.Replace(local, "known_hosts_file = "+render.SFTPKnownHostsTarget, "known_hosts_file = "+knownHosts, 1)
	if !strings.Contains(local, keyFile) || !strings.Contains(local, knownHosts) {
		t.Fatalf("the rclone config names no key file at %s or known_hosts at %s:\n%s", render.SFTPKeyTarget, render.SFTPKnownHostsTarget, b)
	}
	if err := os.WriteFile(conf, []byte(local), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"BACKUP_PASSPHRASE=correct horse battery staple", "RCLONE_CONFIG=" + conf,
		"RCLONE_RETRIES=1", "RCLONE_LOW_LEVEL_RETRIES=1", "RCLONE_CONTIMEOUT=10s"}
	name := s.must(env, "scheduled")
	_, errOut, err := s.run(env, "offsite")
	if err != nil || !strings.Contains(errOut, "copied "+name+" to sftp://backup@"+addr+"/~/rocketchat and checked it") {
		t.Fatalf("backup.sh offsite: %v\n%s", err, errOut)
	}
	want, _ := os.ReadFile(filepath.Join(s.backups, name))
	if got, err := os.ReadFile(filepath.Join(root, "rocketchat", name)); err != nil || string(got) != string(want) {
		t.Fatalf("the copy on the SFTP server: %d bytes of %d, %v", len(got), len(want), err)
	}
	if err := os.Remove(filepath.Join(s.backups, name)); err != nil {
		t.Fatal(err)
	}
	s.must(env, "fetch", name)
	if _, err := backup.Verify(filepath.Join(s.backups, name)); err != nil {
		t.Errorf("the copy fetched over SFTP does not verify: %v", err)
	}
	// Another server posing at that address (another host key): refused,
	// and the metrics say so.
	_, other, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _ := ssh.NewPublicKey(other.Public())
	if err := os.WriteFile(knownHosts, []byte(host+" "+string(ssh.MarshalAuthorizedKey(otherPub))), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := s.run(env, "offsite"); err == nil || !strings.Contains(errOut, "key mismatch") {
		t.Errorf("a server with another host key: %v\n%s", err, errOut)
	}
	if m := s.offsiteMetrics(); !strings.Contains(m, "rcgen_backup_offsite_last_run_success 0") {
		t.Errorf("metrics after a host key mismatch:\n%s", m)
	}
}

// busyboxPath is a directory of busybox's applets, with rclone: the PATH
// of rclone's Alpine image, whose sh is busybox's. Alpine's busybox has a
// flock applet (busybox util-linux/flock.c, by an Alpine developer);
// Debian's lacks it, so util-linux's stands in for it.
func busyboxPath(t *testing.T, rclone string) (busybox, dir string) {
	t.Helper()
	rendertest.NeedTools(t, "busybox")
	busybox, _ = exec.LookPath("busybox")
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	applets := strings.Fields(string(out))
	for _, a := range applets {
		if err := os.Symlink(busybox, filepath.Join(dir, a)); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Contains(applets, "flock") {
		flock, err := exec.LookPath("flock")
		if err != nil {
			t.Fatal("no flock")
		}
		if err := os.Symlink(flock, filepath.Join(dir, "flock")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(rclone, filepath.Join(dir, "rclone")); err != nil {
		t.Fatal(err)
	}
	return busybox, dir
}

// TestOffsiteUnderBusybox runs the offsite commands as the backup-offsite
// service runs them: under busybox's sh, with busybox's tools only (and
// rclone), on a backup the backup service (dash, GNU tools) wrote.
func TestOffsiteUnderBusybox(t *testing.T) {
	rclone := rendertest.NeedRclone(t)
	busybox, path := busyboxPath(t, rclone)
	srv := serveS3(t, rclone)
	s, env := offsiteEnv(t, rclone, srv.URL)
	name := s.must(env, "scheduled")
	bb := func(args ...string) (string, string, error) {
		cmd := exec.Command(busybox, append([]string{"sh", s.script}, args...)...)
		cmd.Env = append(append(slices.Clone(s.env), env...), "PATH="+path)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	if _, errOut, err := bb("offsite"); err != nil || !strings.Contains(errOut, "copied "+name+" to s3://rocketchat-backups/chat and checked it") {
		t.Fatalf("offsite under busybox: %v\n%s", err, errOut)
	}
	if out, errOut, err := bb("offsite-list"); err != nil || !strings.HasSuffix(strings.TrimSpace(out), " "+name) {
		t.Errorf("offsite-list under busybox: %v %q\n%s", err, out, errOut)
	}
	if err := os.Remove(filepath.Join(s.backups, name)); err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := bb("fetch", name); err != nil || strings.TrimSpace(out) != name {
		t.Fatalf("fetch under busybox: %v %q\n%s", err, out, errOut)
	}
	if _, err := backup.Verify(filepath.Join(s.backups, name)); err != nil {
		t.Errorf("the copy fetched under busybox does not verify: %v", err)
	}
	if m := s.offsiteMetrics(); !strings.Contains(m, "rcgen_backup_offsite_last_run_success 1") || !strings.Contains(m, "rcgen_backup_offsite_count 1") {
		t.Errorf("metrics under busybox:\n%s", m)
	}
}

// TestOffsiteDaemonUnderBusybox: the service's command (offsite-daemon,
// under busybox's sh) copies a backup at once, answers its health check,
// and ends on SIGTERM (compose stop) without waiting for its minute.
func TestOffsiteDaemonUnderBusybox(t *testing.T) {
	rclone := rendertest.NeedRclone(t)
	busybox, path := busyboxPath(t, rclone)
	srv := serveS3(t, rclone)
	s, env := offsiteEnv(t, rclone, srv.URL)
	name := s.must(env, "scheduled")
	stderr := filepath.Join(t.TempDir(), "stderr")
	f, err := os.Create(stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	envs := append(append(slices.Clone(s.env), env...), "PATH="+path)
	cmd := exec.Command(busybox, "sh", s.script, "offsite-daemon")
	cmd.Env = envs
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, stderr: stderr, done: make(chan error, 1)}
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() { killTree(cmd.Process.Pid); <-d.done })
	copied := filepath.Join(srv.Root, "rocketchat-backups", "chat", name)
	d.waitFor(t, copied)
	d.waitUntil(t, "the pass recorded", func() bool { return strings.Contains(s.offsiteMetrics(), "rcgen_backup_offsite_count 1") })
	health := exec.Command(busybox, "sh", s.script, "health")
	health.Env = envs
	if out, err := health.CombinedOutput(); err != nil {
		t.Errorf("health: %v %s", err, out)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		d.done <- err
		if err != nil {
			t.Errorf("the daemon ended with %v on SIGTERM:\n%s", err, d.log())
		}
	case <-time.After(time.Minute): // a bound for a broken run, not a timing
		t.Fatalf("the daemon did not end on SIGTERM:\n%s", d.log())
	}
}
