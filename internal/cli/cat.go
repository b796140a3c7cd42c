package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
)

func newCatCmd(env *Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cat PATH",
		Short: "Write a file's bytes to stdout (PATH: CID[/sub/path], /ipfs/CID[/…] or /ipns/NAME[/…])",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				rc, err := a.Cat(ctx, core.PathRequest{Path: args[0], Lookup: env.lookup()})
				if err != nil {
					return err
				}
				defer rc.Close()
				if _, err := io.Copy(env.Stdout, rc); err != nil {
					return fmt.Errorf("cat: %w", err)
				}
				return nil
			})
		},
	}
}
