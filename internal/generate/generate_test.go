package generate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

func existing(t *testing.T, env string) *deploy.Deployment {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, spec.FileName), []byte("version: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, render.EnvFile), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := deploy.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCompleteKeepsWhatTheDeploymentRunsWith: a re-run that names no
// licence file keeps the licence in .env, and keeps the SMTP password
// while alerts are emailed (and only then).
func TestCompleteKeepsWhatTheDeploymentRunsWith(t *testing.T) {
	d := existing(t, "ROCKETCHAT_LICENSE=LIC-1\nSMTP_PASSWORD='pw'\n")
	a := spec.Default()
	a.AlertEmail, a.SMTPHost, a.SMTPFrom, a.SMTPUser = "ops@example.com", "smtp.example.com:587", "rc@example.com", "rc"
	if err := Prepare(&a, d); err != nil {
		t.Fatal(err)
	}
	if a.License != "LIC-1" || a.SMTPPassword != "pw" {
		t.Errorf("licence %q, SMTP password %q; want the deployment's", a.License, a.SMTPPassword)
	}
	b := spec.Default()
	Complete(&b, d)
	if b.SMTPPassword != "" {
		t.Error("an SMTP password is kept without alert emails")
	}
}

// TestRunWritesNothing: the action renders and compares in memory; the
// directory is as it was until the cli applies the changes.
func TestRunWritesNothing(t *testing.T) {
	d, err := deploy.Open(filepath.Join(t.TempDir(), "new"))
	if err != nil {
		t.Fatal(err)
	}
	a := spec.Default()
	if err := Prepare(&a, d); err != nil {
		t.Fatal(err)
	}
	req := Request{Answers: a, Host: sizing.Host{}.Override(4, 8*spec.GiB), Deployment: d, RcgenVersion: "test"}
	plan, err := Plan(req)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), req, plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pending()) == 0 || len(res.Pending()) != len(res.Files) {
		t.Errorf("a new deployment should add every file: %d pending of %d", len(res.Pending()), len(res.Files))
	}
	if _, err := os.Stat(d.Dir); !os.IsNotExist(err) {
		t.Errorf("Run created %s", d.Dir)
	}
}

// TestPlanRefusesARenamedProject: the project prefixes every volume.
func TestPlanRefusesARenamedProject(t *testing.T) {
	d := existing(t, "")
	a := spec.Default()
	a.Project = "other"
	_, err := Plan(Request{Answers: a, Host: sizing.Host{}.Override(4, 8*spec.GiB), Deployment: d})
	var fe *spec.FieldError
	if !errors.As(err, &fe) || fe.Key != spec.KeyProject {
		t.Errorf("Plan() = %v, want an error of the project answer", err)
	}
}
