// Package doctor checks the host a deployment runs on, and a deployment
// directory, for what would stop the stack from starting or lose data:
// CPU features and architecture MongoDB needs, kernels that crash MongoDB,
// memory, swap and disk, Docker Engine and Compose versions, ports, DNS,
// and the deployment's own files. Every fact is read through System, so
// each check runs offline against fixtures.
package doctor

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Status is a check's verdict.
type Status int

// Verdicts, mildest first.
const (
	OK Status = iota
	Warn
	Fail
)

func (s Status) String() string { return [...]string{"ok", "warn", "fail"}[s] }

// MarshalText writes the verdict as ok, warn or fail.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Result is one check's outcome: what was found, and what to do.
type Result struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Found  string `json:"found"`
	Do     string `json:"do,omitempty"`
	// Host marks checks about the machine itself (CPU, architecture,
	// kernel): generate runs these before writing when it sizes this host.
	Host bool `json:"host"`
}

func (r Result) String() string {
	s := fmt.Sprintf("%-4s %s: %s", r.Status, r.Name, r.Found)
	if r.Do != "" {
		s += "; " + r.Do
	}
	return s
}

// Worst returns the worst verdict of rs.
func Worst(rs []Result) Status {
	w := OK
	for _, r := range rs {
		w = max(w, r.Status)
	}
	return w
}

// Failed returns the names of the failed checks.
func Failed(rs []Result) []string {
	var n []string
	for _, r := range rs {
		if r.Status == Fail {
			n = append(n, r.Name)
		}
	}
	return n
}

// Print writes one line per result.
func Print(w io.Writer, rs []Result) error {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.String() + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Host runs the checks about the machine itself: CPU features, the
// architecture, the kernel.
func Host(sys System) []Result {
	return []Result{checkCPU(sys), checkArch(sys), checkKernel(sys)}
}

// Environment runs the checks about what the machine offers the stack:
// memory, swap and disk, Docker, ports, and DNS for a public domain.
func Environment(ctx context.Context, sys System, t Target) []Result {
	rs := []Result{checkMemory(sys, t), checkSwap(sys), checkDisk(sys, t)}
	rs = append(rs, checkDocker(ctx, sys, t.Swarm)...)
	rs = append(rs, checkPorts(sys, t)...)
	if r, ok := checkDNS(ctx, sys, t); ok {
		rs = append(rs, r)
	}
	return rs
}
