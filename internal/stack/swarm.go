package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A Swarm stack is reached through a manager (docker service, docker
// stack) and, for what runs inside the backup service, through docker exec
// into its task's container, which the Docker of its node alone sees.

// Docker runs docker args, echoed first.
func (s Stack) Docker(ctx context.Context, args ...string) ([]byte, error) {
	if s.Echo != nil {
		fmt.Fprintln(s.Echo, "+ docker "+Quote(args...))
	}
	out, err := s.Run(ctx, s.Dir, args...)
	if err != nil {
		return out, fmt.Errorf("docker %s: %w", Quote(args...), err)
	}
	return out, nil
}

// Service is the name Swarm gives service of the stack.
func (s Stack) Service(service string) string { return s.Project + "_" + service }

// ServiceLine is one line of `docker service ls --format json`.
type ServiceLine struct {
	Name     string `json:"Name"`
	Mode     string `json:"Mode"`
	Replicas string `json:"Replicas"`
	Image    string `json:"Image"`
}

// replicasRe reads the REPLICAS column: running/desired, with
// "(N/M completed)" for a job or "(max N per node)" (docker/cli
// cli/command/service/formatter.go, Replicas).
var replicasRe = regexp.MustCompile(`^(\d+)/(\d+)(?: \((\d+)/(\d+) completed\))?`)

// swarmPS lists the stack's services as containers: a service whose
// tasks all run (Swarm counts a task with a health check as running once
// it is healthy) is "running", a job whose tasks all completed "exited"
// with 0, anything else how many of its tasks run or completed (never
// down for good: Swarm restarts it, and the wait ends at its deadline).
func (s Stack) swarmPS(ctx context.Context) ([]Container, error) {
	out, err := s.Docker(ctx, "service", "ls", "--filter", "label=com.docker.stack.namespace="+s.Project, "--format", "json")
	if err != nil {
		return nil, err
	}
	var cs []Container
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var l ServiceLine
		if err := json.Unmarshal(line, &l); err != nil {
			return nil, fmt.Errorf("reading docker service ls: %w", err)
		}
		name, ok := strings.CutPrefix(l.Name, s.Project+"_")
		if !ok {
			continue
		}
		c := Container{Service: name, State: "starting", Health: "starting"}
		if m := replicasRe.FindStringSubmatch(l.Replicas); m != nil {
			running, _ := strconv.Atoi(m[1])
			desired, _ := strconv.Atoi(m[2])
			switch {
			case m[3] != "":
				c.State, c.Health = fmt.Sprintf("%s of %s completed", m[3], m[4]), ""
				if m[3] == m[4] {
					c.State = "exited"
				}
			case desired > 0 && running == desired:
				c.State, c.Health = "running", ""
			case desired == 0:
				c.State, c.Health = "stopped (0 replicas)", ""
			default:
				c.State = fmt.Sprintf("%d of %d tasks running", running, desired)
			}
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// BackupContainer finds the container of the backup service's task on
// this node: docker exec reaches no other node's. When it runs elsewhere,
// the error names the node, from docker service ps.
func (s Stack) BackupContainer(ctx context.Context) (string, error) {
	return s.TaskContainer(ctx, "backup")
}

// TaskContainer finds the container of service's running task on this
// node (the backup services run on the node labelled rcgen.backup).
func (s Stack) TaskContainer(ctx context.Context, service string) (string, error) {
	svc := s.Service(service)
	out, err := s.Docker(ctx, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+svc, "--filter", "status=running")
	if err != nil {
		return "", err
	}
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		return ids[0], nil
	}
	nodes, err := s.Docker(ctx, "service", "ps", svc, "--filter", "desired-state=running", "--format", "{{.Node}}")
	if err != nil {
		return "", fmt.Errorf("no container of %s runs on this node, and docker service ps %s failed (%w): run rcgen on a manager, on the node labelled rcgen.backup (README.md: Backups)", svc, svc, err)
	}
	if n := strings.Fields(string(nodes)); len(n) > 0 {
		return "", fmt.Errorf("the %s service's task runs on node %s, and docker exec reaches only the containers of the node Docker runs on: run this on %s (a manager, with a copy of this deployment's directory; README.md: Backups)", service, n[0], n[0])
	}
	return "", fmt.Errorf("no task of %s runs (docker service ps %s): deploy the stack (README.md: Deploy) and wait until it runs", svc, svc)
}

// execBackup runs args in the backup service's container.
func (s Stack) execBackup(ctx context.Context, args ...string) ([]byte, error) {
	return s.execIn(ctx, "backup", args...)
}

// execIn runs args in service's container: docker compose exec, or on
// Swarm docker exec in its task's container on this node.
func (s Stack) execIn(ctx context.Context, service string, args ...string) ([]byte, error) {
	if !s.Swarm {
		return s.Compose(ctx, append([]string{"exec", "-T", service}, args...)...)
	}
	id, err := s.TaskContainer(ctx, service)
	if err != nil {
		return nil, err
	}
	return s.Docker(ctx, append([]string{"exec", id}, args...)...)
}

// swarmMongoSh runs mongosh in the backup service's container (MongoDB's
// image, on the internal network), the root password from its secret.
const swarmMongoSh = `MONGODB_ROOT_PASSWORD="$(cat "$MONGODB_ROOT_PASSWORD_FILE")" exec mongosh --quiet --norc --nodb --eval "$1"`

// ScaleApps sets the app service's replicas and waits for Swarm to
// converge (docker service scale --detach=false).
func (s Stack) ScaleApps(ctx context.Context, replicas int) error {
	_, err := s.Docker(ctx, "service", "scale", "--detach=false", fmt.Sprintf("%s=%d", s.Service("rocketchat"), replicas))
	return err
}

// UpdateImage rolls service onto image as its update_config says and
// waits for it (docker service update --detach=false); a task that fails
// its health check rolls the service back where update_config says so.
func (s Stack) UpdateImage(ctx context.Context, service, image string) error {
	_, err := s.Docker(ctx, "service", "update", "--detach=false", "--image", image, s.Service(service))
	return err
}

// UpdateEnv sets environment variables of service (docker service
// update --env-add), waiting for it.
func (s Stack) UpdateEnv(ctx context.Context, service string, env ...string) error {
	args := []string{"service", "update", "--detach=false"}
	for _, e := range env {
		args = append(args, "--env-add", e)
	}
	_, err := s.Docker(ctx, append(args, s.Service(service))...)
	return err
}

// Volume is the directory of the stack's volume name on this node
// (docker volume inspect), or an error naming where it is not.
func (s Stack) Volume(ctx context.Context, name string) (string, error) {
	vol := s.Service(name)
	out, err := s.Docker(ctx, "volume", "inspect", "--format", "{{.Mountpoint}}", vol)
	if err != nil {
		return "", fmt.Errorf("volume %s is not on this node (%w): the backups are on the node labelled rcgen.backup; run this there (README.md: Backups)", vol, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("docker volume inspect %s names no directory", vol)
	}
	return dir, nil
}
