package render_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	gen "github.com/rcgen/rcgen/internal/generate"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// hostile is one value a person (or a script with a bug) might give.
type hostile struct {
	field string // the answer key that must be named when it is refused
	value string
}

func hostileValues() []hostile {
	var h []hostile
	add := func(field string, values ...string) {
		for _, v := range values {
			h = append(h, hostile{field, v})
		}
	}
	long := strings.Repeat("a", 300)
	add("domain",
		"", "chat.example.com", `chat".example.com`, "chat'example.com", "chat.example.com\nevil: true",
		"${DOMAIN}", "$$chat.example.com", "chat.example.com: x", "#chat.example.com", "&anchor.example.com",
		"*.example.com", "!tag.example.com", "chаt.example.com", "chat.exаmple.com", long+".example.com",
		"192.168.1.10", "[::1]", "https://chat.example.com", "chat.example.com/path", "../../etc/passwd",
		"chat.example.com ", " chat.example.com", "chat\texample.com", "chat.example.com.", "xn--80ak6aa92e.com",
		"CHAT.EXAMPLE.COM", "a.b", "localhost", "chat.home.arpa", "-.example.com",
	)
	add("email",
		"admin@example.com", `a"b@example.com`, "admin@example.com\nx", "${EMAIL}@example.com", "admin@localhost",
		"Admin <admin@example.com>", "admin@@example.com", "admin@exam ple.com", "admin@example.com#x", "adm'in@example.com",
	)
	add("rocketchat_version",
		"", "latest", "8.7.1", "8.7.1\n", "v8.7.1", "8.7", "8.7.1-rc.1", "${VERSION}", "9.0.0", "999.0.0", "8.7.1; rm -rf /",
	)
	add("project",
		"", "rocketchat", "Rocket Chat", "rocket/chat", "../rocketchat", "rc$1", "-rc", long, "rc_1-prod",
	)
	add("memory", "16GiB", "16GiB\n", "${MEMORY}", "-4GiB", "0", "1e309GiB", "0x10GiB", "16 GiB; rm", "∞", "65TiB", "3.8GiB")
	add("cpus", "8", "8\n", "-2", "0", "NaN", "1e9", "0.5", "８")
	add("processes", "-1", "0", "1", "257")
	add("users", "-1", "0", "1000001", "250")
	add("mongodb_members", "0", "2", "3", "-3")
	add("license_file",
		"ABC123", "line1\nline2", "has space", `quote"d`, "dollar$VAR", "back`tick", "ünïcode", "tab\tbed", strings.Repeat("A", 70000),
	)
	return h
}

// TestHostileInput gives each hostile value and checks that it is either
// refused with an error naming its flag, or ends up in the output exactly
// as given while the output still validates.
func TestHostileInput(t *testing.T) {
	values := hostileValues()
	if len(values) < 50 {
		t.Fatalf("only %d hostile values; the table must hold at least 50", len(values))
	}
	for _, h := range values {
		t.Run(h.field+"="+strings.ReplaceAll(truncate(h.value), "/", "∕"), func(t *testing.T) {
			a := spec.Default()
			a.Domain, a.Email = "chat.example.com", "admin@example.com"
			switch h.field {
			case "domain":
				a.Domain = h.value
			case "email":
				a.Email = h.value
			case "rocketchat_version":
				a.RocketChatVersion = h.value
			case "project":
				a.Project = h.value
			case "license_file":
				a.License = h.value
			case "memory", "cpus":
				// Typed answers refuse a bad value when it is set (at its
				// flag or its line of the answers file).
				v := map[string]interface{ Set(string) error }{"memory": &a.Memory, "cpus": &a.CPUs}[h.field]
				if err := v.Set(h.value); err != nil {
					return
				}
			case "processes", "users", "mongodb_members":
				n, _ := strconv.Atoi(h.value)
				switch h.field {
				case "processes":
					a.Processes, a.License = n, "LIC"
				case "users":
					a.Users = n
				case "mongodb_members":
					a.MongoDBMembers = n
				}
			}
			err := a.Validate()
			if err != nil {
				var fe *spec.FieldError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), h.field+":") {
					t.Fatalf("refused without naming %s: %v", h.field, err)
				}
				return
			}
			files := generateAnswers(t, a)
			env := envOf(t, mustGet(t, files, render.EnvFile).Content)
			project := load(t, files)
			switch h.field {
			case "domain":
				if env["DOMAIN"] != h.value || !strings.Contains(env["ROOT_URL"], h.value) {
					t.Errorf("domain %q came out as DOMAIN=%q ROOT_URL=%q", h.value, env["DOMAIN"], env["ROOT_URL"])
				}
			case "email":
				if env["ACME_EMAIL"] != h.value {
					t.Errorf("email %q came out as %q", h.value, env["ACME_EMAIL"])
				}
			case "rocketchat_version":
				if env["ROCKETCHAT_VERSION"] != h.value || !strings.HasSuffix(project.Services["rocketchat-1"].Image, ":"+h.value) {
					t.Errorf("version %q came out as %q / %q", h.value, env["ROCKETCHAT_VERSION"], project.Services["rocketchat-1"].Image)
				}
			case "project":
				if project.Name != h.value {
					t.Errorf("project %q came out as %q", h.value, project.Name)
				}
			case "license_file":
				if env["ROCKETCHAT_LICENSE"] != h.value || *project.Services["rocketchat-1"].Environment["ROCKETCHAT_LICENSE"] != h.value {
					t.Errorf("licence %q did not round-trip", truncate(h.value))
				}
			case "memory", "cpus", "users":
				answers := string(mustGet(t, files, spec.FileName).Content)
				if h.value == "0" { // users 0 means "not given"
					if strings.Contains(answers, "users:") {
						t.Errorf("users 0 written to rcgen.yaml:\n%s", answers)
					}
					return
				}
				if !strings.Contains(answers, h.field+": ") || !strings.Contains(answers, h.value) {
					t.Errorf("%s %q is not in rcgen.yaml:\n%s", h.field, h.value, answers)
				}
			case "processes", "mongodb_members":
				prefix := map[string]string{"processes": "rocketchat-", "mongodb_members": "mongodb-"}[h.field]
				n := 0
				for name := range project.Services {
					if rest, ok := strings.CutPrefix(name, prefix); ok {
						if _, err := strconv.Atoi(rest); err == nil {
							n++
						}
					}
				}
				if want, _ := strconv.Atoi(h.value); want > 0 && n != want {
					t.Errorf("%s %s gave %d services", h.field, h.value, n)
				}
			}
		})
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func generateAnswers(t testing.TB, a spec.Answers) render.Files {
	t.Helper()
	plan, err := sizing.Compute(sizing.Host{CPUs: 4, Memory: 8 * spec.GiB}, gen.Inputs(a, false))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	files, err := render.Generate(context.Background(), render.Input{Answers: a, Plan: plan, Secrets: fixedSecrets(t), RcgenVersion: "test"})
	if err != nil {
		t.Fatalf("valid answers %+v produced files that do not validate: %v", a, err)
	}
	return files
}

// FuzzAnswers: for any answers, rcgen either refuses them or produces files
// that compose-go loads and in which every value round-trips.
func FuzzAnswers(f *testing.F) {
	for _, h := range hostileValues() {
		f.Add(h.value, "admin@example.com", "rocketchat", "8.7.1", "", 1, false, false)
	}
	f.Add("chat.example.com", "a@example.com", "rc", "7.10.0", "LIC", 3, true, false)
	f.Add("192.0.2.1", "", "rc", "8.7.1", "", 1, false, true)
	f.Add("fe80::1%eth0", "", "rc", "8.7.1", "", 1, false, true)
	f.Fuzz(func(t *testing.T, domain, email, project, version, licence string, members int, noProxy, allowIP bool) {
		a := spec.Default()
		a.Domain, a.Email, a.Project, a.RocketChatVersion, a.License, a.MongoDBMembers = domain, email, project, version, licence, members
		a.AllowIP = allowIP
		if noProxy {
			a.Proxy = spec.ProxyNone
		}
		if a.Validate() != nil {
			return
		}
		files := generateAnswers(t, a)
		env := envOf(t, mustGetTB(t, files, render.EnvFile).Content)
		p, err := render.LoadCompose(context.Background(), files)
		if err != nil {
			t.Fatal(err)
		}
		if env["DOMAIN"] != domain || p.Name != project || env["ROCKETCHAT_VERSION"] != version || env["ROCKETCHAT_LICENSE"] != licence {
			t.Errorf("values did not round-trip: %q %q %q %q", env["DOMAIN"], p.Name, env["ROCKETCHAT_VERSION"], env["ROCKETCHAT_LICENSE"])
		}
		if !noProxy && a.TLSMode() == spec.TLSACME && env["ACME_EMAIL"] != email {
			t.Errorf("email %q came out as %q", email, env["ACME_EMAIL"])
		}
	})
}

func mustGetTB(t testing.TB, files render.Files, path string) render.File {
	t.Helper()
	f, ok := files.Get(path)
	if !ok {
		t.Fatalf("%s was not generated", path)
	}
	return f
}
