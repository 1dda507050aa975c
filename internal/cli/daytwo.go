package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/generate"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
	"github.com/rcgen/rcgen/internal/stack"
)

// dayTwo is what the commands that work on an existing deployment share:
// its directory, one run at a time, and its stack.
type dayTwo struct {
	Env Env
	Dir string
	// dir is --dir (or --out), the flag Dir is given by.
	dir *dirFlag
	// Wait bounds how long rcgen waits for the stack to be healthy.
	Wait   time.Duration
	unlock func()
	d      *deploy.Deployment
	// backups is where the backups are when not backups/ here: on Swarm,
	// the backup volume's directory on this node (locateBackups).
	backups string
	// command names the command for its refusal on a Kubernetes
	// deployment; kubeOK lets it open one (upgrade --dry-run).
	command string
	kubeOK  bool
}

func (t *dayTwo) bind(f *pflag.FlagSet) {
	t.bindDir(f)
	f.DurationVar(&t.Wait, "wait", 15*time.Minute, "how long to wait for the stack to be healthy after a change")
}

// bindDir registers --dir and its alias --out.
func (t *dayTwo) bindDir(f *pflag.FlagSet) {
	t.dir = bindDir(f, &t.Dir, "dir", ".", "the deployment's directory")
}

// checkDir checks the directory flags: one directory, not empty.
func (t *dayTwo) checkDir() error {
	if err := t.dir.check(); err != nil {
		return err
	}
	if strings.TrimSpace(t.Dir) == "" {
		return usage(fmt.Errorf("%s: the directory name is empty: give the deployment's directory", t.dir.Name()))
	}
	return nil
}

// open locks the deployment and loads it; it must be one rcgen wrote.
func (t *dayTwo) open() error {
	if err := t.checkDir(); err != nil {
		return err
	}
	if t.Wait <= 0 {
		return usage(fmt.Errorf("--wait: %s is not a time to wait: give e.g. 15m", t.Wait))
	}
	unlock, err := lockDeployment(t.Env, t.Dir)
	if err != nil {
		return err
	}
	t.unlock = unlock
	d, err := deploy.Open(t.Dir)
	if err != nil {
		return usage(fmt.Errorf("%s: %w", t.dir.Name(), err))
	}
	if !d.Exists() {
		return usage(fmt.Errorf("%s: %s holds no deployment rcgen wrote (no %s): give the directory rcgen generate wrote", t.dir.Name(), t.Dir, spec.FileName))
	}
	if a, ok := kubeAnswers(d); ok {
		if !t.kubeOK {
			return kubeRefusal(t.command, a, t.Dir)
		}
		// Read only (upgrade --dry-run): a Kubernetes deployment has no
		// compose file to find half-written.
		t.d = d
		return nil
	}
	t.d = d
	if err := t.halfWritten(); err != nil {
		return err
	}
	if d.Secrets().IsPlaceholder() {
		return usage(fmt.Errorf("%s: %s: %w", t.dir.Name(), t.Dir, generate.ErrExampleDeployment))
	}
	t.d = d
	return nil
}

func (t *dayTwo) close() {
	if t.unlock != nil {
		t.unlock()
	}
}

// reopen reads the deployment again after rcgen changed it.
func (t *dayTwo) reopen() error {
	d, err := deploy.Open(t.Dir)
	if err != nil {
		return err
	}
	t.d = d
	return nil
}

func (t *dayTwo) stack() stack.Stack {
	run := t.Env.Docker
	if run == nil {
		run = stack.Docker
	}
	return stack.Stack{Dir: t.Dir, Run: run, Echo: t.Env.IO.ErrOut, Members: max(1, t.d.Compose.Members()), Swarm: t.swarm(), Project: t.project()}
}

// swarm reports whether the deployment is a Docker Swarm stack (its
// stack.yaml, or its answers when that file is missing).
func (t *dayTwo) swarm() bool {
	if t.d.Compose.Swarm {
		return true
	}
	if _, err := os.Lstat(filepath.Join(t.Dir, render.ComposeFile)); err == nil {
		return false
	}
	if t.d.Answers != nil {
		if a, _, err := spec.Resolve(*t.d.Answers); err == nil {
			return a.Swarm()
		}
	}
	return false
}

// project is the deployment's project (a Swarm stack file has no name:
// the answers' project is the stack's name).
func (t *dayTwo) project() string {
	if t.d.Compose.Name != "" {
		return t.d.Compose.Name // compose.yaml's name:
	}
	if t.d.Answers != nil {
		if a, _, err := spec.Resolve(*t.d.Answers); err == nil && a.Project != "" {
			return a.Project
		}
	}
	return "rocketchat"
}

// locateBackups finds, on Swarm, the backup service's task on this node
// and its volume of backups here (a root-owned directory of Docker's):
// rcgen reads and checks the backups there as it does backups/ on one
// host. On compose it does nothing.
func (t *dayTwo) locateBackups(ctx context.Context) error {
	if !t.swarm() {
		return nil
	}
	s := t.stack()
	if _, err := s.BackupContainer(ctx); err != nil {
		return err
	}
	dir, err := s.Volume(ctx, "backups")
	if err != nil {
		return err
	}
	t.backups = dir
	return nil
}

// upCommand is what starts the deployment's app again.
func (t *dayTwo) upCommand() string {
	if t.swarm() {
		return fmt.Sprintf("docker service scale %s_rocketchat=%d", t.project(), max(1, t.d.Compose.AppReplicas))
	}
	return "docker compose up -d"
}

// applyCommand is what applies the deployment's files to the running stack.
func (t *dayTwo) applyCommand() string {
	if t.swarm() {
		return "docker stack deploy as README.md says (Deploy, step 4)"
	}
	return "docker compose up -d"
}

// has reports whether the deployment runs service.
func (t *dayTwo) has(service string) bool { return slices.Contains(t.d.Compose.Services, service) }

// apps are the deployment's app processes.
func (t *dayTwo) apps() []string {
	var a []string
	for _, s := range t.d.Compose.Services {
		if strings.HasPrefix(s, "rocketchat-") {
			a = append(a, s)
		}
	}
	// rocketchat-2 before rocketchat-10
	slices.SortFunc(a, func(x, y string) int {
		if len(x) != len(y) {
			return len(x) - len(y)
		}
		return strings.Compare(x, y)
	})
	return a
}

// poll is how often rcgen asks Docker while waiting.
func (t *dayTwo) poll() time.Duration { return min(5*time.Second, max(t.Wait/20, 50*time.Millisecond)) }

// waitHealthy waits for every service of the deployment.
func (t *dayTwo) waitHealthy(ctx context.Context) error {
	fmt.Fprintf(t.Env.IO.ErrOut, "Waiting up to %s for every service to be healthy...\n", t.Wait)
	return t.stack().WaitHealthy(ctx, t.d.Compose.Services, t.Wait, t.poll())
}

// regenerate re-runs generate on the deployment with its recorded answers,
// the release and MongoDB series given, and applies the changes.
func (t *dayTwo) regenerate(ctx context.Context, rocketChat, mongo string) error {
	a, _, err := spec.Resolve(*t.d.Answers)
	if err != nil {
		return err
	}
	a.RocketChatVersion = rocketChat
	if err := t.sameTarget(a); err != nil {
		return err
	}
	if err := generate.Prepare(&a, t.d); err != nil {
		return fmt.Errorf("the deployment's answers (%s): %w", filepath.Join(t.Dir, spec.FileName), err)
	}
	h, err := host(t.Env, a)
	if err != nil {
		return err
	}
	_, gen := newGenerateCommand(t.Env)
	req := generate.Request{Answers: a, Host: h, Deployment: t.d, MongoDB: mongo, Force: true,
		RcgenVersion: fullVersion(), Rerun: gen.flags.rerunCommand, NewSecrets: t.Env.Secrets}
	plan, err := generate.Plan(req)
	if err != nil {
		return err
	}
	res, err := generate.Run(ctx, req, plan)
	if err != nil {
		return err
	}
	pending := res.Pending()
	var paths []string
	for _, c := range pending {
		paths = append(paths, c.Path)
	}
	now := time.Now
	if t.Env.Now != nil {
		now = t.Env.Now
	}
	applied, err := t.d.Apply(res.Changes, now())
	if err != nil {
		return err
	}
	if len(paths) > 0 {
		fmt.Fprintf(t.Env.IO.ErrOut, "Wrote %s (Rocket.Chat %s on MongoDB %s)", strings.Join(paths, ", "), rocketChat, mongo)
		if applied.Backup != "" {
			fmt.Fprintf(t.Env.IO.ErrOut, "; replaced files are kept in %s", applied.Backup)
		}
		fmt.Fprintln(t.Env.IO.ErrOut, ".")
	}
	return t.reopen()
}

// sameTarget refuses answers whose target is not the one the deployment
// runs on: a day-two command never moves a deployment to another target.
func (t *dayTwo) sameTarget(a spec.Answers) error {
	if old, from := t.d.Target(); old != "" && old != a.Target {
		return fmt.Errorf("%s says target: %s, and this deployment runs on the %s target (%s): rcgen upgrade never changes the target; put target: %s back into %s "+
			"(rcgen generate --target %s says how to move a deployment to another target), then run this again",
			filepath.Join(t.Dir, spec.FileName), a.Target, old, from, old, spec.FileName, a.Target)
	}
	return nil
}

// backupsDir is where the deployment's backups are.
func (t *dayTwo) backupsDir() string {
	if t.backups != "" {
		return t.backups
	}
	return filepath.Join(t.Dir, render.BackupsDir)
}

// halfWritten refuses a deployment that lacks the files its stack runs
// from (a run of rcgen generate cut short, or a file removed by hand),
// naming them: without compose.yaml no docker compose command runs, and
// without .env the stack has no secrets. rcgen generate writes them again.
func (t *dayTwo) halfWritten() error {
	var missing []string
	runs := render.ComposeFile
	if t.swarm() {
		runs = render.StackFile
	}
	for _, f := range []string{runs, render.EnvFile} {
		if _, err := os.Lstat(filepath.Join(t.Dir, f)); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	what := strings.Join(missing, " and ")
	fix := fmt.Sprintf("write %s again with rcgen generate --out %s (it keeps the answers in %s", what, shellArg(t.Dir), spec.FileName)
	if slices.Contains(missing, render.EnvFile) {
		fix += "; .env holds the secrets MongoDB's data was created with: put back a copy of it first, from " + deploy.BackupDir + "/ or a backup, and rcgen generate says what it cannot keep"
	} else {
		fix += " and the secrets in .env"
	}
	return usage(fmt.Errorf("%s: %s holds %s but no %s: a run of rcgen generate did not finish writing it, or the file was removed; %s), then %s, and run this again",
		t.dir.Name(), t.Dir, spec.FileName, what, fix, t.applyCommand()))
}

// needBackupService refuses when the deployment runs no backup service,
// saying why: answered so (backup: false), or a compose.yaml that is not
// the one rcgen.yaml's answers make.
func (t *dayTwo) needBackupService() error {
	if t.has(sizing.Backup) {
		return nil
	}
	file := render.ComposeFile
	if t.swarm() {
		file = render.StackFile
	}
	if t.d.Answers != nil {
		if a, _, err := spec.Resolve(*t.d.Answers); err == nil && a.Backup {
			return fmt.Errorf("%s has no backup service, and %s says backup: true: %s is not the one rcgen generate writes from these answers (an older or edited one, or one of an rcgen before Swarm had backups); "+
				"write it again with rcgen generate --out %s, then %s", filepath.Join(t.d.Dir, file), spec.FileName, file, shellArg(t.d.Dir), t.applyCommand())
		}
	}
	return fmt.Errorf("this deployment has no backup service (backup: false in %s): re-run rcgen generate without --no-backup, then %s", spec.FileName, t.applyCommand())
}

// shellArg is one argument as a shell needs it typed.
func shellArg(s string) string { return stack.Quote(s) }
