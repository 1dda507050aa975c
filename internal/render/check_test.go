package render_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/rcgen/rcgen/internal/render"
)

func load(t *testing.T, files render.Files) *types.Project {
	t.Helper()
	p, err := render.LoadCompose(context.Background(), files)
	if err != nil {
		t.Fatalf("compose-go rejects the generated compose file: %v", err)
	}
	return p
}

// TestComposeShape checks, on every profile, what an operator relies on:
// one service per app process with the right environment, the MongoDB
// members, NATS only with several processes, and only the proxy on a
// public port.
func TestComposeShape(t *testing.T) {
	for _, pr := range profiles {
		t.Run(pr.name, func(t *testing.T) {
			files := generate(t, pr)
			p := load(t, files)
			env := envOf(t, mustGet(t, files, render.EnvFile).Content)

			var apps, members []string
			for _, name := range p.ServiceNames() {
				switch {
				case strings.HasPrefix(name, "rocketchat-"):
					apps = append(apps, name)
				case regexp.MustCompile(`^mongodb-[0-9]+$`).MatchString(name):
					members = append(members, name)
				}
			}
			if len(apps) == 0 {
				t.Fatal("no app process")
			}
			var hosts []string
			for _, m := range members {
				hosts = append(hosts, m+":27017")
			}
			slices.Sort(hosts)
			for _, name := range apps {
				s := p.Services[name]
				e := s.Environment
				wantURL := fmt.Sprintf("mongodb://rocketchat:%s@%s/rocketchat?replicaSet=rs0&authSource=admin", env[render.EnvMongoRocketChatPassword], strings.Join(hosts, ","))
				if got := *e["MONGO_URL"]; got != wantURL {
					t.Errorf("%s MONGO_URL = %q, want %q", name, got, wantURL)
				}
				if got := *e["ROOT_URL"]; got != env["ROOT_URL"] || got == "" {
					t.Errorf("%s ROOT_URL = %q, want the .env value %q", name, got, env["ROOT_URL"])
				}
				if got := *e["INSTANCE_IP"]; got != name {
					t.Errorf("%s INSTANCE_IP = %q, want its service name", name, got)
				}
				if *e["OVERWRITE_SETTING_Prometheus_Enabled"] != "true" || *e["OVERWRITE_SETTING_Prometheus_Port"] != "9458" {
					t.Errorf("%s does not enable metrics on 9458", name)
				}
				if !strings.HasPrefix(*e["NODE_OPTIONS"], "--max-old-space-size=") {
					t.Errorf("%s NODE_OPTIONS = %q", name, *e["NODE_OPTIONS"])
				}
				_, hasNATS := e["TRANSPORTER"]
				if hasNATS != (len(apps) > 1) {
					t.Errorf("%s: TRANSPORTER set = %v with %d processes", name, hasNATS, len(apps))
				}
				if hasNATS && *e["TRANSPORTER"] != "monolith+nats://nats:4222" {
					t.Errorf("%s TRANSPORTER = %q", name, *e["TRANSPORTER"])
				}
				if d, ok := s.DependsOn["mongodb-init"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
					t.Errorf("%s does not wait for mongodb-init to complete", name)
				}
				// mongodb-init waits for a primary; one dead secondary must
				// not keep the app from starting.
				for _, m := range members {
					if _, ok := s.DependsOn[m]; ok {
						t.Errorf("%s waits for member %s itself", name, m)
					}
				}
				// After an upgrade, only the first process runs migrations.
				if d, ok := s.DependsOn["rocketchat-1"]; name != "rocketchat-1" && (!ok || d.Condition != types.ServiceConditionHealthy) {
					t.Errorf("%s starts before rocketchat-1 is healthy", name)
				}
				if got := e["HTTP_FORWARDED_COUNT"]; got == nil || *got != "1" {
					t.Errorf("%s: HTTP_FORWARDED_COUNT = %v: behind one proxy every client would have its address", name, got)
				}
				if s.Init == nil || !*s.Init {
					t.Errorf("%s: no init: node as PID 1 ignores SIGTERM", name)
				}
				if pr.name == "medium-8c-16g-licensed-3members" {
					for k, want := range map[string]string{"OVERWRITE_SETTING_SMTP_Host": "smtp.example.com", "OVERWRITE_SETTING_SMTP_Port": "587",
						"OVERWRITE_SETTING_SMTP_Protocol": "smtp", "OVERWRITE_SETTING_From_Email": "alerts@example.com",
						"OVERWRITE_SETTING_SMTP_Username": "alerts", "OVERWRITE_SETTING_SMTP_Password": "p#ss w$rd"} {
						if got := e[k]; got == nil || *got != want {
							t.Errorf("%s: %s = %v, want %q", name, k, got, want)
						}
					}
				}
				var uploads bool
				for _, v := range s.Volumes {
					uploads = uploads || v.Type == types.VolumeTypeVolume && v.Source == "uploads" && v.Target == "/app/uploads"
				}
				if !uploads {
					t.Errorf("%s does not mount the shared uploads volume", name)
				}
			}
			for i, m := range members {
				// With monitoring, every member has its own exporter,
				// pointed at it alone.
				if _, monitored := p.Services["prometheus"]; monitored {
					x, ok := p.Services[fmt.Sprintf("mongodb-exporter-%d", i+1)]
					if !ok || x.Environment["MONGODB_URI"] == nil || !strings.Contains(*x.Environment["MONGODB_URI"], "@"+m+":27017/") || slices.Contains(x.Command, "--collect-all") {
						t.Errorf("%s: no exporter of its own, or one collecting everything", m)
					}
				}
				s := p.Services[m]
				if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) < 30*time.Second {
					t.Errorf("%s: stop_grace_period %v is shorter than a primary's step-down", m, s.StopGracePeriod)
				}
				if s.Environment["HOME"] == nil || s.HealthCheck == nil || s.HealthCheck.Interval == nil || time.Duration(*s.HealthCheck.Interval) < 30*time.Second {
					t.Errorf("%s: mongosh health check without HOME, or more often than every 30s", m)
				}
			}
			if prom, ok := p.Services["prometheus"]; ok {
				// Links in alert emails must not point at container names.
				if !slices.Contains(prom.Command, "--web.external-url=http://127.0.0.1:9090/") || len(prom.Ports) != 1 || prom.Ports[0].HostIP != "127.0.0.1" {
					t.Errorf("prometheus: no external URL on the loopback: %v %v", prom.Command, prom.Ports)
				}
				if ne := p.Services["node-exporter"]; !slices.Contains(ne.Command, "--no-collector.netdev") {
					t.Errorf("node-exporter reports its container's network as the host's: %v", ne.Command)
				}
			}
			if am, ok := p.Services["alertmanager"]; ok {
				if !strings.Contains(strings.Join(am.Command, " "), "--web.external-url=http://127.0.0.1:9093/") {
					t.Errorf("alertmanager: no external URL: %v", am.Command)
				}
				// compose's .env parser must hand the container the
				// password exactly, $ and # included.
				if got := *am.Environment["SMTP_PASSWORD"]; got != "p#ss w$rd" {
					t.Errorf("alertmanager SMTP_PASSWORD = %q, want %q", got, "p#ss w$rd")
				}
			}
			_, nats := p.Services["nats"]
			if nats != (len(apps) > 1) {
				t.Errorf("nats present = %v with %d app processes", nats, len(apps))
			}
			if errs := render.Invariants(p, files); len(errs) > 0 {
				t.Errorf("invariants broken: %v", errs)
			}
		})
	}
}

func mustGet(t *testing.T, files render.Files, path string) render.File {
	t.Helper()
	f, ok := files.Get(path)
	if !ok {
		t.Fatalf("%s was not generated", path)
	}
	return f
}

// TestInvariantsCatchBreakage breaks a good compose file in the ways the
// invariants guard against and checks each is reported, naming the service.
func TestInvariantsCatchBreakage(t *testing.T) {
	good := generate(t, profiles[0])
	cases := []struct {
		name, old, new, want string
	}{
		{"unpinned image", "image: prom/prometheus:v3.13.1", "image: prom/prometheus", "service prometheus: image prom/prometheus has no tag"},
		{"latest tag", "image: grafana/grafana:12.4.2", "image: grafana/grafana:latest", "service grafana: image grafana/grafana:latest is not pinned"},
		{"no restart", "    restart: unless-stopped\n    command:\n      - --config.file", "    command:\n      - --config.file", "service prometheus: has no restart policy"},
		{"no health check", "      test: [\"CMD\", \"wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1:9090/-/healthy\"]", "      disable: true", "service prometheus: is long-running but has no health check"},
		{"public port", "    pid: host\n", "    pid: host\n    ports: [\"9100:9100\"]\n", "service node-exporter: publishes port 9100 on every interface"},
		{"mount not generated", "./prometheus/prometheus.yml:/etc", "./prometheus/rules.yml:/etc", "service prometheus: mounts ./prometheus/rules.yml, which rcgen did not generate"},
		{"published on internal networks only", "    networks: [edge, internal]\n\n  grafana:", "    networks: [internal]\n\n  grafana:", "service prometheus: publishes port 9090 but is attached only to internal networks"},
		{"published but not in the README", "      - \"127.0.0.1:80:80\"\n", "      - \"127.0.0.1:80:80\"\n      - \"127.0.0.1:2019:2019\"\n", "compose.yaml: publishes caddy 127.0.0.1:2019/tcp, which README.md does not list"},
		{"no memory limit", "          memory: 256m\n    logging: *logging\n    networks: [internal]\n\n  mongodb-exporter", "          cpus: 1\n    logging: *logging\n    networks: [internal]\n\n  mongodb-exporter", "service grafana: has no memory limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := slices.Clone(good)
			for i, f := range files {
				if f.Path == render.ComposeFile {
					if !strings.Contains(string(f.Content), c.old) {
						t.Fatalf("test is stale: compose.yaml has no %q", c.old)
					}
					files[i].Content = []byte(strings.Replace(string(f.Content), c.old, c.new, 1))
				}
			}
			err := render.Check(context.Background(), files)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check() = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func envOf(t testing.TB, b []byte) map[string]string {
	t.Helper()
	m, err := render.ParseEnv(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestReadmeListsWhatIsPublished: the README's table of published ports is
// checked against the compose file and the stack file, both ways.
func TestReadmeListsWhatIsPublished(t *testing.T) {
	swarm := generateSwarm(t)
	cases := []struct {
		name           string
		files          render.Files
		old, new, want string
	}{
		{"a row missing", generate(t, profiles[0]), "| `9090/tcp` | 127.0.0.1 only | `prometheus` |", "| `9091/tcp` | 127.0.0.1 only | `prometheus` |",
			"compose.yaml: publishes prometheus 127.0.0.1:9090/tcp, which README.md does not list"},
		{"a row too many", generate(t, profiles[0]), "|---|---|---|---|\n", "|---|---|---|---|\n| `9100/tcp` | 127.0.0.1 only | `node-exporter` | host metrics |\n",
			"README.md: lists node-exporter 127.0.0.1:9100/tcp under \"## Published ports\", which compose.yaml does not publish"},
		{"another interface", generate(t, profiles[0]), "| `80/tcp` | 127.0.0.1 only |", "| `80/tcp` | every interface |",
			"compose.yaml: publishes caddy 127.0.0.1:80/tcp, which README.md does not list"},
		{"no table", generate(t, profiles[0]), "## Published ports\n", "## Ports\n", "README.md has no \"## Published ports\" section"},
		{"swarm: a row missing", swarm, "| `443/udp` | every interface of `node-1` | `caddy` |", "| `8443/udp` | every interface of `node-1` | `caddy` |",
			"stack.yaml: publishes caddy *:443/udp, which README.md does not list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := render.Check(context.Background(), c.files); err != nil {
				t.Fatalf("the unbroken deployment fails its checks: %v", err)
			}
			files := slices.Clone(c.files)
			for i, f := range files {
				if f.Path == render.ReadmeFile {
					if !strings.Contains(string(f.Content), c.old) {
						t.Fatalf("test is stale: README.md has no %q", c.old)
					}
					files[i].Content = []byte(strings.Replace(string(f.Content), c.old, c.new, 1))
				}
			}
			err := render.Check(context.Background(), files)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check() = %v, want an error containing %q", err, c.want)
			}
		})
	}
}
