package refresh

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

const (
	// AutoTimeout bounds the refresh generate, upgrade and doctor make on
	// their own: short, so a host without the network waits no longer.
	AutoTimeout = 3 * time.Second
	// RetryAfter is how long after a failed automatic refresh the next is
	// tried: an offline host pays AutoTimeout once an hour, not every run.
	RetryAfter = time.Hour

	attemptFile = "last-attempt"
	toldFile    = "lookups-told"
)

// Due reports whether an automatic refresh is due at now: the cache at
// path is missing or older than FreshFor, and no refresh was tried in the
// last RetryAfter.
func Due(path string, now time.Time) bool {
	if st, err := os.Stat(path); err == nil && now.Sub(st.ModTime()) < FreshFor {
		return false
	}
	if st, err := os.Stat(filepath.Join(filepath.Dir(path), attemptFile)); err == nil && now.Sub(st.ModTime()) < RetryAfter && !st.ModTime().After(now) {
		return false
	}
	return true
}

// Attempted notes, beside the cache at path, that a refresh was tried at now.
func Attempted(path string, now time.Time) error {
	p := filepath.Join(filepath.Dir(path), attemptFile)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		return err
	}
	return os.Chtimes(p, now, now)
}

// FirstLookup reports whether this is the first time rcgen looks things up
// on its own for this user (the notice that it does is due), and notes
// that it was told. A cache directory that cannot be written says true
// every time: better told twice than never.
func FirstLookup(path string) bool {
	p := filepath.Join(filepath.Dir(path), toldFile)
	if _, err := os.Stat(p); err == nil {
		return false
	} else if !errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
		_ = os.WriteFile(p, []byte("rcgen told this user once that it looks up new releases; --offline or RCGEN_OFFLINE=1 stops it\n"), 0o644)
	}
	return true
}
