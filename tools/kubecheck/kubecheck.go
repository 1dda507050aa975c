package kubecheck

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Object is one object of a built deployment.
type Object struct {
	GVK       schema.GroupVersionKind
	Namespace string
	Name      string
	// Typed is the object decoded into its k8s.io/api type (nil for a
	// custom resource); Raw is it as JSON-decoded maps.
	Typed runtime.Object
	Raw   map[string]interface{}
}

// ID names o in messages: Kind/namespace/name, as kubectl does.
func (o *Object) ID() string {
	if o.Namespace == "" {
		return o.GVK.Kind + "/" + o.Name
	}
	return o.GVK.Kind + "/" + o.Namespace + "/" + o.Name
}

// Report is what Check found.
type Report struct {
	Objects []*Object
	Errors  []error
	// Notes are the exceptions the deployment declares and the checker
	// accepted (e.g. a workload that needs OpenShift's anyuid), for people
	// to read.
	Notes []string
}

// OpenShiftOverlay is the directory, beside a deployment's
// kustomization.yaml, of its overlay for OpenShift, when it has one.
const OpenShiftOverlay = "openshift"

// CheckDir builds dir (a directory with a kustomization.yaml) as `kubectl
// apply -k DIR` does and returns every problem a cluster or rcgen's own
// rules would find in what it would apply; nil when there is none.
//
// Every pod must meet the Pod Security Standard "restricted"; for
// OpenShift's restricted-v2 as well, no fixed user or groups (but where a
// workload declares anyuid: AnnotationOpenShift). When dir has an
// OpenShift overlay (dir/openshift/kustomization.yaml), it is built and
// checked too, and it alone must meet restricted-v2; its errors start
// with "openshift/".
func CheckDir(dir string) []error { return Check(dir).Errors }

// Check is CheckDir with the objects and the accepted exceptions.
func Check(dir string) Report {
	overlay := filepath.Join(dir, OpenShiftOverlay)
	if _, err := os.Stat(filepath.Join(overlay, "kustomization.yaml")); err != nil {
		return check(dir, forOpenShift(dir))
	}
	r := check(dir, false)
	o := check(overlay, true)
	for _, e := range o.Errors {
		r.Errors = append(r.Errors, fmt.Errorf("%s/: %w", OpenShiftOverlay, e))
	}
	for _, n := range o.Notes {
		r.Notes = append(r.Notes, OpenShiftOverlay+"/: "+n)
	}
	return r
}

// forOpenShift says whether dir must meet OpenShift's restricted-v2: an
// rcgen deployment says so in its rcgen.yaml (openshift: true, written by
// --openshift; without it the pods name their images' users, as plain
// Kubernetes needs); any other directory is held to it.
func forOpenShift(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "rcgen.yaml"))
	if err != nil {
		return true
	}
	var a struct {
		OpenShift bool `json:"openshift"`
	}
	if err := yaml.Unmarshal(b, &a); err != nil {
		return true
	}
	return a.OpenShift
}

func check(dir string, openShift bool) Report {
	var r Report
	objs, err := build(dir)
	if err != nil {
		r.Errors = append(r.Errors, fmt.Errorf("kustomize build %s: %v", dir, err))
		return r
	}
	r.Objects = objs
	for _, o := range objs {
		for _, e := range validateObject(o) {
			r.Errors = append(r.Errors, fmt.Errorf("%s: %s", o.ID(), e))
		}
	}
	errs, notes := invariants(objs, openShift)
	r.Errors = append(r.Errors, errs...)
	r.Notes = notes
	return r
}

// build runs kustomize as kubectl does (k8s.io/cli-runtime's
// kustomizevisitor: krusty with its default options, files loaded from the
// directory's root only) and decodes every object it yields.
func build(dir string) ([]*Object, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	var objs []*Object
	var errs []string
	for _, res := range m.Resources() {
		b, err := res.MarshalJSON()
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		o, err := decode(b)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s/%s: %v", res.GetKind(), res.GetName(), err))
			continue
		}
		objs = append(objs, o)
	}
	if len(errs) > 0 {
		return objs, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return objs, nil
}

// strictCodecs decode into k8s.io/api's types with client-go's scheme the
// way the API server does with fieldValidation=Strict: an unknown or
// duplicate field is an error.
var strictCodecs = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict)

func init() {
	// The CRDs themselves, should a deployment carry one.
	_ = apiextensionsv1.AddToScheme(scheme.Scheme)
}

func decode(b []byte) (*Object, error) {
	var raw map[string]interface{}
	if err := utiljson.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(b, &tm); err != nil {
		return nil, err
	}
	gv, err := schema.ParseGroupVersion(tm.APIVersion)
	if err != nil {
		return nil, err
	}
	return &Object{GVK: gv.WithKind(tm.Kind), Namespace: tm.Metadata.Namespace, Name: tm.Metadata.Name, Raw: raw}, nil
}

// validateObject decodes o strictly into its type and validates it against
// its schema: Kubernetes' OpenAPI for a built-in kind, its CRD's for a
// custom resource.
func validateObject(o *Object) []string {
	b, err := json.Marshal(o.Raw)
	if err != nil {
		return []string{err.Error()}
	}
	if scheme.Scheme.Recognizes(o.GVK) {
		var msgs []string
		obj, _, err := strictCodecs.UniversalDeserializer().Decode(b, &o.GVK, nil)
		if err != nil {
			// A strict error comes with the object decoded; another (a
			// wrong type) without: the schema below says where.
			msgs = append(msgs, err.Error())
		}
		if err == nil || runtime.IsStrictDecodingError(err) {
			o.Typed = obj
		}
		oa, err := kubeOpenAPI()
		if err != nil {
			return append(msgs, err.Error())
		}
		v, err := oa.validator(o.GVK)
		if err != nil {
			return append(msgs, err.Error())
		}
		res := v.Validate(o.Raw)
		for _, e := range res.Errors {
			// Every reference in Kubernetes' documents is wrapped in an
			// allOf, which adds "must validate all the schemas" above
			// each real error: leave it out when there is one.
			if len(res.Errors) > 1 && strings.Contains(e.Error(), "must validate all the schemas (allOf)") {
				continue
			}
			msgs = append(msgs, fmt.Sprintf("OpenAPI schema of Kubernetes %s: %v", kubernetesModule.Version, e))
		}
		sort.Strings(msgs)
		return msgs
	}
	m, err := crds()
	if err != nil {
		return []string{err.Error()}
	}
	c, ok := m[o.GVK]
	if !ok {
		return []string{fmt.Sprintf("kind %s %s is neither built into Kubernetes %s nor one of the CRDs kubecheck knows (%s)", o.GVK.GroupVersion(), o.GVK.Kind, kubernetesModule.Version, crdKinds(m))}
	}
	// The API server validates its own copy: defaulting and pruning change it.
	var cp map[string]interface{}
	if err := utiljson.Unmarshal(b, &cp); err != nil {
		return []string{err.Error()}
	}
	return c.validateCustom(cp)
}
