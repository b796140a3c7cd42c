package cli

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/ipfs/boxo/files"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/importer"
)

// progressMinBytes is the smallest add that gets a progress bar: below it
// the bar would flash for a fraction of a second.
const progressMinBytes = 32 << 20

// addMemoryLimit is the Go heap `add` keeps to when it has the process to
// itself. An import holds ~20 MB of chunks live (read ahead, in the
// layout's batches, being written) and allocates a new 1 MiB buffer per
// chunk; left to GOGC alone the heap of a 512 MiB add peaked anywhere from
// 40 to 90 MB, and the process at 108-148 MB of RSS. With this soft limit
// it stays at ~102 MB for the same CPU (docs/bench.md).
const addMemoryLimit = 64 << 20

// publishGCPercent is the GOGC `publish` runs with when it has the
// process to itself, and publishMemoryLimit the soft limit that keeps the
// heap that lets grow in bounds. A publish after an edit allocates ~25 MB
// over ~100 ms and exits; at GOGC=100 the collector ran several times and
// took ~5-10% of its CPU, buying nothing for a process about to exit. A
// publish that renders the whole site (the first, or after an upgrade)
// reaches the limit and is collected as before: its peak RSS rose from
// ~200 to ~220 MB on the 2,000-post corpus, its time did not change.
const (
	publishGCPercent   = 400
	publishMemoryLimit = 160 << 20
)

// gcPercentFor is the GOGC to set for a command that wants percent, or 0
// to leave the process's alone: not in a process shared with others, nor
// when the user set GOGC.
func gcPercentFor(env *Env, percent int) int {
	if !env.OwnProcess || env.getenv("GOGC") != "" {
		return 0
	}
	return percent
}

// memoryLimitFor is the memory limit to set for a command that wants
// limit, or 0 to leave the process's alone: not in a process shared with
// others, nor when the user set GOMEMLIMIT.
func memoryLimitFor(env *Env, limit int64) int64 {
	if !env.OwnProcess || env.getenv("GOMEMLIMIT") != "" {
		return 0
	}
	return limit
}

type addOptions struct {
	quiet, onlyHash, hidden, json bool
}

func newAddCmd(env *Env, g *globalOptions) *cobra.Command {
	var o addOptions
	cmd := &cobra.Command{
		Use:   "add [-q] [--only-hash] [--hidden] PATH...",
		Short: "Import files and directories (unixfs-v1-2025 profile) and pin them",
		Long: `Import files and directories into the repo like 'ipfs add -r' with the
unixfs-v1-2025 profile, so the CIDs equal Kubo's for the same bytes, and pin
each PATH recursively. Prints every entry's CID and path, each PATH's root
last; with -q only the root CIDs, one per line. Files and directories whose
name starts with a dot are skipped unless --hidden. With a daemon running,
the files are streamed to it.`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdd(cmd.Context(), env, g, o, args)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print only the root CID of each PATH")
	f.BoolVar(&o.onlyHash, "only-hash", false, "compute the CIDs without storing or pinning anything")
	f.BoolVar(&o.hidden, "hidden", false, "include files and directories whose name starts with a dot")
	f.BoolVar(&o.json, "json", false, "print the entries as JSON")
	return cmd
}

func runAdd(ctx context.Context, env *Env, g *globalOptions, o addOptions, args []string) error {
	if limit := memoryLimitFor(env, addMemoryLimit); limit > 0 {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
	}
	paths := make([]string, len(args))
	entries := make([]files.DirEntry, len(args))
	for i, a := range args {
		paths[i] = env.abs(a)
		nd, err := importer.PathNode(paths[i], o.hidden)
		if err != nil {
			return fmt.Errorf("add: %w", err)
		}
		entries[i] = files.FileEntry(filepath.Base(paths[i]), nd)
	}
	req := core.AddRequest{Files: files.NewSliceDirectory(entries), Hidden: o.hidden}
	if bar := addProgress(env, paths, o.hidden); bar != nil {
		req.Progress = func(n int64) { _ = bar.Add64(n) }
		defer func() { _ = bar.Clear() }()
	}
	var res core.Added
	var err error
	if o.onlyHash {
		// No repo at all: nothing is stored, so no lock is needed either
		// (this works while a daemon runs).
		res, err = core.Hash(ctx, req)
	} else {
		err = withAPI(ctx, env, g, func(a core.API) error {
			res, err = a.Add(ctx, req)
			return err
		})
	}
	if err != nil {
		return err
	}
	return printAdded(env, o, res)
}

func printAdded(env *Env, o addOptions, res core.Added) error {
	switch {
	case o.json:
		out := []core.AddedEntry{}
		for _, r := range res.Roots {
			out = append(out, r.Entries...)
		}
		return printJSON(env.Stdout, out)
	case o.quiet:
		for _, r := range res.Roots {
			fmt.Fprintln(env.Stdout, r.CID)
		}
	default:
		for _, r := range res.Roots {
			for _, e := range r.Entries {
				fmt.Fprintf(env.Stdout, "added %s %s\n", e.CID, e.Path)
			}
		}
	}
	return nil
}

// addProgress returns a byte progress bar on stderr for an add big enough
// to be worth one, or nil (not a terminal, or a small add).
func addProgress(env *Env, paths []string, hidden bool) *progressbar.ProgressBar {
	if !env.StderrTTY {
		return nil
	}
	var total int64
	for _, p := range paths {
		_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // the import reports it
			}
			if q != p && !hidden && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				if info, err := d.Info(); err == nil {
					total += info.Size()
				}
			}
			return nil
		})
	}
	if total < progressMinBytes {
		return nil
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(env.Stderr),
		progressbar.OptionSetDescription("adding"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100e6),
		progressbar.OptionClearOnFinish(),
	)
}
