package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/refresh"
)

// upstream serves, from the documented formats (GitHub's releases list,
// the OCI tag list, Docker Hub's tags), releases whose notes declare
// mongo for 8.0.8 and 8.0 for 8.9.1, and the registry listing tags.
func upstream(t *testing.T, mongo80 string, tags ...string) refresh.Options {
	t.Helper()
	return upstreamMissing(t, nil, mongo80, tags...)
}

// upstreamMissing is upstream whose Docker Hub does not list the pinned
// images in missing (Docker Hub's "Read repository tag": 200 or 404).
func upstreamMissing(t *testing.T, missing []string, mongo80 string, tags ...string) refresh.Options {
	t.Helper()
	notes := func(m string) string {
		return "### Engine versions\n- Node: `22.22.3`\n- MongoDB: `" + m + "`\n"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/repos/RocketChat/Rocket.Chat/releases", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode([]map[string]any{
			{"tag_name": "8.9.1", "name": "8.9.1 LTS", "published_at": "2026-11-06T10:00:00Z", "body": notes("8.0")},
			{"tag_name": "8.0.8", "name": "8.0.8", "published_at": "2026-05-01T10:00:00Z", "body": notes(mongo80)},
		})
	})
	mux.HandleFunc("/v2/rocketchat/rocket.chat/tags/list", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"name": "rocketchat/rocket.chat", "tags": tags})
	})
	mux.HandleFunc("/v2/repositories/mongodb/mongodb-community-server/tags", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"count":0,"next":null,"results":[]}`)
	})
	mux.HandleFunc("/v2/namespaces/{ns}/repositories/{repo}/tags/{tag}", func(w http.ResponseWriter, r *http.Request) {
		image := r.PathValue("ns") + "/" + r.PathValue("repo") + ":" + r.PathValue("tag")
		image = strings.TrimPrefix(image, "library/")
		if slices.Contains(missing, image) {
			http.Error(w, `{"message":"not found","errinfo":null}`, http.StatusNotFound)
			return
		}
		fmt.Fprintf(w, `{"name":%q,"tag_status":"active"}`, r.PathValue("tag"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return refresh.Options{GitHubAPI: srv.URL, RocketChatRegistry: srv.URL, DockerHub: srv.URL}
}

// forbidden is a source that fails the test when dialled.
func forbidden(t *testing.T) refresh.Options {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("rcgen touched the network offline: %s", r.URL)
	}))
	t.Cleanup(srv.Close)
	return refresh.Options{GitHubAPI: srv.URL, RocketChatRegistry: srv.URL, DockerHub: srv.URL}
}

var refreshDay = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

func withCache(cache string, o refresh.Options, getenv map[string]string) func(*Env) {
	return func(e *Env) {
		e.CatalogCache, e.Refresh = cache, o
		e.Now = func() time.Time { return refreshDay }
		e.Getenv = func(k string) string { return getenv[k] }
	}
}

func TestVersionsRefreshCachesAndTheCacheIsUsed(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "rcgen", "catalog.yaml")
	r := runEnv(withCache(cache, upstream(t, "8.2", "8.9.1", "8.0.8"), nil), "versions", "--refresh")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "Refreshed from ") || !strings.Contains(r.stderr, "8.9: image of 8.9.1 seen published") {
		t.Errorf("the refresh does not say where from and what changed:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "Catalog: "+cache) || !strings.Contains(r.stdout, "8.9.1 (default") {
		t.Errorf("versions does not use the refreshed catalog:\n%s", r.stdout)
	}
	b, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.ParseFile(cache, b); err != nil {
		t.Fatalf("the cache does not parse: %v", err)
	}
	// A later run, offline, uses the cache without a refresh.
	r = runEnv(withCache(cache, forbidden(t), map[string]string{"RCGEN_OFFLINE": "1"}), "versions")
	if r.code != 0 || !strings.Contains(r.stdout, "Catalog: "+cache) || !strings.Contains(r.stdout, "8.9.1 (default") {
		t.Errorf("a later run does not use the cache (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	// An explicit --catalog wins over the cache.
	pinned := filepath.Join(t.TempDir(), "pinned.yaml")
	os.WriteFile(pinned, []byte("version: 1\ngenerated: 2026-11-20\n"), 0o644)
	r = runEnv(withCache(cache, forbidden(t), nil), "versions", "--catalog", pinned)
	if !strings.Contains(r.stdout, "Catalog: "+pinned) || strings.Contains(r.stdout, "8.9.1 (default") {
		t.Errorf("--catalog does not win over the cache:\n%s%s", r.stdout, r.stderr)
	}
}

func TestVersionsRefreshContradictionKeepsTheRule(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "catalog.yaml")
	r := runEnv(withCache(cache, upstream(t, "8.0", "8.0.8"), nil), "versions", "--refresh")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "Note: the catalog "+cache+" says 8.0 declares MongoDB 8.0; rcgen knows 8.2") {
		t.Errorf("no note that the refresh contradicted rcgen's rule:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "8.0.8  ") || !strings.Contains(r.stdout, "8.2.12-ubi9-slim") {
		t.Errorf("8.0 no longer runs MongoDB 8.2:\n%s", r.stdout)
	}
}

func TestVersionsRefreshFailureKeepsTheCompiledCatalog(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	t.Cleanup(srv.Close)
	cache := filepath.Join(t.TempDir(), "catalog.yaml")
	o := refresh.Options{GitHubAPI: srv.URL, RocketChatRegistry: srv.URL, DockerHub: srv.URL}
	r := runEnv(withCache(cache, o, nil), "versions", "--refresh")
	want := fmt.Sprintf("using the compiled-in catalog of %s (%s)", catalog.CheckedOn, catalog.Compiled().Age(refreshDay))
	if r.code != 0 || !strings.Contains(r.stderr, "Refresh failed: ") || !strings.Contains(r.stderr, "500") || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d; stderr does not say why and which catalog stands (%q):\n%s", r.code, want, r.stderr)
	}
	if _, err := os.Stat(cache); err == nil {
		t.Error("a failed refresh wrote the cache")
	}
	if !strings.Contains(r.stdout, "Catalog: compiled into rcgen") {
		t.Errorf("the compiled-in catalog is not the one used:\n%s", r.stdout)
	}
}

func TestOfflineNeverDials(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "catalog.yaml")
	r := runEnv(withCache(cache, forbidden(t), map[string]string{"RCGEN_OFFLINE": "1"}), "versions", "--refresh")
	if r.code != 0 || !strings.Contains(r.stderr, "RCGEN_OFFLINE") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if r := runEnv(withCache(cache, forbidden(t), nil), "versions", "--offline"); r.code != 0 {
		t.Errorf("versions --offline: exit %d: %s", r.code, r.stderr)
	}
	if r := runEnv(withCache(cache, forbidden(t), nil), "versions", "--offline", "--refresh"); r.code != ExitUsage || !strings.Contains(r.stderr, "contradict") {
		t.Errorf("--offline --refresh: exit %d: %s", r.code, r.stderr)
	}
}

// TestABadCacheIsNotUsedAndSaysSo: a cache that does not read (garbage, or
// not a regular file: a FIFO would block a plain read forever) leaves the
// compiled-in catalog in use, with a note saying why and how to mend it.
func TestABadCacheIsNotUsedAndSaysSo(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.yaml")
	if err := os.WriteFile(garbage, []byte("version: 99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cache := range []string{garbage, fifo} {
		r := runEnv(withCache(cache, forbidden(t), nil), "versions", "--offline")
		if r.code != 0 || !strings.Contains(r.stderr, "Note: the cached catalog is not used (") || !strings.Contains(r.stderr, "rcgen versions --refresh writes the cache again") {
			t.Errorf("%s: exit %d, no note:\n%s", filepath.Base(cache), r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "Catalog: compiled into rcgen") {
			t.Errorf("%s: the compiled-in catalog is not the one used:\n%s", filepath.Base(cache), r.stdout)
		}
	}
}
