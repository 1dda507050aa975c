package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// answerOptions are the flags `generate` and `plan` share: the answers the
// plan depends on, and how to read the host.
type answerOptions struct {
	Answers     spec.Answers
	LicenseFile string
	NoMonitor   bool
	// Force accepts a host below the absolute minimum (and, for generate,
	// an output directory that holds files).
	Force bool
}

func newAnswerOptions() answerOptions { return answerOptions{Answers: spec.Default()} }

// bindSizing registers the flags that change the plan.
func (o *answerOptions) bindSizing(f *pflag.FlagSet) {
	a := &o.Answers
	f.StringVar(&a.CPUs, "cpus", "", "cores of the target host, instead of detecting this one (e.g. 8)")
	f.StringVar(&a.Memory, "memory", "", "memory of the target host, instead of detecting this one (e.g. 16GiB, 16384MiB)")
	f.StringVar(&o.LicenseFile, "license-file", "", "file holding a Rocket.Chat Enterprise licence (needed for more than one app process)")
	f.IntVar(&a.Users, "users", 0, "expected concurrent users (sizes the app processes and checks Rocket.Chat's hardware table)")
	f.IntVar(&a.MongoDBMembers, "mongodb-members", a.MongoDBMembers, "MongoDB replica set members: 1 or 3")
	f.IntVar(&a.Processes, "processes", 0, "app processes, overriding the computed count")
	f.BoolVar(&a.AllowUnlicensedInstances, "allow-unlicensed-instances", false, "allow --processes above 1 without a licence (instances will not share real-time events)")
	f.StringVar(&a.Proxy, "proxy", a.Proxy, "reverse proxy: caddy (automatic HTTPS) or none (you run your own)")
	f.BoolVar(&o.NoMonitor, "no-monitoring", false, "leave out Prometheus, Grafana and the exporters")
}

// resolve reads the licence file and validates every answer, reporting all
// problems at once as a usage error.
func (o *answerOptions) resolve() error {
	a := &o.Answers
	a.Monitoring = !o.NoMonitor
	var errs []error
	if o.LicenseFile != "" {
		b, err := os.ReadFile(o.LicenseFile)
		switch {
		case err != nil:
			errs = append(errs, &spec.FieldError{Field: "license-file", Msg: fmt.Sprintf("cannot read %s: %v", o.LicenseFile, errors.Unwrap(err))})
		case spec.NormalizeLicense(string(b)) == "":
			errs = append(errs, &spec.FieldError{Field: "license-file", Msg: fmt.Sprintf("%s is empty: use the licence file Rocket.Chat Cloud gave you", o.LicenseFile)})
		default:
			a.License = spec.NormalizeLicense(string(b))
		}
	}
	if err := a.Validate(); err != nil {
		errs = append(errs, err)
	}
	return usage(errors.Join(errs...))
}

// host detects this machine, or takes --cpus and --memory instead.
func (o *answerOptions) host(env Env) (sizing.Host, error) {
	a := o.Answers
	var h sizing.Host
	if a.CPUs == "" || a.Memory == "" {
		if env.Detect == nil {
			return h, errors.New("no host detector: give --cpus and --memory")
		}
		d, err := env.Detect()
		if err != nil {
			return h, err
		}
		h = d
	}
	if a.CPUs != "" {
		v, _ := spec.ParseCPUs(a.CPUs)
		h.CPUs, h.CPUSource, h.CPUReadings = v, "--cpus", []sizing.Reading{{Source: "--cpus", Value: v}}
	}
	if a.Memory != "" {
		v, _ := spec.ParseMemory(a.Memory)
		h.Memory, h.MemorySource, h.MemoryReadings = v, "--memory", []sizing.Reading{{Source: "--memory", Value: float64(v)}}
	}
	return h, nil
}

// plan detects the host and computes the plan; refusals are usage errors.
func (o *answerOptions) plan(env Env) (sizing.Plan, error) {
	h, err := o.host(env)
	if err != nil {
		return sizing.Plan{}, err
	}
	a := o.Answers
	p, err := sizing.Compute(h, sizing.Inputs{
		Licensed:       a.Licensed(),
		Processes:      a.Processes,
		Users:          a.Users,
		MongoDBMembers: a.MongoDBMembers,
		Monitoring:     a.Monitoring,
		Proxy:          a.Proxy == spec.ProxyCaddy,
		Force:          o.Force,
	})
	if err != nil {
		return sizing.Plan{}, usage(err)
	}
	if v, err := spec.ParseVersion(a.RocketChatVersion); err == nil && v.Untested() {
		p.Warnings = append(p.Warnings, fmt.Sprintf("Rocket.Chat %s is newer than any release rcgen was checked with; check its MongoDB requirements", v))
	}
	return p, nil
}
