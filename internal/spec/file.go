package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FileName is the answers file rcgen writes into every deployment.
const FileName = "rcgen.yaml"

// FileVersion is the version of the answers file format.
const FileVersion = 1

// File is rcgen.yaml: the answers, not the plan and not secrets. Pointer
// fields distinguish "not given" from a zero value, so a file can settle
// some answers and leave the rest to flags, defaults or the wizard.
type File struct {
	Version                  int     `yaml:"version"`
	Project                  *string `yaml:"project,omitempty"`
	Domain                   *string `yaml:"domain,omitempty"`
	AllowIP                  *bool   `yaml:"allow_ip,omitempty"`
	Email                    *string `yaml:"email,omitempty"`
	RocketChatVersion        *string `yaml:"rocketchat_version,omitempty"`
	MongoDBMembers           *int    `yaml:"mongodb_members,omitempty"`
	Processes                *int    `yaml:"processes,omitempty"`
	Users                    *int    `yaml:"users,omitempty"`
	LicenseFile              *string `yaml:"license_file,omitempty"`
	AllowUnlicensedInstances *bool   `yaml:"allow_unlicensed_instances,omitempty"`
	Proxy                    *string `yaml:"proxy,omitempty"`
	Monitoring               *bool   `yaml:"monitoring,omitempty"`
	MetricsRetention         *string `yaml:"metrics_retention,omitempty"`
	MetricsRetentionSize     *string `yaml:"metrics_retention_size,omitempty"`
	SMTPHost                 *string `yaml:"smtp_host,omitempty"`
	SMTPFrom                 *string `yaml:"smtp_from,omitempty"`
	SMTPUser                 *string `yaml:"smtp_user,omitempty"`
	AlertEmail               *string `yaml:"alert_email,omitempty"`
	TLSCert                  *string `yaml:"tls_cert,omitempty"`
	TLSKey                   *string `yaml:"tls_key,omitempty"`
	CPUs                     *string `yaml:"cpus,omitempty"`
	Memory                   *string `yaml:"memory,omitempty"`
}

// ParseFile reads an answers file. Unknown keys, wrong types and an
// unsupported version are errors naming the file and line.
func ParseFile(name string, r io.Reader) (File, error) {
	var f File
	b, err := io.ReadAll(r)
	if err != nil {
		return f, fmt.Errorf("%s: %w", name, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return f, fmt.Errorf("%s: is empty: an answers file starts with \"version: %d\"", name, FileVersion)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("%s: %s", name, yamlError(err))
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		return f, fmt.Errorf("%s: holds more than one YAML document: keep one", name)
	}
	if f.Version != FileVersion {
		return f, fmt.Errorf("%s: version %d is not supported: this rcgen reads version %d (write \"version: %d\" at the top)", name, f.Version, FileVersion, FileVersion)
	}
	return f, nil
}

// yamlError makes yaml.v3's messages read as rcgen's: "line 3: field
// colour not found" becomes "line 3: unknown key colour".
func yamlError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var msgs []string
		for _, e := range te.Errors {
			e = strings.Replace(e, "field ", "unknown key ", 1)
			e = strings.Replace(e, " not found in type spec.File", ": see rcgen generate --help for the keys", 1)
			msgs = append(msgs, e)
		}
		return strings.Join(msgs, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// Apply copies the answers the file settles onto a. A licence file path is
// returned as written; the caller resolves it against the file's directory.
func (f File) Apply(a *Answers) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&a.Project, f.Project)
	set(&a.Domain, f.Domain)
	set(&a.Email, f.Email)
	set(&a.RocketChatVersion, f.RocketChatVersion)
	set(&a.Proxy, f.Proxy)
	set(&a.CPUs, f.CPUs)
	set(&a.Memory, f.Memory)
	if f.MongoDBMembers != nil {
		a.MongoDBMembers = *f.MongoDBMembers
	}
	if f.Processes != nil {
		a.Processes = *f.Processes
	}
	if f.Users != nil {
		a.Users = *f.Users
	}
	if f.AllowIP != nil {
		a.AllowIP = *f.AllowIP
	}
	if f.AllowUnlicensedInstances != nil {
		a.AllowUnlicensedInstances = *f.AllowUnlicensedInstances
	}
	if f.Monitoring != nil {
		a.Monitoring = *f.Monitoring
	}
	set(&a.LicenseFile, f.LicenseFile)
	set(&a.MetricsRetention, f.MetricsRetention)
	set(&a.MetricsRetentionSize, f.MetricsRetentionSize)
	set(&a.SMTPHost, f.SMTPHost)
	set(&a.SMTPFrom, f.SMTPFrom)
	set(&a.SMTPUser, f.SMTPUser)
	set(&a.AlertEmail, f.AlertEmail)
	set(&a.TLSCert, f.TLSCert)
	set(&a.TLSKey, f.TLSKey)
}

// Marshal writes the answers as rcgen.yaml, with a header saying what it is.
// Every answer is written, defaults included, so the file alone reproduces
// the deployment. The licence itself is a secret kept in .env; only the
// path it was read from is recorded.
func Marshal(a Answers, rcgenVersion string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# rcgen answers file, written by rcgen %s. It holds the answers, not\n", rcgenVersion)
	b.WriteString("# secrets: rcgen reads it again on the next run in this directory, and\n")
	b.WriteString("# `rcgen generate --config rcgen.yaml` reproduces the deployment elsewhere.\n")
	w := func(k, v string) { fmt.Fprintf(&b, "%s: %s\n", k, v) }
	w("version", strconv.Itoa(FileVersion))
	w("project", yamlString(a.Project))
	w("domain", yamlString(a.Domain))
	if a.AllowIP {
		w("allow_ip", "true")
	}
	if a.Email != "" {
		w("email", yamlString(a.Email))
	}
	w("rocketchat_version", yamlString(a.RocketChatVersion))
	w("mongodb_members", strconv.Itoa(a.MongoDBMembers))
	if a.Processes > 0 {
		w("processes", strconv.Itoa(a.Processes))
	}
	if a.Users > 0 {
		w("users", strconv.Itoa(a.Users))
	}
	if a.LicenseFile != "" {
		w("license_file", yamlString(a.LicenseFile))
	}
	if a.AllowUnlicensedInstances {
		w("allow_unlicensed_instances", "true")
	}
	if a.TLSCert != "" {
		w("tls_cert", yamlString(a.TLSCert))
		w("tls_key", yamlString(a.TLSKey))
	}
	w("proxy", yamlString(a.Proxy))
	w("monitoring", strconv.FormatBool(a.Monitoring))
	if a.Monitoring {
		w("metrics_retention", yamlString(a.MetricsRetention))
		w("metrics_retention_size", yamlString(a.MetricsRetentionSize))
	}
	for _, kv := range [][2]string{{"smtp_host", a.SMTPHost}, {"smtp_from", a.SMTPFrom}, {"smtp_user", a.SMTPUser}, {"alert_email", a.AlertEmail}} {
		if kv[1] != "" {
			w(kv[0], yamlString(kv[1]))
		}
	}
	if a.CPUs != "" {
		w("cpus", yamlString(a.CPUs))
	}
	if a.Memory != "" {
		w("memory", yamlString(a.Memory))
	}
	return b.Bytes()
}

// yamlString quotes s as a YAML double-quoted scalar (JSON escaping is
// valid YAML).
func yamlString(s string) string { return strconv.Quote(s) }

// Settled returns the flag names of the answers the file gives.
func (f File) Settled() map[string]bool {
	m := map[string]bool{}
	add := func(name string, present bool) {
		if present {
			m[name] = true
		}
	}
	add("project", f.Project != nil)
	add("domain", f.Domain != nil)
	add("allow-ip", f.AllowIP != nil)
	add("email", f.Email != nil)
	add("rocketchat-version", f.RocketChatVersion != nil)
	add("mongodb-members", f.MongoDBMembers != nil)
	add("processes", f.Processes != nil)
	add("users", f.Users != nil)
	add("license-file", f.LicenseFile != nil)
	add("allow-unlicensed-instances", f.AllowUnlicensedInstances != nil)
	add("proxy", f.Proxy != nil)
	add("monitoring", f.Monitoring != nil)
	add("metrics-retention", f.MetricsRetention != nil)
	add("metrics-retention-size", f.MetricsRetentionSize != nil)
	add("smtp-host", f.SMTPHost != nil)
	add("smtp-from", f.SMTPFrom != nil)
	add("smtp-user", f.SMTPUser != nil)
	add("alert-email", f.AlertEmail != nil)
	add("tls-cert", f.TLSCert != nil)
	add("tls-key", f.TLSKey != nil)
	add("cpus", f.CPUs != nil)
	add("memory", f.Memory != nil)
	return m
}
