package kubecheck

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
)

// openAPI holds Kubernetes' OpenAPI v3 documents, one per group-version as
// the API server serves them at /openapi/v3/apis/GROUP/VERSION (the files
// api__v1_openapi.json, apis__apps__v1_openapi.json...), loaded on demand.
type openAPI struct {
	dir string

	mu     sync.Mutex
	byGV   map[schema.GroupVersion]*gvSchemas
	loadEr map[schema.GroupVersion]error
}

// gvSchemas are one document's schemas: its components, the kind each
// top-level schema stands for, and the validators built so far.
type gvSchemas struct {
	components map[string]*spec.Schema
	kinds      map[string]string // kind -> component name
	expanded   map[string]*spec.Schema
	validators map[string]*validate.SchemaValidator
}

var (
	openAPIOnce sync.Once
	openAPIInst *openAPI
	openAPIErr  error
)

func kubeOpenAPI() (*openAPI, error) {
	openAPIOnce.Do(func() {
		dir, err := moduleDir(kubernetesModule)
		if err != nil {
			openAPIErr = err
			return
		}
		openAPIInst = &openAPI{dir: filepath.Join(dir, "api", "openapi-spec", "v3"), byGV: map[schema.GroupVersion]*gvSchemas{}, loadEr: map[schema.GroupVersion]error{}}
	})
	return openAPIInst, openAPIErr
}

// file is the name of gv's document in api/openapi-spec/v3.
func (o *openAPI) file(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return filepath.Join(o.dir, "api__"+gv.Version+"_openapi.json")
	}
	return filepath.Join(o.dir, "apis__"+gv.Group+"__"+gv.Version+"_openapi.json")
}

func (o *openAPI) load(gv schema.GroupVersion) (*gvSchemas, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s, ok := o.byGV[gv]; ok {
		return s, nil
	}
	if err, ok := o.loadEr[gv]; ok {
		return nil, err
	}
	s, err := o.read(gv)
	if err != nil {
		o.loadEr[gv] = err
		return nil, err
	}
	o.byGV[gv] = s
	return s, nil
}

func (o *openAPI) read(gv schema.GroupVersion) (*gvSchemas, error) {
	b, err := os.ReadFile(o.file(gv))
	if err != nil {
		return nil, fmt.Errorf("no OpenAPI document for %s in Kubernetes %s: %v", gv, kubernetesModule.Version, err)
	}
	var doc spec3.OpenAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", o.file(gv), err)
	}
	if doc.Components == nil {
		return nil, fmt.Errorf("%s: no components", o.file(gv))
	}
	s := &gvSchemas{components: doc.Components.Schemas, kinds: map[string]string{}, expanded: map[string]*spec.Schema{}, validators: map[string]*validate.SchemaValidator{}}
	for name, sc := range s.components {
		gvks, _ := sc.Extensions["x-kubernetes-group-version-kind"].([]interface{})
		for _, g := range gvks {
			m, _ := g.(map[string]interface{})
			if m["group"] == gv.Group && m["version"] == gv.Version {
				if k, ok := m["kind"].(string); ok {
					s.kinds[k] = name
				}
			}
		}
	}
	return s, nil
}

// validator is the schema validator of gvk, nil when Kubernetes' document
// for its group-version has no such kind.
func (o *openAPI) validator(gvk schema.GroupVersionKind) (*validate.SchemaValidator, error) {
	s, err := o.load(gvk.GroupVersion())
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	name, ok := s.kinds[gvk.Kind]
	if !ok {
		return nil, fmt.Errorf("Kubernetes %s has no kind %s in %s", kubernetesModule.Version, gvk.Kind, gvk.GroupVersion())
	}
	if v, ok := s.validators[name]; ok {
		return v, nil
	}
	root := s.expand(name, map[string]bool{})
	// No format checks (see expandSchema): "byte" data, for one, may be
	// wrapped in lines, as kustomize writes it, and Go's decoder takes it.
	v := validate.NewSchemaValidator(root, nil, "", strfmt.NewSeededFormats(nil, nil))
	s.validators[name] = v
	return v, nil
}

const componentRef = "#/components/schemas/"

// expand is component name with every $ref replaced by the schema it
// names (kube-openapi's validator does not follow references). A schema
// met again inside itself (a recursive type) is left unconstrained below
// that point.
func (s *gvSchemas) expand(name string, inProgress map[string]bool) *spec.Schema {
	if e, ok := s.expanded[name]; ok {
		return e
	}
	c, ok := s.components[name]
	if !ok || inProgress[name] {
		return &spec.Schema{}
	}
	inProgress[name] = true
	e := s.expandSchema(c, inProgress)
	delete(inProgress, name)
	s.expanded[name] = e
	return e
}

func (s *gvSchemas) expandSchema(in *spec.Schema, inProgress map[string]bool) *spec.Schema {
	if in == nil {
		return nil
	}
	if ref := in.Ref.String(); ref != "" {
		return s.expand(strings.TrimPrefix(ref, componentRef), inProgress)
	}
	out := *in
	// Formats are documentation to the API server, which decodes built-in
	// kinds into their Go types and checks no format; kube-openapi's
	// validator would also take "int-or-string" for a type.
	out.Format = ""
	if in.Properties != nil {
		out.Properties = make(map[string]spec.Schema, len(in.Properties))
		for k, p := range in.Properties {
			out.Properties[k] = *s.expandSchema(&p, inProgress)
		}
	}
	if in.Items != nil {
		items := *in.Items
		items.Schema = s.expandSchema(in.Items.Schema, inProgress)
		items.Schemas = s.expandList(in.Items.Schemas, inProgress)
		out.Items = &items
	}
	if in.AdditionalProperties != nil && in.AdditionalProperties.Schema != nil {
		ap := *in.AdditionalProperties
		ap.Schema = s.expandSchema(ap.Schema, inProgress)
		out.AdditionalProperties = &ap
	}
	out.AllOf = s.expandList(in.AllOf, inProgress)
	out.AnyOf = s.expandList(in.AnyOf, inProgress)
	out.OneOf = s.expandList(in.OneOf, inProgress)
	out.Not = s.expandSchema(in.Not, inProgress)
	return &out
}

func (s *gvSchemas) expandList(in []spec.Schema, inProgress map[string]bool) []spec.Schema {
	if in == nil {
		return nil
	}
	out := make([]spec.Schema, len(in))
	for i := range in {
		out[i] = *s.expandSchema(&in[i], inProgress)
	}
	return out
}
