package render_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// TestMongodRunsOnAffectedKernels: on kernels 6.19 to 7.0.13 MongoDB 8
// crashes unless glibc owns rseq, and the image's entrypoint refuses any
// kernel from 6.19 on. So every process that runs mongod (the members and
// the one-shot that creates the root user) must get GLIBC_TUNABLES where
// mongod reads it, its environment, from an image whose glibc honours it,
// and the members must start mongod directly.
func TestMongodRunsOnAffectedKernels(t *testing.T) {
	for _, version := range []string{spec.DefaultRocketChatVersion(), "8.1.0", "7.13.0"} {
		a := spec.Default()
		a.RocketChatVersion = version
		a.MongoDBMembers = 3
		files := generateAnswers(t, a)
		p := load(t, files)
		env := envOf(t, mustGet(t, files, render.EnvFile).Content)
		series := catalog.FeatureOf(env[render.EnvMongoDBVersion])
		if strings.HasPrefix(series, "8.") && !strings.Contains(env[render.EnvMongoDBVersion], "-ubi9") {
			t.Errorf("Rocket.Chat %s: MongoDB %s is not a ubi9 image: ubi8's glibc 2.28 ignores the tunable", version, env[render.EnvMongoDBVersion])
		}
		for i := 1; i <= 3; i++ {
			s := p.Services[sizing.MemberName(i)]
			if got := s.Environment["GLIBC_TUNABLES"]; got == nil || *got != "glibc.pthread.rseq=1" {
				t.Errorf("Rocket.Chat %s: %s GLIBC_TUNABLES = %v", version, s.Name, got)
			}
			if !slices.Equal(s.Entrypoint, []string{"mongod"}) || slices.Contains(s.Command, "mongod") {
				t.Errorf("Rocket.Chat %s: %s starts %v %v, not mongod directly", version, s.Name, s.Entrypoint, s.Command)
			}
		}
		prep := p.Services[sizing.MongoDBPrepare]
		if got := prep.Environment["GLIBC_TUNABLES"]; got == nil || *got != "glibc.pthread.rseq=1" {
			t.Errorf("Rocket.Chat %s: mongodb-prepare runs mongod without the tunable", version)
		}
		cmd := strings.Join(prep.Command, " ")
		if !strings.Contains(cmd, "createUser") || !strings.Contains(cmd, ".rcgen-root-user") {
			t.Errorf("Rocket.Chat %s: mongodb-prepare does not create the root user once: %s", version, cmd)
		}
		// The script as the container's sh receives it (after compose's
		// interpolation) must parse.
		if out, err := exec.Command("sh", "-n", "-c", cmd).CombinedOutput(); err != nil {
			t.Errorf("mongodb-prepare's script does not parse: %v\n%s\n%s", err, out, cmd)
		}
	}
}
