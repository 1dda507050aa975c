package render_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// BenchmarkGenerate measures the whole pipeline (derive, render, compose-go
// load, invariants) for growing numbers of app processes.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{1, 8, 64, 256} {
		b.Run(fmt.Sprintf("processes=%d", n), func(b *testing.B) {
			a := spec.Default()
			a.License = "BENCH"
			a.Processes = n
			a.MongoDBMembers = 3
			a.Domain, a.Email = "chat.example.com", "admin@example.com"
			host := sizing.Host{CPUs: float64(n + 1), Memory: int64(n+16) * 2 * spec.GiB}
			plan, err := sizing.Compute(host, sizing.Inputs{Licensed: true, Processes: n, MongoDBMembers: 3, Monitoring: true, Proxy: true})
			if err != nil {
				b.Fatal(err)
			}
			s := fixedSecrets(b)
			b.ResetTimer()
			for b.Loop() {
				if _, err := render.Generate(context.Background(), render.Input{Answers: a, Plan: plan, Secrets: s, RcgenVersion: "bench"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
