package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
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

var sizeUnits = map[string]int64{
	"":    GiB, // a bare number means GiB: "16" is 16 GiB
	"b":   1,
	"k":   KiB,
	"kb":  KiB,
	"kib": KiB,
	"m":   MiB,
	"mb":  MiB,
	"mib": MiB,
	"g":   GiB,
	"gb":  GiB,
	"gib": GiB,
	"t":   TiB,
	"tb":  TiB,
	"tib": TiB,
}

// ParseMemory reads a memory size such as "16GiB", "16G", "16384MiB",
// "0.5TiB" or "16" (GiB). Units are binary: a "GB" is read as GiB, because
// that is what `free -g` and every cloud console mean by it.
func ParseMemory(s string) (int64, error) {
	if err := plainValue(s); err != nil {
		return 0, err
	}
	t := s
	if t == "" {
		return 0, fmt.Errorf("is empty: give a size such as 16GiB or 4096MiB")
	}
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("%q is negative: give the host's memory, e.g. 16GiB", s)
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("%q is not a size: use a number with a unit such as 16GiB, 16G or 16384MiB", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a size: use a number with a unit such as 16GiB, 16G or 16384MiB", s)
	}
	bytes := v * float64(mult)
	if bytes < float64(256*MiB) {
		return 0, fmt.Errorf("%q is too small: a Rocket.Chat host needs gigabytes, e.g. 4GiB", s)
	}
	if bytes > float64(MaxMemory) {
		return 0, fmt.Errorf("%q is larger than any single host (max 64TiB): check the unit", s)
	}
	return int64(bytes), nil
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
	t := s
	v, err := strconv.ParseFloat(t, 64)
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
