package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"

	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/doctor"
	"github.com/rcgen/rcgen/internal/generate"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// DoctorJSONVersion is the version of the `rcgen doctor --json` object.
const DoctorJSONVersion = 1

// errChecksFailed makes doctor exit 1 after printing its report.
var errChecksFailed = errors.New("some checks failed")

type doctorOptions struct {
	Env     Env
	Out     string
	out     *dirFlag
	Domain  string
	JSON    bool
	Root    string
	Offline bool
}

func newDoctorCmd(env Env) *cobra.Command {
	o := &doctorOptions{Env: env}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check this host (and a deployment) for what would stop Rocket.Chat from starting",
		Long: `Check the host rcgen runs on: CPU features MongoDB needs (AVX, ARMv8.2-A),
the architecture, the kernel (6.19 to 7.0.13 break MongoDB 8), memory, swap
and disk, Docker Engine and Compose versions, the ports the stack publishes,
and for a public domain whether its DNS points here. In a deployment
directory (--out, or the current directory when it holds rcgen.yaml) also:
the files rcgen owns, the modes of the secrets, the release's support, and
that each image the deployment pins is on its registry (docker manifest
inspect; RCGEN_OFFLINE=1 skips it).

Each check prints "ok|warn|fail name: what was found; what to do". Exit 1 when
any check fails.`,
		Example: `  rcgen doctor
  rcgen doctor --out /srv/rocketchat
  rcgen doctor --domain chat.example.com --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	o.out = bindDir(f, &o.Out, "out", "", "deployment directory to check as well (default: the current directory when it holds rcgen.yaml)")
	f.StringVar(&o.Domain, "domain", "", "public domain to check in DNS (default: the deployment's)")
	f.BoolVar(&o.JSON, "json", false, "print the checks as JSON for scripts")
	f.BoolVar(&o.Offline, "offline", false, "never touch the network: no daily catalog refresh, no image check (as RCGEN_OFFLINE=1)")
	f.StringVar(&o.Root, "root", "/", "read host facts (/proc, /etc/os-release) under this directory")
	_ = f.MarkHidden("root")
	return cmd
}

// Run prints every check and fails when one failed.
func (o *doctorOptions) Run(ctx context.Context) error {
	if err := o.out.check(); err != nil {
		return err
	}
	if d, err := deploy.Open(cmpOr(o.Out, ".")); err == nil && d.Exists() {
		if a, ok := kubeAnswers(d); ok {
			return kubeRefusal("doctor", a, cmpOr(o.Out, "."))
		}
	}
	autoRefresh(ctx, o.Env, o.Offline, pinsCatalog(cmpOr(o.Out, ".")))
	results := o.results(ctx)
	if o.JSON {
		enc := json.NewEncoder(o.Env.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Version int             `json:"version"`
			Status  doctor.Status   `json:"status"`
			Checks  []doctor.Result `json:"checks"`
		}{DoctorJSONVersion, doctor.Worst(results), results}); err != nil {
			return err
		}
	} else if err := doctor.Print(o.Env.IO.Out, results); err != nil {
		return err
	}
	if failed := doctor.Failed(results); len(failed) > 0 {
		return fmt.Errorf("%w: %s", errChecksFailed, strings.Join(failed, ", "))
	}
	return nil
}

// results runs every check: the host's, and the deployment's (images
// included) when there is one.
func (o *doctorOptions) results(ctx context.Context) []doctor.Result {
	sys := doctor.This()
	if o.Env.System != nil {
		sys = o.Env.System()
	}
	if o.Root != "" && o.Root != "/" {
		sys.Root, sys.Arch = o.Root, "" // a fixture or a mounted system: its own architecture
	}
	now := time.Now()
	if o.Env.Now != nil {
		now = o.Env.Now()
	}
	results := doctor.Host(sys)
	target, extra := o.target(ctx, sys, now)
	results = append(results, doctor.Environment(ctx, sys, target)...)
	return append(results, extra...)
}

// target works out what the stack will publish and where it lives: from
// the deployment's own answers when there is one, else from the defaults
// (and --domain), planned for this host and rendered in memory.
func (o *doctorOptions) target(ctx context.Context, sys doctor.System, now time.Time) (doctor.Target, []doctor.Result) {
	dir := o.Out
	if dir == "" {
		if _, err := os.Stat(spec.FileName); err == nil {
			dir = "."
		}
	}
	t := doctor.Target{Dir: dir}
	if dir == "" {
		t.Dir = "."
	}
	var extra []doctor.Result
	var d *deploy.Deployment
	var layers []spec.Layer
	if dir != "" {
		if r, ok := doctor.Apply(dir); ok {
			extra = append(extra, r)
		}
		var err error
		d, err = deploy.Open(dir)
		if err != nil {
			return t, append(extra, doctor.Result{Name: "deployment", Status: doctor.Fail, Found: err.Error(), Do: "fix it, or give another " + o.out.Name()})
		}
		t.Exists = d.Exists()
		if d.Answers != nil {
			layers = append(layers, *d.Answers)
		}
	}
	if o.Domain != "" {
		var a spec.Answers
		a.Domain = o.Domain
		layers = append(layers, spec.LayerOf(spec.FromFlag, a, spec.KeyDomain))
	}
	a, _, err := spec.Resolve(layers...)
	// The release checks judge by the catalog the deployment names
	// (checking the answer makes it this run's catalog).
	if err == nil && a.Catalog != "" {
		if cerr := a.CheckKey(spec.KeyCatalog); cerr != nil {
			extra = append(extra, doctor.Result{Name: "catalog", Status: doctor.Fail, Found: cerr.Error(), Do: "fix the catalog file rcgen.yaml names (catalog:), or remove the key to use rcgen's own"})
		}
	}
	plan := func() (*generate.Result, error) {
		if err != nil {
			return nil, err
		}
		if a.Email == "" && a.TLSMode() == spec.TLSACME {
			a.Email = "doctor@" + a.Domain // planning needs one; doctor only reads the ports
		}
		if err := generate.Prepare(&a, d); err != nil {
			return nil, err
		}
		// The host generate sizes: the same detector, unless --root points
		// at another system.
		env := o.Env
		if o.Root != "" && o.Root != "/" || env.Detect == nil {
			env.Detect = (&sizing.Detector{Root: sys.Root}).Detect
		}
		h, err := host(env, a)
		if err != nil {
			return nil, err
		}
		_, gen := newGenerateCommand(o.Env)
		req := generate.Request{Answers: a, Host: h, Deployment: d, Force: true,
			RcgenVersion: headerVersion(d), Rerun: gen.flags.rerunCommand}
		p, err := generate.Plan(req)
		if err != nil {
			return nil, err
		}
		return generate.Run(ctx, req, p)
	}
	res, perr := plan()
	t.Domain = a.Domain
	t.PublicDNS = a.OwnProxy() && a.TLSMode() == spec.TLSACME
	t.Swarm = a.Swarm()
	if perr != nil {
		extra = append(extra, doctor.Result{Name: "plan", Status: doctor.Warn, Found: "could not plan the stack: " + perr.Error(), Do: "rcgen plan shows why; ports were not checked"})
		if d != nil && d.Exists() && err == nil {
			// The release is checked without a plan (it may be why none).
			extra = append(extra, doctor.Release(a.RocketChatVersion, d.Env[render.EnvMongoDBVersion], now))
		}
		if d != nil && d.Exists() {
			// What needs no plan is checked all the same: a lost keyfile,
			// the secrets' modes, the backups.
			extra = append(extra, doctor.Unplanned(d, now)...)
			extra = append(extra, o.images(ctx, sys, d)...)
		}
		return t, extra
	}
	load := render.LoadCompose
	if res.Files.Swarm() {
		load = func(ctx context.Context, f render.Files) (*types.Project, error) {
			p, _, err := render.LoadStack(ctx, f)
			return p, err
		}
	}
	if p, err := load(ctx, res.Files); err == nil {
		for _, s := range p.Services {
			for _, port := range s.Ports {
				n := 0
				fmt.Sscan(port.Published, &n)
				t.Ports = append(t.Ports, doctor.Port{HostIP: port.HostIP, Port: n, Protocol: port.Protocol})
			}
		}
	}
	slices.SortFunc(t.Ports, func(a, b doctor.Port) int {
		return cmp.Or(cmp.Compare(a.Port, b.Port), cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.HostIP, b.HostIP))
	})
	if d != nil && d.Exists() {
		extra = append(extra, doctor.Deployment(d, res.Pending(), a.RocketChatVersion, now)...)
		extra = append(extra, o.images(ctx, sys, d)...)
		if res.Files.Swarm() {
			extra = append(extra, doctor.Swarm(ctx, sys, d, a.Project, res.Plan.Swarm)...)
		}
	}
	if a.ProxyJoinsNetwork() {
		extra = append(extra, doctor.ProxyNetwork(ctx, sys, a.ProxyNetworkName(), a.Proxy, a.Project, a.Swarm()))
	}
	t.Dir, _ = filepath.Abs(t.Dir)
	return t, extra
}

// images checks that the registries have every image the deployment's
// compose.yaml (or stack.yaml) pins, unless RCGEN_OFFLINE says not to use
// the network.
func (o *doctorOptions) images(ctx context.Context, sys doctor.System, d *deploy.Deployment) []doctor.Result {
	if offline(o.Env, o.Offline) {
		return []doctor.Result{{Name: "images", Status: doctor.Warn, Found: "not checked: offline (--offline or RCGEN_OFFLINE), so rcgen does not ask the registries",
			Do: "run rcgen doctor without --offline and RCGEN_OFFLINE to check that every image the deployment pins is on its registry"}}
	}
	images, err := doctor.DeploymentImages(ctx, d.Dir)
	if err != nil {
		return []doctor.Result{{Name: "images", Status: doctor.Warn, Found: "could not read the images the deployment pins: " + err.Error(),
			Do: "fix the file it names (a re-run of rcgen generate writes rcgen's own), then run rcgen doctor again"}}
	}
	return doctor.Images(ctx, sys, images, doctor.ImageTimeout)
}

// headerVersion is the rcgen version doctor renders the files' headers
// with: the one that wrote the deployment (written_by in rcgen.yaml), so
// the files compare on what they do, not on which rcgen wrote them; this
// rcgen's when the deployment does not say.
func headerVersion(d *deploy.Deployment) string {
	if d != nil && d.Answers != nil && d.Answers.WrittenBy != "" {
		return d.Answers.WrittenBy
	}
	return fullVersion()
}
