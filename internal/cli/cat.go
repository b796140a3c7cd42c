package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/repo"
)

func newCatCmd(env *Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cat PATH",
		Short: "Write a file's bytes to stdout (PATH: CID[/sub/path] or /ipfs/CID[/…])",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withRepo(ctx, env, g, func(r *repo.Repo) error {
				c, err := pathCid(ctx, r, args[0])
				if err != nil {
					return fmt.Errorf("cat: %w", err)
				}
				rd, err := repo.Cat(ctx, r.DAG(), c)
				if err != nil {
					return fmt.Errorf("cat: %w", err)
				}
				defer rd.Close()
				if _, err := io.Copy(env.Stdout, rd); err != nil {
					return fmt.Errorf("cat: %w", err)
				}
				return nil
			})
		},
	}
}
