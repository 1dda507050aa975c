package cli

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/kballard/go-shellquote"
	"github.com/spf13/pflag"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// answerFlags binds a command's answer flags to one spec.Answers and knows
// the answer key of each flag: a flag named like its key (domain, allow-ip
// for allow_ip) needs no more than its one binding line.
type answerFlags struct {
	fs     *pflag.FlagSet
	v      spec.Answers
	keyOf  map[string]string // flag -> answer key
	flagOf map[string]string // answer key -> flag
	// negated flags set their answer to false when given (no-monitoring).
	negated map[string]bool

	config           string
	smtpPasswordFile string
	passphraseFile   string
	// offsiteFiles are the files of the offsite credentials, by their
	// (material) answer key.
	offsiteFiles map[string]*string
	force        forceSet
	// invalid holds the flags whose value did not parse: reported with
	// every other problem at once, not one at a time by the flag parser.
	invalid     []error
	invalidFlag map[string]bool
}

func newAnswerFlags(fs *pflag.FlagSet) *answerFlags {
	return &answerFlags{fs: fs, v: spec.Default(), keyOf: map[string]string{}, flagOf: map[string]string{}, negated: map[string]bool{}, invalidFlag: map[string]bool{}}
}

// keyFor is the answer key a flag stands for by name.
func keyFor(flag string) string { return strings.ReplaceAll(flag, "-", "_") }

func (b *answerFlags) register(flag, key string) {
	if !spec.IsKey(key) {
		panic("cli: flag --" + flag + " names no answer " + key)
	}
	b.keyOf[flag], b.flagOf[key] = key, flag
}

func (b *answerFlags) str(p *string, flag, usage string) {
	b.fs.StringVar(p, flag, *p, usage)
	b.register(flag, keyFor(flag))
}

func (b *answerFlags) integer(p *int, flag, usage string) {
	b.fs.IntVar(p, flag, *p, usage)
	b.register(flag, keyFor(flag))
}

func (b *answerFlags) boolean(p *bool, flag, usage string) {
	b.fs.BoolVar(p, flag, *p, usage)
	b.register(flag, keyFor(flag))
}

func (b *answerFlags) value(v pflag.Value, flag, usage string) {
	b.fs.Var(deferred{v, flag, b}, flag, usage)
	b.register(flag, keyFor(flag))
}

// deferred is a typed flag value whose parse error is collected, so a bad
// size is reported together with every other invalid answer.
type deferred struct {
	pflag.Value
	flag string
	b    *answerFlags
}

func (d deferred) Set(s string) error {
	if err := d.Value.Set(s); err != nil {
		d.b.invalid = append(d.b.invalid, usage(fmt.Errorf("--%s: %w", d.flag, err)))
		d.b.invalidFlag[d.flag] = true
	}
	return nil
}

// forceSet is --force: bare, it accepts what --force always has (a
// directory holding other files, a host below the minimum);
// --force=NAME[,NAME] accepts exactly the named refusals, such
// as a failed host check (cpu, architecture) or a deployment a newer rcgen
// wrote (older-rcgen), so nothing is overridden without being named.
type forceSet map[string]bool

// Names --force accepts.
const (
	forceDirectory = "directory"
	forceMemory    = "memory"
)

var forceNames = []string{forceDirectory, forceMemory, deploy.KeyOlderRcgen, deploy.KeyMemberNode, deploy.KeyTarget, deploy.KeyNamespace, deploy.KeyStorageClass, keyOtherDeployment, backup.KeyUnencrypted, keyNoBackup, "cpu", "architecture"}

// keyOtherDeployment names the confirmation that a backup of another
// deployment is restored here (rcgen restore).
const keyOtherDeployment = "other-deployment"

// set records s, a --force value, accepting only the names in accepts
// (the names the command given it uses).
func (f *forceSet) set(s string, accepts []string) error {
	if *f == nil {
		*f = forceSet{}
	}
	switch s {
	case "true":
		(*f)[forceDirectory], (*f)[forceMemory] = true, true
		return nil
	case "false":
		*f = forceSet{}
		return nil
	}
	for _, n := range strings.Split(s, ",") {
		if !slices.Contains(accepts, n) {
			return fmt.Errorf("%q is nothing --force can accept here: name %s", n, forceChoice(accepts))
		}
		(*f)[n] = true
	}
	return nil
}

// forceChoice says which of names to give --force: "x" for one name,
// "one or more of x, y, z" for several.
func forceChoice(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return "one or more of " + strings.Join(names, ", ")
}

func (f forceSet) String() string {
	var ns []string
	for _, n := range forceNames {
		if f[n] {
			ns = append(ns, n)
		}
	}
	return strings.Join(ns, ",")
}

// forceFlag is one command's --force: it fills set and accepts only the
// names that command uses.
type forceFlag struct {
	set     *forceSet
	accepts []string
}

func (f forceFlag) Set(s string) error { return f.set.set(s, f.accepts) }
func (f forceFlag) String() string     { return f.set.String() }
func (forceFlag) Type() string         { return "names" }

// Has reports whether name was forced.
func (f forceSet) Has(name string) bool { return f[name] }

func (b *answerFlags) bindForce(usage string, names ...string) {
	bindForceFlag(b.fs, &b.force, usage, names...)
}

// negatedBool is a --no-X flag setting the answer X to false.
type negatedBool struct{ p *bool }

func (n negatedBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*n.p = !v
	return nil
}
func (n negatedBool) String() string { return strconv.FormatBool(!*n.p) }
func (n negatedBool) Type() string   { return "bool" }
func (n negatedBool) IsBoolFlag() bool {
	return true
}

func (b *answerFlags) negate(p *bool, flag, key, usage string) {
	f := b.fs.VarPF(negatedBool{p}, flag, "", usage)
	f.NoOptDefVal = "true"
	f.DefValue = "false"
	b.register(flag, key)
	b.negated[flag] = true
}

// bindSizing registers the flags that change the plan (plan and generate).
func (b *answerFlags) bindSizing() {
	a, f := &b.v, b.fs
	f.StringVar(&b.config, "config", "", "answers file to start from (rcgen.yaml; - reads standard input); flags override it")
	b.str(&a.Catalog, "catalog", "a catalog file your organisation pins (rcgen versions --help): it adds releases rcgen may deploy and may restrict them to an allow list")
	b.value(&a.CPUs, "cpus", "cores of the target host, instead of detecting this one (e.g. 8)")
	b.value(&a.Memory, "memory", "memory of the target host, instead of detecting this one (e.g. 16GiB, 16384MiB)")
	b.str(&a.LicenseFile, "license-file", "file holding a Rocket.Chat Enterprise licence (needed for more than one app process)")
	b.integer(&a.Users, "users", "expected concurrent users (sizes the app processes and checks Rocket.Chat's hardware table)")
	b.integer(&a.MongoDBMembers, "mongodb-members", "MongoDB replica set members: 1 or 3")
	b.integer(&a.Processes, "processes", "app processes, overriding the computed count")
	b.boolean(&a.AllowUnlicensedInstances, "allow-unlicensed-instances", "allow --processes above 1 without a licence (instances will not share real-time events)")
	b.str(&a.Proxy, "proxy", "who serves users: caddy or traefik (rcgen's own, automatic HTTPS), host (nginx or Caddy on this host: rcgen writes proxy/nginx.conf and proxy/Caddyfile), traefik-labels, nginx-proxy or caddy-docker-proxy (your proxy container, on --proxy-network); none is the older host")
	b.str(&a.ProxyNetwork, "proxy-network", "the Docker network your proxy container watches, which the app processes join (default: traefik for traefik-labels, nginx-proxy for nginx-proxy, caddy for caddy-docker-proxy)")
	b.negate(&a.Monitoring, "no-monitoring", spec.KeyMonitoring, "leave out Prometheus, Grafana and the exporters")
	b.boolean(&a.Logs, "logs", "with monitoring, Loki and a log collector: every container's log searchable in Grafana, alerts on what only the logs show (on by default where the host has 4GB; --logs=false leaves them out)")
	b.negate(&a.Backup, "no-backup", spec.KeyBackup, "leave out the backup service (scheduled MongoDB dumps and the deployment's files, in backups/)")
}

// bindTarget registers --target and --node (generate and plan).
func (b *answerFlags) bindTarget() {
	a := &b.v
	b.str(&a.Target, "target", "where it runs: compose (this host, docker compose), swarm (several hosts, docker stack deploy, with --node) or kubernetes (a cluster, kubectl apply -k, with --node)")
	b.fs.Var(deferred{&a.Nodes, "node", b}, "node", "a Swarm or Kubernetes node, repeated for each: NAME=CPUS:MEMORY[:ROLES] (roles db, proxy, monitoring, backup pin those services), e.g. node-1=4:8GiB")
	b.register("node", spec.KeyNodes)
	b.str(&a.KubeNamespace, "kube-namespace", "with --target kubernetes: the namespace of every object (default "+spec.DefaultKubeNamespace+"); it never changes once data exists")
	b.str(&a.StorageClass, "storage-class", "with --target kubernetes: the StorageClass of the MongoDB and backup volumes (default: the cluster's default class)")
	b.str(&a.Ingress, "ingress", "with --target kubernetes: nginx (an Ingress for ingress-nginx, the default) or gateway (a Gateway API HTTPRoute, with --gateway)")
	b.fs.StringVar(&a.GatewayName, "gateway", a.GatewayName, "with --ingress gateway: the Gateway the HTTPRoute attaches to, as NAMESPACE/NAME")
	b.register("gateway", spec.KeyGatewayName)
	b.fs.BoolVar(&a.OpenShift, "openshift", a.OpenShift, "with --target kubernetes: write the pods for OpenShift's restricted-v2 policy (OpenShift assigns each pod's user and group; no fixed ones)")
	b.register("openshift", spec.KeyOpenShift)
	b.str(&a.KubeMonitoring, "kube-monitoring", "with --target kubernetes: operator (ServiceMonitors and PrometheusRules for the cluster's Prometheus operator, the default) or bundled (rcgen's own Prometheus and Grafana)")
}

// bindDeployment registers the flags only generate has.
func (b *answerFlags) bindDeployment() {
	a, f := &b.v, b.fs
	b.bindTarget()
	b.str(&a.Domain, "domain", "public host name users type (localhost: plain http, no certificate)")
	b.boolean(&a.AllowIP, "allow-ip", "accept an IP address as --domain (plain http: no certificate can name it)")
	b.str(&a.Email, "email", "Let's Encrypt account email (required for a public domain)")
	b.str(&a.RocketChatVersion, "rocketchat-version", "Rocket.Chat release to deploy: exact (e.g. "+catalog.DefaultRocketChatVersion()+"), or latest (the newest rcgen deploys) or lts (the newest LTS, the default); rcgen.yaml records the exact release")
	b.str(&a.Project, "project", "Compose project name; it prefixes every volume, so it never changes once data exists")
	b.str(&a.ProxyCertResolver, "proxy-certresolver", "with --proxy traefik-labels: your Traefik's certificate resolver for the domain (default "+spec.DefaultProxyCertResolver+")")
	b.str(&a.TLSCert, "tls-cert", "your own certificate (PEM, full chain) instead of an automatic one")
	b.str(&a.TLSKey, "tls-key", "the key of --tls-cert (PEM, unencrypted)")
	b.str(&a.MetricsRetention, "metrics-retention", "how long Prometheus keeps metrics (e.g. 15d, 8w)")
	b.str(&a.MetricsRetentionSize, "metrics-retention-size", "the most disk Prometheus uses for metrics (e.g. 10GB)")
	b.str(&a.LogsRetention, "logs-retention", "how long Loki keeps logs, in whole days (e.g. 7d, 2w)")
	b.str(&a.AlertEmail, "alert-email", "email alerts to this address (with --smtp-host and --smtp-from); otherwise alerts show in Grafana only")
	b.str(&a.SMTPHost, "smtp-host", "mail server for alert emails and --app-email, host:port (e.g. smtp.example.com:587)")
	b.boolean(&a.AppEmail, "app-email", "send Rocket.Chat's own email (invitations, password resets) through --smtp-host too")
	b.str(&a.SMTPFrom, "smtp-from", "sender address of alert emails")
	b.str(&a.SMTPUser, "smtp-user", "SMTP login; the password comes from --smtp-password-file or RCGEN_SMTP_PASSWORD")
	f.StringVar(&b.smtpPasswordFile, "smtp-password-file", "", "file holding the SMTP password (kept in .env)")
	b.flagOf[spec.KeySMTPPassword] = "smtp-password-file"
	b.str(&a.BackupSchedule, "backup-schedule", "when backups run: HH:MM once a day (UTC), or an interval such as 6h")
	b.integer(&a.BackupKeep, "backup-keep", "how many scheduled backups to keep (older ones are deleted)")
	f.StringVar(&b.passphraseFile, "backup-passphrase-file", "", "file holding a passphrase that encrypts backups at rest (kept in .env; or RCGEN_BACKUP_PASSPHRASE)")
	b.flagOf[spec.KeyPassphrase] = "backup-passphrase-file"
	b.str(&a.BackupTarget, "backup-target", "copy every finished backup off this host too: a directory of this host (another disk), s3://BUCKET/PREFIX or sftp://USER@HOST[:PORT]/PATH (rclone copies, checks and prunes them)")
	b.str(&a.BackupS3Endpoint, "backup-s3-endpoint", "URL of the S3-compatible service of an s3:// --backup-target (e.g. https://s3.eu-central-1.amazonaws.com)")
	b.str(&a.BackupS3Region, "backup-s3-region", "region of the S3 service, if it needs one (e.g. eu-central-1)")
	b.boolean(&a.BackupUnencryptedOffsite, "backup-unencrypted-offsite", "copy backups to an s3:// or sftp:// --backup-target although they are not encrypted (no --backup-passphrase-file)")
	b.offsiteFiles = map[string]*string{}
	for _, x := range []struct{ key, flag, usage string }{
		{spec.KeyS3AccessKey, "backup-s3-access-key-file", "file holding the S3 access key id (kept in secrets/, mode 0600)"},
		{spec.KeyS3SecretKey, "backup-s3-secret-key-file", "file holding the S3 secret access key (kept in secrets/, mode 0600)"},
		{spec.KeySFTPKey, "backup-sftp-key-file", "file holding the SSH private key (no passphrase) the backup service logs in to an sftp:// --backup-target with (kept in secrets/, mode 0600)"},
		{spec.KeySFTPKnownHosts, "backup-sftp-known-hosts-file", "known_hosts file with the host key of the sftp:// --backup-target's server (ssh-keyscan prints it; kept in secrets/)"},
	} {
		v := new(string)
		f.StringVar(v, x.flag, "", x.usage)
		b.offsiteFiles[x.key] = v
		b.flagOf[x.key] = x.flag
	}
}

// offsiteSecrets reads the offsite credential files the flags name
// (spec.ReadUserFile: regular files, bounded) and checks each: the values
// by their material key, and every problem at once.
func (b *answerFlags) offsiteSecrets() (map[string]string, error) {
	got := map[string]string{}
	var errs []error
	for _, key := range []string{spec.KeyS3AccessKey, spec.KeyS3SecretKey, spec.KeySFTPKey, spec.KeySFTPKnownHosts} {
		p := b.offsiteFiles[key]
		if p == nil || *p == "" {
			continue
		}
		flag := b.flagOf[key]
		data, err := spec.ReadUserFile(*p)
		if err != nil {
			errs = append(errs, usage(fmt.Errorf("--%s: %w", flag, err)))
			continue
		}
		v := string(data)
		if key == spec.KeyS3AccessKey || key == spec.KeyS3SecretKey {
			v = strings.TrimSpace(v)
		}
		if strings.TrimSpace(v) == "" {
			errs = append(errs, usage(fmt.Errorf("--%s: %s is empty: write the key in it", flag, *p)))
			continue
		}
		var a spec.Answers
		a.BackupS3AccessKey, a.BackupS3SecretKey, a.BackupSFTPKey, a.BackupSFTPKnownHosts = v, v, v, v
		if err := a.CheckKey(key); err != nil {
			var fe *spec.FieldError
			if errors.As(err, &fe) {
				err = fmt.Errorf("%s", fe.Msg)
			}
			errs = append(errs, usage(fmt.Errorf("--%s: %s: %w", flag, *p, err)))
			continue
		}
		got[key] = v
	}
	return got, errors.Join(errs...)
}

// flagLayer is the answers the flags actually given settle (a flag whose
// value did not parse settles nothing; its error is in invalid).
func (b *answerFlags) flagLayer() spec.Layer {
	l := spec.Layer{Kind: spec.FromFlag}
	b.fs.Visit(func(f *pflag.Flag) {
		if key, ok := b.keyOf[f.Name]; ok && !b.invalidFlag[f.Name] {
			l.Set(key, b.v)
		}
	})
	return l
}

// configLayer reads --config (a file, or - for standard input).
func (b *answerFlags) configLayer(stdin io.Reader) (*spec.Layer, error) {
	if b.config == "" {
		return nil, nil
	}
	var data []byte
	name, dir := "standard input", "."
	if b.config == "-" {
		if stdin == nil {
			return nil, errors.New("--config -: no standard input to read")
		}
		var err error
		if data, err = io.ReadAll(io.LimitReader(stdin, spec.MaxUserFile+1)); err != nil {
			return nil, fmt.Errorf("--config: reading standard input: %w", err)
		}
		if len(data) > spec.MaxUserFile {
			return nil, fmt.Errorf("--config: standard input holds more than %s, which no answers file does", spec.FormatBytes(spec.MaxUserFile))
		}
	} else {
		var err error
		if data, err = spec.ReadUserFile(b.config); err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		name, dir = b.config, filepath.Dir(b.config)
	}
	// The answers that decoded come back with the file's errors, so
	// their values are checked too.
	l, err := spec.ParseFile(name, data, dir)
	return &l, err
}

// givenLayers are the layers this run gives: --config, then the flags.
// With an error in the answers file, the layers still hold every answer
// that decoded, for checkGiven to report their problems with the file's.
func (b *answerFlags) givenLayers(stdin io.Reader) ([]spec.Layer, error) {
	var ls []spec.Layer
	cfg, err := b.configLayer(stdin)
	if cfg != nil {
		ls = append(ls, *cfg)
	}
	var errs []error
	for _, e := range unjoin(err) {
		errs = append(errs, usage(e))
	}
	return append(ls, b.flagLayer()), errors.Join(errs...)
}

// unjoin lists the errors err joins (err itself when it joins none).
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// checkGiven checks, before anything is asked, the form of every answer
// this run's layers give and the files they name, all at once, and words
// each problem the way its answer was given.
func (b *answerFlags) checkGiven(layers []spec.Layer) error {
	a, origins, err := spec.Resolve(layers...)
	if err != nil {
		return usage(err)
	}
	errs := append([]error{}, b.invalid...)
	for _, key := range spec.Keys() {
		if origins.Settled(key) {
			if err := a.CheckKey(key); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := spec.LoadMaterial(&a); err != nil {
		errs = append(errs, err)
	}
	return presenter{flags: b, origins: origins}.explain(errors.Join(errs...))
}

// host detects this machine, or takes the cores and memory given instead.
func host(env Env, a spec.Answers) (sizing.Host, error) {
	var h sizing.Host
	if a.Cluster() {
		// The nodes are the hosts: nothing here is detected.
		for _, n := range a.Nodes {
			h.CPUs += n.CPUs
			h.Memory += n.Memory
		}
		h.CPUSource, h.MemorySource = sizing.Given, sizing.Given
		return h, nil
	}
	if a.CPUs.IsZero() || a.Memory.IsZero() {
		if env.Detect == nil {
			return h, errors.New("no host detector: give --cpus and --memory")
		}
		d, err := env.Detect()
		if err != nil {
			return h, err
		}
		h = d
	}
	return h.Override(a.CPUs.Value(), a.Memory.Bytes()), nil
}

// presenter words the errors of lower layers, which carry answer keys, the
// way the person gave each answer: as its flag, its line in an answers
// file, or its wizard question.
type presenter struct {
	flags   *answerFlags
	origins spec.Origins
	// questions names the wizard's question for an answer key.
	questions map[string]string
}

// explain rewrites err (possibly joined) for the person; it keeps the
// usage class of the errors it wraps.
func (p presenter) explain(err error) error {
	if err == nil {
		return nil
	}
	var parts []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	} else {
		parts = []error{err}
	}
	var out []error
	for _, e := range parts {
		out = append(out, p.one(e))
	}
	return errors.Join(out...)
}

func (p presenter) one(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return p.explain(errors.Join(j.Unwrap()...))
	}
	var ts *sizing.ErrTooSmall
	if errors.As(err, &ts) && ts.Forcible {
		return usage(fmt.Errorf("%w; give --force to try anyway", err))
	}
	var fe *spec.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	if fe.Override != "" || strings.Contains(fe.Msg, "{force:") {
		c := *fe
		c.Msg = wordForce(c.Msg)
		if fe.Override != "" {
			c.Msg += fmt.Sprintf("; to go ahead, give --force=%s", fe.Override)
		}
		fe = &c
	}
	o := p.origins[fe.Key]
	switch o.Kind {
	case spec.FromConfig, spec.FromDeployment:
		// In a file, answers are named by their keys.
		return usage(&spec.LineError{File: o.Name, Line: o.Line, Msg: fe.Key + ": " + fe.Text(keyWord)})
	case spec.FromWizard:
		if q := p.questions[fe.Key]; q != "" {
			return usage(fmt.Errorf("%s (%s): %s", q, fe.Key, fe.Text(p.flagWord)))
		}
	}
	if flag := p.flagWord(fe.Key); flag != fe.Key {
		return usage(fmt.Errorf("%s: %s", flag, fe.Text(p.flagWord)))
	}
	return usage(fmt.Errorf("%s: %s", fe.Key, fe.Text(keyWord)))
}

func keyWord(key string) string { return key }

// wordForce words the confirmations a lower layer names as {force:NAME}
// (deploy's guards) as the flag that gives them.
func wordForce(msg string) string {
	for _, n := range forceNames {
		msg = strings.ReplaceAll(msg, "{force:"+n+"}", "--force="+n)
	}
	return msg
}

// flagWord names an answer by its flag, when the command has one.
func (p presenter) flagWord(key string) string {
	if p.flags != nil {
		if flag, ok := p.flags.flagOf[key]; ok {
			return "--" + flag
		}
	}
	return key
}

// rerunCommand spells out the flags that reproduce a's answers (those
// differing from the defaults), shell-quoted, so the operator can change
// one and keep the rest. A list answer (the Swarm nodes) is its flag once
// per element, as the flag takes it.
func (b *answerFlags) rerunCommand(a spec.Answers) string {
	args := []string{"rcgen", "generate", "--out", "."}
	def := spec.Default()
	for _, key := range spec.Keys() {
		flag, ok := b.flagOf[key]
		v := a.Get(key)
		if !ok || reflect.DeepEqual(v, def.Get(key)) {
			continue
		}
		switch x := v.(type) {
		case bool:
			if b.negated[flag] == !x {
				args = append(args, "--"+flag)
			}
		default:
			if rv := reflect.ValueOf(x); rv.Kind() == reflect.Slice {
				for i := range rv.Len() {
					args = append(args, "--"+flag, fmt.Sprint(rv.Index(i).Interface()))
				}
				continue
			}
			args = append(args, "--"+flag, fmt.Sprint(x))
		}
	}
	return shellquote.Join(args...)
}
