package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/generate"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// PlanOptions holds the flags of `rcgen plan`.
type PlanOptions struct {
	Env   Env
	JSON  bool
	flags *answerFlags
	given []spec.Layer
	early error
}

// PlanJSONVersion is the version of the `rcgen plan --json` object. It only
// changes when a field is removed or changes meaning; new fields may appear.
const PlanJSONVersion = 1

// planJSON is the documented, stable output of `rcgen plan --json`.
type planJSON struct {
	Version int         `json:"version"`
	Plan    sizing.Plan `json:"plan"`
	// TotalBytes and UsableBytes let scripts check the fit without redoing
	// the sums.
	TotalBytes  int64 `json:"total_bytes"`
	UsableBytes int64 `json:"usable_bytes"`
	// The release deployed and the MongoDB it runs on, with the reasons
	// the table gives ("Rocket.Chat release", "MongoDB version").
	RocketChatVersion       string `json:"rocketchat_version"`
	RocketChatVersionReason string `json:"rocketchat_version_reason"`
	MongoDBVersion          string `json:"mongodb_version"`
	MongoDBVersionReason    string `json:"mongodb_version_reason"`
}

func newPlanCmd(env Env) *cobra.Command {
	o := &PlanOptions{Env: env}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show the detected host and the sizing plan, with a reason for every number",
		Long: `Detect the host (or take --cpus and --memory), compute the plan that
'rcgen generate' would use, and print it as a table with a reason for every
number, or as JSON with --json. With --target swarm and a --node for each
Swarm node, the plan places every service on its node, as generate would.
Nothing is written.`,
		Example: `  rcgen plan
  rcgen plan --cpus 8 --memory 16GiB --license-file rocketchat.license --users 800
  rcgen plan --target swarm --node node-1=4:8GiB --node node-2=4:8GiB --node node-3=4:8GiB:backup
  rcgen plan --json | jq .plan.processes`,
		Args: noArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			given, ferr := o.flags.givenLayers(o.Env.IO.In)
			o.given = given
			// plan never asks: these wait for the requirements between
			// answers and are reported with them.
			o.early = uniqueJoin(ferr, o.flags.checkGiven(given))
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	o.flags = newAnswerFlags(f)
	o.flags.bindSizing()
	o.flags.bindTarget()
	o.flags.bindForce("plan for a host below the absolute minimum", forceMemory)
	f.BoolVar(&o.JSON, "json", false, "print the plan as JSON (a stable, versioned object) for scripts")
	return cmd
}

// Run prints the plan.
func (o *PlanOptions) Run(context.Context) error {
	a, origins, err := spec.Resolve(o.given...)
	if err != nil {
		return usage(err)
	}
	pr := presenter{flags: o.flags, origins: origins}
	explain := pr.explain
	if _, given := origins[spec.KeyDomain]; a.Cluster() && !given {
		// A Swarm stack needs a public domain (and an ACME email), which
		// no number of the plan depends on: plan takes neither flag, so a
		// stand-in lets it size the nodes; generate asks for both.
		a.Domain = "chat.example.com"
		if _, given := origins[spec.KeyEmail]; !given {
			a.Email = "admin@example.com"
		}
	}
	if err := uniqueJoin(o.early, explain(generate.Prepare(&a, nil))); err != nil {
		return err
	}
	h, err := host(o.Env, a)
	if err != nil {
		return err
	}
	p, err := generate.Plan(generate.Request{Answers: a, Host: h, Force: o.flags.force.Has(forceMemory)})
	if err != nil {
		return explain(err)
	}
	// A plan is for a new deployment: warn about a release whose MongoDB
	// would strand it, as generate does.
	step, err := stepOf(nil, a)
	if err != nil {
		return explain(wordStep(err, a))
	}
	p.Warnings = append(p.Warnings, step.Warnings...)
	supportNote(o.Env, nil, a)
	rel := pr.releases(a, nil, "")
	if o.JSON {
		if p.Warnings == nil {
			p.Warnings = []string{}
		}
		out := planJSON{Version: PlanJSONVersion, Plan: p, TotalBytes: p.Total(), UsableBytes: p.Usable(),
			RocketChatVersion: rel.RocketChat, RocketChatVersionReason: rel.RocketChatWhy,
			MongoDBVersion: rel.MongoDB, MongoDBVersionReason: rel.MongoDBWhy}
		enc := json.NewEncoder(o.Env.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return WritePlanTable(o.Env.IO.Out, p, rel)
}

// releaseRows are the plan table's rows about what is deployed: the
// Rocket.Chat release and the MongoDB it runs on, each with its reason.
type releaseRows struct {
	RocketChat, RocketChatWhy string
	// RocketChatSee is the command the table points people to after the
	// reason ("rcgen versions lists the releases"); --json leaves it out.
	RocketChatSee       string
	MongoDB, MongoDBWhy string
}

// releases says which Rocket.Chat release and MongoDB version the answers
// deploy (on d, an existing deployment, when not nil; on the MongoDB
// series mongo when the run's step keeps it, see stepOf) and why, naming
// the answer the way it was given.
func (pr presenter) releases(a spec.Answers, d *deploy.Deployment, mongo string) releaseRows {
	v := a.RocketChatVersion
	var from string
	switch o := pr.origins[spec.KeyVersion]; o.Kind {
	case spec.FromDeployment:
		from = "the release this deployment runs (its " + spec.FileName + ")"
	case spec.FromConfig:
		from = fmt.Sprintf("%s from %s, line %d", spec.KeyVersion, o.Name, o.Line)
	case spec.FromFlag:
		from = "given by " + pr.flagWord(spec.KeyVersion)
	case spec.FromWizard:
		from = "chosen in the wizard"
	default:
		from = "rcgen's default release: " + catalog.DefaultReason()
	}
	if o := pr.origins[spec.KeyVersion]; o.Word != "" {
		// The word was resolved when read: rcgen.yaml records the release.
		from = fmt.Sprintf("%s (%s, %s)", from, o.Word, o.WordMeaning)
	}
	rows := releaseRows{RocketChat: v}
	line, known := catalog.Lookup(v)
	if known {
		lts := ""
		if line.LTS {
			lts = "LTS, "
		}
		rows.RocketChatWhy = fmt.Sprintf("%s; %ssupported to %s", from, lts, line.EndOfSupport)
		rows.RocketChatSee = "rcgen versions lists the releases"
	} else {
		line = catalog.Newest()
		rows.RocketChatWhy = from + "; newer than every release in rcgen's catalog, so untested"
		rows.RocketChatSee = "rcgen versions lists the tested ones"
	}
	s, err := catalog.MongoDBFor(v)
	if err != nil {
		return rows // reported by the answer's own check
	}
	rows.MongoDB = s.Tag
	rows.MongoDBWhy = fmt.Sprintf("the newest MongoDB Rocket.Chat %s declares (%s) that rcgen pins; end of life %s", line.Line, strings.Join(line.MongoDB, ", "), s.EndOfLife)
	if kept, ok := catalog.Series(mongo); ok && mongo != s.Series {
		rows.MongoDB = kept.Tag
		rows.MongoDBWhy = fmt.Sprintf("this deployment runs %s, which Rocket.Chat %s runs on; MongoDB moves to %s by later steps (see the warnings); end of life %s", kept.Series, v, s.Series, kept.EndOfLife)
		return rows
	}
	if d != nil {
		if kept, note, err := d.MongoDB(v); err == nil && note != "" {
			rows.MongoDB = kept.Tag
			if kept.Series != s.Series {
				rows.MongoDBWhy = fmt.Sprintf("this deployment runs %s, and MongoDB cannot move back (see the warnings); end of life %s", kept.Series, kept.EndOfLife)
			} else {
				rows.MongoDBWhy += "; one feature version up from what this deployment runs (see the warnings)"
			}
		}
	}
	return rows
}

// WritePlanTable prints the host and the plan as aligned tables with a
// reason column: the view `rcgen plan` and the wizard show.
func WritePlanTable(w io.Writer, p sizing.Plan, rel releaseRows) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tVALUE\tSOURCE\tALL READINGS")
	fmt.Fprintf(tw, "cores\t%s\t%s\t%s\n", sizing.FormatCores(p.Host.CPUs), p.Host.CPUSource, readings(p.Host.CPUReadings, false))
	fmt.Fprintf(tw, "memory\t%s\t%s\t%s\n", spec.FormatBytes(p.Host.Memory), p.Host.MemorySource, readings(p.Host.MemoryReadings, true))
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "PLAN\tVALUE\tWHY")
	why := rel.RocketChatWhy
	if rel.RocketChatSee != "" {
		why += " (" + rel.RocketChatSee + ")"
	}
	fmt.Fprintf(tw, "Rocket.Chat release\t%s\t%s\n", rel.RocketChat, why)
	if rel.MongoDB != "" {
		fmt.Fprintf(tw, "MongoDB version\t%s\t%s\n", rel.MongoDB, rel.MongoDBWhy)
	}
	fmt.Fprintf(tw, "OS and Docker reserve\t%s\t%s\n", spec.FormatBytes(p.Reserve), p.ReserveReason)
	fmt.Fprintf(tw, "serves about\t%d users\t%s\n", p.UsersCapacity, p.UsersCapacityReason)
	fmt.Fprintf(tw, "app processes\t%d\t%s\n", p.Processes, p.ProcessesReason)
	fmt.Fprintf(tw, "memory per app process\t%s (heap %dMiB)\t%s\n", spec.FormatBytes(p.AppMemory), p.AppHeapMiB, p.AppReason)
	fmt.Fprintf(tw, "MongoDB members\t%d\t%s\n", p.MongoDBMembers, membersReason(p.MongoDBMembers))
	fmt.Fprintf(tw, "MongoDB memory per member\t%s\t%s\n", spec.FormatBytes(p.MongoDBMemory), p.MongoDBReason)
	fmt.Fprintf(tw, "MongoDB WiredTiger cache\t%.2fGB\t%s\n", p.MongoDBCacheGB, p.MongoDBCacheReason)
	fmt.Fprintf(tw, "MongoDB CPUs\t%s\t%s\n", sizing.FormatCores(p.MongoDBCPUs), p.MongoDBCPUReason)
	if p.LogsReason != "" {
		logs := "on"
		if !p.Logs {
			logs = "off"
		}
		fmt.Fprintf(tw, "logs (Loki)\t%s\t%s\n", logs, strings.TrimPrefix(p.LogsReason, "off: "))
	}
	for _, s := range p.Services {
		v := spec.FormatBytes(s.Memory)
		if s.OneShot {
			v += " (not counted)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Service, v, s.Reason)
	}
	if sw := p.Kube; sw != nil {
		// Kubernetes: the same placement, in pods; the members are bound to
		// their nodes by affinity, the rest scheduled by Kubernetes within
		// the memory each node keeps for them.
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "NODE	CORES	MEMORY	SIZED FOR	APP PODS	WHY")
		for _, n := range sw.Nodes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", n.Name, sizing.FormatCores(n.CPUs), spec.FormatBytes(n.Memory), strings.Join(n.Services, ", "), n.AppTasks, n.Reason)
		}
	} else if sw := p.Swarm; sw != nil {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "NODE	CORES	MEMORY	PINNED HERE	APP TASKS	WHY")
		for _, n := range sw.Nodes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", n.Name, sizing.FormatCores(n.CPUs), spec.FormatBytes(n.Memory), strings.Join(n.Services, ", "), n.AppTasks, n.Reason)
		}
	} else {
		fmt.Fprintf(tw, "total of all limits\t%s\tof %s usable (one-shots exit before the app starts)\n", spec.FormatBytes(p.Total()), spec.FormatBytes(p.Usable()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintln(w, "\nWarnings:")
		for _, x := range p.Warnings {
			fmt.Fprintln(w, "- "+x)
		}
	}
	return nil
}

func membersReason(n int) string {
	if n > 1 {
		return "a replica set that survives a crashed member"
	}
	return "one member (a replica set of one, so Rocket.Chat gets change streams)"
}

func readings(rs []sizing.Reading, bytes bool) string {
	var parts []string
	for _, r := range rs {
		v := sizing.FormatCores(r.Value)
		if bytes {
			v = spec.FormatBytes(int64(r.Value))
		}
		parts = append(parts, r.Source+"="+v)
	}
	return strings.Join(parts, ", ")
}
