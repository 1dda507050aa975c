package hostproxy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func proc(t *testing.T, tcp, tcp6 string) string {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	head := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	for name, body := range map[string]string{"tcp": tcp, "tcp6": tcp6} {
		if body == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, "net", name), []byte(head+body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDetect(t *testing.T) {
	noDocker := func() ([]byte, error) { return nil, errors.New("docker: command not found") }
	ps := func(s string) func() ([]byte, error) { return func() ([]byte, error) { return []byte(s), nil } }
	listen80 := "   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0\n"
	established443 := "   1: 0100007F:01BB 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0\n"
	listen443v6 := "   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0\n"
	for _, c := range []struct {
		name      string
		src       Sources
		want, net string
	}{
		{"nothing, no docker", Sources{DockerPS: noDocker, Proc: proc(t, established443, "")}, "", ""},
		{"nothing, no proc", Sources{Proc: filepath.Join(t.TempDir(), "none")}, "", ""},
		{"nginx-proxy by image", Sources{DockerPS: ps(`{"Names":"proxy","Image":"nginxproxy/nginx-proxy:1.6","Labels":"","Networks":"web,bridge"}` + "\n"), Proc: proc(t, listen80, "")}, NginxProxy, "web"},
		{"nginx-proxy by the companion's label", Sources{DockerPS: ps(`{"Names":"front","Image":"nginx:1.27","Labels":"com.github.nginx-proxy.nginx=","Networks":"front"}`)}, NginxProxy, "front"},
		{"caddy-docker-proxy", Sources{DockerPS: ps(`{"Names":"db","Image":"postgres:16","Networks":"x"}` + "\n" + `{"Names":"caddy","Image":"lucaslorentz/caddy-docker-proxy:2.9","Networks":"caddy"}`)}, CaddyDockerProxy, "caddy"},
		{"traefik", Sources{DockerPS: ps(`{"Names":"traefik","Image":"traefik:v3.3","Networks":"traefik"}`)}, TraefikLabels, "traefik"},
		{"garbage from docker", Sources{DockerPS: ps("not json\n{\n"), Proc: proc(t, "", "")}, "", ""},
		{"a host proxy on 80", Sources{DockerPS: noDocker, Proc: proc(t, listen80, "")}, Host, ""},
		{"a host proxy on 443, IPv6", Sources{DockerPS: ps(`{"Names":"db","Image":"postgres:16"}`), Proc: proc(t, "", listen443v6)}, Host, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := Detect(c.src)
			if f.Proxy != c.want || f.Network != c.net {
				t.Errorf("Detect = %+v, want %q on %q", f, c.want, c.net)
			}
			if f.Proxy != "" && f.Seen == "" {
				t.Error("a finding that says nothing of what was seen")
			}
		})
	}
}
