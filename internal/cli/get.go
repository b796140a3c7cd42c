package cli

import (
	"context"
	"fmt"
	"io"
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
exist. It is written here, by this command, also when a daemon fetches, as
the blocks arrive; blocks fetched for it are not kept in the repo (pin add
keeps them). If the get fails, OUT is removed.`,
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
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeoutCause(ctx, timeout, core.Errorf(core.CodeUnavailable, "get: gave up after %s (timeout)", timeout))
				defer cancel()
			}
			err := withAPI(ctx, env, g, func(a core.API) error {
				// What the repo does not hold is read from peers as it is
				// written (core.Get): OUT grows while the blocks arrive.
				t, err := a.Get(ctx, core.PathRequest{Path: args[0], Lookup: env.lookup()})
				if err != nil {
					return err
				}
				defer t.Node.Close()
				bar := writeProgress(env, t.Node)
				defer bar.clear()
				if err := writeTree(bar.wrap(t.Node), dest); err != nil {
					// OUT did not exist: nothing of the user's is lost.
					_ = os.RemoveAll(dest)
					return fmt.Errorf("get: %s into %s: %w", t.CID, dest, err)
				}
				bar.clear()
				fmt.Fprintf(env.Stdout, "saved %s to %s\n", t.CID, dest)
				return nil
			})
			if err != nil && ctx.Err() != nil {
				if cause := context.Cause(ctx); cause != ctx.Err() {
					return cause
				}
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write the file or directory")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (e.g. 30s); 0 waits as long as blocks keep arriving")
	return cmd
}

// writeTree writes nd at dest, which must not exist: a file past the page
// cache where it can (writeNewFile), a directory or a symlink as boxo's
// files.WriteTo does.
func writeTree(nd files.Node, dest string) error {
	f, ok := nd.(files.File)
	if !ok {
		return files.WriteTo(nd, dest)
	}
	return writeNewFile(dest, f)
}

// getBar draws how much of a file `get` has written, on a terminal; a nil
// *getBar draws nothing.
type getBar struct{ bar *progressbar.ProgressBar }

// writeProgress is a bar for writing nd, when it is a file and stderr a
// terminal.
func writeProgress(env *Env, nd files.Node) *getBar {
	f, ok := nd.(files.File)
	if !env.StderrTTY || !ok {
		return nil
	}
	size, err := f.Size()
	if err != nil {
		size = -1
	}
	return &getBar{progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(env.Stderr),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription("getting"),
		progressbar.OptionThrottle(100*time.Millisecond),
	)}
}

// wrap counts what is read of nd on the bar.
func (b *getBar) wrap(nd files.Node) files.Node {
	if b == nil {
		return nd
	}
	f := nd.(files.File)
	return files.NewReaderFile(io.TeeReader(f, b.bar))
}

func (b *getBar) clear() {
	if b != nil {
		_ = b.bar.Clear()
	}
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
