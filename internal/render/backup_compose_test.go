package render_test

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// mongoImageVolumes are the VOLUMEs the backup service's image declares
// (docker-library/mongo 8.0/Dockerfile: VOLUME /data/db /data/configdb).
var mongoImageVolumes = []string{"/data/db", "/data/configdb"}

// TestBackupServiceLeavesNoAnonymousVolume: every VOLUME of the backup
// image has a mount in the compose file (Docker then creates no anonymous
// volume for it), the tools' config is in memory, and the stop grace period
// leaves the daemon the time its SIGTERM handling takes.
func TestBackupServiceLeavesNoAnonymousVolume(t *testing.T) {
	for _, pr := range profiles {
		files := generate(t, pr)
		p := load(t, files)
		s, ok := p.Services["backup"]
		if !ok {
			continue
		}
		if !strings.HasPrefix(s.Image, "mongo:") {
			t.Fatalf("%s: the backup image is %s: check its VOLUMEs (mongoImageVolumes)", pr.name, s.Image)
		}
		mounted := slices.Clone([]string(s.Tmpfs))
		for _, v := range s.Volumes {
			mounted = append(mounted, v.Target)
		}
		for _, v := range append(slices.Clone(mongoImageVolumes), "/tmp") {
			if !slices.Contains(mounted, v) {
				t.Errorf("%s: backup: nothing mounted on %s (mounted: %v)", pr.name, v, mounted)
			}
		}
		if !slices.Contains([]string(s.Tmpfs), "/tmp") {
			t.Errorf("%s: backup: /tmp (the tools' config) is not a tmpfs: %v", pr.name, s.Tmpfs)
		}
		// backup.sh's stop waits up to 20s for the backup's processes.
		if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) < 25*time.Second {
			t.Errorf("%s: backup: stop_grace_period %v leaves the daemon less than its 20s wait and clean-up", pr.name, s.StopGracePeriod)
		}
	}
}
