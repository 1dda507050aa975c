package render_test

import (
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
)

// TestALongMigrationKeepsTheOtherProcessesWaiting: after a release change
// rocketchat-1 migrates before it serves, and processes 2..N wait for it to
// be healthy. A migration of an hour (tens of minutes over a large
// workspace's messages) must fit the window Docker gives rocketchat-1
// before it calls it unhealthy, which would make `docker compose up` give
// up on the others; and the README says what happens past it and what to
// do, whether or not the deployment runs monitoring.
func TestALongMigrationKeepsTheOtherProcessesWaiting(t *testing.T) {
	longMigration := time.Hour
	for _, p := range profiles {
		files := generate(t, p)
		proj := load(t, files)
		first := proj.Services[sizing.AppName(1)]
		hc := first.HealthCheck
		if hc == nil || hc.StartPeriod == nil || hc.Interval == nil || hc.Retries == nil {
			t.Fatalf("%s: rocketchat-1 has no complete health check: %+v", p.name, hc)
		}
		window := time.Duration(*hc.StartPeriod) + time.Duration(*hc.Retries)*time.Duration(*hc.Interval)
		if window < longMigration {
			t.Errorf("%s: rocketchat-1 is unhealthy %s after it starts if it does not serve, shorter than a %s migration", p.name, window, longMigration)
		}
		apps := 0
		for name, s := range proj.Services {
			if !strings.HasPrefix(name, "rocketchat-") || name == first.Name {
				continue
			}
			apps++
			if d, ok := s.DependsOn[first.Name]; !ok || !d.Required || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s: %s does not wait for rocketchat-1 to be healthy: %+v", p.name, name, d)
			}
		}
		readme := string(mustGet(t, files, render.ReadmeFile).Content)
		_, section, ok := strings.Cut(readme, "\n## Stop, restart, upgrade\n")
		if !ok {
			t.Errorf("%s: README.md has no \"Stop, restart, upgrade\" section", p.name)
			continue
		}
		section, _, _ = strings.Cut(section, "\n## ")
		section = strings.Join(strings.Fields(section), " ")
		want := []string{"It has " + render.AppStartPeriod + " to answer its", "Do not restart it meanwhile"}
		if apps > 0 {
			want = []string{"**A migration longer than " + render.AppStartPeriod + "**",
				"`dependency failed to start: container " + proj.Name + "-rocketchat-1-1 is unhealthy`",
				"Do not restart it", `"Finished migrating."`, "run `docker compose up -d` again"}
		}
		for _, w := range want {
			if !strings.Contains(section, w) {
				t.Errorf("%s: README.md's \"Stop, restart, upgrade\" does not say %q:\n%s", p.name, w, section)
			}
		}
	}
}
