package sizing

import (
	"testing"

	"github.com/rcgen/rcgen/internal/spec"
)

func BenchmarkCompute(b *testing.B) {
	host := Host{CPUs: 32, Memory: 128 * spec.GiB}
	in := Inputs{Licensed: true, MongoDBMembers: 3, Monitoring: true, Proxy: true}
	for b.Loop() {
		if _, err := Compute(host, in); err != nil {
			b.Fatal(err)
		}
	}
}
