package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/refresh"
)

// counted wraps o's sources in a server that counts the requests.
func counted(t *testing.T, o refresh.Options) (refresh.Options, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	target := o.GitHubAPI
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		resp, err := http.Get(target + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		buf := make([]byte, 1<<16)
		for {
			k, err := resp.Body.Read(buf)
			w.Write(buf[:k])
			if err != nil {
				break
			}
		}
	}))
	t.Cleanup(srv.Close)
	return refresh.Options{GitHubAPI: srv.URL, RocketChatRegistry: srv.URL, DockerHub: srv.URL}, &n
}

// TestGenerateRefreshesOnceADayAndSaysSoOnce: the first generate of the
// day refreshes the catalog (the default follows the newest LTS it saw),
// the first ever says that rcgen looks things up and how to stop it; a
// second run the same day asks nothing and says nothing of it.
func TestGenerateRefreshesOnceADayAndSaysSoOnce(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "rcgen", "catalog.yaml")
	o, hits := counted(t, upstream(t, "8.2", "8.9.1", "8.0.8"))
	out := t.TempDir()
	r := runEnv(withCache(cache, o, nil), "generate", "--yes", "--dry-run", "--out", filepath.Join(out, "a"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if hits.Load() == 0 {
		t.Fatal("generate did not refresh the catalog on its first run of the day")
	}
	for _, want := range []string{"Note: once a day rcgen looks up new Rocket.Chat releases", "--offline or RCGEN_OFFLINE=1 stops it", "Catalog refreshed from "} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat(cache); err != nil {
		t.Errorf("the refresh was not cached: %v", err)
	}
	before := hits.Load()
	r = runEnv(withCache(cache, o, nil), "generate", "--yes", "--dry-run", "--out", filepath.Join(out, "b"))
	if r.code != 0 {
		t.Fatalf("second run: exit %d: %s", r.code, r.stderr)
	}
	if hits.Load() != before {
		t.Errorf("a second run the same day asked the sources again (%d requests)", hits.Load()-before)
	}
	if strings.Contains(r.stderr, "once a day rcgen looks up") || strings.Contains(r.stderr, "Catalog refreshed") {
		t.Errorf("the second run spoke of the lookup again:\n%s", r.stderr)
	}
	// A day later the cache is stale: the next run refreshes again, without the notice.
	day := refreshDay.Add(25 * time.Hour)
	os.Chtimes(cache, refreshDay, refreshDay)
	os.Chtimes(filepath.Join(filepath.Dir(cache), "last-attempt"), refreshDay, refreshDay)
	e := withCache(cache, o, nil)
	r = runEnv(func(env *Env) { e(env); env.Now = func() time.Time { return day } }, "doctor", "--offline=false", "--out", filepath.Join(out, "none"))
	if hits.Load() == before {
		t.Errorf("doctor a day later did not refresh the stale cache:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "once a day rcgen looks up") {
		t.Errorf("the notice came twice:\n%s", r.stderr)
	}
}

// TestAutoRefreshNeverOffline: --offline, RCGEN_OFFLINE and a pinned
// catalog file each keep generate, upgrade and doctor off the network.
func TestAutoRefreshNeverOffline(t *testing.T) {
	pinned := filepath.Join(t.TempDir(), "pinned.yaml")
	os.WriteFile(pinned, []byte("version: 1\ngenerated: 2026-11-20\n"), 0o644)
	for name, c := range map[string]struct {
		env  map[string]string
		args []string
	}{
		"generate --offline":  {nil, []string{"generate", "--yes", "--dry-run", "--offline"}},
		"RCGEN_OFFLINE=true":  {map[string]string{"RCGEN_OFFLINE": "true"}, []string{"generate", "--yes", "--dry-run"}},
		"generate --catalog":  {nil, []string{"generate", "--yes", "--dry-run", "--catalog", pinned}},
		"doctor --offline":    {nil, []string{"doctor", "--offline"}},
		"upgrade --offline":   {nil, []string{"upgrade", "--offline", "--to", "lts", "--dry-run"}},
		"RCGEN_OFFLINE=1 doc": {map[string]string{"RCGEN_OFFLINE": "1"}, []string{"doctor"}},
	} {
		t.Run(name, func(t *testing.T) {
			cache := filepath.Join(t.TempDir(), "rcgen", "catalog.yaml")
			args := append(c.args, "--out", filepath.Join(t.TempDir(), "d"))
			if c.args[0] == "upgrade" {
				args = append(c.args, "--dir", t.TempDir())
			}
			r := runEnv(withCache(cache, forbidden(t), c.env), args...)
			if strings.Contains(r.stderr, "looks up") || strings.Contains(r.stderr, "refreshed") {
				t.Errorf("spoke of a lookup offline:\n%s", r.stderr)
			}
			if _, err := os.Stat(filepath.Dir(cache)); err == nil {
				t.Errorf("wrote to the cache directory offline")
			}
		})
	}
}

// TestAutoRefreshGivesUpAtItsTimeoutAndGoesOn: sources that never answer
// cost the run the refresh's timeout (the server sees the request given
// up), the run goes on with the compiled-in catalog and says how old it
// is, and the next run within the hour does not try again.
func TestAutoRefreshGivesUpAtItsTimeoutAndGoesOn(t *testing.T) {
	gaveUp := make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers: only the client's timeout ends this
		gaveUp <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	cache := filepath.Join(t.TempDir(), "rcgen", "catalog.yaml")
	o := refresh.Options{GitHubAPI: srv.URL, RocketChatRegistry: srv.URL, DockerHub: srv.URL, Timeout: 300 * time.Millisecond}
	r := runEnv(withCache(cache, o, nil), "generate", "--yes", "--dry-run", "--out", filepath.Join(t.TempDir(), "d"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	select {
	case <-gaveUp:
	default:
		t.Error("the source never saw its request given up")
	}
	want := "using the compiled-in catalog of " + catalog.CheckedOn.String() + " (" + catalog.Compiled().Age(refreshDay) + ")"
	if !strings.Contains(r.stderr, "Note: the catalog was not refreshed (could not reach") || !strings.Contains(r.stderr, want) {
		t.Errorf("no note of the failed lookup and of the catalog's age (%q):\n%s", want, r.stderr)
	}
	restore := catalog.Use(catalog.Compiled())
	def := catalog.DefaultRocketChatVersion()
	restore()
	if !strings.Contains(r.stdout+r.stderr, def) {
		t.Errorf("the run did not go on with the compiled-in default:\n%s", r.stdout)
	}
	r = runEnv(withCache(cache, forbidden(t), nil), "generate", "--yes", "--dry-run", "--out", filepath.Join(t.TempDir(), "d"))
	if r.code != 0 || strings.Contains(r.stderr, "not refreshed") {
		t.Errorf("a run within the hour tried again (exit %d):\n%s", r.code, r.stderr)
	}
}

// TestRefreshWarnsOfAPinnedImageTheRegistryDoesNotList: a pinned tag
// Docker Hub answers 404 for is named, with what to do.
func TestRefreshWarnsOfAPinnedImageTheRegistryDoesNotList(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "catalog.yaml")
	r := runEnv(withCache(cache, upstreamMissing(t, []string{catalog.GrafanaImage}, "8.2", "8.9.1"), nil), "versions", "--refresh")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "Warning: Docker Hub does not list "+catalog.GrafanaImage) {
		t.Errorf("no warning for the missing pin:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "does not list "+catalog.CaddyImage) {
		t.Errorf("warned of a pin Docker Hub lists:\n%s", r.stderr)
	}
	b, _ := os.ReadFile(cache)
	if !strings.Contains(string(b), "image: "+catalog.CaddyImage) || strings.Contains(string(b), "image: "+catalog.GrafanaImage) {
		t.Errorf("the cache does not mark exactly the listed pins seen:\n%s", b)
	}
}
