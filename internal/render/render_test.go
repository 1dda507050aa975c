package render_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	gen "github.com/rcgen/rcgen/internal/generate"
	"github.com/rcgen/rcgen/internal/golden"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// profile is one host and set of answers with a golden deployment.
type profile struct {
	name string
	// example names the example in examples/ that shows the same answers;
	// such a profile has no golden tree of its own.
	example string
	host    sizing.Host
	answers func(*spec.Answers)
}

func host(cpus float64, mem int64) sizing.Host {
	return sizing.Host{}.Override(cpus, mem)
}

var profiles = []profile{
	{"small-2c-4g-unlicensed", "small", host(2, 4*spec.GiB), func(a *spec.Answers) {}},
	{"medium-8c-16g-licensed-3members", "", host(8, 16*spec.GiB), func(a *spec.Answers) {
		a.License = "TEST-LICENCE-NOT-REAL"
		a.MongoDBMembers = 3
		a.Domain = "chat.example.com"
		a.Email = "admin@example.com"
		a.AlertEmail, a.SMTPHost, a.SMTPFrom = "ops@example.com", "smtp.example.com:587", "alerts@example.com"
		a.SMTPUser, a.SMTPPassword = "alerts", "p#ss w$rd"
		a.AppEmail = true
		a.MetricsRetention, a.MetricsRetentionSize = "30d", "20GB"
	}},
	{"large-32c-128g-licensed", "", host(32, 128*spec.GiB), func(a *spec.Answers) {
		a.License = "TEST-LICENCE-NOT-REAL"
		a.Domain = "chat.example.com"
		a.Email = "admin@example.com"
	}},
	{"proxy-none-4c-8g", "behind-proxy", host(4, 8*spec.GiB), func(a *spec.Answers) {
		a.Proxy = spec.ProxyNone
		a.Domain = "chat.example.com"
	}},
	{"proxy-host-8c-16g-licensed", "behind-nginx-host", host(8, 16*spec.GiB), func(a *spec.Answers) {
		a.Proxy, a.Domain, a.Email, a.License, a.Processes = spec.ProxyHost, "chat.example.com", "admin@example.com", "TEST-LICENCE-NOT-REAL", 2
	}},
	{"nginx-proxy-8c-16g-licensed", "behind-nginx-proxy", host(8, 16*spec.GiB), func(a *spec.Answers) {
		a.Proxy, a.Domain, a.Email, a.License, a.Processes = spec.ProxyNginxProxy, "chat.example.com", "admin@example.com", "TEST-LICENCE-NOT-REAL", 2
	}},
	{"caddy-docker-proxy-8c-16g-licensed", "behind-caddy-docker-proxy", host(8, 16*spec.GiB), func(a *spec.Answers) {
		a.Proxy, a.Domain, a.Email, a.License, a.Processes = spec.ProxyCaddyDockerProxy, "chat.example.com", "admin@example.com", "TEST-LICENCE-NOT-REAL", 2
	}},
	{"internal-tls-no-monitoring", "", host(4, 8*spec.GiB), func(a *spec.Answers) {
		a.Domain = "chat.home.arpa"
		a.Monitoring = false
	}},
	{"own-certificate-4c-8g", "", host(4, 8*spec.GiB), func(a *spec.Answers) {
		a.Domain = "chat.example.com"
		a.TLSCert, a.TLSKey = "../certs/chat.example.com.crt", "../certs/chat.example.com.key"
		a.TLSCertPEM, a.TLSKeyPEM = testCert, testKey
	}},
	{"offsite-s3-4c-8g", "", host(4, 8*spec.GiB), func(a *spec.Answers) {
		a.BackupPassphrase = "correct horse battery staple"
		a.BackupTarget = "s3://rocketchat-backups/chat"
		a.BackupS3Endpoint, a.BackupS3Region = "https://s3.example.com", "eu-central-1"
		a.BackupS3AccessKey, a.BackupS3SecretKey = "TESTACCESSKEY", "TEST/SECRET+KEY"
	}},
	{"traefik-own-certificate-4c-8g", "", host(4, 8*spec.GiB), func(a *spec.Answers) {
		a.Proxy = spec.ProxyTraefik
		a.Domain = "chat.example.com"
		a.TLSCert, a.TLSKey = "../certs/chat.example.com.crt", "../certs/chat.example.com.key"
		a.TLSCertPEM, a.TLSKeyPEM = testCert, testKey
	}},
	{"traefik-internal-tls-2-processes", "", host(8, 16*spec.GiB), func(a *spec.Answers) {
		a.Proxy = spec.ProxyTraefik
		a.Domain = "chat.home.arpa"
		a.License, a.Processes = "TEST-LICENCE-NOT-REAL", 2
	}},
	{"traefik-labels-localhost-no-monitoring", "", host(4, 8*spec.GiB), func(a *spec.Answers) {
		a.Proxy = spec.ProxyTraefikLabels
		a.Monitoring = false
	}},
}

var testCert, testKey = readTestdata("tls/cert.pem"), readTestdata("tls/key.pem")

func readTestdata(name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		panic(err)
	}
	return string(b)
}

// fixedSecrets draws secrets from a repeating byte stream, so golden files
// are stable. Real runs use crypto/rand.
func fixedSecrets(t testing.TB) render.Secrets {
	t.Helper()
	s, err := render.NewSecrets(bytes.NewReader(bytes.Repeat([]byte("rcgen-golden-"), 200)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func generate(t testing.TB, p profile) render.Files {
	t.Helper()
	a := spec.Default()
	p.answers(&a)
	if err := a.Validate(); err != nil {
		t.Fatalf("answers: %v", err)
	}
	plan, err := sizing.Compute(p.host, gen.Inputs(a, false))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	files, err := render.Generate(context.Background(), render.Input{Answers: a, Plan: plan, Secrets: fixedSecrets(t), RcgenVersion: "test", Rerun: "rcgen generate --out . --force"})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return files
}

// generateSwarm renders a Swarm stack on three nodes.
func generateSwarm(t testing.TB) render.Files {
	t.Helper()
	return generateSwarmVersion(t, "")
}

// generateSwarmVersion renders it for a Rocket.Chat release ("" for the
// default).
func generateSwarmVersion(t testing.TB, version string) render.Files {
	t.Helper()
	a := spec.Default()
	if version != "" {
		a.RocketChatVersion = version
	}
	a.Target, a.Domain, a.Email, a.MongoDBMembers = spec.TargetSwarm, "chat.example.com", "admin@example.com", 3
	for _, n := range []string{"node-1=4:8GiB", "node-2=4:8GiB", "node-3=4:8GiB"} {
		if err := a.Nodes.Set(n); err != nil {
			t.Fatal(err)
		}
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

// isDashboard reports whether rel is one of the constant dashboards, kept
// once under testdata/golden/dashboards rather than in every tree.
func isDashboard(rel string, _ fs.DirEntry) bool {
	return strings.HasPrefix(rel, "grafana/dashboards/")
}

func asMap(files render.Files) map[string][]byte {
	m := map[string][]byte{}
	for _, f := range files {
		m[f.Path] = f.Content
	}
	return m
}

// TestGolden compares every generated file with testdata/golden/<profile>.
// Profiles an example already shows (examples/) have no golden tree: the
// examples test compares those. Run `make golden` after an intended
// change and review the diff.
func TestGolden(t *testing.T) {
	for _, p := range profiles {
		if p.example != "" {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			got := asMap(generate(t, p))
			for path := range got {
				if isDashboard(path, nil) {
					delete(got, path)
				}
			}
			golden.Tree(t, filepath.Join("testdata", "golden", p.name), got, *update, "make golden", isDashboard)
		})
	}
}

// TestGoldenDashboards keeps one golden copy of the dashboards for each
// replica set shape (they do not depend on the other answers).
func TestGoldenDashboards(t *testing.T) {
	for _, members := range []int{1, 3} {
		dash, err := render.Dashboards(members, true)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]byte{}
		for _, f := range dash {
			got[path.Base(f.Path)] = f.Content
		}
		golden.Tree(t, filepath.Join("testdata", "golden", "dashboards", fmt.Sprintf("%d-members", members)), got, *update, "make golden", nil)
	}
	one, _ := render.Dashboards(1, true)
	mongo, _ := one.Get("grafana/dashboards/mongodb.json")
	if bytes.Contains(mongo.Content, []byte("Replication lag")) {
		t.Error("a one-member set gets a replication lag panel that stays empty forever")
	}
}

// TestReadmeKeepsDayTwoSectionsWithoutMonitoring: the sections on stopping,
// upgrading and email belong to every deployment; only "## Monitoring"
// depends on Prometheus. (They were once all inside its condition, so a
// deployment without monitoring lost its upgrade instructions.)
func TestReadmeKeepsDayTwoSectionsWithoutMonitoring(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			var readme string
			for _, f := range generate(t, p) {
				if f.Path == render.ReadmeFile {
					readme = string(f.Content)
				}
			}
			for _, h := range []string{"\n## Stop, restart, upgrade\n", "\n## Email\n", "\n## Back up\n", "\n## Change it\n"} {
				if !strings.Contains(readme, h) {
					t.Errorf("README.md has no %q section", strings.TrimSpace(h))
				}
			}
			a := spec.Default()
			p.answers(&a)
			if got := strings.Contains(readme, "\n## Monitoring\n"); got != a.Monitoring {
				t.Errorf("README.md has a Monitoring section: %v, monitoring is %v", got, a.Monitoring)
			}
		})
	}
}

// TestReadmeSaysHowBackupsAreProtected: with a passphrase, the README says
// backups are encrypted as written and authenticated (what backup.sh and
// rcgen restore do, see backup_faults_test.go); without one, it says they
// hold the secrets in the clear and how to encrypt them.
func TestReadmeSaysHowBackupsAreProtected(t *testing.T) {
	for _, pass := range []string{"", "correct horse battery staple"} {
		files := generate(t, profile{name: "backup", host: host(4, 8*spec.GiB), answers: func(a *spec.Answers) { a.BackupPassphrase = pass }})
		readme := strings.Join(strings.Fields(string(mustGet(t, files, render.ReadmeFile).Content)), " ")
		encrypted := strings.Contains(readme, "They are encrypted with the passphrase in `.env`") &&
			strings.Contains(readme, "nothing lands on disk in plain text") &&
			strings.Contains(readme, "a wrong passphrase is refused before `rcgen restore` stops anything") &&
			strings.Contains(readme, "rcgen keeps each earlier one in `.env` (`BACKUP_PASSPHRASE_1`, ...) as long as a backup in `backups/` needs it")
		clear := strings.Contains(readme, "They hold the deployment's secrets") && strings.Contains(readme, "--backup-passphrase-file")
		if encrypted != (pass != "") || clear != (pass == "") {
			t.Errorf("passphrase %q: README says encrypted %v, in the clear %v", pass, encrypted, clear)
		}
	}
}
