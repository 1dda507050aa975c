package refresh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
)

// The answers below are written from the documented formats: GitHub's
// "List releases" (tag_name, name, published_at, prerelease, draft,
// body), the OCI distribution tag list ({"name","tags"}) and Docker Hub's
// repository tags ({"next","results":[{"name"}]}).
func body(node, mongo string) string {
	return "### Engine versions\n- Node: `" + node + "`\n- Deno: `1.43.5`\n- MongoDB: `" + mongo + "`\n- Apps-Engine: `1.x`\n\n### Patch Changes\n- fix: something\n"
}

type answers struct {
	releases string
	tags     []string
	mongo    []string
	status   int
}

func normal(tags ...string) answers {
	rels := []map[string]any{
		{"tag_name": "8.9.1", "name": "8.9.1 LTS", "published_at": "2026-11-06T10:00:00Z", "body": body("22.22.3", "8.0")},
		{"tag_name": "8.9.0", "name": "8.9.0", "published_at": "2026-10-14T10:00:00Z", "body": body("22.22.3", "8.0")},
		{"tag_name": "9.1.0-rc.1", "name": "9.1.0-rc.1", "prerelease": true, "published_at": "2026-11-30T10:00:00Z", "body": body("22.22.3", "8.0")},
		{"tag_name": "8.0.8", "name": "8.0.8", "published_at": "2026-05-01T10:00:00Z", "body": body("22.16.0", "8.2")},
	}
	b, _ := json.Marshal(rels)
	return answers{releases: string(b), tags: tags, mongo: []string{"8.0.38-ubi9-slim", "8.0.38", "8.0.39-ubi8", "8.0.37-ubi9-slim"}}
}

func serve(t *testing.T, a answers) Options {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/repos/RocketChat/Rocket.Chat/releases", func(w http.ResponseWriter, r *http.Request) {
		if r.UserAgent() != "rcgen/test" {
			t.Errorf("User-Agent %q, want rcgen/test", r.UserAgent())
		}
		if a.status != 0 {
			w.WriteHeader(a.status)
			return
		}
		fmt.Fprint(w, a.releases)
	})
	mux.HandleFunc("/v2/rocketchat/rocket.chat/tags/list", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"name": "rocketchat/rocket.chat", "tags": a.tags})
	})
	mux.HandleFunc("/v2/repositories/mongodb/mongodb-community-server/tags", func(w http.ResponseWriter, r *http.Request) {
		var res []map[string]string
		for _, t := range a.mongo {
			if strings.Contains(t, r.URL.Query().Get("name")) {
				res = append(res, map[string]string{"name": t})
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"count": len(res), "next": nil, "results": res})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return Options{UserAgent: "rcgen/test", GitHubAPI: srv.URL, RocketChatRegistry: srv.URL, DockerHub: srv.URL,
		Now: func() time.Time { return time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC) }}
}

func TestFetchMarksImageSeenOnlyWhenTheRegistryListsIt(t *testing.T) {
	for _, c := range []struct {
		name string
		tags []string
		seen bool
	}{{"listed", []string{"8.8.1", "8.9.1", "8.0.8"}, true}, {"not listed", []string{"8.8.1", "8.0.8"}, false}} {
		t.Run(c.name, func(t *testing.T) {
			b, f, err := Fetch(context.Background(), serve(t, normal(c.tags...)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := catalog.ParseFile("cache", b); err != nil {
				t.Fatalf("the written cache does not parse: %v\n%s", err, b)
			}
			var r89 *catalog.FileRelease
			for i := range f.Releases {
				if f.Releases[i].Line == "8.9" {
					r89 = &f.Releases[i]
				}
				if f.Releases[i].Line == "9.1" {
					t.Errorf("a release candidate was taken: %+v", f.Releases[i])
				}
			}
			if r89 == nil {
				t.Fatalf("no 8.9 in\n%s", b)
			}
			if (r89.Image != nil) != c.seen {
				t.Fatalf("8.9.1 image seen = %v, want %v\n%s", r89.Image != nil, c.seen, b)
			}
			m, err := catalog.Merge(f)
			if err != nil {
				t.Fatal(err)
			}
			defer catalog.Use(m)()
			_, derr := catalog.Deployable("8.9.1")
			if (derr == nil) != c.seen {
				t.Errorf("8.9.1 deployable = %v, want %v (%v)", derr == nil, c.seen, derr)
			}
			if s, _ := catalog.Series("8.0"); s.Tag != "8.0.38-ubi9-slim" {
				t.Errorf("MongoDB 8.0 pinned to %s, want the newest -ubi9-slim patch 8.0.38-ubi9-slim", s.Tag)
			}
			if strings.Contains(string(b), "breaking") || strings.Contains(string(b), "allow") {
				t.Errorf("a refresh wrote a rule:\n%s", b)
			}
		})
	}
}

func TestContradictionKeepsRcgensRule(t *testing.T) {
	a := normal("8.0.8")
	a.releases = strings.Replace(a.releases, `"MongoDB: `+"`8.2`", `"MongoDB: `+"`8.0`", 1)
	rels := []map[string]any{{"tag_name": "8.0.8", "name": "8.0.8", "published_at": "2026-05-01T10:00:00Z", "body": body("22.16.0", "8.0")}}
	b, _ := json.Marshal(rels)
	a.releases = string(b)
	_, f, err := Fetch(context.Background(), serve(t, a))
	if err != nil {
		t.Fatal(err)
	}
	m, err := catalog.Merge(f)
	if err != nil {
		t.Fatal(err)
	}
	defer catalog.Use(m)()
	r, _ := catalog.Lookup("8.0.8")
	if strings.Join(r.MongoDB, ",") != "8.2" {
		t.Errorf("8.0 declares %v after the refresh, want rcgen's 8.2", r.MongoDB)
	}
	if !strings.Contains(strings.Join(m.Notes, "\n"), "declares MongoDB 8.0") {
		t.Errorf("no note of the contradiction: %q", m.Notes)
	}
}

func TestFailingAnswersAreClearErrors(t *testing.T) {
	big := answers{releases: "[" + strings.Repeat(" ", MaxBody+10) + "]"}
	for name, c := range map[string]struct {
		a    answers
		says string
	}{
		"500":       {answers{status: 500}, "500"},
		"malformed": {answers{releases: `[{"tag_name": 8.9.1`}, "not the JSON expected"},
		"oversized": {big, "more than 8 MiB"},
	} {
		t.Run(name, func(t *testing.T) {
			b, f, err := Fetch(context.Background(), serve(t, c.a))
			if err == nil || b != nil || f != nil {
				t.Fatalf("Fetch = %v, %v, want an error", f, err)
			}
			var se *SourceError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %q: want a SourceError saying %q", err, c.says)
			}
		})
	}
}

func TestSlowServerGivesUpAtTheTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	o := Options{GitHubAPI: srv.URL, RocketChatRegistry: srv.URL, DockerHub: srv.URL, Timeout: 50 * time.Millisecond}
	_, _, err := Fetch(context.Background(), o)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if !strings.Contains(err.Error(), "could not reach 127.0.0.1") || !strings.Contains(err.Error(), "within 50ms") {
		t.Errorf("error %q does not say which source and the timeout", err)
	}
}

func TestCacheWriteLoadAndExpiry(t *testing.T) {
	b, _, err := Fetch(context.Background(), serve(t, normal("8.9.1")))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rcgen", "catalog.yaml")
	if err := Write(path, b); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("the directory holds %d files, want the cache only", len(ents))
	}
	written := st.ModTime()
	c, fresh, err := Load(path, written.Add(23*time.Hour))
	if err != nil || !fresh || c.File != path {
		t.Fatalf("Load a day-young cache = %v, fresh %v, %v", c, fresh, err)
	}
	if _, fresh, _ := Load(path, written.Add(25*time.Hour)); fresh {
		t.Error("a cache 25 hours old is fresh")
	}
}

func TestEnginesReadsTheNotesShapes(t *testing.T) {
	for _, c := range []struct{ body, node, mongo string }{
		{body("22.16.0", "5.0, 6.0, 7.0"), "22.16.0", "5.0,6.0,7.0"},
		{"## Engine versions\r\n* Node: `22.16.0`\r\n* MongoDB: `5, 6, 7, 8`\r\n", "22.16.0", "5.0,6.0,7.0,8.0"},
		{"### Patch Changes\n- MongoDB: `9.9`\n", "", ""},
	} {
		node, mongo := Engines(c.body)
		if node != c.node || strings.Join(mongo, ",") != c.mongo {
			t.Errorf("Engines(%q) = %q, %v; want %q, %s", c.body, node, mongo, c.node, c.mongo)
		}
	}
}

// TestPinnedImagesAreAskedOfDockerHub: every pinned image's tag is asked
// by Docker Hub's tag endpoint (official images under library/); a 404
// leaves the image unmarked, an error fails the refresh naming the hub.
func TestPinnedImagesAreAskedOfDockerHub(t *testing.T) {
	for _, c := range []struct {
		status int
		fails  bool
	}{{http.StatusOK, false}, {http.StatusNotFound, false}, {http.StatusBadGateway, true}} {
		asked := map[string]bool{}
		var mu sync.Mutex
		o := serve(t, normal("8.9.1"))
		upstream := o.DockerHub
		mux := http.NewServeMux()
		mux.HandleFunc("/v2/namespaces/{ns}/repositories/{repo}/tags/{tag}", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			asked[r.PathValue("ns")+"/"+r.PathValue("repo")+":"+r.PathValue("tag")] = true
			mu.Unlock()
			w.WriteHeader(c.status)
		})
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			resp, err := http.Get(upstream + r.URL.RequestURI())
			if err != nil {
				w.WriteHeader(502)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			w.WriteHeader(resp.StatusCode)
			w.Write(b)
		})
		hub := httptest.NewServer(mux)
		o.DockerHub = hub.URL
		b, _, err := Fetch(context.Background(), o)
		hub.Close()
		if c.fails {
			if err == nil || !strings.Contains(err.Error(), "502") {
				t.Errorf("%d: err %v, want the hub's failure", c.status, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d: %v", c.status, err)
		}
		for _, want := range []string{"library/caddy:" + strings.TrimPrefix(catalog.CaddyImage, "caddy:"), "grafana/grafana:" + strings.TrimPrefix(catalog.GrafanaImage, "grafana/grafana:")} {
			if !asked[want] {
				t.Errorf("%d: %s was not asked (asked %v)", c.status, want, asked)
			}
		}
		if got := strings.Contains(string(b), "image: "+catalog.PrometheusImage); got != (c.status == http.StatusOK) {
			t.Errorf("%d: Prometheus's pin marked seen = %v:\n%s", c.status, got, b)
		}
	}
}
