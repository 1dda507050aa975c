package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// answerOptions turns flags, an answers file and an existing deployment into
// one set of answers. Layers, each overriding the one before: defaults, the
// deployment's own rcgen.yaml, --config, then the flags actually given.
type answerOptions struct {
	// Answers is the result of resolve.
	Answers spec.Answers
	// flagValues holds what the answer flags were set to.
	flagValues spec.Answers
	NoMonitor  bool
	Config     string
	// Force accepts a host below the absolute minimum (and, for generate,
	// an output directory that holds files rcgen did not write).
	Force bool

	flags  *pflag.FlagSet
	stdin  io.Reader
	getenv func(string) string
	// smtpPasswordFile holds the SMTP password (--smtp-password-file);
	// smtpPassword is one the wizard was given.
	smtpPasswordFile, smtpPassword string
	// licensePath, certPath and keyPath are the files to read, resolved
	// against the layer that named them.
	licensePath, certPath, keyPath string
	// existingProject is the project of the deployment being re-generated.
	existingProject string
	// settled names the answers (by flag) that a file or a flag gave, which
	// the wizard does not ask again.
	settled map[string]bool
	// fromExisting names the answers the deployment's own rcgen.yaml gave:
	// the wizard asks them again, with those values as defaults.
	fromExisting map[string]bool
}

func newAnswerOptions() answerOptions {
	return answerOptions{Answers: spec.Default(), flagValues: spec.Default()}
}

// answerFlags maps each answer flag to the field it sets.
var answerFlags = map[string]func(dst, src *spec.Answers){
	"project":                    func(d, s *spec.Answers) { d.Project = s.Project },
	"domain":                     func(d, s *spec.Answers) { d.Domain = s.Domain },
	"allow-ip":                   func(d, s *spec.Answers) { d.AllowIP = s.AllowIP },
	"email":                      func(d, s *spec.Answers) { d.Email = s.Email },
	"rocketchat-version":         func(d, s *spec.Answers) { d.RocketChatVersion = s.RocketChatVersion },
	"cpus":                       func(d, s *spec.Answers) { d.CPUs = s.CPUs },
	"memory":                     func(d, s *spec.Answers) { d.Memory = s.Memory },
	"users":                      func(d, s *spec.Answers) { d.Users = s.Users },
	"mongodb-members":            func(d, s *spec.Answers) { d.MongoDBMembers = s.MongoDBMembers },
	"processes":                  func(d, s *spec.Answers) { d.Processes = s.Processes },
	"allow-unlicensed-instances": func(d, s *spec.Answers) { d.AllowUnlicensedInstances = s.AllowUnlicensedInstances },
	"proxy":                      func(d, s *spec.Answers) { d.Proxy = s.Proxy },
	"metrics-retention":          func(d, s *spec.Answers) { d.MetricsRetention = s.MetricsRetention },
	"metrics-retention-size":     func(d, s *spec.Answers) { d.MetricsRetentionSize = s.MetricsRetentionSize },
	"smtp-host":                  func(d, s *spec.Answers) { d.SMTPHost = s.SMTPHost },
	"smtp-from":                  func(d, s *spec.Answers) { d.SMTPFrom = s.SMTPFrom },
	"smtp-user":                  func(d, s *spec.Answers) { d.SMTPUser = s.SMTPUser },
	"alert-email":                func(d, s *spec.Answers) { d.AlertEmail = s.AlertEmail },
}

// bindSizing registers the flags that change the plan.
func (o *answerOptions) bindSizing(f *pflag.FlagSet) {
	o.flags = f
	a := &o.flagValues
	f.StringVar(&o.Config, "config", "", "answers file to start from (rcgen.yaml; - reads standard input); flags override it")
	f.StringVar(&a.CPUs, "cpus", "", "cores of the target host, instead of detecting this one (e.g. 8)")
	f.StringVar(&a.Memory, "memory", "", "memory of the target host, instead of detecting this one (e.g. 16GiB, 16384MiB)")
	f.StringVar(&a.LicenseFile, "license-file", "", "file holding a Rocket.Chat Enterprise licence (needed for more than one app process)")
	f.IntVar(&a.Users, "users", 0, "expected concurrent users (sizes the app processes and checks Rocket.Chat's hardware table)")
	f.IntVar(&a.MongoDBMembers, "mongodb-members", a.MongoDBMembers, "MongoDB replica set members: 1 or 3")
	f.IntVar(&a.Processes, "processes", 0, "app processes, overriding the computed count")
	f.BoolVar(&a.AllowUnlicensedInstances, "allow-unlicensed-instances", false, "allow --processes above 1 without a licence (instances will not share real-time events)")
	f.StringVar(&a.Proxy, "proxy", a.Proxy, "reverse proxy: caddy (automatic HTTPS) or none (you run your own)")
	f.BoolVar(&o.NoMonitor, "no-monitoring", false, "leave out Prometheus, Grafana and the exporters")
}

// bindDeployment registers the flags only generate has.
func (o *answerOptions) bindDeployment(f *pflag.FlagSet) {
	a := &o.flagValues
	f.StringVar(&a.Domain, "domain", a.Domain, "public host name users type (localhost: plain http, no certificate)")
	f.BoolVar(&a.AllowIP, "allow-ip", false, "accept an IP address as --domain (plain http: no certificate can name it)")
	f.StringVar(&a.Email, "email", "", "Let's Encrypt account email (required for a public domain)")
	f.StringVar(&a.RocketChatVersion, "rocketchat-version", a.RocketChatVersion, "exact Rocket.Chat release to deploy")
	f.StringVar(&a.Project, "project", a.Project, "Compose project name; it prefixes every volume, so it never changes once data exists")
	f.StringVar(&a.TLSCert, "tls-cert", "", "your own certificate (PEM, full chain) instead of an automatic one")
	f.StringVar(&a.TLSKey, "tls-key", "", "the key of --tls-cert (PEM, unencrypted)")
	f.StringVar(&a.MetricsRetention, "metrics-retention", a.MetricsRetention, "how long Prometheus keeps metrics (e.g. 15d, 8w)")
	f.StringVar(&a.MetricsRetentionSize, "metrics-retention-size", a.MetricsRetentionSize, "the most disk Prometheus uses for metrics (e.g. 10GB)")
	f.StringVar(&a.AlertEmail, "alert-email", "", "email alerts to this address (with --smtp-host and --smtp-from); otherwise alerts show in Grafana only")
	f.StringVar(&a.SMTPHost, "smtp-host", "", "mail server for alert emails, host:port (e.g. smtp.example.com:587)")
	f.StringVar(&a.SMTPFrom, "smtp-from", "", "sender address of alert emails")
	f.StringVar(&a.SMTPUser, "smtp-user", "", "SMTP login; the password comes from --smtp-password-file or RCGEN_SMTP_PASSWORD")
	f.StringVar(&o.smtpPasswordFile, "smtp-password-file", "", "file holding the SMTP password (kept in .env)")
}

// readAnswersFile applies an answers file; a relative licence path in it is
// taken relative to the file's directory. It returns the keys it settled.
func (o *answerOptions) readAnswersFile(name string, r io.Reader, dir string) (map[string]bool, error) {
	f, err := spec.ParseFile(name, r)
	if err != nil {
		return nil, err
	}
	f.Apply(&o.Answers)
	resolveIn := func(dst *string, p *string) {
		if p != nil && *p != "" {
			*dst = *p
			if !filepath.IsAbs(*dst) {
				*dst = filepath.Join(dir, *dst)
			}
		}
	}
	resolveIn(&o.licensePath, f.LicenseFile)
	resolveIn(&o.certPath, f.TLSCert)
	resolveIn(&o.keyPath, f.TLSKey)
	return f.Settled(), nil
}

// resolve layers the answers and validates them (see layer and finish).
func (o *answerOptions) resolve(out string) error {
	if err := o.layer(out); err != nil {
		return err
	}
	return o.finish(out)
}

// layer builds the answers from defaults, the deployment's rcgen.yaml,
// --config and the flags given, recording which answers were settled.
func (o *answerOptions) layer(out string) error {
	o.Answers = spec.Default()
	o.settled, o.fromExisting = map[string]bool{}, map[string]bool{}
	if out != "" {
		path := filepath.Join(out, spec.FileName)
		if fh, err := os.Open(path); err == nil {
			keys, err := o.readAnswersFile(path, fh, out)
			fh.Close()
			if err != nil {
				return usage(fmt.Errorf("the deployment's answers file: %w", err))
			}
			o.fromExisting = keys
			o.existingProject = o.Answers.Project
		}
	}
	if o.Config != "" {
		var r io.Reader = o.stdin
		name, dir := "standard input", "."
		if o.Config != "-" {
			fh, err := os.Open(o.Config)
			if err != nil {
				return usage(&spec.FieldError{Field: "config", Msg: fmt.Sprintf("cannot read %s: %v", o.Config, errors.Unwrap(err))})
			}
			defer fh.Close()
			r, name, dir = fh, o.Config, filepath.Dir(o.Config)
		}
		if r == nil {
			r = os.Stdin
		}
		keys, err := o.readAnswersFile(name, r, dir)
		if err != nil {
			return usage(err)
		}
		for k := range keys {
			o.settled[k] = true
		}
	}
	if o.flags != nil {
		for name, copyField := range answerFlags {
			if o.flags.Changed(name) {
				copyField(&o.Answers, &o.flagValues)
				o.settled[name] = true
			}
		}
		if o.flags.Changed("no-monitoring") {
			o.Answers.Monitoring = !o.NoMonitor
			o.settled["monitoring"] = true
		}
		if o.flags.Changed("license-file") {
			o.licensePath = o.flagValues.LicenseFile
			o.settled["license-file"] = true
		}
		if o.flags.Changed("tls-cert") {
			o.certPath = o.flagValues.TLSCert
			o.settled["tls-cert"] = true
		}
		if o.flags.Changed("tls-key") {
			o.keyPath = o.flagValues.TLSKey
			o.settled["tls-key"] = true
		}
	}
	return nil
}

// finish reads the licence, then validates every answer and reports all
// problems at once as a usage error. out is the deployment directory being
// written ("" for plan).
func (o *answerOptions) finish(out string) error {
	var errs []error
	a := &o.Answers
	if o.licensePath != "" {
		b, err := os.ReadFile(o.licensePath)
		switch {
		case err != nil:
			errs = append(errs, &spec.FieldError{Field: "license-file", Msg: fmt.Sprintf("cannot read %s: %v", o.licensePath, errors.Unwrap(err))})
		case spec.NormalizeLicense(string(b)) == "":
			errs = append(errs, &spec.FieldError{Field: "license-file", Msg: fmt.Sprintf("%s is empty: use the licence file Rocket.Chat Cloud gave you", o.licensePath)})
		default:
			a.License = spec.NormalizeLicense(string(b))
		}
		a.LicenseFile = o.licensePath
		if out != "" {
			if rel, err := relTo(out, o.licensePath); err == nil {
				a.LicenseFile = rel
			}
		}
	} else if out != "" {
		// No licence named anywhere: keep the one the deployment runs with.
		env, err := render.ReadEnv(out)
		if err != nil {
			return err
		}
		a.License = env["ROCKETCHAT_LICENSE"]
	}
	errs = append(errs, o.readCertificate(out)...)
	errs = append(errs, o.readSMTPPassword(out)...)
	if err := a.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.existingProject != "" && a.Project != o.existingProject {
		errs = append(errs, &spec.FieldError{Field: "project", Msg: fmt.Sprintf("this deployment's project is %q, and renaming it would orphan its volumes (the data): keep %q, or generate into a new directory", o.existingProject, o.existingProject)})
	}
	return usage(errors.Join(errs...))
}

// relTo returns path relative to dir, both taken from the current directory.
func relTo(dir, path string) (string, error) {
	ad, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	ap, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return filepath.Rel(ad, ap)
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
	in := render.Inputs(a)
	in.Force = o.Force
	p, err := sizing.Compute(h, in)
	if err != nil {
		return sizing.Plan{}, usage(err)
	}
	if v, err := spec.ParseVersion(a.RocketChatVersion); err == nil && v.Untested() {
		p.Warnings = append(p.Warnings, fmt.Sprintf("Rocket.Chat %s is newer than any release rcgen was checked with; check its MongoDB requirements", v))
	}
	return p, nil
}

// readCertificate loads --tls-cert and --tls-key, recording their paths
// relative to the deployment directory.
func (o *answerOptions) readCertificate(out string) []error {
	a := &o.Answers
	a.TLSCert, a.TLSKey, a.TLSCertPEM, a.TLSKeyPEM = "", "", "", ""
	if o.certPath == "" && o.keyPath == "" {
		return nil
	}
	if o.certPath == "" || o.keyPath == "" {
		return []error{&spec.FieldError{Field: "tls-cert", Msg: "give both --tls-cert and --tls-key"}}
	}
	var errs []error
	read := func(field, path string, dst, rec *string) {
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, &spec.FieldError{Field: field, Msg: fmt.Sprintf("cannot read %s: %v", path, errors.Unwrap(err))})
			return
		}
		*dst, *rec = string(b), path
		if out != "" {
			if rel, err := relTo(out, path); err == nil {
				*rec = rel
			}
		}
	}
	read("tls-cert", o.certPath, &a.TLSCertPEM, &a.TLSCert)
	read("tls-key", o.keyPath, &a.TLSKeyPEM, &a.TLSKey)
	return errs
}

// readSMTPPassword takes the SMTP password from --smtp-password-file, else
// RCGEN_SMTP_PASSWORD, else the deployment's .env (so re-runs keep it).
func (o *answerOptions) readSMTPPassword(out string) []error {
	a := &o.Answers
	switch {
	case o.smtpPassword != "":
		a.SMTPPassword = o.smtpPassword
	case o.smtpPasswordFile != "":
		b, err := os.ReadFile(o.smtpPasswordFile)
		if err != nil {
			return []error{&spec.FieldError{Field: "smtp-password-file", Msg: fmt.Sprintf("cannot read %s: %v", o.smtpPasswordFile, errors.Unwrap(err))}}
		}
		a.SMTPPassword = strings.TrimRight(string(b), "\r\n")
	case o.getenvOr("RCGEN_SMTP_PASSWORD") != "":
		a.SMTPPassword = o.getenvOr("RCGEN_SMTP_PASSWORD")
	case out != "":
		env, err := render.ReadEnv(out)
		if err != nil {
			return []error{err}
		}
		a.SMTPPassword = env[render.EnvSMTPPassword]
	}
	if !a.Alerting() {
		a.SMTPPassword = ""
	}
	return nil
}

func (o *answerOptions) getenvOr(key string) string {
	if o.getenv == nil {
		return ""
	}
	return o.getenv(key)
}
