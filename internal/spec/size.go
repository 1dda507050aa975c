package spec

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
	"go.yaml.in/yaml/v3"
)

// Byte sizes used throughout rcgen.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
	TiB int64 = 1 << 40
)

// MaxMemory is the largest host memory rcgen accepts (64 TiB): anything
// larger is a typo, not a server.
const MaxMemory = 64 * TiB

// MaxCPUs is the largest core count rcgen accepts.
const MaxCPUs = 4096

// ParseMemory reads a memory size such as "16GiB", "16G", "16384MiB",
// "0.5TiB" or "16" (GiB). Units are binary (docker's own parser, the one
// `docker run --memory` uses): a "GB" is read as GiB, because that is what
// `free -g` and every cloud console mean by it.
func ParseMemory(s string) (int64, error) {
	if err := plainValue(s); err != nil {
		return 0, err
	}
	if s == "" {
		return 0, fmt.Errorf("the size is empty: give a size such as 16GiB or 4096MiB")
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%q is negative: give the host's memory, e.g. 16GiB", s)
	}
	notSize := fmt.Errorf("%q is not a size: use a number with a unit such as 16GiB, 16G or 16384MiB", s)
	tooLarge := fmt.Errorf("%q is larger than any single host (max 64TiB): check the unit", s)
	// Plain decimal numbers only: docker's parser would also take 1e3G.
	num := strings.TrimRight(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ")
	if num == "" || strings.Trim(num, "0123456789.") != "" || strings.Count(num, ".") > 1 || strings.Trim(num, ".") == "" {
		return 0, notSize
	}
	// The number and the unit apart, multiplied here as floats: docker's
	// parser converts its product to int64, and a product past the int64
	// range comes out negative (amd64) or saturated (arm64), so 9999999TiB
	// would read as too small on one machine and too large on another.
	v, err := strconv.ParseFloat(num, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, notSize
	}
	unit := float64(GiB) // a bare number means GiB: "16" is 16 GiB
	if rest := s[len(num):]; rest != "" {
		// The unit as docker's parser reads it (the one docker run
		// --memory uses), on 1 of it, which cannot overflow.
		mul, err := units.RAMInBytes("1" + rest)
		if err != nil || mul <= 0 {
			return 0, notSize
		}
		unit = float64(mul)
	}
	bytes := v * unit
	if math.IsNaN(bytes) {
		return 0, notSize
	}
	if math.IsInf(bytes, 0) || bytes > float64(MaxMemory) {
		return 0, tooLarge
	}
	if bytes < float64(256*MiB) {
		return 0, fmt.Errorf("%q is too small: a Rocket.Chat host needs gigabytes, e.g. 4GiB", s)
	}
	return int64(bytes), nil
}

// Plural writes a count with its noun: "1 app process", "3 app processes".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// FormatBytes prints a size in the largest binary unit that keeps it readable:
// 4GiB, 1.5GiB, 768MiB.
func FormatBytes(b int64) string {
	switch {
	case b >= TiB && b%(TiB/10) == 0:
		return trimFloat(float64(b)/float64(TiB)) + "TiB"
	case b >= GiB:
		return trimFloat(float64(b)/float64(GiB)) + "GiB"
	default:
		return strconv.FormatInt(b/MiB, 10) + "MiB"
	}
}

func trimFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// ParseCPUs reads a core count such as "8" or "2.5".
func ParseCPUs(s string) (float64, error) {
	if err := plainValue(s); err != nil {
		return 0, err
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number of cores: give e.g. 4 or 2.5", s)
	}
	if v <= 0 {
		return 0, fmt.Errorf("%q must be more than 0 cores", s)
	}
	if v > MaxCPUs {
		return 0, fmt.Errorf("%q is more cores than any single host (max %d)", s, MaxCPUs)
	}
	return v, nil
}

// plainValue refuses surrounding spaces and control characters, which would
// not survive into rcgen.yaml exactly as given.
func plainValue(s string) error {
	if s != strings.TrimSpace(s) {
		return fmt.Errorf("%q has spaces around it: give the bare value", s)
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("%q holds a control character", s)
		}
	}
	return nil
}

// Size is a host memory answer: the bytes, and the text the person typed,
// which is what rcgen.yaml keeps. It is a flag value and a YAML scalar, and
// is validated when set, so a bad size stops a run before any question.
type Size struct {
	text  string
	bytes int64
}

// Set parses s (pflag.Value).
func (s *Size) Set(v string) error {
	b, err := ParseMemory(v)
	if err != nil {
		return err
	}
	s.text, s.bytes = v, b
	return nil
}

// String returns the text as given.
func (s Size) String() string { return s.text }

// Type names the value in --help (pflag.Value).
func (*Size) Type() string { return "size" }

// Bytes returns the size; 0 when not given.
func (s Size) Bytes() int64 { return s.bytes }

// IsZero reports whether no size was given (omitempty).
func (s Size) IsZero() bool { return s.text == "" }

// UnmarshalYAML reads the size from a scalar.
func (s *Size) UnmarshalYAML(n *yaml.Node) error { return setScalar(n, s.Set) }

// MarshalYAML writes the text as given.
func (s Size) MarshalYAML() (any, error) { return s.text, nil }

// Cores is a core count answer, kept as typed, like Size.
type Cores struct {
	text  string
	value float64
}

// Set parses v (pflag.Value).
func (c *Cores) Set(v string) error {
	f, err := ParseCPUs(v)
	if err != nil {
		return err
	}
	c.text, c.value = v, f
	return nil
}

// String returns the text as given.
func (c Cores) String() string { return c.text }

// Type names the value in --help (pflag.Value).
func (*Cores) Type() string { return "cores" }

// Value returns the count; 0 when not given.
func (c Cores) Value() float64 { return c.value }

// IsZero reports whether no count was given (omitempty).
func (c Cores) IsZero() bool { return c.text == "" }

// UnmarshalYAML reads the count from a scalar.
func (c *Cores) UnmarshalYAML(n *yaml.Node) error { return setScalar(n, c.Set) }

// MarshalYAML writes the text as given.
func (c Cores) MarshalYAML() (any, error) { return c.text, nil }

func setScalar(n *yaml.Node, set func(string) error) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("the value is a list or a map, not a single value: write it as e.g. \"8\" or \"16GiB\"")
	}
	return set(n.Value)
}

// MustSize and MustCores build answers in code (tests, fixtures).
func MustSize(s string) Size {
	var v Size
	if err := v.Set(s); err != nil {
		panic(err)
	}
	return v
}

// MustCores is MustSize for a core count.
func MustCores(s string) Cores {
	var v Cores
	if err := v.Set(s); err != nil {
		panic(err)
	}
	return v
}
