package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(env *Env, _ *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print island's version and the versions of its main libraries",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, ok := debug.ReadBuildInfo()
			if !ok {
				return fmt.Errorf("version: no build information in this binary")
			}
			fmt.Fprintf(env.Stdout, "island %s (%s)\n", info.Main.Version, info.GoVersion)
			for _, d := range info.Deps {
				switch d.Path {
				case "github.com/libp2p/go-libp2p", "github.com/ipfs/boxo",
					"github.com/libp2p/go-libp2p-kad-dht", "github.com/yuin/goldmark":
					fmt.Fprintf(env.Stdout, "  %s %s\n", d.Path, d.Version)
				}
			}
			return nil
		},
	}
}
