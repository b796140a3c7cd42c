package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/follow"
)

func newFollowCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "follow NAME",
		Short: "Keep the newest version of someone's site pinned and their record alive",
		Long: `Follow NAME (/ipns/k51…, k51… or a DNSLink domain): the daemon checks it
every few minutes, fetches and pins each new version (keeping the last few),
provides it and re-puts the author's signed record so the name keeps
resolving while the author is offline.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := follow.FollowName(args[0]); err != nil {
				return usageError{fmt.Errorf("follow: %w", err)}
			}
			ctx := cmd.Context()
			return withCore(ctx, env, g, func(cr *core.Core) error {
				// Follow wakes a running follower, so the first fetch starts now.
				f, err := cr.Follows.Follow(ctx, args[0])
				if err != nil {
					return fmt.Errorf("follow: %w", err)
				}
				fmt.Fprintf(env.Stdout, "following %s\n", f.Name)
				if !cr.Online() {
					fmt.Fprintf(env.Stderr, "island: no node is running: 'island daemon' fetches %s when it starts\n", f.Name)
				}
				return nil
			})
		},
	}
	cmd.AddCommand(newFollowLsCmd(env, g), newFollowRmCmd(env, g))
	return cmd
}

// followJSON is one followed name as `follow ls --json` prints it.
type followJSON struct {
	Name       string     `json:"name"`
	Added      time.Time  `json:"added"`
	LastCID    string     `json:"lastCid,omitempty"`
	LastSeq    uint64     `json:"lastSeq,omitempty"`
	LastCheck  *time.Time `json:"lastCheck,omitempty"`
	LastChange *time.Time `json:"lastChange,omitempty"`
	LastError  string     `json:"lastError,omitempty"`
	Kept       []string   `json:"kept"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toFollowJSON(f follow.Entry) followJSON {
	out := followJSON{Name: f.Name, Added: f.Added, LastSeq: f.LastSeq, LastError: f.LastError,
		LastCheck: optTime(f.LastCheck), LastChange: optTime(f.LastChange), Kept: []string{}}
	if f.LastCID.Defined() {
		out.LastCID = f.LastCID.String()
	}
	for _, c := range f.Kept {
		out.Kept = append(out.Kept, c.String())
	}
	return out
}

func newFollowLsCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List followed names: last version fetched, its sequence, last check and error, versions kept",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withCore(ctx, env, g, func(cr *core.Core) error {
				fs, err := cr.Follows.List(ctx)
				if err != nil {
					return fmt.Errorf("follow ls: %w", err)
				}
				if asJSON {
					out := make([]followJSON, 0, len(fs))
					for _, f := range fs {
						out = append(out, toFollowJSON(f))
					}
					return printJSON(env.Stdout, out)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tLAST CID\tSEQ\tLAST CHECK\tKEPT\tERROR")
				for _, f := range fs {
					c, seq, errMsg := "-", "-", "-"
					if f.LastCID.Defined() {
						c, seq = f.LastCID.String(), fmt.Sprint(f.LastSeq)
					}
					if f.LastError != "" {
						errMsg = f.LastError
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", f.Name, c, seq, when(f.LastCheck), len(f.Kept), errMsg)
				}
				return tw.Flush()
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
			canon, err := follow.FollowName(args[0])
			if err != nil {
				return usageError{fmt.Errorf("follow rm: %w", err)}
			}
			ctx := cmd.Context()
			return withCore(ctx, env, g, func(cr *core.Core) error {
				fs, err := cr.Follows.List(ctx)
				if err != nil {
					return fmt.Errorf("follow rm: %w", err)
				}
				kept := 0
				for _, f := range fs {
					if f.Name == canon {
						kept = len(f.Kept)
					}
				}
				err = cr.Follows.Unfollow(ctx, canon)
				if errors.Is(err, follow.ErrNotFollowed) {
					return fmt.Errorf("follow rm: %w (see 'island follow ls')", err)
				}
				if err != nil {
					return fmt.Errorf("follow rm: %w", err)
				}
				fmt.Fprintf(env.Stdout, "unfollowed %s\n", canon)
				if kept > 0 && !cr.Online() {
					fmt.Fprintf(env.Stderr, "island: no node is running: the %d version(s) kept for %s stay until 'island daemon' releases them\n", kept, canon)
				}
				return nil
			})
		},
	}
}
