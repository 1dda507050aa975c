package cli

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/stack"
)

// hostileCase is one input a person (or a script with a bug, or an
// attacker) may give rcgen generate. Either it is refused, exit 2, with a
// message naming the answer (as the flag given) and nothing written, or
// it is accepted and ends up exactly as given in the files named.
type hostileCase struct {
	class string
	args  []string
	// refused: the message names this (a flag); "" means accepted.
	refused string
	// accepted: each file must contain each string.
	want map[string][]string
	// before, when set, are the flags of a generate run that makes the
	// deployment the case then runs on: a refusal must leave its files as
	// they were (what the backup service writes into backups/ aside).
	before []string
	// damage changes the deployment before the case runs (a file gone).
	damage func(dir string) error
	// command replaces "generate --yes" before args (--out is added).
	command []string
	// docker stands in for Docker, given the deployment's directory.
	docker func(dir string) stack.Runner
	// code is the exit a refusal gives; 0 means 2 (invalid input).
	code int
	// prepare, when set, makes the directory the run finds (out is the
	// default --out) and returns more arguments (an --out of its own);
	// after checks what the run must leave (the runner's own "nothing
	// was written" check is for a directory that did not exist).
	prepare func(t *testing.T, out string) []string
	after   func(t *testing.T, out string, r result)
}

func hostileTable(dir string) []hostileCase {
	var cs []hostileCase
	refuse := func(class, flag string, values ...string) {
		for _, v := range values {
			cs = append(cs, hostileCase{class: class, args: []string{"--" + flag, v}, refused: "--" + flag + ":"})
		}
	}
	accept := func(class, file, flag string, values ...string) {
		for _, v := range values {
			cs = append(cs, hostileCase{class: class, args: []string{"--" + flag, v}, want: map[string][]string{file: {v}}})
		}
	}
	// Domains and addresses users type.
	refuse("domain", "domain", "", "https://chat.example.com", "chat.example.com/x", "chat.example.com:443", "user@chat.example.com",
		"Chat.Example.com", "chat_example.com", "-chat.example.com", "chat..example.com", "chat.example.123", "chat", "${DOMAIN}",
		"chat.example.com\nevil: true", "chat example.com", "192.0.2.10", "[2001:db8::1]", "chаt.example.com", strings.Repeat("a", 64)+".example.com")
	accept("domain", ".env", "domain", "localhost", "chat.home.arpa")
	for _, d := range []string{"xn--80ak6aa92e.com", "a.b", "rc.example.org"} {
		cs = append(cs, hostileCase{class: "domain", args: []string{"--domain", d, "--email", "ops@example.com"}, want: map[string][]string{".env": {"DOMAIN=" + d, "ROOT_URL=https://" + d}}})
	}
	for _, ip := range []string{"::", "0.0.0.0", "127.0.0.1", "::1", "fe80::1", "224.0.0.1", "::ffff:192.0.2.1", "2001:db8:0:0::7", "2001:DB8::7"} {
		cs = append(cs, hostileCase{class: "address", args: []string{"--allow-ip", "--domain", ip}, refused: "--domain:"})
	}
	for _, ip := range []string{"192.0.2.10", "2001:db8::7"} {
		cs = append(cs, hostileCase{class: "address", args: []string{"--allow-ip", "--domain", ip}, want: map[string][]string{".env": {"DOMAIN=" + ip}}})
	}
	// Emails, with a public domain.
	for _, e := range []string{"", "admin", "admin@localhost", "admin@chat", "Admin <admin@example.com>", `a"b@example.com`, "a b@example.com", "admin@example.com\nx", "${EMAIL}@example.com", "admin@@example.com", "admin@192.0.2.1"} {
		cs = append(cs, hostileCase{class: "email", args: []string{"--domain", "chat.example.com", "--email", e}, refused: "--email:"})
	}
	// Releases.
	refuse("release", "rocketchat-version", "", "stable", "latest-lts", "v8.8.1", "8.8", "8.8.1-rc.1", "08.8.1", "6.13.0", "8.8.1\n", "8.8.1; rm -rf /", "${V}", "99999999999.0.0", "8.8.99", "8.9.1", "9.0.0")
	accept("release", "rcgen.yaml", "rocketchat-version", "8.5.3", "7.13.9", "8.8.0")
	// Project names (they prefix every volume).
	refuse("project", "project", "", "Rocket Chat", "rocket/chat", "../rc", "-rc", "_rc", strings.Repeat("r", 64), "rc$1", "ROCKETCHAT")
	accept("project", "compose.yaml", "project", "rc_1-prod", "0rc")
	// Host sizes: typed values, refused at their flag.
	refuse("size", "memory", "16XB", "lots", "-4GiB", "0", "1e3GiB", "NaN", "0x10GiB", "100MiB", "65TiB", " 8GiB", "8GiB\n", "∞")
	refuse("size", "cpus", "0", "-2", "NaN", "Inf", "1e9", "８", "two", "4096.5")
	accept("size", "README.md", "memory", "8 GiB", "16384MiB")
	refuse("count", "processes", "-1", "257", "3")
	refuse("count", "users", "-1", "1000001")
	refuse("count", "mongodb-members", "0", "2", "-3", "5")
	// Prometheus retention, by Prometheus's own parsers.
	refuse("retention", "metrics-retention", "1d1d1d", "15 days", "0d", "15", "-1d", "1h1d", "15D", "1.5d")
	refuse("retention", "metrics-retention-size", "999999PB", "10", "0GB", "10XB", "-1GB", "ten", "1.5.5GB")
	accept("retention", "compose.yaml", "metrics-retention", "8w", "1y")
	accept("retention", "compose.yaml", "metrics-retention-size", "512MiB", "20GB")
	// Loki's retention: whole days, a duration Loki parses.
	refuse("retention", "logs-retention", "1d1d1d", "7 days", "0d", "7", "-1d", "36h", "12h", "7D", "1.5d", "11y", "\x00", "7d\nauth_enabled: true")
	accept("retention", render.LokiFile, "logs-retention", "14d", "2w", "1y")
	for _, v := range []string{"maybe", "yes please", "2"} {
		cs = append(cs, hostileCase{class: "logs", args: []string{"--logs=" + v}, refused: "--logs"})
	}
	// Proxies and the network a proxy container watches.
	refuse("proxy", "proxy", "", "traefik2", "Caddy", "nginx", "nginx-proxy\n", "${PROXY}", "host; rm -rf /", "caddy-docker-proxy ")
	for _, n := range []string{"", "-net", ".net", "my net", "net/work", "net\nevil: true", "${NET}", "nét", strings.Repeat("n", 65), "net:1"} {
		if n == "" {
			continue // empty: the proxy's usual network
		}
		cs = append(cs, hostileCase{class: "proxy", args: []string{"--proxy", "nginx-proxy", "--domain", "chat.example.com", "--proxy-network", n}, refused: "--proxy-network:"})
	}
	cs = append(cs, hostileCase{class: "proxy", args: []string{"--proxy", "host", "--proxy-network", "web"}, refused: "--proxy-network:"})
	cs = append(cs, hostileCase{class: "proxy", args: []string{"--proxy-network", "web"}, refused: "--proxy-network:"})
	for _, n := range []string{"web_1", "proxy.net", "A-b"} {
		cs = append(cs, hostileCase{class: "proxy", args: []string{"--proxy", "caddy-docker-proxy", "--domain", "chat.example.com", "--proxy-network", n}, want: map[string][]string{"compose.yaml": {`name: "` + n + `"`, `"caddy_ingress_network": "` + n + `"`}}})
	}
	cs = append(cs, hostileCase{class: "proxy", args: []string{"--proxy", "nginx-proxy", "--domain", "chat.example.com", "--email", "ops@example.com"},
		want: map[string][]string{"compose.yaml": {`VIRTUAL_HOST: "chat.example.com"`, `ACME_HOST: "chat.example.com"`, `name: "nginx-proxy"`}, ".env": {"ROOT_URL=https://chat.example.com"}}})
	cs = append(cs, hostileCase{class: "proxy", args: []string{"--proxy", "host", "--allow-ip", "--domain", "2001:db8::7"},
		want: map[string][]string{"proxy/nginx.conf": {"server_name [2001:db8::7];"}, "proxy/Caddyfile": {"http://[2001:db8::7] {"}, ".env": {"ROOT_URL=http://[2001:db8::7]"}}})
	// Alert mail that would silently fail.
	alert := []string{"--alert-email", "ops@example.com", "--smtp-from", "rc@example.com"}
	for _, h := range []string{"localhost:25", "127.0.0.1:25", "[::1]:25", "0.0.0.0:25", "relay.localhost:587", "smtp.example.com", "smtp.example.com:0", "smtp.example.com:99999", ":25"} {
		cs = append(cs, hostileCase{class: "smtp", args: append([]string{"--smtp-host", h}, alert...), refused: "--smtp-host:"})
	}
	cs = append(cs, hostileCase{class: "smtp", args: append([]string{"--smtp-host", "smtp.example.com:587", "--smtp-user", "rc"}, alert...), refused: "--smtp-password-file:"})
	cs = append(cs, hostileCase{class: "smtp", args: append([]string{"--smtp-host", "smtp.example.com:587", "--smtp-user", "r c"}, alert...), refused: "--smtp-user:"})
	cs = append(cs, hostileCase{class: "smtp", args: []string{"--alert-email", "ops@example.com"}, refused: "--smtp-host:"})
	cs = append(cs, hostileCase{class: "smtp", args: append([]string{"--smtp-host", "smtp.example.com:587", "--no-monitoring"}, alert...), refused: "--alert-email:"})
	// The operator's Traefik: names that would break a label or a network,
	// and answers that mean nothing without traefik-labels.
	labels := []string{"--proxy", "traefik-labels"}
	for _, n := range []string{"-web", "my net", "traefik;rm", "a/b", "web$x", strings.Repeat("n", 65), "tr\u00e6fik", "web\n"} {
		cs = append(cs, hostileCase{class: "traefik", args: append([]string{"--proxy-network", n}, labels...), refused: "--proxy-network:"})
	}
	for _, r := range []string{"le.prod", "le,x", "`le`", "le resolver", "-le", "le\"\"", "le@file"} {
		cs = append(cs, hostileCase{class: "traefik", args: append([]string{"--proxy-certresolver", r, "--domain", "chat.example.com"}, labels...), refused: "--proxy-certresolver:"})
	}
	cs = append(cs, hostileCase{class: "traefik", args: []string{"--proxy-network", "web"}, refused: "--proxy-network:"})
	cs = append(cs, hostileCase{class: "traefik", args: []string{"--proxy-network", "web", "--proxy", "traefik"}, refused: "--proxy-network:"})
	cs = append(cs, hostileCase{class: "traefik", args: []string{"--proxy-certresolver", "le", "--proxy", "none"}, refused: "--proxy-certresolver:"})
	cs = append(cs, hostileCase{class: "traefik", args: []string{"--proxy", "Traefik"}, refused: "--proxy:"})
	cs = append(cs, hostileCase{class: "traefik", args: []string{"--proxy", "traefik", "--domain", "chat.example.com"}, refused: "--email:"})
	cs = append(cs, hostileCase{class: "traefik", args: append([]string{"--proxy-network", "edge_proxy.1", "--proxy-certresolver", "my-le_2", "--domain", "chat.example.com"}, labels...),
		want: map[string][]string{"compose.yaml": {`"traefik.docker.network": "edge_proxy.1"`, `"traefik.http.routers.rocketchat.tls.certresolver": "my-le_2"`, "name: \"edge_proxy.1\""}}})
	// Files a person names: devices, FIFOs, directories, huge files,
	// missing files; never read whole, never waited on.
	fifo := filepath.Join(dir, "fifo")
	huge := filepath.Join(dir, "huge")
	for _, flag := range []string{"license-file", "smtp-password-file", "tls-cert", "tls-key", "config"} {
		for _, f := range []string{"/dev/zero", fifo, dir, huge, filepath.Join(dir, "missing")} {
			args := []string{"--" + flag, f}
			if flag == "smtp-password-file" {
				args = append(args, "--smtp-host", "smtp.example.com:587", "--smtp-user", "rc", "--alert-email", "ops@example.com", "--smtp-from", "rc@example.com")
			}
			if strings.HasPrefix(flag, "tls-") {
				args = append(args, "--domain", "chat.example.com")
			}
			cs = append(cs, hostileCase{class: "file", args: args, refused: "--" + flag + ":"})
		}
	}
	// Paths that would not survive rcgen.yaml.
	for _, p := range []string{"lic\x00ence", "lic\nence", "lic\xffence"} {
		cs = append(cs, hostileCase{class: "path", args: []string{"--license-file", p}, refused: "--license-file:"})
	}
	// Backup passphrase files (restoresafe): an empty or blank file is a
	// mistake, never a wish for unencrypted backups; refused at its flag.
	for i, content := range []string{"", "\n", "\n\n\n", "\r\n", "              \n", "\t\t\t\t\t\t\t\t\t\t\t\t\n", "short\n", "it's a long passphrase\n", "two lines of it\nsecond line here\n"} {
		f := filepath.Join(dir, fmt.Sprintf("passphrase-%d", i))
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			panic(err)
		}
		cs = append(cs, hostileCase{class: "passphrase", args: []string{"--backup-passphrase-file", f}, refused: "--backup-passphrase-file:"})
	}
	for i, pass := range []string{"correct horse battery staple", "  spaces inside and around  ", "$HOME and #hash ${X}"} {
		f := filepath.Join(dir, fmt.Sprintf("passphrase-ok-%d", i))
		if err := os.WriteFile(f, []byte(pass+"\r\n"), 0o600); err != nil {
			panic(err)
		}
		cs = append(cs, hostileCase{class: "passphrase", args: []string{"--backup-passphrase-file", f}, want: map[string][]string{".env": {"BACKUP_PASSPHRASE='" + pass + "'"}}})
	}
	// Offsite targets (issue 28): refused at --backup-target, with what to
	// give; a directory is mounted as given.
	refuse("offsite", "backup-target", "s3://", "s3://UPPER/x", "s3://ab", "s3://bucket/../x", "s3://bucket/pre//fix", "s3://bucket/a b",
		"sftp://nas.example.com/backups", "sftp://u:pw@nas.example.com/backups", "sftp://u@nas.example.com:0/x", "sftp://u@nas.example.com:/x",
		"sftp://u@/x", "sftp://u@nas.example.com", "sftp://u@nas.example.com/x?y=1", "ftp://nas.example.com/x", "relative/dir", "/",
		"/mnt/a b", "/mnt/$(reboot)", "/mnt/x/", "/mnt/../etc", "s3://bucket/x\n", "/mnt/\x00")
	offsiteKeys := []string{"--backup-passphrase-file", filepath.Join(dir, "passphrase-ok-0")}
	s3 := append([]string{"--backup-target", "s3://rocketchat-backups/chat"}, offsiteKeys...)
	refuse("offsite", "backup-s3-endpoint", "s3.example.com", "https://u:p@s3.example.com", "https://s3.example.com/bucket", "ftp://s3.example.com",
		"https://s3.example.com?x=1", "https://", "https://s3.example.com:99999")
	refuse("offsite", "backup-s3-region", "EU", "eu central", "eu-central-1\n", "$(id)")
	cs = append(cs, hostileCase{class: "offsite", args: []string{"--backup-target", "/mnt/offsite/rocketchat"},
		want: map[string][]string{"compose.yaml": {`- "/mnt/offsite/rocketchat:/offsite"`}, "rcgen.yaml": {`backup_target: "/mnt/offsite/rocketchat"`}}})
	for i, content := range []string{"", "\n", "two words\n", "a\nb\n", "caf\u00e9\n", strings.Repeat("k", 300)} {
		f := filepath.Join(dir, fmt.Sprintf("s3-key-%d", i))
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			panic(err)
		}
		for _, flag := range []string{"backup-s3-access-key-file", "backup-s3-secret-key-file"} {
			cs = append(cs, hostileCase{class: "offsite-key", args: append([]string{"--" + flag, f, "--backup-s3-endpoint", "https://s3.example.com"}, s3...), refused: "--" + flag + ":"})
		}
	}
	for _, flag := range []string{"backup-s3-access-key-file", "backup-s3-secret-key-file", "backup-sftp-key-file", "backup-sftp-known-hosts-file"} {
		for _, f := range []string{"/dev/zero", fifo, dir, huge, filepath.Join(dir, "missing")} {
			cs = append(cs, hostileCase{class: "offsite-file", args: []string{"--" + flag, f}, refused: "--" + flag + ":"})
		}
	}
	cs = append(cs, hostileCase{class: "offsite-key", args: append([]string{"--backup-target", "sftp://backup@nas.example.com/x", "--backup-sftp-key-file", filepath.Join(dir, "passphrase-ok-0")}, offsiteKeys...), refused: "--backup-sftp-key-file:"})
	// Output directories.
	cs = append(cs, hostileCase{class: "out", args: []string{"--out", "-"}, refused: "--out:"})
	cs = append(cs, hostileCase{class: "out", args: []string{"--out", ""}, refused: "--out:"})
	cs = append(cs, hostileCase{class: "args", args: []string{"stray"}, refused: "takes no arguments"})
	// Deployment directory safety (issue 24, "Data lost" and the lock):
	// symbolic links in or as --out are never removed nor written through
	// to a missing target; an apply a kill interrupted is finished by the
	// next run, which says so; staged leftovers are removed; a run on a
	// sibling deployment never waits for this one. Helpers in dirsafe_test.go.
	cs = append(cs,
		hostileCase{class: "dir-link", prepare: danglingOut, refused: "--out:", after: linkKept("mount or create")},
		hostileCase{class: "dir-link", prepare: underDanglingOut, refused: "--out:", after: linkKept("mount or create")},
		hostileCase{class: "dir-link", prepare: prometheusUnmounted, refused: "--out:", after: linkKept("mount or create")},
		hostileCase{class: "dir-link", prepare: prometheusOnAnotherDisk, want: map[string][]string{}, after: prometheusUpdatedThroughLink},
		hostileCase{class: "dir-link", prepare: composeIsALink, refused: "--out:", after: linkKept("replace the link with a copy")},
		hostileCase{class: "dir-journal", prepare: interruptedWhileRenaming, want: map[string][]string{}, after: finishedInterruptedApply},
		hostileCase{class: "dir-journal", prepare: killedFirstWrite, want: map[string][]string{".env": {"DOMAIN="}}, after: removedStagedLeftovers},
		hostileCase{class: "dir-lock", prepare: siblingLocked(true), want: map[string][]string{"rcgen.yaml": {"version: 1"}}},
		hostileCase{class: "dir-lock", prepare: siblingLocked(false), want: map[string][]string{"rcgen.yaml": {"version: 1"}}},
	)
	cs = append(cs, upgradeNetCases(dir)...)
	cs = append(cs, kubeCases()...)
	return cs
}

// kubeCases: the Kubernetes target's answers (issue 29), each refused by
// name when malformed or out of place, accepted into the manifests as
// given; re-runs that would strand MongoDB's volumes are refused unless
// confirmed, and the day-two commands never run docker against a cluster.
func kubeCases() []hostileCase {
	var cs []hostileCase
	kube := []string{"--target", "kubernetes", "--mongodb-members", "3", "--node", "n1=4:8GiB", "--node", "n2=4:8GiB", "--node", "n3=4:8GiB", "--domain", "chat.example.com", "--email", "ops@example.com"}
	with := func(extra ...string) []string { return append(slices.Clone(kube), extra...) }
	for _, v := range []string{"", "Chat", "chat_ns", "-chat", "chat-", "chat.ns", strings.Repeat("a", 64), "chat\nx: y", "${NS}", "ns;rm"} {
		if v == "" {
			continue // empty is the default
		}
		cs = append(cs, hostileCase{class: "kube-namespace", args: with("--kube-namespace", v), refused: "--kube-namespace:"})
	}
	cs = append(cs, hostileCase{class: "kube-namespace", args: with("--kube-namespace", "chat-prod"), want: map[string][]string{"kustomization.yaml": {"namespace: chat-prod\n"}, "kubernetes/namespace.yaml": {"name: chat-prod\n"}}})
	for _, v := range []string{"Fast", "fast_ssd", "-x", "a..b", "ssd\n", "$(x)"} {
		cs = append(cs, hostileCase{class: "storage-class", args: with("--storage-class", v), refused: "--storage-class:"})
	}
	cs = append(cs, hostileCase{class: "storage-class", args: with("--storage-class", "ebs.gp3"), want: map[string][]string{"kubernetes/mongodb.yaml": {`storageClassName: "ebs.gp3"`}}})
	for _, v := range []string{"traefik", "NGINX", "gateway;", ""} {
		if v == "" {
			continue
		}
		cs = append(cs, hostileCase{class: "ingress", args: with("--ingress", v), refused: "--ingress:"})
	}
	for _, v := range []string{"public", "/public", "ns/", "NS/public", "a/b/c", "ns/Pub lic"} {
		cs = append(cs, hostileCase{class: "gateway", args: with("--ingress", "gateway", "--gateway", v), refused: "--gateway:"})
	}
	cs = append(cs, hostileCase{class: "gateway", args: with("--ingress", "gateway"), refused: "--gateway: an HTTPRoute attaches to a Gateway"})
	cs = append(cs, hostileCase{class: "gateway", args: with("--gateway", "gw/public"), refused: "--gateway: a Gateway is only named with --ingress gateway"})
	cs = append(cs, hostileCase{class: "gateway", args: with("--ingress", "gateway", "--gateway", "gateway-system/public"), want: map[string][]string{"kubernetes/ingress.yaml": {"kind: HTTPRoute", "namespace: gateway-system\n", "name: public\n"}}})
	cs = append(cs, hostileCase{class: "kube-monitoring", args: with("--kube-monitoring", "prometheus"), refused: "--kube-monitoring:"})
	cs = append(cs, hostileCase{class: "kube-monitoring", args: with("--kube-monitoring", "bundled", "--no-monitoring"), refused: "--kube-monitoring: --kube-monitoring says how to monitor, and --no-monitoring"})
	for _, flag := range []string{"kube-namespace", "storage-class", "ingress", "kube-monitoring"} {
		v := map[string]string{"kube-namespace": "chat", "storage-class": "ssd", "ingress": "nginx", "kube-monitoring": "operator"}[flag]
		cs = append(cs, hostileCase{class: "kube-answer-elsewhere", args: []string{"--" + flag, v}, refused: "--" + flag + ": --" + flag + " is for the Kubernetes target"})
	}
	cs = append(cs, hostileCase{class: "openshift", args: []string{"--openshift"}, refused: "--openshift: --openshift is for the Kubernetes target"})
	cs = append(cs, hostileCase{class: "openshift", args: with("--openshift"), want: map[string][]string{"rcgen.yaml": {"openshift: true"}}})
	cs = append(cs, hostileCase{class: "kube-target", args: []string{"--target", "kubernetes", "--domain", "chat.example.com", "--email", "ops@example.com"}, refused: "--node: the Kubernetes target needs the nodes it runs on"})
	cs = append(cs, hostileCase{class: "kube-target", args: with("--proxy", "traefik"), refused: "--proxy: on Kubernetes the cluster's ingress controller serves users"})
	cs = append(cs, hostileCase{class: "kube-target", args: with("--backup-target", "sftp://backup@backup.example.com/srv"), refused: "--backup-target: on Kubernetes the backups are copied off the cluster to an S3 bucket only"})
	// Re-runs that would strand the members' volumes.
	cs = append(cs, hostileCase{class: "kube-rerun", before: kube, args: with("--kube-namespace", "chat2"), refused: `--kube-namespace: this deployment's MongoDB volumes (PersistentVolumeClaims) are in namespace "rocketchat"`})
	cs = append(cs, hostileCase{class: "kube-rerun", before: kube, args: with("--storage-class", "ssd"), refused: `--storage-class: this deployment's MongoDB volumes are of storage class "(the cluster's default)"`})
	cs = append(cs, hostileCase{class: "kube-rerun", before: kube, args: with("--project", "chat2"), refused: "--project: this deployment's volumes belong to project"})
	cs = append(cs, hostileCase{class: "kube-rerun", before: kube, args: []string{"--target", "kubernetes", "--mongodb-members", "3", "--node", "n1=4:8GiB", "--node", "m2=4:8GiB", "--node", "m3=4:8GiB", "--domain", "chat.example.com", "--email", "ops@example.com"},
		refused: "--node: this inventory takes the MongoDB members off n2, n3"})
	cs = append(cs, hostileCase{class: "kube-rerun", before: kube, args: with("--mongodb-members", "1"), refused: "--mongodb-members: this deployment runs 3 MongoDB members, and fewer would leave the set without a majority"})
	cs = append(cs, hostileCase{class: "kube-rerun", before: kube, args: with("--storage-class", "ssd", "--force=storage-class"), want: map[string][]string{"kubernetes/mongodb.yaml": {`storageClassName: "ssd"`}}})
	cs = append(cs, hostileCase{class: "kube-rerun", before: kube, args: []string{"--target", "compose", "--domain", "chat.example.com", "--email", "ops@example.com"}, refused: "--target: this deployment runs on the kubernetes target"})
	// Day two: never docker against a cluster.
	for _, c := range [][]string{{"backup"}, {"up"}, {"status"}, {"upgrade", "--to", "8.8.0"}} {
		cs = append(cs, hostileCase{class: "kube-daytwo", before: kube, command: c, code: 1, refused: "is a Kubernetes deployment (namespace rocketchat), and rcgen " + c[0] + " runs docker against a host, never against a cluster"})
	}
	return cs
}

// upgradeNetCases: day two without its safety net (issue 24). Sizes past
// the int64 range are too large wherever a size is typed; a pre-upgrade
// backup that is missing or does not check out stops the upgrade (exit 1);
// a member move beyond one per run and a change of target are refused,
// nothing written.
func upgradeNetCases(dir string) []hostileCase {
	var cs []hostileCase
	tooLarge := func(flag, v string) hostileCase {
		return hostileCase{class: "size-overflow", args: []string{"--" + flag, v}, refused: fmt.Sprintf("--%s: %q is larger than any single host (max 64TiB)", flag, v)}
	}
	for _, v := range []string{"9999999TiB", "8589934592GiB", "18446744073709551616B", "99999999999999999999", strings.Repeat("9", 400) + "MiB"} {
		cs = append(cs, tooLarge("memory", v))
	}
	for _, v := range []string{"9999999TB", "99999999999PB", "999999999999999999999999KB"} {
		cs = append(cs, hostileCase{class: "size-overflow", args: []string{"--metrics-retention-size", v}, refused: fmt.Sprintf("--metrics-retention-size: %q is more disk than any host has", v)})
	}
	cs = append(cs, hostileCase{class: "size-overflow", args: []string{"--target", "swarm", "--node", "a=4:9999999TiB", "--domain", "chat.example.com", "--email", "ops@example.com"},
		refused: `--node: "a=4:9999999TiB": memory "9999999TiB" is larger than any single host`})
	// Roles: the backup role is one rcgen knows; anything else (a shell
	// word, a label's syntax) is refused by name.
	for _, role := range []string{"backup;rm", "rcgen.backup=true", "BACKUP", "backup,tape"} {
		cs = append(cs, hostileCase{class: "node-role", args: []string{"--target", "swarm", "--node", "a=4:8GiB:" + role, "--domain", "chat.example.com", "--email", "ops@example.com"},
			refused: fmt.Sprintf("--node: %q: ", "a=4:8GiB:"+role)})
	}
	cs = append(cs, hostileCase{class: "node-role", args: []string{"--target", "swarm", "--node", "n1=4:8GiB", "--node", "n2=4:8GiB:backup", "--domain", "chat.example.com", "--email", "ops@example.com"},
		want: map[string][]string{"README.md": {"docker node update --label-add rcgen.backup=true n2\n"}, "stack.yaml": {"node.labels.rcgen.backup == true"}}})
	overflowing := filepath.Join(dir, "overflow.yaml")
	if err := os.WriteFile(overflowing, []byte("version: 1\nmemory: 9999999TiB\ncpus: 4\n"), 0o600); err != nil {
		panic(err)
	}
	cs = append(cs, hostileCase{class: "size-overflow", args: []string{"--config", overflowing}, refused: overflowing + `: line 2: memory: "9999999TiB" is larger than any single host`})

	// The pre-upgrade backup: named and not written, garbage, a member
	// that does not match the manifest, another deployment's, the backup
	// command failing.
	upgrade := []string{"upgrade", "--to", "7.13.9", "--yes", "--wait", "5s"}
	for _, b := range [][2]string{
		{backupOmitted, "and there is no such file"},
		{backupGarbage, "not an rcgen backup"},
		{backupChecksum, "files.tar.gz does not match its checksum in the manifest"},
		{backupCut, "files.tar.gz is 3 bytes and its manifest says 5 (forged, or a cut copy)"},
		{backupOther, "is of another deployment"},
		{backupFails, "the backup service did not take the pre-upgrade backup"},
	} {
		cs = append(cs, hostileCase{class: "upgrade-backup", before: []string{"--rocketchat-version", "7.12.7"}, command: upgrade,
			docker: newBackupStack(b[0]), code: 1, refused: b[1]})
	}

	// A half-written deployment: the missing file is named, never blamed
	// on the backup service.
	for _, f := range []string{render.ComposeFile, render.EnvFile} {
		cs = append(cs, hostileCase{class: "half-written", before: []string{"--rocketchat-version", "7.12.7"}, command: upgrade,
			damage: func(dir string) error { return os.Remove(filepath.Join(dir, f)) }, docker: newBackupStack(backupOK),
			refused: "holds rcgen.yaml but no " + f + ": a run of rcgen generate did not finish writing it"})
	}

	// Member moves on Swarm: more than one at once, or the only member.
	three := []string{"--target", "swarm", "--mongodb-members", "3", "--node", "n1=4:8GiB", "--node", "n2=4:8GiB", "--node", "n3=4:8GiB", "--domain", "chat.example.com", "--email", "ops@example.com"}
	for _, inv := range [][]string{{"n4", "n5", "n6"}, {"n1", "n5", "n6"}, {"n2", "n1", "n3"}, {"n1", "n3", "n4"}} {
		args := []string{"--force=member-node"}
		for _, n := range inv {
			args = append(args, "--node", n+"=4:8GiB")
		}
		cs = append(cs, hostileCase{class: "member-move", before: three, args: args, refused: "MongoDB members at once"})
	}
	one := []string{"--target", "swarm", "--node", "n1=4:8GiB:db", "--node", "n2=4:8GiB", "--domain", "chat.example.com", "--email", "ops@example.com"}
	cs = append(cs, hostileCase{class: "member-move", before: one, args: []string{"--force=member-node", "--node", "n1=4:8GiB", "--node", "n2=4:8GiB:db"}, refused: "--node: this inventory would move mongodb-1 from n1 to n2, and a member's data is a volume on its node: the only member would start empty"})

	// A change of target, by flag, by answers file, in a dry run, and
	// with another --force.
	public := []string{"--domain", "chat.example.com", "--email", "ops@example.com"}
	toSwarm := append([]string{"--target", "swarm", "--node", "n1=4:8GiB"}, public...)
	for _, extra := range [][]string{nil, {"--dry-run"}, {"--force=member-node"}, {"--force"}} {
		cs = append(cs, hostileCase{class: "target-change", before: public, args: append(slices.Clone(toSwarm), extra...), refused: "--target: this deployment runs on the compose target"})
	}
	swarmAnswers := filepath.Join(dir, "to-swarm.yaml")
	if err := os.WriteFile(swarmAnswers, []byte("version: 1\ntarget: swarm\nnodes: [\"n1=4:8GiB\"]\n"), 0o600); err != nil {
		panic(err)
	}
	cs = append(cs, hostileCase{class: "target-change", before: public, args: []string{"--config", swarmAnswers}, refused: swarmAnswers + ": line 2: target: this deployment runs on the compose target"})
	cs = append(cs, hostileCase{class: "target-change", before: one, args: []string{"--target", "compose"}, refused: "--target: this deployment is a Swarm stack"})

	// rcgen up's bound on each stage, and up and status on a Swarm stack:
	// refused before Docker is asked anything.
	for _, v := range []string{"0s", "-5m", "forever", "15"} {
		cs = append(cs, hostileCase{class: "up", before: public, command: []string{"up"}, args: []string{"--timeout", v}, refused: "--timeout"})
	}
	cs = append(cs, hostileCase{class: "up", before: one, command: []string{"up"}, refused: "rcgen up covers the compose target only for now"})

	// rcgen adopt's flags: refused before anything is read or asked of
	// Docker, naming the flag as given; nothing written at --out.
	adopt := []string{"adopt", "--dry-run"}
	noDocker := func(string) stack.Runner {
		return func(_ context.Context, _ string, args ...string) ([]byte, error) {
			panic(fmt.Sprintf("rcgen adopt asked Docker %q before its flags were checked", args))
		}
	}
	for _, c := range []struct {
		args    []string
		refused string
	}{
		{nil, "--from: give the old deployment's directory"},
		{[]string{"--from", filepath.Join(dir, "nowhere")}, "--from " + filepath.Join(dir, "nowhere") + ": "},
		{[]string{"--from", filepath.Join(dir, "huge")}, "is not a directory"},
		{[]string{"--from", dir, "--from-container", "rc"}, "--from-container: give either --from DIR or --from-container NAME, not both"},
		{[]string{"--from-container", "rc", "--file", "compose.yml"}, "--file: only with --from"},
		{[]string{"--from", dir, "--file", " "}, "--file: the name is empty"},
		{[]string{"--from", dir, "--from-version", "8.0.1; rm -rf /"}, `--from-version "8.0.1; rm -rf /": give the release as X.Y.Z`},
		{[]string{"--from", dir, "--from-version", "v8"}, `--from-version "v8"`},
		{[]string{"--from", dir, "--domain", "chat.example.com\nevil: true"}, "--domain "},
		{[]string{"--from", dir, "--domain", "https://chat.example.com"}, "--domain "},
		{[]string{"--from", dir, "--email", "a b@example.com"}, "--email "},
		{[]string{"--from", dir, "--wait", "0s"}, "--wait: 0s is not a time to wait"},
		{[]string{"--from", dir, "--out", dir}, "is --from or inside it"},
		{[]string{"--from", dir, "--out", filepath.Join(dir, "sub", "new")}, "is --from or inside it"},
		{[]string{"--from", dir, "--out", dir + "/./"}, "is --from or inside it"},
		{[]string{"--from", dir, "--json"}, "--json: only with --dry-run"},
	} {
		args := c.args
		cmd := adopt
		if contains(args, "--json") {
			cmd = []string{"adopt"}
		}
		cs = append(cs, hostileCase{class: "adopt", command: cmd, args: args, refused: c.refused, docker: noDocker})
	}
	return cs
}

// TestHostileTable runs every case of the table against a fresh directory.
func TestHostileTable(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "huge"), make([]byte, 3<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := hostileTable(dir)
	if len(cases) < 120 {
		t.Fatalf("the hostile table holds %d cases; keep at least 120", len(cases))
	}
	counts := map[string]int{}
	for i, c := range cases {
		counts[c.class]++
		t.Run(fmt.Sprintf("%03d-%s", i, c.class), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "d")
			var before map[string]string
			if c.before != nil {
				if r := run(t, append([]string{"generate", "--yes", "--out", out}, c.before...)...); r.code != 0 {
					t.Fatalf("%q: exit %d:\n%s", c.before, r.code, r.stderr)
				}
				if c.damage != nil {
					if err := c.damage(out); err != nil {
						t.Fatal(err)
					}
				}
				before = withoutBackups(out, snapshot(t, out))
			}
			args := append([]string{"generate", "--yes"}, c.args...)
			if c.command != nil {
				args = append(slices.Clone(c.command), c.args...)
			}
			if c.prepare != nil {
				args = append(args, c.prepare(t, out)...)
			}
			if !contains(args, "--out") {
				args = append(args, "--out", out)
			}
			r := runEnv(func(e *Env) {
				if c.docker != nil {
					e.Docker = c.docker(out)
				}
			}, args...)
			if c.after != nil {
				c.after(t, out, r)
			}
			if c.refused != "" {
				code := cmp.Or(c.code, 2)
				if r.code != code || !strings.Contains(r.stderr, c.refused) {
					t.Errorf("%q: exit %d, want %d naming %s:\n%s", c.args, r.code, code, c.refused, r.stderr)
				}
				if before != nil {
					sameFiles(t, before, withoutBackups(out, snapshot(t, out)))
				} else if _, err := os.Stat(out); err == nil && c.prepare == nil {
					t.Errorf("%q: refused, but %s was written", c.args, out)
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("%q: exit %d:\n%s", c.args, r.code, r.stderr)
			}
			for file, wants := range c.want {
				b := read(t, filepath.Join(out, file))
				for _, w := range wants {
					if !strings.Contains(string(b), w) {
						t.Errorf("%q: %s lacks %q", c.args, file, w)
					}
				}
			}
		})
	}
	t.Logf("hostile cases by class: %v (%d in all)", counts, len(cases))
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
