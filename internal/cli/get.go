package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
)

func newGetCmd(env *Env, g *globalOptions) *cobra.Command {
	var out string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "get PATH [-o OUT]",
		Short: "Fetch a file or directory (from peers if needed) and write it to OUT",
		Long: `Fetch the DAG at PATH (CID[/sub/path], /ipfs/CID[/…] or /ipns/NAME[/…]) from
the repo, or from peers when a daemon runs, and write it to OUT (default: the
last CID or name segment of PATH in the current directory). OUT must not
exist. It is written here, by this command, also when a daemon fetches.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if timeout < 0 {
				return usagef("--timeout %s: want a positive duration, or 0 for none", timeout)
			}
			dest := out
			if dest == "" {
				dest = filepath.Base(args[0])
			}
			dest = env.abs(dest)
			if _, err := os.Lstat(dest); err == nil {
				return fmt.Errorf("get: %s already exists: choose another -o OUT or remove it", dest)
			}
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				req := core.FetchRequest{Path: args[0], Lookup: env.lookup(), Timeout: core.Duration(timeout)}
				clear := withFetchBar(env, func(f func(core.FetchProgress)) { req.Progress = f })
				f, err := a.Fetch(ctx, req)
				clear()
				if err != nil {
					return err
				}
				t, err := a.Get(ctx, core.PathRequest{Path: f.CID})
				if err != nil {
					return err
				}
				defer t.Node.Close()
				if err := files.WriteTo(t.Node, dest); err != nil {
					return fmt.Errorf("get: %s into %s: %w", t.CID, dest, err)
				}
				fmt.Fprintf(env.Stdout, "saved %s to %s\n", t.CID, dest)
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write the file or directory")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (e.g. 30s); 0 waits as long as blocks keep arriving")
	return cmd
}

// fetchBar draws a fetch's progress (blocks, bytes, peers) on a terminal.
type fetchBar struct{ bar *progressbar.ProgressBar }

// fetchProgress is a progress bar on stderr, or nil when it is no terminal.
func fetchProgress(env *Env) *fetchBar {
	if !env.StderrTTY {
		return nil
	}
	return &fetchBar{progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(env.Stderr),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription("fetching"),
		progressbar.OptionThrottle(100*time.Millisecond),
	)}
}

func (b *fetchBar) report(p core.FetchProgress) {
	b.bar.Describe(fmt.Sprintf("fetching: %d blocks from %d peers, %d pending", p.Blocks, p.Peers, p.Pending))
	_ = b.bar.Set64(p.Bytes)
}

func (b *fetchBar) clear() {
	if b != nil {
		_ = b.bar.Clear()
	}
}

// withFetchBar sets a request's progress to a bar when there is a terminal.
func withFetchBar(env *Env, set func(func(core.FetchProgress))) (clear func()) {
	bar := fetchProgress(env)
	if bar == nil {
		return func() {}
	}
	set(bar.report)
	return bar.clear
}
