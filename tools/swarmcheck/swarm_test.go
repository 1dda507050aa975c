package swarmcheck

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/docker/cli/cli/compose/convert"
	"github.com/docker/cli/cli/compose/loader"
	composetypes "github.com/docker/cli/cli/compose/types"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/rcgen/rcgen/internal/cli"
	"github.com/rcgen/rcgen/internal/render"
)

// stacks are the Swarm examples, as committed.
func stacks(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("..", "..", "examples", "*", render.StackFile))
	if err != nil || len(dirs) < 2 {
		t.Fatalf("Swarm examples: %v %v", dirs, err)
	}
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	return dirs
}

// fakeClient answers the lookups convert makes for secrets and configs as
// a swarm would after `docker stack deploy` created them.
type fakeClient struct {
	client.APIClient
	secrets, configs []string
}

func (f fakeClient) SecretList(context.Context, client.SecretListOptions) (client.SecretListResult, error) {
	var r client.SecretListResult
	for _, n := range f.secrets {
		r.Items = append(r.Items, swarm.Secret{ID: "id-" + n, Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: n}}})
	}
	return r, nil
}

func (f fakeClient) ConfigList(context.Context, client.ConfigListOptions) (client.ConfigListResult, error) {
	var r client.ConfigListResult
	for _, n := range f.configs {
		r.Items = append(r.Items, swarm.Config{ID: "id-" + n, Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: n}}})
	}
	return r, nil
}

// TestStacksLoadAndConvert loads every Swarm example with docker/cli's
// loader, the environment being .env's variables (the README deploys with
// `set -a; . ./.env`), fails on any property docker stack deploy would
// warn about (unsupported or deprecated), and converts every service,
// secret and config as docker stack deploy does.
func TestStacksLoadAndConvert(t *testing.T) {
	for _, dir := range stacks(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) { loadAndConvert(t, dir) })
	}
}

// loadAndConvert does what docker stack deploy does with the stack in dir,
// up to the API call.
func loadAndConvert(t *testing.T, dir string) {
	t.Helper()
	abs, _ := filepath.Abs(dir)
	b, err := os.ReadFile(filepath.Join(dir, render.StackFile))
	if err != nil {
		t.Fatal(err)
	}
	envb, err := os.ReadFile(filepath.Join(dir, render.EnvFile))
	if err != nil {
		t.Fatal(err)
	}
	env, err := render.ParseEnv(envb)
	if err != nil {
		t.Fatal(err)
	}
	dict, err := loader.ParseYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loader.Load(composetypes.ConfigDetails{
		WorkingDir:  abs,
		ConfigFiles: []composetypes.ConfigFile{{Filename: render.StackFile, Config: dict}},
		Environment: env,
	})
	if err != nil {
		t.Fatalf("docker/cli's loader refuses %s: %v", dir, err)
	}
	if u := loader.GetUnsupportedProperties(dict); len(u) > 0 {
		t.Errorf("docker stack deploy ignores %v", u)
	}
	if d := loader.GetDeprecatedProperties(dict); len(d) > 0 {
		t.Errorf("docker stack deploy calls deprecated: %v", d)
	}
	ns := convert.NewNamespace("rocketchat")
	secrets, err := convert.Secrets(ns, cfg.Secrets)
	if err != nil {
		t.Fatalf("secrets: %v", err)
	}
	configs, err := convert.Configs(ns, cfg.Configs)
	if err != nil {
		t.Fatalf("configs: %v", err)
	}
	// The README removes old ones by the stack's label: every config and
	// secret of the stack carries it.
	fc := fakeClient{}
	for _, s := range secrets {
		fc.secrets = append(fc.secrets, s.Name)
		if len(s.Data) == 0 {
			t.Errorf("secret %s is empty", s.Name)
		}
		if s.Labels[convert.LabelNamespace] != ns.Name() {
			t.Errorf("secret %s has no label %s=%s: %v", s.Name, convert.LabelNamespace, ns.Name(), s.Labels)
		}
	}
	for _, c := range configs {
		fc.configs = append(fc.configs, c.Name)
		if c.Labels[convert.LabelNamespace] != ns.Name() {
			t.Errorf("config %s has no label %s=%s: %v", c.Name, convert.LabelNamespace, ns.Name(), c.Labels)
		}
	}
	readme, err := os.ReadFile(filepath.Join(dir, render.ReadmeFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "docker config ls -q --filter label="+convert.LabelNamespace+"=") {
		t.Errorf("%s does not remove old configs by the stack's label", render.ReadmeFile)
	}
	services, err := convert.Services(context.Background(), ns, cfg, fc)
	if err != nil {
		t.Fatalf("docker stack deploy could not convert the services: %v", err)
	}
	var names []string
	for name := range services {
		names = append(names, name)
	}
	sort.Strings(names)
	checkServices(t, services, names, strings.Count(string(readme), "docker node update --label-add rcgen.app=true "))
}

// checkServices checks what the Swarm target promises, on the specs
// docker stack deploy would send to the swarm; appNodes is how many nodes
// the README labels for the app.
func checkServices(t *testing.T, services map[string]swarm.ServiceSpec, names []string, appNodes int) {
	t.Helper()
	memberNodes := map[string]string{}
	for _, name := range names {
		s := services[name]
		cs := s.TaskTemplate.ContainerSpec
		rp := s.TaskTemplate.RestartPolicy
		job := s.Mode.ReplicatedJob != nil || s.Mode.GlobalJob != nil
		switch {
		case job && (rp == nil || rp.Condition != swarm.RestartPolicyConditionOnFailure || rp.MaxAttempts == nil || *rp.MaxAttempts == 0):
			t.Errorf("%s: a job that may restart forever: %+v", name, rp)
		case !job && (rp == nil || rp.Condition != swarm.RestartPolicyConditionAny):
			t.Errorf("%s: long-running but not always restarted: %+v", name, rp)
		}
		if name == "mongodb-init" && !job {
			t.Errorf("%s is a one-shot, and Swarm would restart it: make it a job", name)
		}
		for _, m := range cs.Mounts {
			// node exporter reads the host's root, and the log collector
			// (a global service) the containers' json-file logs under
			// Docker's data root: both exist on every node that runs
			// Docker, and both read only.
			hostRead := name == "node-exporter" && m.Source == "/" || name == "otel-collector" && m.Source == "/var/lib/docker/containers"
			if m.Type == "bind" && !(hostRead && m.ReadOnly) {
				t.Errorf("%s bind-mounts %s: it would have to exist on every node", name, m.Source)
			}
		}
		if s.TaskTemplate.Resources == nil || s.TaskTemplate.Resources.Limits == nil || s.TaskTemplate.Resources.Limits.MemoryBytes == 0 {
			t.Errorf("%s has no memory limit", name)
		}
		if strings.HasPrefix(name, "mongodb-") && len(name) == len("mongodb-1") {
			if s.EndpointSpec == nil || s.EndpointSpec.Mode != swarm.ResolutionModeDNSRR {
				t.Errorf("%s: a member behind a virtual IP (IPVS drops idle replication connections)", name)
			}
			c := s.TaskTemplate.Placement.Constraints
			if !slices.Contains(c, "node.labels.rcgen."+name+" == true") {
				t.Errorf("%s is not pinned by its node label: %v", name, c)
			}
			node := s.Labels["rcgen.node"]
			if other, ok := memberNodes[node]; ok || node == "" {
				t.Errorf("%s and %s share node %q", name, other, node)
			}
			memberNodes[node] = name
			for _, sec := range cs.Secrets {
				if sec.SecretName != "" && strings.Contains(sec.File.Name, "keyfile") && (sec.File.UID != "1001" || sec.File.Mode != 0o400 || cs.User != sec.File.UID+":"+sec.File.GID) {
					t.Errorf("%s runs as %q and its keyfile secret is %s:%s mode %o; mongod wants its own user and 0400", name, cs.User, sec.File.UID, sec.File.GID, sec.File.Mode)
				}
			}
			checkPrepared(t, services, name)
		}
		if name == "rocketchat" {
			p := s.TaskTemplate.Placement
			if p == nil || len(p.Preferences) == 0 || p.Preferences[0].Spread == nil || p.MaxReplicas == 0 {
				t.Fatalf("rocketchat is not spread with a bound per node: %+v", p)
			}
			replicas, slots := int(*s.Mode.Replicated.Replicas), int(p.MaxReplicas)*appNodes
			for _, up := range []*swarm.UpdateConfig{s.UpdateConfig, s.RollbackConfig} {
				if up == nil || up.Parallelism == 0 {
					t.Fatalf("rocketchat updates %+v", up)
				}
				par := int(up.Parallelism)
				switch up.Order {
				case swarm.UpdateOrderStartFirst:
					// moby/moby#40797: a task no node may take stays pending.
					if replicas+par > slots {
						t.Errorf("rocketchat: start-first, %d at a time, with %d tasks in %d slots: the update would hang", par, replicas, slots)
					}
				case swarm.UpdateOrderStopFirst:
					if replicas > 1 && replicas-par < (replicas+1)/2 {
						t.Errorf("rocketchat: stop-first, %d of %d at a time", par, replicas)
					}
				default:
					t.Errorf("rocketchat: update order %q", up.Order)
				}
			}
			if s.UpdateConfig.FailureAction != swarm.UpdateFailureActionRollback || *s.RollbackConfig != (swarm.UpdateConfig{Parallelism: s.UpdateConfig.Parallelism, Order: s.UpdateConfig.Order}) {
				t.Errorf("rocketchat updates %+v and rolls back %+v: rolled back on failure, the same way", s.UpdateConfig, s.RollbackConfig)
			}
		}
		for _, port := range endpointPorts(s) {
			if name != "caddy" || port.PublishMode != swarm.PortConfigPublishModeHost {
				t.Errorf("%s publishes %d (%s): only Caddy, on its node", name, port.PublishedPort, port.PublishMode)
			}
		}
	}
	if len(memberNodes) == 0 {
		t.Error("no MongoDB member found")
	}
	checkBackup(t, services)
}

// checkBackup checks the Swarm backup service as docker stack deploy
// would create it: pinned by its label, its archives on a volume there,
// its secrets as files where backup.sh reads them (never in its
// environment), and the script and its counts as configs.
func checkBackup(t *testing.T, services map[string]swarm.ServiceSpec) {
	t.Helper()
	s, ok := services["backup"]
	if !ok {
		t.Fatal("no backup service: both Swarm examples answer backup: true")
	}
	cs := s.TaskTemplate.ContainerSpec
	if c := s.TaskTemplate.Placement.Constraints; !slices.Equal(c, []string{"node.labels.rcgen.backup == true"}) {
		t.Errorf("backup is placed by %v, not by its node label", c)
	}
	if s.Mode.Replicated == nil || *s.Mode.Replicated.Replicas != 1 {
		t.Errorf("backup: %+v, want one replica (one daemon writes the archives)", s.Mode)
	}
	var archives bool
	for _, m := range cs.Mounts {
		if m.Target == "/backups" && m.Type == "volume" && m.Source == "rocketchat_backups" {
			archives = true
		}
	}
	if !archives {
		t.Errorf("backup writes its archives to no volume rocketchat_backups: %+v", cs.Mounts)
	}
	for _, e := range cs.Env {
		k, v, _ := strings.Cut(e, "=")
		if (k == "MONGODB_ROOT_PASSWORD" || k == "BACKUP_PASSPHRASE") && v != "" {
			t.Errorf("backup has %s in its environment: secrets are Swarm secrets", k)
		}
	}
	targets := map[string]bool{}
	for _, sec := range cs.Secrets {
		targets[sec.File.Name] = true
	}
	for _, want := range []string{"mongodb_root_password", "/deployment/.env", "/deployment/rcgen.yaml", "/deployment/" + render.MongoKeyfile} {
		if !targets[want] {
			t.Errorf("backup does not get secret %s (it has %v)", want, targets)
		}
	}
	configs := map[string]bool{}
	for _, c := range cs.Configs {
		configs[c.File.Name] = true
	}
	if !configs["/rcgen/backup.sh"] || !configs["/rcgen/counts.js"] {
		t.Errorf("backup does not get its script as configs: %v", configs)
	}
}

// checkPrepared finds the job that hands member's volume to its user on
// a fresh node: on the member's node, as root, mounting the same volume.
func checkPrepared(t *testing.T, services map[string]swarm.ServiceSpec, member string) {
	t.Helper()
	m := services[member]
	var volume string
	for _, mt := range m.TaskTemplate.ContainerSpec.Mounts {
		if mt.Target == "/data/db" {
			volume = mt.Source
		}
	}
	for name, s := range services {
		cs := s.TaskTemplate.ContainerSpec
		if s.Mode.ReplicatedJob == nil || cs.User != "0:0" || !slices.Equal(s.TaskTemplate.Placement.Constraints, m.TaskTemplate.Placement.Constraints) {
			continue
		}
		for _, mt := range cs.Mounts {
			if mt.Source == volume && volume != "" {
				t.Logf("%s prepares %s for %s", name, volume, member)
				return
			}
		}
	}
	t.Errorf("%s: no job on its node prepares volume %q for uid %s", member, volume, m.TaskTemplate.ContainerSpec.User)
}

func endpointPorts(s swarm.ServiceSpec) []swarm.PortConfig {
	if s.EndpointSpec == nil {
		return nil
	}
	return s.EndpointSpec.Ports
}

// TestEveryOptionConverts generates Swarm stacks with the options the
// examples leave out (a licence, alert and app email with an SMTP login,
// an own certificate; no monitoring and one member) and converts them too.
func TestEveryOptionConverts(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	nodes := []string{"--node", "n1=4:8GiB", "--node", "n2=8:16GiB", "--node", "n3=8:20GiB"}
	cases := map[string][]string{
		"licensed-mail-own-certificate": append(slices.Clone(nodes), "--mongodb-members", "3", "--domain", "chat.example.com",
			"--license-file", filepath.Join(root, "examples", "licensed-3-members", "example.license"),
			"--tls-cert", filepath.Join(root, "internal", "render", "testdata", "tls", "cert.pem"),
			"--tls-key", filepath.Join(root, "internal", "render", "testdata", "tls", "key.pem"),
			"--alert-email", "ops@example.com", "--smtp-host", "smtp.example.com:587", "--smtp-from", "rc@example.com",
			"--smtp-user", "rc", "--app-email"),
		"one-member-no-monitoring": append(slices.Clone(nodes), "--mongodb-members", "1", "--no-monitoring",
			"--domain", "chat.home.arpa"),
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), name)
			var errOut strings.Builder
			env := cli.Env{
				IO:     cli.IOStreams{In: strings.NewReader(""), Out: &errOut, ErrOut: &errOut},
				Getenv: func(k string) string { return map[string]string{"RCGEN_SMTP_PASSWORD": "s3cret-smtp-pass"}[k] },
			}
			if code := cli.Run(context.Background(), env, append([]string{"generate", "--yes", "--target", "swarm", "--out", dir}, args...)); code != 0 {
				t.Fatalf("rcgen generate: exit %d\n%s", code, errOut.String())
			}
			loadAndConvert(t, dir)
		})
	}
}
