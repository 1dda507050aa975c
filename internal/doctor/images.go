package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/render"
)

// ImageTimeout bounds each `docker manifest inspect`. The images are
// asked for all at once, so the check takes at most this long.
const ImageTimeout = 20 * time.Second

// PinnedImage is one image a deployment's compose.yaml (or stack.yaml)
// names, with the services that run it.
type PinnedImage struct {
	Image    string
	Services []string
}

// DeploymentImages reads the images the deployment in dir pins: its
// compose.yaml, or stack.yaml for Swarm, loaded as docker compose does,
// with .env's variables (ROCKETCHAT_VERSION, MONGODB_VERSION) put in.
// Sorted by image; each image once.
func DeploymentImages(ctx context.Context, dir string) ([]PinnedImage, error) {
	var files render.Files
	name := render.StackFile
	b, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		name = render.ComposeFile
		b, err = os.ReadFile(filepath.Join(dir, name))
	}
	if err != nil {
		return nil, err
	}
	files = append(files, render.File{Path: name, Content: b})
	if env, err := os.ReadFile(filepath.Join(dir, render.EnvFile)); err == nil {
		files = append(files, render.File{Path: render.EnvFile, Content: env})
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var p *types.Project
	if name == render.StackFile {
		p, _, err = render.LoadStack(ctx, files)
	} else {
		p, err = render.LoadCompose(ctx, files)
	}
	if err != nil {
		return nil, err
	}
	services := map[string][]string{}
	for _, s := range p.Services {
		if s.Image != "" {
			services[s.Image] = append(services[s.Image], s.Name)
		}
	}
	var out []PinnedImage
	for img, names := range services {
		slices.Sort(names)
		out = append(out, PinnedImage{Image: img, Services: names})
	}
	slices.SortFunc(out, func(a, b PinnedImage) int { return strings.Compare(a.Image, b.Image) })
	return out, nil
}

// Images checks that every image the deployment pins is on its registry,
// with `docker manifest inspect` (it reads the manifest and pulls
// nothing), one result per image in the order given. Each runs at once
// with its own ImageTimeout.
//
// docker manifest inspect is a client command: it asks the registry
// itself, with the credentials of `docker login`, and not through the
// daemon's registry-mirrors (docker/cli internal/registryclient,
// allEndpoints, builds its endpoints with no mirrors). It was experimental
// before Docker CLI 20.10 and needed "experimental": "enabled" in
// ~/.docker/config.json; 20.10 turned the experimental CLI features on
// for good (docker/cli#2774). The CLI reports an unknown tag, and (since
// it goes on to the next endpoint on 401) a repository Docker Hub denies,
// as "no such manifest: REF" (internal/registryclient/fetcher.go).
func Images(ctx context.Context, sys System, images []PinnedImage, timeout time.Duration) []Result {
	if len(images) == 0 {
		return nil
	}
	if sys.Docker == nil {
		return []Result{{Name: "images", Status: Warn, Found: "not checked"}}
	}
	if timeout <= 0 {
		timeout = ImageTimeout
	}
	rs := make([]Result, len(images))
	var wg sync.WaitGroup
	for i, img := range images {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ictx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			_, err := sys.Docker(ictx, "manifest", "inspect", img.Image)
			rs[i] = imageResult(img, err, ictx.Err() != nil, timeout)
		}()
	}
	wg.Wait()
	// Without docker, one line says so, not one per image.
	for _, r := range rs {
		if r.Status == Warn && strings.HasPrefix(r.Found, "not checked: docker is not installed") {
			return []Result{{Name: "images", Status: Warn, Found: fmt.Sprintf("not checked: docker is not installed (%d images)", len(images)),
				Do: "install Docker (the docker check says how), then run rcgen doctor again"}}
		}
	}
	return rs
}

// imageResult reads what docker manifest inspect said of img.
func imageResult(img PinnedImage, err error, timedOut bool, timeout time.Duration) Result {
	r := Result{Name: "image " + img.Image}
	host := registryHost(img.Image)
	used := "for " + strings.Join(img.Services, ", ")
	if err == nil {
		r.Found = fmt.Sprintf("on %s, %s", host, used)
		return r
	}
	var notFound *exec.Error
	if errors.As(err, &notFound) {
		r.Status, r.Found = Warn, "not checked: docker is not installed"
		return r
	}
	msg := dockerMessage(err)
	low := strings.ToLower(msg)
	has := func(words ...string) bool {
		return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(low, w) })
	}
	switch {
	case timedOut:
		r.Status, r.Found = Warn, fmt.Sprintf("cannot tell: %s did not answer within %s (offline?), %s", host, timeout, used)
		r.Do = mirrorNote(img.Image)
	case has("no such manifest", "manifest unknown", "name unknown"):
		r.Status, r.Found = Fail, fmt.Sprintf("not on %s, %s (%s)", host, used, msg)
		r.Do = notFoundFix(img.Image)
	case has("unauthorized", "denied", "authentication required"):
		r.Status, r.Found = Fail, fmt.Sprintf("%s refused it, %s (%s)", host, used, msg)
		r.Do = fmt.Sprintf("if %s needs a login, `docker login %s` as the user that runs the stack; otherwise the image is not published there: %s", host, host, notFoundFix(img.Image))
	case has("experimental", "is not a docker command", "unknown command"):
		r.Status, r.Found = Warn, fmt.Sprintf("cannot tell: this docker has no `docker manifest inspect`, %s (%s)", used, msg)
		r.Do = fmt.Sprintf("Docker CLI 20.10 and later have it; older ones need \"experimental\": \"enabled\" in ~/.docker/config.json; or check by hand: docker pull %s", img.Image)
	case has("no such host", "i/o timeout", "connection refused", "network is unreachable", "no route to host",
		"tls handshake timeout", "deadline exceeded", "temporary failure in name resolution", "server misbehaving",
		"connection reset", "dial tcp", "proxyconnect"):
		r.Status, r.Found = Warn, fmt.Sprintf("cannot tell: %s is unreachable from here, %s (%s)", host, used, msg)
		r.Do = mirrorNote(img.Image)
	default:
		r.Status, r.Found = Warn, fmt.Sprintf("cannot tell: docker manifest inspect failed, %s (%s)", used, msg)
		r.Do = fmt.Sprintf("run docker manifest inspect %s to see why, or docker pull %s", img.Image, img.Image)
	}
	return r
}

// mirrorNote: an unreachable registry may be one this host reaches only
// through the daemon's mirror, which docker manifest inspect does not use.
func mirrorNote(image string) string {
	return fmt.Sprintf("run rcgen doctor where the registry is reachable, or RCGEN_OFFLINE=1 to skip this check; if this host pulls through a registry mirror (registry-mirrors in /etc/docker/daemon.json), docker manifest inspect does not use it: docker pull %s tells", image)
}

// notFoundFix says what to do about an image its registry does not have:
// another release for Rocket.Chat's image (its tag is the release), a
// newer rcgen for the images rcgen pins, the file for a hand edit.
func notFoundFix(image string) string {
	pinned := strings.HasPrefix(image, catalog.MongoDBImageRepo+":") ||
		slices.ContainsFunc(catalog.PinnedImages(), func(i catalog.Image) bool { return i.Image == image })
	switch {
	case strings.HasPrefix(image, catalog.RocketChatImage+":"):
		return "the release's image is not published (or was withdrawn): `rcgen versions` lists the releases rcgen deploys; move to one with `rcgen upgrade --to VERSION`, or get a newer rcgen; if this host pulls through a private registry or mirror, copy the image there"
	case pinned:
		return "rcgen pins a tag its registry does not have: get a newer rcgen (its catalog pins published tags) and re-run rcgen generate; if this host pulls through a private registry or mirror, copy the image there"
	}
	return "rcgen does not pin this image (the file was edited by hand?): fix the tag, or re-run rcgen generate to write rcgen's own"
}

// dockerMessage is what docker wrote to standard error, on one line
// (older CLIs wrote "errors:" and the registry's errors below it), or the
// error itself.
func dockerMessage(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		var lines []string
		for _, l := range strings.Split(string(exit.Stderr), "\n") {
			if l = strings.TrimSpace(l); l != "" && l != "errors:" {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			return strings.Join(lines, "; ")
		}
	}
	return err.Error()
}

// registryHost is the registry an image reference names: the first path
// part when it looks like a host, Docker Hub otherwise (the rule of
// github.com/distribution/reference, splitDockerDomain).
func registryHost(image string) string {
	first, _, ok := strings.Cut(image, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first
	}
	return "Docker Hub (docker.io)"
}
