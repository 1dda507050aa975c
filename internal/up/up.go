// Package up starts a deployment's compose stack in stages, waits for each
// with a bounded time, and when one fails reads the failing service's
// state and logs and says what broke and what to do. It never removes
// anything: no docker compose down, no rm, no volume.
package up

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/stack"
)

// Stage is one step of the start: services started together and waited
// for.
type Stage struct {
	Name     string   `json:"name"`
	Services []string `json:"services"`
	// primary: also wait for the replica set to elect a primary.
	primary bool
	// migrations: show the app's current migration while waiting.
	migrations bool
}

// Stages splits services into the order they start in: MongoDB's
// members, the replica set, the first app process (it runs the
// migrations), the other app processes, the proxy, monitoring, backups,
// then anything else. Empty stages are left out.
func Stages(services []string) []Stage {
	var members, apps, monitoring, rest []string
	var prepare, initSet, first, proxy, bak []string
	for _, s := range services {
		switch {
		case s == sizing.MongoDBPrepare:
			prepare = append(prepare, s)
		case memberRe.MatchString(s):
			members = append(members, s)
		case s == sizing.MongoDBInit:
			initSet = append(initSet, s)
		case s == "rocketchat-1":
			first = append(first, s)
		case strings.HasPrefix(s, "rocketchat-") || s == sizing.NATS:
			apps = append(apps, s)
		case s == sizing.Caddy:
			proxy = append(proxy, s)
		case s == sizing.Prometheus || s == sizing.Grafana || s == sizing.Alertmanager || s == sizing.Loki || s == sizing.OtelCollector ||
			strings.HasSuffix(s, "-exporter") || strings.Contains(s, "-exporter-"):
			monitoring = append(monitoring, s)
		case s == sizing.Backup:
			bak = append(bak, s)
		default:
			rest = append(rest, s)
		}
	}
	byNumber(members)
	byNumber(apps)
	all := []Stage{
		{Name: "MongoDB members", Services: append(prepare, members...)},
		{Name: "replica set", Services: initSet, primary: true},
		{Name: "rocketchat-1 (migrations)", Services: first, migrations: true},
		{Name: "app processes", Services: apps},
		{Name: "proxy", Services: proxy},
		{Name: "monitoring", Services: monitoring},
		{Name: "backups", Services: bak},
		{Name: "the rest", Services: rest},
	}
	var out []Stage
	for _, s := range all {
		if len(s.Services) > 0 {
			out = append(out, s)
		}
	}
	return out
}

var memberRe = regexp.MustCompile(`^mongodb-[0-9]+$`)

// byNumber sorts rocketchat-2 before rocketchat-10.
func byNumber(s []string) {
	slices.SortFunc(s, func(x, y string) int {
		if len(x) != len(y) {
			return len(x) - len(y)
		}
		return strings.Compare(x, y)
	})
}

// Options say what to start and how long to wait.
type Options struct {
	Stack    stack.Stack
	Services []string
	// Timeout bounds each stage.
	Timeout time.Duration
	// Poll is how often Docker is asked.
	Poll     time.Duration
	Progress *Progress
	Expect   Expect
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Failure is a stage that did not come up, with what rcgen found.
type Failure struct {
	Stage   string `json:"stage"`
	Service string `json:"service"`
	// What happened, in a few words: "exited with code 1", "not healthy
	// after 10m0s".
	What  string `json:"what"`
	Cause *Cause `json:"cause,omitempty"`
	// State is the service's state as docker reports it.
	State string `json:"state"`
	// Logs are its last 20 log lines, when the cause is not known.
	Logs []string `json:"logs,omitempty"`
}

func (f *Failure) Error() string {
	var b strings.Builder
	if f.Cause != nil {
		fmt.Fprintf(&b, "%s (stage: %s) %s: %s.\nFix: %s.", f.Service, f.Stage, f.What, f.Cause.Message, f.Cause.Fix)
	} else {
		fmt.Fprintf(&b, "%s (stage: %s) %s; its state: %s. rcgen does not know this failure; its last %d log lines:", f.Service, f.Stage, f.What, f.State, len(f.Logs))
		for _, l := range f.Logs {
			b.WriteString("\n  " + oneLine(l))
		}
		if len(f.Logs) == 0 {
			b.WriteString("\n  (none)")
		}
		fmt.Fprintf(&b, "\nSee all of it with: docker compose logs %s", f.Service)
	}
	b.WriteString("\nNothing was removed: the containers and volumes are as they were. Fix it, then run rcgen up again (it starts what is not running).")
	return b.String()
}

// LogLines is how many log lines a failure shows.
const LogLines = 20

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// since is when a stage's logs begin: a second before it started (the
// clocks of docker and rcgen are the same host's), zero under a test's
// clock.
func (o Options) since(started time.Time) time.Time {
	if o.Now != nil {
		return time.Time{}
	}
	return started.Add(-time.Second)
}

// Run starts every stage in order and waits for each. It returns a
// *Failure when a stage does not come up.
func Run(ctx context.Context, o Options) error {
	stages := Stages(o.Services)
	for i, st := range stages {
		label := fmt.Sprintf("[%d/%d] %s", i+1, len(stages), st.Name)
		args := append([]string{"compose", "up", "--detach"}, st.Services...)
		o.Progress.Line(label + ": docker " + stack.Quote(args...))
		// Its logs are read from before the start (a running container
		// keeps its old lines); its time runs from when it has started
		// (docker compose up pulls images first).
		logsFrom := o.since(o.now())
		if out, err := o.Stack.Run(ctx, o.Stack.Dir, args...); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return o.upFailed(ctx, st, string(out)+"\n"+err.Error())
		}
		started := o.now()
		if err := o.wait(ctx, label, st, started, logsFrom); err != nil {
			return err
		}
		o.Progress.Line(fmt.Sprintf("%s: up (%s)", label, strings.Join(st.Services, ", ")))
	}
	return nil
}

// upFailed diagnoses a docker compose up that failed: the service its
// output names (compose prints the container's name, project-service-N),
// else the stage's first.
func (o Options) upFailed(ctx context.Context, st Stage, output string) error {
	svc := st.Services[0]
	for _, s := range st.Services {
		if strings.Contains(output, "-"+s+"-") || strings.Contains(output, " "+s+" ") {
			svc = s
			break
		}
	}
	f := o.failure(ctx, st, svc, "did not start", output)
	return f
}

// failure reads svc's state and logs and matches them.
func (o Options) failure(ctx context.Context, st Stage, svc, what, output string) *Failure {
	e := Evidence{Service: svc, Output: output}
	f := &Failure{Stage: st.Name, Service: svc, What: what, State: "no container"}
	if cs, err := o.Stack.PS(ctx); err == nil {
		for _, c := range cs {
			if c.Service == svc {
				e.Container = c
				f.State = describe(c)
			}
		}
	}
	if s, err := o.Stack.Inspect(ctx, svc); err == nil {
		e.State = &s
		if s.OOMKilled {
			f.State += ", OOMKilled"
		}
		if s.RestartCount > 0 {
			f.State += fmt.Sprintf(", restarted %d times", s.RestartCount)
		}
	}
	e.Logs, _ = o.Stack.Logs(ctx, svc, 200)
	if c, ok := Diagnose(e, o.Expect); ok {
		f.Cause = &c
		return f
	}
	f.Logs = e.Logs[max(0, len(e.Logs)-LogLines):]
	if output != "" && len(f.Logs) == 0 {
		f.Logs = strings.Split(strings.TrimSpace(output), "\n")
	}
	return f
}

// describe is a container's state in docker's words.
func describe(c stack.Container) string {
	s := c.State
	if c.Health != "" {
		s += " (" + c.Health + ")"
	}
	if c.State == "exited" || c.State == "dead" {
		s += ", exit code " + strconv.Itoa(c.ExitCode)
	}
	return s
}

// judge says whether svc is up, waiting, or failed (and how).
func judge(c stack.Container, found bool, oneShot bool) (up bool, failed string) {
	switch {
	case !found:
		return false, ""
	case oneShot:
		if c.State == "exited" || c.State == "dead" {
			if c.ExitCode == 0 {
				return true, ""
			}
			return false, fmt.Sprintf("exited with code %d", c.ExitCode)
		}
		return false, ""
	case c.State == "exited" || c.State == "dead":
		return false, fmt.Sprintf("exited with code %d", c.ExitCode)
	case c.State == "restarting":
		return false, fmt.Sprintf("keeps restarting (last exit code %d)", c.ExitCode)
	case c.Health == "unhealthy":
		return false, "is unhealthy"
	case c.State == "running" && (c.Health == "" || c.Health == "healthy"):
		return true, ""
	}
	return false, ""
}

// migrationRe finds Rocket.Chat's migration lines: "Migrating from
// version 230 -> 232", "Running up() on version 231" (RocketChat/Rocket.Chat
// apps/meteor/server/lib/migrations.ts).
var migrationRe = regexp.MustCompile(`(Migrating from version [0-9]+ -> [0-9]+|Running up\(\) on version [0-9]+|Finished migrating)`)

// wait polls until every service of st is up, a service fails, or the
// stage's time is over.
func (o Options) wait(ctx context.Context, label string, st Stage, started, logsFrom time.Time) error {
	deadline := started.Add(o.Timeout)
	for {
		cs, err := o.Stack.PS(ctx)
		if err != nil {
			return err
		}
		by := map[string]stack.Container{}
		for _, c := range cs {
			by[c.Service] = c
		}
		var waiting []string
		for _, s := range st.Services {
			c, found := by[s]
			up, failed := judge(c, found, slices.Contains(stack.OneShots, s))
			if failed != "" {
				return o.failure(ctx, st, s, failed, "")
			}
			if !up {
				state := "not created yet"
				if found {
					state = describe(c)
				}
				waiting = append(waiting, s+": "+state)
			}
		}
		// A known fatal line in what a service not yet up logged since the
		// stage began ends the wait at once, even while docker still calls
		// the container running (it restarts).
		note := ""
		for _, w := range waiting {
			svc, _, _ := strings.Cut(w, ":")
			if _, found := by[svc]; !found || (st.migrations && svc == st.Services[0]) {
				continue
			}
			if f := o.fatal(ctx, st, svc, logsFrom, nil); f != nil {
				return f
			}
		}
		if st.migrations {
			first := st.Services[0]
			var logs []string
			if f := o.fatal(ctx, st, first, logsFrom, &logs); f != nil {
				return f
			}
			for _, l := range logs {
				if m := migrationRe.FindString(l); m != "" {
					note = m
				}
			}
			if len(waiting) == 0 {
				if c, ok := RootURLMismatch(first, logs, o.Expect); ok {
					return &Failure{Stage: st.Name, Service: first, What: "started with the wrong address", Cause: &c, State: describe(by[first])}
				}
			}
		}
		if len(waiting) == 0 && st.primary {
			rs, err := o.Stack.ReplSetStatus(ctx)
			switch {
			case err != nil:
				waiting = append(waiting, "replica set: "+firstLine(err.Error()))
			case rs.Primary() == "":
				var ms []string
				for _, m := range rs.Members {
					ms = append(ms, m.Name+" "+m.State)
				}
				waiting = append(waiting, "replica set: no primary yet ("+strings.Join(ms, ", ")+")")
			default:
				o.Progress.Line(fmt.Sprintf("%s: primary %s", label, rs.Primary()))
			}
		}
		if len(waiting) == 0 {
			o.Progress.Done()
			return nil
		}
		waited := o.now().Sub(started)
		if !o.now().Before(deadline) {
			o.Progress.Done()
			svc, _, _ := strings.Cut(waiting[0], ":")
			if svc == "replica set" {
				return o.noPrimary(ctx, st, waiting[0])
			}
			return o.failure(ctx, st, svc, fmt.Sprintf("was not up after %s", o.Timeout), "")
		}
		// The current migration first: a terminal's line is cut to its
		// width from the end.
		text := label + ": waiting for " + strings.Join(waiting, "; ")
		if note != "" {
			text = label + ": " + note + "; waiting for " + strings.Join(waiting, "; ")
		}
		o.Progress.Status(text, waited)
		select {
		case <-ctx.Done():
			o.Progress.Done()
			return ctx.Err()
		case <-time.After(o.Poll):
		}
	}
}

// fatal reads what svc logged since from and returns its failure when a
// known cause shows there; logs (when not nil) receives the lines.
func (o Options) fatal(ctx context.Context, st Stage, svc string, from time.Time, logs *[]string) *Failure {
	lines, _ := o.Stack.LogsSince(ctx, svc, 50, from)
	if logs != nil {
		*logs = lines
	}
	c, ok := Diagnose(Evidence{Service: svc, Logs: lines}, o.Expect)
	if !ok {
		return nil
	}
	f := o.failure(ctx, st, svc, "failed", "")
	if f.Cause == nil {
		f.Cause = &c
	}
	return f
}

// noPrimary is a replica set that elected no primary in time: the
// members' states and mongodb-init's log say why.
func (o Options) noPrimary(ctx context.Context, st Stage, state string) error {
	f := o.failure(ctx, st, sizing.MongoDBInit, fmt.Sprintf("finished, and the replica set had no primary after %s", o.Timeout), "")
	f.State = strings.TrimPrefix(state, "replica set: ")
	return f
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// IsFailure reports whether err is a stage's failure.
func IsFailure(err error) (*Failure, bool) {
	var f *Failure
	ok := errors.As(err, &f)
	return f, ok
}
