package cli

import (
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
)

func newLsCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls PATH",
		Short: "List a directory: CID, size and name of each entry (PATH: CID[/sub/path], /ipfs/CID[/…] or /ipns/NAME[/…])",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				entries, err := a.Ls(ctx, core.PathRequest{Path: args[0], Lookup: env.lookup()})
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, entries)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 1, ' ', 0)
				for _, e := range entries {
					size, name := strconv.FormatUint(e.Size, 10), e.Name
					if e.Type == "directory" {
						// as `ipfs ls`: no size, a trailing slash
						size, name = "-", name+"/"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", e.CID, size, name)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the entries as JSON")
	return cmd
}
