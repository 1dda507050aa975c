package render_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	gen "github.com/rcgen/rcgen/internal/generate"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// fiveNodes is the inventory of examples/swarm-5-nodes-licensed: two app
// nodes that fit 8 tasks each.
var fiveNodes = []string{"db-1=4:16GiB:db", "db-2=4:16GiB:db", "db-3=4:16GiB:db", "app-1=8:16GiB:proxy", "app-2=8:16GiB:monitoring"}

// swarmStack renders a Swarm stack over nodes; processes > 0 gives the
// number of app tasks (with a licence).
func swarmStack(t *testing.T, nodes []string, licensed bool, processes int) render.Files {
	t.Helper()
	a := spec.Default()
	a.Target, a.Domain, a.Email, a.MongoDBMembers = spec.TargetSwarm, "chat.example.com", "admin@example.com", 3
	if licensed {
		a.License, a.Processes = "rcgen-test-licence", processes
	}
	for _, n := range nodes {
		if err := a.Nodes.Set(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("answers: %v", err)
	}
	plan, err := sizing.ComputeSwarm(a.Nodes, gen.Inputs(a, false))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	files, err := render.Generate(context.Background(), render.Input{Answers: a, Plan: plan, Secrets: fixedSecrets(t), RcgenVersion: "test"})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return files
}

func loadStack(t *testing.T, files render.Files) *types.Project {
	t.Helper()
	p, _, err := render.LoadStack(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// appNodes counts the nodes the README has the operator label rcgen.app.
func appNodes(t *testing.T, files render.Files) int {
	t.Helper()
	return strings.Count(string(mustGet(t, files, render.ReadmeFile).Content), "docker node update --label-add rcgen.app=true ")
}

// TestSwarmAppUpdateNeverPends: however full the app nodes, an update of
// the app never starts a task that no node may take (it would stay
// pending, and Swarm would neither finish nor roll back the update,
// moby/moby#40797): start-first leaves a slot for each task it starts.
func TestSwarmAppUpdateNeverPends(t *testing.T) {
	cases := []struct {
		name      string
		nodes     []string
		licensed  bool
		processes int
		order     string
	}{
		{"five nodes licensed: full", fiveNodes, true, 0, "stop-first"},
		{"five nodes, 12 tasks given", fiveNodes, true, 12, "start-first"},
		{"three nodes, one task", []string{"node-1=4:8GiB", "node-2=4:8GiB", "node-3=4:8GiB"}, false, 0, "start-first"},
		{"three nodes licensed: full", []string{"node-1=4:8GiB", "node-2=4:8GiB", "node-3=4:8GiB"}, true, 0, "stop-first"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := swarmStack(t, c.nodes, c.licensed, c.processes)
			app := loadStack(t, files).Services["rocketchat"]
			d := app.Deploy
			slots := int(d.Placement.MaxReplicas) * appNodes(t, files)
			for key, u := range map[string]*types.UpdateConfig{"update_config": d.UpdateConfig, "rollback_config": d.RollbackConfig} {
				if u == nil || u.Parallelism == nil || *u.Parallelism == 0 {
					t.Fatalf("%s: %+v", key, u)
				}
				if u.Order != c.order {
					t.Errorf("%s order %s, want %s (%d tasks, %d slots)", key, u.Order, c.order, *d.Replicas, slots)
				}
				if u.Order == "start-first" && *d.Replicas+int(*u.Parallelism) > slots {
					t.Errorf("%s: start-first, %d at a time, with %d tasks in %d slots: the new task stays pending", key, *u.Parallelism, *d.Replicas, slots)
				}
				if u.Order == "stop-first" && *d.Replicas-int(*u.Parallelism) < (*d.Replicas+1)/2 {
					t.Errorf("%s: stop-first, %d of %d at a time: most must keep serving", key, *u.Parallelism, *d.Replicas)
				}
			}
			readme := string(mustGet(t, files, render.ReadmeFile).Content)
			if !strings.Contains(readme, "updates roll "+d.UpdateConfig.Order) || !strings.Contains(readme, "A new release of the app rolls "+d.UpdateConfig.Order) {
				t.Errorf("README.md does not say how an update rolls (%s)", d.UpdateConfig.Order)
			}
		})
	}
}

// TestSwarmRollingChecks: rcgen's check refuses a stack whose updates
// would hang or share data, and the stack rcgen writes passes it.
func TestSwarmRollingChecks(t *testing.T) {
	full := swarmStack(t, fiveNodes, true, 0)
	one := generateSwarm(t)
	cases := []struct {
		name           string
		files          render.Files
		old, new, want string
	}{
		{"start-first on full nodes", full, "        parallelism: 2\n        order: stop-first\n        failure_action: rollback", "        parallelism: 2\n        order: start-first\n        failure_action: rollback",
			"service rocketchat: update_config is start-first, 2 at a time, and 16 tasks take 16 of 16 slots (at most 8 on each of the 2 nodes README.md labels)"},
		{"rollback start-first on full nodes", full, "      rollback_config:\n        parallelism: 2\n        order: stop-first", "      rollback_config:\n        parallelism: 2\n        order: start-first",
			"service rocketchat: rollback_config is start-first"},
		{"every slot taken", one, "      replicas: 1\n      placement:\n        constraints: [\"node.labels.rcgen.app == true\"]", "      replicas: 3\n      placement:\n        constraints: [\"node.labels.rcgen.app == true\"]",
			"service rocketchat: update_config is start-first, 1 at a time, and 3 tasks take 3 of 3 slots"},
		{"an app node not labelled", one, "   docker node update --label-add rcgen.app=true node-3\n", "",
			""},
		{"proxy start-first", one, "      update_config:\n        order: stop-first", "      update_config:\n        order: start-first",
			"service caddy: update_config is start-first with volume caddy-data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := render.Check(context.Background(), c.files); err != nil {
				t.Fatalf("the stack rcgen wrote fails its checks: %v", err)
			}
			files := replaceIn(t, c.files, c.old, c.new)
			err := render.Check(context.Background(), files)
			if c.want == "" {
				// One task on two labelled nodes still has a free slot.
				if err != nil {
					t.Fatalf("Check() = %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check() = %v, want an error containing %q", err, c.want)
			}
		})
	}
	// One task, one labelled node: no slot is left for a start-first task.
	files := replaceIn(t, one, "   docker node update --label-add rcgen.app=true node-2\n   docker node update --label-add rcgen.app=true node-3\n", "")
	if err := render.Check(context.Background(), files); err == nil || !strings.Contains(err.Error(), "1 tasks take 1 of 1 slots") {
		t.Errorf("one labelled app node, start-first: Check() = %v", err)
	}
}

// replaceIn replaces old by new once in stack.yaml or README.md.
func replaceIn(t *testing.T, files render.Files, old, new string) render.Files {
	t.Helper()
	out := slices.Clone(files)
	for i, f := range out {
		if (f.Path == render.StackFile || f.Path == render.ReadmeFile) && strings.Contains(string(f.Content), old) {
			out[i].Content = []byte(strings.Replace(string(f.Content), old, new, 1))
			return out
		}
	}
	t.Fatalf("test is stale: neither %s nor %s holds %q", render.StackFile, render.ReadmeFile, old)
	return nil
}

// TestSwarmMembersOwnTheirFiles: each member runs as the user its keyfile
// secret belongs to, and a job on its node, as root, hands the member's
// volume to that user (the member waits for it: Swarm orders nothing).
func TestSwarmMembersOwnTheirFiles(t *testing.T) {
	files := generateSwarm(t)
	p := loadStack(t, files)
	for _, m := range []string{"mongodb-1", "mongodb-2", "mongodb-3"} {
		s := p.Services[m]
		var key types.ServiceSecretConfig
		for _, sec := range s.Secrets {
			if sec.Source == "mongodb_keyfile" {
				key = sec
			}
		}
		if key.Mode == nil || *key.Mode != 0o400 || s.User != key.UID+":"+key.GID {
			t.Errorf("%s runs as %q, its keyfile is %s:%s mode %v", m, s.User, key.UID, key.GID, key.Mode)
		}
		job := p.Services["mongodb-prepare-"+strings.TrimPrefix(m, "mongodb-")]
		if job.Deploy == nil || job.Deploy.Mode != "replicated-job" || job.User != "0:0" ||
			!slices.Equal(job.Deploy.Placement.Constraints, s.Deploy.Placement.Constraints) ||
			len(job.Volumes) != 1 || job.Volumes[0].Source != s.Volumes[0].Source || job.Volumes[0].Target != "/data/db" {
			t.Errorf("%s: no root job on its node for volume %s: %+v", m, s.Volumes[0].Source, job)
			continue
		}
		// The job hands the volume to the member's uid, and the member
		// waits for exactly what the job makes true.
		uid := key.UID
		owned := `[ "$(stat -c %u /data/db)" = ` + uid + ` ]`
		if cmd := strings.Join(job.Command, " "); !strings.Contains(cmd, owned) || !strings.Contains(cmd, "chown -R "+uid+":0 /data/db") {
			t.Errorf("%s: the job does not hand /data/db to uid %s: %s", m, uid, cmd)
		}
		if cmd := strings.Join(s.Command, " "); !strings.Contains(cmd, "until "+owned) || strings.Index(cmd, "until ") > strings.Index(cmd, "mongod --") {
			t.Errorf("%s does not wait for its volume before mongod starts: %s", m, cmd)
		}
	}
	cases := []struct{ name, old, new, want string }{
		{"no user", "    user: \"1001:0\"\n    # mongod itself", "    # mongod itself",
			"service mongodb-1: runs as user \"\", and its keyfile secret belongs to 1001:0 with mode 0400"},
		{"another user", "    user: \"1001:0\"\n    # mongod itself", "    user: \"999:999\"\n    # mongod itself",
			"service mongodb-1: runs as user \"999:999\""},
		{"job on another node", "      mode: replicated-job\n      replicas: 1\n      placement:\n        constraints: [\"node.labels.rcgen.mongodb-2 == true\"]",
			"      mode: replicated-job\n      replicas: 1\n      placement:\n        constraints: [\"node.labels.rcgen.mongodb-3 == true\"]",
			"service mongodb-2: has no job on its node that hands volume mongodb-2-data to its user"},
		{"job not as root", "    user: \"0:0\"\n    entrypoint: [\"/bin/sh\", \"-c\"]\n    command:\n      - >-\n        if [ \"$$(stat -c %u /data/db)\"", "    user: \"1001:0\"\n    entrypoint: [\"/bin/sh\", \"-c\"]\n    command:\n      - >-\n        if [ \"$$(stat -c %u /data/db)\"",
			"service mongodb-1: has no job on its node that hands volume mongodb-1-data to its user"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := render.Check(context.Background(), replaceIn(t, files, c.old, c.new))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check() = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestSwarmObjectsPileUp: configs and secrets are named by their content,
// so a changed file is a new object and the old one stays in the swarm;
// the README says how to remove the stack's unused ones.
func TestSwarmObjectsPileUp(t *testing.T) {
	files := generateSwarm(t)
	stack := string(mustGet(t, files, render.StackFile).Content)
	caddy := mustGet(t, files, render.CaddyFile).Content
	sum := sha256.Sum256(caddy)
	name := "rocketchat_caddyfile_" + hex.EncodeToString(sum[:])[:10]
	if !strings.Contains(stack, "name: "+name+"\n") {
		t.Fatalf("the Caddyfile's config is not named after its content (%s)", name)
	}
	readme := string(mustGet(t, files, render.ReadmeFile).Content)
	for _, kind := range []string{"config", "secret"} {
		cmd := "docker " + kind + " ls -q --filter label=com.docker.stack.namespace=rocketchat | xargs -r docker " + kind + " rm"
		if !strings.Contains(readme, cmd) {
			t.Errorf("README.md does not say how to remove old %ss: want %q", kind, cmd)
		}
	}
}

// TestSwarmFreshVolumeUnderSh runs what a member and its prepare job run,
// under sh, on a root-owned directory standing for a fresh volume: the
// member waits, the job hands the directory to the member's uid, the
// member goes on; a second run of the job changes nothing.
func TestSwarmFreshVolumeUnderSh(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sh is missing")
		}
		t.Skip("SKIP: sh is missing")
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIP: handing a directory to another uid needs root")
	}
	p := loadStack(t, generateSwarm(t))
	vol := t.TempDir()
	if err := os.MkdirAll(filepath.Join(vol, "journal"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vol, ".rcgen-root-user"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	script := func(service string) string {
		s := strings.Join(p.Services[service].Command, " ")
		return strings.NewReplacer("/data/db", vol, "sleep 5", "sleep 0.05").Replace(s)
	}
	// The member up to mongod.
	member, _, ok := strings.Cut(script("mongodb-1"), " if [ ! -e ")
	if !ok {
		t.Fatalf("mongodb-1's command changed: %s", script("mongodb-1"))
	}
	cmd := exec.Command("sh", "-c", member+" echo started")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || !strings.Contains(lines.Text(), "waiting for mongodb-prepare-1") {
		t.Fatalf("the member did not wait for its volume: %q", lines.Text())
	}
	job, err := exec.Command("sh", "-c", script("mongodb-prepare-1")).CombinedOutput()
	if err != nil || !strings.Contains(string(job), "handed to uid 1001") {
		t.Fatalf("the job: %v: %s", err, job)
	}
	var last string
	for lines.Scan() {
		last = lines.Text()
	}
	if err := cmd.Wait(); err != nil || last != "started" {
		t.Fatalf("the member after the job: %v, last line %q", err, last)
	}
	for _, f := range []string{vol, filepath.Join(vol, "journal"), filepath.Join(vol, ".rcgen-root-user")} {
		if fi, err := os.Stat(f); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 1001 {
			t.Errorf("%s is not uid 1001's: %v", f, err)
		}
	}
	if again, err := exec.Command("sh", "-c", script("mongodb-prepare-1")).CombinedOutput(); err != nil || !strings.Contains(string(again), "is uid 1001's") {
		t.Errorf("the job run again: %v: %s", err, again)
	}
}
