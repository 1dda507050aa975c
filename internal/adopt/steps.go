package adopt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/kballard/go-shellquote"
)

// ArchiveName is the dump's file name in the dump directory.
const ArchiveName = "rocketchat.archive"

// Step is one thing adopt does, confirmed before it runs.
type Step struct {
	Title string `json:"title"`
	// Command is what runs (docker's arguments), shown masked; empty for
	// a step rcgen does itself (Hook).
	Command []string `json:"command,omitempty"`
	// Dir is where the command runs.
	Dir  string `json:"dir,omitempty"`
	Hook string `json:"hook,omitempty"`
	// shown is Command with secrets masked.
	shown []string
}

// Shown is the step's command as printed: shell-quoted, passwords masked.
func (s Step) Shown() string {
	if len(s.Command) == 0 {
		return ""
	}
	args := s.shown
	if args == nil {
		args = s.Command
	}
	cmd := "docker " + shellquote.Join(args...)
	if s.Dir != "" {
		cmd = "cd " + shellquote.Join(s.Dir) + " && " + cmd
	}
	return cmd
}

// Hooks are the steps rcgen does with its own code.
const (
	HookGenerate   = "generate"
	HookStartMongo = "start-mongodb"
	HookStartStack = "start-stack"
)

// Layout of the new side.
type New struct {
	// Dir is --out; Project the new compose project; DumpDir where the
	// dump goes (beside --out, never in --from).
	Dir, Project, DumpDir string
}

// NewProject is the project adopt gives the new deployment: rcgen's
// default, unless the old one already has that name (their volumes would
// share names).
func NewProject(old Old) string {
	if old.Layout == LayoutCompose && old.Project == "rocketchat" {
		return "rocketchat-rcgen"
	}
	return "rocketchat"
}

// DumpDir is where the dump of a deployment adopted into out goes.
func DumpDir(out string) string { return filepath.Clean(out) + ".adopt-dump" }

// Steps are the plan's commands, in order.
func Steps(p Plan, n New) []Step {
	o := p.From
	var steps []Step
	stop := append([]string{"stop"}, o.Stop...)
	if o.Layout == LayoutCompose {
		stop = append(append(o.composeArgs(), "stop"), o.Stop...)
	}
	steps = append(steps, Step{Title: "stop the old app (" + strings.Join(o.Stop, ", ") + "); its MongoDB keeps running", Command: stop})

	network := o.Network
	if o.Mongo.External {
		network = "host"
	}
	dump := []string{"run", "--rm", "--network", network, "-v", n.DumpDir + ":/dump", ToolsImage,
		"mongodump", "--uri=" + o.Mongo.RealURL(), "--archive=/dump/" + ArchiveName}
	shown := append([]string(nil), dump...)
	shown[len(shown)-2] = "--uri=" + o.Mongo.URL
	steps = append(steps, Step{Title: "dump the old database " + o.Mongo.DB + " (mongodump --archive) into " + n.DumpDir, Command: dump, shown: shown})

	steps = append(steps, Step{Title: fmt.Sprintf("write the new deployment into %s (rcgen generate: Rocket.Chat %s, MongoDB %s, %s)", n.Dir, p.Target.RocketChat, p.Target.MongoDB, p.Target.Domain), Hook: HookGenerate})
	steps = append(steps, Step{Title: "start only the new MongoDB replica set (mongodb-prepare, the members, mongodb-init)", Hook: HookStartMongo})

	// mongorestore through the backup service's image and environment
	// (MONGODB_ROOT_PASSWORD from .env): the password goes into a
	// --config file, never onto a command line (mongorestore --config,
	// mongo-tools 100.3.0 and later, as backup.sh does).
	script := `set -eu; umask 077; printf "uri: 'mongodb://root:%s@mongodb-1:27017/?replicaSet=rs0&authSource=admin'\n" "$MONGODB_ROOT_PASSWORD" >/tmp/adopt.yaml; ` +
		`exec mongorestore --config /tmp/adopt.yaml --archive=/adopt/` + ArchiveName + ` --nsInclude='` + o.Mongo.DB + `.*' --nsFrom='` + o.Mongo.DB + `.*' --nsTo='rocketchat.*' --drop`
	steps = append(steps, Step{Title: "restore it into the new MongoDB as database rocketchat (mongorestore --archive, authenticated as root)", Dir: n.Dir,
		Command: []string{"compose", "run", "--rm", "--no-deps", "-T", "-v", n.DumpDir + ":/adopt:ro", "--entrypoint", "sh", "backup", "-c", script}})

	if src := o.uploadsSource(); src != "" && o.Uploads.Storage == "FileSystem" {
		// Through the backup service, which mounts the uploads volume
		// (uploads:/volumes/uploads in compose.yaml), so compose creates
		// the volume as its own; the old one mounted read-only.
		uid := p.Target.UploadsUID
		steps = append(steps, Step{Title: fmt.Sprintf("copy the uploads from %s (mounted read-only) to the new uploads volume, owned by uid %d", src, uid), Dir: n.Dir,
			Command: []string{"compose", "run", "--rm", "--no-deps", "-T", "-v", src + ":/from:ro", "--entrypoint", "sh", "backup",
				"-c", fmt.Sprintf("cp -a /from/. /volumes/uploads/ && chown -R %d:%d /volumes/uploads", uid, uid)}})
	}
	steps = append(steps, Step{Title: "start the new stack in stages with rcgen up's checks", Hook: HookStartStack})
	return steps
}

// Rollback is the one command that puts the old deployment back: stop
// the new stack, start what adopt stopped.
func Rollback(p Plan, n New) string {
	o := p.From
	start := append([]string{"docker", "start"}, o.Stop...)
	if o.Layout == LayoutCompose {
		start = append(append([]string{"docker"}, o.composeArgs()...), "start")
		start = append(start, o.Stop...)
	}
	return "docker " + shellquote.Join("compose", "--project-directory", n.Dir, "stop") + " && " + shellquote.Join(start...)
}

// Confirm asks whether to run a step; false stops adopt there.
type Confirm func(i int, s Step) (bool, error)

// ErrStopped: the person said no to a step.
var ErrStopped = errors.New("stopped")

// Execute runs steps in order: each confirmed, printed, then run through
// run (a command) or hooks (rcgen's own). It stops at the first failure
// and says what is done.
func Execute(ctx context.Context, steps []Step, run Runner, hooks map[string]func(context.Context) error, confirm Confirm, log io.Writer) error {
	for i, s := range steps {
		fmt.Fprintf(log, "\nStep %d of %d: %s\n", i+1, len(steps), s.Title)
		ok, err := confirm(i, s)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w before step %d (%s)", ErrStopped, i+1, s.Title)
		}
		if s.Hook != "" {
			h := hooks[s.Hook]
			if h == nil {
				return fmt.Errorf("step %d: no %s hook", i+1, s.Hook)
			}
			err = h(ctx)
		} else {
			fmt.Fprintln(log, "+ "+s.Shown())
			_, err = run(ctx, s.Dir, s.Command...)
		}
		if err != nil {
			return fmt.Errorf("step %d of %d (%s): %w", i+1, len(steps), s.Title, err)
		}
	}
	return nil
}
