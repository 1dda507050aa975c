package kubecheck

import (
	"fmt"
	"os"
	"sort"

	"golang.org/x/tools/go/packages"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/controller-tools/pkg/crd"
	"sigs.k8s.io/controller-tools/pkg/loader"
	"sigs.k8s.io/controller-tools/pkg/markers"

	// The types controller-gen reads: imported so go.mod pins their module.
	_ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
)

// monitoringPackage holds the Prometheus operator's v1 API types
// (ServiceMonitor, PodMonitor, PrometheusRule...), the version pinned in
// go.mod. The operator's own CRDs are generated from these types by
// controller-gen (`make generate` in prometheus-operator runs
// `controller-gen crd paths=./pkg/apis/monitoring/...`:
// https://github.com/prometheus-operator/prometheus-operator/blob/v0.95.2/Makefile);
// the main module that ships the YAML (example/prometheus-operator-crd-full)
// is not served by the module proxy here, so kubecheck runs the same
// generator, controller-tools as a library, on the same types.
const monitoringPackage = "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"

type generatedCRD struct {
	source string
	crd    *apiextensionsv1.CustomResourceDefinition
}

// monitoringModule is the module of monitoringPackage, the version go.mod
// requires (wiring.go reads these types too).
var monitoringModule = pinnedModule{"github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring", "v0.95.2", "h1:DQKGQhE39ua9V+ZCro38z32jP8nAtIZ27f3qdAorXHg="}

// monitoringCRDs generates the monitoring.coreos.com/v1 CRDs. It loads the
// package inside its own module (in the module cache, with the
// dependencies that module pins), wherever kubecheck runs.
func monitoringCRDs() ([]generatedCRD, error) {
	dir, err := moduleDir(monitoringModule)
	if err != nil {
		return nil, err
	}
	roots, err := loader.LoadRootsWithConfig(&packages.Config{Dir: dir, Env: append(os.Environ(), "GOFLAGS=-mod=readonly")}, monitoringPackage)
	if err != nil {
		return nil, fmt.Errorf("controller-gen %s: %v", monitoringPackage, err)
	}
	reg := &markers.Registry{}
	if err := (crd.Generator{}).RegisterMarkers(reg); err != nil {
		return nil, fmt.Errorf("controller-gen %s: %v", monitoringPackage, err)
	}
	parser := &crd.Parser{Collector: &markers.Collector{Registry: reg}, Checker: &loader.TypeChecker{}}
	crd.AddKnownTypes(parser)
	for _, r := range roots {
		parser.NeedPackage(r)
	}
	metav1 := crd.FindMetav1(roots)
	if metav1 == nil {
		return nil, fmt.Errorf("controller-gen %s: %v", monitoringPackage, fmt.Errorf("no metav1 import"))
	}
	var out []generatedCRD
	var loadErrs []string
	for _, r := range roots {
		for _, e := range r.Errors {
			// controller-gen skips type errors as well: it type-checks
			// only what the API types reference (genall's Runtime.Run,
			// loader.PrintErrors(roots, packages.TypeError)).
			if e.Kind != packages.TypeError {
				loadErrs = append(loadErrs, e.Error())
			}
		}
	}
	if len(loadErrs) > 0 {
		return nil, fmt.Errorf("controller-gen %s: %v", monitoringPackage, fmt.Errorf("%v", loadErrs))
	}
	kinds := crd.FindKubeKinds(parser, metav1)
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].Kind < kinds[j].Kind })
	for _, gk := range kinds {
		parser.NeedCRDFor(gk, nil)
		c, ok := parser.CustomResourceDefinitions[gk]
		if !ok {
			continue
		}
		out = append(out, generatedCRD{source: "controller-gen of " + monitoringPackage + " " + gk.Kind, crd: &c})
	}
	return out, nil
}
