package cli

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
)

func newKeyCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Manage the keys that sign IPNS names: key gen, key ls, key rm, key export, key import",
	}
	cmd.AddCommand(newKeyGenCmd(env, g), newKeyLsCmd(env, g), newKeyRmCmd(env, g), newKeyExportCmd(env, g), newKeyImportCmd(env, g))
	return cmd
}

func newKeyGenCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gen NAME",
		Short: "Create an Ed25519 key called NAME and print the IPNS name it signs",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				k, err := a.KeyGen(ctx, core.KeyRequest{Name: args[0]})
				if err != nil {
					return err
				}
				return printKey(env, k, asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the key as JSON")
	return cmd
}

func newKeyLsCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the keys: IPNS name and key name, self first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				keys, err := a.KeyLs(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, keys)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				for _, k := range keys {
					fmt.Fprintf(tw, "%s\t%s\n", k.ID, k.Name)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the keys as JSON")
	return cmd
}

func newKeyRmCmd(env *Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME...",
		Short: "Delete keys (not self); names they signed can no longer be updated",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				for _, name := range args {
					k, err := a.KeyRm(ctx, core.KeyRequest{Name: name})
					if err != nil {
						return err
					}
					fmt.Fprintf(env.Stdout, "%s\t%s\n", k.ID, k.Name)
				}
				return nil
			})
		},
	}
}

func newKeyExportCmd(env *Env, g *globalOptions) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export NAME [-o FILE]",
		Short: "Write key NAME to FILE (default NAME.key, mode 0600) as Kubo's 'ipfs key export' does, to move a site's name to another machine",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name := args[0]
			if out == "" {
				out = name + ".key"
			}
			return withAPI(ctx, env, g, func(a core.API) error {
				b, err := a.KeyExport(ctx, core.KeyRequest{Name: name})
				if err != nil {
					return err
				}
				// O_EXCL: an export never replaces a file, least of all another key.
				f, err := os.OpenFile(env.abs(out), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return fmt.Errorf("key export: %w (choose another file with -o)", err)
				}
				if _, err := f.Write(b); err != nil {
					f.Close()
					return fmt.Errorf("key export: %s: %w", out, err)
				}
				if err := f.Close(); err != nil {
					return fmt.Errorf("key export: %s: %w", out, err)
				}
				fmt.Fprintf(env.Stdout, "wrote key %s to %s\n", name, out)
				fmt.Fprintln(env.Stderr, "keep this file secret: whoever has it can publish under the key's name")
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (default NAME.key); never replaced")
	return cmd
}

func newKeyImportCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import NAME FILE",
		Short: "Store the key in FILE (from 'island key export' or Kubo's 'ipfs key export') as NAME, then publish with --key NAME",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			b, err := readSmallFile(env.abs(args[1]), 16<<10)
			if err != nil {
				return fmt.Errorf("key import: %w", err)
			}
			return withAPI(ctx, env, g, func(a core.API) error {
				k, err := a.KeyImport(ctx, core.KeyImportRequest{Name: args[0], Key: b})
				if err != nil {
					return aboutFile(err, "key import", args[1])
				}
				return printKey(env, k, asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the key as JSON")
	return cmd
}

// printKey prints a new key: its IPNS name, or the key as JSON.
func printKey(env *Env, k core.Key, asJSON bool) error {
	if asJSON {
		return printJSON(env.Stdout, k)
	}
	fmt.Fprintln(env.Stdout, k.ID)
	return nil
}
