package stack

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSwarmWaitHealthy reads docker service ls as Swarm prints it (the
// REPLICAS column of docker/cli's formatter: running/desired, a job's
// completions, a bound per node) and waits until every service runs and
// every job completed; one that never does is named with the commands
// that show why, in Swarm's words.
func TestSwarmWaitHealthy(t *testing.T) {
	answers := []string{
		// A job still running, the app's task starting.
		`{"Name":"rc_rocketchat","Mode":"replicated","Replicas":"0/2 (max 2 per node)"}
{"Name":"rc_mongodb-init","Mode":"replicated job","Replicas":"1/1 (0/1 completed)"}
{"Name":"rc_mongodb-prepare-1","Mode":"replicated job","Replicas":"0/1 (1/1 completed)"}
{"Name":"rc_node-exporter","Mode":"global","Replicas":"3/3"}
{"Name":"other_caddy","Mode":"replicated","Replicas":"0/1"}`,
		`{"Name":"rc_rocketchat","Mode":"replicated","Replicas":"2/2 (max 2 per node)"}
{"Name":"rc_mongodb-init","Mode":"replicated job","Replicas":"0/1 (1/1 completed)"}
{"Name":"rc_mongodb-prepare-1","Mode":"replicated job","Replicas":"0/1 (1/1 completed)"}
{"Name":"rc_node-exporter","Mode":"global","Replicas":"3/3"}`,
	}
	var calls []string
	s := Stack{Swarm: true, Project: "rc", Members: 1, Run: func(_ context.Context, _ string, args ...string) ([]byte, error) {
		calls = append(calls, strings.Join(args, " "))
		if len(calls) > len(answers) {
			return []byte(answers[len(answers)-1]), nil
		}
		return []byte(answers[len(calls)-1]), nil
	}}
	services := []string{"mongodb-init", "mongodb-prepare-1", "node-exporter", "rocketchat"}
	if err := s.WaitHealthy(context.Background(), services, time.Minute, time.Millisecond); err != nil {
		t.Fatalf("WaitHealthy: %v", err)
	}
	if len(calls) != 2 || calls[0] != "service ls --filter label=com.docker.stack.namespace=rc --format json" {
		t.Errorf("docker got %q", calls)
	}
	// The first answer alone: never healthy, named.
	answers = answers[:1]
	calls = nil
	err := s.WaitHealthy(context.Background(), services, 5*time.Millisecond, time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "mongodb-init (0 of 1 completed, exit 0)") || !strings.Contains(err.Error(), "rocketchat (0 of 2 tasks running)") ||
		!strings.Contains(err.Error(), "docker service ps rc_SERVICE") || strings.Contains(err.Error(), "docker compose") {
		t.Errorf("never healthy: %v", err)
	}
}

// TestBackupContainerNamesItsNode: docker exec reaches this node's
// containers only; when the backup task runs elsewhere, the error names
// the node docker service ps gives, and when none runs, says so.
func TestBackupContainerNamesItsNode(t *testing.T) {
	for _, c := range []struct {
		ps, servicePS string
		psErr         error
		want          string
	}{
		{ps: "abc123\n", want: ""},
		{servicePS: "node-7\n", want: "runs on node node-7, and docker exec reaches only the containers of the node Docker runs on: run this on node-7"},
		{want: "no task of rc_backup runs (docker service ps rc_backup)"},
		{psErr: errors.New("This node is not a swarm manager"), want: "docker service ps rc_backup failed"},
	} {
		s := Stack{Swarm: true, Project: "rc", Run: func(_ context.Context, _ string, args ...string) ([]byte, error) {
			if args[0] == "ps" {
				return []byte(c.ps), nil
			}
			return []byte(c.servicePS), c.psErr
		}}
		id, err := s.BackupContainer(context.Background())
		switch {
		case c.want == "" && (err != nil || id != "abc123"):
			t.Errorf("local task: %q, %v", id, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("want %q, got %v", c.want, err)
		}
	}
}

// TestOffsiteListOnSwarm: the offsite copies are listed in the
// backup-offsite task's container on this node (docker exec), not through
// docker compose, which knows no Swarm stack.
func TestOffsiteListOnSwarm(t *testing.T) {
	var calls [][]string
	s := Stack{Swarm: true, Project: "rc", Run: func(_ context.Context, _ string, args ...string) ([]byte, error) {
		calls = append(calls, args)
		switch {
		case args[0] == "ps" && slices.Contains(args, "label=com.docker.swarm.service.name=rc_backup-offsite"):
			return []byte("off42\n"), nil
		case args[0] == "exec" && args[1] == "off42":
			return []byte("1234 rocketchat-20261202-030000.tar\n"), nil
		}
		return nil, errors.New("unexpected docker " + strings.Join(args, " "))
	}}
	list, err := s.OffsiteList(context.Background())
	if err != nil || len(list) != 1 || list[0].Name != "rocketchat-20261202-030000.tar" || list[0].Size != 1234 {
		t.Fatalf("OffsiteList = %v, %v (calls %q)", list, err, calls)
	}
	for _, c := range calls {
		if c[0] == "compose" {
			t.Errorf("ran docker compose on Swarm: %q", c)
		}
	}
}
