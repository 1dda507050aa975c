package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
)

var swarmNodes = []string{"--node", "node-1=4:8GiB", "--node", "node-2=4:8GiB", "--node", "node-3=4:8GiB"}

// TestTargetChangeIsAMigration: a re-run that changes a deployment's
// target (compose to swarm, swarm to compose; by flag or answers file; a
// dry run too) is refused with nothing written, and the refusal spells out
// the migration. Confirmed with --force=target, the old target's files are
// kept in rcgen-backups/ and named, with the command that stops the old
// stack without them; the next run sees the new target.
func TestTargetChangeIsAMigration(t *testing.T) {
	public := []string{"--domain", "chat.example.com", "--email", "admin@example.com"}
	out := fresh(t, public...)
	before := snapshot(t, out)
	toSwarm := append([]string{"generate", "--yes", "--out", out, "--target", "swarm"}, swarmNodes...)
	for _, extra := range [][]string{nil, {"--dry-run"}, {"--force=member-node"}} {
		r := run(t, append(toSwarm, extra...)...)
		for _, w := range []string{"--target: this deployment runs on the compose target (compose.yaml in " + out + "), and --target swarm would turn it into a Swarm stack in place",
			"volume rocketchat_uploads", "rcgen backup --dir " + out, "cd " + out + " && docker compose down", "run this command again with --force=target",
			"rcgen restore on Swarm would stop at the one-host backup's uploads", "mongorestore --archive --gzip --oplogReplay --drop", "to go ahead, give --force=target"} {
			if r.code != 2 || !strings.Contains(r.stderr, w) {
				t.Errorf("%q: exit %d, want 2 and %q:\n%s", extra, r.code, w, r.stderr)
			}
		}
		unchanged(t, out, before)
	}
	// From an answers file: named by its line.
	cfg := filepath.Join(t.TempDir(), "answers.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\ntarget: swarm\nnodes: [\"node-1=4:8GiB\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "generate", "--yes", "--out", out, "--config", cfg); r.code != 2 || !strings.Contains(r.stderr, cfg+": line 2: target: this deployment runs on the compose target") {
		t.Errorf("--config: exit %d:\n%s", r.code, r.stderr)
	}
	unchanged(t, out, before)

	// Confirmed: the files the compose stack runs from are kept and named.
	r := run(t, append(toSwarm, "--force=target")...)
	if r.code != 0 {
		t.Fatalf("--force=target: exit %d:\n%s", r.code, r.stderr)
	}
	for _, w := range []string{"Warning: --force=target: this deployment moved from the compose target to Swarm; its files this run removed (compose.yaml) are kept in " + filepath.Join(out, "rcgen-backups"),
		"If its compose stack still runs, stop it now: docker compose -p rocketchat down (its volumes stay; never -v)"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("--force=target: stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	kept, _ := filepath.Glob(filepath.Join(out, "rcgen-backups", "*", render.ComposeFile))
	if len(kept) != 1 || string(read(t, kept[0])) != before[filepath.Join(out, render.ComposeFile)] {
		t.Errorf("compose.yaml is not kept as it was: %q", kept)
	}
	if !fileExists(filepath.Join(out, render.StackFile)) || fileExists(filepath.Join(out, render.ComposeFile)) {
		t.Error("the deployment is not a Swarm stack now")
	}
	if r := run(t, "generate", "--yes", "--out", out); r.code != 0 || strings.Contains(r.stderr, "--force=target") {
		t.Errorf("the next run: exit %d:\n%s", r.code, r.stderr)
	}

	// Back: refused with Swarm's procedure; confirmed (the nodes taken out
	// of rcgen.yaml, as it says), stack.yaml is kept and named.
	before = snapshot(t, out)
	r = run(t, "generate", "--yes", "--out", out, "--target", "compose")
	for _, w := range []string{"--target: this deployment is a Swarm stack (stack.yaml in " + out + ")", "docker stack rm rocketchat", "take nodes out of rcgen.yaml",
		"docker run --rm -i --network rocketchat_internal", "to go ahead, give --force=target"} {
		if r.code != 2 || !strings.Contains(r.stderr, w) {
			t.Errorf("to compose: exit %d, want 2 and %q:\n%s", r.code, w, r.stderr)
		}
	}
	unchanged(t, out, before)
	answers := filepath.Join(out, "rcgen.yaml")
	var keep []string
	for _, line := range strings.SplitAfter(string(read(t, answers)), "\n") {
		if !strings.HasPrefix(line, "target:") && !strings.HasPrefix(line, "nodes:") && !strings.HasPrefix(line, "  - ") {
			keep = append(keep, line)
		}
	}
	if err := os.WriteFile(answers, []byte(strings.Join(keep, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, "generate", "--yes", "--out", out, "--force=target")
	if r.code != 0 || !strings.Contains(r.stderr, "moved from Swarm to the compose target; its files this run removed (") ||
		!strings.Contains(r.stderr, "stack.yaml") || !strings.Contains(r.stderr, "stop it on a manager: docker stack rm rocketchat") {
		t.Errorf("to compose, confirmed: exit %d:\n%s", r.code, r.stderr)
	}
	if !fileExists(filepath.Join(out, render.ComposeFile)) || fileExists(filepath.Join(out, render.StackFile)) {
		t.Error("the deployment is not on the compose target now")
	}
}

// TestUpgradeNeverChangesTheTarget: a deployment whose rcgen.yaml names
// another target than the one it runs on is refused by upgrade before
// anything changes (a re-run at the step's release would convert it).
func TestUpgradeNeverChangesTheTarget(t *testing.T) {
	out := fresh(t, "--rocketchat-version", "7.12.7", "--domain", "chat.example.com", "--email", "admin@example.com")
	answers := filepath.Join(out, "rcgen.yaml")
	b := strings.Replace(string(read(t, answers)), "target: \"compose\"", "target: swarm\nnodes: [\"node-1=4:8GiB\"]", 1)
	if err := os.WriteFile(answers, []byte(b), 0o600); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, out)
	f := &backupStack{mode: backupOK}
	r := runEnv(func(e *Env) { e.Docker = f.run }, "upgrade", "--dir", out, "--to", "7.13.9", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, answers+" says target: swarm, and this deployment runs on the compose target (compose.yaml): rcgen upgrade never changes the target") {
		t.Errorf("exit %d:\n%s", r.code, r.stderr)
	}
	for _, cmd := range f.log {
		if strings.Contains(cmd, "backup") || strings.HasPrefix(cmd, "compose up") {
			t.Errorf("it ran docker %s", cmd)
		}
	}
	unchanged(t, out, before)
}

// TestMembersMoveOneAtATime: --force=member-node moves one member of three
// per run, never more: an inventory that moves several is refused even
// confirmed, with nothing written, and the error names the member that
// may move now and the inventory that moves only it, which works; the next
// run moves the next one. The only member of a set of one never moves by
// a re-run: the error points at backup and restore.
func TestMembersMoveOneAtATime(t *testing.T) {
	public := []string{"--domain", "chat.example.com", "--email", "admin@example.com"}
	out := fresh(t, append(append([]string{"--target", "swarm", "--mongodb-members", "3"}, swarmNodes...), public...)...)
	stackFile := filepath.Join(out, render.StackFile)
	nodes := func(specs ...string) []string {
		var a []string
		for _, s := range specs {
			a = append(a, "--node", s)
		}
		return a
	}
	rerun := func(args ...string) result {
		return run(t, append([]string{"generate", "--yes", "--out", out}, args...)...)
	}
	before := snapshot(t, out)
	for _, c := range []struct {
		name  string
		nodes []string
		want  []string
	}{
		{"all three to new nodes", nodes("node-4=4:8GiB", "node-5=4:8GiB", "node-6=4:8GiB"), []string{
			"--node: this inventory would move 3 MongoDB members at once (mongodb-1 from node-1 to node-4, mongodb-2 from node-2 to node-5, mongodb-3 from node-3 to node-6)",
			"--force=member-node moves one member per run, never more",
			"Move mongodb-1 from node-1 to node-4 now, keeping mongodb-2 on node-2 and mongodb-3 on node-3: give exactly node-4, node-2, node-3 the db role, in that order",
			"label node-4 rcgen.mongodb-1=true and remove that label from node-1",
			"wait until mongodb-1 is SECONDARY again (docker service logs rocketchat_mongodb-1",
			"rcgen names the next member that may move"}},
		{"a node taken out moves the members after it", nodes("node-1=4:8GiB", "node-3=4:8GiB", "node-4=4:8GiB"), []string{
			"would move 2 MongoDB members at once (mongodb-2 from node-2 to node-3, mongodb-3 from node-3 to node-4)",
			"Move mongodb-2 from node-2 to node-4 now, keeping mongodb-1 on node-1 and mongodb-3 on node-3: give exactly node-1, node-4, node-3 the db role"}},
		{"the same nodes in another order", nodes("node-2=4:8GiB", "node-1=4:8GiB", "node-3=4:8GiB"), []string{
			"would move 2 MongoDB members at once (mongodb-1 from node-1 to node-2, mongodb-2 from node-2 to node-1)",
			"only puts the members on each other's nodes, which moves data for nothing: keep each member where its data is: give node-1, node-2, node-3 the db role, in that order"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := rerun(append(c.nodes, "--force=member-node")...)
			for _, w := range c.want {
				if r.code != 2 || !strings.Contains(r.stderr, w) {
					t.Errorf("exit %d, want 2 and %q:\n%s", r.code, w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "to go ahead") {
				t.Errorf("it offers to go ahead:\n%s", r.stderr)
			}
			unchanged(t, out, before)
		})
	}
	// The advice of the first case, followed: only mongodb-1 moves.
	if r := rerun(append(nodes("node-4=4:8GiB:db", "node-2=4:8GiB:db", "node-3=4:8GiB:db", "node-5=4:8GiB", "node-6=4:8GiB"), "--force=member-node")...); r.code != 0 {
		t.Fatalf("the advice: exit %d:\n%s", r.code, r.stderr)
	}
	if s := string(read(t, stackFile)); !strings.Contains(s, `rcgen.node: "node-4"`) || !strings.Contains(s, `rcgen.node: "node-2"`) || !strings.Contains(s, `rcgen.node: "node-3"`) {
		t.Errorf("stack.yaml does not put the members on node-4, node-2, node-3")
	}
	// The next run: the next member, one.
	if r := rerun(append(nodes("node-4=4:8GiB:db", "node-5=4:8GiB:db", "node-3=4:8GiB:db", "node-6=4:8GiB"), "--force=member-node")...); r.code != 0 {
		t.Fatalf("the next move: exit %d:\n%s", r.code, r.stderr)
	}

	// A set of one: its member starts empty anywhere else.
	one := fresh(t, append([]string{"--target", "swarm", "--mongodb-members", "1", "--node", "node-1=4:8GiB:db", "--node", "node-2=4:8GiB"}, public...)...)
	before = snapshot(t, one)
	r := run(t, "generate", "--yes", "--out", one, "--node", "node-1=4:8GiB", "--node", "node-2=4:8GiB:db", "--force=member-node")
	for _, w := range []string{"--node: this inventory would move mongodb-1 from node-1 to node-2", "the only member would start empty on node-2",
		"Keep node-1 (label it db to keep the choice), or move the data by backup and restore"} {
		if r.code != 2 || !strings.Contains(r.stderr, w) {
			t.Errorf("one member: exit %d, want 2 and %q:\n%s", r.code, w, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "to go ahead") {
		t.Errorf("one member: it offers to go ahead:\n%s", r.stderr)
	}
	unchanged(t, one, before)
}

// TestPlanTakesSwarmTarget: rcgen plan sizes a Swarm inventory as
// generate would (the same nodes, the backup on its node), needs no
// domain for it, and refuses what generate refuses about the target.
func TestPlanTakesSwarmTarget(t *testing.T) {
	nodes := []string{"--node", "node-1=4:8GiB", "--node", "node-2=4:8GiB", "--node", "node-3=4:8GiB:backup"}
	r := run(t, append([]string{"plan", "--target", "swarm", "--json", "--mongodb-members", "3"}, nodes...)...)
	if r.code != 0 {
		t.Fatalf("plan --target swarm: exit %d:\n%s", r.code, r.stderr)
	}
	for _, w := range []string{`"backup_node": "node-3"`, `"member_nodes": [`, `"name": "node-1"`} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("plan --json lacks %s:\n%s", w, r.stdout)
		}
	}
	r = run(t, append([]string{"plan", "--target", "swarm"}, nodes...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "node-exporter, otel-collector, grafana, loki, backup, prometheus") {
		t.Errorf("plan --target swarm: exit %d, want the node table with the backup on node-3:\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--target", "swarm"}, "--node: the Swarm target needs the nodes it runs on"},
		{[]string{"plan", "--node", "node-1=4:8GiB"}, "--node: a node inventory is for the Swarm and Kubernetes targets: give --target swarm or kubernetes too"},
		{[]string{"plan", "--target", "mars"}, `--target: "mars" is not a target rcgen knows`},
		{[]string{"plan", "--target", "swarm", "--node", "node-1=4:8GiB:tape"}, `--node: "node-1=4:8GiB:tape": "tape" is not a role rcgen knows: use db, proxy, monitoring, backup`},
		{append([]string{"plan", "--target", "swarm", "--cpus", "4"}, nodes...), "on Swarm each node is sized from the inventory"},
	} {
		if r := run(t, c.args...); r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, want 2 and %q:\n%s", c.args, r.code, c.want, r.stderr)
		}
	}
}
