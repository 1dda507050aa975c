package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/pflag"
)

// dirFlag is a deployment's directory, one flag under two names: --out
// (-o), as generate writes into it, and --dir (-C), as the day-two
// commands work in it. Every command that takes a deployment directory
// accepts both; one is its canonical name, the other an alias, and an
// error names the one the person typed.
type dirFlag struct {
	p         *string
	canonical string
	// given holds the value of each name given on the command line.
	given map[string]string
}

// dirNames are the two names and their shorthands.
var dirNames = map[string]string{"out": "o", "dir": "C"}

// bindDir registers --out and --dir on f, both setting *p (def when
// neither is given); canonical ("out" or "dir") is the name help leads
// with.
func bindDir(f *pflag.FlagSet, p *string, canonical, def, usage string) *dirFlag {
	alias := "dir"
	if canonical == "dir" {
		alias = "out"
	}
	d := &dirFlag{p: p, canonical: canonical, given: map[string]string{}}
	*p = def
	f.VarP(dirValue{d, canonical}, canonical, dirNames[canonical], usage+" (or --"+alias+")")
	f.VarP(dirValue{d, alias}, alias, dirNames[alias], "the same as --"+canonical)
	return d
}

// Changed reports whether the directory was given, by either name.
func (d *dirFlag) Changed() bool { return len(d.given) > 0 }

// Name is the flag as the person gave it ("--out" or "--dir"), the
// canonical one when neither was given.
func (d *dirFlag) Name() string {
	if _, ok := d.given[d.canonical]; !ok {
		for name := range d.given {
			return "--" + name
		}
	}
	return "--" + d.canonical
}

// check refuses --out and --dir naming different directories.
func (d *dirFlag) check() error {
	out, okOut := d.given["out"]
	dir, okDir := d.given["dir"]
	if okOut && okDir && filepath.Clean(out) != filepath.Clean(dir) {
		return usage(fmt.Errorf("--out %s and --dir %s name two directories, and they are one flag (the deployment's directory): give one of them", out, dir))
	}
	return nil
}

// dirValue is one of the two names of a dirFlag.
type dirValue struct {
	d    *dirFlag
	name string
}

func (v dirValue) Set(s string) error {
	v.d.given[v.name] = s
	*v.d.p = s
	return nil
}

func (v dirValue) String() string {
	if v.d == nil || v.d.p == nil {
		return ""
	}
	return *v.d.p
}

func (dirValue) Type() string { return "string" }
