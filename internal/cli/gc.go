package cli

import (
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/repo"
)

type gcJSON struct {
	Removed    int    `json:"removed"`
	Kept       int    `json:"kept"`
	FreedBytes uint64 `json:"freedBytes"`
}

func newGCCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Remove the blocks no pin, site version or follow holds",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withRepo(ctx, env, g, func(r *repo.Repo) error {
				res, err := r.GC(ctx)
				if err != nil {
					return fmt.Errorf("gc: %w", err)
				}
				if asJSON {
					return printJSON(env.Stdout, gcJSON{Removed: res.Removed, Kept: res.Kept, FreedBytes: res.FreedBytes})
				}
				fmt.Fprintf(env.Stdout, "removed %d blocks (%s), kept %d\n", res.Removed, humanize.IBytes(res.FreedBytes), res.Kept)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
