package adopt

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestStepsOfADockerRunWithFileSystemUploads(t *testing.T) {
	o := official()
	o.Layout, o.Dir, o.Files, o.Project, o.App, o.Stop, o.Network = LayoutContainer, "", nil, "rocketchat", "rocketchat", []string{"rocketchat"}, "rcnet"
	o.Mongo.Service = "mongo"
	o.Mongo.SetURL("mongodb://admin:pw@mongo:27017/rocketchat?replicaSet=rs0&authSource=admin")
	o.Uploads = Uploads{Storage: "FileSystem", Path: AppUploadsDir, Volume: "rc_uploads"}
	p, refusals := Compute(o, Host{FreeDump: 100 * gib, FreeVolumes: 100 * gib, SameDisk: true, Now: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}, testCatalog())
	if len(refusals) > 0 {
		t.Fatal(refusals)
	}
	n := New{Dir: "/srv/new", Project: NewProject(o), DumpDir: DumpDir("/srv/new")}
	var got []string
	for _, s := range Steps(p, n) {
		got = append(got, s.Hook+"|"+s.Shown())
	}
	want := []string{
		"|docker stop rocketchat",
		"|docker run --rm --network rcnet -v /srv/new.adopt-dump:/dump mongo:8.0.28-noble mongodump --uri=mongodb://admin:\\*\\*\\*@mongo:27017/rocketchat\\?replicaSet=rs0\\&authSource=admin --archive=/dump/rocketchat.archive",
		"generate|",
		"start-mongodb|",
		"",
		"|cd /srv/new && docker compose run --rm --no-deps -T -v rc_uploads:/from:ro --entrypoint sh backup -c 'cp -a /from/. /volumes/uploads/ && chown -R 65533:65533 /volumes/uploads'",
		"start-stack|",
	}
	if len(got) != len(want) {
		t.Fatalf("steps:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if want[i] != "" && got[i] != want[i] {
			t.Errorf("step %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
	if !strings.HasPrefix(got[4], "|cd /srv/new && docker compose run --rm --no-deps -T -v /srv/new.adopt-dump:/adopt:ro") {
		t.Errorf("restore: %s", got[4])
	}
	// The real password reaches the dump, never what is printed.
	steps := Steps(p, n)
	if !strings.Contains(strings.Join(steps[1].Command, " "), "admin:pw@") || strings.Contains(steps[1].Shown(), "pw@") {
		t.Errorf("dump %q shown %q", steps[1].Command, steps[1].Shown())
	}
	if r := Rollback(p, n); r != "docker compose --project-directory /srv/new stop && docker start rocketchat" {
		t.Errorf("rollback %q", r)
	}
}

func TestExecuteStopsWhereToldOrFailed(t *testing.T) {
	steps := []Step{{Title: "a", Command: []string{"stop", "x"}}, {Title: "b", Hook: HookGenerate}, {Title: "c", Command: []string{"run", "y"}}}
	var ran []string
	run := func(_ context.Context, _ string, args ...string) ([]byte, error) {
		ran = append(ran, strings.Join(args, " "))
		if args[0] == "run" {
			return nil, errors.New("boom")
		}
		return nil, nil
	}
	hooks := map[string]func(context.Context) error{HookGenerate: func(context.Context) error { ran = append(ran, "generate"); return nil }}
	yes := func(int, Step) (bool, error) { return true, nil }
	err := Execute(context.Background(), steps, run, hooks, yes, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "step 3 of 3 (c): boom") || strings.Join(ran, ";") != "stop x;generate;run y" {
		t.Fatalf("err %v, ran %q", err, ran)
	}
	ran = nil
	noAtTwo := func(i int, _ Step) (bool, error) { return i < 1, nil }
	err = Execute(context.Background(), steps, run, hooks, noAtTwo, io.Discard)
	if !errors.Is(err, ErrStopped) || strings.Join(ran, ";") != "stop x" {
		t.Fatalf("err %v, ran %q", err, ran)
	}
}
