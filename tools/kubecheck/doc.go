// Package kubecheck validates rcgen's Kubernetes deployments (issue 29)
// offline, with the libraries a cluster itself uses to read them:
//
//   - kustomize's krusty builds the directory as `kubectl apply -k` does;
//   - every built-in object is decoded strictly (unknown and duplicate
//     fields are errors, as the API server's fieldValidation=Strict makes
//     them) into its k8s.io/api type with client-go's scheme, and validated
//     against the OpenAPI v3 schemas Kubernetes publishes for its pinned
//     minor (k8s.io/kubernetes api/openapi-spec/v3) with kube-openapi's
//     validator, as kubectl's client-side validation does;
//   - every custom resource (Prometheus operator, Gateway API, cert-manager)
//     goes through what the API server does with a CRD's openAPIV3Schema:
//     apiextensions-apiserver's defaulting, pruning (what it would prune is
//     an unknown field), schema validation, metadata validation and CEL
//     rules (x-kubernetes-validations);
//   - rcgen's own invariants on the typed objects (see invariants.go), the
//     Pod Security Standard "restricted" profile through the
//     pod-security-admission library the API server runs included.
//
// It is a module of its own so none of these libraries reach rcgen's binary
// or go.mod; `make kube` (part of `make test`) runs it.
package kubecheck
