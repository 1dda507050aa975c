package render_test

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
)

// keyPaths lists the dotted path of every leaf of a decoded values file
// (a list is a leaf: the chart takes it whole).
func keyPaths(prefix string, v any) []string {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return []string{prefix}
	}
	var out []string
	for k, x := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		out = append(out, keyPaths(p, x)...)
	}
	slices.Sort(out)
	return out
}

// documented reports whether path is one of the chart's documented keys,
// or under a free-form one.
func documented(path string, keys []string) bool {
	for _, k := range keys {
		if k == path {
			return true
		}
		if free, ok := strings.CutSuffix(k, ".*"); ok && (path == free || strings.HasPrefix(path, free+".")) {
			return true
		}
	}
	return false
}

type helmCase struct {
	name      string
	processes int
	o         render.KubeOptions
	edit      func(*spec.Answers)
}

var helmCases = []helmCase{
	{"one process, Let's Encrypt", 1, kubeOpts(render.KubeMonitoringOperator), nil},
	{"three licensed processes, bundled monitoring", 3, kubeOpts(render.KubeMonitoringBundled), nil},
	{"licensed microservices", 3, kubeOpts(render.KubeMonitoringOperator), func(a *spec.Answers) { a.Users = 5000 }},
	{"gateway, own certificate, no monitoring", 1, render.KubeOptions{Namespace: "chat", Ingress: render.KubeIngressGateway, Gateway: "gw/public"}, func(a *spec.Answers) {
		a.Monitoring = false
		a.TLSCert, a.TLSKey = "../certs/chat.example.com.crt", "../certs/chat.example.com.key"
		a.TLSCertPEM, a.TLSKeyPEM = testCert, testKey
	}},
}

func helmValues(t *testing.T, c helmCase) (*render.Data, render.File, map[string]any) {
	t.Helper()
	d := kubeData(t, 3, c.processes, c.edit)
	f, err := render.HelmValuesFile(d, c.o)
	if err != nil {
		t.Fatal(err)
	}
	if f.Path != render.HelmValuesPath || f.Secret {
		t.Errorf("file %s (secret %v), want %s", f.Path, f.Secret, render.HelmValuesPath)
	}
	docs := kubeDocs(t, f.Content)
	if len(docs) != 1 {
		t.Fatalf("%d documents in the values", len(docs))
	}
	return d, f, docs[0]
}

// TestHelmValuesKeysDocumented checks every key the values set is one the
// chart documents at the pinned version.
func TestHelmValuesKeysDocumented(t *testing.T) {
	keys := render.HelmDocumentedKeys()
	if !strings.Contains(render.HelmChartSource, "rocketchat-"+render.HelmChartVersion+"/") {
		t.Errorf("the key list's source %s is not the pinned chart %s", render.HelmChartSource, render.HelmChartVersion)
	}
	for _, c := range helmCases {
		t.Run(c.name, func(t *testing.T) {
			_, _, v := helmValues(t, c)
			paths := keyPaths("", v)
			if len(paths) < 10 {
				t.Fatalf("only %d keys: %v", len(paths), paths)
			}
			for _, p := range paths {
				if !documented(p, keys) {
					t.Errorf("%s is not a key rocketchat %s documents (%s)", p, render.HelmChartVersion, render.HelmChartSource)
				}
			}
		})
	}
	if documented("mongodb.auth.rootPassword", keys) || !documented("resources.limits.memory", keys) {
		t.Error("documented() does not tell keys apart")
	}
}

// TestHelmValuesSized checks the values follow the plan and rcgen's
// rules: replicas and memory from the plan, the chart's MongoDB off with
// rcgen's through an existing Secret, microservices only with a licence,
// and no secret in the file.
func TestHelmValuesSized(t *testing.T) {
	for _, c := range helmCases {
		t.Run(c.name, func(t *testing.T) {
			d, f, v := helmValues(t, c)
			if got := dig(v, "replicaCount"); got != d.Plan.Processes {
				t.Errorf("replicaCount %v, plan %d", got, d.Plan.Processes)
			}
			mem := strconv.FormatInt(d.Plan.AppMemory/spec.MiB, 10) + "Mi"
			if dig(v, "resources", "limits", "memory") != mem || dig(v, "resources", "requests", "memory") != mem {
				t.Errorf("resources %v, want memory %s requested and limited", dig(v, "resources"), mem)
			}
			if dig(v, "mongodb", "enabled") != false || dig(v, "existingMongodbSecret") != render.HelmMongoSecret || dig(v, "externalMongodbUrl") != nil {
				t.Errorf("MongoDB: enabled %v, existingMongodbSecret %v, externalMongodbUrl %v", dig(v, "mongodb", "enabled"), dig(v, "existingMongodbSecret"), dig(v, "externalMongodbUrl"))
			}
			licensed := d.Answers.License != ""
			if micro := dig(v, "microservices", "enabled"); micro != (licensed && d.Answers.Users > 1000) {
				t.Errorf("microservices %v with licence %v and %d users", micro, licensed, d.Answers.Users)
			}
			if (dig(v, "extraSecret") == render.HelmLicenseSecret) != licensed || dig(v, "license") != nil {
				t.Errorf("licence: extraSecret %v, license %v", dig(v, "extraSecret"), dig(v, "license"))
			}
			if d.Plan.Processes > 1 && dig(v, "microservices", "enabled") == false && dig(v, "nats", "enabled") != true {
				t.Errorf("%d monolith pods without NATS", d.Plan.Processes)
			}
			if dig(v, "image", "tag") != d.Answers.RocketChatVersion {
				t.Errorf("image.tag %v, want %s", dig(v, "image", "tag"), d.Answers.RocketChatVersion)
			}
			s := fixedSecrets(t)
			for _, secret := range []string{s.MongoRocketChatPassword, s.MongoRootPassword, s.GrafanaAdminPassword, "TEST-LICENCE-NOT-REAL", testKey[40:80]} {
				if strings.Contains(string(f.Content), secret) {
					t.Errorf("the values hold a secret (%.6s...)", secret)
				}
			}
			ing := dig(v, "ingress", "enabled")
			if (c.o.Ingress == render.KubeIngressNginx) != (ing == true) {
				t.Errorf("ingress.enabled %v with ingress %s", ing, c.o.Ingress)
			}
			if ing == true && d.TLSMode != spec.TLSNone && dig(v, "ingress", "tls", 0, "secretName") != render.HelmTLSSecret {
				t.Errorf("ingress.tls %v", dig(v, "ingress", "tls"))
			}
		})
	}
}

func TestKubeMongoURI(t *testing.T) {
	for _, members := range []int{1, 3} {
		d := kubeData(t, members, 1, nil)
		u, err := url.Parse(render.KubeMongoURI(d, kubeOpts(""), "p@ss/w:rd"))
		if err != nil {
			t.Fatal(err)
		}
		pw, _ := u.User.Password()
		hosts := strings.Split(u.Host, ",")
		if u.Scheme != "mongodb" || u.User.Username() != "rocketchat" || pw != "p@ss/w:rd" || u.Path != "/rocketchat" ||
			u.Query().Get("replicaSet") != render.ReplicaSet || u.Query().Get("authSource") != "admin" || len(hosts) != members {
			t.Errorf("%d members: %s", members, u.Redacted())
		}
		for i, h := range hosts {
			if want := "mongodb-" + strconv.Itoa(i) + ".mongodb.chat.svc:27017"; h != want {
				t.Errorf("host %d %s, want %s", i, h, want)
			}
		}
	}
}
