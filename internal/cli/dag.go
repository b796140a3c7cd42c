package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
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
	File   string   `json:"file"`
	Roots  []string `json:"roots"`
	Blocks int      `json:"blocks"`
	Pinned bool     `json:"pinned"`
}

func newDagImportCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	pinRoots := true
	cmd := &cobra.Command{
		Use:   "import FILE.car...",
		Short: "Import CAR files (v1 or v2) and pin their roots; a bad file imports nothing",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var out []importedJSON
			err := withAPI(ctx, env, g, func(a core.API) error {
				for _, name := range args {
					f, err := os.Open(env.abs(name))
					if err != nil {
						return fmt.Errorf("dag import: %w", err)
					}
					res, err := a.DagImport(ctx, core.DagImportRequest{CAR: f, NoPin: !pinRoots})
					f.Close()
					if err != nil {
						return aboutFile(err, "dag import", name)
					}
					if !asJSON {
						for _, c := range res.Roots {
							if res.Pinned {
								fmt.Fprintf(env.Stdout, "pinned root %s\n", c)
							} else {
								fmt.Fprintf(env.Stdout, "imported root %s (not pinned)\n", c)
							}
						}
						if !res.Pinned {
							fmt.Fprintf(env.Stdout, "imported %d blocks from %s; nothing holds them, so gc removes them\n", res.Blocks, name)
						}
					}
					out = append(out, importedJSON{File: name, Roots: res.Roots, Blocks: res.Blocks, Pinned: res.Pinned})
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
	cmd.Flags().BoolVar(&pinRoots, "pin-roots", true, "pin the roots, whose DAGs must then be complete; --pin-roots=false stores the blocks (each hash checked) of an incomplete DAG, held by nobody")
	return cmd
}

func newDagExportCmd(env *Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "export PATH",
		Short: "Write the DAG at PATH (CID[/sub/path], /ipfs/CID[/…] or /ipns/NAME[/…]) to stdout as a CARv1",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				rc, err := a.DagExport(ctx, core.PathRequest{Path: args[0], Lookup: env.lookup()})
				if err != nil {
					return err
				}
				defer rc.Close()
				if _, err := io.Copy(env.Stdout, rc); err != nil {
					return err
				}
				return nil
			})
		},
	}
}
