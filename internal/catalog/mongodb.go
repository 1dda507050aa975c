package catalog

import (
	"fmt"
	"regexp"
	"strconv"
)

// mongoSeries are the MongoDB series rcgen pins, in upgrade order: MongoDB
// moves one feature version at a time (setting featureCompatibilityVersion
// between steps). Every tag is on Docker Hub (MongoDBImageRepo), and each
// row's ImageSource says where it was seen published.
//
// MongoDB 8 runs on ubi9 images: their glibc (RHEL 9's 2.34, with rseq
// registration backported) honours GLIBC_TUNABLES=glibc.pthread.rseq=1,
// which keeps MongoDB 8's tcmalloc off the rseq path that kernels 6.19 to
// 7.0.13 break (see KernelRule); ubi8's glibc 2.28 cannot. The newest 8.0
// and 8.2 patches were seen on Docker Hub as -ubi9-slim only (8.0.32-ubi9
// only on quay.io, 8.2.12-ubi9 nowhere): the same server on Red Hat's
// ubi9-micro, so the same RHEL 9 glibc, with mongosh and without the Python
// entrypoint, which rcgen bypasses anyway. Its own user is uid 1000; rcgen
// runs mongod as uid 1001 (render.MongoUID) and owns its volumes itself.
// MongoDB 7.0 keeps its ubi8 tag: it uses gperftools' tcmalloc, which has
// no per-CPU caches, so neither the kernel bug nor the tunable concerns it.
var mongoSeries = []MongoDBSeries{
	{Series: "7.0", Tag: "7.0.28-ubi8", EndOfLife: day("2027-08-31"),
		Source: "https://www.mongodb.com/legal/support-policy/lifecycles (7.0: August 2027); 7.0 builds no Google tcmalloc per-CPU caches (bluewave-labs/Checkmate#3842: mongo:7.0.41 gperftools, PerCpu=0)",
		ImageSource: "Docker Hub, https://hub.docker.com/r/mongodb/mongodb-community-server/tags: 7.0.28-ubi8 seen pulled and run with digest " +
			"sha256:56d07a0227ceeb04ba763bfe5681660c465114d2f6fb943e8e8f3718134b5436 in public projects' image locks and measurements (2026-09)"},
	{Series: "8.0", Tag: "8.0.32-ubi9-slim", EndOfLife: day("2029-10-31"),
		Source: "https://www.mongodb.com/legal/support-policy/lifecycles (8.0: October 2029); 8.0.32 is the newest 8.0 patch seen published as an image; the 8.0 changelog lists later server patches without images seen",
		ImageSource: "Docker Hub, https://hub.docker.com/r/mongodb/mongodb-community-server/tags: 8.0.32-ubi9-slim pinned from the registry's own tag list, " +
			"with an amd64 and arm64 digest, by panascais-docker/mongodb (configuration/tags.json, written by scripts/update.go); pinned by public compose files; " +
			"quay.io's copy run on a live cluster in redhat-scholars/openshift-starter-guides#59"},
	{Series: "8.2", Tag: "8.2.12-ubi9-slim", EndOfLife: day("2026-07-31"),
		Source: "https://www.mongodb.com/legal/support-policy/lifecycles (8.2 is a Rapid Release: end of life 2026-07-31); kept only for Rocket.Chat 8.0-8.1, which declare 8.2",
		ImageSource: "Docker Hub, https://hub.docker.com/r/mongodb/mongodb-community-server/tags: 8.2.12-ubi9-slim pinned from the registry's own tag list, " +
			"with an amd64 and arm64 digest, by panascais-docker/mongodb (configuration/tags.json, written by scripts/update.go)"},
}

// FeatureVersions are MongoDB's feature versions in upgrade order, pinned
// or not: an upgrade passes through each (8.2 is a Rapid Release after
// 8.0; MongoDB's upgrade notes for each version name the one before).
var FeatureVersions = []string{"4.4", "5.0", "6.0", "7.0", "8.0", "8.2"}

// FeatureIndex is series' place in FeatureVersions, or -1.
func FeatureIndex(series string) int {
	for i, s := range FeatureVersions {
		if s == series {
			return i
		}
	}
	return -1
}

// Kernel is a rule about Linux kernels that break MongoDB.
type Kernel struct {
	// From and Before bound the affected kernels: From <= k < Before.
	From, Before [3]int
	Problem      string
	Remedy       string
	Source       string
}

// KernelRule: MongoDB 8's tcmalloc uses restartable sequences for its
// per-CPU caches, and kernels 6.19 through 7.0.13 break it (malloc may
// return the same pointer twice); mongod 8.0.30+ refuses to start there
// while the per-CPU caches are on, older 8.x crash. With glibc registering
// rseq (GLIBC_TUNABLES=glibc.pthread.rseq=1, glibc's default) tcmalloc
// falls back to per-thread caches and runs. rcgen's stack sets it on every
// mongod, and bypasses the image's Python entrypoint, which refuses every
// kernel from 6.19 on (KERNEL_VERSION_CUTOFF, no upper bound).
var KernelRule = Kernel{
	From:    [3]int{6, 19, 0},
	Before:  [3]int{7, 0, 14},
	Problem: "MongoDB 8 crashes (or refuses to start) on kernels 6.19 to 7.0.13",
	Remedy:  "rcgen's stack runs mongod with GLIBC_TUNABLES=glibc.pthread.rseq=1, which avoids the crash at some allocator speed; upgrade to kernel 7.0.14 or later when your distribution ships it",
	Source: "MongoDB 8.0 release notes, \"MongoDB Is Incompatible with Linux Kernel 6.19 Through 7.0.13\" (https://www.mongodb.com/docs/manual/release-notes/8.0/); " +
		"mongodb/mongo src/mongo/db/startup_check_rseq.cpp (SERVER-121912, SERVER-125742); glibc manual, POSIX Thread Tunables (glibc.pthread.rseq); " +
		"google/tcmalloc#292",
}

var kernelRe = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?`)

// ParseKernel reads the version of a kernel release string such as
// "7.0.0-15-generic" or "6.8.12-4-pve".
func ParseKernel(release string) ([3]int, error) {
	m := kernelRe.FindStringSubmatch(release)
	if m == nil {
		return [3]int{}, fmt.Errorf("%q is not a kernel release", release)
	}
	var v [3]int
	for i := range 3 {
		if m[i+1] != "" {
			v[i], _ = strconv.Atoi(m[i+1])
		}
	}
	return v, nil
}

// Affects reports whether the kernel release is in the rule's range.
func (k Kernel) Affects(release string) (bool, error) {
	v, err := ParseKernel(release)
	if err != nil {
		return false, err
	}
	return !less(v, k.From) && less(v, k.Before), nil
}

func less(a, b [3]int) bool {
	for i := range 3 {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// GlibcTunables is what every mongod runs with (see KernelRule).
const GlibcTunables = "glibc.pthread.rseq=1"

// Docker minimums for the compose file rcgen writes. The top-level name:
// needs Compose 2.3.0, and before 2.14.2 a health-checked dependency that
// exits makes `up` hang instead of failing (docker/compose release notes);
// depends_on's `required: false`, which lets the set start without one of
// its members, is Compose 2.20.0 (Docker's Compose file reference, services, depends_on:
// "required ... Introduced in Docker Compose version 2.20.0");
// Compose's Docker client refuses daemons older than API 1.40 (Engine
// 19.03), and 20.10 is the oldest Engine still maintained by distributions.
const (
	MinDockerEngine    = "20.10.0"
	MinDockerEngineWhy = "Docker Compose v2 needs Engine API 1.40 or newer, and 20.10 is the oldest Engine still patched"
	MinCompose         = "2.20.0"
	MinComposeWhy      = "compose.yaml's depends_on `required: false` (the set starts without a dead member) needs 2.20, and before 2.14.2 a failed one-shot (mongodb-init) hangs docker compose up"
)
