package cli

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/repo"
)

// progressMinBytes is the smallest add that gets a progress bar: below it
// the bar would flash for a fraction of a second.
const progressMinBytes = 32 << 20

type addOptions struct {
	quiet, onlyHash, hidden, json bool
}

// addedJSON is one line of `add --json`.
type addedJSON struct {
	Path string `json:"path"`
	Cid  string `json:"cid"`
	Size uint64 `json:"size"`
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
name starts with a dot are skipped unless --hidden.`,
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
	paths := make([]string, len(args))
	for i, a := range args {
		paths[i] = env.abs(a)
	}
	opts := importer.Options{Hidden: o.hidden}
	if bar := addProgress(env, paths, o.hidden); bar != nil {
		opts.Progress = func(n int64) { _ = bar.Add64(n) }
		defer func() { _ = bar.Clear() }()
	}

	var results []importer.Result
	if o.onlyHash {
		// No repo at all: nothing is stored, so no lock is needed either
		// (this works while a daemon runs).
		dag := importer.NullDAG()
		for _, p := range paths {
			res, err := importer.AddPath(ctx, dag, p, opts)
			if err != nil {
				return fmt.Errorf("add: %w", err)
			}
			results = append(results, res)
		}
	} else {
		err := withCore(ctx, env, g, func(cr *core.Core) error {
			var err error
			if results, err = addAndPin(ctx, cr.Repo, paths, opts); err != nil {
				return err
			}
			if cr.Online() {
				for _, res := range results {
					if err := cr.Node.Provide(ctx, res.Root); err != nil {
						return fmt.Errorf("add: provide %s: %w", res.Root, err)
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return printAdded(env, o, results)
}

// addAndPin imports every path in one all-or-nothing Import and pins each
// root: if any path fails, nothing of the command is stored.
func addAndPin(ctx context.Context, r *repo.Repo, paths []string, opts importer.Options) ([]importer.Result, error) {
	im, err := r.BeginImport(ctx)
	if err != nil {
		return nil, fmt.Errorf("add: %w", err)
	}
	defer im.Close()
	var results []importer.Result
	for _, p := range paths {
		res, err := importer.AddPath(ctx, im, p, opts)
		if err != nil {
			return nil, fmt.Errorf("add: %w", err)
		}
		results = append(results, res)
	}
	if err := im.Commit(ctx); err != nil {
		return nil, fmt.Errorf("add: %w", err)
	}
	for _, res := range results {
		if err := r.Pin(ctx, res.Root, repo.Holder{Kind: repo.HolderUser}, repo.Recursive); err != nil {
			return nil, fmt.Errorf("add: %w", err)
		}
	}
	return results, nil
}

func printAdded(env *Env, o addOptions, results []importer.Result) error {
	switch {
	case o.json:
		var out []addedJSON
		for _, res := range results {
			for _, e := range res.Entries {
				out = append(out, addedJSON{Path: e.Path, Cid: e.Cid.String(), Size: e.Size})
			}
		}
		return printJSON(env.Stdout, out)
	case o.quiet:
		for _, res := range results {
			fmt.Fprintln(env.Stdout, res.Root)
		}
	default:
		for _, res := range results {
			for _, e := range res.Entries {
				fmt.Fprintf(env.Stdout, "added %s %s\n", e.Cid, e.Path)
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
