package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/backup/backuptest"
	"github.com/rcgen/rcgen/internal/render"
)

// writeFile writes content to a new file in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// s3Flags are the flags of an s3:// offsite target with its keys and a
// passphrase, their files in dir.
func s3Flags(t *testing.T, dir string) []string {
	return []string{"--backup-target", "s3://rocketchat-backups/chat", "--backup-s3-endpoint", "https://s3.example.com",
		"--backup-s3-access-key-file", writeFile(t, dir, "access", "AKIAOFFSITETEST\n"),
		"--backup-s3-secret-key-file", writeFile(t, dir, "secret", "offsite/Secret+Key\n"),
		"--backup-passphrase-file", writeFile(t, dir, "pass", "correct horse battery staple\n")}
}

// TestOffsiteS3KeysStayOutOfComposeAndAreKept: the S3 keys are in the
// deployment as files of mode 0600 (and the rclone config built from
// them), never in compose.yaml or rcgen.yaml; a re-run without their
// flags keeps them, one with a new key file replaces that key.
func TestOffsiteS3KeysStayOutOfComposeAndAreKept(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "d")
	if r := run(t, append([]string{"generate", "--yes", "--offline", "--out", out}, s3Flags(t, dir)...)...); r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	compose := string(mustRead(filepath.Join(out, render.ComposeFile)))
	answers := string(mustRead(filepath.Join(out, "rcgen.yaml")))
	for _, secret := range []string{"AKIAOFFSITETEST", "offsite/Secret+Key"} {
		if strings.Contains(compose, secret) || strings.Contains(answers, secret) {
			t.Errorf("a key is in compose.yaml or rcgen.yaml")
		}
	}
	if !strings.Contains(compose, "  backup-offsite:") || !strings.Contains(compose, "file: ./secrets/rclone.conf") || !strings.Contains(answers, `backup_target: "s3://rocketchat-backups/chat"`) {
		t.Errorf("no backup-offsite service reading the rclone config as a secret:\n%s", answers)
	}
	for _, f := range []string{render.RcloneConfigFile, render.S3AccessKeyFile, render.S3SecretKeyFile} {
		fi, err := os.Stat(filepath.Join(out, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", f, err)
		}
	}
	conf := string(mustRead(filepath.Join(out, render.RcloneConfigFile)))
	for _, want := range []string{"[offsite]\ntype = s3\nprovider = Other\n", "access_key_id = AKIAOFFSITETEST\n", "secret_access_key = offsite/Secret+Key\n", "endpoint = https://s3.example.com\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("rclone.conf lacks %q:\n%s", want, conf)
		}
	}
	// A re-run without the key files keeps them.
	if r := run(t, "generate", "--yes", "--offline", "--out", out); r.code != 0 || !strings.Contains(r.stdout+r.stderr, "Nothing to change") {
		t.Errorf("a re-run without the key files: exit %d:\n%s", r.code, r.stderr)
	}
	// A new access key replaces the old one, the secret key stays.
	newKey := writeFile(t, dir, "access2", "AKIANEWKEY\n")
	if r := run(t, "generate", "--yes", "--offline", "--out", out, "--backup-s3-access-key-file", newKey); r.code != 0 {
		t.Fatalf("a new key: exit %d:\n%s", r.code, r.stderr)
	}
	conf = string(mustRead(filepath.Join(out, render.RcloneConfigFile)))
	if !strings.Contains(conf, "access_key_id = AKIANEWKEY\n") || !strings.Contains(conf, "secret_access_key = offsite/Secret+Key\n") {
		t.Errorf("after a new access key:\n%s", conf)
	}
	// Switching to a directory: the endpoint rcgen.yaml keeps is given
	// for nothing (said at its line), until the flag empties it.
	r := run(t, "generate", "--yes", "--offline", "--out", out, "--backup-target", "/mnt/offsite/rocketchat")
	if r.code != 2 || !strings.Contains(r.stderr, "rcgen.yaml: line 21: backup_s3_endpoint: is given for nothing") {
		t.Errorf("a directory target with the S3 endpoint left: exit %d:\n%s", r.code, r.stderr)
	}
	if r := run(t, "generate", "--yes", "--offline", "--out", out, "--backup-target", "/mnt/offsite/rocketchat", "--backup-s3-endpoint="); r.code != 0 {
		t.Fatalf("a directory target: exit %d:\n%s", r.code, r.stderr)
	}
	compose = string(mustRead(filepath.Join(out, render.ComposeFile)))
	if !strings.Contains(compose, `- "/mnt/offsite/rocketchat:/offsite"`) || !strings.Contains(compose, "network_mode: none") {
		t.Errorf("a directory target is not mounted, or the copier has a network")
	}
}

// TestOffsiteRefusalsAllAtOnce: an offsite target without what it needs
// is refused, every problem at its flag, and nothing is written.
func TestOffsiteRefusalsAllAtOnce(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "d")
	r := run(t, "generate", "--yes", "--offline", "--out", out, "--backup-target", "s3://rocketchat-backups/chat")
	for _, want := range []string{
		"--backup-s3-endpoint: an s3:// target needs the service's URL",
		"--backup-s3-access-key-file: an s3:// target needs an access key",
		"--backup-s3-secret-key-file: an s3:// target needs a secret key",
		"--backup-target: backups are not encrypted, and would leave this host readable by whoever reads the bucket or the server: give --backup-passphrase-file, or --backup-unencrypted-offsite",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.code != 2 {
		t.Errorf("exit %d, want 2", r.code)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("something was written: %v", err)
	}
	// --backup-unencrypted-offsite says so: the unencrypted copy is accepted.
	flags := s3Flags(t, dir)
	flags = flags[:len(flags)-2] // no passphrase
	if r := run(t, append([]string{"generate", "--yes", "--offline", "--out", out, "--backup-unencrypted-offsite"}, flags...)...); r.code != 0 {
		t.Errorf("--backup-unencrypted-offsite: exit %d:\n%s", r.code, r.stderr)
	}
	// Options of another kind of target are given for nothing.
	r = run(t, "generate", "--yes", "--offline", "--out", filepath.Join(dir, "e"), "--backup-s3-region", "eu-central-1", "--backup-unencrypted-offsite")
	if r.code != 2 || !strings.Contains(r.stderr, "--backup-s3-region: is given for nothing") || !strings.Contains(r.stderr, "--backup-unencrypted-offsite: is given for nothing") {
		t.Errorf("options for nothing: exit %d:\n%s", r.code, r.stderr)
	}
	r = run(t, "generate", "--yes", "--offline", "--out", filepath.Join(dir, "f"), "--no-backup", "--backup-target", "/mnt/offsite")
	if r.code != 2 || !strings.Contains(r.stderr, "--backup-target: an offsite copy needs backups") {
		t.Errorf("an offsite copy without backups: exit %d:\n%s", r.code, r.stderr)
	}
}

// TestOffsiteSFTPKey: the SSH key is checked where it is given (a key
// with a passphrase cannot be used unattended; a public key is not a
// private key), and a good one lands in secrets/ and the rclone config
// names where the container sees it.
func TestOffsiteSFTPKey(t *testing.T) {
	dir := t.TempDir()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	locked, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("a passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := ssh.NewPublicKey(priv.Public())
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostPub, _ := ssh.NewPublicKey(hostPriv.Public())
	base := []string{"generate", "--yes", "--offline", "--backup-target", "sftp://backup@nas.example.com:2222/~/rocketchat",
		"--backup-passphrase-file", writeFile(t, dir, "pass", "correct horse battery staple\n")}
	// The server's host key: required, and for the host the target names.
	r := run(t, append(base, "--out", filepath.Join(dir, "no-hosts"), "--backup-sftp-key-file", writeFile(t, dir, "id0", string(pem.EncodeToMemory(plain))))...)
	if r.code != 2 || !strings.Contains(r.stderr, "--backup-sftp-known-hosts-file: an sftp:// target needs the server's host key") || !strings.Contains(r.stderr, "ssh-keyscan -p 2222 nas.example.com") {
		t.Errorf("no known_hosts: exit %d:\n%s", r.code, r.stderr)
	}
	other := writeFile(t, dir, "other_hosts", "other.example.com "+string(ssh.MarshalAuthorizedKey(hostPub)))
	r = run(t, append(base, "--out", filepath.Join(dir, "other-hosts"), "--backup-sftp-key-file", writeFile(t, dir, "id1", string(pem.EncodeToMemory(plain))), "--backup-sftp-known-hosts-file", other)...)
	if r.code != 2 || !strings.Contains(r.stderr, "--backup-sftp-known-hosts-file: the known_hosts file names no host [nas.example.com]:2222") {
		t.Errorf("known_hosts of another host: exit %d:\n%s", r.code, r.stderr)
	}
	base = append(base, "--backup-sftp-known-hosts-file", writeFile(t, dir, "known_hosts", "[nas.example.com]:2222 "+string(ssh.MarshalAuthorizedKey(hostPub))))
	for _, c := range []struct{ name, content, want string }{
		{"with a passphrase", string(pem.EncodeToMemory(locked)), "is protected by a passphrase"},
		{"a public key", string(ssh.MarshalAuthorizedKey(pub)), "is not an SSH private key"},
	} {
		out := filepath.Join(dir, "d-"+strings.ReplaceAll(c.name, " ", "-"))
		r := run(t, append(base, "--out", out, "--backup-sftp-key-file", writeFile(t, dir, c.name, c.content))...)
		if r.code != 2 || !strings.Contains(r.stderr, "--backup-sftp-key-file: ") || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d:\n%s", c.name, r.code, r.stderr)
		}
	}
	out := filepath.Join(dir, "d")
	key := string(pem.EncodeToMemory(plain))
	if r := run(t, append(base, "--out", out, "--backup-sftp-key-file", writeFile(t, dir, "id", key))...); r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if got := string(mustRead(filepath.Join(out, render.SFTPKeyFile))); got != key {
		t.Errorf("the key in secrets/ is not the one given")
	}
	conf := string(mustRead(filepath.Join(out, render.RcloneConfigFile)))
	if !strings.Contains(conf, "type = sftp\nhost = nas.example.com\nuser = backup\nport = 2222\nkey_file = /run/secrets/backup_sftp_key\n") ||
		!strings.Contains(conf, "known_hosts_file = /run/secrets/backup_sftp_known_hosts\n") {
		t.Errorf("rclone.conf:\n%s", conf)
	}
	if !strings.Contains(string(mustRead(filepath.Join(out, "backup", "backup.sh"))), "remote=offsite:rocketchat\n") {
		t.Error("backup.sh does not copy to the path from the login directory (/~/rocketchat)")
	}
}

// offsiteDocker answers the backup-offsite service's commands as a
// running stack with copies at the target; fetch writes the backup
// fetched into backups/.
type offsiteDocker struct {
	log     []string
	listing string
	fetched []backuptest.Member
	dir     string
	listErr error
}

func (f *offsiteDocker) run(_ context.Context, _ string, args ...string) ([]byte, error) {
	line := strings.Join(args, " ")
	f.log = append(f.log, line)
	switch {
	case strings.Contains(line, "backup-offsite sh /rcgen/backup.sh offsite-list"):
		return []byte(f.listing), f.listErr
	case strings.Contains(line, "backup-offsite sh /rcgen/backup.sh fetch "):
		name := args[len(args)-1]
		if err := backuptest.WriteTar(filepath.Join(f.dir, render.BackupsDir, name), f.fetched); err != nil {
			return nil, err
		}
		return []byte(name + "\n"), nil
	case strings.Contains(line, " now pre-restore"):
		return []byte("rocketchat-20261124T040000Z-pre-restore.tar\n"), nil
	case strings.Contains(line, " stop "):
		return nil, errors.New("docker compose stop: the test ends here")
	}
	return nil, nil
}

// TestBackupListAndRestoreReachTheOffsiteTarget: backup list marks which
// backups are offsite and lists those found only there (text and JSON);
// restore fetches one found only there, checks it as any backup, and goes
// on. A target that cannot be listed is a warning, not a failure.
func TestBackupListAndRestoreReachTheOffsiteTarget(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "d")
	if r := run(t, append([]string{"generate", "--yes", "--offline", "--out", out}, s3Flags(t, dir)...)...); r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	env := envOf(t, mustRead(filepath.Join(out, render.EnvFile)))
	m := backup.Manifest{Format: backup.Format, Project: "rocketchat", DeploymentID: env[render.EnvDeploymentID],
		RocketChatVersion: env[render.EnvRocketChatVersion], MongoDBVersion: env[render.EnvMongoDBVersion],
		Counts: backup.Counts{Collections: 90, Users: 12}}
	build := func(name string) []backuptest.Member {
		m := m
		m.Name = strings.TrimSuffix(name, ".tar")
		members, err := backuptest.Build(m, env[render.EnvBackupPassphrase], []byte("\x1f\x8b\x08\x00DUMP"), filesArchive(t))
		if err != nil {
			t.Fatal(err)
		}
		return members
	}
	local, notCopied, remoteOnly := "rocketchat-20261124T030000Z.tar", "rocketchat-20261125T030000Z.tar", "rocketchat-20261120T030000Z.tar"
	for _, n := range []string{local, notCopied} {
		if err := backuptest.WriteTar(filepath.Join(out, render.BackupsDir, n), build(n)); err != nil {
			t.Fatal(err)
		}
	}
	fi, _ := os.Stat(filepath.Join(out, render.BackupsDir, local))
	f := &offsiteDocker{dir: out, fetched: build(remoteOnly),
		listing: "4096 " + remoteOnly + "\n" + itoa(fi.Size()) + " " + local + "\n"}
	r := runEnv(func(e *Env) { e.Docker = f.run }, "backup", "list", "--dir", out)
	if r.code != 0 {
		t.Fatalf("backup list: exit %d:\n%s", r.code, r.stderr)
	}
	lines := strings.Split(r.stdout, "\n")
	if !strings.HasSuffix(lines[0], "OFFSITE") || !strings.HasSuffix(strings.TrimSpace(rowOf(lines, notCopied)), "no") ||
		!strings.HasSuffix(strings.TrimSpace(rowOf(lines, local)), "yes") || !strings.Contains(r.stdout, "At the offsite target only") ||
		!strings.HasPrefix(rowOf(lines, remoteOnly), remoteOnly+"  ") {
		t.Errorf("backup list:\n%s", r.stdout)
	}
	r = runEnv(func(e *Env) { e.Docker = f.run }, "backup", "list", "--dir", out, "--json")
	var js struct {
		Backups []struct {
			Name    string `json:"name"`
			Offsite *bool  `json:"offsite"`
		} `json:"backups"`
		Offsite struct {
			Listed bool `json:"listed"`
			Copies []struct {
				Name string `json:"name"`
			} `json:"copies"`
		} `json:"offsite"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &js); err != nil || !js.Offsite.Listed || len(js.Offsite.Copies) != 2 || len(js.Backups) != 2 ||
		js.Backups[0].Offsite == nil || *js.Backups[0].Offsite || !*js.Backups[1].Offsite {
		t.Errorf("backup list --json: %v\n%s", err, r.stdout)
	}
	// The target unreachable: a warning, the local backups all the same.
	f.listErr = errors.New("exit status 1: cannot list s3://rocketchat-backups/chat")
	r = runEnv(func(e *Env) { e.Docker = f.run }, "backup", "list", "--dir", out)
	if r.code != 0 || !strings.Contains(r.stderr, "Warning: the copies at the offsite target are not listed") || !strings.Contains(r.stdout, local) {
		t.Errorf("an unreachable target: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	f.listErr = nil

	// Restore a backup found only offsite: fetched, checked, then the
	// pre-restore backup and the stop.
	f.log = nil
	r = runEnv(func(e *Env) { e.Docker = f.run }, "restore", remoteOnly, "--dir", out, "--yes")
	if !strings.Contains(r.stderr, "fetching it from the offsite target") || !strings.Contains(r.stderr, "the test ends here") ||
		len(f.log) != 3 || !strings.HasSuffix(f.log[0], "backup-offsite sh /rcgen/backup.sh fetch "+remoteOnly) || !strings.Contains(f.log[1], "now pre-restore") {
		t.Errorf("restore of an offsite-only backup: exit %d, docker %q:\n%s", r.code, f.log, r.stderr)
	}
	// A fetched copy that does not check out is refused before anything stops.
	other := "rocketchat-20261119T030000Z.tar"
	f.fetched = build(other)
	f.fetched[2].Data = append([]byte(nil), f.fetched[2].Data...)
	f.fetched[2].Data[20] ^= 1
	f.log = nil
	r = runEnv(func(e *Env) { e.Docker = f.run }, "restore", other, "--dir", out, "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "nothing was changed") || len(f.log) != 1 {
		t.Errorf("a damaged fetched copy: exit %d, docker %q:\n%s", r.code, f.log, r.stderr)
	}
}

func rowOf(lines []string, name string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, name) {
			return l
		}
	}
	return ""
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
