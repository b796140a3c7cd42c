package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
)

func newKeyCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Manage the keys that sign IPNS names: key gen, key ls, key rm",
	}
	cmd.AddCommand(newKeyGenCmd(env, g), newKeyLsCmd(env, g), newKeyRmCmd(env, g))
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
				if asJSON {
					return printJSON(env.Stdout, k)
				}
				fmt.Fprintln(env.Stdout, k.ID)
				return nil
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
