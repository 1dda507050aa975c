package sizing

import (
	"strings"

	"github.com/rcgen/rcgen/internal/spec"
)

// ComputeKube sizes a Kubernetes deployment over the inventory of the
// nodes it may use. The placement is the Swarm target's (ComputeSwarm):
// each MongoDB member on a node of its own, one memory limit for every app
// pod (a Deployment has one pod template, as a Swarm service has one
// limit), as many app pods as the nodes fit with a core left to a member.
// The cluster's ingress controller serves users: no proxy of rcgen's, and
// node metrics are the cluster's own (kube-prometheus-stack's node
// exporter), so neither is budgeted. The plan carries the placement in
// Kube, not Swarm, and speaks of pods.
func ComputeKube(nodes spec.Nodes, in Inputs) (Plan, error) {
	in.Proxy, in.Traefik = false, false
	p, err := ComputeSwarm(nodes, in)
	if err != nil {
		return Plan{}, err
	}
	p.Kube, p.Swarm = p.Swarm, nil
	words := strings.NewReplacer(
		"a Swarm service has one limit for all its tasks", "a Deployment has one pod template for all its pods",
		"Swarm restarts it elsewhere when its node dies", "Kubernetes reschedules it when its node dies",
		"app tasks", "app pods", "app task", "app pod", "per task", "per pod", "Swarm", "Kubernetes")
	// Rollouts are the Deployment's (one pod more, none less, while the
	// old ones serve): Swarm's update slots do not apply.
	p.ProcessesReason, _, _ = strings.Cut(p.ProcessesReason, "; updates roll")
	p.ProcessesReason = kubeWords(words, p.ProcessesReason)
	p.AppReason = kubeWords(words, p.AppReason)
	p.UsersCapacityReason = kubeWords(words, p.UsersCapacityReason)
	p.MongoDBReason = kubeWords(words, p.MongoDBReason)
	p.MongoDBCPUReason = kubeWords(words, p.MongoDBCPUReason)
	p.ReserveReason = "on every node, left to the OS, the kubelet and the page cache: " + reserveRule
	for i, w := range p.Warnings {
		p.Warnings[i] = kubeWords(words, w)
	}
	var services []Budget
	for _, b := range p.Services {
		switch b.Service {
		case NodeExporter:
			continue
		case MongoDBPrepare:
			// The keyfile is copied to mode 0400 by an init container of
			// each member; no job runs as root.
			b.Memory, b.OneShot = 64*spec.MiB, true
			b.Reason = "init container of each member: copies the keyfile from its Secret with mode 0400 for mongod, then exits"
		case MongoDBInit:
			b.Reason = "Job: mongosh initiates the replica set, grows it and creates the users, then exits"
		case Prometheus, Grafana, Alertmanager:
			if in.ClusterMonitoring {
				b.Reason = "not run by rcgen: the cluster's Prometheus operator stack monitors the deployment (kube_monitoring operator); its load here, for the cluster's sizing"
			}
		}
		b.Reason = kubeWords(words, b.Reason)
		services = append(services, b)
	}
	p.Services = services
	var targets []string
	for _, t := range p.ScrapeTargets {
		if t != NodeExporter {
			targets = append(targets, t)
		}
	}
	p.ScrapeTargets = targets
	for i := range p.Kube.Nodes {
		n := &p.Kube.Nodes[i]
		n.Services = slicesDelete(n.Services, NodeExporter)
		if in.ClusterMonitoring {
			for _, x := range []string{Prometheus, Grafana, Alertmanager} {
				n.Services = slicesDelete(n.Services, x)
			}
		}
		n.Reason = kubeWords(words, n.Reason)
	}
	return p, nil
}

func kubeWords(r *strings.Replacer, s string) string { return r.Replace(s) }

func slicesDelete(s []string, v string) []string {
	var out []string
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}
