package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/smoke"
	"github.com/rcgen/rcgen/internal/spec"
	"github.com/rcgen/rcgen/internal/stack"
)

// StatusJSONVersion is the version of the `rcgen status --json` object.
const StatusJSONVersion = 1

// Status exit codes: scripts and monitoring read them.
const (
	StatusHealthy  = 0
	StatusDegraded = 1
	StatusDown     = 2
)

// exitStatus ends a command with code, having said everything already.
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

type statusService struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Health string `json:"health,omitempty"`
	Up     bool   `json:"up"`
}

type statusMember struct {
	Name       string  `json:"name"`
	State      string  `json:"state"`
	LagSeconds float64 `json:"lag_seconds"`
}

type statusVersion struct {
	Running string `json:"running"`
	Pinned  string `json:"pinned"`
}

type statusBackup struct {
	Newest     string    `json:"newest"`
	Taken      time.Time `json:"taken"`
	AgeSeconds int64     `json:"age_seconds"`
}

type statusAlert struct {
	Name     string    `json:"name"`
	Severity string    `json:"severity,omitempty"`
	Since    time.Time `json:"since"`
}

type statusReport struct {
	Version  int             `json:"version"`
	Status   string          `json:"status"`
	Problems []string        `json:"problems"`
	Services []statusService `json:"services"`
	Apps     struct {
		Up    int `json:"up"`
		Total int `json:"total"`
	} `json:"app_processes"`
	Primary    string                   `json:"primary,omitempty"`
	Members    []statusMember           `json:"members"`
	Versions   map[string]statusVersion `json:"versions"`
	CertExpiry *time.Time               `json:"certificate_expiry,omitempty"`
	Smoke      []smoke.Result           `json:"smoke"`
	Backup     *statusBackup            `json:"backup,omitempty"`
	DiskFree   *int64                   `json:"database_disk_free_bytes,omitempty"`
	DiskTotal  *int64                   `json:"database_disk_total_bytes,omitempty"`
	Alerts     []statusAlert            `json:"alerts"`
	code       int
}

func newStatusCmd(env Env) *cobra.Command {
	o := &dayTwo{Env: env}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show a running deployment's health on one screen (exit 0 healthy, 1 degraded, 2 down)",
		Long: `Show each service's state and health, how many app processes are up, the
replica set's members (state, lag, which is primary), the versions running
against the ones pinned, the certificate's expiry (from a smoke test through
the front door), the newest backup and its age, the disk left for the
database, and the alerts Alertmanager has firing.

Exit 0 when healthy, 1 when degraded (something is wrong and the chat still
serves), 2 when down (no app process up, no primary, or Docker cannot tell),
so scripts and monitoring can use it. It changes nothing. On a Swarm
stack it shows the services' replicas (docker stack services) and says
what it does not read there yet.`,
		Example: `  rcgen status
  rcgen status --dir /srv/rocketchat --json | jq .status`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.checkDir(); err != nil {
				return err
			}
			d, err := deploy.Open(o.Dir)
			if err != nil {
				return usage(fmt.Errorf("%s: %w", o.dir.Name(), err))
			}
			if !d.Exists() {
				return usage(fmt.Errorf("%s: %s holds no deployment rcgen wrote (no %s): give the directory rcgen generate wrote", o.dir.Name(), o.Dir, spec.FileName))
			}
			o.d = d
			if a, ok := kubeAnswers(d); ok {
				return kubeRefusal("status", a, o.Dir)
			}
			var r statusReport
			if d.Compose.Swarm {
				r = o.swarmStatus(cmd.Context())
			} else {
				r = o.status(cmd.Context())
			}
			if asJSON {
				enc := json.NewEncoder(env.IO.Out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return err
				}
			} else if err := printStatus(env.IO.Out, r); err != nil {
				return err
			}
			if r.code != StatusHealthy {
				return &exitStatus{r.code}
			}
			return nil
		},
	}
	o.bindDir(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON for scripts")
	return cmd
}

// imageTag is an image reference's tag ("" when it has none).
func imageTag(image string) string {
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return ""
	}
	return image[i+1:]
}

// status reads everything status shows; it never fails as a whole.
func (o *dayTwo) status(ctx context.Context) statusReport {
	r := statusReport{Version: StatusJSONVersion, Versions: map[string]statusVersion{}, Members: []statusMember{}, Alerts: []statusAlert{}, Problems: []string{}}
	down := func(p string) { r.Problems = append(r.Problems, p); r.code = StatusDown }
	degraded := func(p string) {
		r.Problems = append(r.Problems, p)
		r.code = max(r.code, StatusDegraded)
	}
	now := time.Now()
	if o.Env.Now != nil {
		now = o.Env.Now()
	}
	st := o.stackQuiet()
	cs, err := st.PS(ctx)
	if err != nil {
		down("docker cannot tell: " + err.Error())
	}
	by := map[string]stack.Container{}
	for _, c := range cs {
		by[c.Service] = c
	}
	for _, name := range o.d.Compose.Services {
		c, ok := by[name]
		s := statusService{Name: name, State: "no container", Health: c.Health}
		if ok {
			s.State = c.State
		}
		bad := stack.Unhealthy([]stack.Container{c}, []string{name})
		s.Up = ok && len(bad) == 0
		r.Services = append(r.Services, s)
		if !s.Up && err == nil {
			degraded(bad[0])
		}
	}
	apps := o.apps()
	r.Apps.Total = len(apps)
	for _, a := range apps {
		if len(stack.Unhealthy(cs, []string{a})) == 0 {
			r.Apps.Up++
		}
	}
	if err == nil && r.Apps.Up == 0 {
		down("no app process is up")
	}
	if err == nil {
		rs, rerr := st.ReplSetStatus(ctx)
		switch {
		case rerr != nil:
			down("the replica set cannot be read: " + firstLineOf(rerr.Error()))
		case rs.Primary() == "":
			down("the replica set has no primary")
		default:
			r.Primary = rs.Primary()
		}
		for _, m := range rs.Members {
			r.Members = append(r.Members, statusMember{Name: m.Name, State: m.State, LagSeconds: m.Lag.Seconds()})
			if m.State != "PRIMARY" && m.State != "SECONDARY" && m.State != "ARBITER" {
				degraded(fmt.Sprintf("replica set member %s is %s", m.Name, m.State))
			} else if m.Lag > time.Minute {
				degraded(fmt.Sprintf("replica set member %s is %s behind the primary", m.Name, m.Lag.Round(time.Second)))
			}
		}
		// Versions: Rocket.Chat from the image rocketchat-1 runs, MongoDB
		// from mongod itself.
		pinnedRC := o.d.Env[render.EnvRocketChatVersion]
		rc := statusVersion{Pinned: pinnedRC, Running: imageTag(by["rocketchat-1"].Image)}
		r.Versions["rocketchat"] = rc
		if rc.Running != "" && rc.Running != rc.Pinned {
			degraded(fmt.Sprintf("rocketchat-1 runs Rocket.Chat %s, and .env pins %s: docker compose up -d (or rcgen up) starts the pinned one", rc.Running, rc.Pinned))
		}
		pinnedMongo, _, _ := strings.Cut(o.d.Env[render.EnvMongoDBVersion], "-")
		mv := statusVersion{Pinned: pinnedMongo}
		if v, _, verr := st.Versions(ctx); verr == nil {
			mv.Running = v
			if v != pinnedMongo {
				degraded(fmt.Sprintf("MongoDB %s runs, and .env pins %s", v, pinnedMongo))
			}
		}
		r.Versions["mongodb"] = mv
		if used, total, derr := st.DatabaseDisk(ctx); derr == nil {
			free := total - used
			r.DiskFree, r.DiskTotal = &free, &total
			if free < total/10 {
				degraded(fmt.Sprintf("the database's disk has %s left of %s", humanSize(free), humanSize(total)))
			}
		}
		if o.has(sizing.Alertmanager) {
			alerts, aerr := o.alerts(ctx, st)
			if aerr == nil {
				r.Alerts = alerts
				for _, a := range alerts {
					degraded("alert firing: " + a.Name)
				}
			}
		}
	}
	if r.code != StatusDown && r.Apps.Up > 0 {
		rep := o.runSmoke(ctx, o.smokeTarget(ctx, st, o.answers()))
		r.Smoke = rep.Results
		if !rep.CertNotAfter.IsZero() {
			t := rep.CertNotAfter.UTC()
			r.CertExpiry = &t
			if t.Sub(now) < 14*24*time.Hour {
				degraded(fmt.Sprintf("the certificate expires %s", t.Format("2006-01-02")))
			}
		}
		for _, res := range rep.Results {
			if !res.OK {
				degraded("smoke test: " + res.Name + ": " + res.Detail)
			}
		}
	}
	if o.has(sizing.Backup) {
		list, _ := backup.List(filepath.Join(o.Dir, render.BackupsDir))
		for _, a := range list {
			if a.Problem == "" {
				r.Backup = &statusBackup{Newest: a.Name(), Taken: a.Manifest.Created.UTC(), AgeSeconds: int64(now.Sub(a.Manifest.Created).Seconds())}
				break
			}
		}
		if r.Backup == nil {
			degraded("no backup yet (rcgen backup takes one)")
		}
	}
	r.Status = [...]string{"healthy", "degraded", "down"}[r.code]
	return r
}

// stackQuiet is the stack without the echo of each command: status shows
// a screen, not a log.
func (o *dayTwo) stackQuiet() stack.Stack {
	s := o.stack()
	s.Echo = nil
	return s
}

// alerts reads the alerts firing from Alertmanager's API v2 (GET
// /api/v2/alerts with active, silenced and inhibited filters,
// https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml),
// inside its container (prom/alertmanager is busybox-based: its
// healthcheck in compose.yaml runs wget).
func (o *dayTwo) alerts(ctx context.Context, st stack.Stack) ([]statusAlert, error) {
	out, err := st.Run(ctx, st.Dir, "compose", "exec", "-T", sizing.Alertmanager, "wget", "-qO-", "http://localhost:9093/api/v2/alerts?active=true&silenced=false&inhibited=false")
	if err != nil {
		return nil, err
	}
	var raw []struct {
		Labels   map[string]string `json:"labels"`
		StartsAt time.Time         `json:"startsAt"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, err
	}
	var as []statusAlert
	for _, a := range raw {
		as = append(as, statusAlert{Name: a.Labels["alertname"], Severity: a.Labels["severity"], Since: a.StartsAt.UTC()})
	}
	slices.SortFunc(as, func(a, b statusAlert) int { return strings.Compare(a.Name, b.Name) })
	return as, nil
}

func firstLineOf(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func printStatus(w io.Writer, r statusReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Status: %s", r.Status)
	fmt.Fprintf(&b, " (app processes up: %d of %d)\n", r.Apps.Up, r.Apps.Total)
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "  ! %s\n", p)
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSERVICE\tSTATE\tHEALTH")
	for _, s := range r.Services {
		h := s.Health
		if h == "" {
			h = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.State, h)
	}
	tw.Flush()
	if len(r.Members) > 0 {
		b.WriteString("\nReplica set:\n")
		for _, m := range r.Members {
			fmt.Fprintf(&b, "  %s %s", m.Name, m.State)
			if m.State != "PRIMARY" {
				fmt.Fprintf(&b, ", lag %s", (time.Duration(m.LagSeconds * float64(time.Second))).Round(time.Second))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n")
	for _, k := range []string{"rocketchat", "mongodb"} {
		v, ok := r.Versions[k]
		if !ok {
			continue
		}
		name := map[string]string{"rocketchat": "Rocket.Chat", "mongodb": "MongoDB"}[k]
		running := v.Running
		if running == "" {
			running = "unknown"
		}
		fmt.Fprintf(&b, "%s: running %s, pinned %s\n", name, running, v.Pinned)
	}
	if len(r.Smoke) > 0 {
		passed := 0
		for _, res := range r.Smoke {
			if res.OK {
				passed++
			}
		}
		fmt.Fprintf(&b, "Front door (smoke test): %d of %d checks passed\n", passed, len(r.Smoke))
	}
	if r.CertExpiry != nil {
		fmt.Fprintf(&b, "Certificate: valid until %s\n", r.CertExpiry.Format("2006-01-02"))
	}
	if r.Backup != nil {
		fmt.Fprintf(&b, "Newest backup: %s (%s old)\n", r.Backup.Newest, (time.Duration(r.Backup.AgeSeconds) * time.Second).Round(time.Minute))
	}
	if r.DiskFree != nil {
		fmt.Fprintf(&b, "Database disk: %s free of %s\n", humanSize(*r.DiskFree), humanSize(*r.DiskTotal))
	}
	if len(r.Alerts) > 0 {
		b.WriteString("Alerts firing:\n")
		for _, a := range r.Alerts {
			fmt.Fprintf(&b, "  %s (%s) since %s\n", a.Name, a.Severity, a.Since.Format(time.RFC3339))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// swarmStatus is status for a Swarm stack: the services and their
// replicas from `docker stack services NAME --format '{{json .}}'` (run on
// a manager); the replica set, versions, backups and alerts are not read
// there yet, and the report says so.
func (o *dayTwo) swarmStatus(ctx context.Context) statusReport {
	r := statusReport{Version: StatusJSONVersion, Versions: map[string]statusVersion{}, Members: []statusMember{}, Alerts: []statusAlert{}, Problems: []string{}}
	name := o.answers().Project
	run := o.Env.Docker
	if run == nil {
		run = stack.Docker
	}
	out, err := run(ctx, o.Dir, "stack", "services", name, "--format", "{{json .}}")
	if err != nil {
		r.code = StatusDown
		r.Problems = append(r.Problems, fmt.Sprintf("docker stack services %s failed (run rcgen status on a Swarm manager): %s", name, firstLineOf(err.Error())))
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var s struct{ Name, Replicas string }
		if json.Unmarshal([]byte(line), &s) != nil || s.Name == "" {
			continue
		}
		svc := strings.TrimPrefix(s.Name, name+"_")
		seen[svc] = true
		// "2/2", "1/1 (max 1 per node)", a job's "0/1 (1/1 completed)".
		var running, want int
		fmt.Sscanf(s.Replicas, "%d/%d", &running, &want)
		up := want > 0 && running == want || strings.Contains(s.Replicas, "completed") && !strings.Contains(s.Replicas, "(0/")
		r.Services = append(r.Services, statusService{Name: svc, State: s.Replicas, Up: up})
		if svc == "rocketchat" {
			r.Apps.Up, r.Apps.Total = running, want
		}
		if !up {
			r.Problems = append(r.Problems, fmt.Sprintf("%s runs %s replicas (docker service ps %s_%s says why)", svc, s.Replicas, name, svc))
			r.code = max(r.code, StatusDegraded)
		}
	}
	if err == nil {
		for _, svc := range o.d.Compose.Services {
			if !seen[svc] {
				r.Services = append(r.Services, statusService{Name: svc, State: "not deployed"})
				r.Problems = append(r.Problems, svc+" is not deployed (docker stack deploy, as README.md says)")
				r.code = max(r.code, StatusDegraded)
			}
		}
		if r.Apps.Up == 0 {
			r.Problems = append(r.Problems, "no app task runs")
			r.code = StatusDown
		}
	}
	r.Problems = append(r.Problems, fmt.Sprintf("on Swarm, rcgen status reads the services only for now: the replica set, versions, certificate, backups and alerts are not read (docker stack ps %s shows the tasks)", name))
	r.Status = [...]string{"healthy", "degraded", "down"}[r.code]
	return r
}
