package doctor

import (
	"strings"
	"testing"
	"time"

	"github.com/rcgen/rcgen/internal/catalog"
)

func on(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestReleaseCheckWarnsAhead: doctor's release check is ok until 30 days
// before the end of support Rocket.Chat's rule gives, then warns with the
// date and `rcgen upgrade --to` the newest release one step away, and
// fails after it.
func TestReleaseCheckWarnsAhead(t *testing.T) {
	m80, _ := catalog.Series("8.0")
	m70, _ := catalog.Series("7.0")
	for _, c := range []struct {
		version, mongo, day string
		status              Status
		want                []string
	}{
		// 8.4.0, April 2026: supported to 2026-10-31.
		{"8.4.6", m80.Tag, "2026-09-30", OK, []string{"Rocket.Chat 8.4.6, supported to 2026-10-31"}},
		{"8.4.6", m80.Tag, "2026-10-01", Warn, []string{"leaves support on 2026-10-31 (in 30 days)", "`rcgen upgrade --to 8.8.1` (Rocket.Chat 8.8, supported to 2027-03-31)"}},
		{"8.4.6", m80.Tag, "2026-11-02", Fail, []string{"out of support since 2026-10-31", "`rcgen upgrade --to 8.8.1`"}},
		// 7.10 LTS, announced to 2026-09-30: the way off 7.x passes
		// through 7.13 (one major at a time), the only step there is.
		{"7.10.15", m70.Tag, "2026-09-15", Warn, []string{"leaves support on 2026-09-30 (in 15 days)", "`rcgen upgrade --to 7.13.9`"}},
	} {
		r := Release(c.version, c.mongo, on(c.day))
		text := r.Found + "; " + r.Do
		if r.Status != c.status {
			t.Errorf("%s on %s: %s, want %s: %s", c.version, c.day, r.Status, c.status, text)
		}
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s on %s: lacks %q: %s", c.version, c.day, w, text)
			}
		}
	}
}
