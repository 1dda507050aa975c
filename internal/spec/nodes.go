package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Targets: where the deployment runs.
const (
	TargetCompose = "compose" // one host, docker compose
	TargetSwarm   = "swarm"   // several hosts, docker stack deploy
	// TargetKubernetes is a directory `kubectl apply -k` deploys on a
	// cluster's nodes (the same inventory as Swarm's).
	TargetKubernetes = "kubernetes"
)

// Node roles a node may be labelled with in the inventory: the services
// rcgen may pin to it. Without any label of a role, rcgen chooses.
const (
	RoleDB         = "db"
	RoleProxy      = "proxy"
	RoleMonitoring = "monitoring"
	// RoleBackup holds the backup service and its archives.
	RoleBackup = "backup"
)

var roles = []string{RoleDB, RoleProxy, RoleMonitoring, RoleBackup}

// Node is one Swarm node of the inventory: NAME=CPUS:MEMORY[:ROLE,ROLE].
type Node struct {
	Name   string
	CPUs   float64
	Memory int64
	Roles  []string
	// text is what was given, kept for rcgen.yaml and messages.
	text string
}

// Has reports whether the node is labelled with role.
func (n Node) Has(role string) bool { return slices.Contains(n.Roles, role) }

func (n Node) String() string {
	if n.text != "" {
		return n.text
	}
	s := fmt.Sprintf("%s=%s:%s", n.Name, strconv.FormatFloat(n.CPUs, 'f', -1, 64), FormatBytes(n.Memory))
	if len(n.Roles) > 0 {
		s += ":" + strings.Join(n.Roles, ",")
	}
	return s
}

// nodeNameRe: Docker node names are host names.
var nodeNameRe = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62}[a-zA-Z0-9])?$`)

// ParseNode reads NAME=CPUS:MEMORY[:ROLE,ROLE] (e.g. node-1=4:8GiB:db).
func ParseNode(s string) (Node, error) {
	usage := "give NAME=CPUS:MEMORY[:ROLES], e.g. node-1=4:8GiB or node-1=4:8GiB:db,proxy"
	name, rest, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return Node{}, fmt.Errorf("%q has no node name: %s", s, usage)
	}
	if !nodeNameRe.MatchString(name) {
		return Node{}, fmt.Errorf("%q: %q is not a node's host name (letters, digits, dots and dashes)", s, name)
	}
	parts := strings.Split(rest, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Node{}, fmt.Errorf("%q: %s", s, usage)
	}
	var c Cores
	if err := c.Set(parts[0]); err != nil {
		return Node{}, fmt.Errorf("%q: cores %v", s, err)
	}
	mem, err := ParseMemory(parts[1])
	if err != nil {
		return Node{}, fmt.Errorf("%q: memory %v", s, err)
	}
	n := Node{Name: name, CPUs: c.Value(), Memory: mem, text: s}
	if len(parts) == 3 {
		for _, r := range strings.Split(parts[2], ",") {
			if !slices.Contains(roles, r) {
				return Node{}, fmt.Errorf("%q: %q is not a role rcgen knows: use %s", s, r, strings.Join(roles, ", "))
			}
			if !slices.Contains(n.Roles, r) {
				n.Roles = append(n.Roles, r)
			}
		}
	}
	return n, nil
}

// Nodes is the Swarm inventory. As a flag (--node, repeated) each value
// adds a node; in rcgen.yaml it is a list of the same strings.
type Nodes []Node

// Set adds a node (pflag.Value).
func (ns *Nodes) Set(s string) error {
	n, err := ParseNode(s)
	if err != nil {
		return err
	}
	for _, o := range *ns {
		if o.Name == n.Name {
			return fmt.Errorf("%q: node %s is given twice: each node once", s, n.Name)
		}
	}
	if n.Memory < MinHostMemory {
		return fmt.Errorf("%q: node %s has %s, and a node of this deployment needs at least %s", s, n.Name, FormatBytes(n.Memory), FormatBytes(MinHostMemory))
	}
	*ns = append(*ns, n)
	return nil
}

func (ns Nodes) String() string {
	var s []string
	for _, n := range ns {
		s = append(s, n.String())
	}
	return strings.Join(s, " ")
}

// Type names the flag's value in help.
func (ns Nodes) Type() string { return "NAME=CPUS:MEMORY[:ROLES]" }

// MarshalYAML writes the nodes as the strings they were given as.
func (ns Nodes) MarshalYAML() (any, error) {
	var s []string
	for _, n := range ns {
		s = append(s, n.String())
	}
	return s, nil
}

// UnmarshalYAML reads a list of node strings, each checked.
func (ns *Nodes) UnmarshalYAML(v *yaml.Node) error {
	var s []string
	if err := v.Decode(&s); err != nil {
		return fmt.Errorf("the value is not a list of nodes: give e.g. [\"node-1=4:8GiB\", \"node-2=4:8GiB\"]")
	}
	var out Nodes
	for _, x := range s {
		if err := out.Set(x); err != nil {
			return err
		}
	}
	*ns = out
	return nil
}

// checkTarget checks what the target asks of the other answers.
func (a Answers) checkTarget() []error {
	var errs []error
	add := func(key, msg string) { errs = append(errs, &FieldError{Key: key, Msg: msg}) }
	errs = append(errs, a.checkKube()...)
	if !a.Swarm() && !a.Kubernetes() {
		if len(a.Nodes) > 0 {
			add(KeyNodes, "a node inventory is for the Swarm and Kubernetes targets: give {target} swarm or kubernetes too, or leave the nodes out (the compose target sizes one host)")
		}
		return errs
	}
	if len(a.Nodes) == 0 {
		add(KeyNodes, fmt.Sprintf("the %s target needs the nodes it runs on: give each as NAME=CPUS:MEMORY, e.g. node-1=4:8GiB", targetWord(a.Target)))
	}
	if a.Kubernetes() {
		if a.Proxy != ProxyCaddy {
			add(KeyProxy, fmt.Sprintf("on Kubernetes the cluster's ingress controller serves users, not a proxy of rcgen's: leave {proxy} out (it is %s) and choose the controller with {ingress}", a.Proxy))
		}
		if a.LoopbackOnly() {
			add(KeyDomain, "a Kubernetes deployment serves users through the cluster's ingress: give the public {domain}")
		}
		if !a.CPUs.IsZero() || !a.Memory.IsZero() {
			add(KeyCPUs, "on Kubernetes each node is sized from the inventory: leave out {cpus} and {memory}, give them per node")
		}
		return errs
	}
	if a.Proxy != ProxyCaddy && a.Proxy != ProxyTraefikLabels {
		add(KeyProxy, fmt.Sprintf("the Swarm stack keeps a proxy with sticky sessions in front (Swarm's routing mesh balances each connection anew, and Rocket.Chat needs them): use {proxy} caddy, or traefik-labels for your own Traefik's Swarm provider, instead of %s", a.Proxy))
	}
	if a.LoopbackOnly() {
		add(KeyDomain, "a Swarm stack serves users on the network, and its proxy publishes on every interface of its node: give the public {domain}")
	}
	if !a.CPUs.IsZero() || !a.Memory.IsZero() {
		add(KeyCPUs, "on Swarm each node is sized from the inventory: leave out {cpus} and {memory}, give them per node")
	}
	return errs
}

// MinHostMemory is the least memory rcgen plans a host or a node with.
const MinHostMemory = 2 * GiB

func targetWord(t string) string {
	if t == TargetKubernetes {
		return "Kubernetes"
	}
	return "Swarm"
}
