// Package generate is rcgen's use case, in the manner of helm's pkg/action:
// a request (validated answers, the host, the existing deployment) in, a
// result (the plan, the files, the changes to the directory) out. It asks
// nothing and prints nothing: the cli does that around it. Later commands
// (upgrade, backup, doctor) and targets sit beside it and share it.
package generate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// Request is everything one generation needs.
type Request struct {
	// Answers are validated, with their material (licence, certificate)
	// loaded: see Complete.
	Answers spec.Answers
	// Host is the machine sized for: detected, or the cores and memory given.
	Host sizing.Host
	// Deployment is the directory as it was found (new, empty or an
	// existing deployment); nil for a plan alone.
	Deployment *deploy.Deployment
	// Force accepts a host below the minimum.
	Force bool
	// MoveMember lets a Swarm member of three move to another node.
	MoveMember bool
	// Forced reports whether the person confirmed a refusal by its name
	// (--force=NAME): the Kubernetes guards ask it; nil confirms nothing.
	Forced func(name string) bool
	// MongoDB is the MongoDB series to run, chosen by an upgrade step;
	// "" lets the deployment's guard choose (deploy.Deployment.MongoDB).
	MongoDB string
	// NewMongoDBSecrets lets a deployment that lost its MongoDB secrets get
	// new ones (its data must be gone too).
	NewMongoDBSecrets bool
	// NewSecrets draws the secrets a new deployment gets.
	NewSecrets func() (render.Secrets, error)
	// ExampleSecrets uses public placeholder secrets (documentation only).
	ExampleSecrets bool
	// RcgenVersion goes into the files' headers.
	RcgenVersion string
	// Rerun spells the command that regenerates the answers as recorded
	// (see render.Input); nil leaves it out.
	Rerun func(spec.Answers) string
	// Render renders and checks in memory; nil means render.Generate.
	Render func(context.Context, render.Input) (render.Files, error)
}

// Result is what a generation produces; nothing is written yet.
type Result struct {
	Plan    sizing.Plan
	Files   render.Files
	Changes []deploy.Change
}

// Pending returns the changes that do something.
func (r *Result) Pending() []deploy.Change { return deploy.Pending(r.Changes) }

// Inputs returns the sizing inputs the answers give.
func Inputs(a spec.Answers, force bool) sizing.Inputs {
	return sizing.Inputs{
		Licensed: a.Licensed(), Processes: a.Processes, Users: a.Users, MongoDBMembers: a.MongoDBMembers,
		Monitoring: a.Monitoring, Logs: a.LogsOn(), Proxy: a.OwnProxy(), Traefik: a.Proxy == spec.ProxyTraefik, Alerting: a.Monitoring && a.Alerting(),
		Backup:            a.Backup,
		Offsite:           a.Backup && a.BackupTarget != "",
		Force:             force,
		ClusterMonitoring: a.Kubernetes() && a.KubeMonitoringMode() == spec.KubeMonitoringOperator,
	}
}

// Prepare reads the files the answers name, completes them from the
// deployment (Complete) and validates them: every problem, keyed by its
// answer, at once. a is then ready for a Request.
func Prepare(a *spec.Answers, d *deploy.Deployment) error {
	var errs []error
	if err := spec.LoadMaterial(a); err != nil {
		errs = append(errs, err)
	}
	Complete(a, d)
	if err := a.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Complete fills in what the answers leave to the existing deployment: the
// licence it runs with when no licence file is named, its SMTP password
// and backup passphrase when none was given, and the earlier backup
// passphrases its backups still need (KeptPassphrases). It reads nothing
// but d and its backups/.
func Complete(a *spec.Answers, d *deploy.Deployment) {
	if d != nil {
		if a.LicenseFile == "" && a.License == "" {
			a.License = d.License()
		}
		if a.SMTPPassword == "" {
			a.SMTPPassword = d.SMTPPassword()
		}
		if a.BackupPassphrase == "" {
			a.BackupPassphrase = d.Env[render.EnvBackupPassphrase]
		}
		a.OldBackupPassphrases = KeptPassphrases(d, a.BackupPassphrase)
		// The offsite credentials are written once, like .env's secrets:
		// a re-run without their files keeps the deployment's, for the
		// kind of target that uses them.
		t, _ := spec.ParseBackupTarget(a.BackupTarget)
		keep := func(dst *string, rel string, trim bool) {
			if *dst != "" {
				return
			}
			v := d.SecretFile(rel)
			if trim {
				v = strings.TrimSpace(v)
			}
			*dst = v
		}
		switch t.Kind {
		case spec.OffsiteS3:
			keep(&a.BackupS3AccessKey, render.S3AccessKeyFile, true)
			keep(&a.BackupS3SecretKey, render.S3SecretKeyFile, true)
		case spec.OffsiteSFTP:
			keep(&a.BackupSFTPKey, render.SFTPKeyFile, false)
			keep(&a.BackupSFTPKnownHosts, render.SFTPKnownHostsFile, false)
		}
	}

	if !a.Mail() {
		a.SMTPPassword = ""
	}
	a.KubeDefaults()
}

// Plan sizes the deployment and runs the guards about the existing one:
// a renamed project, a downgrade or a MongoDB jump is an error; one MongoDB
// step up becomes a warning that says how to finish it.
func Plan(req Request) (sizing.Plan, error) {
	a := req.Answers
	if d := req.Deployment; d != nil {
		if err := errors.Join(d.CheckProject(a.Project), d.CheckMembers(a.MongoDBMembers)); err != nil {
			return sizing.Plan{}, err
		}
	}
	var note string
	if d := req.Deployment; d != nil && req.MongoDB == "" {
		var err error
		if _, note, err = d.MongoDB(a.RocketChatVersion); err != nil {
			return sizing.Plan{}, err
		}
	}
	var p sizing.Plan
	var err error
	switch {
	case a.Swarm():
		p, err = sizing.ComputeSwarm(a.Nodes, Inputs(a, req.Force))
	case a.Kubernetes():
		p, err = sizing.ComputeKube(a.Nodes, Inputs(a, req.Force))
	default:
		p, err = sizing.Compute(req.Host, Inputs(a, req.Force))
	}
	if err != nil {
		return sizing.Plan{}, err
	}
	if d := req.Deployment; d != nil && p.Swarm != nil {
		if err := d.CheckMemberNodes(p.Swarm.MemberNodes, req.MoveMember); err != nil {
			return sizing.Plan{}, err
		}
	}
	if d := req.Deployment; d != nil && p.Kube != nil {
		forced := req.Forced
		if forced == nil {
			forced = func(string) bool { return false }
		}
		if err := d.CheckKube(a, p.Kube.MemberNodes, forced); err != nil {
			return sizing.Plan{}, err
		}
	}
	if note != "" {
		p.Warnings = append(p.Warnings, note)
	}
	return p, nil
}

// ErrExampleDeployment is returned for a real run over one of rcgen's
// documentation examples, whose secrets are public.
var ErrExampleDeployment = fmt.Errorf("it is one of rcgen's documentation examples, with public placeholder secrets: generate a real deployment into a new directory")

// Secrets draws new secrets and keeps every one the deployment already has.
func Secrets(req Request) (render.Secrets, error) {
	draw := req.NewSecrets
	if req.ExampleSecrets {
		draw = render.PlaceholderSecrets
	}
	if draw == nil {
		draw = render.DefaultSecrets
	}
	s, err := draw()
	if err != nil {
		return render.Secrets{}, err
	}
	var old render.Secrets
	if req.Deployment != nil {
		old = req.Deployment.Secrets()
	}
	if old.IsPlaceholder() && !req.ExampleSecrets {
		return render.Secrets{}, ErrExampleDeployment
	}
	if d := req.Deployment; d != nil && d.HasData() && !req.NewMongoDBSecrets {
		if missing := old.MissingMongoDB(); len(missing) > 0 {
			return render.Secrets{}, &LostSecretsError{Dir: d.Dir, Missing: missing, Backups: d.EnvBackups()}
		}
	}
	return s.Keep(old), nil
}

// LostSecretsError: an existing deployment lost MongoDB secrets its data
// was created with; new ones would lock the app and mongodb-init out.
type LostSecretsError struct {
	Dir     string
	Missing []string
	// Backups are the copies of .env rcgen kept, newest first.
	Backups []string
}

func (e *LostSecretsError) Error() string {
	where := "no copy is in " + deploy.BackupDir + "/"
	if len(e.Backups) > 0 {
		where = "the newest copy rcgen kept is " + e.Backups[0]
	}
	return fmt.Sprintf("%s holds a deployment, but its %s lacks %s, and MongoDB keeps the passwords (and keyfile) its data was created with: new ones would lock the app out. "+
		"Restore them (%s), or, only if the MongoDB volumes are gone too (a fresh start), ask for new MongoDB secrets",
		e.Dir, render.EnvFile+" or keyfile", strings.Join(e.Missing, ", "), where)
}

// Run plans, renders and checks the deployment in memory, and compares it
// with the directory. Nothing is written: apply Result.Changes with
// Deployment.Apply.
func Run(ctx context.Context, req Request, plan sizing.Plan) (*Result, error) {
	secrets, err := Secrets(req)
	if err != nil {
		return nil, err
	}
	a := req.Answers
	if req.Deployment != nil {
		a = recorded(a, req.Deployment.Dir)
	}
	renderFn := req.Render
	if renderFn == nil {
		renderFn = render.Generate
	}
	in := render.Input{Answers: a, Plan: plan, Secrets: secrets, RcgenVersion: req.RcgenVersion, MongoDB: req.MongoDB}
	if d := req.Deployment; d != nil && in.MongoDB == "" {
		s, _, err := d.MongoDB(a.RocketChatVersion)
		if err != nil {
			return nil, err
		}
		in.MongoDB = s.Series
	}
	if req.Deployment != nil {
		in.KeepEnv = req.Deployment.UserEnvLines()
	}
	if req.Rerun != nil {
		in.Rerun = req.Rerun(a)
	}
	files, err := renderFn(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("the generated deployment did not validate, so nothing was written: %w", err)
	}
	r := &Result{Plan: plan, Files: files}
	if req.Deployment != nil {
		if r.Changes, err = req.Deployment.Changes(files); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// recorded returns a with the paths of the files it names relative to the
// deployment directory, as rcgen.yaml records them.
func recorded(a spec.Answers, dir string) spec.Answers {
	for _, p := range []*string{&a.LicenseFile, &a.TLSCert, &a.TLSKey, &a.Catalog} {
		if *p != "" {
			if rel, err := relTo(dir, *p); err == nil {
				*p = rel
			}
		}
	}
	return a
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
