package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rcgen/rcgen/internal/adopt"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
	"github.com/rcgen/rcgen/internal/stack"
	"github.com/rcgen/rcgen/internal/up"
)

// AdoptJSONVersion is the version of `rcgen adopt --dry-run --json`.
const AdoptJSONVersion = 1

type adoptOptions struct {
	Env           Env
	From          string
	FromContainer string
	Files         []string
	Out           string
	DryRun        bool
	Yes           bool
	NoInput       bool
	JSON          bool
	FromVersion   string
	Domain        string
	Email         string
	CPUs          string
	Memory        string
	Wait          time.Duration
	Root          string
}

func newAdoptCmd(env Env) *cobra.Command {
	o := &adoptOptions{Env: env}
	cmd := &cobra.Command{
		Use:   "adopt --from DIR [--out NEWDIR]",
		Short: "Move a running Rocket.Chat (official compose files, Bitnami, docker run) into an rcgen deployment, with a way back",
		Long: `Read a Rocket.Chat deployment rcgen did not write and move it into a new
rcgen deployment beside it, leaving the old one as it was.

rcgen reads the old compose files the way docker compose does (every --file,
in order, with the directory's .env), or a container started with docker run
(--from-container), and asks the running stack what the files cannot say:
the release behind a "latest" tag (/api/info), where uploads live (the
FileUpload_Storage_Type setting), and the database's size (dbStats).

It then plans: the same domain, the same Rocket.Chat release or the nearest
one in support that is one step away, MongoDB by the catalog (a dump restored
into a new deployment is also how MongoDB 8.2 comes back to 8.0), the data
moves with the disk and time they need, and what stays untouched. It refuses,
saying why, what it cannot do safely. --dry-run prints the plan (--json too).

Each step is confirmed on a terminal, or all with --yes: stop the old app
(its MongoDB keeps running), mongodump --archive from it, write the new
deployment (rcgen generate) into --out, start only the new MongoDB, restore
into it with authentication, copy FileSystem uploads (read-only from the old
volume), and start the new stack as rcgen up does. Nothing is written into
--from or the old volumes; at the end rcgen prints the one command that
starts the old stack again.`,
		Example: `  rcgen adopt --from /srv/rocketchat-compose --dry-run
  rcgen adopt --from /srv/rocketchat-compose --file compose.database.yml --file compose.traefik.yml --file compose.yml
  rcgen adopt --from-container rocketchat --out /srv/rocketchat-rcgen --yes`,
		Args:    noArgs,
		PreRunE: func(*cobra.Command, []string) error { return o.check() },
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.From, "from", "", "the old deployment's directory (where you run docker compose)")
	f.StringVar(&o.FromContainer, "from-container", "", "the old Rocket.Chat container, for one started with docker run")
	f.StringArrayVar(&o.Files, "file", nil, "a compose file of the old deployment, relative to --from, repeated in the order you give docker compose -f (default: the directory's compose.yaml, compose.yml or docker-compose.yml and its override)")
	f.StringVar(&o.Out, "out", "", "where to write the new deployment (default: beside --from, named after it with -rcgen; never inside --from)")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the plan and change nothing")
	f.BoolVarP(&o.Yes, "yes", "y", false, "do every step without asking")
	f.BoolVar(&o.NoInput, "no-input", false, "never ask (as RCGEN_NO_INPUT=1); without --yes nothing is done")
	f.BoolVar(&o.JSON, "json", false, "with --dry-run: print the plan as JSON")
	f.StringVar(&o.FromVersion, "from-version", "", "the Rocket.Chat release the old deployment runs, when its image tag does not say (latest) and /api/info does not answer")
	f.StringVar(&o.Domain, "domain", "", "the domain of the new deployment (default: ROOT_URL's host)")
	f.StringVar(&o.Email, "email", "", "Let's Encrypt account email of the new deployment (default: the old Traefik's)")
	f.StringVar(&o.CPUs, "cpus", "", "size the new deployment for this many cores instead of detecting them (as rcgen generate --cpus)")
	f.StringVar(&o.Memory, "memory", "", "size the new deployment for this much memory instead of detecting it (as rcgen generate --memory)")
	f.DurationVar(&o.Wait, "wait", 15*time.Minute, "how long to wait for each stage of the new stack")
	f.StringVar(&o.Root, "root", "/", "read host facts under this directory")
	_ = f.MarkHidden("root")
	return cmd
}

// check validates the flags before anything is read: each error names
// its flag.
func (o *adoptOptions) check() error {
	var errs []error
	switch {
	case o.From == "" && o.FromContainer == "":
		errs = append(errs, errors.New("--from: give the old deployment's directory (or --from-container NAME for a Rocket.Chat started with docker run)"))
	case o.From != "" && o.FromContainer != "":
		errs = append(errs, errors.New("--from-container: give either --from DIR or --from-container NAME, not both"))
	}
	if o.From != "" {
		if st, err := os.Stat(o.From); err != nil {
			errs = append(errs, fmt.Errorf("--from %s: %w", o.From, err))
		} else if !st.IsDir() {
			errs = append(errs, fmt.Errorf("--from %s is not a directory: give the directory you run docker compose in", o.From))
		}
	}
	if len(o.Files) > 0 && o.From == "" {
		errs = append(errs, errors.New("--file: only with --from (the files are relative to it)"))
	}
	for _, f := range o.Files {
		if strings.TrimSpace(f) == "" {
			errs = append(errs, errors.New("--file: the name is empty"))
		}
	}
	if o.Out == "" {
		switch {
		case o.From != "":
			abs, err := filepath.Abs(o.From)
			if err == nil {
				o.Out = filepath.Join(filepath.Dir(abs), filepath.Base(abs)+"-rcgen")
			}
		default:
			o.Out = "rocketchat-rcgen"
		}
	} else if strings.TrimSpace(o.Out) == "" {
		errs = append(errs, errors.New("--out: the directory name is empty"))
	}
	if o.From != "" && o.Out != "" {
		if inside(o.From, o.Out) {
			errs = append(errs, fmt.Errorf("--out %s is --from or inside it: rcgen never writes into the old deployment's directory; give a directory beside it, e.g. --out %s", o.Out, filepath.Join(filepath.Dir(filepath.Clean(o.From)), filepath.Base(filepath.Clean(o.From))+"-rcgen")))
		}
	}
	if entries, err := os.ReadDir(o.Out); err == nil && len(entries) > 0 {
		errs = append(errs, fmt.Errorf("--out %s is not empty: adopt writes a new deployment; give a new or empty directory", o.Out))
	}
	if o.FromVersion != "" {
		if _, err := semver.StrictNewVersion(o.FromVersion); err != nil {
			errs = append(errs, fmt.Errorf("--from-version %q: give the release as X.Y.Z, e.g. 8.0.1", o.FromVersion))
		}
	}
	if o.Domain != "" {
		a := spec.Default()
		a.Domain = o.Domain
		if err := a.CheckKey(spec.KeyDomain); err != nil {
			errs = append(errs, fmt.Errorf("--domain %q: %s", o.Domain, fieldMsg(err)))
		}
	}
	if o.Email != "" {
		a := spec.Default()
		a.Email = o.Email
		if err := a.CheckKey(spec.KeyEmail); err != nil {
			errs = append(errs, fmt.Errorf("--email %q: %s", o.Email, fieldMsg(err)))
		}
	}
	if o.JSON && !o.DryRun {
		errs = append(errs, errors.New("--json: only with --dry-run (the plan as JSON)"))
	}
	if o.Wait <= 0 {
		errs = append(errs, fmt.Errorf("--wait: %s is not a time to wait: give e.g. 15m", o.Wait))
	}
	if len(errs) > 0 {
		return usage(errors.Join(errs...))
	}
	return nil
}

func fieldMsg(err error) string {
	var fe *spec.FieldError
	if errors.As(err, &fe) {
		return fe.Msg
	}
	return err.Error()
}

// inside reports whether out is dir or under it (symbolic links resolved
// where they exist).
func inside(dir, out string) bool {
	resolve := func(p string) string {
		abs, err := filepath.Abs(p)
		if err != nil {
			return filepath.Clean(p)
		}
		// Resolve the longest existing prefix.
		rest := ""
		for cur := abs; ; cur = filepath.Dir(cur) {
			if r, err := filepath.EvalSymlinks(cur); err == nil {
				return filepath.Join(r, rest)
			}
			if filepath.Dir(cur) == cur {
				return abs
			}
			rest = filepath.Join(filepath.Base(cur), rest)
		}
	}
	d, o := resolve(dir), resolve(out)
	rel, err := filepath.Rel(d, o)
	return err == nil && (rel == "." || !strings.HasPrefix(rel, ".."))
}

func (o *adoptOptions) runner() stack.Runner {
	if o.Env.Docker != nil {
		return o.Env.Docker
	}
	return stack.Docker
}

func (o *adoptOptions) run(ctx context.Context) error {
	errOut := o.Env.IO.ErrOut
	run := adopt.Runner(o.runner())
	var old adopt.Old
	var err error
	if o.FromContainer != "" {
		old, err = adopt.Inspect(ctx, run, o.FromContainer)
	} else {
		old, err = adopt.Read(ctx, o.From, o.Files)
	}
	if err != nil {
		return usage(err)
	}
	if o.FromVersion != "" {
		old.Version = o.FromVersion
	}
	for _, e := range adopt.Probe(ctx, run, &old) {
		fmt.Fprintf(errOut, "Note: %v.\n", e)
	}
	ask := canPrompt(o.Env, o.Yes, o.NoInput) && !o.JSON
	if o.Domain != "" {
		old.Domain = o.Domain
	}
	if o.Email != "" {
		old.Email = o.Email
	}
	if old.Version == "" && ask {
		v, err := o.Env.Prompter().Input("Which Rocket.Chat release does the old deployment run?",
			"Its image tag does not say and /api/info did not answer. The admin's Workspace page shows it (e.g. 8.0.1).", "",
			func(s string) error {
				if _, err := semver.StrictNewVersion(s); err != nil {
					return errors.New("give the release as X.Y.Z")
				}
				return nil
			})
		if err != nil {
			return err
		}
		old.Version = v
	}
	if old.Domain == "" && ask {
		d, err := o.Env.Prompter().Input("Which domain do users type to reach Rocket.Chat?",
			"The old deployment's ROOT_URL names no host. The new deployment serves this name (localhost: plain http on this machine).", "",
			func(s string) error {
				a := spec.Default()
				a.Domain = s
				if err := a.CheckKey(spec.KeyDomain); err != nil {
					return errors.New(fieldMsg(err))
				}
				return nil
			})
		if err != nil {
			return err
		}
		old.Domain = d
	}
	public := old.Domain != "" && old.Domain != "localhost" && !isIP(old.Domain)
	if public && old.Email == "" && ask {
		e, err := o.Env.Prompter().Input("Email for Let's Encrypt (certificate expiry notices)?",
			"The new deployment gets its certificate for "+old.Domain+" from Let's Encrypt, which needs an account email.", "",
			func(s string) error {
				a := spec.Default()
				a.Email = s
				if err := a.CheckKey(spec.KeyEmail); err != nil {
					return errors.New(fieldMsg(err))
				}
				return nil
			})
		if err != nil {
			return err
		}
		old.Email = e
	}
	n := adopt.New{Dir: o.Out, Project: adopt.NewProject(old), DumpDir: adopt.DumpDir(o.Out)}
	if abs, err := filepath.Abs(o.Out); err == nil {
		n.Dir, n.DumpDir = abs, adopt.DumpDir(abs)
	}
	h, err := o.host(ctx, n)
	if err != nil {
		return err
	}
	plan, refusals := adopt.Compute(old, h, adopt.ActiveCatalog())
	if public && plan.Target.Email == "" {
		refusals = append(refusals, adopt.Refusal{Reason: "the old deployment names no Let's Encrypt email for " + old.Domain, Fix: "give --email"})
	}
	if len(plan.From.Files) > 0 && o.From != "" {
		for _, f := range []string{n.Dir, n.DumpDir} {
			if inside(o.From, f) {
				refusals = append(refusals, adopt.Refusal{Reason: f + " is inside --from", Fix: "give --out beside it"})
			}
		}
	}
	steps := adopt.Steps(plan, n)
	rollback := adopt.Rollback(plan, n)
	if o.JSON {
		enc := json.NewEncoder(o.Env.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Version  int               `json:"version"`
			Plan     adopt.Plan        `json:"plan"`
			Steps    []jsonStep        `json:"steps"`
			Rollback string            `json:"rollback"`
			Refusals []adopt.Refusal   `json:"refusals"`
			New      map[string]string `json:"new"`
		}{AdoptJSONVersion, plan, jsonSteps(steps), rollback, nonNil(refusals), map[string]string{"dir": n.Dir, "project": n.Project, "dump_dir": n.DumpDir}}); err != nil {
			return err
		}
	} else {
		printAdopt(o.Env.IO.Out, plan, n, steps, rollback)
	}
	if len(refusals) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "rcgen adopt refuses this move; nothing was changed:")
		for _, r := range refusals {
			fmt.Fprintf(&b, "\n  - %s", r)
		}
		return errors.New(b.String())
	}
	if o.DryRun {
		fmt.Fprintf(errOut, "Dry run: nothing was changed. Do it with the same command without --dry-run.\n")
		return nil
	}
	if !ask && !o.Yes {
		return usage(errors.New("rcgen adopt stops the old app and asks before each step; with no terminal to ask on, give --yes (or --dry-run to see the plan)"))
	}
	hooks := map[string]func(context.Context) error{
		adopt.HookGenerate:   func(ctx context.Context) error { return o.generate(ctx, plan, n) },
		adopt.HookStartMongo: func(ctx context.Context) error { return o.startMongo(ctx, n) },
		adopt.HookStartStack: func(ctx context.Context) error { return o.startStack(ctx, n) },
	}
	confirm := func(i int, s adopt.Step) (bool, error) {
		if !ask {
			return true, nil
		}
		return o.Env.Prompter().Confirm(fmt.Sprintf("Step %d: %s?", i+1, s.Title), "rcgen does this step now; no stops the move here, with what is done kept. The way back: "+rollback, true)
	}
	if err := adopt.Execute(ctx, steps, run, hooks, confirm, errOut); err != nil {
		return fmt.Errorf("%w\nThe old deployment's files and volumes are as they were; to start it again: %s\n"+
			"To try the move again from the start, remove what adopt made (the new stack and its volumes, %s, and the dump in %s): %s, then run rcgen adopt again",
			err, rollback, n.Dir, n.DumpDir, stack.Quote("docker", "compose", "--project-directory", n.Dir, "down", "--volumes")+" && "+stack.Quote("rm", "-rf", n.Dir, n.DumpDir))
	}
	fmt.Fprintf(o.Env.IO.Out, "Adopted: Rocket.Chat %s now runs from %s.\nThe old deployment is stopped and untouched; to go back: %s\nOnce you are sure, the dump in %s can go.\n", plan.Target.RocketChat, n.Dir, rollback, n.DumpDir)
	return nil
}

func nonNil(r []adopt.Refusal) []adopt.Refusal {
	if r == nil {
		return []adopt.Refusal{}
	}
	return r
}

type jsonStep struct {
	Title   string `json:"title"`
	Command string `json:"command,omitempty"`
}

func jsonSteps(steps []adopt.Step) []jsonStep {
	var out []jsonStep
	for _, s := range steps {
		out = append(out, jsonStep{s.Title, s.Shown()})
	}
	return out
}

func isIP(s string) bool {
	return strings.Count(s, ".") == 3 && strings.Trim(s, "0123456789.") == "" || strings.Contains(s, ":")
}

// host reads the free space where the dump and Docker's volumes go.
func (o *adoptOptions) host(ctx context.Context, n adopt.New) (adopt.Host, error) {
	now := time.Now
	if o.Env.Now != nil {
		now = o.Env.Now
	}
	h := adopt.Host{Now: now()}
	free := o.Env.DiskFree
	if free == nil {
		free = diskFree
	}
	dumpFree, dumpDev, err := free(existingParent(n.DumpDir))
	if err != nil {
		return h, fmt.Errorf("--out: reading the free space beside %s: %w", n.Dir, err)
	}
	h.FreeDump = dumpFree
	root := "/var/lib/docker"
	if out, err := o.runner()(ctx, "", "info", "--format", "{{.DockerRootDir}}"); err == nil && strings.TrimSpace(string(out)) != "" {
		root = strings.TrimSpace(string(out))
	}
	volFree, volDev, err := free(existingParent(root))
	if err != nil {
		// Docker's data root is not readable here (another user's, or a
		// remote engine): count both on the dump's disk.
		volFree, volDev = dumpFree, dumpDev
	}
	h.FreeVolumes, h.SameDisk = volFree, volDev == dumpDev
	return h, nil
}

func existingParent(p string) string {
	for cur := filepath.Clean(p); ; cur = filepath.Dir(cur) {
		if _, err := os.Stat(cur); err == nil || filepath.Dir(cur) == cur {
			return cur
		}
	}
}

// generate writes the new deployment with rcgen generate's own path.
func (o *adoptOptions) generate(ctx context.Context, p adopt.Plan, n adopt.New) error {
	args := []string{"--out", n.Dir, "--yes", "--rocketchat-version", p.Target.RocketChat, "--domain", p.Target.Domain, "--project", n.Project}
	if p.Target.Email != "" {
		args = append(args, "--email", p.Target.Email)
	}
	if o.CPUs != "" {
		args = append(args, "--cpus", o.CPUs)
	}
	if o.Memory != "" {
		args = append(args, "--memory", o.Memory)
	}
	fmt.Fprintln(o.Env.IO.ErrOut, "+ rcgen generate "+stack.Quote(args...))
	cmd, _ := newGenerateCommand(o.Env)
	cmd.SetArgs(args)
	cmd.SetOut(o.Env.IO.ErrOut)
	cmd.SetErr(o.Env.IO.ErrOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	return cmd.ExecuteContext(ctx)
}

// newStack opens the new deployment (locked) for a stage.
func (o *adoptOptions) newStack(n adopt.New) (*dayTwo, error) {
	t := &dayTwo{Env: o.Env}
	t.dir = bindDir(pflag.NewFlagSet("adopt", pflag.ContinueOnError), &t.Dir, "out", n.Dir, "the new deployment")
	t.Wait = o.Wait
	if err := t.open(); err != nil {
		return nil, err
	}
	return t, nil
}

// startMongo starts only the new MongoDB set and waits for its primary,
// in rcgen up's stages.
func (o *adoptOptions) startMongo(ctx context.Context, n adopt.New) error {
	t, err := o.newStack(n)
	if err != nil {
		return err
	}
	defer t.close()
	var mongo []string
	for _, s := range t.d.Compose.Services {
		if s == sizing.MongoDBPrepare || s == sizing.MongoDBInit || strings.HasPrefix(s, "mongodb-") && strings.Trim(s[len("mongodb-"):], "0123456789") == "" {
			mongo = append(mongo, s)
		}
	}
	st := t.stack()
	st.Echo = nil
	return up.Run(ctx, up.Options{Stack: st, Services: mongo, Timeout: o.Wait, Poll: t.poll(), Progress: up.NewProgress(o.Env.IO.ErrOut, false),
		Expect: up.Expect{RootURL: t.d.Env[render.EnvRootURL]}})
}

// startStack starts the new stack as rcgen up does: its preflight, its
// stages, its smoke test.
func (o *adoptOptions) startStack(ctx context.Context, n adopt.New) error {
	cmd := newUpCmd(o.Env)
	cmd.SetArgs([]string{"--dir", n.Dir, "--timeout", o.Wait.String(), "--root", o.Root})
	cmd.SetOut(o.Env.IO.Out)
	cmd.SetErr(o.Env.IO.ErrOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	return cmd.ExecuteContext(ctx)
}

// printAdopt writes the plan for people.
func printAdopt(w io.Writer, p adopt.Plan, n adopt.New, steps []adopt.Step, rollback string) {
	o := p.From
	var b strings.Builder
	if o.Layout == adopt.LayoutContainer {
		fmt.Fprintf(&b, "Old deployment: the container %s (docker run)\n", o.App)
	} else {
		fmt.Fprintf(&b, "Old deployment: %s (project %s; %s)\n", o.Dir, o.Project, strings.Join(o.Files, ", "))
	}
	version := o.Version
	if version == "" {
		version = "(unknown)"
	}
	fmt.Fprintf(&b, "  Rocket.Chat %s (%s:%s), ROOT_URL %s\n", version, o.Image, o.Tag, o.RootURL)
	m := o.Mongo
	if m.External {
		fmt.Fprintf(&b, "  MongoDB: external, %s\n", m.URL)
	} else {
		where := "volume " + m.Volume
		if m.HostPath != "" {
			where = "host directory " + m.HostPath
		}
		kind := ""
		if m.Bitnami {
			kind = ", Bitnami (data in " + adopt.BitnamiDataDir + ", uid 1001)"
		}
		fmt.Fprintf(&b, "  MongoDB %s (%s%s), service %s, %s\n", m.Version, m.Image, kind, m.Service, where)
	}
	auth := "no authentication"
	if m.Auth {
		auth = "authenticated"
	}
	rs := m.ReplicaSet
	if rs == "" {
		rs = "none"
	}
	fmt.Fprintf(&b, "  %s, replica set %s, database %s\n", auth, rs, m.DB)
	up := o.Uploads.Storage
	if up == "" {
		up = "(unknown)"
	}
	switch o.Uploads.Storage {
	case "GridFS":
		up += " (in the database)"
	case "FileSystem":
		holder := o.Uploads.Volume
		if holder == "" {
			holder = o.Uploads.HostPath
		}
		up += fmt.Sprintf(" (%s on %s, %s)", o.Uploads.Path, holder, adopt.Bytes(o.Sizes.Uploads))
	}
	fmt.Fprintf(&b, "  uploads: %s\n", up)
	proxy := o.Proxy
	if o.Proxy == "traefik" {
		le := "no Let's Encrypt"
		if o.LetsEncrypt {
			le = "Let's Encrypt"
		}
		proxy += fmt.Sprintf(" (%s, email %s)", le, orNone(o.Email))
	}
	fmt.Fprintf(&b, "  proxy: %s; licence in the environment: %s; SMTP in the environment: %s\n", proxy, yesNo(o.License), orNone(o.SMTP))
	fmt.Fprintf(&b, "New deployment: %s (project %s)\n", n.Dir, n.Project)
	fmt.Fprintf(&b, "  Rocket.Chat %s, MongoDB %s (%s), domain %s\n", orNone(p.Target.RocketChat), orNone(p.Target.MongoDB), orNone(p.Target.MongoDBTag), orNone(p.Target.Domain))
	b.WriteString("Data moves:\n")
	for _, mv := range p.Moves {
		fmt.Fprintf(&b, "  - %s, %s: %s -> %s (%s)\n", mv.What, adopt.Bytes(mv.Bytes), mv.From, mv.To, mv.How)
	}
	fmt.Fprintf(&b, "Disk: the dump %s beside --out, the new volumes %s; %s needed with a margin, %s free\n", adopt.Bytes(p.Disk.Dump), adopt.Bytes(p.Disk.Volumes), adopt.Bytes(p.Disk.Need), adopt.Bytes(p.Disk.Free))
	fmt.Fprintf(&b, "Time: about %s, all of it downtime (from stopping the old app to the new one answering)\n", p.Downtime)
	b.WriteString("Stays untouched (the way back):\n")
	for _, u := range p.Untouched {
		fmt.Fprintf(&b, "  - %s\n", u)
	}
	for _, note := range p.Notes {
		fmt.Fprintf(&b, "Note: %s.\n", note)
	}
	b.WriteString("Steps:\n")
	for i, s := range steps {
		fmt.Fprintf(&b, "%3d. %s\n", i+1, s.Title)
		if c := s.Shown(); c != "" {
			fmt.Fprintf(&b, "       %s\n", c)
		}
	}
	fmt.Fprintf(&b, "Rollback: %s\n", rollback)
	_, _ = io.WriteString(w, b.String())
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// diskFree is the space free to an unprivileged user on path's file
// system, and the file system's device (to tell one disk from two).
func diskFree(path string) (int64, uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, err
	}
	var fi syscall.Stat_t
	if err := syscall.Stat(path, &fi); err != nil {
		return 0, 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), uint64(fi.Dev), nil
}
