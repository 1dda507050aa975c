package cli

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/hostproxy"
	"github.com/rcgen/rcgen/internal/prompt"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
	"github.com/rcgen/rcgen/internal/upgrade"
)

// expandHome turns a leading ~ into the home directory, as a shell would:
// a path typed at a prompt never passes through one.
func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~"))
}

// errCancelled is returned when the person declines to write.
var errCancelled = errors.New("cancelled: nothing was written")

// wizard asks, on a terminal, the answers that flags and answers files did
// not settle. It edits the resolved answers directly and records each
// answer it asked as coming from the wizard; every question checks its
// answer with the answer's own validator (spec.Answers.CheckKey), the one
// its flag and its answers-file line use.
type wizard struct {
	p      prompt.Prompter
	stderr io.Writer
	force  bool
	// planShown is set once the person has been shown the plan (with its
	// warnings) and chose to write it.
	planShown bool
	// smtpKept is the SMTP password the deployment already has ("" if none).
	smtpKept string
	// now is today, for the support dates of the releases offered.
	now time.Time
	// checkVersion is the deployment's guard on a Rocket.Chat release (no
	// downgrade, MongoDB one step at a time); nil accepts any.
	checkVersion func(version string) error
	// detectProxy tells which proxy the host runs (nil: none found);
	// found is its answer, asked once.
	detectProxy func() hostproxy.Finding
	found       *hostproxy.Finding
	a           *spec.Answers
	origins     spec.Origins
	asked       []question
}

type question struct {
	key   string // the answer it sets (tls: the proxy and certificate answers)
	label string // how "change an answer" lists it
	ask   func(w *wizard) error
	// after names the questions whose answer decides whether this one
	// applies or what it offers: changing one of them asks this again.
	after []string
	// settledBy are the answers that, given by this run, make this
	// question unnecessary.
	settledBy []string
	// onChange questions are not asked on the way to the plan, only
	// offered by "Change an answer" after it (their answer has a default
	// the plan shows).
	onChange bool
}

const keyTLS = "tls" // the HTTPS question: proxy and certificate together

// questions returns the questions in the order they are asked (a function,
// since the questions refer back to the list).
func questions() []question {
	return []question{
		{key: spec.KeyTarget, label: "hosts", ask: (*wizard).askTarget, settledBy: []string{spec.KeyNodes}},
		{key: spec.KeyKubeNamespace, label: "Kubernetes namespace, storage and ingress", ask: (*wizard).askKube, after: []string{spec.KeyTarget},
			settledBy: []string{spec.KeyStorageClass, spec.KeyIngress, spec.KeyGatewayName}},
		{key: spec.KeyDomain, label: "public domain", ask: (*wizard).askDomain},
		{key: keyTLS, label: "HTTPS", ask: (*wizard).askTLS, after: []string{spec.KeyDomain}, settledBy: []string{spec.KeyProxy, spec.KeyTLSCert}},
		{key: spec.KeyEmail, label: "Let's Encrypt email", ask: (*wizard).askEmail, after: []string{spec.KeyDomain, keyTLS}},
		{key: spec.KeyLicenseFile, label: "Enterprise licence", ask: (*wizard).askLicense},
		{key: spec.KeyUsers, label: "expected concurrent users", ask: (*wizard).askUsers},
		{key: spec.KeyMembers, label: "MongoDB members", ask: (*wizard).askMembers},
		{key: spec.KeyMonitoring, label: "monitoring", ask: (*wizard).askMonitoring},
		{key: spec.KeyKubeMonitoring, label: "Kubernetes monitoring", ask: (*wizard).askKubeMonitoring, after: []string{spec.KeyTarget, spec.KeyMonitoring}},
		{key: spec.KeyLogs, label: "logs", ask: (*wizard).askLogs, after: []string{spec.KeyTarget, spec.KeyMonitoring}},
		{key: spec.KeyAlertEmail, label: "alert emails", ask: (*wizard).askAlerts, after: []string{spec.KeyMonitoring}},
		{key: spec.KeyBackup, label: "backups", ask: (*wizard).askBackup, settledBy: []string{spec.KeySchedule, spec.KeyBackupKeep}},
		{key: spec.KeyVersion, label: "Rocket.Chat release", ask: (*wizard).askVersion, onChange: true},
	}
}

// labels maps answer keys to the question that asked them, for errors.
func (w *wizard) labels() map[string]string {
	m := map[string]string{}
	for _, q := range w.asked {
		m[q.key] = q.label
	}
	return m
}

// settled reports whether this run's flags or --config answer q, so the
// wizard never asks it (answers the wizard itself gave do not count).
func (w *wizard) settled(q question) bool {
	for _, k := range append([]string{q.key}, q.settledBy...) {
		if o := w.origins[k].Kind; o == spec.FromFlag || o == spec.FromConfig {
			return true
		}
	}
	return false
}

// askMissing asks every question not settled by a flag or --config, in order.
func (w *wizard) askMissing() error {
	for _, q := range questions() {
		if q.onChange || w.settled(q) {
			continue
		}
		if err := q.ask(w); err != nil {
			return err
		}
	}
	return nil
}

// record notes that key was asked, and that its answer now comes from the
// wizard.
func (w *wizard) record(key string, keys ...string) {
	for _, k := range append([]string{key}, keys...) {
		if spec.IsKey(k) || k == spec.KeySMTPPassword {
			w.origins[k] = spec.Origin{Kind: spec.FromWizard}
		}
	}
	for _, q := range w.asked {
		if q.key == key {
			return
		}
	}
	for _, q := range questions() {
		if q.key == key {
			w.asked = append(w.asked, q)
		}
	}
}

// check returns the validator of a text answer: set puts the candidate
// into a copy of the answers, and the answer's own check runs on it.
func (w *wizard) check(key string, set func(a *spec.Answers, s string)) func(string) error {
	return func(s string) error {
		c := *w.a
		set(&c, s)
		var fe *spec.FieldError
		if err := c.CheckKey(key); errors.As(err, &fe) {
			return errors.New(fe.Text(keyWord))
		}
		return nil
	}
}

// askTarget asks whether the workspace spans several hosts (Docker Swarm)
// and, if so, for the nodes.
func (w *wizard) askTarget() error {
	a := w.a
	w.record(spec.KeyTarget)
	swarm, err := w.p.Confirm("Will Rocket.Chat run on several hosts (Docker Swarm)?",
		"One host runs the stack with docker compose. Several hosts joined in a Docker Swarm keep chat up when one dies "+
			"(three MongoDB members on three nodes) and carry more users; rcgen sizes each node.", a.Cluster())
	if err != nil {
		return err
	}
	if !swarm {
		a.Target, a.Nodes = spec.TargetCompose, nil
		return nil
	}
	const onSwarm, onKube = "Docker Swarm (docker stack deploy)", "Kubernetes (kubectl apply -k; also Rancher and OpenShift)"
	def := onSwarm
	if a.Kubernetes() {
		def = onKube
	}
	platform, err := w.p.Select("Which platform joins the hosts?",
		"Docker Swarm: rcgen's stack file for docker stack deploy. Kubernetes: plain manifests and a kustomization.yaml for a cluster "+
			"(the platform Rocket.Chat's support covers for scaled installations); the cluster's ingress controller serves users.",
		[]string{onSwarm, onKube}, def)
	if err != nil {
		return err
	}
	a.Target = spec.TargetSwarm
	prompt, help := "Swarm nodes, separated by spaces (NAME=CPUS:MEMORY[:ROLES]):",
		"Each node's host name as docker node ls shows it, its cores and memory, e.g. node-1=4:8GiB node-2=4:8GiB node-3=4:8GiB. "+
			"Roles pin services: db (a MongoDB member), proxy (Caddy), monitoring (Prometheus, Grafana)."
	if platform == onKube {
		a.Target = spec.TargetKubernetes
		prompt, help = "Kubernetes nodes the deployment may use, separated by spaces (NAME=CPUS:MEMORY[:ROLES]):",
			"Each node's name as kubectl get nodes shows it, and the cores and memory it can give this deployment, e.g. node-1=4:8GiB node-2=4:8GiB node-3=4:8GiB. "+
				"rcgen sizes the pods from them; each MongoDB member gets a node of its own."
	}
	w.record(spec.KeyNodes)
	v, err := w.p.Input(prompt, help, a.Nodes.String(), func(s string) error {
		_, err := parseNodeList(s)
		return err
	})
	if err != nil {
		return err
	}
	a.Nodes, _ = parseNodeList(v)
	if len(a.Nodes) >= 3 {
		a.MongoDBMembers = 3
	}
	return nil
}

// parseNodeList reads the wizard's space-separated nodes.
func parseNodeList(s string) (spec.Nodes, error) {
	var ns spec.Nodes
	for _, f := range strings.Fields(s) {
		if err := ns.Set(f); err != nil {
			return nil, err
		}
	}
	if len(ns) == 0 {
		return nil, errors.New("give at least one node, e.g. node-1=4:8GiB")
	}
	return ns, nil
}

func (w *wizard) askDomain() error {
	a := w.a
	for {
		v, err := w.p.Input("Public domain name users will type:",
			"The host name of this server in DNS, e.g. chat.example.com, without https:// or a path. "+
				"Rocket.Chat's ROOT_URL is built from it and must match what users type. "+
				"Use localhost to try Rocket.Chat on this machine over plain http.",
			a.Domain, func(s string) error {
				if _, err := netip.ParseAddr(s); err == nil {
					return nil // asked below: an address only if the person insists
				}
				return w.check(spec.KeyDomain, func(c *spec.Answers, s string) { c.Domain, c.AllowIP = s, false })(s)
			})
		if err != nil {
			return err
		}
		w.record(spec.KeyDomain, spec.KeyAllowIP)
		a.Domain, a.AllowIP = v, false
		if _, err := netip.ParseAddr(v); err != nil {
			return nil
		}
		insist, err := w.p.Confirm(fmt.Sprintf("%s is an IP address, not a domain name. Use it anyway, over plain http?", v),
			"No certificate authority issues certificates for a bare address, so Rocket.Chat would be served "+
				"without HTTPS, and its ROOT_URL changes whenever the address does. A DNS name is better.", false)
		if err != nil {
			return err
		}
		if insist {
			a.AllowIP = true
			if err := w.check(spec.KeyDomain, func(*spec.Answers, string) {})(v); err != nil {
				fmt.Fprintln(w.stderr, "X", err)
				continue
			}
			return nil
		}
	}
}

const (
	tlsAuto = "Automatic certificate"
	tlsOwn  = "My own certificate files"
	tlsNone = "None here: a proxy I already run terminates TLS"
	// tlsTraefik is the automatic certificate with rcgen's own Traefik in
	// front instead of Caddy (proxy traefik): compose only, and for a
	// public name (Traefik has no CA of its own for a local one).
	tlsTraefik = tlsAuto + " from Let's Encrypt, with Traefik in front instead of Caddy"
)

func (w *wizard) askTLS() error {
	a := w.a
	if spec.TLSModeFor(a.Domain) == spec.TLSNone {
		a.Proxy, a.TLSCert, a.TLSKey = spec.ProxyCaddy, "", ""
		return nil // localhost: plain http, nothing to choose
	}
	w.record(keyTLS, spec.KeyProxy, spec.KeyProxyNetwork, spec.KeyTLSCert, spec.KeyTLSKey)
	if a.Kubernetes() {
		return w.askKubeTLS()
	}
	if !a.Swarm() {
		// The Swarm stack keeps its Caddy (spec: checkTarget).
		own, err := w.askOwnProxy()
		if err != nil || own {
			return err
		}
	}
	a.ProxyNetwork = ""
	if a.UserProxy() && a.Proxy != spec.ProxyNone {
		a.Proxy = spec.ProxyCaddy // "no proxy here": the HTTPS question decides
	}
	auto := tlsAuto + " from Let's Encrypt (Caddy renews it)"
	if spec.TLSModeFor(a.Domain) == spec.TLSInternal {
		auto = tlsAuto + " from Caddy's own CA (a local name Let's Encrypt cannot reach)"
	}
	options := []string{auto, tlsOwn, tlsNone}
	if !a.Swarm() && spec.TLSModeFor(a.Domain) == spec.TLSACME {
		options = []string{auto, tlsTraefik, tlsOwn, tlsNone}
	}
	for {
		def := auto
		switch {
		case a.Proxy == spec.ProxyNone:
			def = tlsNone
		case a.TLSCert != "":
			def = tlsOwn
		case a.Proxy == spec.ProxyTraefik && slices.Contains(options, tlsTraefik):
			def = tlsTraefik
		}
		v, err := w.p.Select("How should HTTPS work?",
			"rcgen runs Caddy (or, if you prefer it, Traefik) in front of Rocket.Chat. It can get and renew a certificate by itself, "+
				"serve certificate files you already have, or step aside when your own proxy terminates TLS "+
				"(the app then listens on 127.0.0.1 only).",
			options, def)
		if err != nil {
			return err
		}
		switch v {
		case tlsNone:
			a.Proxy, a.TLSCert, a.TLSKey = spec.ProxyNone, "", ""
		case tlsTraefik:
			a.Proxy, a.TLSCert, a.TLSKey = spec.ProxyTraefik, "", ""
		case tlsOwn:
			a.Proxy = spec.ProxyCaddy
			if err := w.askCertificate(); errors.Is(err, errBack) {
				continue
			} else if err != nil {
				return err
			}
		default:
			a.Proxy, a.TLSCert, a.TLSKey = spec.ProxyCaddy, "", ""
		}
		return nil
	}
}

// ownProxies are the proxies a host may already run, as the wizard offers
// them; one the answers do not accept (spec.CheckKey) is not offered.
var ownProxies = []struct{ proxy, label string }{
	{spec.ProxyNginxProxy, "nginx-proxy (with acme-companion), in a container"},
	{spec.ProxyCaddyDockerProxy, "caddy-docker-proxy, in a container"},
	{hostproxy.TraefikLabels, "Traefik reading Docker labels, in a container"},
	{spec.ProxyHost, "nginx, Caddy or Apache installed on this host"},
}

// proxyFinding runs the host's proxy detection once (none without one).
func (w *wizard) proxyFinding() hostproxy.Finding {
	if w.detectProxy == nil {
		return hostproxy.Finding{}
	}
	if w.found == nil {
		f := w.detectProxy()
		w.found = &f
	}
	return *w.found
}

// askOwnProxy asks whether the host already runs a reverse proxy and, if
// so, which one and (for a proxy container) the network it watches, with
// what the host shows as the defaults. own reports a proxy of the
// person's: nothing is then asked about HTTPS, which that proxy owns.
func (w *wizard) askOwnProxy() (own bool, err error) {
	a := w.a
	found := w.proxyFinding()
	var offered []string
	def := ""
	for _, p := range ownProxies {
		c := *a
		c.Proxy = p.proxy
		if c.CheckKey(spec.KeyProxy) != nil {
			continue
		}
		offered = append(offered, p.label)
		if p.proxy == found.Proxy || found.Proxy == "" && p.proxy == a.Proxy {
			def = p.label
		}
	}
	help := "A proxy that already owns ports 80 and 443 for several sites (nginx-proxy, caddy-docker-proxy, Traefik, " +
		"or nginx installed on the host) keeps them: rcgen then runs no Caddy and sets Rocket.Chat up behind yours. " +
		"Without one, rcgen runs Caddy, which gets the certificate itself."
	if found.Proxy != "" {
		help += " rcgen found " + found.Seen + "."
	}
	yes, err := w.p.Confirm("Does this host already run a reverse proxy?", help, found.Proxy != "" || a.UserProxy() && a.Proxy != spec.ProxyNone)
	if err != nil || !yes {
		return false, err
	}
	if def == "" {
		def = offered[len(offered)-1]
	}
	v, err := w.p.Select("Which one?",
		"Containers find Rocket.Chat on a Docker network they watch, by its labels or environment; a proxy installed on "+
			"the host reaches the app processes on 127.0.0.1, and rcgen writes its configuration into proxy/.",
		offered, def)
	if err != nil {
		return false, err
	}
	for _, p := range ownProxies {
		if p.label == v {
			a.Proxy = p.proxy
		}
	}
	a.TLSCert, a.TLSKey, a.TLSCertPEM, a.TLSKeyPEM = "", "", "", ""
	if !a.ProxyJoinsNetwork() {
		a.ProxyNetwork = ""
		return true, nil
	}
	netDef := a.ProxyNetwork
	if found.Proxy == a.Proxy && found.Network != "" && netDef == "" {
		netDef = found.Network
	}
	if netDef == "" {
		netDef = a.ProxyNetworkName()
	}
	n, err := w.p.Input("Docker network your proxy watches:",
		"The app processes join this network (created outside this deployment: docker network create NAME) "+
			"and nothing else of the deployment does. It must be one your proxy's container is on.",
		netDef, w.check(spec.KeyProxyNetwork, func(c *spec.Answers, s string) { c.ProxyNetwork = s }))
	if err != nil {
		return false, err
	}
	a.ProxyNetwork = n
	return true, nil
}

// errBack is askCertificate's way back to the HTTPS question.
var errBack = errors.New("back to the HTTPS question")

// readable returns path when it names a file that can be read, else "":
// a default that cannot be read would leave Enter no way back.
func readable(path string) string {
	if path == "" {
		return ""
	}
	if _, err := spec.ReadUserFile(expandHome(path)); err != nil {
		return ""
	}
	return path
}

// askCertificate asks for the certificate and key files. An empty answer
// to either (with no file offered as the default) goes back to the HTTPS
// question, the other answers kept: someone without the files can choose
// another way.
func (w *wizard) askCertificate() error {
	a := w.a
	const back = "; empty to go back to the HTTPS question"
	note := func(def string) string {
		if def == "" {
			return back
		}
		return ""
	}
	var certPEM []byte
	def := readable(a.TLSCert)
	cert, err := w.p.Input("Certificate file (PEM, full chain"+note(def)+"):",
		"The certificate for "+a.Domain+", with its intermediates. ~ is your home directory. "+
			"Without the files, go back (Enter with nothing typed, when no file is offered) and choose another way.", def,
		func(path string) error {
			if path == "" {
				return nil // back to the HTTPS question
			}
			b, err := spec.ReadUserFile(expandHome(path))
			certPEM = b
			return err
		})
	if err != nil {
		return err
	}
	if cert == "" {
		a.TLSCert, a.TLSKey = "", ""
		return errBack
	}
	a.TLSCert = cert // the default when the HTTPS question is asked again
	def = readable(a.TLSKey)
	key, err := w.p.Input("Key file (PEM, unencrypted"+note(def)+"):",
		"The private key of that certificate, not protected by a passphrase. ~ is your home directory. "+
			"When it does not match the certificate, go back (Enter with nothing typed) and give the right certificate.", def,
		func(path string) error {
			if path == "" {
				return nil // back to the HTTPS question
			}
			b, err := spec.ReadUserFile(expandHome(path))
			if err != nil {
				return err
			}
			return spec.ValidateCertificate(certPEM, b, a.Domain)
		})
	if err != nil {
		return err
	}
	if key == "" {
		a.TLSKey = ""
		return errBack
	}
	a.TLSCert, a.TLSKey = expandHome(cert), expandHome(key)
	return nil
}

func (w *wizard) askEmail() error {
	a := w.a
	if !a.OwnProxy() || a.TLSCert != "" || spec.TLSModeFor(a.Domain) != spec.TLSACME {
		return nil
	}
	w.record(spec.KeyEmail)
	v, err := w.p.Input("Email for Let's Encrypt:",
		"Let's Encrypt registers the certificate's account with it and warns there before a certificate expires.",
		a.Email, func(s string) error {
			if s == "" {
				return spec.ValidateEmail(s, a.Domain) // required here
			}
			return w.check(spec.KeyEmail, func(c *spec.Answers, s string) { c.Email = s })(s)
		})
	if err != nil {
		return err
	}
	a.Email = v
	return nil
}

func (w *wizard) askLicense() error {
	a := w.a
	w.record(spec.KeyLicenseFile)
	has, err := w.p.Confirm("Do you have a Rocket.Chat Enterprise licence?",
		"Rocket.Chat shares real-time events between app processes only with an Enterprise licence, "+
			"so without one rcgen runs a single app process. With one, it runs one per core but one, as memory allows. "+
			"Starter and Pro licences do not include this.",
		a.LicenseFile != "")
	if err != nil {
		return err
	}
	if !has {
		a.LicenseFile, a.License = "", ""
		return nil
	}
	v, err := w.p.Input("Licence file:", "The file Rocket.Chat Cloud gave you; rcgen stores its content in .env. ~ is your home directory.", a.LicenseFile,
		func(path string) error {
			_, err := spec.ReadLicense(expandHome(path))
			return err
		})
	if err != nil {
		return err
	}
	a.LicenseFile = expandHome(v)
	return nil
}

func (w *wizard) askUsers() error {
	a := w.a
	w.record(spec.KeyUsers)
	def := ""
	if a.Users > 0 {
		def = strconv.Itoa(a.Users)
	}
	v, err := w.p.Input("Expected concurrent users (empty if unsure):",
		fmt.Sprintf("People online at the same time, not accounts. rcgen plans about %d per app process and checks Rocket.Chat's published hardware table.", sizing.UsersPerProcess),
		def, func(s string) error {
			n, err := parseUsers(s)
			if err != nil {
				return err
			}
			return w.check(spec.KeyUsers, func(c *spec.Answers, _ string) { c.Users = n })(s)
		})
	if err != nil {
		return err
	}
	a.Users, _ = parseUsers(v)
	return nil
}

// parseUsers reads the users answer as typed: empty means not given.
func parseUsers(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number of users: give a whole number from 1 to %d, or leave it empty", s, spec.MaxUsers)
	}
	return n, nil
}

const (
	members1 = "1 member: simplest, least memory"
	members3 = "3 members: survives a crashed mongod (not a dead host), three times the MongoDB memory"
)

func (w *wizard) askMembers() error {
	a := w.a
	w.record(spec.KeyMembers)
	def := members1
	if a.MongoDBMembers == 3 {
		def = members3
	}
	v, err := w.p.Select("MongoDB replica set:",
		"Rocket.Chat needs a replica set. Three members on one host keep the database up when one mongod crashes "+
			"or is restarted, but all three die with the host, and each needs its own memory.",
		[]string{members1, members3}, def)
	if err != nil {
		return err
	}
	a.MongoDBMembers = 1
	if v == members3 {
		a.MongoDBMembers = 3
	}
	return nil
}

func (w *wizard) askMonitoring() error {
	a := w.a
	w.record(spec.KeyMonitoring)
	v, err := w.p.Confirm("Run monitoring (Prometheus, Grafana and exporters)?",
		"Dashboards for the app processes, MongoDB and the host, served under /grafana. About 1GiB of memory.", a.Monitoring)
	if err != nil {
		return err
	}
	a.Monitoring = v
	return nil
}

// askLogs asks whether Loki and the log collector run (with monitoring).
func (w *wizard) askLogs() error {
	a := w.a
	if !a.Monitoring || a.Kubernetes() {
		return nil // a cluster ships its pods' logs itself (LogsOn)
	}
	w.record(spec.KeyLogs)
	v, err := w.p.Confirm("Keep every container's logs in Loki, searchable in Grafana?",
		fmt.Sprintf("A collector reads the containers' log files (read-only, never the Docker socket) into Loki, kept %s; alerts fire on repeated errors, MongoDB elections and failed migrations. "+
			"About 768MiB of memory; hosts under 4GB leave it out.", cmpOr(a.LogsRetention, spec.DefaultLogsRetention)), a.Logs)
	if err != nil {
		return err
	}
	a.Logs = v
	return nil
}

// askBackup asks whether the backup service runs, on the schedule the
// answers hold (flags and the answers file change it).
func (w *wizard) askBackup() error {
	a := w.a
	w.record(spec.KeyBackup)
	when := a.BackupSchedule
	if sch, err := spec.ParseSchedule(a.BackupSchedule); err == nil {
		when = sch.String()
	}
	v, err := w.p.Confirm(fmt.Sprintf("Back up %s into backups/, keeping the newest %d?", when, a.BackupKeep),
		"A consistent dump of MongoDB with .env, the keyfile and the uploads, in one checked file each; an alert fires when one is missed. "+
			"rcgen backup and rcgen restore use them. About 256MiB of memory.", a.Backup)
	if err != nil {
		return err
	}
	a.Backup = v
	return nil
}

// askAlerts asks where alerts go; empty means they only show in Grafana.
func (w *wizard) askAlerts() error {
	a := w.a
	if !a.Monitoring {
		return nil
	}
	w.record(spec.KeyAlertEmail, spec.KeySMTPHost, spec.KeySMTPFrom, spec.KeySMTPUser)
	to, err := w.p.Input("Email alerts to (empty: alerts show in Grafana only):",
		"Alertmanager emails firing alerts (an app process down, MongoDB down, disk nearly full...) through your mail server.",
		a.AlertEmail, w.check(spec.KeyAlertEmail, func(c *spec.Answers, s string) { c.AlertEmail = s }))
	if err != nil {
		return err
	}
	a.AlertEmail = to
	if to == "" {
		a.SMTPHost, a.SMTPFrom, a.SMTPUser, a.SMTPPassword, a.AppEmail = "", "", "", "", false
		return nil
	}
	required := func(key string, set func(c *spec.Answers, s string)) func(string) error {
		return func(s string) error {
			if s == "" {
				return errors.New("is required to email alerts")
			}
			return w.check(key, set)(s)
		}
	}
	if a.SMTPHost, err = w.p.Input("Mail server (host:port):", "Port 587 for STARTTLS is the usual one.", a.SMTPHost,
		required(spec.KeySMTPHost, func(c *spec.Answers, s string) { c.SMTPHost = s })); err != nil {
		return err
	}
	if a.SMTPFrom, err = w.p.Input("Sender address:",
		"The From address of the alert emails, e.g. rocketchat@example.com. Many mail servers accept only addresses of their own domain.", a.SMTPFrom,
		required(spec.KeySMTPFrom, func(c *spec.Answers, s string) { c.SMTPFrom = s })); err != nil {
		return err
	}
	if a.SMTPUser, err = w.p.Input("SMTP login (empty if the server needs none):",
		"The user name the mail server asks for, often the sender address. Leave it empty for a server that takes mail without a login, such as a relay on your network.", a.SMTPUser,
		w.check(spec.KeySMTPUser, func(c *spec.Answers, s string) { c.SMTPUser = s })); err != nil {
		return err
	}
	if a.SMTPUser == "" {
		a.SMTPPassword = ""
		return w.askAppEmail()
	}
	if err := w.askSMTPPassword(); err != nil {
		return err
	}
	return w.askAppEmail()
}

// askAppEmail offers the mail server to Rocket.Chat itself: without it, a
// workspace cannot send invitations or password resets.
func (w *wizard) askAppEmail() error {
	if o := w.origins[spec.KeyAppEmail].Kind; o == spec.FromFlag || o == spec.FromConfig {
		return nil
	}
	v, err := w.p.Confirm("Send Rocket.Chat's own email (invitations, password resets) through this server too?",
		"Without a mail server Rocket.Chat cannot invite anyone by email or let a user who forgot a password reset it. "+
			"rcgen sets it at every start; change it here, not in the admin pages.", true)
	if err != nil {
		return err
	}
	w.a.AppEmail = v
	w.record(spec.KeyAlertEmail, spec.KeyAppEmail)
	return nil
}

func (w *wizard) askSMTPPassword() error {
	a := w.a
	for {
		help := "The password of that login; it is kept in .env only."
		if w.smtpKept != "" {
			help = "Leave empty to keep the one already in .env."
		}
		pw, err := w.p.Password("SMTP password (kept in .env):", help)
		if err != nil {
			return err
		}
		if pw == "" && w.smtpKept != "" {
			return nil
		}
		c := *a
		c.SMTPPassword = pw
		if pw == "" {
			fmt.Fprintln(w.stderr, "X The login needs its password, or every alert mail fails.")
			continue
		}
		var fe *spec.FieldError
		if err := c.CheckKey(spec.KeySMTPPassword); errors.As(err, &fe) {
			fmt.Fprintln(w.stderr, "X", fe.Msg)
			continue
		}
		a.SMTPPassword = pw
		w.record(spec.KeyAlertEmail, spec.KeySMTPPassword)
		return nil
	}
}

// askOut asks for the output directory, and checks it at once as --out is
// checked: someone else's files, or a deployment whose .env, keyfile or
// answers cannot be read, are refused here, not after every question.
func (w *wizard) askOut(def string) (string, error) {
	v, err := w.p.Input("Directory to write the deployment into:",
		"A new or empty directory, or an rcgen deployment to update (its secrets are kept). ~ is your home directory.", def,
		func(dir string) error {
			if strings.TrimSpace(dir) == "" || dir == "-" {
				return errors.New("give a directory")
			}
			d, err := deploy.Open(expandHome(dir))
			if err != nil {
				return err
			}
			if d.State == deploy.NotEmpty && !d.Recovered && !w.force {
				return fmt.Errorf("%s holds files rcgen did not write: choose another directory", dir)
			}
			return nil
		})
	return expandHome(v), err
}

const (
	confirmWrite  = "Write it"
	confirmChange = "Change an answer"
	confirmCancel = "Cancel"
)

// confirm shows the plan and asks to write it, change an answer, or cancel.
// It returns true to write, false to re-plan after a changed answer.
func (w *wizard) confirm(p sizing.Plan, rel releaseRows, out string) (bool, error) {
	fmt.Fprintln(w.stderr)
	if err := WritePlanTable(w.stderr, p, rel); err != nil {
		return false, err
	}
	fmt.Fprintln(w.stderr)
	v, err := w.p.Select(fmt.Sprintf("Write the deployment to %s?", out),
		fmt.Sprintf("%s: write the files above into %s (nothing starts until docker compose up -d). "+
			"%s: ask one question again, the Rocket.Chat release among them, and show the new plan. %s: write nothing.",
			confirmWrite, out, confirmChange, confirmCancel),
		[]string{confirmWrite, confirmChange, confirmCancel}, confirmWrite)
	if err != nil {
		return false, err
	}
	switch v {
	case confirmWrite:
		w.planShown = true
		return true, nil
	case confirmCancel:
		return false, errCancelled
	}
	changeable := w.changeable()
	var labels []string
	for _, q := range changeable {
		labels = append(labels, q.label)
	}
	which, err := w.p.Select("Which answer?",
		"The question to ask again; the questions that follow from its answer are asked again too, then the new plan is shown.",
		labels, labels[0])
	if err != nil {
		return false, err
	}
	for _, q := range changeable {
		if q.label == which {
			return false, w.reask(q)
		}
	}
	return false, nil
}

// changeable returns the questions "Change an answer" offers, in order:
// the ones asked, and those asked only from here that no flag or answers
// file settled.
func (w *wizard) changeable() []question {
	asked := map[string]bool{}
	for _, q := range w.asked {
		asked[q.key] = true
	}
	var qs []question
	for _, q := range questions() {
		if asked[q.key] || q.onChange && !w.settled(q) {
			qs = append(qs, q)
		}
	}
	return qs
}

// deployable lists the Rocket.Chat releases the wizard offers, newest
// first: the newest patch of each line rcgen deploys (catalog's one rule,
// catalog.DeployableReleases) that is still supported on day now.
func deployable(now time.Time) []catalog.Release {
	var out []catalog.Release
	for _, r := range catalog.DeployableReleases() {
		if r.SupportOn(now) == catalog.Unsupported {
			continue
		}
		out = append([]catalog.Release{r}, out...)
	}
	if len(out) == 0 {
		out = []catalog.Release{catalog.Default()}
	}
	return out
}

// releaseOption is how the release question shows version.
func (w *wizard) releaseOption(version string) string {
	var notes []string
	if version == w.a.RocketChatVersion {
		notes = append(notes, "the current answer")
	}
	if version == catalog.DefaultRocketChatVersion() {
		notes = append(notes, "rcgen's default ("+catalog.WordLTS+")")
	}
	if v, _, _ := catalog.ResolveWord(catalog.WordLatest); version == v && v != catalog.DefaultRocketChatVersion() {
		notes = append(notes, "the newest release rcgen deploys ("+catalog.WordLatest+")")
	}
	r, ok := catalog.Lookup(version)
	switch {
	case !ok:
		notes = append(notes, "newer than rcgen's catalog: untested")
	case r.SupportOn(w.now) == catalog.Unsupported:
		notes = append(notes, "out of support since "+r.EndOfSupport.String())
	default:
		if r.LTS {
			notes = append(notes, "LTS")
		}
		notes = append(notes, "supported to "+r.EndOfSupport.String())
	}
	return fmt.Sprintf("%s (%s)", version, strings.Join(notes, ", "))
}

// askVersion offers the releases rcgen deploys (deployable) that this
// deployment can move to, and the current answer.
func (w *wizard) askVersion() error {
	a := w.a
	w.record(spec.KeyVersion)
	versions := []string{a.RocketChatVersion}
	var farther []string
	for _, r := range deployable(w.now) {
		if r.Latest == a.RocketChatVersion {
			continue
		}
		if w.checkVersion != nil {
			if err := w.checkVersion(r.Latest); err != nil {
				var se *upgrade.StepError
				if errors.As(err, &se) {
					farther = append(farther, r.Latest)
				}
				continue
			}
		}
		versions = append(versions, r.Latest)
	}
	var options []string
	chosen := map[string]string{}
	for _, v := range versions {
		o := w.releaseOption(v)
		options = append(options, o)
		chosen[o] = v
	}
	help := "The releases rcgen deploys today, each the newest patch of its line, and their end of support; MongoDB follows the release " +
		"(the plan shows which). An existing deployment is offered only releases it can move to in one step: " +
		"Rocket.Chat never migrates its database back, and rcgen upgrade plans bigger moves. rcgen versions lists every release."
	if len(farther) > 0 {
		// The newest first: the one people look for.
		way := fmt.Sprintf("`rcgen upgrade --to %s` takes this deployment there step by step, with a backup first", farther[0])
		if a.Swarm() {
			way = fmt.Sprintf("`rcgen generate --rocketchat-version %s` names the steps, one run each", farther[0])
		}
		note := fmt.Sprintf("Not offered, more than one step away: %s; %s.", strings.Join(farther, ", "), way)
		fmt.Fprintln(w.stderr, note)
		help += " " + note
	}
	v, err := w.p.Select("Rocket.Chat release to deploy:", help, options, options[0])
	if err != nil {
		return err
	}
	a.RocketChatVersion = chosen[v]
	return nil
}

// reask asks q again, then every question that follows from its answer
// (a new domain may change how HTTPS works and whether an email is needed).
func (w *wizard) reask(q question) error {
	if err := q.ask(w); err != nil {
		return err
	}
	changed := map[string]bool{q.key: true}
	for _, f := range questions() {
		follows := false
		for _, k := range f.after {
			follows = follows || changed[k]
		}
		if follows && !w.settled(f) {
			if err := f.ask(w); err != nil {
				return err
			}
			changed[f.key] = true
		}
	}
	return nil
}
