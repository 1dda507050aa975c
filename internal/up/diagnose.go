package up

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/stack"
)

// Evidence is what rcgen read of a service that failed.
type Evidence struct {
	Service string
	// Container is its line of docker compose ps (zero when it has none).
	Container stack.Container
	// State is what docker inspect said (nil when it could not be read).
	State *stack.State
	// Logs are its last log lines, oldest first.
	Logs []string
	// Output is what a failed docker compose up printed.
	Output string
}

// Cause is a known reason for a failure: what happened and what to do.
type Cause struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// Expect is what the deployment says should be true.
type Expect struct {
	// RootURL is the ROOT_URL of the deployment's .env.
	RootURL string
	// Domain is the deployment's domain (for ACME's messages).
	Domain string
}

// rule is one known failure: how it shows, and what it means.
type rule struct {
	name  string
	match func(e Evidence, x Expect) (detail string, ok bool)
	cause func(e Evidence, x Expect, detail string) Cause
}

// anyLine returns the first of lines (and the output) holding one of
// words (case-insensitive).
func anyLine(e Evidence, words ...string) (string, bool) {
	lines := append([]string{}, e.Logs...)
	if e.Output != "" {
		lines = append(lines, strings.Split(e.Output, "\n")...)
	}
	for _, l := range lines {
		low := strings.ToLower(l)
		for _, w := range words {
			if strings.Contains(low, strings.ToLower(w)) {
				return strings.TrimSpace(l), true
			}
		}
	}
	return "", false
}

var portRe = regexp.MustCompile(`(?:Bind for |listen tcp[46]? )\[?([0-9a-fA-F.:]*?)\]?:([0-9]+)`)

// rules are the known failures, the most specific first.
var rules = []rule{
	{
		// Docker's own words when the port a service publishes is taken:
		// "driver failed programming external connectivity on endpoint ...:
		// Bind for 0.0.0.0:443 failed: port is already allocated" (another
		// container holds it; moby/moby#32318) and "listen tcp4 0.0.0.0:80:
		// bind: address already in use" (another program holds it;
		// docker/compose#4950, moby's portmapper).
		name: "port",
		match: func(e Evidence, _ Expect) (string, bool) {
			return anyLine(e, "port is already allocated", "address already in use")
		},
		cause: func(e Evidence, _ Expect, line string) Cause {
			port := "a port it publishes"
			if m := portRe.FindStringSubmatch(line); m != nil {
				port = "port " + m[2]
				if m[1] != "" && m[1] != "0.0.0.0" && m[1] != "::" {
					port += " on " + m[1]
				}
			}
			p := strings.TrimPrefix(port, "port ")
			p, _, _ = strings.Cut(p, " ")
			return Cause{Name: "port in use",
				Message: fmt.Sprintf("%s cannot start: %s is already taken on this host (docker: %s)", e.Service, port, line),
				Fix: fmt.Sprintf("see what holds it with `ss -ltnp 'sport = :%s'` (or `docker ps` for another container) and stop it; "+
					"if a web server of yours must keep it, generate with --proxy none and put Rocket.Chat behind it; then run rcgen up again", p)}
		},
	},
	{
		// Exit 137 is SIGKILL (128+9); docker inspect's State.OOMKilled says
		// the kernel's OOM killer sent it (the container hit its memory
		// limit, or the host ran out).
		name: "oom",
		match: func(e Evidence, _ Expect) (string, bool) {
			if e.State != nil && e.State.OOMKilled {
				return "OOMKilled", true
			}
			if e.Container.ExitCode == 137 || (e.State != nil && e.State.ExitCode == 137) {
				return "exit 137", true
			}
			return "", false
		},
		cause: func(e Evidence, _ Expect, how string) Cause {
			return Cause{Name: "out of memory",
				Message: fmt.Sprintf("%s was killed for lack of memory (%s): it needs more than its memory limit, or the host ran out", e.Service, how),
				Fix: "check the host's free memory (free -h; rcgen doctor) and what else runs on it; re-run rcgen generate with the memory this host really has free " +
					"(--memory) so rcgen sizes the limits to it, or fewer --users; then rcgen up again"}
		},
	},
	{
		// mongod 8.0.30 and later refuse kernels 6.19 to 7.0.13 while
		// tcmalloc's per-CPU caches are on: LOGV2_FATAL 12257600 "MongoDB
		// cannot start: Linux kernel versions 6.19 and newer has a known
		// incompatibility with this version of MongoDB. See
		// https://jira.mongodb.org/browse/SERVER-121912" (mongodb/mongo
		// src/mongo/db/startup_check_rseq.cpp).
		name: "kernel",
		match: func(e Evidence, _ Expect) (string, bool) {
			return anyLine(e, "SERVER-121912", "Linux kernel versions 6.19 and newer", `"id":12257600`)
		},
		cause: func(e Evidence, _ Expect, _ string) Cause {
			return Cause{Name: "kernel refused",
				Message: fmt.Sprintf("%s refused to start on this kernel: %s", e.Service, catalog.KernelRule.Problem),
				Fix: fmt.Sprintf("rcgen's compose.yaml runs mongod with GLIBC_TUNABLES=%s, which avoids it: if it is missing there, compose.yaml is not rcgen's (re-run rcgen generate); "+
					"otherwise boot a kernel older than 6.19 or 7.0.14 and later (rcgen doctor checks it), then rcgen up again", catalog.GlibcTunables)}
		},
	},
	{
		// MongoDB 5.0 and later are built for AVX: without it the kernel
		// kills mongod with SIGILL, exit 132 (128+4), which a shell reports
		// as "Illegal instruction (core dumped)"
		// (https://www.mongodb.com/docs/manual/administration/production-notes/#x86_64).
		name: "avx",
		match: func(e Evidence, _ Expect) (string, bool) {
			if l, ok := anyLine(e, "Illegal instruction"); ok {
				return l, true
			}
			if e.Container.ExitCode == 132 || (e.State != nil && e.State.ExitCode == 132) {
				return "exit 132", true
			}
			return "", false
		},
		cause: func(e Evidence, _ Expect, _ string) Cause {
			return Cause{Name: "no AVX",
				Message: fmt.Sprintf("%s stopped with \"Illegal instruction\": this CPU has no AVX, which MongoDB 5.0 and later need", e.Service),
				Fix:     "run on a CPU with AVX (grep -w avx /proc/cpuinfo); on a VM, give it the host's CPU type (host-passthrough, or x86-64-v3); rcgen doctor checks it"}
		},
	},
	{
		// mongod's keyfile checks (mongodb/mongo src/mongo/db/auth/security_file.cpp):
		// "permissions on /path are too open", "error opening file: /path:
		// Permission denied", then "Unable to acquire security key[s]".
		name: "keyfile",
		match: func(e Evidence, _ Expect) (string, bool) {
			if l, ok := anyLine(e, "are too open", "Unable to acquire security key"); ok {
				return l, true
			}
			for _, l := range e.Logs {
				low := strings.ToLower(l)
				if strings.Contains(low, "keyfile") && strings.Contains(low, "permission denied") {
					return strings.TrimSpace(l), true
				}
			}
			return "", false
		},
		cause: func(e Evidence, _ Expect, line string) Cause {
			return Cause{Name: "keyfile",
				Message: fmt.Sprintf("%s cannot use the replica set's keyfile: %s", e.Service, line),
				Fix: fmt.Sprintf("mongodb-prepare copies %s into the keyfile volume owned by mongod's user (uid %d) with mode 400: check that %s exists and is readable by root, "+
					"that compose.yaml is rcgen's (rcgen doctor compares it), and that no hand edit mounts the keyfile directly; then rcgen up again", render.MongoKeyfile, render.MongoUID, render.MongoKeyfile)}
		},
	},
	{
		// Rocket.Chat refuses a MongoDB older than it supports, in a box
		// "YOUR CURRENT MONGODB VERSION IS NOT SUPPORTED BY ROCKET.CHAT,
		// PLEASE UPGRADE TO VERSION x OR LATER" (RocketChat/Rocket.Chat
		// apps/meteor/server/startup/serverRunning.ts), and exits.
		name: "mongodb version",
		match: func(e Evidence, _ Expect) (string, bool) {
			return anyLine(e, "MONGODB VERSION IS NOT SUPPORTED")
		},
		cause: func(e Evidence, _ Expect, _ string) Cause {
			need := ""
			for _, l := range e.Logs {
				if i := strings.Index(strings.ToUpper(l), "UPGRADE TO VERSION "); i >= 0 {
					need = strings.Fields(l[i+len("UPGRADE TO VERSION "):])[0]
				}
			}
			msg := fmt.Sprintf("%s refuses the MongoDB it runs on: the release needs a newer MongoDB", e.Service)
			if need != "" {
				msg = fmt.Sprintf("%s refuses the MongoDB it runs on: the release needs MongoDB %s or later", e.Service, need)
			}
			return Cause{Name: "MongoDB version",
				Message: msg,
				Fix: "MONGODB_VERSION in .env is not the one rcgen pins for this release (edited by hand?): put rcgen's back with rcgen generate, " +
					"or move MongoDB up one version at a time with rcgen upgrade (it plans the steps); then rcgen up again"}
		},
	},
	{
		// A failed migration stops the server: "ERROR! SERVER STOPPED",
		// "Your database migration failed:" and the error, then "Database
		// locked at version" (RocketChat/Rocket.Chat
		// apps/meteor/server/lib/migrations.ts, showError); a lock left by a
		// crashed one: "Not migrating, control is locked".
		name: "migration",
		match: func(e Evidence, _ Expect) (string, bool) {
			for i, l := range e.Logs {
				if strings.Contains(l, "Your database migration failed") {
					why := strings.TrimSpace(strings.Trim(strings.TrimSpace(l), "|"))
					if i+1 < len(e.Logs) {
						why = strings.TrimSpace(strings.Trim(strings.TrimSpace(e.Logs[i+1]), "|"))
					}
					return why, true
				}
			}
			return anyLine(e, "control is locked")
		},
		cause: func(e Evidence, _ Expect, why string) Cause {
			if strings.Contains(why, "control is locked") {
				return Cause{Name: "migration locked",
					Message: fmt.Sprintf("%s cannot migrate the database: an earlier migration was cut short and left it locked (%s)", e.Service, why),
					Fix: "make sure only one Rocket.Chat release runs against the database (docker compose ps), then see the README's troubleshooting on unlocking migrations, " +
						"or restore the backup taken before the upgrade (rcgen backup list; rcgen restore NAME)"}
			}
			return Cause{Name: "migration failed",
				Message: fmt.Sprintf("%s stopped: a database migration failed: %s", e.Service, why),
				Fix: "do not start an older release on this database: restore the backup taken before the upgrade (rcgen backup list; rcgen restore NAME), " +
					"and report the error with `docker compose logs rocketchat-1` to Rocket.Chat (github.com/RocketChat/Rocket.Chat/issues)"}
		},
	},
	{
		// Caddy's ACME client logs "challenge failed" (logger
		// tls.issuance.acme.acme_client) with Let's Encrypt's problem
		// detail, then "could not get certificate from issuer" (logger
		// tls.obtain, caddyserver/certmagic config.go); the detail
		// says "DNS problem: NXDOMAIN looking up A for ..." when the name
		// does not resolve, "Timeout during connect (likely firewall
		// problem)" or "Connection refused" when port 80/443 is closed
		// (caddyserver/certmagic; RFC 8555 problem types).
		name: "acme",
		match: func(e Evidence, _ Expect) (string, bool) {
			return anyLine(e, "challenge failed", "could not get certificate from issuer")
		},
		cause: func(e Evidence, x Expect, line string) Cause {
			low := strings.ToLower(line)
			domain := x.Domain
			if domain == "" {
				domain = "the domain"
			}
			switch {
			case strings.Contains(low, "dns problem") || strings.Contains(low, "nxdomain") || strings.Contains(low, "no valid a records"):
				return Cause{Name: "ACME: DNS",
					Message: fmt.Sprintf("Let's Encrypt cannot issue a certificate for %s: its DNS does not point here (%s)", domain, acmeDetail(line)),
					Fix:     fmt.Sprintf("create an A (and AAAA) record for %s pointing at this host's public address, wait for it to resolve (dig +short %s), then rcgen up again; Caddy retries by itself meanwhile", domain, domain)}
			default:
				return Cause{Name: "ACME: unreachable",
					Message: fmt.Sprintf("Let's Encrypt cannot reach this host to issue a certificate for %s (%s)", domain, acmeDetail(line)),
					Fix:     "open ports 80 and 443 (TCP) to the internet in the host's firewall and the cloud's security group, and forward them if behind NAT; then rcgen up again; Caddy retries by itself meanwhile"}
			}
		},
	},
}

var (
	detailRe = regexp.MustCompile(`"detail":"([^"]*)"`)
	errorRe  = regexp.MustCompile(`"error":"([^"]*)"`)
)

// acmeDetail is Let's Encrypt's own words from Caddy's log line: the
// problem's detail ("challenge failed"), or the error ("could not get
// certificate from issuer").
func acmeDetail(line string) string {
	for _, re := range []*regexp.Regexp{detailRe, errorRe} {
		if m := re.FindStringSubmatch(line); m != nil {
			return m[1]
		}
	}
	return line
}

// Diagnose matches e against the known failures.
func Diagnose(e Evidence, x Expect) (Cause, bool) {
	for _, r := range rules {
		if d, ok := r.match(e, x); ok {
			return r.cause(e, x, d), true
		}
	}
	return Cause{}, false
}

// siteURLRe reads the "Site URL:" line of Rocket.Chat's SERVER RUNNING box
// (apps/meteor/server/startup/serverRunning.ts: `Site URL: ${settings.get('Site_Url')}`).
var siteURLRe = regexp.MustCompile(`Site URL:\s*(\S+)`)

// RootURLMismatch checks the Site URL Rocket.Chat reports against the
// deployment's ROOT_URL: Rocket.Chat keeps the Site URL in its database
// once set, so a changed domain leaves the old one (links, OAuth
// callbacks and the websocket's origin check use it).
func RootURLMismatch(service string, logs []string, x Expect) (Cause, bool) {
	if x.RootURL == "" {
		return Cause{}, false
	}
	site := ""
	for _, l := range logs {
		if m := siteURLRe.FindStringSubmatch(l); m != nil {
			site = strings.TrimRight(m[1], "|")
		}
	}
	if site == "" || strings.TrimRight(site, "/") == strings.TrimRight(x.RootURL, "/") {
		return Cause{}, false
	}
	return Cause{Name: "ROOT_URL mismatch",
		Message: fmt.Sprintf("%s runs with Site URL %s, and this deployment's ROOT_URL is %s: links, logins and the websocket would point at the wrong address", service, site, x.RootURL),
		Fix: fmt.Sprintf("if %s is right, set Administration > Workspace > Settings > General > Site URL to it (the database keeps the old one); "+
			"if %s is, re-run rcgen generate with --domain for it; then rcgen up again", x.RootURL, site)}, true
}
