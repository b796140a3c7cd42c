package cli

import (
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
)

func newGCCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Remove the blocks no pin, site version or follow holds",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				res, err := a.GC(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, res)
				}
				fmt.Fprintf(env.Stdout, "removed %d blocks (%s), kept %d\n", res.Removed, humanize.IBytes(res.FreedBytes), res.Kept)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
