package cli

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/doctor"
	"github.com/rcgen/rcgen/internal/spec"
)

// pinnedImages is what rcgen pins for release version: Rocket.Chat's
// image at the release, MongoDB's at its pairing, and catalog.PinnedImages.
func pinnedImages(t *testing.T, version string) []string {
	t.Helper()
	m, err := catalog.MongoDBFor(version)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{catalog.RocketChatImage + ":" + version, m.Image()}
	for _, i := range catalog.PinnedImages() {
		want = append(want, i.Image)
	}
	slices.Sort(want)
	return slices.Compact(want)
}

// TestDeploymentImages: the images doctor checks are read from the
// deployment's own files, .env's versions put in, and are the ones rcgen
// pins: every one for a Compose stack, and for a Swarm stack only pinned
// ones, Rocket.Chat's and MongoDB's among them.
func TestDeploymentImages(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	pinned := pinnedImages(t, spec.DefaultRocketChatVersion())
	for _, c := range []struct {
		name  string
		args  []string
		proxy string // the proxy's image
	}{
		{"compose", []string{"--processes", "2", "--allow-unlicensed-instances", "--backup-target", "/mnt/offsite", "--smtp-host", "smtp.example.com:587", "--smtp-from", "alerts@example.com", "--alert-email", "ops@example.com"}, catalog.CaddyImage},
		{"swarm", []string{"--target", "swarm", "--node", "app-1=8:16GiB:proxy,monitoring,db", "--domain", "chat.example.com", "--email", "admin@example.com"}, catalog.CaddyImage},
		{"traefik", []string{"--proxy", "traefik"}, catalog.TraefikImage},
	} {
		out := filepath.Join(t.TempDir(), "d")
		if r := runOn(t, "kernel-7.0.14", now, append([]string{"generate", "--yes", "--out", out}, c.args...)...); r.code != 0 {
			t.Fatalf("%s: %s", c.name, r.stderr)
		}
		images, err := doctor.DeploymentImages(context.Background(), out)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []string
		for _, i := range images {
			got = append(got, i.Image)
			if len(i.Services) == 0 {
				t.Errorf("%s: %s runs in no service", c.name, i.Image)
			}
		}
		// Every image rcgen pins but the other proxy's.
		if want := slices.DeleteFunc(slices.Clone(pinned), func(s string) bool { return s == catalog.TraefikImage }); c.name == "compose" && !slices.Equal(got, want) {
			t.Errorf("%s: doctor checks\n%s\nrcgen pins\n%s", c.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, g := range got {
			if !slices.Contains(pinned, g) {
				t.Errorf("%s: %s is not an image rcgen pins", c.name, g)
			}
		}
		for _, must := range []string{catalog.RocketChatImage + ":" + spec.DefaultRocketChatVersion(), c.proxy} {
			if !slices.Contains(got, must) {
				t.Errorf("%s: %s is not checked: %v", c.name, must, got)
			}
		}
		if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, catalog.MongoDBImageRepo+":") }) {
			t.Errorf("%s: MongoDB's image is not checked: %v", c.name, got)
		}
	}
}

// fakeRegistryDocker answers docker version and compose like a current
// Docker, and docker manifest inspect from missing (no such manifest) or
// found; it records the images asked for.
type fakeRegistryDocker struct {
	mu      sync.Mutex
	missing []string
	asked   []string
	offline bool
}

func (f *fakeRegistryDocker) run(_ context.Context, args ...string) ([]byte, error) {
	switch strings.Join(args, " ") {
	case "version --format {{json .}}":
		return []byte(`{"Client":{"Version":"28.2.2"},"Server":{"Version":"28.2.2","ApiVersion":"1.51"}}`), nil
	case "compose version --short":
		return []byte("2.40.3\n"), nil
	}
	if len(args) == 3 && args[0] == "manifest" && args[1] == "inspect" {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.asked = append(f.asked, args[2])
		if f.offline {
			return nil, &exec.ExitError{Stderr: []byte(`Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host`)}
		}
		if slices.Contains(f.missing, args[2]) {
			return nil, &exec.ExitError{Stderr: []byte("no such manifest: " + args[2])}
		}
		return []byte(`{"schemaVersion":2}`), nil
	}
	return nil, errors.New("unexpected docker " + strings.Join(args, " "))
}

// TestDoctorChecksImages: doctor in a deployment names each image it
// pins; one its registry lacks fails the run with the fix; an unreachable
// registry warns; RCGEN_OFFLINE=1 asks no registry.
func TestDoctorChecksImages(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	out := filepath.Join(t.TempDir(), "d")
	if r := runOn(t, "kernel-7.0.14", now, "generate", "--yes", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	rc := catalog.RocketChatImage + ":" + spec.DefaultRocketChatVersion()
	doctorWith := func(f *fakeRegistryDocker, offline string) result {
		return runEnv(func(env *Env) {
			env.Now = func() time.Time { return now }
			env.Getenv = func(k string) string {
				if k == "RCGEN_OFFLINE" {
					return offline
				}
				return ""
			}
			env.System = func() doctor.System {
				return doctor.System{Root: filepath.Join("..", "doctor", "testdata", "hosts", "kernel-7.0.14"), Docker: f.run}
			}
		}, "doctor", "--out", out)
	}

	all := &fakeRegistryDocker{}
	r := doctorWith(all, "")
	if r.code != 0 {
		t.Errorf("every image published: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"ok   image " + rc + ": on registry.rocket.chat, for rocketchat-1", "ok   image " + catalog.CaddyImage + ": "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("doctor lacks %q:\n%s", want, r.stdout)
		}
	}
	slices.Sort(all.asked)
	images, err := doctor.DeploymentImages(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.asked) != len(images) || len(images) < 3 {
		t.Errorf("asked for %v, the deployment pins %v", all.asked, images)
	}

	r = doctorWith(&fakeRegistryDocker{missing: []string{rc}}, "")
	if r.code != 1 || !strings.Contains(r.stdout, "fail image "+rc+": not on registry.rocket.chat, for rocketchat-1 (no such manifest: "+rc+"); the release's image is not published") ||
		!strings.Contains(r.stderr, "some checks failed: image "+rc) {
		t.Errorf("a release whose image is missing: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = doctorWith(&fakeRegistryDocker{offline: true}, "")
	if r.code != 0 || !strings.Contains(r.stdout, "warn image "+catalog.CaddyImage+": cannot tell: Docker Hub (docker.io) is unreachable from here, for caddy (Get ") {
		t.Errorf("offline without saying so: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	quiet := &fakeRegistryDocker{missing: []string{rc}}
	r = doctorWith(quiet, "1")
	if r.code != 0 || !strings.Contains(r.stdout, "warn images: not checked: offline") || len(quiet.asked) != 0 {
		t.Errorf("RCGEN_OFFLINE=1: exit %d, asked %v\n%s%s", r.code, quiet.asked, r.stdout, r.stderr)
	}
}
