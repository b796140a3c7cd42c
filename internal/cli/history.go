package cli

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/history"
)

// versionJSON is one line of `history --json`.
type versionJSON struct {
	Version int       `json:"version"`
	CID     string    `json:"cid"`
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Prev    string    `json:"prev,omitempty"`
	Current bool      `json:"current"`
}

func toVersionJSON(e history.Entry, current bool) versionJSON {
	v := versionJSON{Version: e.Version, CID: e.CID.String(), Seq: e.Seq, Time: e.Time, Current: current}
	if e.Prev.Defined() {
		v.Prev = e.Prev.String()
	}
	return v
}

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
			return withCore(ctx, env, g, func(cr *core.Core) error {
				k, err := signingKey(cr.Repo, key)
				if err != nil {
					return err
				}
				name, err := ipnsName(k)
				if err != nil {
					return fmt.Errorf("history: %w", err)
				}
				entries, err := cr.History.History(ctx, name.String())
				if err != nil {
					return fmt.Errorf("history: %w", err)
				}
				if asJSON {
					out := make([]versionJSON, len(entries))
					for i, e := range entries {
						out[i] = toVersionJSON(e, i == len(entries)-1)
					}
					return printJSON(env.Stdout, out)
				}
				if len(entries) == 0 {
					fmt.Fprintf(env.Stdout, "nothing published under /ipns/%s yet: run 'island publish'\n", name)
					return nil
				}
				fmt.Fprintf(env.Stdout, "/ipns/%s\n", name)
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "VERSION\tCID\tSEQ\tPUBLISHED\tREPLACED")
				for i, e := range entries {
					mark := " "
					if i == len(entries)-1 {
						mark = "*"
					}
					prev := "-"
					if e.Prev.Defined() {
						prev = e.Prev.String()
					}
					fmt.Fprintf(tw, "%d%s\t%s\t%d\t%s\t%s\n", e.Version, mark, e.CID, e.Seq, when(e.Time), prev)
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
			return withCore(ctx, env, g, func(cr *core.Core) error {
				k, err := signingKey(cr.Repo, key)
				if err != nil {
					return err
				}
				if version == 0 {
					if err := checkSomethingBefore(ctx, cr, k); err != nil {
						return err
					}
				}
				e, err := cr.History.Rollback(ctx, k, version)
				warning, err := routingPutWarning(env, err, "rollback")
				if err != nil {
					return fmt.Errorf("rollback: %w", err)
				}
				if cr.Online() {
					if err := cr.Node.Provide(ctx, e.CID); err != nil {
						return fmt.Errorf("rollback: provide %s: %w", e.CID, err)
					}
				}
				if asJSON {
					return printJSON(env.Stdout, toVersionJSON(e, true))
				}
				from := version
				if from == 0 {
					from = e.Version - 2 // the one before the version just replaced
				}
				fmt.Fprintf(env.Stdout, "rolled back /ipns/%s to version %d: %s is current again as version %d, sequence %d\n",
					e.Name, from, e.CID, e.Version, e.Seq)
				if warning != "" {
					fmt.Fprintf(env.Stdout, "warning: %s\n", warning)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "the key whose site to roll back (default: the node's own, \"self\")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the new current version as JSON")
	return cmd
}

// checkSomethingBefore explains a rollback with no VERSION when there is no
// version before the current one.
func checkSomethingBefore(ctx context.Context, cr *core.Core, k crypto.PrivKey) error {
	name, err := ipnsName(k)
	if err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	cur, err := cr.History.Current(ctx, name.String())
	if err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	if cur.Version == 1 {
		return fmt.Errorf("rollback: /ipns/%s has only one version: nothing to roll back to", name)
	}
	return nil
}
