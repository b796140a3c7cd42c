package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/repo"
)

// userHolder holds the pins the user makes by hand.
var userHolder = repo.Holder{Kind: repo.HolderUser}

func newPinCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pin",
		Short: "Keep DAGs from garbage collection: pin add, pin rm, pin ls",
	}
	cmd.AddCommand(newPinAddCmd(env, g), newPinRmCmd(env, g), newPinLsCmd(env, g))
	cmd.AddCommand(newPinRemoteCmd(env, g))
	return cmd
}

func newPinAddCmd(env *Env, g *globalOptions) *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "add PATH...",
		Short: "Pin the DAG at each PATH (the whole DAG must be in the repo)",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withCore(ctx, env, g, func(cr *core.Core) error {
				r := cr.Repo
				unlock := r.PinLock(ctx)
				defer unlock.Unlock(ctx)
				for _, a := range args {
					c, err := pathCid(ctx, cr, a)
					if err != nil {
						return fmt.Errorf("pin add: %w", err)
					}
					if cr.Online() && recursive {
						// Fetch the whole DAG in parallel before Pin walks it
						// block by block.
						if err := fetchDAG(ctx, env, cr, c); err != nil {
							return fmt.Errorf("pin add: %s: %w", a, err)
						}
					}
					if _, err := cr.DAG().Get(ctx, c); err != nil {
						return fmt.Errorf("pin add: %s: %w", a, err)
					}
					mode := repo.Direct
					if recursive {
						// Pin does not walk the DAG: offline this is where a
						// missing block shows.
						if err := r.CheckComplete(ctx, c); err != nil {
							return fmt.Errorf("pin add: %s: %w", a, err)
						}
						mode = repo.Recursive
					}
					if err := r.Pin(ctx, c, userHolder, mode); err != nil {
						return fmt.Errorf("pin add: %s: %w", a, err)
					}
					if cr.Online() {
						if err := cr.Node.Provide(ctx, c); err != nil {
							return fmt.Errorf("pin add: provide %s: %w", c, err)
						}
					}
					how := "recursively"
					if !recursive {
						how = "directly"
					}
					fmt.Fprintf(env.Stdout, "pinned %s %s\n", c, how)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&recursive, "recursive", true, "pin the whole DAG; --recursive=false pins only the block itself")
	return cmd
}

func newPinRmCmd(env *Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rm PATH...",
		Short: "Remove the pin (recursive or direct) on each PATH",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withCore(ctx, env, g, func(cr *core.Core) error {
				r := cr.Repo
				for _, a := range args {
					c, err := pathCid(ctx, cr, a)
					if err != nil {
						return fmt.Errorf("pin rm: %w", err)
					}
					if err := r.Unpin(ctx, c, userHolder); err != nil {
						var nh *repo.NotHeldError
						if errors.As(err, &nh) {
							return fmt.Errorf("pin rm: %v; see island pin ls", nh)
						}
						return fmt.Errorf("pin rm: %s: %w", a, err)
					}
					fmt.Fprintf(env.Stdout, "unpinned %s\n", c)
				}
				return nil
			})
		},
	}
}

type pinJSON struct {
	Cid  string `json:"cid"`
	Type string `json:"type"`
	// Name lists the pin's holders ("site:k51…,user").
	Name string `json:"name,omitempty"`
}

func newPinLsCmd(env *Env, g *globalOptions) *cobra.Command {
	var (
		typ    string
		quiet  bool
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List pins: CID and type (recursive or direct)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains([]string{"all", "recursive", "direct"}, typ) {
				return usagef("--type %q: want all, recursive or direct", typ)
			}
			ctx := cmd.Context()
			return withRepo(ctx, env, g, func(r *repo.Repo) error {
				pins, err := r.Pins(ctx)
				if err != nil {
					return fmt.Errorf("pin ls: %w", err)
				}
				var out []pinJSON
				for _, p := range pins {
					if typ != "all" && typ != string(p.Mode) {
						continue
					}
					holders := make([]string, len(p.Holds))
					for i, h := range p.Holds {
						holders[i] = h.Holder.String()
					}
					out = append(out, pinJSON{Cid: p.CID.String(), Type: string(p.Mode), Name: strings.Join(holders, ",")})
				}
				slices.SortFunc(out, func(a, b pinJSON) int {
					return strings.Compare(a.Type+a.Cid, b.Type+b.Cid)
				})
				switch {
				case asJSON:
					if out == nil {
						out = []pinJSON{}
					}
					return printJSON(env.Stdout, out)
				case quiet:
					for _, p := range out {
						fmt.Fprintln(env.Stdout, p.Cid)
					}
				default:
					for _, p := range out {
						fmt.Fprintf(env.Stdout, "%s %s\n", p.Cid, p.Type)
					}
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&typ, "type", "all", "which pins: all, recursive or direct")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the CIDs")
	f.BoolVar(&asJSON, "json", false, "print the pins as JSON")
	return cmd
}
