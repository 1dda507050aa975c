package spec

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateDomain(t *testing.T) {
	ok := []string{"localhost", "chat.example.com", "a.b", "xn--bcher-kva.example", "chat-1.example.co.uk", "chat.home.arpa"}
	for _, d := range ok {
		if err := ValidateDomain(d); err != nil {
			t.Errorf("ValidateDomain(%q) = %v, want ok", d, err)
		}
	}
	bad := map[string]string{
		"":                                       "is empty",
		"https://chat.example.com":               "is a URL",
		"chat.example.com:8443":                  "port, path or user",
		"chat.example.com/rc":                    "port, path or user",
		"192.168.1.10":                           "is an IP address",
		"::1":                                    "port, path or user",
		"Chat.Example.com":                       "lower case",
		"chat":                                   "not a fully qualified name",
		"-chat.example.com":                      "not a valid host name",
		"chat..example.com":                      "not a valid host name",
		"chat.example.123":                       "ends in a number",
		"chat example.com":                       "not a valid host name",
		"chat.example.com\n":                     "not a valid host name",
		"${DOMAIN}.example.com":                  "not a valid host name",
		"chаt.example.com":                       "not a valid host name", // Cyrillic a
		strings.Repeat("a", 64) + ".example.com": "not a valid host name",
		strings.Repeat("abcdefghi.", 26) + "com": "at most 253",
	}
	for d, want := range bad {
		err := ValidateDomain(d)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateDomain(%q) = %v, want an error containing %q", d, err, want)
		}
	}
}

func TestValidateEmail(t *testing.T) {
	if err := ValidateEmail("admin@example.com", "chat.example.com"); err != nil {
		t.Errorf("valid address refused: %v", err)
	}
	for _, e := range []string{"", "admin", "Admin <admin@example.com>", "admin@localhost", "admin@example", "a b@example.com", "a$b@example.com", "admin@chat.local"} {
		if err := ValidateEmail(e, "chat.example.com"); err == nil {
			t.Errorf("ValidateEmail(%q) accepted", e)
		}
	}
}

func TestParseMemory(t *testing.T) {
	good := map[string]int64{"16GiB": 16 * GiB, "16G": 16 * GiB, "16gb": 16 * GiB, "16384MiB": 16 * GiB, "0.5TiB": TiB / 2, "4": 4 * GiB, "8 GiB": 8 * GiB}
	for s, want := range good {
		got, err := ParseMemory(s)
		if err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0", "-4GiB", "lots", "16XB", "1e3GiB", "NaN", "100MiB", "128TiB", "16GiB16", " 8GiB", "8GiB\n"} {
		if _, err := ParseMemory(s); err == nil {
			t.Errorf("ParseMemory(%q) accepted", s)
		}
	}
}

func TestSizeAndCoresKeepTheText(t *testing.T) {
	var m Size
	if err := m.Set("16XB"); err == nil {
		t.Error("16XB accepted as a size")
	}
	if err := m.Set("16384MiB"); err != nil || m.Bytes() != 16*GiB || m.String() != "16384MiB" {
		t.Errorf("Size 16384MiB = %d %q, %v", m.Bytes(), m.String(), err)
	}
	var c Cores
	if err := c.Set("0"); err == nil {
		t.Error("0 cores accepted")
	}
	if err := c.Set("2.50"); err != nil || c.Value() != 2.5 || c.String() != "2.50" {
		t.Errorf("Cores 2.50 = %v %q, %v", c.Value(), c.String(), err)
	}
}

func TestParseCPUs(t *testing.T) {
	for _, s := range []string{"0", "-1", "x", "", "5000", "Inf"} {
		if _, err := ParseCPUs(s); err == nil {
			t.Errorf("ParseCPUs(%q) accepted", s)
		}
	}
	if v, err := ParseCPUs("2.5"); err != nil || v != 2.5 {
		t.Errorf("ParseCPUs(2.5) = %v, %v", v, err)
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	a := Default()
	a.Domain = "https://x"
	a.RocketChatVersion = "latest"
	a.MongoDBMembers = 2
	a.Processes = -1
	a.Proxy = "haproxy"
	a.Project = "My Project"
	a.License = "abc\ndef"
	err := a.Validate()
	for _, field := range []string{"project", "domain", "rocketchat_version", "mongodb_members", "processes", "proxy", "license_file"} {
		found := false
		for _, e := range unjoin(err) {
			var fe *FieldError
			if errors.As(e, &fe) && fe.Key == field {
				found = true
			}
		}
		if !found {
			t.Errorf("no error for %s in:\n%v", field, err)
		}
	}
}

func TestVersions(t *testing.T) {
	for _, bad := range []string{"latest", "v8.7.1", "8.7", "8.7.1-rc.1", "08.7.1", "6.13.0", "8.7.1\n"} {
		if ValidateRocketChatVersion(bad) == nil {
			t.Errorf("version %q accepted", bad)
		}
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// TestSizesPastTheInt64RangeAreTooLarge: a size whose bytes do not fit in
// 64 bits is too large, never "too small" (docker's parser turns such a
// product negative on amd64) nor "not a size", for host memory (flags,
// answers file, wizard and --node share ParseMemory) and Prometheus's
// retention size.
func TestSizesPastTheInt64RangeAreTooLarge(t *testing.T) {
	huge := []string{"9999999TiB", "99999999999PiB", "8589934592GiB", "9223372036854775808B", "18446744073709551616B",
		"99999999999999999999", strings.Repeat("9", 400) + "GiB", "9999999999999999999.5PB"}
	for _, s := range append(huge, "65TiB") {
		_, err := ParseMemory(s)
		if err == nil || !strings.Contains(err.Error(), "is larger than any single host (max 64TiB)") {
			t.Errorf("ParseMemory(%q): %v, want larger than any single host", s, err)
		}
	}
	if _, err := ParseNode("db-1=4:9999999TiB"); err == nil || !strings.Contains(err.Error(), "larger than any single host") {
		t.Errorf("ParseNode: %v", err)
	}
	for _, s := range []string{"9999999TB", "99999999999PB", "9999999999999999999999999KB", "999999PB"} {
		err := ValidatePromSize(s)
		if err == nil || !strings.Contains(err.Error(), "more disk than any host has") {
			t.Errorf("ValidatePromSize(%q): %v, want more disk than any host has", s, err)
		}
	}
	// Still what they were: not sizes, and too small.
	for s, want := range map[string]string{"1e3GiB": "is not a size", "1.2.3GiB": "is not a size", ".GiB": "is not a size", "100MiB": "too small", "9999999XB": "is not a size"} {
		if _, err := ParseMemory(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseMemory(%q): %v, want %q", s, err, want)
		}
	}
	for _, s := range []string{"9999999XB", "1.2.3GB", "ten"} {
		if err := ValidatePromSize(s); err == nil || !strings.Contains(err.Error(), "is not a Prometheus size") {
			t.Errorf("ValidatePromSize(%q): %v", s, err)
		}
	}
}
