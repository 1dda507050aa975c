package stack

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"text/template"
	"time"
)

// TestReplSetStatus: rs.status() as mongosh prints it: the primary, and
// each member's lag behind it.
func TestReplSetStatus(t *testing.T) {
	var js string
	s := Stack{Members: 3, Run: func(_ context.Context, _ string, args ...string) ([]byte, error) {
		if args[1] == "ps" {
			return []byte(`{"Service":"mongodb-1","State":"running","Health":"healthy"}`), nil
		}
		js = args[len(args)-1]
		return []byte("some warning\n" + `{"ok":1,"members":[{"name":"mongodb-1:27017","state":"PRIMARY","health":1,"optime":1764669600000},` +
			`{"name":"mongodb-2:27017","state":"SECONDARY","health":1,"optime":1764669590000},{"name":"mongodb-3:27017","state":"(not reachable/healthy)","health":0,"optime":0}]}`), nil
	}}
	rs, err := s.ReplSetStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rs.Primary() != "mongodb-1:27017" || rs.Members[1].Lag != 10*time.Second || rs.Members[2].Lag != 0 || rs.Members[2].State != "(not reachable/healthy)" {
		t.Errorf("read %+v", rs)
	}
	if !strings.Contains(js, "replSetGetStatus") || !strings.Contains(js, "mongodb-1:27017,mongodb-2:27017,mongodb-3:27017") {
		t.Errorf("asked %s", js)
	}
}

// TestReplSetStatusNotInitiated: an answer with ok 0 is an error naming
// MongoDB's own message.
func TestReplSetStatusNotInitiated(t *testing.T) {
	s := Stack{Members: 1, Run: func(_ context.Context, _ string, args ...string) ([]byte, error) {
		if args[1] == "ps" {
			return nil, nil
		}
		return []byte(`{"ok":0,"errmsg":"no replset config has been received","members":[]}`), nil
	}}
	if _, err := s.ReplSetStatus(context.Background()); err == nil || !strings.Contains(err.Error(), "no replset config has been received") {
		t.Errorf("got %v", err)
	}
}

// TestInspect: docker inspect's state of the service's container, OOM
// kill and restarts included.
func TestInspect(t *testing.T) {
	var asked []string
	s := Stack{Run: func(_ context.Context, _ string, args ...string) ([]byte, error) {
		asked = append(asked, strings.Join(args[:2], " "))
		if args[0] == "compose" {
			return []byte("4f1e2d\n"), nil
		}
		if args[len(args)-1] != "4f1e2d" || !strings.Contains(args[2], "OOMKilled") {
			t.Errorf("inspect args %q", args)
		}
		return []byte(`{"Status":"exited","Restarting":false,"OOMKilled":true,"ExitCode":137,"Error":"","RestartCount":3}`), nil
	}}
	st, err := s.Inspect(context.Background(), "rocketchat-1")
	if err != nil {
		t.Fatal(err)
	}
	if !st.OOMKilled || st.ExitCode != 137 || st.RestartCount != 3 {
		t.Errorf("read %+v", st)
	}
}

// TestLogs: the lines, without blank ones and carriage returns.
func TestLogs(t *testing.T) {
	s := Stack{Run: func(_ context.Context, _ string, args ...string) ([]byte, error) {
		if strings.Join(args, " ") != "compose logs --no-color --no-log-prefix --tail 20 mongodb-1" {
			t.Errorf("asked %q", args)
		}
		return []byte("one\r\n\ntwo\n"), nil
	}}
	got, err := s.Logs(context.Background(), "mongodb-1", 20)
	if err != nil || len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Errorf("got %q, %v", got, err)
	}
}

// TestInspectFormat: the template docker inspect is given runs on what
// docker inspect holds (Go templates with docker's json function, on the
// container's JSON: State.Status, State.OOMKilled... and RestartCount at
// the top) and prints the JSON Inspect reads.
func TestInspectFormat(t *testing.T) {
	tmpl, err := template.New("").Funcs(template.FuncMap{"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	}}).Parse(inspectFormat)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(`{"Id":"4f1e2d","RestartCount":2,"State":{"Status":"restarting","Running":true,"Paused":false,"Restarting":true,"OOMKilled":false,"Dead":false,"Pid":0,"ExitCode":14,"Error":"","StartedAt":"2026-11-25T12:00:00Z"}}`), &doc); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, doc); err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal([]byte(b.String()), &st); err != nil || st.Status != "restarting" || !st.Restarting || st.ExitCode != 14 || st.RestartCount != 2 {
		t.Errorf("%s read as %+v (%v)", b.String(), st, err)
	}
}
