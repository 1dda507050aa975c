package render

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// StackFile is the Swarm target's stack file (docker stack deploy -c).
const StackFile = "stack.yaml"

// swarmSecretFiles are the files of the Swarm secrets rcgen writes beside
// .env (which stays the deployment's record of them, for re-runs): each
// holds one secret, mode 0600, read by docker stack deploy.
var swarmSecretFiles = []struct{ key, file, service string }{
	{"mongodb_root_password", "secrets/mongodb-root-password", ""},
	{"mongodb_rocketchat_password", "secrets/mongodb-rocketchat-password", ""},
	{"mongodb_exporter_password", "secrets/mongodb-exporter-password", sizing.Prometheus},
	{"grafana_admin_password", "secrets/grafana-admin-password", sizing.Grafana},
	{"rocketchat_license", "secrets/rocketchat-license", ""},
	{"smtp_password", "secrets/smtp-password", ""},
	{"backup_passphrase", "secrets/backup-passphrase", sizing.Backup},
}

// swarmSecrets renders the secret files the stack needs.
func swarmSecrets(d *Data, s Secrets) (Files, error) {
	values := map[string]string{
		"mongodb_root_password":       s.MongoRootPassword,
		"mongodb_rocketchat_password": s.MongoRocketChatPassword,
		"mongodb_exporter_password":   s.MongoExporterPassword,
		"grafana_admin_password":      s.GrafanaAdminPassword,
	}
	if d.Answers.Licensed() {
		values["rocketchat_license"] = d.Answers.License
	}
	if d.Answers.Mail() && d.Answers.SMTPUser != "" {
		values["smtp_password"] = d.Answers.SMTPPassword
	}
	if d.Answers.BackupPassphrase != "" {
		values["backup_passphrase"] = d.Answers.BackupPassphrase
	}
	var out Files
	for _, f := range swarmSecretFiles {
		v, ok := values[f.key]
		if !ok || f.service != "" && !d.Has(f.service) {
			continue
		}
		if v == "" {
			return nil, fmt.Errorf("the Swarm secret %s is empty", f.key)
		}
		// No trailing newline: the services read the file as the value.
		out = append(out, File{Path: f.file, Mode: 0o600, Content: []byte(v), Secret: true})
	}
	return out, nil
}

// swarmConfigFiles maps each rendered file a service reads to its config key.
var swarmConfigFiles = []struct{ key, file string }{
	{"caddyfile", CaddyFile},
	{"mongodb_init", MongoInitFile},
	{"prometheus", PrometheusFile},
	{"rules", RulesFile},
	{"grafana_datasource", DatasourceFile},
	{"grafana_dashboards", DashProvFile},
	{"alertmanager", AlertmanagerFile},
	{"loki", LokiFile},
	{"otelcol", OtelcolFile},
	{"grafana_datasource_loki", LokiDatasourceFile},
	{"tls_cert", TLSCertFile},
	{"backup_script", BackupScript},
	{"backup_counts", BackupCounts},
}

// swarmDeploymentFiles are the deployment's files every backup holds (as
// the compose target's backup service reads them from the directory),
// given to the Swarm backup service as secrets at the paths backup.sh
// reads (the keyfile is the members' secret mongodb_keyfile): Docker mounts a secret whose target is absolute there
// (moby/moby container/container.go, getSecretTargetPath).
var swarmDeploymentFiles = []struct{ key, file string }{
	{"deployment_env", EnvFile},
	{"deployment_answers", spec.FileName},
}

// swarmObjects names the configs and secrets of the stack after the files'
// content: Swarm refuses to change a config or secret in place, so a
// changed file is a new object and `docker stack deploy` rolls the
// services that use it.
func swarmObjects(d *Data, files Files) (configs, secrets, dashboards []SwarmObject) {
	name := func(key string, content []byte) string {
		sum := sha256.Sum256(content)
		return fmt.Sprintf("%s_%s_%s", d.Answers.Project, key, hex.EncodeToString(sum[:])[:10])
	}
	for _, c := range swarmConfigFiles {
		if f, ok := files.Get(c.file); ok {
			configs = append(configs, SwarmObject{Key: c.key, Name: name(c.key, f.Content), File: c.file})
		}
	}
	for _, f := range files {
		if strings.HasPrefix(f.Path, "grafana/dashboards/") {
			key := "dashboard_" + strings.TrimSuffix(path.Base(f.Path), ".json")
			o := SwarmObject{Key: key, Name: name(key, f.Content), File: f.Path, Target: "/etc/grafana/dashboards/" + path.Base(f.Path)}
			configs = append(configs, o)
			dashboards = append(dashboards, o)
		}
	}
	if f, ok := files.Get(MongoKeyfile); ok {
		secrets = append(secrets, SwarmObject{Key: "mongodb_keyfile", Name: name("mongodb_keyfile", f.Content), File: MongoKeyfile})
	}
	for _, s := range swarmSecretFiles {
		if f, ok := files.Get(s.file); ok {
			secrets = append(secrets, SwarmObject{Key: s.key, Name: name(s.key, f.Content), File: s.file})
		}
	}
	if f, ok := files.Get(TLSKeyFile); ok {
		secrets = append(secrets, SwarmObject{Key: "tls_key", Name: name("tls_key", f.Content), File: TLSKeyFile})
	}
	if d.Has(sizing.BackupOffsite) {
		for _, s := range []struct{ key, file string }{{"rclone_config", RcloneConfigFile}, {"backup_sftp_key", SFTPKeyFile}, {"backup_sftp_known_hosts", SFTPKnownHostsFile}} {
			if f, ok := files.Get(s.file); ok {
				secrets = append(secrets, SwarmObject{Key: s.key, Name: name(s.key, f.Content), File: s.file})
			}
		}
	}
	if d.Has(sizing.Backup) {
		for _, s := range swarmDeploymentFiles {
			if f, ok := files.Get(s.file); ok {
				secrets = append(secrets, SwarmObject{Key: s.key, Name: name(s.key, f.Content), File: s.file, Target: "/deployment/" + s.file})
			}
		}
	}
	return configs, secrets, dashboards
}

// Swarm reports whether files are a Swarm stack.
func (fs Files) Swarm() bool { _, ok := fs.Get(StackFile); return ok }

// CheckSwarm validates a rendered Swarm stack before anything is written:
// stack.yaml must load (compose-go: the compose schema, with the variables
// of .env as the deploying shell would give them), and the Swarm target's
// invariants must hold. docker/cli's own loader runs in the tests
// (tools/swarmcheck), not in rcgen.
func CheckSwarm(ctx context.Context, files Files) error {
	p, env, err := LoadStack(ctx, files)
	if err != nil {
		return err
	}
	return errors.Join(SwarmInvariants(p, files, env)...)
}

// LoadStack loads the rendered stack file with compose-go, the variables
// of .env standing for the deploying shell's.
func LoadStack(ctx context.Context, files Files) (*types.Project, map[string]string, error) {
	sf, ok := files.Get(StackFile)
	if !ok {
		return nil, nil, fmt.Errorf("%s was not rendered", StackFile)
	}
	env := map[string]string{}
	if ef, ok := files.Get(EnvFile); ok {
		parsed, err := ParseEnv(ef.Content)
		if err != nil {
			return nil, nil, err
		}
		env = parsed
	}
	// The stack keeps `version` for docker stack deploy of Engines before
	// 23 (docker/cli required it); compose-go would log it as obsolete.
	content := bytes.Replace(sf.Content, []byte("\nversion: \"3.9\"\n"), []byte("\n"), 1)
	details := types.ConfigDetails{
		WorkingDir:  CheckDir,
		ConfigFiles: []types.ConfigFile{{Filename: path.Join(CheckDir, StackFile), Content: content}},
		Environment: env,
	}
	p, err := loader.LoadWithContext(ctx, details, func(o *loader.Options) {
		o.ResolvePaths = true
		o.SetProjectName("rcgen-check", true)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", StackFile, err)
	}
	return p, env, nil
}

// SwarmInvariants are the rules every Swarm stack keeps: pinned images,
// limits, log rotation, health checks; no bind mount but node exporter's
// view of each node; jobs that end; each member on its own node, found by
// DNS round robin; only the proxy publishes ports, on its node; every
// secret of .env a Swarm secret (the exporter's, which cannot be, comes
// from the deploying shell and is never written into the file); the
// published ports on a network that is not internal, and in the README.
func SwarmInvariants(p *types.Project, files Files, env map[string]string) []error {
	errs := publishing(p, files, StackFile)
	bad := func(svc, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: service %s: %s", StackFile, svc, fmt.Sprintf(format, a...)))
	}
	sf, _ := files.Get(StackFile)
	for _, key := range []string{EnvMongoRootPassword, EnvMongoRocketChatPassword, EnvMongoExporterPassword, EnvGrafanaAdminPassword, EnvSMTPPassword, EnvLicense} {
		if v := strings.Trim(env[key], "'"); len(v) >= 8 && strings.Contains(string(sf.Content), v) {
			errs = append(errs, fmt.Errorf("%s: holds the value of %s: secrets go into Swarm secrets", StackFile, key))
		}
	}
	nodes := map[string]string{}
	labelled := readmeLabels(files)
	names := p.ServiceNames()
	slices.Sort(names)
	for _, name := range names {
		s := p.Services[name]
		for _, problem := range basics(s) {
			bad(name, "%s", problem)
		}
		d := s.Deploy
		if d == nil {
			continue
		}
		job := d.Mode == "replicated-job" || d.Mode == "global-job"
		switch {
		case name == sizing.MongoDBInit && !job:
			bad(name, "is a one-shot but not a job: Swarm would restart it forever")
		case job && (d.RestartPolicy == nil || d.RestartPolicy.Condition == "any" || d.RestartPolicy.MaxAttempts == nil || *d.RestartPolicy.MaxAttempts == 0):
			bad(name, "is a job that may restart forever: give it restart_policy on-failure with max_attempts")
		case !job && (d.RestartPolicy == nil || d.RestartPolicy.Condition != "any"):
			bad(name, "is long-running but is not restarted on any exit")
		case !job && !scratchImages[s.Image] && (s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0):
			bad(name, "is long-running but has no health check")
		}
		if s.Restart != "" || len(s.DependsOn) > 0 || s.ContainerName != "" || s.NetworkMode != "" || s.Build != nil {
			bad(name, "uses restart, depends_on, container_name, network_mode or build, which docker stack deploy ignores")
		}
		for _, problem := range rolling(s, labelled) {
			bad(name, "%s", problem)
		}
		if strings.HasPrefix(name, "mongodb-") && memberRe.MatchString(name) {
			for _, problem := range memberOwner(p, s) {
				bad(name, "%s", problem)
			}
			if d.EndpointMode != "dnsrr" {
				bad(name, "is a MongoDB member behind a virtual IP: use endpoint_mode dnsrr (IPVS breaks replication)")
			}
			node := d.Labels["rcgen.node"]
			if !slices.Contains(d.Placement.Constraints, "node.labels.rcgen."+name+" == true") || node == "" {
				bad(name, "is not pinned to its node by its label")
			}
			if other, dup := nodes[node]; dup {
				bad(name, "shares node %s with %s: a dead node would take both", node, other)
			}
			nodes[node] = name
		}
		for _, port := range s.Ports {
			if name != sizing.Caddy || port.Mode != "host" {
				bad(name, "publishes port %d: only the proxy publishes, on its node (mode host)", port.Target)
			}
		}
		for _, v := range s.Volumes {
			// Host paths every Docker node has, read-only: the root file
			// system (node exporter) and Docker's container logs (the
			// collector, global like node exporter).
			if v.Type == types.VolumeTypeBind && !(v.ReadOnly && hostPaths[v.Source] == name) {
				bad(name, "bind-mounts %s, which would have to exist on whichever node runs it: use a config, a secret or a volume", v.Source)
			}
		}
	}
	for key, c := range p.Configs {
		if !generated(files, strings.TrimPrefix(c.File, CheckDir+"/")) {
			errs = append(errs, fmt.Errorf("%s: config %s reads %s, which rcgen did not generate", StackFile, key, c.File))
		}
	}
	for key, c := range p.Secrets {
		if !generated(files, strings.TrimPrefix(c.File, CheckDir+"/")) {
			errs = append(errs, fmt.Errorf("%s: secret %s reads %s, which rcgen did not generate", StackFile, key, c.File))
		}
	}
	return errs
}

var memberRe = regexp.MustCompile(`^mongodb-[0-9]+$`)

// labelRe is the README's command that labels a node (Deploy, step 2).
var labelRe = regexp.MustCompile(`(?m)^\s*docker node update --label-add ([A-Za-z0-9._-]+)=true (\S+)$`)

// readmeLabels counts the nodes the README labels, by label: what a
// placement constraint node.labels.LABEL == true finds once the operator
// has followed it.
func readmeLabels(files Files) map[string]int {
	n := map[string]int{}
	if f, ok := files.Get(ReadmeFile); ok {
		for _, m := range labelRe.FindAllStringSubmatch(string(f.Content), -1) {
			n[m[1]]++
		}
	}
	return n
}

// rolling checks a service's update and rollback against where its tasks
// may run. A start-first update starts the new task while the old one
// still runs: it needs a free slot (max_replicas_per_node counts both
// tasks, and a task no node may take stays pending: the update never ends
// and never rolls back, moby/moby#40797), a port its node does not hold
// already (mode host), and data of its own (a volume is the old task's).
func rolling(s types.ServiceConfig, labelled map[string]int) []string {
	d := s.Deploy
	var problems []string
	for _, c := range []struct {
		key string
		u   *types.UpdateConfig
	}{{"update_config", d.UpdateConfig}, {"rollback_config", d.RollbackConfig}} {
		if c.u == nil || c.u.Order != "start-first" {
			continue
		}
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeVolume {
				problems = append(problems, fmt.Sprintf("%s is start-first with volume %s: the new task would open the old one's data while it runs; use stop-first", c.key, v.Source))
			}
		}
		for _, port := range s.Ports {
			if port.Mode == "host" {
				problems = append(problems, fmt.Sprintf("%s is start-first with port %s published on its node: the new task cannot take it from the old one and stays pending; use stop-first", c.key, port.Published))
			}
		}
		if d.Placement.MaxReplicas == 0 || d.Replicas == nil {
			continue
		}
		// Parallelism 0 updates every task at once; unset is 1.
		par, replicas := 1, *d.Replicas
		if c.u.Parallelism != nil {
			par = int(*c.u.Parallelism)
		}
		if par == 0 {
			par = replicas
		}
		nodes := -1
		for _, con := range d.Placement.Constraints {
			rest, isLabel := strings.CutPrefix(con, "node.labels.")
			if label, ok := strings.CutSuffix(rest, " == true"); isLabel && ok {
				if nodes < 0 || labelled[label] < nodes {
					nodes = labelled[label]
				}
			}
		}
		if nodes < 0 {
			problems = append(problems, fmt.Sprintf("%s is start-first with max_replicas_per_node %d on nodes no label of %s names: the free slots are unknown; use stop-first", c.key, d.Placement.MaxReplicas, ReadmeFile))
			continue
		}
		if slots := int(d.Placement.MaxReplicas) * nodes; replicas+par > slots {
			problems = append(problems, fmt.Sprintf("%s is start-first, %d at a time, and %d tasks take %d of %d slots (at most %d on each of the %d nodes %s labels): the new task would stay pending and the update would never end nor roll back (moby/moby#40797); use stop-first or leave a slot free",
				c.key, par, replicas, min(replicas, slots), slots, d.Placement.MaxReplicas, nodes, ReadmeFile))
		}
	}
	return problems
}

// memberOwner checks that a MongoDB member can read its keyfile and write
// its volume on a fresh node: it runs as the uid (and gid) its keyfile
// secret belongs to, with mode 0400 (mongod refuses a keyfile others may
// read), and a job running as root on the member's node mounts the same
// volume to hand it to that uid (Swarm's fresh local volume is root's,
// or whatever the image's directory was).
func memberOwner(p *types.Project, s types.ServiceConfig) []string {
	var problems []string
	var key *types.ServiceSecretConfig
	for i, sec := range s.Secrets {
		if sec.Source == "mongodb_keyfile" {
			key = &s.Secrets[i]
		}
	}
	uid, gid, _ := strings.Cut(s.User, ":")
	switch {
	case key == nil:
		problems = append(problems, "has no mongodb_keyfile secret")
	case key.Mode == nil || *key.Mode != 0o400:
		problems = append(problems, "reads a keyfile secret that is not mode 0400: mongod refuses one others may read")
	case s.User == "" || uid != key.UID || gid != key.GID && !(gid == "" && key.GID == "0"):
		problems = append(problems, fmt.Sprintf("runs as user %q, and its keyfile secret belongs to %s:%s with mode 0400: give the member user %q, or mongod cannot read it", s.User, key.UID, key.GID, key.UID+":"+key.GID))
	}
	var data string
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Target == "/data/db" {
			data = v.Source
		}
	}
	if data == "" {
		return append(problems, "keeps /data/db on no volume")
	}
	for _, other := range p.Services {
		d := other.Deploy
		if other.Name == s.Name || d == nil || d.Mode != "replicated-job" || !slices.Equal(d.Placement.Constraints, s.Deploy.Placement.Constraints) {
			continue
		}
		if u, _, _ := strings.Cut(other.User, ":"); u != "0" && u != "root" {
			continue
		}
		for _, v := range other.Volumes {
			if v.Type == types.VolumeTypeVolume && v.Source == data {
				return problems
			}
		}
	}
	return append(problems, fmt.Sprintf("has no job on its node that hands volume %s to its user: a fresh volume is not uid %s's, and mongod could not write it", data, uid))
}
