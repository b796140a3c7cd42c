package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/repo"
)

func newGetCmd(env *Env, g *globalOptions) *cobra.Command {
	var out string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "get PATH [-o OUT]",
		Short: "Fetch a file or directory (from peers if needed) and write it to OUT",
		Long: `Fetch the DAG at PATH (CID[/sub/path], /ipfs/CID[/…] or /ipns/NAME[/…]) from
the repo, or from peers when a daemon runs, and write it to OUT (default: the
last CID or name segment of PATH in the current directory). OUT must not exist.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			return withPath(ctx, env, g, "get", args[0], func(cr *core.Core, c cid.Cid) error {
				if cr.Online() {
					if err := fetchDAG(ctx, env, cr, c); err != nil {
						return err
					}
				}
				dest := out
				if dest == "" {
					dest = filepath.Base(args[0])
				}
				dest = env.abs(dest)
				if _, err := os.Lstat(dest); err == nil {
					return fmt.Errorf("%s already exists: choose another -o OUT or remove it", dest)
				}
				if err := repo.Get(ctx, cr.DAG(), c, dest); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "saved %s to %s\n", c, dest)
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write the file or directory")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (e.g. 30s); 0 waits as long as blocks keep arriving")
	return cmd
}

// fetchDAG fetches every block of c's DAG from peers, drawing a progress bar
// (blocks, bytes, peers) on a terminal.
func fetchDAG(ctx context.Context, env *Env, cr *core.Core, c cid.Cid) error {
	var progress func(node.FetchProgress)
	if env.StderrTTY {
		bar := progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(env.Stderr),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("fetching"),
			progressbar.OptionThrottle(100*time.Millisecond),
		)
		defer bar.Clear()
		progress = func(p node.FetchProgress) {
			bar.Describe(fmt.Sprintf("fetching: %d blocks from %d peers, %d pending", p.Blocks, p.Peers, p.Pending))
			_ = bar.Set64(p.Bytes)
		}
	}
	return cr.Node.Fetch(ctx, c, progress)
}
