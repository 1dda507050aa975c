package doctor

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
)

// ProxyNetwork checks the external Docker network the operator's proxy
// reaches the app on (--proxy traefik-labels, nginx-proxy,
// caddy-docker-proxy): it must exist before `docker compose up` (Compose
// refuses a project whose external network is missing: "network NAME
// declared as external, but could not be found"), be an attachable
// overlay network on Swarm (services of a stack can join only those:
// https://docs.docker.com/engine/network/drivers/overlay/), and hold the
// proxy itself, or the proxy cannot reach the app.
//
// project is the Compose project (the stack on Swarm): its own containers
// on the network are not the proxy. proxy names the proxy as the user
// chose it (traefik-labels...).
func ProxyNetwork(ctx context.Context, sys System, name, proxy, project string, swarm bool) Result {
	r := Result{Name: "proxy network"}
	create := "docker network create " + name
	if swarm {
		create = "docker network create --driver overlay --attachable " + name
	}
	if sys.Docker == nil {
		r.Status, r.Found = Warn, "not checked"
		return r
	}
	// Driver, scope, attachable, then one container name per line.
	out, err := sys.Docker(ctx, "network", "inspect", "--format",
		`{{.Driver}} {{.Scope}} {{.Attachable}}{{range .Containers}}{{"\n"}}{{.Name}}{{end}}`, name)
	var notInstalled *exec.Error
	var exit *exec.ExitError
	switch {
	case errors.As(err, &notInstalled):
		r.Status, r.Found = Warn, "not checked: docker is not installed"
		return r
	case err != nil:
		msg := firstLine(err, out)
		if errors.As(err, &exit) && len(exit.Stderr) > 0 {
			msg = firstLine(nil, exit.Stderr)
		}
		if strings.Contains(strings.ToLower(msg), "not found") || strings.Contains(strings.ToLower(msg), "no such network") {
			r.Status = Fail
			r.Found = fmt.Sprintf("the Docker network %s that %s reaches the app on does not exist (docker compose up would refuse the project)", name, proxy)
			r.Do = fmt.Sprintf("if your proxy runs on another network, name it: `rcgen generate --proxy-network NAME` (docker inspect YOUR-PROXY-CONTAINER --format '{{json .NetworkSettings.Networks}}' lists them); "+
				"else create it (%s) and connect your proxy to it (docker network connect %s YOUR-PROXY-CONTAINER)", create, name)
			return r
		}
		r.Status, r.Found = Warn, fmt.Sprintf("could not inspect the Docker network %s: %s", name, msg)
		r.Do = "check that docker works (docker network ls), then run rcgen doctor again"
		return r
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	head := strings.Fields(lines[0])
	if len(head) < 3 {
		r.Status, r.Found = Warn, fmt.Sprintf("docker network inspect %s answered %q, not its driver, scope and attachable flag", name, lines[0])
		return r
	}
	driver, scope, attachable := head[0], head[1], head[2] == "true"
	if swarm && (driver != "overlay" || scope != "swarm" || !attachable) {
		r.Status = Fail
		r.Found = fmt.Sprintf("the Docker network %s is a %s network of scope %s (attachable %t): a stack's services join only an attachable overlay network", name, driver, scope, attachable)
		r.Do = fmt.Sprintf("create the proxy's network as one (%s) and run the proxy on it, or name the overlay network your proxy uses: `rcgen generate --proxy-network NAME`", create)
		return r
	}
	var others []string
	for _, c := range lines[1:] {
		c = strings.TrimSpace(c)
		if c != "" && !strings.HasPrefix(c, project+"-") && !strings.HasPrefix(c, project+"_") {
			others = append(others, c)
		}
	}
	slices.Sort(others)
	switch {
	case len(others) > 0:
		r.Found = fmt.Sprintf("the Docker network %s exists (%s); on it: %s", name, driver, strings.Join(others, ", "))
	case swarm:
		// docker network inspect lists this node's containers only: the
		// proxy may well run on another node.
		r.Found = fmt.Sprintf("the Docker network %s exists (attachable overlay); no container of this node is on it besides the stack's", name)
	default:
		r.Status = Warn
		r.Found = fmt.Sprintf("the Docker network %s exists, but no container other than this deployment's is on it: %s cannot reach the app", name, proxy)
		r.Do = fmt.Sprintf("connect your proxy's container to it (docker network connect %s YOUR-PROXY-CONTAINER), or name the network your proxy is on: `rcgen generate --proxy-network NAME`", name)
	}
	return r
}
