package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/rcgen/rcgen/internal/catalog"
)

// complete runs cobra's hidden __complete command, as a shell's completion
// script does, and returns the values offered (descriptions cut off).
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	r := run(t, append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		t.Fatalf("__complete %q: exit %d: %s", args, r.code, r.stderr)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if line == "" || strings.HasPrefix(line, ":") {
			continue
		}
		v, _, _ := strings.Cut(line, "\t")
		out = append(out, v)
	}
	return out
}

func TestCompletionOffersValues(t *testing.T) {
	var releases []string
	for _, r := range catalog.DeployableReleases() {
		releases = append(releases, r.Latest)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"target", []string{"generate", "--target", ""}, []string{"compose", "swarm", "kubernetes"}},
		{"proxy", []string{"generate", "--proxy", ""}, []string{"caddy", "traefik", "host", "traefik-labels", "nginx-proxy", "caddy-docker-proxy"}},
		{"releases for generate", []string{"generate", "--rocketchat-version", ""}, releases},
		{"upgrade without a deployment: every release", []string{"upgrade", "--dir", t.TempDir(), "--to", ""}, releases},
		{"generate's force names", []string{"generate", "--force="}, []string{"directory", "memory", "older-rcgen", "member-node", "target", "namespace", "storage-class", "cpu", "architecture"}},
		{"after a comma, the names not given yet", []string{"generate", "--force=cpu,memory,"}, []string{"cpu,memory,directory", "cpu,memory,older-rcgen", "cpu,memory,member-node", "cpu,memory,target", "cpu,memory,namespace", "cpu,memory,storage-class", "cpu,memory,architecture"}},
		{"plan's force", []string{"plan", "--force="}, []string{"memory"}},
		{"restore's force", []string{"restore", "--force="}, []string{"other-deployment", "unencrypted-backup"}},
		{"upgrade's force", []string{"upgrade", "--force="}, []string{"no-backup"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := complete(t, c.args...); !slices.Equal(got, c.want) {
				t.Errorf("offered %q, want %q", got, c.want)
			}
		})
	}
	// What completion offers, generate and upgrade take: one rule.
	for _, v := range complete(t, "generate", "--rocketchat-version", "") {
		if _, err := catalog.Deployable(v); err != nil {
			t.Errorf("completion offers %s, which rcgen refuses: %v", v, err)
		}
	}
}

// TestUpgradeCompletionOffersNewerReleases: upgrade --to offers only the
// releases newer than the one the deployment (--dir or --out) runs.
func TestUpgradeCompletionOffersNewerReleases(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	if r := run(t, "generate", "--yes", "--out", out, "--rocketchat-version", "8.7.1"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	var want []string
	deployed := semver.MustParse("8.7.1")
	for _, r := range catalog.DeployableReleases() {
		if semver.MustParse(r.Latest).GreaterThan(deployed) {
			want = append(want, r.Latest)
		}
	}
	if len(want) == 0 {
		t.Fatal("the catalog has no release newer than 8.7.1 to offer")
	}
	for _, flag := range []string{"--dir", "--out"} {
		got := complete(t, "upgrade", flag, out, "--to", "")
		if !slices.Equal(got, want) || slices.Contains(got, "8.7.1") {
			t.Errorf("upgrade %s: offered %q, want %q", flag, got, want)
		}
	}
}
