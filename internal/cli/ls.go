package cli

import (
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/repo"
)

type lsJSON struct {
	Name string `json:"name"`
	Cid  string `json:"cid"`
	Type string `json:"type"`
	Size uint64 `json:"size"`
}

func newLsCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls PATH",
		Short: "List a directory: CID, size and name of each entry (PATH: CID[/sub/path] or /ipfs/CID[/…])",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withPath(ctx, env, g, "ls", args[0], func(cr *core.Core, c cid.Cid) error {
				entries, err := repo.List(ctx, cr.DAG(), c)
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]lsJSON, 0, len(entries))
					for _, e := range entries {
						out = append(out, lsJSON{Name: e.Name, Cid: e.Cid.String(), Type: e.Type, Size: e.Size})
					}
					return printJSON(env.Stdout, out)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 1, ' ', 0)
				for _, e := range entries {
					size, name := strconv.FormatUint(e.Size, 10), e.Name
					if e.Type == repo.TypeDirectory {
						// as `ipfs ls`: no size, a trailing slash
						size, name = "-", name+"/"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Cid, size, name)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the entries as JSON")
	return cmd
}
