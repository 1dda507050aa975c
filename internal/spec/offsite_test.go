package spec

import (
	"strings"
	"testing"
)

func TestParseBackupTarget(t *testing.T) {
	for _, c := range []struct {
		in   string
		want BackupTarget
	}{
		{"", BackupTarget{}},
		{"/mnt/offsite/rocketchat", BackupTarget{Kind: OffsiteDir, Dir: "/mnt/offsite/rocketchat"}},
		{"s3://rocketchat-backups", BackupTarget{Kind: OffsiteS3, Bucket: "rocketchat-backups"}},
		{"s3://rocketchat-backups/chat/prod", BackupTarget{Kind: OffsiteS3, Bucket: "rocketchat-backups", Prefix: "chat/prod"}},
		{"sftp://backup@nas.example.com/srv/backups", BackupTarget{Kind: OffsiteSFTP, User: "backup", Host: "nas.example.com", Port: 22, Path: "/srv/backups"}},
		{"sftp://backup@192.0.2.7:2222/~/rocketchat", BackupTarget{Kind: OffsiteSFTP, User: "backup", Host: "192.0.2.7", Port: 2222, Path: "rocketchat"}},
	} {
		got, err := ParseBackupTarget(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseBackupTarget(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, says string }{
		{"backups", "is not a backup target"},
		{"/", "is the root directory"},
		{"/mnt/x/", "empty path segment"},
		{"/mnt/../etc", `a ".." segment`},
		{"/mnt/my backups", "characters other than"},
		{"s3://My_Bucket/x", "is not an S3 bucket name"},
		{"s3://b..c/x", "is not an S3 bucket name"},
		{"sftp://nas.example.com/x", "names no user"},
		{"sftp://u:secret@nas.example.com/x", "holds a password"},
		{"sftp://u@nas.example.com:70000/x", "is not 1 to 65535"},
		{"sftp://u@nas.example.com/", "is the root directory"},
		{"https://example.com/x", "rcgen copies backups to a directory, s3:// or sftp://"},
	} {
		_, err := ParseBackupTarget(c.in)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("ParseBackupTarget(%q) = %v; want an error saying %q", c.in, err, c.says)
		}
	}
}

// TestValidateOffsite: the requirements between the offsite answers, each
// at its key, all at once.
func TestValidateOffsite(t *testing.T) {
	base := func() Answers {
		a := Default()
		a.BackupTarget = "s3://rocketchat-backups/chat"
		a.BackupS3Endpoint = "https://s3.example.com"
		a.BackupS3AccessKey, a.BackupS3SecretKey = "AKIA", "secret"
		a.BackupPassphrase = "correct horse battery staple"
		return a
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("a complete s3 target: %v", err)
	}
	a := base()
	a.BackupPassphrase = ""
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "backup_target: backups are not encrypted") {
		t.Errorf("no passphrase: %v", err)
	}
	a.BackupUnencryptedOffsite = true
	if err := a.Validate(); err != nil {
		t.Errorf("no passphrase, said so: %v", err)
	}
	a = base()
	a.BackupS3Endpoint, a.BackupS3AccessKey, a.BackupS3SecretKey, a.BackupS3Region = "", "", "", "EU"
	err := a.Validate()
	for _, want := range []string{"backup_s3_endpoint: an s3:// target needs", "backup_s3_access_key: an s3:// target needs", "backup_s3_secret_key: an s3:// target needs", "backup_s3_region: \"EU\" is not a region name"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("lacks %q: %v", want, err)
		}
	}
	a = base()
	a.BackupTarget = "sftp://backup@nas.example.com/x"
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "backup_sftp_key: an sftp:// target needs") || !strings.Contains(err.Error(), "backup_s3_endpoint: is given for nothing") ||
		!strings.Contains(err.Error(), "backup_sftp_known_hosts: an sftp:// target needs the server's host key") {
		t.Errorf("sftp with the s3 answers left: %v", err)
	}
	for _, ep := range []string{"s3.example.com", "https://user:pw@s3.example.com", "https://s3.example.com/bucket", "ftp://s3.example.com"} {
		if ValidateS3Endpoint(ep) == nil {
			t.Errorf("ValidateS3Endpoint(%q) accepts it", ep)
		}
	}
	for _, ep := range []string{"https://s3.eu-central-1.amazonaws.com", "http://127.0.0.1:9000", "https://minio.internal:9000/"} {
		if err := ValidateS3Endpoint(ep); err != nil {
			t.Errorf("ValidateS3Endpoint(%q) = %v", ep, err)
		}
	}
}
