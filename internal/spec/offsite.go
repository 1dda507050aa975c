package spec

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Offsite target kinds (BackupTarget.Kind).
const (
	OffsiteNone = ""     // backups/ only
	OffsiteDir  = "dir"  // a directory of this host (another disk)
	OffsiteS3   = "s3"   // an S3-compatible bucket
	OffsiteSFTP = "sftp" // an SFTP server
)

// BackupTarget is a parsed backup_target: where every finished backup is
// copied besides backups/.
type BackupTarget struct {
	Kind string
	// Dir is the host directory (OffsiteDir).
	Dir string
	// Bucket and Prefix (OffsiteS3): Prefix without slashes at either end.
	Bucket, Prefix string
	// User, Host, Port and Path (OffsiteSFTP). Path is as rclone takes it:
	// absolute ("/srv/backups"), or from the login directory ("backups",
	// written /~/backups in the URL).
	User, Host string
	Port       int
	Path       string
}

// Remote reports whether the target is off this host (the archives leave
// it: they must be encrypted, or the person must say so).
func (t BackupTarget) Remote() bool { return t.Kind == OffsiteS3 || t.Kind == OffsiteSFTP }

var (
	bucketRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	segmentRe = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	sftpUser  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,31}$`)
	regionRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

const targetForms = "give a directory of this host (/mnt/offsite/rocketchat), s3://BUCKET/PREFIX (with {backup_s3_endpoint}) or sftp://USER@HOST[:PORT]/PATH (with {backup_sftp_key})"

// ParseBackupTarget reads a backup_target answer.
func ParseBackupTarget(s string) (BackupTarget, error) {
	switch {
	case s == "":
		return BackupTarget{}, nil
	case strings.HasPrefix(s, "/"):
		if err := plainSegments(s[1:], s); err != nil {
			return BackupTarget{}, err
		}
		return BackupTarget{Kind: OffsiteDir, Dir: s}, nil
	case strings.HasPrefix(s, "s3://"):
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(s, "s3://"), "/")
		if !bucketRe.MatchString(bucket) || strings.Contains(bucket, "..") {
			return BackupTarget{}, fmt.Errorf("%q: the bucket %q is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens): give s3://BUCKET/PREFIX", s, bucket)
		}
		if prefix != "" {
			if err := plainSegments(prefix, s); err != nil {
				return BackupTarget{}, err
			}
		}
		return BackupTarget{Kind: OffsiteS3, Bucket: bucket, Prefix: prefix}, nil
	case strings.HasPrefix(s, "sftp://"):
		return parseSFTP(s)
	case strings.Contains(s, "://"):
		return BackupTarget{}, fmt.Errorf("%q: rcgen copies backups to a directory, s3:// or sftp://: %s", s, targetForms)
	}
	return BackupTarget{}, fmt.Errorf("%q is not a backup target: %s", s, targetForms)
}

// plainSegments checks a path of names joined by single slashes, each of
// letters, digits, dots, hyphens and underscores, none "." or "..": it
// goes into a compose file, a shell script and rclone's command line as
// it is.
func plainSegments(p, whole string) error {
	if p == "" {
		return fmt.Errorf("%q is the root directory: give a directory for the backups, e.g. /mnt/offsite/rocketchat", whole)
	}
	for _, seg := range strings.Split(p, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("%q has an empty path segment (// or a trailing /): write the path without it", whole)
		case seg == "." || seg == "..":
			return fmt.Errorf("%q has a %q segment: write the path plainly", whole, seg)
		case !segmentRe.MatchString(seg):
			return fmt.Errorf("%q: the path segment %q has characters other than letters, digits, '.', '-' and '_': rename it", whole, seg)
		}
	}
	return nil
}

func parseSFTP(s string) (BackupTarget, error) {
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return BackupTarget{}, fmt.Errorf("%q is not an sftp URL: give sftp://USER@HOST[:PORT]/PATH", s)
	}
	t := BackupTarget{Kind: OffsiteSFTP, Port: 22}
	if u.User == nil || u.User.Username() == "" {
		return BackupTarget{}, fmt.Errorf("%q names no user: give sftp://USER@HOST[:PORT]/PATH", s)
	}
	if _, has := u.User.Password(); has {
		return BackupTarget{}, fmt.Errorf("%q holds a password: rcgen logs in with a key, never a password in a URL (rcgen.yaml is not secret): drop it and give {backup_sftp_key}", s)
	}
	t.User = u.User.Username()
	if !sftpUser.MatchString(t.User) {
		return BackupTarget{}, fmt.Errorf("%q: the user %q is not a login name (letters, digits, '.', '-', '_')", s, t.User)
	}
	t.Host = u.Hostname()
	if t.Host == "" || ValidateDomain(t.Host) != nil && net.ParseIP(t.Host) == nil {
		return BackupTarget{}, fmt.Errorf("%q: %q is not a host name or address: give sftp://USER@HOST[:PORT]/PATH", s, t.Host)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return BackupTarget{}, fmt.Errorf("%q: the port %q is not 1 to 65535", s, p)
		}
		t.Port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return BackupTarget{}, fmt.Errorf("%q: the port is empty: give HOST:PORT, or leave the : out for 22", s)
	}
	p := u.Path
	if rest, ok := strings.CutPrefix(p, "/~/"); ok {
		if err := plainSegments(rest, s); err != nil {
			return BackupTarget{}, err
		}
		t.Path = rest
		return t, nil
	}
	if err := plainSegments(strings.TrimPrefix(p, "/"), s); err != nil {
		return BackupTarget{}, err
	}
	t.Path = p
	return t, nil
}

// ValidateS3Endpoint checks the URL of an S3-compatible service.
func ValidateS3Endpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not the URL of an S3 service: give e.g. https://s3.eu-central-1.amazonaws.com", s)
	}
	if u.User != nil {
		return fmt.Errorf("%q holds a login: give the keys in {backup_s3_access_key} and {backup_s3_secret_key}, never in the URL", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return fmt.Errorf("%q has a path or a query: give the service's URL alone (the bucket goes in {backup_target}, s3://BUCKET/PREFIX)", s)
	}
	h := u.Hostname()
	if ValidateDomain(h) != nil && net.ParseIP(h) == nil && h != "localhost" {
		return fmt.Errorf("%q: %q is not a host name or address", s, h)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: the port %q is not 1 to 65535", s, p)
		}
	}
	return nil
}

// credential checks an S3 key read from a file: printable ASCII, no
// blanks (it goes into rclone's config file as it is).
func credential(what, v string) error {
	if v == "" {
		return nil
	}
	if len(v) > 256 {
		return fmt.Errorf("the %s is longer than 256 characters, which no S3 key is: check the file", what)
	}
	for _, r := range v {
		if r <= ' ' || r >= 0x7f {
			return fmt.Errorf("the %s holds a blank, a newline or a character outside ASCII: write the key alone in the file", what)
		}
	}
	return nil
}

// ValidateSFTPKey checks an SSH private key: one rclone can use
// unattended (no passphrase).
func ValidateSFTPKey(pem string) error {
	if pem == "" {
		return nil
	}
	_, err := ssh.ParseRawPrivateKey([]byte(pem))
	var pm *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &pm):
		return errors.New("the SSH key is protected by a passphrase, and the backup service copies unattended: give a copy without one (ssh-keygen -p -N '' -f COPY), readable by root only")
	case err != nil:
		return fmt.Errorf("the file is not an SSH private key (%v): give the private key, e.g. ~/.ssh/id_ed25519, not the .pub", err)
	}
	return nil
}

// checkOffsite checks the offsite answers against each other, against
// backups and encryption.
func (a Answers) checkOffsite() []error {
	t, err := ParseBackupTarget(a.BackupTarget)
	if err != nil {
		return nil // CheckKey reported it
	}
	var errs []error
	add := func(key, msg string) { errs = append(errs, &FieldError{Key: key, Msg: msg}) }
	if t.Kind != OffsiteNone && !a.Backup {
		add(KeyBackupTarget, "an offsite copy needs backups: turn backups back on, or drop {backup_target}")
	}
	if t.Kind == OffsiteS3 {
		if a.BackupS3Endpoint == "" {
			add(KeyS3Endpoint, "an s3:// target needs the service's URL: give {backup_s3_endpoint}, e.g. https://s3.eu-central-1.amazonaws.com")
		}
		if a.BackupS3AccessKey == "" {
			add(KeyS3AccessKey, "an s3:// target needs an access key: give it in a file with {backup_s3_access_key}")
		}
		if a.BackupS3SecretKey == "" {
			add(KeyS3SecretKey, "an s3:// target needs a secret key: give it in a file with {backup_s3_secret_key}")
		}
	} else {
		for _, x := range []struct{ key, v string }{{KeyS3Endpoint, a.BackupS3Endpoint}, {KeyS3Region, a.BackupS3Region}, {KeyS3AccessKey, a.BackupS3AccessKey}, {KeyS3SecretKey, a.BackupS3SecretKey}} {
			if x.v != "" {
				add(x.key, "is given for nothing: it is for an s3:// {backup_target}; drop it (given empty, it goes from rcgen.yaml), or give one")
			}
		}
	}
	if t.Kind == OffsiteSFTP {
		if a.BackupSFTPKey == "" {
			add(KeySFTPKey, "an sftp:// target needs the SSH private key the backup service logs in with: give it in a file with {backup_sftp_key}")
		}
		hosts, err := KnownHosts(a.BackupSFTPKnownHosts)
		name := t.Host
		if t.Port != 22 {
			name = fmt.Sprintf("[%s]:%d", t.Host, t.Port)
		}
		switch {
		case a.BackupSFTPKnownHosts == "":
			add(KeySFTPKnownHosts, fmt.Sprintf("an sftp:// target needs the server's host key, or a machine in the way could pose as the server: give a known_hosts file with {backup_sftp_known_hosts} (ssh-keyscan -p %d %s > known_hosts, then compare its fingerprint with the server's own: ssh-keygen -lf known_hosts)", t.Port, t.Host))
		case err == nil && !hosts.Hashed && !slices.Contains(hosts.Names, name):
			add(KeySFTPKnownHosts, fmt.Sprintf("the known_hosts file names no host %s (it names %s): give the key of the server {backup_target} names", name, strings.Join(hosts.Names, ", ")))
		}
	} else {
		for _, x := range []struct{ key, v string }{{KeySFTPKey, a.BackupSFTPKey}, {KeySFTPKnownHosts, a.BackupSFTPKnownHosts}} {
			if x.v != "" {
				add(x.key, "is given for nothing: it is for an sftp:// {backup_target}; drop it, or give one")
			}
		}
	}
	if t.Remote() && a.BackupPassphrase == "" && !a.BackupUnencryptedOffsite {
		add(KeyBackupTarget, "backups are not encrypted, and would leave this host readable by whoever reads the bucket or the server: give {backup_passphrase}, or {backup_unencrypted_offsite} to copy them unencrypted anyway")
	}
	if a.BackupUnencryptedOffsite && !t.Remote() {
		add(KeyUnencryptedOffsite, "is given for nothing: there is no s3:// or sftp:// {backup_target}; drop it")
	}
	return errs
}

// KnownHostsFile is what a known_hosts file names.
type KnownHostsFile struct {
	// Names are the host patterns of its entries, as written
	// ("nas.example.com", "[nas.example.com]:2222").
	Names []string
	// Hashed is set when an entry names its hosts hashed (|1|...).
	Hashed bool
}

// KnownHosts reads an OpenSSH known_hosts file (the format rclone's
// known_hosts_file takes: golang.org/x/crypto/ssh/knownhosts): one entry
// at least, every line an entry, a comment or blank.
func KnownHosts(content string) (KnownHostsFile, error) {
	var k KnownHostsFile
	if content == "" {
		return k, nil
	}
	rest := []byte(content)
	for {
		_, hosts, _, _, r, err := ssh.ParseKnownHosts(rest)
		if err == io.EOF {
			break
		}
		if err != nil {
			return k, fmt.Errorf("the file is not a known_hosts file (%v): write the server's key as ssh-keyscan prints it", err)
		}
		for _, h := range hosts {
			if strings.HasPrefix(h, "|") {
				k.Hashed = true
			} else {
				k.Names = append(k.Names, h)
			}
		}
		rest = r
	}
	if len(k.Names) == 0 && !k.Hashed {
		return k, errors.New("the known_hosts file holds no host key: write the server's key as ssh-keyscan prints it")
	}
	return k, nil
}
