package cli

import (
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
)

func newHistoryCmd(env *Env, g *globalOptions) *cobra.Command {
	var key string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "history [--key NAME] [--json]",
		Short: "List the published versions of the site, oldest first",
		Long: `List every version published under the key's name (default: the node's own),
oldest first: version, CID, IPNS sequence number, time and the version it
replaced. The current one is marked with '*'. Each entry is signed by the
key and checked when read. Every version stays in the repo: gc keeps them.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				h, err := a.History(ctx, core.HistoryRequest{Key: key})
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, h.Versions)
				}
				if len(h.Versions) == 0 {
					fmt.Fprintf(env.Stdout, "nothing published under /ipns/%s yet: run 'island publish'\n", h.Name)
					return nil
				}
				fmt.Fprintf(env.Stdout, "/ipns/%s\n", h.Name)
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "VERSION\tCID\tSEQ\tPUBLISHED\tREPLACED")
				for _, v := range h.Versions {
					mark := " "
					if v.Current {
						mark = "*"
					}
					prev := "-"
					if v.Prev != "" {
						prev = v.Prev
					}
					fmt.Fprintf(tw, "%d%s\t%s\t%d\t%s\t%s\n", v.Version, mark, v.CID, v.Seq, when(v.Time), prev)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "the key whose site to list (default: the node's own, \"self\")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the versions as JSON")
	return cmd
}

func newRollbackCmd(env *Env, g *globalOptions) *cobra.Command {
	var key string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rollback [VERSION] [--key NAME]",
		Short: "Make an older version of the site current again",
		Long: `Republish VERSION (a number from 'island history'; default: the version before
the current one) under the same name with a new, higher sequence number, so
every peer prefers it to the version it replaces. The rollback is itself
recorded as a new version: nothing is lost, and a rollback can be rolled back.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("%s takes at most one VERSION, got %d arguments", cmd.CommandPath(), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			version := 0
			if len(args) == 1 {
				n, err := strconv.Atoi(args[0])
				if err != nil || n < 1 {
					return usagef("rollback: VERSION %q: want a version number (1, 2, …) from 'island history'", args[0])
				}
				version = n
			}
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				r, err := a.Rollback(ctx, core.RollbackRequest{Key: key, Version: version})
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, r.Current)
				}
				fmt.Fprintf(env.Stdout, "rolled back /ipns/%s to version %d: %s is current again as version %d, sequence %d\n",
					r.Name, r.From, r.Current.CID, r.Current.Version, r.Current.Seq)
				if r.Warning != "" {
					fmt.Fprintf(env.Stdout, "warning: %s\n", r.Warning)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "the key whose site to roll back (default: the node's own, \"self\")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the new current version as JSON")
	return cmd
}
