package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rcgen/rcgen/internal/backup"
	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
)

// forceNamesAnnotation holds, on a command's --force flag, the names that
// command's --force=NAME accepts (for completion).
const forceNamesAnnotation = "rcgen_force_names"

// bindForceFlag registers --force on f: bare, it means what --force always
// has; --force=NAME[,NAME] accepts only what it names, one of names.
func bindForceFlag(f *pflag.FlagSet, p *forceSet, usage string, names ...string) {
	fl := f.VarPF(forceFlag{set: p, accepts: names}, "force", "", usage)
	fl.NoOptDefVal = "true"
	_ = f.SetAnnotation("force", forceNamesAnnotation, names)
}

// registerCompletions gives the flags of every command under root that
// take known values their completions: fixed choices, the Rocket.Chat
// releases rcgen deploys, the names --force accepts there, directories.
func registerCompletions(root *cobra.Command) {
	fixed := map[string][]string{
		"proxy":           {spec.ProxyCaddy, spec.ProxyTraefik, spec.ProxyHost, spec.ProxyTraefikLabels, spec.ProxyNginxProxy, spec.ProxyCaddyDockerProxy},
		"mongodb-members": {"1", "3"},
		"target":          {spec.TargetCompose, spec.TargetSwarm, spec.TargetKubernetes},
		"ingress":         {spec.IngressNginx, spec.IngressGateway},
		"kube-monitoring": {spec.KubeMonitoringOperator, spec.KubeMonitoringBundled},
	}
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		f := cmd.Flags()
		for flag, values := range fixed {
			if f.Lookup(flag) != nil {
				_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
			}
		}
		if f.Lookup("rocketchat-version") != nil {
			_ = cmd.RegisterFlagCompletionFunc("rocketchat-version", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return releaseCompletions(nil), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
			})
		}
		if fl := f.Lookup("force"); fl != nil {
			_ = cmd.RegisterFlagCompletionFunc("force", forceCompletion(fl.Annotations[forceNamesAnnotation]))
		}
		for name := range dirNames {
			if f.Lookup(name) != nil {
				_ = cmd.MarkFlagDirname(name)
			}
		}
		for _, c := range cmd.Commands() {
			walk(c)
		}
	}
	walk(root)
}

// releaseCompletions are the releases rcgen deploys (catalog.DeployableReleases, oldest
// first), each with what marks it, newer than after when after is given.
func releaseCompletions(after *semver.Version) []string {
	var out []string
	for _, r := range catalog.DeployableReleases() {
		if after != nil {
			if v, err := semver.NewVersion(r.Latest); err != nil || !v.GreaterThan(after) {
				continue
			}
		}
		desc := "Rocket.Chat " + r.Line
		if r.Latest == catalog.DefaultRocketChatVersion() {
			desc += ", the default (" + catalog.WordLTS + ")"
		}
		if r.LTS {
			desc += ", LTS"
		}
		out = append(out, r.Latest+"\t"+desc)
	}
	return out
}

// upgradeCompletion offers upgrade --to the releases newer than the one
// the deployment (--dir) runs, or every release when it cannot be read.
func (t *dayTwo) upgradeCompletion(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	var after *semver.Version
	if d, err := deploy.Open(t.Dir); err == nil {
		if v, err := semver.NewVersion(d.Env[render.EnvRocketChatVersion]); err == nil {
			after = v
		}
	}
	return releaseCompletions(after), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
}

// forceCompletion completes --force=NAME[,NAME] from names, leaving out
// the names already given before the last comma.
func forceCompletion(names []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		done := ""
		if i := strings.LastIndex(toComplete, ","); i >= 0 {
			done = toComplete[:i+1]
		}
		given := strings.Split(strings.TrimSuffix(done, ","), ",")
		var out []string
		for _, n := range names {
			if !slices.Contains(given, n) {
				out = append(out, done+n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// backupCompletion offers restore the backups in the deployment's
// backups/ directory (--dir, or the current one) that check out, newest
// first; a path is left to the shell's file completion.
func (t *dayTwo) backupCompletion(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if strings.ContainsRune(toComplete, os.PathSeparator) {
		return nil, cobra.ShellCompDirectiveDefault
	}
	list, err := backup.List(filepath.Join(t.Dir, render.BackupsDir))
	var out []string
	for _, a := range list {
		if a.Problem == "" {
			out = append(out, fmt.Sprintf("%s\ttaken %s UTC, Rocket.Chat %s", a.Name(), a.Manifest.Created.UTC().Format("2006-01-02 15:04"), a.Manifest.RocketChatVersion))
		}
	}
	if err != nil || len(out) == 0 {
		return nil, cobra.ShellCompDirectiveDefault
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
}
