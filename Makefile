# rcgen developer targets. `make test` is the whole suite, set-up included; CI runs it.
GO      ?= go
PKG     := ./...
BINARY  := rcgen
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -buildid= -X github.com/rcgen/rcgen/internal/cli.Version=$(VERSION) -X github.com/rcgen/rcgen/internal/cli.Commit=$(COMMIT)

.PHONY: all build install test tested check unit unit-but-examples fuzz-build swarm kube rehearse tools lint fmt bench golden fuzz examples verify dist dist-check

FUZZTIME ?= 15s
# go test's own limit per package binary: internal/render's real tools
# (Caddy, Traefik, nginx, rclone, promtool) take minutes on a busy
# two-core machine, past go test's default of 10 minutes.
TESTTIMEOUT ?= 30m

# One build configuration for every target: static (no cgo) with trimmed
# paths, as the release binaries are built. The tests, the swarm check, the
# build, dist-check's first build and Caddy's then share one compiled copy
# of every package they have in common instead of one per configuration.
export CGO_ENABLED := 0
export GOFLAGS := -trimpath $(GOFLAGS)

# How many parts make test runs side by side: on two cores one part's waits
# (servers starting, a terminal answering, the network) are another's
# compile time. Every part stays whole; see test.
JOBS ?= 4

all: build

## build: a static binary in ./rcgen
build:
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags '$(LDFLAGS)' -o $(BINARY) ./cmd/rcgen

## dist: the release binaries (linux and darwin, amd64 and arm64) and
## SHA256SUMS in dist/, static and reproducible
dist:
	VERSION=$(VERSION) COMMIT=$(COMMIT) scripts/dist dist

## dist-check: build twice (another directory, an empty cache) and compare
dist-check:
	VERSION=$(VERSION) COMMIT=$(COMMIT) scripts/dist-check

## install: go install the static binary: into $(go env GOBIN), else the
## first $(go env GOPATH)'s bin (~/go/bin); says where, and whether that is
## on the PATH
install:
	CGO_ENABLED=0 $(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/rcgen
	@bin=$$($(GO) env GOBIN); gopath=$$($(GO) env GOPATH); [ -n "$$bin" ] || bin=$${gopath%%:*}/bin; \
	echo "installed $$bin/rcgen"; \
	case ":$$PATH:" in *":$$bin:"*) ;; *) echo "$$bin is not on your PATH: add it (e.g. export PATH=\"$$bin:\$$PATH\" in ~/.profile), or copy $$bin/rcgen to a directory on it";; esac

## tools: install the real validators the tests run (promtool, caddy, yamllint, node)
tools:
	./scripts/install-test-tools

## test: the whole suite, set-up included, side by side: lint, the Swarm
## and Kubernetes checks, the fuzz targets' builds, the build and
## dist-check, and the real validators' install followed by every test (the
## examples' through verify, which regenerates and checks them with the same
## real tools); then brief fuzzing alone. CI runs it.
test:
	@$(MAKE) --no-print-directory -j$(JOBS) --output-sync=target tested lint swarm kube fuzz-build build dist-check
	@$(MAKE) --no-print-directory fuzz
	@echo "make test: every part passed"

# tested: the tests that need the real tools, once they are in. It is the
# longest chain (Caddy's build, then the tests), so make starts it first and
# the parts that need no tool fill the other slots.
tested: tools
	@$(MAKE) --no-print-directory unit-but-examples verify

## check: the quick loop while working: gofmt, go vet, and go test -short
## (skips the pseudo-terminal and real-tool tests; well under a minute)
check: lint
	$(GO) test -short -count=1 $(PKG)

## unit: go test alone (tests whose tool is missing skip loudly, or fail under CI=true)
unit:
	$(GO) test -count=1 -timeout $(TESTTIMEOUT) $(PKG)

# unit-but-examples: go test of every package but examples, which make test
# runs through verify (regenerated in place, with every real-tool check).
unit-but-examples:
	$(GO) test -count=1 -timeout $(TESTTIMEOUT) $$($(GO) list $(PKG) | grep -v '/examples$$')

## swarm: the Swarm examples through docker/cli's own stack loader and
## converter (tools/swarmcheck, a module of its own: docker/cli never
## reaches rcgen's go.mod or binary)
swarm:
	cd tools/swarmcheck && $(GO) vet ./... && $(GO) test -count=1 ./...

## kube: the Kubernetes examples (and kubecheck's own fixtures) through
## kustomize's krusty, strict decoding into k8s.io/api's types, Kubernetes'
## OpenAPI v3 schemas and the CRDs' (Prometheus operator, Gateway API,
## cert-manager) with apiextensions-apiserver, the Pod Security Standards
## and rcgen's own rules (tools/kubecheck, a module of its own: none of it
## reaches rcgen's go.mod or binary; it downloads k8s.io/kubernetes' and the
## CRDs' modules from the Go module proxy on first use)
kube:
	cd tools/kubecheck && $(GO) vet ./... && $(GO) test -count=1 -timeout $(TESTTIMEOUT) ./...

## rehearse: boot what of six deployments runs here (Caddy's four, rcgen's
## Traefik, traefik-labels behind the operator's Traefik; real Caddy,
## Traefik, Prometheus, Alertmanager, NATS, node exporter; stand-ins for the
## rest, the Docker Engine API among them) in network namespaces of their
## own and check the wiring end to end (root; make test runs it too, as
## part of go test)
rehearse:
	$(GO) test -count=1 -v -run '^TestRehearse$$' ./internal/rehearse

## examples: regenerate examples/ from each example's rcgen.yaml
examples:
	$(GO) test -count=1 ./examples -update

## verify: regenerate the examples and fail if anything differs from git
verify: examples
	git diff --exit-code -- examples
	@untracked=$$(git ls-files --others --exclude-standard -- examples); \
	if [ -n "$$untracked" ]; then echo "untracked files in examples/:"; echo "$$untracked"; exit 1; fi

## fuzz: the fuzz targets for FUZZTIME each: answers through render, and
## answers files through rcgen.yaml (crashers land in testdata/fuzz; commit them)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzAnswers$$' -fuzztime $(FUZZTIME) ./internal/render
	$(GO) test -run '^$$' -fuzz '^FuzzAnswersFile$$' -fuzztime $(FUZZTIME) ./internal/spec

# fuzz-build: the fuzz targets' instrumented builds (every package again,
# with coverage counters) and one input each. make test compiles them beside
# the other parts, then fuzzes alone, so the fuzzing seconds get the cores.
fuzz-build:
	$(GO) test -run '^$$' -fuzz '^FuzzAnswers$$' -fuzztime 1x ./internal/render
	$(GO) test -run '^$$' -fuzz '^FuzzAnswersFile$$' -fuzztime 1x ./internal/spec

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKG)

fmt:
	gofmt -w $$(git ls-files '*.go')

## golden: rewrite the golden files after an intended change (review the diff)
golden:
	$(GO) test ./internal/render -update

## bench: every benchmark, start-up time of `rcgen --version` included
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKG)
