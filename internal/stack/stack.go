// Package stack runs a deployment's Docker Compose stack: the commands
// rcgen's day-two commands (upgrade, backup, restore) need, each printed as
// it runs, shell-quoted, so an operator can run it again by hand. It talks
// to Docker only through the docker command.
package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kballard/go-shellquote"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/render"
)

// Runner runs docker with args in dir and returns its standard output;
// stderr goes to the error.
type Runner func(ctx context.Context, dir string, args ...string) ([]byte, error)

// Docker runs the real docker command.
func Docker(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if len(msg) > 2000 {
			msg = "..." + msg[len(msg)-2000:]
		}
		var ee *exec.Error
		if errors.As(err, &ee) {
			return out.Bytes(), fmt.Errorf("docker is not installed or not on PATH: %w", err)
		}
		if msg == "" {
			return out.Bytes(), err
		}
		return out.Bytes(), fmt.Errorf("%w: %s", err, msg)
	}
	return out.Bytes(), nil
}

// Stack is one deployment's compose project.
type Stack struct {
	// Dir is the deployment directory (docker compose runs there).
	Dir string
	Run Runner
	// Echo receives every command before it runs ("+ docker compose ...").
	Echo io.Writer
	// Members is how many MongoDB members the deployment runs.
	Members int
	// Swarm is set for a Docker Swarm stack, named Project (the answers'
	// project, docker stack deploy's stack name).
	Swarm   bool
	Project string
}

// Compose runs docker compose args.
func (s Stack) Compose(ctx context.Context, args ...string) ([]byte, error) {
	full := append([]string{"compose"}, args...)
	if s.Echo != nil {
		fmt.Fprintln(s.Echo, "+ docker "+Quote(full...))
	}
	out, err := s.Run(ctx, s.Dir, full...)
	if err != nil {
		return out, fmt.Errorf("docker %s: %w", Quote(full...), err)
	}
	return out, nil
}

// Quote is args as a shell would need them typed.
func Quote(args ...string) string { return shellquote.Join(args...) }

// Container is one line of `docker compose ps --format json`.
type Container struct {
	Service  string `json:"Service"`
	State    string `json:"State"`
	Health   string `json:"Health"`
	ExitCode int    `json:"ExitCode"`
	// Image is the image the container runs (repository:tag).
	Image string `json:"Image"`
}

// PS lists the project's containers, stopped ones included.
func (s Stack) PS(ctx context.Context) ([]Container, error) {
	if s.Swarm {
		return s.swarmPS(ctx)
	}
	out, err := s.Compose(ctx, "ps", "--all", "--format", "json")
	if err != nil {
		return nil, err
	}
	return parsePS(out)
}

// parsePS reads both forms docker compose has printed: a JSON array
// (before 2.21) and one object per line.
func parsePS(out []byte) ([]Container, error) {
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		return nil, nil
	}
	var cs []Container
	if out[0] == '[' {
		if err := json.Unmarshal(out, &cs); err != nil {
			return nil, fmt.Errorf("reading docker compose ps: %w", err)
		}
		return cs, nil
	}
	for _, line := range bytes.Split(out, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var c Container
		if err := json.Unmarshal(line, &c); err != nil {
			return nil, fmt.Errorf("reading docker compose ps: %w", err)
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// OneShots are the services that run once and exit.
var OneShots = []string{"mongodb-prepare", "mongodb-init"}

// Unhealthy says which of services are not yet as they should be: a
// long-running one running (and healthy, when it has a health check), a
// one-shot exited 0. Empty means the stack is healthy.
func Unhealthy(cs []Container, services []string) []string {
	by := map[string]Container{}
	for _, c := range cs {
		by[c.Service] = c
	}
	var bad []string
	for _, name := range services {
		c, ok := by[name]
		switch {
		case !ok:
			bad = append(bad, name+" (no container)")
		case slices.Contains(OneShots, name) || strings.HasPrefix(name, "mongodb-prepare-"):
			if c.State != "exited" || c.ExitCode != 0 {
				bad = append(bad, fmt.Sprintf("%s (%s, exit %d)", name, c.State, c.ExitCode))
			}
		case c.State != "running":
			bad = append(bad, fmt.Sprintf("%s (%s)", name, c.State))
		case c.Health != "" && c.Health != "healthy":
			bad = append(bad, fmt.Sprintf("%s (%s)", name, c.Health))
		}
	}
	return bad
}

// Down splits out of bad (what Unhealthy reported) the MongoDB members
// that are down for good, as long as they are a minority of members: the
// replica set runs on its majority (mongodb-init goes on without them), so
// the stack serves. A member down for good has exited, restarts, is
// unhealthy or has no container; one whose health check is still starting
// is waited for.
func Down(cs []Container, bad []string, members int) (still, down []string) {
	by := map[string]Container{}
	for _, c := range cs {
		by[c.Service] = c
	}
	var candidates []string
	for _, b := range bad {
		name, _, _ := strings.Cut(b, " ")
		c, ok := by[name]
		gone := !ok || c.State == "exited" || c.State == "dead" || c.State == "restarting" || c.Health == "unhealthy"
		if isMember(name, members) && gone {
			candidates = append(candidates, b)
			continue
		}
		still = append(still, b)
	}
	if len(candidates) > (max(1, members)-1)/2 {
		return bad, nil
	}
	return still, candidates
}

// isMember reports whether service is one of the deployment's MongoDB members.
func isMember(service string, members int) bool {
	for i := 1; i <= max(1, members); i++ {
		if service == fmt.Sprintf("mongodb-%d", i) {
			return true
		}
	}
	return false
}

// WaitHealthy polls until every one of services is healthy, or timeout. A
// minority of MongoDB members down for good does not hold it (see Down): it
// returns once the rest is healthy, and says which members are down.
func (s Stack) WaitHealthy(ctx context.Context, services []string, timeout, poll time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		cs, err := s.PS(ctx)
		if err != nil {
			return err
		}
		bad, down := Down(cs, Unhealthy(cs, services), s.Members)
		if len(bad) == 0 {
			if len(down) > 0 && s.Echo != nil {
				what, it := "member "+down[0]+" is", "it"
				if len(down) > 1 {
					what, it = "members "+strings.Join(down, ", ")+" are", "them"
				}
				fmt.Fprintf(s.Echo, "Warning: MongoDB %s down; the replica set runs on the other %d of %d. Repair %s (docker compose logs %s), then docker compose up -d (README.md: A MongoDB member down).\n",
					what, max(1, s.Members)-len(down), max(1, s.Members), it, serviceNames(down))
			}
			return nil
		}
		if time.Now().Add(poll).After(deadline) {
			see := "docker compose ps; docker compose logs --tail 100 SERVICE"
			if s.Swarm {
				see = fmt.Sprintf("docker service ls; docker service ps %s; docker service logs --tail 100 %s", s.Service("SERVICE"), s.Service("SERVICE"))
			}
			return fmt.Errorf("after %s not healthy: %s (%s)", timeout, strings.Join(append(bad, down...), ", "), see)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// serviceNames is the services of Unhealthy's lines, space-separated.
func serviceNames(lines []string) string {
	var names []string
	for _, l := range lines {
		name, _, _ := strings.Cut(l, " ")
		names = append(names, name)
	}
	return strings.Join(names, " ")
}

// hosts is the replica set's members as the app connects to them.
func (s Stack) hosts() string {
	var h []string
	for i := 1; i <= max(1, s.Members); i++ {
		h = append(h, fmt.Sprintf("mongodb-%d:27017", i))
	}
	return strings.Join(h, ",")
}

// connectJS is the mongosh line that connects as root to the replica set
// from inside mongodb-1 (its password from that container's environment;
// rcgen before its catalog kept it as MONGODB_INITDB_ROOT_PASSWORD).
func (s Stack) connectJS() string {
	return `const c = connect("mongodb://root:" + encodeURIComponent(process.env.MONGODB_ROOT_PASSWORD || process.env.MONGODB_INITDB_ROOT_PASSWORD) + "@` +
		s.hosts() + `/admin?replicaSet=` + render.ReplicaSet + `&authSource=admin");`
}

// VersionsJS prints the running mongod's version and FCV as JSON.
func (s Stack) VersionsJS() string {
	return s.connectJS() + ` print(JSON.stringify({ version: c.version(), fcv: c.adminCommand({ getParameter: 1, featureCompatibilityVersion: 1 }).featureCompatibilityVersion.version }));`
}

// SetFCVJS sets featureCompatibilityVersion (confirm: true, which MongoDB
// 7.0 and later require) and prints the result.
func (s Stack) SetFCVJS(series string) string {
	b, _ := json.Marshal(series)
	return s.connectJS() + ` print(JSON.stringify(c.adminCommand({ setFeatureCompatibilityVersion: ` + string(b) + `, confirm: true })));`
}

// Mongo runs js with mongosh in a member that runs (mongodb-1 when it
// does; js connects to the whole set) and returns what it printed.
func (s Stack) Mongo(ctx context.Context, js string) ([]byte, error) {
	if s.Swarm {
		return s.execBackup(ctx, "sh", "-c", swarmMongoSh, "sh", js)
	}
	return s.Compose(ctx, "exec", "-T", s.runningMember(ctx), "mongosh", "--quiet", "--norc", "--nodb", "--eval", js)
}

// runningMember is the first member that runs and is not unhealthy, so one
// dead member does not stop rcgen's commands; mongodb-1 when none is (or
// docker compose ps fails), for docker's own error to name.
func (s Stack) runningMember(ctx context.Context) string {
	cs, err := s.PS(ctx)
	if err == nil {
		by := map[string]Container{}
		for _, c := range cs {
			by[c.Service] = c
		}
		for i := 1; i <= max(1, s.Members); i++ {
			name := fmt.Sprintf("mongodb-%d", i)
			if c, ok := by[name]; ok && c.State == "running" && c.Health != "unhealthy" {
				return name
			}
		}
	}
	return "mongodb-1"
}

// Versions reads what MongoDB runs: mongod's version and the FCV.
func (s Stack) Versions(ctx context.Context) (version, fcv string, err error) {
	out, err := s.Mongo(ctx, s.VersionsJS())
	if err != nil {
		return "", "", err
	}
	var v struct{ Version, FCV string }
	if err := json.Unmarshal(lastLine(out), &v); err != nil || v.Version == "" {
		return "", "", fmt.Errorf("reading MongoDB's version: unexpected answer %q", strings.TrimSpace(string(out)))
	}
	return v.Version, v.FCV, nil
}

// SetFCV sets featureCompatibilityVersion and checks it took.
func (s Stack) SetFCV(ctx context.Context, series string) error {
	out, err := s.Mongo(ctx, s.SetFCVJS(series))
	if err != nil {
		return err
	}
	var r struct {
		OK     float64 `json:"ok"`
		ErrMsg string  `json:"errmsg"`
	}
	if err := json.Unmarshal(lastLine(out), &r); err != nil || r.OK != 1 {
		return fmt.Errorf("setting featureCompatibilityVersion %s failed: %s", series, strings.TrimSpace(string(out)))
	}
	if _, fcv, err := s.Versions(ctx); err != nil || fcv != series {
		return fmt.Errorf("featureCompatibilityVersion is %q after setting %s (%v)", fcv, series, err)
	}
	return nil
}

func lastLine(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return bytes.TrimSpace(lines[len(lines)-1])
}

// Restore restores backups/name through the backup service (mode full or
// database) and returns what the restored database counts.
func (s Stack) Restore(ctx context.Context, name string, mode backup.Mode) (backup.Counts, error) {
	out, err := s.execBackup(ctx, "sh", BackupScript, "restore", name, string(mode))
	if err != nil {
		return backup.Counts{}, err
	}
	var c backup.Counts
	if err := json.Unmarshal(lastLine(out), &c); err != nil {
		return backup.Counts{}, fmt.Errorf("the restore printed no counts (%q)", strings.TrimSpace(string(out)))
	}
	return c, nil
}

// BackupScript is the backup service's script as its container sees it.
const BackupScript = "/rcgen/backup.sh"

// Backup takes a backup now through the backup service and returns the
// new file's name (in backups/).
func (s Stack) Backup(ctx context.Context, label string) (string, error) {
	out, err := s.execBackup(ctx, "sh", BackupScript, "now", label)
	if err != nil {
		return "", err
	}
	name := string(lastLine(out))
	if !strings.HasSuffix(name, ".tar") || strings.ContainsAny(name, "/ ") {
		return "", fmt.Errorf("the backup service answered %q, not a backup's name", name)
	}
	return name, nil
}

// OffsiteService copies the backups off the host (backup_target).
const OffsiteService = "backup-offsite"

// OffsiteCopy is one backup at the offsite target.
type OffsiteCopy struct {
	Name string `json:"name"`
	Size int64  `json:"size_bytes"`
}

// OffsiteList lists the deployment's backups at the offsite target,
// oldest first, through the backup-offsite service (rclone there).
func (s Stack) OffsiteList(ctx context.Context) ([]OffsiteCopy, error) {
	out, err := s.execIn(ctx, OffsiteService, "sh", BackupScript, "offsite-list")
	if err != nil {
		return nil, err
	}
	var list []OffsiteCopy
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l == "" {
			continue
		}
		size, name, ok := strings.Cut(l, " ")
		n, err := strconv.ParseInt(size, 10, 64)
		if !ok || err != nil || n < 0 || !strings.HasSuffix(name, ".tar") || strings.ContainsAny(name, "/ ") {
			return nil, fmt.Errorf("the backup-offsite service listed %q, not a backup's size and name", l)
		}
		list = append(list, OffsiteCopy{Name: name, Size: n})
	}
	return list, nil
}

// Fetch copies the backup name from the offsite target into backups/
// through the backup-offsite service, which checks its size and MD5
// against the target's.
func (s Stack) Fetch(ctx context.Context, name string) error {
	out, err := s.execIn(ctx, OffsiteService, "sh", BackupScript, "fetch", name)
	if err != nil {
		return err
	}
	if got := string(lastLine(out)); got != name {
		return fmt.Errorf("the backup-offsite service answered %q, not %s", got, name)
	}
	return nil
}
