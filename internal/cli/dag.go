package cli

import (
	"bufio"
	"fmt"
	"os"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/repo"
)

func newDagCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dag",
		Short: "Move DAGs in and out as CAR files: dag import, dag export",
	}
	cmd.AddCommand(newDagImportCmd(env, g), newDagExportCmd(env, g))
	return cmd
}

type importedJSON struct {
	File  string   `json:"file"`
	Roots []string `json:"roots"`
}

func newDagImportCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import FILE.car...",
		Short: "Import CAR files (v1 or v2) and pin their roots; a bad file imports nothing",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var out []importedJSON
			err := withRepo(ctx, env, g, func(r *repo.Repo) error {
				for _, a := range args {
					roots, err := importCAR(cmd, r, env.abs(a))
					if err != nil {
						return fmt.Errorf("dag import: %s: %w", a, err)
					}
					res := importedJSON{File: a, Roots: []string{}}
					for _, c := range roots {
						res.Roots = append(res.Roots, c.String())
						if !asJSON {
							fmt.Fprintf(env.Stdout, "pinned root %s\n", c)
						}
					}
					out = append(out, res)
				}
				return nil
			})
			if err == nil && asJSON {
				return printJSON(env.Stdout, out)
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the roots as JSON")
	return cmd
}

func importCAR(cmd *cobra.Command, r *repo.Repo, path string) ([]cid.Cid, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return r.ImportCAR(cmd.Context(), f)
}

func newDagExportCmd(env *Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "export PATH",
		Short: "Write the DAG at PATH (CID[/sub/path] or /ipfs/CID[/…]) to stdout as a CARv1",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withPath(ctx, env, g, "dag export", args[0], func(cr *core.Core, c cid.Cid) error {
				w := bufio.NewWriterSize(env.Stdout, 1<<20)
				if err := cr.Repo.ExportCAR(ctx, w, c); err != nil {
					return err
				}
				return w.Flush()
			})
		},
	}
}
