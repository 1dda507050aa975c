package main

import (
	"os/exec"
	"testing"
)

// BenchmarkStartupVersion measures the whole process for `rcgen --version`:
// start-up work done before any command runs (package initialisation,
// building the command tree) shows here. The target is under 15ms a run;
// templates are parsed lazily, on first render, not at start.
func BenchmarkStartupVersion(b *testing.B) {
	bin, err := buildRcgen()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}
