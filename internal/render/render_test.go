package render_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// profile is one host and set of answers with a golden deployment.
type profile struct {
	name    string
	host    sizing.Host
	answers func(*spec.Answers)
}

func host(cpus float64, mem int64) sizing.Host {
	return sizing.Host{CPUs: cpus, CPUSource: "--cpus", Memory: mem, MemorySource: "--memory"}
}

var profiles = []profile{
	{"small-2c-4g-unlicensed", host(2, 4*spec.GiB), func(a *spec.Answers) {}},
	{"medium-8c-16g-licensed-3members", host(8, 16*spec.GiB), func(a *spec.Answers) {
		a.License = "TEST-LICENCE-NOT-REAL"
		a.MongoDBMembers = 3
		a.Domain = "chat.example.com"
		a.Email = "admin@example.com"
		a.AlertEmail, a.SMTPHost, a.SMTPFrom = "ops@example.com", "smtp.example.com:587", "alerts@example.com"
		a.SMTPUser, a.SMTPPassword = "alerts", "p#ss w$rd"
		a.MetricsRetention, a.MetricsRetentionSize = "30d", "20GB"
	}},
	{"large-32c-128g-licensed", host(32, 128*spec.GiB), func(a *spec.Answers) {
		a.License = "TEST-LICENCE-NOT-REAL"
		a.Domain = "chat.example.com"
		a.Email = "admin@example.com"
	}},
	{"proxy-none-4c-8g", host(4, 8*spec.GiB), func(a *spec.Answers) {
		a.Proxy = spec.ProxyNone
		a.Domain = "chat.example.com"
	}},
	{"internal-tls-no-monitoring", host(4, 8*spec.GiB), func(a *spec.Answers) {
		a.Domain = "chat.home.arpa"
		a.Monitoring = false
	}},
	{"own-certificate-4c-8g", host(4, 8*spec.GiB), func(a *spec.Answers) {
		a.Domain = "chat.example.com"
		a.TLSCert, a.TLSKey = "../certs/chat.example.com.crt", "../certs/chat.example.com.key"
		a.TLSCertPEM, a.TLSKeyPEM = testCert, testKey
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
	plan, err := sizing.Compute(p.host, render.Inputs(a))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	files, err := render.Generate(context.Background(), a, plan, fixedSecrets(t), "test")
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return files
}

// TestGolden compares every generated file with testdata/golden/<profile>.
// Run `go test ./internal/render -update` after an intended change and
// review the diff.
func TestGolden(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			files := generate(t, p)
			dir := filepath.Join("testdata", "golden", p.name)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := render.Write(dir, files); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := map[string]bool{}
			err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(dir, path)
				want[filepath.ToSlash(rel)] = true
				return nil
			})
			if err != nil {
				t.Fatalf("reading golden files (run go test ./internal/render -update): %v", err)
			}
			for _, f := range files {
				golden, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
				if err != nil {
					t.Errorf("%s: no golden file (run go test ./internal/render -update): %v", f.Path, err)
					continue
				}
				delete(want, f.Path)
				if !bytes.Equal(golden, f.Content) {
					t.Errorf("%s differs from its golden file (run go test ./internal/render -update and review the diff):\n%s", f.Path, firstDiff(string(golden), string(f.Content)))
				}
			}
			for path := range want {
				t.Errorf("%s: golden file no longer generated", path)
			}
		})
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n- " + x + "\n+ " + y
		}
	}
	return ""
}
