package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/repo"
)

func newFollowCmd(env *Env, g *globalOptions) *cobra.Command {
	var maxSize string
	cmd := &cobra.Command{
		Use:   "follow NAME",
		Short: "Keep the newest version of someone's site pinned and their record alive",
		Long: `Follow NAME (/ipns/k51…, k51… or a DNSLink domain): the daemon checks it
every few minutes, fetches and pins each new version (keeping the last few),
provides it and re-puts the author's signed record so the name keeps
resolving while the author is offline. A version larger than --max-size
(default 1 GiB) is not kept; follow ls says so.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			req := core.FollowRequest{Name: args[0]}
			if maxSize != "" {
				n, err := repo.ParseSize(maxSize)
				if err != nil {
					return usagef("--max-size: %v", err)
				}
				req.MaxSize = n
			}
			return withAPI(ctx, env, g, func(a core.API) error {
				f, err := a.Follow(ctx, req)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "following %s\n", f.Follow.Name)
				env.notes(f.Notes)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&maxSize, "max-size", "", "the largest version kept, e.g. 5GiB (default 1 GiB, or what NAME was followed with)")
	cmd.AddCommand(newFollowLsCmd(env, g), newFollowRmCmd(env, g))
	return cmd
}

func newFollowLsCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List followed names: last version fetched, its sequence, last check and error, versions kept",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				fs, err := a.FollowLs(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, fs)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tLAST CID\tSEQ\tLAST CHECK\tKEPT\tERROR")
				for _, f := range fs {
					c, seq, errMsg, check := "-", "-", "-", "never"
					if f.LastCID != "" {
						c, seq = f.LastCID, fmt.Sprint(f.LastSeq)
					}
					if f.LastError != "" {
						errMsg = f.LastError
					}
					if f.LastCheck != nil {
						check = when(*f.LastCheck)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", f.Name, c, seq, check, len(f.Kept), errMsg)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				for _, f := range fs {
					if f.Warning != "" {
						fmt.Fprintf(env.Stderr, "warning: %s\n", f.Warning)
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the followed names as JSON")
	return cmd
}

func newFollowRmCmd(env *Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME",
		Short: "Stop following NAME; the daemon then unpins the versions it kept",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				u, err := a.Unfollow(ctx, core.FollowRequest{Name: args[0]})
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "unfollowed %s\n", u.Name)
				env.notes(u.Notes)
				return nil
			})
		},
	}
}
