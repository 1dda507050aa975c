package rendertest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// DockerContainer is one container the Docker Engine stand-in serves: a
// service of the generated compose file, with its labels, running and
// healthy, on the operator's proxy network at Addr.
type DockerContainer struct {
	ID, Name, Network, Addr string
	Labels                  map[string]string
}

// LabelledContainers are the services of p that carry Traefik labels
// (traefik.enable), sorted by name, as containers on network: each with
// the labels docker compose adds (project, service) and its own, at the
// address addr gives its service.
func LabelledContainers(p *types.Project, network string, addr func(service string) string) []DockerContainer {
	var names []string
	for name, s := range p.Services {
		if _, ok := s.Labels["traefik.enable"]; ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var out []DockerContainer
	for i, name := range names {
		labels := map[string]string{"com.docker.compose.project": p.Name, "com.docker.compose.service": name}
		for k, v := range p.Services[name].Labels {
			labels[k] = v
		}
		out = append(out, DockerContainer{ID: fmt.Sprintf("%064x", i+1), Name: p.Name + "-" + name + "-1", Network: network, Addr: addr(name), Labels: labels})
	}
	return out
}

// ServeDockerEngine serves on l a stand-in of the Docker Engine API, as
// much as Traefik's Docker provider asks of it (pkg/provider/docker:
// ServerVersion, ContainerList, ContainerInspect, Events; API version
// negotiation pings /_ping first): it lists containers and never sends an
// event. It stops when the test ends. Reference: the Engine API,
// docs.docker.com/reference/api/engine/.
func ServeDockerEngine(tb testing.TB, l net.Listener, containers []DockerContainer) {
	tb.Helper()
	version := regexp.MustCompile(`^/v[0-9.]+`)
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("/_ping", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("API-Version", "1.45")
		fmt.Fprint(w, "OK")
	})
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"Version": "27.5.1", "ApiVersion": "1.45", "MinAPIVersion": "1.24", "Os": "linux", "Arch": "amd64"})
	})
	mux.HandleFunc("/containers/json", func(w http.ResponseWriter, r *http.Request) {
		var list []map[string]any
		for _, c := range containers {
			list = append(list, map[string]any{"Id": c.ID, "Names": []string{"/" + c.Name}, "Labels": c.Labels, "State": "running", "Status": "Up 1 minute (healthy)"})
		}
		writeJSON(w, list)
	})
	mux.HandleFunc("/containers/{id}/json", func(w http.ResponseWriter, r *http.Request) {
		for _, c := range containers {
			if c.ID == r.PathValue("id") {
				writeJSON(w, map[string]any{
					"Id": c.ID, "Name": "/" + c.Name,
					"State":      map[string]any{"Status": "running", "Running": true, "Health": map[string]any{"Status": "healthy"}},
					"Config":     map[string]any{"Labels": c.Labels},
					"HostConfig": map[string]any{"NetworkMode": c.Network},
					"NetworkSettings": map[string]any{"Networks": map[string]any{
						c.Network: map[string]any{"NetworkID": "net-" + c.Network, "IPAddress": c.Addr},
					}},
				})
				return
			}
		}
		http.Error(w, `{"message":"no such container"}`, http.StatusNotFound)
	})
	mux.HandleFunc("/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		_ = http.NewResponseController(w).Flush()
		<-r.Context().Done()
	})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = version.ReplaceAllString(r.URL.Path, "")
		mux.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	tb.Cleanup(func() { _ = srv.Close() })
}
