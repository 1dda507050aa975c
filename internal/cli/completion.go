package cli

import (
	"github.com/spf13/cobra"

	"github.com/rcgen/rcgen/internal/spec"
)

// registerCompletions adds value completion for the flags with fixed choices.
func registerCompletions(cmd *cobra.Command) {
	fixed := map[string][]string{
		"proxy":           {spec.ProxyCaddy, spec.ProxyNone},
		"mongodb-members": {"1", "3"},
	}
	for flag, values := range fixed {
		if cmd.Flags().Lookup(flag) != nil {
			_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		}
	}
}
