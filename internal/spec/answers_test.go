package spec

import (
	"reflect"
	"strings"
	"testing"
)

func TestFileRoundTrips(t *testing.T) {
	a := Default()
	a.Domain = "chat.example.com"
	a.Email = "ops@example.com"
	a.MongoDBMembers = 3
	a.Monitoring = false
	a.CPUs = MustCores("8")
	a.Memory = MustSize("16GiB")
	a.SMTPPassword = "hunter2" // material: never in the file
	b := Marshal(a, "test")
	for _, want := range []string{"version: 1\n", `written_by: "test"`, `domain: "chat.example.com"`, "mongodb_members: 3\n", "monitoring: false\n", `cpus: "8"`, `memory: "16GiB"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("rcgen.yaml lacks %q:\n%s", want, b)
		}
	}
	for _, not := range []string{"hunter2", "metrics_retention", "license"} {
		if strings.Contains(string(b), not) {
			t.Errorf("rcgen.yaml holds %q:\n%s", not, b)
		}
	}
	l, err := ParseFile("rcgen.yaml", b, "")
	if err != nil {
		t.Fatal(err)
	}
	got, origins, err := Resolve(l)
	if err != nil {
		t.Fatal(err)
	}
	if l.WrittenBy != "test" {
		t.Errorf("the rcgen that wrote the file: %q", l.WrittenBy)
	}
	a.SMTPPassword = ""
	a.MetricsRetention, a.MetricsRetentionSize = Default().MetricsRetention, Default().MetricsRetentionSize
	if !reflect.DeepEqual(got, a) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, a)
	}
	if !origins.Settled("domain") || origins["domain"].Line != 8 || origins.Given("users") {
		t.Errorf("origins: %+v", origins)
	}
}

func TestLayersMergeByKey(t *testing.T) {
	file, err := ParseFile("a.yaml", []byte("version: 1\ndomain: chat.example.com\nlicense_file: lic\nmemory: 8GiB\n"), "/etc/rcgen")
	if err != nil {
		t.Fatal(err)
	}
	var flags Answers
	flags.Domain = "other.example.com"
	got, origins, err := Resolve(file, LayerOf(FromFlag, flags, "domain"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Domain != "other.example.com" || origins["domain"].Kind != FromFlag {
		t.Errorf("the later layer did not win: %q %+v", got.Domain, origins["domain"])
	}
	if got.LicenseFile != "/etc/rcgen/lic" {
		t.Errorf("a relative path is taken from its file's directory: %q", got.LicenseFile)
	}
	if got.Memory.Bytes() != 8*GiB || got.Proxy != ProxyCaddy {
		t.Errorf("file answers or defaults lost: %+v", got)
	}
}

func TestParseFileReportsEveryProblemWithItsLine(t *testing.T) {
	_, err := ParseFile("x.yaml", []byte("version: 1\ncolour: red\nmongodb_members: three\nmemory: 16XB\ndomain: a.example.com\ndomain: b.example.com\n"), "")
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"line 2: unknown key colour", "line 3: mongodb_members: \"three\" is not a whole number", "line 4: memory: \"16XB\" is not a size", "line 6: domain is given twice"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := ParseFile("x.yaml", []byte("version: 2\n"), ""); err == nil || !strings.Contains(err.Error(), "version 2 is not supported") {
		t.Errorf("version 2: %v", err)
	}
}

// TestAMisspelledKeyKeepsTheAnswersBesideIt: the unknown key is reported
// with the key it most likely means, and the layer still holds the answers
// that decoded, for their values to be checked too.
func TestAMisspelledKeyKeepsTheAnswersBesideIt(t *testing.T) {
	l, err := ParseFile("x.yaml", []byte("version: 1\ndomian: chat.example.com\nmongodb_members: 5\nproxy: haproxy\n"), "")
	if err == nil || !strings.Contains(err.Error(), "x.yaml: line 2: unknown key domian: did you mean domain?") {
		t.Fatalf("err = %v", err)
	}
	if !reflect.DeepEqual(l.Keys(), []string{KeyMembers, KeyProxy}) {
		t.Fatalf("the layer gives %q, want the two answers that decoded", l.Keys())
	}
	a, origins, err := Resolve(l)
	if err != nil {
		t.Fatal(err)
	}
	for key, line := range map[string]int{KeyMembers: 3, KeyProxy: 4} {
		if a.CheckKey(key) == nil || origins[key].Line != line {
			t.Errorf("%s: check %v, line %d; want refused at line %d", key, a.CheckKey(key), origins[key].Line, line)
		}
	}
}

func TestSuggest(t *testing.T) {
	for key, want := range map[string]string{
		"domian":             "domain",
		"rocketchat-version": "rocketchat_version",
		"RocketChat_Version": "rocketchat_version",
		"rocketchat_verison": "rocketchat_version",
		"mongo_members":      "mongodb_members",
		"lisence_file":       "license_file",
		"verison":            "version",
		"colour":             "",
		"tls_certificate":    "",
		"x":                  "",
	} {
		got, ok := Suggest(key)
		if got != want || ok != (want != "") {
			t.Errorf("Suggest(%q) = %q, %v; want %q", key, got, ok, want)
		}
	}
}

func TestPrometheusUnitsAsPrometheusReadsThem(t *testing.T) {
	for _, ok := range []string{"15d", "8w", "1y", "1d12h", "90m"} {
		if err := ValidatePromDuration(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"1d1d1d", "0d", "15", "15 d", "-1d", "1h1d"} {
		if ValidatePromDuration(bad) == nil {
			t.Errorf("duration %q accepted; Prometheus refuses it", bad)
		}
	}
	for _, ok := range []string{"10GB", "500MB", "1TB", "512MiB"} {
		if err := ValidatePromSize(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"999999PB", "10", "0GB", "10XB", "-1GB", "ten"} {
		if ValidatePromSize(bad) == nil {
			t.Errorf("size %q accepted", bad)
		}
	}
}

func TestEveryKeyHasItsCheckOrType(t *testing.T) {
	// A key whose check accepts a garbage string must be a typed or boolean
	// answer: a new string answer needs a case in CheckKey.
	for _, key := range Keys() {
		a := Default()
		if s, ok := a.Get(key).(string); ok {
			_ = s
			v := a.value(key)
			v.SetString("\x00 not a value")
			if a.CheckKey(key) == nil && key != KeyTLSCert && key != KeyTLSKey && key != KeyLicenseFile {
				t.Errorf("answer %s accepts anything: give it a check in CheckKey", key)
			}
		}
	}
}

// FuzzAnswersFile: any bytes given as an answers file are either refused
// with an error, or read into answers that rcgen.yaml writes back and
// reads again to the same answers (nothing a file gives is lost or bent).
func FuzzAnswersFile(f *testing.F) {
	f.Add([]byte("version: 1\ndomain: chat.example.com\nmemory: 16GiB\ncpus: \"8\"\n"))
	f.Add([]byte("version: 1\nmongodb_members: three\n"))
	f.Add([]byte("version: 1\nproject: [a]\n"))
	f.Add([]byte("version: 1\nlicense_file: \"a\\u0000b\"\n"))
	f.Add([]byte("{version: 1, users: 99999999999999999999}"))
	f.Add([]byte("version: 1\n---\nversion: 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseFile("fuzz.yaml", b, "")
		if err != nil {
			return
		}
		a, _, err := Resolve(l)
		if err != nil {
			t.Fatalf("a file that parsed does not resolve: %v", err)
		}
		if a.Validate() != nil {
			return
		}
		again, err := ParseFile("rcgen.yaml", Marshal(a, "fuzz"), "")
		if err != nil {
			t.Fatalf("rcgen.yaml written from valid answers does not parse: %v\n%s", err, Marshal(a, "fuzz"))
		}
		b2, _, err := Resolve(again)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Monitoring {
			a.MetricsRetention, a.MetricsRetentionSize = Default().MetricsRetention, Default().MetricsRetentionSize
		}
		if !reflect.DeepEqual(b2, a) {
			t.Errorf("answers changed through rcgen.yaml:\n%+v\n%+v", a, b2)
		}
	})
}
