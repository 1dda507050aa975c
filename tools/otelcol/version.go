package main

// version is the contrib image's release (catalog.OtelCollectorImage):
// the core modules are at it, the filelog receiver at its patch v0.165.1,
// and the count connector at v0.161.0, its newest release whose
// dependencies the Go module proxy serves (pkg/ottl/contexts/xprofile at
// v0.165.1 is not); scripts/install-test-tools names the binary after it.
const version = "0.165.0"
