package kubecheck

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

// crdVersion is what the API server keeps of one served version of a CRD
// to validate its objects.
type crdVersion struct {
	source     string // where the CRD came from, for messages
	namespaced bool
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	cel        *cel.Validator
}

// crdSource is CRD YAML in a pinned module (the Prometheus operator's are
// generated from its types: monitoring.go).
type crdSource struct {
	module pinnedModule
	dir    string   // inside the module
	files  []string // in dir; all *.yaml when empty
}

// crdSources are the CRDs of the custom resources rcgen may write.
var crdSources = []crdSource{
	{module: gatewayModule, dir: "config/crd/standard", files: []string{"gateway.networking.k8s.io_httproutes.yaml", "gateway.networking.k8s.io_gateways.yaml", "gateway.networking.k8s.io_referencegrants.yaml"}},
	{module: certManagerModule, dir: "deploy/crds", files: []string{"cert-manager.io_issuers.yaml", "cert-manager.io_clusterissuers.yaml", "cert-manager.io_certificates.yaml"}},
}

var (
	crdOnce sync.Once
	crdMap  map[schema.GroupVersionKind]*crdVersion
	crdErr  error
)

// crds are the CRDs kubecheck knows, by the kind they serve.
func crds() (map[schema.GroupVersionKind]*crdVersion, error) {
	crdOnce.Do(func() {
		crdMap = map[schema.GroupVersionKind]*crdVersion{}
		var errs []error
		for _, src := range crdSources {
			dir, err := moduleDir(src.module)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			files := src.files
			if len(files) == 0 {
				m, _ := filepath.Glob(filepath.Join(dir, src.dir, "*.yaml"))
				for _, f := range m {
					files = append(files, filepath.Base(f))
				}
			}
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(dir, src.dir, f))
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if err := addCRDs(crdMap, src.module.Path+"@"+src.module.Version+"/"+src.dir+"/"+f, b); err != nil {
					errs = append(errs, err)
				}
			}
		}
		gen, err := monitoringCRDs()
		if err != nil {
			errs = append(errs, err)
		}
		for _, c := range gen {
			if err := addCRD(crdMap, c.source, c.crd); err != nil {
				errs = append(errs, err)
			}
		}
		crdErr = errors.Join(errs...)
	})
	return crdMap, crdErr
}

// addCRDs adds every CustomResourceDefinition in the YAML stream b.
func addCRDs(m map[schema.GroupVersionKind]*crdVersion, source string, b []byte) error {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %v", source, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(doc, &crd); err != nil {
			return fmt.Errorf("%s: %v", source, err)
		}
		if crd.Kind != "CustomResourceDefinition" {
			continue
		}
		if err := addCRD(m, source, &crd); err != nil {
			return err
		}
	}
}

// addCRD prepares what the API server prepares for each served version of
// crd: its structural schema, the OpenAPI validator and the CEL rules
// (k8s.io/apiextensions-apiserver/pkg/registry/customresource.NewStrategy).
func addCRD(m map[schema.GroupVersionKind]*crdVersion, source string, crd *apiextensionsv1.CustomResourceDefinition) error {
	for _, v := range crd.Spec.Versions {
		if !v.Served || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			continue
		}
		var internal apiextensions.JSONSchemaProps
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, &internal, nil); err != nil {
			return fmt.Errorf("%s: %s %s: %v", source, crd.Name, v.Name, err)
		}
		st, err := structuralschema.NewStructural(&internal)
		if err != nil {
			return fmt.Errorf("%s: %s %s: not structural: %v", source, crd.Name, v.Name, err)
		}
		val, _, err := apiservervalidation.NewSchemaValidator(&internal)
		if err != nil {
			return fmt.Errorf("%s: %s %s: %v", source, crd.Name, v.Name, err)
		}
		gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
		m[gvk] = &crdVersion{
			source:     source,
			namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
			structural: st,
			validator:  val,
			cel:        cel.NewValidator(st, true, celconfig.PerCallLimit),
		}
	}
	return nil
}

// validateCustom does to obj (a custom resource, as JSON-decoded maps)
// what the API server does on create with fieldValidation=Strict:
// defaulting, pruning (a pruned field is an unknown field: an error), the
// schema, the metadata and list-type rules, then the CEL rules.
func (c *crdVersion) validateCustom(obj map[string]interface{}) []string {
	var msgs []string
	structuraldefaulting.Default(obj, c.structural)
	for _, p := range pruning.PruneWithOptions(obj, c.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		msgs = append(msgs, fmt.Sprintf("unknown field %q (not in the CRD's schema, %s)", p, c.source))
	}
	var errs field.ErrorList
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, c.validator)...)
	errs = append(errs, schemaobjectmeta.Validate(context.Background(), nil, obj, c.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, c.structural, obj)...)
	if len(errs) == 0 && c.cel != nil {
		celErrs, _ := c.cel.Validate(context.Background(), nil, c.structural, obj, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	sort.Strings(msgs)
	return msgs
}

// crdKinds lists the known custom kinds, for messages.
func crdKinds(m map[schema.GroupVersionKind]*crdVersion) string {
	var ks []string
	for k := range m {
		ks = append(ks, k.GroupVersion().String()+" "+k.Kind)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}
