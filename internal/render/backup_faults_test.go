package render_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/backup/backuptest"
	"github.com/rcgen/rcgen/internal/render"
)

const passphrase = "correct horse battery staple"

// secrets are what must never be on disk in plain text when backups are
// encrypted: the dump, every secret of .env, the keyfile, the uploads.
func (s *scriptEnv) secrets() []string {
	s.t.Helper()
	out := []string{"DUMP-OF-THE-SET", uploaded}
	env := envOf(s.t, mustRead(s.t, filepath.Join(s.deployment, render.EnvFile)))
	for k, v := range env {
		if render.SecretEnvKeys[k] && len(v) >= 8 {
			out = append(out, v)
		}
	}
	key := mustRead(s.t, filepath.Join(s.deployment, filepath.FromSlash(render.MongoKeyfile)))
	out = append(out, string(bytes.TrimSpace(key)[:40]))
	slices.Sort(out)
	return out
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// plainText lists the secrets found in the files under dir: in their
// bytes, in what they decompress to (gzip) and in their members (tar),
// however cut they are.
func plainText(t *testing.T, dir string, secrets []string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, f := range scan(b, secrets, 0) {
			found = append(found, fmt.Sprintf("%s holds %.12q...", strings.TrimPrefix(path, dir+"/"), f))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func scan(b []byte, secrets []string, depth int) []string {
	var found []string
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) {
			found = append(found, s)
		}
	}
	if depth > 3 {
		return found
	}
	if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
		if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			u, _ := io.ReadAll(zr) // what a cut file still gives
			found = append(found, scan(u, secrets, depth+1)...)
		}
	}
	if len(b) >= 262 && string(b[257:262]) == "ustar" {
		tr := tar.NewReader(bytes.NewReader(b))
		for {
			if _, err := tr.Next(); err != nil {
				break
			}
			m, _ := io.ReadAll(tr)
			found = append(found, scan(m, secrets, depth+1)...)
		}
	}
	return found
}

// steps runs one scheduled backup and lists the calls it makes of the
// tools that count as steps (the stand-ins and wrapped), in the order
// each tool made them.
func (s *scriptEnv) steps(extraEnv []string) []string {
	s.t.Helper()
	dir := s.t.TempDir()
	s.must(append(slices.Clone(extraEnv), "STUB_STEPS="+dir), "scheduled")
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	if len(out) < 8 {
		s.t.Fatalf("a backup made %d steps: %v", len(out), out)
	}
	return out
}

// daemon is the backup service's daemon, started as the container starts it.
type daemon struct {
	cmd    *exec.Cmd
	stderr string
	done   chan error
}

func (s *scriptEnv) startDaemon(extraEnv []string) *daemon {
	s.t.Helper()
	stderr := filepath.Join(s.t.TempDir(), "stderr")
	f, err := os.Create(stderr)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("sh", s.script, "daemon")
	cmd.Env = append(slices.Clone(s.env), extraEnv...)
	// Files, not pipes: what the daemon leaves running must not hold Wait.
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	d := &daemon{cmd: cmd, stderr: stderr, done: make(chan error, 1)}
	go func() { d.done <- cmd.Wait() }()
	s.t.Cleanup(func() { killTree(cmd.Process.Pid); <-d.done })
	return d
}

func (d *daemon) log() string {
	b, _ := os.ReadFile(d.stderr)
	return string(b)
}

// waitFor waits until path exists.
func (d *daemon) waitFor(t *testing.T, path string) {
	t.Helper()
	d.waitUntil(t, path+" exists", func() bool {
		_, err := os.Stat(path)
		return err == nil
	})
}

// waitUntil waits until ok (or the daemon ends, or a minute: a bound for
// a broken run, not a timing).
func (d *daemon) waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	bound := time.After(time.Minute)
	for !ok() {
		select {
		case err := <-d.done:
			d.done <- err
			t.Fatalf("the daemon ended (%v) before %s:\n%s", err, what, d.log())
		case <-bound:
			t.Fatalf("not yet %s:\n%s", what, d.log())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// descendants lists the processes under pid (from /proc).
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		children[pp] = append(children[pp], p)
	}
	var out []int
	for queue := []int{pid}; len(queue) > 0; queue = queue[1:] {
		for _, c := range children[queue[0]] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// killTree ends pid and everything under it at once, as the kernel does
// to a container's processes when Docker kills it: stopped first, so that
// none starts another meanwhile.
func killTree(pid int) {
	all := append([]int{pid}, descendants(pid)...)
	for _, p := range all {
		syscall.Kill(p, syscall.SIGSTOP)
	}
	all = append(all, descendants(pid)...)
	for _, p := range all {
		syscall.Kill(p, syscall.SIGKILL)
	}
}

// TestBackupKilledAtEachStepLeavesNoPlainText stops the backup service
// while a backup runs, at each step of it (each call of mongodump, mongosh,
// tar, openssl, sha256sum and the final rename, and mongodump once it has
// written its dump): with SIGTERM, as docker compose stop does, the
// daemon ends the backup at once, removes what it wrote and exits; with
// SIGKILL, as Docker does after the stop grace period, what is left holds
// no plain text when a passphrase is set, is never named like a backup,
// and the next run removes it.
func TestBackupKilledAtEachStepLeavesNoPlainText(t *testing.T) {
	for _, encrypted := range []bool{true, false} {
		t.Run(map[bool]string{true: "encrypted", false: "unencrypted"}[encrypted], func(t *testing.T) {
			s := newScriptEnv(t)
			var env []string
			if encrypted {
				env = []string{"BACKUP_PASSPHRASE=" + passphrase}
			}
			secrets := s.secrets()
			steps := s.steps(env)
			if err := os.RemoveAll(s.backups); err != nil {
				t.Fatal(err)
			}
			for _, step := range steps {
				for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
					dir := t.TempDir()
					d := s.startDaemon(append(slices.Clone(env), "STUB_STEPS="+dir, "STUB_PAUSE_AT="+step, "STUB_SLEEP_INSTANT=1"))
					d.waitFor(t, filepath.Join(dir, "paused"))
					what := fmt.Sprintf("%v at %s", sig, step)
					if sig == syscall.SIGTERM {
						// The init forwards SIGTERM to the daemon alone.
						syscall.Kill(d.cmd.Process.Pid, syscall.SIGTERM)
						select {
						case err := <-d.done:
							d.done <- err
							if err != nil {
								t.Errorf("%s: the daemon exited with %v:\n%s", what, err, d.log())
							}
						case <-time.After(30 * time.Second): // the service's stop_grace_period
							t.Errorf("%s: the daemon is still running when compose would kill it:\n%s", what, d.log())
							killTree(d.cmd.Process.Pid)
						}
					} else {
						killTree(d.cmd.Process.Pid)
						<-d.done
						d.done <- nil
					}
					if encrypted {
						if found := plainText(t, s.backups, secrets); len(found) > 0 {
							t.Errorf("%s: plain text left in backups/: %s", what, strings.Join(found, "; "))
						}
					}
					list, err := backup.List(s.backups)
					if err != nil || len(list) > 0 {
						t.Errorf("%s: a file is named like a backup: %v %v", what, list, err)
					}
					entries, _ := os.ReadDir(s.backups)
					left := map[string]bool{}
					for _, e := range entries {
						if n, ok := strings.CutPrefix(e.Name(), ".tmp-"); ok {
							left[strings.TrimSuffix(n, ".tar")] = true
						}
					}
					if sig == syscall.SIGTERM && len(left) > 0 {
						t.Errorf("%s: the daemon left %v in backups/", what, entries)
					}
					// Each run starts by removing what the last one left.
					if len(left) > 1 {
						t.Errorf("%s: leftovers of %d runs in backups/: %v", what, len(left), entries)
					}
					if sig == syscall.SIGTERM {
						if tmp, _ := os.ReadDir(s.tmp); slices.ContainsFunc(tmp, func(e os.DirEntry) bool { return strings.HasPrefix(e.Name(), "rcgen-tools.") }) {
							t.Errorf("%s: the tools' config (the root password) is left in TMPDIR", what)
						}
					}
				}
			}
			// The next run removes what the last one left, and succeeds.
			name := s.must(env, "scheduled")
			entries, _ := os.ReadDir(s.backups)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".tmp-") {
					t.Errorf("after a whole run, %s is still in backups/", e.Name())
				}
			}
			if _, err := backup.Verify(filepath.Join(s.backups, name)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestBackupDaemonKeepsTheLastResult: a failed run is still reported
// failed after the service restarts.
func TestBackupDaemonKeepsTheLastResult(t *testing.T) {
	s := newScriptEnv(t)
	metrics := filepath.Join(s.textfile, "rcgen_backup.prom")
	for _, c := range []struct {
		marker bool
		want   string
	}{{true, "rcgen_backup_last_run_success 0"}, {false, "rcgen_backup_last_run_success 1"}} {
		marker := filepath.Join(s.backups, ".restore-in-progress")
		if c.marker {
			if err := os.MkdirAll(s.backups, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(marker, []byte("x.tar\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.run(nil, "scheduled"); err == nil {
				t.Fatal("a backup ran during a restore")
			}
			os.Remove(marker)
		} else {
			s.must(nil, "scheduled")
		}
		os.Remove(metrics)
		// The service restarts: the daemon writes its metrics, then waits
		// for the schedule.
		d := s.startDaemon(nil)
		d.waitUntil(t, "waiting for the schedule", func() bool { return strings.Contains(d.log(), "next backup at") })
		if got := string(mustRead(t, metrics)); !strings.Contains(got, c.want) {
			t.Errorf("after a restart, the metrics say:\n%s\nwant %q", got, c.want)
		}
		syscall.Kill(d.cmd.Process.Pid, syscall.SIGTERM)
		if err := <-d.done; err != nil {
			t.Errorf("the daemon exited with %v on SIGTERM", err)
		}
		d.done <- nil
	}
}

// TestBackupScriptRefusesBeforeChangingAnything: an encrypted backup
// cut, changed (checksums too) or encrypted with another passphrase is
// refused by backup.sh restore before it drops or restores anything, and
// it says which; what the script writes, rcgen authenticates, and what
// rcgen's Go writes (backuptest), the script restores: the two agree.
func TestBackupScriptRefusesBeforeChangingAnything(t *testing.T) {
	s := newScriptEnv(t)
	pass := []string{"BACKUP_PASSPHRASE=" + passphrase}
	name := s.must(pass, "now")
	path := filepath.Join(s.backups, name)
	m, err := backup.Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := backup.Authenticate(path, m, passphrase); err != nil {
		t.Fatalf("rcgen does not authenticate what backup.sh wrote: %v", err)
	}
	if err := backup.Authenticate(path, m, "another"); !errors.Is(err, backup.ErrWrongPassphrase) {
		t.Errorf("rcgen, another passphrase: %v", err)
	}
	good, err := backuptest.ReadTar(path)
	if err != nil {
		t.Fatal(err)
	}
	changed := slices.Clone(good)
	changed[2].Data = slices.Clone(changed[2].Data)
	changed[2].Data[len(changed[2].Data)-1] ^= 1
	if changed, err = backuptest.Rehash(changed); err != nil {
		t.Fatal(err)
	}
	b := mustRead(t, path)
	// Cut in the middle of the last file (GNU tar pads the end with zeros).
	last := good[len(good)-1].Data
	cut := bytes.Index(b, last) + len(last)/2
	cases := []struct {
		name  string
		write func(string) error
		env   []string
		want  string
	}{
		{"another passphrase", func(p string) error { return os.WriteFile(p, b, 0o600) }, []string{"BACKUP_PASSPHRASE=another"},
			"does not decrypt with this deployment's BACKUP_PASSPHRASE"},
		{"changed, checksums and all", func(p string) error { return backuptest.WriteTar(p, changed) }, pass,
			"is damaged or was changed after it was written"},
		{"cut", func(p string) error { return os.WriteFile(p, b[:cut], 0o600) }, pass, "is damaged"},
		{"no manifest.hmac", func(p string) error { return backuptest.WriteTar(p, append([]backuptest.Member{good[0]}, good[2:]...)) }, pass,
			"it has no manifest.hmac"},
	}
	for i, c := range cases {
		n := fmt.Sprintf("rocketchat-20260101T00000%dZ.tar", i)
		if err := c.write(filepath.Join(s.backups, n)); err != nil {
			t.Fatal(err)
		}
		os.Truncate(s.log, 0)
		_, errOut, err := s.run(c.env, "restore", n)
		if err == nil || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: %v, want %q:\n%s", c.name, err, c.want, errOut)
		}
		if log, _ := os.ReadFile(s.log); strings.Contains(string(log), "dropDatabase") || strings.Contains(string(log), "mongorestore") {
			t.Errorf("%s: the restore changed the database before refusing:\n%s", c.name, log)
		}
	}

	// What rcgen's Go writes (format 2, and format 1 as older rcgens
	// wrote it), backup.sh restores.
	var dumpGz, files bytes.Buffer
	zw := gzip.NewWriter(&dumpGz)
	zw.Write([]byte("DUMP-OF-THE-SET"))
	zw.Close()
	zw = gzip.NewWriter(&files)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "./uploads/avatar.png", Mode: 0o644, Size: int64(len(uploaded)), Typeflag: tar.TypeReg})
	tw.Write([]byte(uploaded))
	tw.Close()
	zw.Close()
	for _, format := range []int{backup.Format, backup.FormatV1} {
		m := backup.Manifest{Format: format, Project: "rocketchat", RocketChatVersion: "8.8.1", MongoDBVersion: "8.0.32-ubi9"}
		members, err := backuptest.Build(m, passphrase, dumpGz.Bytes(), files.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		n := fmt.Sprintf("rocketchat-20250101T00000%dZ.tar", format)
		if err := backuptest.WriteTar(filepath.Join(s.backups, n), members); err != nil {
			t.Fatal(err)
		}
		if out := s.must(pass, "restore", n); out != `{"collections":42,"users":7}` {
			t.Errorf("format %d: restore printed %q", format, out)
		}
		if got, err := os.ReadFile(filepath.Join(filepath.Dir(s.backups), "volumes", "uploads", "avatar.png")); err != nil || string(got) != uploaded {
			t.Errorf("format %d: the uploads are not restored: %q %v", format, got, err)
		}
		if _, errOut, err := s.run([]string{"BACKUP_PASSPHRASE=another"}, "restore", n); err == nil || !strings.Contains(errOut, "does not decrypt") {
			t.Errorf("format %d, another passphrase: %v\n%s", format, err, errOut)
		}
	}
}
