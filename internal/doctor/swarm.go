package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
)

// swarmNode is one line of `docker node ls --format json`.
type swarmNode struct {
	Hostname      string `json:"Hostname"`
	Status        string `json:"Status"`
	ManagerStatus string `json:"ManagerStatus"`
}

// SwarmLabels are the node labels the plan sw expects, by node: what the
// deployment's README.md has the operator add (Deploy, step 2).
func SwarmLabels(sw *sizing.Swarm, members []string) map[string][]string {
	want := map[string][]string{}
	add := func(node, label string) {
		if node != "" {
			want[node] = append(want[node], label)
		}
	}
	for _, n := range sw.AppNodes {
		add(n, "rcgen.app")
	}
	for i, n := range sw.MemberNodes {
		if i < len(members) {
			add(n, "rcgen."+members[i])
		}
	}
	add(sw.ProxyNode, "rcgen.proxy")
	add(sw.MonitoringNode, "rcgen.monitoring")
	add(sw.BackupNode, "rcgen.backup")
	for n := range want {
		sort.Strings(want[n])
	}
	return want
}

// Swarm checks a Swarm deployment against the swarm Docker talks to (a
// manager): every node of the plan is there and ready, with the labels the
// plan expects and none of those on another node; each MongoDB member's
// task runs on the node its volume is on; the backup node is a manager
// (rcgen's day-two commands need docker exec there and docker service);
// the secrets and configs stack.yaml names exist.
func Swarm(ctx context.Context, sys System, d *deploy.Deployment, project string, sw *sizing.Swarm) []Result {
	if sys.Docker == nil || sw == nil {
		return nil
	}
	out, err := sys.Docker(ctx, "node", "ls", "--format", "json")
	if err != nil {
		return []Result{{Name: "swarm", Status: Warn, Found: fmt.Sprintf("docker node ls failed (%v): the nodes, their labels, secrets and configs were not checked", err),
			Do: "run rcgen doctor on a manager of the swarm (docker node ls answers only there), in this deployment's directory"}}
	}
	nodes := map[string]swarmNode{}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var n swarmNode
		if len(bytes.TrimSpace(line)) == 0 || json.Unmarshal(line, &n) != nil {
			continue
		}
		nodes[n.Hostname] = n
	}
	var rs []Result
	nr := Result{Name: "swarm nodes", Status: OK}
	var missing, notReady []string
	for _, n := range sw.Nodes {
		got, ok := nodes[n.Name]
		switch {
		case !ok:
			missing = append(missing, n.Name)
		case !strings.EqualFold(got.Status, "ready"):
			notReady = append(notReady, fmt.Sprintf("%s (%s)", n.Name, got.Status))
		}
	}
	switch {
	case len(missing) > 0:
		nr.Status, nr.Found = Fail, fmt.Sprintf("the plan's nodes %s are not in this swarm (docker node ls)", strings.Join(missing, ", "))
		nr.Do = "join them (docker swarm join) under those names, or re-run rcgen generate with the inventory the swarm has (nodes: in rcgen.yaml; a member's node changes only when you confirm it)"
	case len(notReady) > 0:
		nr.Status, nr.Found = Warn, "not ready: "+strings.Join(notReady, ", ")
		nr.Do = "bring them back (docker node ls; the services pinned there do not run meanwhile)"
	default:
		nr.Found = fmt.Sprintf("the %d nodes of the plan are in the swarm and ready", len(sw.Nodes))
	}
	rs = append(rs, nr)

	// Labels: one docker node inspect for the plan's nodes that exist.
	var present []string
	for _, n := range sw.Nodes {
		if _, ok := nodes[n.Name]; ok {
			present = append(present, n.Name)
		}
	}
	if len(present) > 0 {
		rs = append(rs, swarmLabels(ctx, sys, d, sw, present))
	}
	rs = append(rs, swarmMembers(ctx, sys, d, project, sw))
	if sw.BackupNode != "" {
		br := Result{Name: "backup node", Status: OK}
		n, ok := nodes[sw.BackupNode]
		switch {
		case !ok:
			br.Status, br.Found = Warn, fmt.Sprintf("the backups are planned on %s, which is not in this swarm", sw.BackupNode)
			br.Do = "join it (see swarm nodes)"
		case n.ManagerStatus == "":
			br.Status, br.Found = Warn, fmt.Sprintf("%s holds the backups and is a worker: rcgen backup, restore and upgrade run docker exec on the backup task's node and docker service, which only a manager answers", sw.BackupNode)
			br.Do = fmt.Sprintf("promote it (docker node promote %s), or give a manager the backup role (NAME=CPUS:MEMORY:backup in nodes: of rcgen.yaml) and re-run rcgen generate", sw.BackupNode)
		default:
			br.Found = fmt.Sprintf("%s, a manager (%s): rcgen's backup commands run there", sw.BackupNode, n.ManagerStatus)
		}
		rs = append(rs, br)
	}
	rs = append(rs, swarmObjects(ctx, sys, d))
	return rs
}

// swarmLabels compares the labels of the nodes with the plan's.
func swarmLabels(ctx context.Context, sys System, d *deploy.Deployment, sw *sizing.Swarm, present []string) Result {
	r := Result{Name: "swarm labels", Status: OK}
	args := append([]string{"node", "inspect", "--format", "{{.Description.Hostname}} {{json .Spec.Labels}}"}, present...)
	out, err := sys.Docker(ctx, args...)
	if err != nil {
		r.Status, r.Found = Warn, fmt.Sprintf("docker node inspect failed: %v", err)
		return r
	}
	have := map[string]map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		host, labels, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		m := map[string]string{}
		_ = json.Unmarshal([]byte(labels), &m)
		have[host] = m
	}
	var members []string
	for i := 1; i <= len(sw.MemberNodes); i++ {
		members = append(members, sizing.MemberName(i))
	}
	want := SwarmLabels(sw, members)
	var add, wrong []string
	for _, n := range present {
		for _, l := range want[n] {
			if have[n][l] != "true" {
				add = append(add, fmt.Sprintf("docker node update --label-add %s=true %s", l, n))
			}
		}
		// A pinning label on a node the plan does not give it: the service
		// could land there (a member away from its data).
		for l := range have[n] {
			if strings.HasPrefix(l, "rcgen.") && have[n][l] == "true" && !slices.Contains(want[n], l) {
				wrong = append(wrong, fmt.Sprintf("docker node update --label-rm %s %s", l, n))
			}
		}
	}
	sort.Strings(wrong)
	switch {
	case len(add) > 0 || len(wrong) > 0:
		r.Status = Fail
		r.Found = fmt.Sprintf("%d labels the plan expects are missing, %d are on nodes the plan does not give them", len(add), len(wrong))
		r.Do = "on a manager: " + strings.Join(append(add, wrong...), "; ") + " (README.md: Deploy, step 2); services pinned by a missing label stay pending"
	default:
		r.Found = "every node carries the labels the plan gives it (README.md: Deploy, step 2)"
	}
	return r
}

// swarmMembers checks that each MongoDB member's task runs on the node
// its data volume is on (stack.yaml's rcgen.node label, the plan's node).
func swarmMembers(ctx context.Context, sys System, d *deploy.Deployment, project string, sw *sizing.Swarm) Result {
	r := Result{Name: "member volumes", Status: OK}
	var bad, unknown []string
	for i, node := range sw.MemberNodes {
		m := sizing.MemberName(i + 1)
		if on := d.Compose.MemberNodes[m]; on != "" && on != node {
			bad = append(bad, fmt.Sprintf("%s: stack.yaml keeps its data on %s, the plan on %s", m, on, node))
		}
		out, err := sys.Docker(ctx, "service", "ps", project+"_"+m, "--filter", "desired-state=running", "--format", "{{.Node}}")
		if err != nil {
			unknown = append(unknown, m)
			continue
		}
		runs := strings.Fields(string(out))
		switch {
		case len(runs) == 0:
			unknown = append(unknown, m)
		case runs[0] != node:
			bad = append(bad, fmt.Sprintf("%s runs on %s, and its volume is on %s", m, runs[0], node))
		}
	}
	switch {
	case len(bad) > 0:
		r.Status, r.Found = Fail, strings.Join(bad, "; ")
		r.Do = fmt.Sprintf("a member away from its volume starts empty: fix the node labels (swarm labels) so each rcgen.mongodb-N is on its node only, then restart the member there: docker service scale %s_mongodb-N=0, then =1", project)
	case len(unknown) > 0:
		r.Status, r.Found = Warn, fmt.Sprintf("no task of %s runs (docker service ps)", strings.Join(unknown, ", "))
		r.Do = "deploy the stack (README.md: Deploy, step 4), or see docker service ps for why a member does not run"
	default:
		r.Found = fmt.Sprintf("each of the %d members runs on the node its volume is on", len(sw.MemberNodes))
	}
	return r
}

// swarmObjects checks that the configs and secrets stack.yaml names exist.
func swarmObjects(ctx context.Context, sys System, d *deploy.Deployment) Result {
	r := Result{Name: "swarm secrets and configs", Status: OK}
	b, err := os.ReadFile(filepath.Join(d.Dir, render.StackFile))
	if err != nil {
		r.Status, r.Found = Warn, fmt.Sprintf("could not read %s: %v", render.StackFile, err)
		return r
	}
	var doc struct {
		Configs map[string]struct {
			Name string `yaml:"name"`
		} `yaml:"configs"`
		Secrets map[string]struct {
			Name string `yaml:"name"`
		} `yaml:"secrets"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		r.Status, r.Found = Warn, fmt.Sprintf("%s does not parse: %v", render.StackFile, err)
		return r
	}
	var missing []string
	for _, kind := range []struct {
		what  string
		names []string
	}{{"secret", names(doc.Secrets)}, {"config", names(doc.Configs)}} {
		out, err := sys.Docker(ctx, kind.what, "ls", "--format", "{{.Name}}")
		if err != nil {
			r.Status, r.Found = Warn, fmt.Sprintf("docker %s ls failed: %v", kind.what, err)
			return r
		}
		have := strings.Fields(string(out))
		for _, n := range kind.names {
			if !slices.Contains(have, n) {
				missing = append(missing, kind.what+" "+n)
			}
		}
	}
	if len(missing) > 0 {
		r.Status, r.Found = Warn, fmt.Sprintf("%d of the secrets and configs %s names are not in the swarm: %s", len(missing), render.StackFile, strings.Join(missing, ", "))
		r.Do = "docker stack deploy creates them from the files here (README.md: Deploy, step 4); until then the services run what the last deploy gave them"
		return r
	}
	r.Found = fmt.Sprintf("the %d secrets and %d configs %s names are in the swarm", len(doc.Secrets), len(doc.Configs), render.StackFile)
	return r
}

func names(m map[string]struct {
	Name string `yaml:"name"`
}) []string {
	var n []string
	for _, v := range m {
		n = append(n, v.Name)
	}
	sort.Strings(n)
	return n
}
