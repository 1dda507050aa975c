package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

// VersionJSONVersion is the version of the `rcgen version --json` object.
const VersionJSONVersion = 1

// versionTemplate is what --version prints; `rcgen version` prints the same.
const versionTemplate = "{{.Name}} version {{.Version}}\n"

func newVersionCmd(env Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print rcgen's version and the commit it was built from (as --version)",
		Long: `Print rcgen's version and, when known, the commit it was built from: what
--version prints, and what every file rcgen writes records. --json prints it
for scripts.`,
		Example: `  rcgen version
  rcgen version --json | jq -r .rcgen_version`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				enc := json.NewEncoder(env.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Version int    `json:"version"`
					Rcgen   string `json:"rcgen_version"`
					Commit  string `json:"commit"`
				}{VersionJSONVersion, version(), commit()})
			}
			root := cmd.Root()
			_, err := fmt.Fprintf(env.IO.Out, "%s version %s\n", root.Name(), root.Version)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print it as JSON for scripts: version (of the object, 1), rcgen_version, commit")
	return cmd
}
