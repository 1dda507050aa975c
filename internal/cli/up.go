package cli

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rcgen/rcgen/internal/doctor"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/smoke"
	"github.com/rcgen/rcgen/internal/spec"
	"github.com/rcgen/rcgen/internal/stack"
	"github.com/rcgen/rcgen/internal/up"
)

// UpJSONVersion is the version of the `rcgen up --json` object.
const UpJSONVersion = 1

// errPreflight stops rcgen up before anything starts.
var errPreflight = errors.New("preflight failed")

type upOptions struct {
	dayTwo
	JSON bool
	Root string
}

func newUpCmd(env Env) *cobra.Command {
	o := &upOptions{dayTwo: dayTwo{Env: env, command: "up"}}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start a deployment in stages, check it through the front door, and say what broke",
		Long: `Start the deployment's compose stack the way an operator would, one stage at
a time, waiting for each: MongoDB's members, the replica set and its
primary, rocketchat-1 (it runs the database migrations; the current one is
shown), the other app processes, the proxy, monitoring, backups. Before
anything starts, rcgen doctor's checks run for the deployment, each image
included: a failed check stops it there.

When a stage fails, rcgen reads the service's state and last log lines and
says what broke and what to do (a port in use, out of memory, a CPU without
AVX, a kernel mongod refuses, the keyfile, a MongoDB the release refuses, a
failed migration, Let's Encrypt unable to reach the host, a Site URL that
is not ROOT_URL); otherwise it prints the last log lines. It never removes
anything: run it again once fixed.

At the end, a smoke test through the front door (HTTPS and its
certificate, /api/info, the websocket, Grafana, Prometheus's targets) and
a short report: where to open it, the admin setup step, what to back up.
The compose target only: for Swarm, rcgen up says what to run instead.`,
		Example: `  rcgen up
  rcgen up --dir /srv/rocketchat --timeout 30m
  rcgen up --json > up.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer o.close()
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	o.bindDir(f)
	f.DurationVar(&o.Wait, "timeout", 15*time.Minute, "how long to wait for each stage (the first start of rocketchat-1 runs every migration)")
	f.BoolVar(&o.JSON, "json", false, "print the report as JSON for scripts (progress still goes to standard error)")
	f.StringVar(&o.Root, "root", "/", "read host facts (/proc, /etc/os-release) under this directory")
	_ = f.MarkHidden("root")
	return cmd
}

// swarmNote: up and status run the compose target; for Swarm they say
// what to run instead.
func swarmNote(dir, cmdName string) error {
	if _, err := os.Stat(filepath.Join(dir, render.StackFile)); err != nil {
		return nil
	}
	return usage(fmt.Errorf("%s holds a Docker Swarm stack (%s), and rcgen %s covers the compose target only for now: "+
		"start it with `docker stack deploy -c %s rocketchat` on a manager, and watch it with `docker stack ps rocketchat` and `docker service ls` "+
		"(replica set: `docker exec` into a mongodb task and run rs.status())", dir, render.StackFile, cmdName, render.StackFile))
}

func (o *upOptions) run(ctx context.Context) error {
	if err := o.checkDir(); err != nil {
		return err
	}
	if err := swarmNote(o.Dir, "up"); err != nil {
		return err
	}
	if o.Wait <= 0 {
		return usage(fmt.Errorf("--timeout: %s is not a time to wait: give e.g. 15m", o.Wait))
	}
	if err := o.open(); err != nil {
		return err
	}
	errOut := o.Env.IO.ErrOut
	if err := o.preflight(ctx); err != nil {
		return err
	}
	st := o.stack()
	st.Echo = nil
	p := up.NewProgress(errOut, o.Env.IO.ErrTerminal)
	if o.Env.IO.ErrTerminal {
		if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil {
			p.Width = w
		}
	}
	a := o.answers()
	x := up.Expect{RootURL: o.d.Env[render.EnvRootURL], Domain: a.Domain}
	err := up.Run(ctx, up.Options{Stack: st, Services: o.d.Compose.Services, Timeout: o.Wait, Poll: o.poll(), Progress: p, Expect: x})
	if f, ok := up.IsFailure(err); ok && o.JSON {
		// Scripts get the failure as an object too; the message goes to
		// standard error as always.
		enc := json.NewEncoder(o.Env.IO.Out)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(struct {
			Version int         `json:"version"`
			Failure *up.Failure `json:"failure"`
		}{UpJSONVersion, f}); jerr != nil {
			return jerr
		}
	}
	if err != nil {
		return err
	}
	p.Line("Smoke test through the front door...")
	target := o.smokeTarget(ctx, st, a)
	report := o.smokeUntil(ctx, target, p)
	if !report.OK() {
		return o.smokeFailed(ctx, st, x, report)
	}
	return o.report(ctx, st, a, report)
}

// startsAnyway are the doctor checks whose failure does not stop rcgen
// up: a release out of support still runs (stopping it would take a
// running chat down after a reboot); doctor and the preflight's lines say
// how to upgrade.
var startsAnyway = []string{"release"}

// preflight runs doctor's checks for the deployment, images included, and
// stops when one fails.
func (o *upOptions) preflight(ctx context.Context) error {
	d := &doctorOptions{Env: o.Env, Out: o.Dir, Root: o.Root}
	d.out = o.dir
	rs := d.results(ctx)
	var problems []string
	for _, r := range rs {
		if r.Status != doctor.OK {
			problems = append(problems, r.String())
		}
	}
	if len(problems) > 0 {
		fmt.Fprintln(o.Env.IO.ErrOut, "Preflight (rcgen doctor):")
		for _, p := range problems {
			fmt.Fprintln(o.Env.IO.ErrOut, "  "+p)
		}
	}
	var blocking []string
	for _, name := range doctor.Failed(rs) {
		if !slices.Contains(startsAnyway, name) {
			blocking = append(blocking, name)
		}
	}
	if len(blocking) > 0 {
		return fmt.Errorf("%w: %s; nothing was started: fix what the checks above say, then run rcgen up again", errPreflight, strings.Join(blocking, ", "))
	}
	fmt.Fprintf(o.Env.IO.ErrOut, "Preflight: %d checks passed", len(rs)-len(problems))
	if len(problems) > 0 {
		fmt.Fprintf(o.Env.IO.ErrOut, ", %d warnings above", len(problems))
	}
	fmt.Fprintln(o.Env.IO.ErrOut, ".")
	return nil
}

// answers are the deployment's answers, resolved (defaults when they do
// not resolve: up only reads the domain and proxy from them).
func (o *dayTwo) answers() spec.Answers {
	a := spec.Default()
	if o.d.Answers != nil {
		if got, _, err := spec.Resolve(*o.d.Answers); err == nil {
			a = got
		}
	}
	return a
}

// caddyRootCA is where Caddy keeps its own CA's root for `tls internal`
// (https://caddyserver.com/docs/automatic-https#local-https: the root is
// in Caddy's data directory, pki/authorities/local/root.crt; the image's
// data directory is /data/caddy).
const caddyRootCA = "/data/caddy/pki/authorities/local/root.crt"

// smokeTarget is what the smoke test looks at: the deployment's
// ROOT_URL through this host's own proxy.
func (o *dayTwo) smokeTarget(ctx context.Context, st stack.Stack, a spec.Answers) smoke.Target {
	t := smoke.Target{RootURL: o.d.Env[render.EnvRootURL], Version: o.d.Env[render.EnvRocketChatVersion], Grafana: o.has(sizing.Grafana)}
	switch {
	case o.has(sizing.Caddy):
		t.Proxy = sizing.Caddy
	case o.has(sizing.Traefik):
		t.Proxy = sizing.Traefik
	}
	if t.Proxy != "" {
		port := "443"
		if u, err := url.Parse(t.RootURL); err == nil && u.Scheme == "http" {
			port = "80"
		}
		t.Address = "127.0.0.1:" + port
		if port == "443" {
			// rcgen's proxy redirects http to https on :80 (the redirect check).
			t.HTTPAddress = "127.0.0.1:80"
		}
		if a.TLSMode() == spec.TLSInternal && t.Proxy == sizing.Caddy {
			if pem, err := st.Run(ctx, st.Dir, "compose", "exec", "-T", sizing.Caddy, "cat", caddyRootCA); err == nil {
				pool := x509.NewCertPool()
				if pool.AppendCertsFromPEM(pem) {
					t.RootCAs = pool
				}
			}
			if t.RootCAs == nil {
				fmt.Fprintf(o.Env.IO.ErrOut, "Note: could not read Caddy's own CA (%s in the caddy container): the certificate is checked against the system's roots, which do not hold it.\n", caddyRootCA)
			}
		}
	}
	if o.has(sizing.Prometheus) {
		t.PrometheusTargets = func(ctx context.Context) ([]byte, error) {
			// prom/prometheus is built on busybox (its own healthcheck in
			// compose.yaml runs wget), so wget is there.
			return st.Run(ctx, st.Dir, "compose", "exec", "-T", sizing.Prometheus, "wget", "-qO-", "http://localhost:9090/api/v1/targets")
		}
	}
	return t
}

// smokeSettle bounds how long up reruns a failing smoke test: right after
// the start Prometheus has not scraped its targets yet (health
// "unknown"), and Caddy may still be getting its certificate.
const smokeSettle = 3 * time.Minute

// smokeUntil reruns the smoke test until it passes or smokeSettle (at
// most --timeout) is over, saying on the progress line what it waits for;
// the last report stands.
func (o *upOptions) smokeUntil(ctx context.Context, t smoke.Target, p *up.Progress) smoke.Report {
	deadline := time.Now().Add(min(smokeSettle, o.Wait))
	said := ""
	for {
		// Each run has its checks' own timeouts: the last report is a
		// whole one, not one cut short by the deadline.
		r := o.runSmoke(ctx, t)
		if r.OK() || !time.Now().Before(deadline) || ctx.Err() != nil {
			return r
		}
		var failing []string
		for _, res := range r.Results {
			if res.OK {
				continue
			}
			if !settling(res) {
				return r // not a start-up state: waiting would not mend it
			}
			failing = append(failing, res.Name)
		}
		if line := "Smoke test: waiting for " + strings.Join(failing, ", ") + "..."; line != said {
			p.Line(line)
			said = line
		}
		select {
		case <-ctx.Done():
			return r
		case <-time.After(o.poll()):
		}
	}
}

// settling says whether a failed check may pass by itself soon after the
// start: Prometheus has not scraped its targets yet, Grafana is still
// migrating its database, Caddy is still getting its certificate (it
// answers with no certificate meanwhile). Anything else (nothing listens,
// a wrong version, a refused websocket) is reported at once.
func settling(r smoke.Result) bool {
	switch r.Name {
	case smoke.CheckPrometheus, smoke.CheckGrafana:
		return true
	case smoke.CheckCertificate:
		return strings.Contains(r.Detail, "no certificate for")
	}
	return false
}

func (o *dayTwo) runSmoke(ctx context.Context, t smoke.Target) smoke.Report {
	if o.Env.Smoke != nil {
		return o.Env.Smoke(ctx, t)
	}
	return smoke.Run(ctx, t)
}

// smokeFailed says which front-door checks failed and, when Caddy's log
// says why (ACME), that.
func (o *upOptions) smokeFailed(ctx context.Context, st stack.Stack, x up.Expect, r smoke.Report) error {
	var b strings.Builder
	b.WriteString("every service is up, and the smoke test through the front door failed:")
	for _, res := range r.Results {
		if res.OK {
			continue
		}
		fmt.Fprintf(&b, "\n  %s: %s", res.Name, res.Detail)
		if res.Fix != "" {
			fmt.Fprintf(&b, "; %s", res.Fix)
		}
	}
	if o.has(sizing.Caddy) {
		logs, _ := st.Logs(ctx, sizing.Caddy, 200)
		if c, ok := up.Diagnose(up.Evidence{Service: sizing.Caddy, Logs: logs}, x); ok {
			fmt.Fprintf(&b, "\nCaddy's log says why: %s.\nFix: %s.", c.Message, c.Fix)
		}
	}
	b.WriteString("\nNothing was removed. Run rcgen up again once fixed, or rcgen status to see the stack.")
	return errors.New(b.String())
}

// upReport is rcgen up's result.
type upReport struct {
	Version    int            `json:"version"`
	URL        string         `json:"url"`
	RocketChat string         `json:"rocketchat"`
	MongoDB    string         `json:"mongodb"`
	Services   []string       `json:"services"`
	Apps       int            `json:"app_processes"`
	Grafana    string         `json:"grafana,omitempty"`
	Smoke      []smoke.Result `json:"smoke"`
	CertExpiry *time.Time     `json:"certificate_expiry,omitempty"`
	Admin      string         `json:"admin_setup"`
	BackUp     string         `json:"back_up"`
}

func (o *upOptions) report(_ context.Context, _ stack.Stack, a spec.Answers, r smoke.Report) error {
	rep := upReport{Version: UpJSONVersion, URL: o.d.Env[render.EnvRootURL], RocketChat: o.d.Env[render.EnvRocketChatVersion],
		MongoDB: o.d.Env[render.EnvMongoDBVersion], Services: o.d.Compose.Services, Apps: len(o.apps()), Smoke: r.Results}
	if o.has(sizing.Grafana) && o.has(sizing.Caddy) {
		rep.Grafana = strings.TrimRight(rep.URL, "/") + "/grafana/"
	}
	if !r.CertNotAfter.IsZero() {
		t := r.CertNotAfter.UTC()
		rep.CertExpiry = &t
	}
	rep.Admin = fmt.Sprintf("open %s and register the first user: Rocket.Chat makes the first account the administrator, and its setup wizard asks for the organisation; do it now, before anyone else can", rep.URL)
	if o.has(sizing.Backup) {
		when := a.BackupSchedule
		if sch, err := spec.ParseSchedule(a.BackupSchedule); err == nil {
			when = sch.String()
		}
		rep.BackUp = fmt.Sprintf("the backup service writes to %s %s; copy that directory off this server, and keep .env, rcgen.yaml and secrets/ with it (they hold the secrets the data needs); rcgen backup takes one now",
			filepath.Join(o.Dir, render.BackupsDir)+string(filepath.Separator), when)
	} else {
		rep.BackUp = "this deployment has no backup service: back up MongoDB with mongodump (README.md here), and keep .env, rcgen.yaml and secrets/ with it"
	}
	if o.JSON {
		enc := json.NewEncoder(o.Env.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printUpReport(o.Env.IO.Out, rep)
}

func printUpReport(w io.Writer, r upReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Rocket.Chat %s is running at %s\n", r.RocketChat, r.URL)
	procs := "1 app process"
	if r.Apps != 1 {
		procs = fmt.Sprintf("%d app processes", r.Apps)
	}
	fmt.Fprintf(&b, "  %s, MongoDB %s, %d services; smoke test passed (%d checks)\n", procs, r.MongoDB, len(r.Services), len(r.Smoke))
	if r.CertExpiry != nil {
		fmt.Fprintf(&b, "  certificate valid until %s\n", r.CertExpiry.Format("2006-01-02"))
	}
	if r.Grafana != "" {
		fmt.Fprintf(&b, "  Grafana: %s (user admin, password GRAFANA_ADMIN_PASSWORD in .env)\n", r.Grafana)
	}
	fmt.Fprintf(&b, "Next: %s.\n", r.Admin)
	fmt.Fprintf(&b, "Back up: %s.\n", r.BackUp)
	b.WriteString("Check on it any time with: rcgen status\n")
	_, err := io.WriteString(w, b.String())
	return err
}
