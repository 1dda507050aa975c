package kubecheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExamples checks every Kubernetes example rcgen ships
// (examples/kubernetes-*/) and the render package's Kubernetes goldens
// (among them one written with --openshift, held to restricted-v2) as a
// cluster would take them.
func TestExamples(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "examples", "kubernetes-*"))
	if err != nil {
		t.Fatal(err)
	}
	golden, _ := filepath.Glob(filepath.Join("..", "..", "internal", "render", "testdata", "golden", "kubernetes-*"))
	dirs = append(dirs, golden...)
	openshift := 0
	var withKustomization []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "kustomization.yaml")); err == nil {
			withKustomization = append(withKustomization, d)
		}
	}
	if len(withKustomization) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no examples/kubernetes-*/kustomization.yaml: the Kubernetes examples are missing (%v)", dirs)
		}
		t.Skip("SKIPPED LOUDLY: no examples/kubernetes-*/kustomization.yaml yet; nothing to check (under CI=true this fails)")
	}
	for _, d := range withKustomization {
		if forOpenShift(d) {
			openshift++
		}
		t.Run(filepath.Base(d), func(t *testing.T) {
			r := Check(d)
			for _, e := range r.Errors {
				t.Error(e)
			}
			for _, n := range r.Notes {
				t.Log("note:", n)
			}
			if len(r.Objects) == 0 && len(r.Errors) == 0 {
				t.Error("kustomize build yielded no object")
			}
		})
	}
	if openshift == 0 {
		t.Error("no deployment written with --openshift was checked against restricted-v2")
	}
}

// TestValidFixture: the small deployment in testdata/valid passes every
// check, and the exception it declares (MongoDB's fixed user) is reported.
func TestValidFixture(t *testing.T) {
	r := Check(filepath.Join("testdata", "valid"))
	for _, e := range r.Errors {
		t.Error(e)
	}
	kinds := map[string]bool{}
	for _, o := range r.Objects {
		kinds[o.GVK.Kind] = true
		if o.Namespace != "chat" {
			t.Errorf("%s: namespace %q, want chat (kustomization.yaml's namespace)", o.ID(), o.Namespace)
		}
	}
	for _, k := range []string{"Deployment", "StatefulSet", "Service", "Secret", "ConfigMap", "NetworkPolicy", "ServiceMonitor", "HTTPRoute"} {
		if !kinds[k] {
			t.Errorf("no %s in the build: %v", k, kinds)
		}
	}
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "StatefulSet/chat/mongodb runs under OpenShift's anyuid SCC") {
		t.Errorf("notes = %q, want MongoDB's anyuid reason", r.Notes)
	}
}

// TestOpenShiftOverlay: a deployment whose pods have fixed IDs passes with
// an OpenShift overlay beside it that drops them, and the overlay is built
// and checked too.
func TestOpenShiftOverlay(t *testing.T) {
	for _, e := range CheckDir(filepath.Join("testdata", "split")) {
		t.Error(e)
	}
	r := check(filepath.Join("testdata", "split"), true)
	if len(r.Errors) == 0 {
		t.Error("the base alone passes the OpenShift rules although its pods have fixed IDs")
	}
}

// TestBrokenFixtures: each directory under testdata/broken breaks one rule
// of the valid fixture (a kustomize overlay on it); CheckDir must report
// exactly that problem, so every check is shown able to fail.
func TestBrokenFixtures(t *testing.T) {
	cases := map[string][]string{
		"unknown-field":         {"Deployment/chat/rocketchat", `unknown field "spec.template.spec.containers[0].imagePullPolicyy"`},
		"missing-required":      {"Service/chat/rocketchat", "spec.ports[0].port in body is required"},
		"wrong-type":            {"Deployment/chat/rocketchat", "spec.replicas in body must be of type integer"},
		"wrong-enum":            {"HTTPRoute/chat/rocketchat", `spec.rules[0].matches[0].path.type: Unsupported value: "Prefix"`},
		"crd-cel":               {"HTTPRoute/chat/rocketchat", "spec.rules[0].matches[0].path: Invalid value", "must be an absolute path"},
		"crd-unknown-field":     {"ServiceMonitor/chat/rocketchat", `unknown field "spec.endpoints[0].intervall"`},
		"crd-schema":            {"ServiceMonitor/chat/rocketchat", "spec.endpoints[0].interval", "should match"},
		"privileged":            {"Deployment/chat/rocketchat", `container "rocketchat": privileged`},
		"hostpath":              {"Deployment/chat/rocketchat", `volume "tmp" is a hostPath`},
		"selector-nothing":      {"Service/chat/rocketchat", "matches no pod template"},
		"missing-secret":        {"Deployment/chat/rocketchat", `reads Secret "app-secret", which is not in the deployment`},
		"missing-key":           {"Deployment/chat/rocketchat", `reads key "MONGO_URI" of Secret`},
		"missing-limits":        {"Deployment/chat/rocketchat", `container "rocketchat": no memory limit`},
		"missing-cpu-request":   {"Deployment/chat/rocketchat", `container "rocketchat": no CPU request`},
		"memory-request":        {"Deployment/chat/rocketchat", "memory request 512Mi differs from its limit 1Gi"},
		"fixed-uid":             {"Deployment/chat/rocketchat", "securityContext.runAsUser is fixed (65533)"},
		"root":                  {"Deployment/chat/rocketchat", "runAsNonRoot is not true"},
		"mongo-spread":          {"StatefulSet/chat/mongodb", "MongoDB members may share a node"},
		"nodeport":              {"Service/chat/rocketchat", "type NodePort exposes it outside the cluster"},
		"networkpolicy-nothing": {"NetworkPolicy/chat/rocketchat", "podSelector", "selects no pod"},
		"missing-secret-file":   {"kustomize build", "absent.env"},
		"anyuid-undeclared":     {"StatefulSet/chat/mongodb", "securityContext.runAsUser is fixed (999)"},
		"servicemonitor-port":   {"ServiceMonitor/chat/rocketchat", `endpoints[0].port "prometheus" is no port name of the Services it selects`},
		"route-backend":         {"HTTPRoute/chat/rocketchat", `rules[0].backendRefs[0] names port 80 of Service "rocketchat", which has no such port`},
		"openshift-fixed-uid":   {"openshift/: Deployment/rocketchat: securityContext.runAsUser is fixed (65533)"},
		"duplicate-field":       {"kustomize build", `mapping key "data" already defined`},
		"anyuid-no-reason":      {"StatefulSet/chat/mongodb", `annotation rcgen.io/openshift must read "anyuid required: REASON"`},
	}
	dirs, _ := filepath.Glob(filepath.Join("testdata", "broken", "*"))
	if len(dirs) != len(cases) {
		t.Errorf("%d directories in testdata/broken, %d cases: keep them in step", len(dirs), len(cases))
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			errs := CheckDir(filepath.Join("testdata", "broken", name))
			if len(errs) == 0 {
				t.Fatal("no error reported")
			}
			found := false
			for _, e := range errs {
				t.Log(e)
				found = found || containsAll(e.Error(), want)
			}
			if !found {
				t.Errorf("no error above mentions all of %q", want)
			}
		})
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
