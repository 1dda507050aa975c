package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// TestDockerfile parses the Dockerfile with BuildKit's own parser (what
// `docker build` runs) and checks what a self-hoster relies on: the release
// binary only, from scratch, a non-root user, rcgen as the entrypoint, and
// a COPY source that `make dist` produces for every platform it builds.
// No image can be built here: there is no Docker daemon.
func TestDockerfile(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("BuildKit refuses the Dockerfile: %v", err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		t.Fatalf("BuildKit refuses the Dockerfile's instructions: %v", err)
	}
	if len(stages) != 1 || stages[0].BaseName != "scratch" {
		t.Fatalf("want one stage from scratch (the static binary only), got %d stages", len(stages))
	}
	_ = metaArgs
	var user, entry, copySrc string
	for _, c := range stages[0].Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.EntrypointCommand:
			entry = strings.Join(c.CmdLine, " ")
		case *instructions.CopyCommand:
			copySrc = strings.Join(c.SourcePaths, " ")
		case *instructions.RunCommand:
			t.Errorf("a RUN in a scratch image cannot work: %s", c)
		}
	}
	if user == "" || user == "0" || strings.HasPrefix(user, "0:") || user == "root" {
		t.Errorf("the image runs as %q, want a non-root user", user)
	}
	if entry != "/usr/local/bin/rcgen" {
		t.Errorf("entrypoint %q", entry)
	}
	dist, err := os.ReadFile(filepath.Join("..", "..", "scripts", "dist"))
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		src := strings.ReplaceAll(copySrc, "${TARGETARCH}", arch)
		if !strings.Contains(string(dist), "linux/"+arch) || !strings.HasPrefix(src, "dist/rcgen-linux-"+arch) {
			t.Errorf("the image copies %s, which scripts/dist does not build for %s", src, arch)
		}
	}
	if !slices.ContainsFunc(res.AST.Children, func(n *parser.Node) bool { return strings.EqualFold(n.Value, "arg") }) {
		t.Error("no ARG TARGETARCH: a multi-platform build would copy the wrong binary")
	}
}
