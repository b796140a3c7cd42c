package cli

import (
	"io"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/repo"
)

func newCatCmd(env *Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cat PATH",
		Short: "Write a file's bytes to stdout (PATH: CID[/sub/path] or /ipfs/CID[/…])",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withPath(ctx, env, g, "cat", args[0], func(cr *core.Core, c cid.Cid) error {
				rd, err := repo.Cat(ctx, cr.DAG(), c)
				if err != nil {
					return err
				}
				defer rd.Close()
				_, err = io.Copy(env.Stdout, rd)
				return err
			})
		},
	}
}
