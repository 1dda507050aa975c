package catalog

import (
	"strings"
	"testing"
	"time"
)

// TestEndOfSupportByTheRule recomputes every row's end of support from its
// x.y.0 date by Rocket.Chat's rule (the month of x.y.0 plus six, twelve
// for LTS, to that month's last day), independently of SupportEnd, unless
// the row carries a date Rocket.Chat announced, with its source.
func TestEndOfSupportByTheRule(t *testing.T) {
	for _, r := range Releases() {
		months := 6
		if r.LTS {
			months = 12
		}
		y, m := r.Released.Year(), int(r.Released.Month())+months
		for m > 12 {
			y, m = y+1, m-12
		}
		last := 31
		for time.Date(y, time.Month(m), last, 0, 0, 0, 0, time.UTC).Month() != time.Month(m) {
			last--
		}
		want := time.Date(y, time.Month(m), last, 0, 0, 0, 0, time.UTC)
		if !r.Announced.IsZero() {
			want = r.Announced.Time
			if r.AnnouncedSource == "" || !strings.HasPrefix(r.EndOfSupportSource, "announced: ") {
				t.Errorf("%s: an announced end of support without its source", r.Line)
			}
		} else if !strings.HasPrefix(r.EndOfSupportSource, r.Line+".0's month ("+r.Released.Format("2006-01")+")") {
			t.Errorf("%s: end of support source %q", r.Line, r.EndOfSupportSource)
		}
		if !r.EndOfSupport.Equal(want) {
			t.Errorf("%s (x.y.0 %s, LTS %v): end of support %s, want %s", r.Line, r.Released, r.LTS, r.EndOfSupport, want.Format(time.DateOnly))
		}
	}
}

// TestEndOfSupportDates pins the dates the hand-typed rows had a month
// early, and the announced ones.
func TestEndOfSupportDates(t *testing.T) {
	for line, want := range map[string]string{
		"7.0": "2025-04-30", "7.1": "2025-06-30", "7.2": "2025-07-31", "7.13": "2026-06-30",
		"8.0": "2026-07-31", "8.8": "2027-03-31", "9.0": "2027-05-31",
		"7.10": "2026-09-30", "8.5": "2027-06-30", "8.9": "2027-10-31",
	} {
		r, ok := Lookup(line + ".0")
		if !ok || r.EndOfSupport.String() != want {
			t.Errorf("%s: end of support %s, want %s", line, r.EndOfSupport, want)
		}
	}
	if got := SupportEnd(day("2024-12-04"), false); got.String() != "2025-06-30" {
		t.Errorf("SupportEnd(2024-12-04) = %s, want 2025-06-30 (December plus six months)", got)
	}
	if got := SupportEnd(day("2025-08-31"), false); got.String() != "2026-02-28" {
		t.Errorf("SupportEnd(2025-08-31) = %s, want 2026-02-28", got)
	}
}

// TestDefaultIsTheNewestSeenLTS: a new deployment gets the newest patch of
// the newest LTS line whose image rcgen has seen. 8.9 is LTS but its image
// is unconfirmed, so it is 8.5's newest confirmed patch, not 8.8.1, the
// newest release rcgen deploys (latest).
func TestDefaultIsTheNewestSeenLTS(t *testing.T) {
	if got := DefaultRocketChatVersion(); got != "8.5.3" {
		t.Errorf("default %s, want 8.5.3", got)
	}
	if why := DefaultReason(); why != "the newest patch of the newest LTS line whose image rcgen has seen (8.5; 8.9 LTS is listed, its image not confirmed yet)" {
		t.Errorf("reason: %q", why)
	}
	for given, want := range map[string][2]string{
		"latest": {"8.8.1", "latest"}, " LTS ": {"8.5.3", "lts"}, "Latest": {"8.8.1", "latest"},
		"8.4.6": {"8.4.6", ""}, "newest": {"newest", ""},
	} {
		if v, word, _ := ResolveWord(given); v != want[0] || word != want[1] {
			t.Errorf("ResolveWord(%q) = %s, %q; want %s, %q", given, v, word, want[0], want[1])
		}
	}
	// The rule, not a row: with 8.9's image seen, 8.9.1 is the default.
	saved := releases
	t.Cleanup(func() { releases = saved })
	releases = append([]Release(nil), saved...)
	for i := range releases {
		if releases[i].Line == "8.9" {
			releases[i].ImageConfirmed = true
		}
	}
	if got := DefaultRocketChatVersion(); got != "8.9.1" {
		t.Errorf("with 8.9's image seen: default %s, want 8.9.1", got)
	}
}
