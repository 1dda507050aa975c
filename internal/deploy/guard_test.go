package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRootShellReachesThePrimary runs the commands rcgen prints for the
// operator (featureCompatibilityVersion, removing members) under sh, with
// stand-ins for docker, cat and mongosh: mongosh must get the replica set
// and every member as seeds (the primary may be any member, and mongodb-1
// may be down), the root password, and the JavaScript intact; on Swarm the
// command must use docker exec and the secret file, never docker compose.
func TestRootShellReachesThePrimary(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("LOUD SKIP: no sh on PATH")
	}
	bin := t.TempDir()
	log := filepath.Join(t.TempDir(), "log")
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// docker compose exec mongodb-1 sh -c SCRIPT | docker ps ... | docker exec ID sh -c SCRIPT
	write("docker", `case "$1" in
compose) echo "compose exec $3" >>"$RCGEN_LOG"; MONGODB_ROOT_PASSWORD='pw "1$' exec sh -c "$6" ;;
ps) echo "ps $*" >>"$RCGEN_LOG"; echo c0ffee ;;
exec) echo "exec $2" >>"$RCGEN_LOG"; exec sh -c "$5" ;;
esac
exit 9
`)
	write("cat", `[ "$1" = /run/secrets/mongodb_root_password ] && printf '%s' 'pw "1$' && exit 0; exit 8`)
	write("mongosh", `for a in "$@"; do printf '[%s]' "$a" >>"$RCGEN_LOG"; done; echo >>"$RCGEN_LOG"`)

	members := Compose{Name: "chat", Services: []string{"rocketchat-1", "mongodb-1", "mongodb-2", "mongodb-3"}}
	swarm := members
	swarm.Swarm = true
	for _, c := range []struct {
		name   string
		d      Deployment
		want   []string
		refuse []string
	}{
		{"compose", Deployment{Compose: members}, []string{"compose exec mongodb-1"}, []string{"exec c0ffee"}},
		{"swarm", Deployment{Compose: swarm}, []string{"ps -q -f label=com.docker.swarm.service.name=chat_mongodb-1", "exec c0ffee"}, []string{"compose"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, cmd := range []string{c.d.FCVCommand("8.0"), c.d.rootShell(`rs.remove(\"mongodb-3:27017\")`)} {
				os.Remove(log)
				run := exec.Command(sh, "-c", cmd)
				run.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "RCGEN_LOG="+log)
				if out, err := run.CombinedOutput(); err != nil {
					t.Fatalf("%s\n%v: %s", cmd, err, out)
				}
				b, _ := os.ReadFile(log)
				got := string(b)
				for _, w := range append(c.want, "[--host][rs0/mongodb-1:27017,mongodb-2:27017,mongodb-3:27017]", `[-u][root][-p][pw "1$][--authenticationDatabase][admin]`) {
					if !strings.Contains(got, w) {
						t.Errorf("%s\nran %q, want %q", cmd, got, w)
					}
				}
				for _, w := range c.refuse {
					if strings.Contains(got, w) {
						t.Errorf("%s\nran %q, which has %q", cmd, got, w)
					}
				}
				if !strings.Contains(got, `[db.adminCommand({setFeatureCompatibilityVersion: "8.0", confirm: true})]`) && !strings.Contains(got, `[rs.remove("mongodb-3:27017")]`) {
					t.Errorf("%s\nmongosh got no intact JavaScript: %q", cmd, got)
				}
			}
		})
	}
}
