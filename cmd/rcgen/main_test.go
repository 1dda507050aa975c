package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/rcgen/rcgen/internal/cli"
	"github.com/rcgen/rcgen/internal/smoke"
)

func TestMain(m *testing.M) {
	// The rcgen binaries these tests start (the pseudo-terminal, kill and
	// race tests inherit this environment) never look up the catalog
	// online: a test must not depend on the network, nor wait on it.
	if _, set := os.LookupEnv("RCGEN_OFFLINE"); !set {
		os.Setenv("RCGEN_OFFLINE", "1")
	}
	testscript.Main(m, map[string]func(){
		"rcgen": func() { os.Exit(cli.MainWith(func(env *cli.Env) { fakeSmoke(env); fakeDisk(env) })) },
		// stagelines prints the lines of standard input that rcgen up's
		// stages and smoke test print (not the host-dependent preflight).
		"stagelines": func() {
			sc := bufio.NewScanner(os.Stdin)
			for sc.Scan() {
				if l := sc.Text(); strings.HasPrefix(l, "[") || strings.HasPrefix(l, "Smoke") {
					fmt.Println(l)
				}
			}
			os.Exit(0)
		},
	})
}

// fakeSmoke: with RCGEN_TEST_SMOKE=pass the smoke test passes without a
// network (a script's stack is a fake docker); smoke's own tests run it
// for real.
func fakeSmoke(env *cli.Env) {
	if os.Getenv("RCGEN_TEST_SMOKE") != "pass" {
		return
	}
	env.Smoke = func(_ context.Context, t smoke.Target) smoke.Report {
		r := smoke.Report{Results: []smoke.Result{{Name: "https", OK: true}, {Name: "api/info", OK: true, Detail: t.Version}, {Name: "websocket", OK: true}}}
		if strings.HasPrefix(t.RootURL, "https:") {
			r.CertNotAfter = time.Date(2027, 2, 23, 0, 0, 0, 0, time.UTC)
		}
		return r
	}
}

// fakeDisk: RCGEN_TEST_DISK_FREE=BYTES makes every file system have that
// much free space, one disk (rcgen adopt's plan), and RCGEN_TEST_NOW=DAY
// is today (support windows), so a script's plan does not follow the
// machine or the calendar.
func fakeDisk(env *cli.Env) {
	if v := os.Getenv("RCGEN_TEST_DISK_FREE"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			panic("RCGEN_TEST_DISK_FREE: " + err.Error())
		}
		env.DiskFree = func(string) (int64, uint64, error) { return n, 1, nil }
	}
	if v := os.Getenv("RCGEN_TEST_NOW"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			panic("RCGEN_TEST_NOW: " + err.Error())
		}
		env.Now = func() time.Time { return t }
	}
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
