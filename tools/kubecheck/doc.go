// Package kubecheck validates rcgen's Kubernetes deployments (issue 29)
// offline, with the libraries a cluster itself uses to read them:
//
//   - kustomize's krusty builds the directory as `kubectl apply -k` does
//     (k8s.io/cli-runtime's kustomize visitor: default options, files
//     loaded from the directory only);
//   - every built-in object is decoded strictly (unknown and duplicate
//     fields are errors, as the API server's fieldValidation=Strict makes
//     them) into its k8s.io/api type with client-go's scheme, and validated
//     against the OpenAPI v3 schemas Kubernetes publishes for its pinned
//     release (k8s.io/kubernetes api/openapi-spec/v3) with kube-openapi's
//     validator: types, required fields. Those documents carry no enums for
//     built-in kinds: the API server's own validation checks them, which
//     needs a server (see the report of issue 29);
//   - every custom resource goes through what the API server does with its
//     CRD's openAPIV3Schema on create: apiextensions-apiserver's defaulting,
//     pruning (what it would prune is an unknown field), schema validation
//     (enums, patterns, required), metadata and list-type rules, and the
//     CEL rules (x-kubernetes-validations). The CRDs: Gateway API's and
//     cert-manager's from their modules, the Prometheus operator's
//     generated from its API types by controller-tools as upstream does;
//   - rcgen's own rules on the typed objects (invariants.go, wiring.go):
//     limits, the Pod Security Standard "restricted" through the
//     pod-security-admission library the API server runs, OpenShift's
//     restricted-v2 (no fixed IDs, unless a workload declares
//     AnnotationOpenShift), MongoDB members apart, Services internal and
//     selecting pods, Secrets and ConfigMaps present, NetworkPolicies,
//     PodDisruptionBudgets, ServiceMonitors, PodMonitors, routes and
//     Issuers pointing at what exists.
//
// The OpenAPI documents and CRDs come from the Go module proxy (`go mod
// download`, pinned by version and checksum in modules.go) on first use.
//
// Not done: a server-side dry-run (kubectl apply --dry-run=server) against a
// kube-apiserver built here from k8s.io/kubernetes v1.37.2 (its 33 staging
// modules replaced by their v0.37.2 releases: `go mod tidy` resolves them
// all from the proxy in under a minute), which would add the API server's
// own validation (enums of built-in kinds, names, immutable fields). `go
// build k8s.io/kubernetes/cmd/kube-apiserver` did not finish in 30 minutes
// on the shared two-core machine (1,090 CPU-seconds spent, load about 13),
// before etcd (go.etcd.io/etcd/server/v3) was even tried: too slow for
// make test.
//
// It is a module of its own so none of these libraries reach rcgen's binary
// or go.mod; `make kube` (part of `make test`) runs its tests, which check
// every examples/kubernetes-*/ directory and the fixtures in testdata/.
// `go run ./cmd/kubecheck DIR...` checks any directory.
package kubecheck
