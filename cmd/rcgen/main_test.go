package main

import (
	"os"
	"os/exec"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/rcgen/rcgen/internal/cli"
)

func TestMain(m *testing.M) {
	// The rcgen binaries these tests start (the pseudo-terminal, kill and
	// race tests inherit this environment) never look up the catalog
	// online: a test must not depend on the network, nor wait on it.
	if _, set := os.LookupEnv("RCGEN_OFFLINE"); !set {
		os.Setenv("RCGEN_OFFLINE", "1")
	}
	testscript.Main(m, map[string]func(){
		"rcgen": func() { os.Exit(cli.Main()) },
	})
}

// TestScripts runs the end-to-end CLI scenarios in testdata/script.
// $RCGEN is the rcgen testscript puts on the PATH, for a script that runs
// it by its path with another PATH.
func TestScripts(t *testing.T) {
	bin, err := exec.LookPath("rcgen")
	if err != nil {
		t.Fatalf("testscript put no rcgen on the PATH: %v", err)
	}
	testscript.Run(t, testscript.Params{Dir: "testdata/script", Setup: func(env *testscript.Env) error {
		env.Setenv("RCGEN", bin)
		// No lookups online, and a cache of the script's own.
		env.Setenv("RCGEN_OFFLINE", "1")
		env.Setenv("XDG_CACHE_HOME", env.WorkDir+"/.cache")
		return nil
	}})
}
