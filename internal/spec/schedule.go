package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
)

// Schedule is when the backup service runs: once a day at a time (UTC),
// or every interval.
type Schedule struct {
	// Daily is set for "HH:MM": Hour and Minute are the time of day, UTC.
	Daily        bool
	Hour, Minute int
	// Every is the interval between backups ("6h"), when not Daily.
	Every time.Duration
}

// Backup interval bounds: more often than hourly a dump overlaps the
// next on a busy server; less often than weekly is not a backup policy.
const (
	MinBackupEvery = time.Hour
	MaxBackupEvery = 7 * 24 * time.Hour
)

var clockRe = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])$`)

// ParseSchedule reads "HH:MM" (daily, UTC) or a Prometheus duration
// between 1h and 7d ("6h", "12h", "1d").
func ParseSchedule(s string) (Schedule, error) {
	if m := clockRe.FindStringSubmatch(s); m != nil {
		h, _ := strconv.Atoi(m[1])
		mi, _ := strconv.Atoi(m[2])
		return Schedule{Daily: true, Hour: h, Minute: mi}, nil
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		return Schedule{}, fmt.Errorf("%q is neither a time of day nor an interval: give HH:MM for once a day (UTC, e.g. 03:00) or an interval such as 6h or 12h", s)
	}
	every := time.Duration(d)
	switch {
	case every < MinBackupEvery:
		return Schedule{}, fmt.Errorf("%q is more often than hourly, and a dump of a busy server would overlap the next: give 1h or more", s)
	case every > MaxBackupEvery:
		return Schedule{}, fmt.Errorf("%q leaves more than a week between backups: give 7d or less (or turn backups off)", s)
	case every%time.Minute != 0:
		return Schedule{}, fmt.Errorf("%q is not whole minutes: give e.g. 6h or 90m", s)
	}
	return Schedule{Every: every}, nil
}

// Period is the longest time between two backups on this schedule.
func (s Schedule) Period() time.Duration {
	if s.Daily {
		return 24 * time.Hour
	}
	return s.Every
}

// String describes the schedule for people.
func (s Schedule) String() string {
	if s.Daily {
		return fmt.Sprintf("daily at %02d:%02d UTC", s.Hour, s.Minute)
	}
	return "every " + model.Duration(s.Every).String()
}
