// Command kubecheck checks Kubernetes deployment directories (each with a
// kustomization.yaml) as package kubecheck does, for a person: run it from
// tools/kubecheck, `go run ./cmd/kubecheck DIR...`. It prints every problem
// and the exceptions accepted, and exits 1 when there is a problem.
package main

import (
	"fmt"
	"os"

	"github.com/rcgen/rcgen/tools/kubecheck"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./cmd/kubecheck DIR... (each DIR holds a kustomization.yaml)")
		os.Exit(2)
	}
	failed := false
	for _, dir := range os.Args[1:] {
		r := kubecheck.Check(dir)
		for _, n := range r.Notes {
			fmt.Printf("%s: note: %s\n", dir, n)
		}
		for _, e := range r.Errors {
			fmt.Printf("%s: %v\n", dir, e)
		}
		fmt.Printf("%s: %d objects, %d problems\n", dir, len(r.Objects), len(r.Errors))
		failed = failed || len(r.Errors) > 0
	}
	if failed {
		os.Exit(1)
	}
}
