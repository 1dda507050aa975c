package doctor

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
)

// manifestFails stands in for `docker manifest inspect` failing: docker
// exits 1 with msg on standard error (exec's Output keeps it in the
// ExitError, as System.Docker of This() runs it).
func manifestFails(msg string) error { return &exec.ExitError{Stderr: []byte(msg)} }

// registry answers docker manifest inspect per image; an image it does
// not know waits for the deadline, as an unreachable registry does.
func registry(t *testing.T, answers map[string]error) func(context.Context, ...string) ([]byte, error) {
	return func(ctx context.Context, args ...string) ([]byte, error) {
		if len(args) != 3 || args[0] != "manifest" || args[1] != "inspect" {
			t.Errorf("unexpected docker %s", strings.Join(args, " "))
			return nil, errors.New("exit status 1")
		}
		err, ok := answers[args[2]]
		if !ok {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		if err != nil {
			return nil, err
		}
		return []byte(`{"schemaVersion":2}`), nil
	}
}

// TestImages: each answer of the registry (as docker manifest inspect
// prints it) gives its verdict, names the image and its services, and
// says what to do.
func TestImages(t *testing.T) {
	rc := catalog.RocketChatImage + ":8.8.1"
	cases := []struct {
		name   string
		image  string
		answer error
		status Status
		found  string
		do     string
	}{
		{"published", catalog.CaddyImage, nil, OK, "on Docker Hub (docker.io), for caddy", ""},
		// docker/cli internal/registryclient: "no such manifest: " + the reference.
		{"a release never published", rc, manifestFails("no such manifest: " + rc + "\n"), Fail,
			"not on registry.rocket.chat, for caddy (no such manifest: " + rc + ")", "rcgen upgrade --to VERSION"},
		{"a tag rcgen pins, withdrawn", catalog.GrafanaImage, manifestFails("no such manifest: docker.io/" + catalog.GrafanaImage), Fail,
			"not on Docker Hub (docker.io)", "get a newer rcgen"},
		{"a MongoDB tag", catalog.MongoDBImageRepo + ":8.0.99-ubi9", manifestFails("manifest unknown: manifest unknown"), Fail,
			"not on Docker Hub", "get a newer rcgen"},
		{"a tag edited by hand", "caddy:2-alpine-nope", manifestFails("no such manifest: docker.io/library/caddy:2-alpine-nope"), Fail,
			"not on Docker Hub", "rcgen does not pin this image"},
		// Older CLIs printed the registry's errors under "errors:".
		{"denied", "registry.example.com/rc/rocket.chat:1", manifestFails("errors:\ndenied: requested access to the resource is denied\nunauthorized: authentication required\n"), Fail,
			"registry.example.com refused it, for caddy (denied: requested access to the resource is denied; unauthorized: authentication required)", "docker login registry.example.com"},
		{"unreachable", catalog.NATSImage, manifestFails(`Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: server misbehaving`), Warn,
			"cannot tell: Docker Hub (docker.io) is unreachable from here, for caddy (Get ", "registry-mirrors"},
		{"no manifest command", catalog.NATSImage, manifestFails("docker manifest is only supported on a Docker cli with experimental cli features enabled"), Warn,
			"cannot tell: this docker has no `docker manifest inspect`, for caddy", "Docker CLI 20.10"},
		{"something else", catalog.NATSImage, manifestFails("unexpected EOF"), Warn,
			"docker manifest inspect failed, for caddy (unexpected EOF)", "docker pull " + catalog.NATSImage},
	}
	for _, c := range cases {
		sys := System{Docker: registry(t, map[string]error{c.image: c.answer})}
		rs := Images(context.Background(), sys, []PinnedImage{{c.image, []string{"caddy"}}}, time.Minute)
		if len(rs) != 1 {
			t.Fatalf("%s: %v", c.name, rs)
		}
		r := rs[0]
		if r.Name != "image "+c.image || r.Status != c.status || !strings.Contains(r.Found, c.found) || !strings.Contains(r.Do, c.do) {
			t.Errorf("%s: %s", c.name, r)
		}
		if c.status == OK && r.Do != "" {
			t.Errorf("%s: a published image gets advice: %s", c.name, r)
		}
	}
}

// TestImagesTimeout: a registry that never answers costs the timeout,
// and says it cannot tell.
func TestImagesTimeout(t *testing.T) {
	sys := System{Docker: registry(t, nil)}
	rs := Images(context.Background(), sys, []PinnedImage{{catalog.CaddyImage, []string{"caddy"}}}, time.Millisecond)
	if len(rs) != 1 || rs[0].Status != Warn || !strings.Contains(rs[0].Found, "cannot tell: Docker Hub (docker.io) did not answer within 1ms (offline?), for caddy") {
		t.Errorf("a silent registry: %v", rs)
	}
}

// TestImagesAtOnce: the images are asked for at the same time (the first
// one's registry answers only once the last was asked for), and the
// results keep the order given.
func TestImagesAtOnce(t *testing.T) {
	images := []PinnedImage{{"a:1", []string{"a"}}, {"b:1", []string{"b"}}, {"c:1", []string{"c"}}}
	asked := make(chan struct{})
	sys := System{Docker: func(ctx context.Context, args ...string) ([]byte, error) {
		switch args[2] {
		case "a:1":
			select {
			case <-asked:
				return nil, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		case "c:1":
			close(asked)
			return nil, manifestFails("no such manifest: docker.io/library/c:1")
		}
		return nil, nil
	}}
	rs := Images(context.Background(), sys, images, ImageTimeout)
	var got []string
	for _, r := range rs {
		got = append(got, r.Status.String()+" "+r.Name)
	}
	if strings.Join(got, ", ") != "ok image a:1, ok image b:1, fail image c:1" {
		t.Errorf("got %s", strings.Join(got, ", "))
	}
}

// TestImagesWithoutDocker: no docker, one line that says the images were
// not checked (the docker check says how to install it).
func TestImagesWithoutDocker(t *testing.T) {
	images := []PinnedImage{{"a:1", []string{"a"}}, {"b:1", []string{"b"}}}
	missing := System{Docker: func(context.Context, ...string) ([]byte, error) {
		return nil, &exec.Error{Name: "docker", Err: exec.ErrNotFound}
	}}
	rs := Images(context.Background(), missing, images, ImageTimeout)
	if len(rs) != 1 || rs[0].Name != "images" || rs[0].Status != Warn || rs[0].Found != "not checked: docker is not installed (2 images)" {
		t.Errorf("no docker: %v", rs)
	}
	if rs := Images(context.Background(), System{}, images, ImageTimeout); len(rs) != 1 || rs[0].Status != Warn || rs[0].Found != "not checked" {
		t.Errorf("no docker runner: %v", rs)
	}
}
