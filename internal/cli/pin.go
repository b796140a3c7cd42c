package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
)

func newPinCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pin",
		Short: "Keep DAGs from garbage collection: pin add, pin rm, pin ls",
		Long: `Pins keep DAGs from garbage collection. Every pin records who holds it: you
(add, pin add, dag import), a published site version, a followed site, or a
pinning-service request. 'pin rm' removes only your hold: what a site, a
follow or a friend's request holds stays until they let go of it.`,
	}
	cmd.AddCommand(newPinAddCmd(env, g), newPinRmCmd(env, g), newPinLsCmd(env, g))
	cmd.AddCommand(newPinRemoteCmd(env, g))
	return cmd
}

func newPinAddCmd(env *Env, g *globalOptions) *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "add PATH...",
		Short: "Pin the DAG at each PATH for you (with a daemon, fetching it first)",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				for _, p := range args {
					req := core.PinAddRequest{Path: p, Lookup: env.lookup(), Recursive: recursive}
					clear := withFetchBar(env, func(f func(core.FetchProgress)) { req.Progress = f })
					res, err := a.PinAdd(ctx, req)
					clear()
					if err != nil {
						return err
					}
					mode := "recursively"
					if res.Type == "direct" {
						mode = "directly"
					}
					fmt.Fprintf(env.Stdout, "pinned %s %s\n", res.CID, mode)
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
		Short: "Remove your pin on each PATH; pins held by a site, a follow or a pinning request stay",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				for _, p := range args {
					res, err := a.PinRm(ctx, core.PathRequest{Path: p, Lookup: env.lookup()})
					if err != nil {
						return err
					}
					if res.Removed {
						fmt.Fprintf(env.Stdout, "unpinned %s\n", res.CID)
					} else {
						fmt.Fprintf(env.Stdout, "unpinned %s for you; still pinned by %s\n", res.CID, holderList(res.HeldBy))
					}
				}
				return nil
			})
		},
	}
}

// holderList writes holders as pin ls shows them: "site:k51…,follow:x.org".
func holderList(hs []core.Holder) string {
	s := make([]string, len(hs))
	for i, h := range hs {
		s[i] = h.Kind
		if h.ID != "" {
			s[i] += ":" + h.ID
		}
	}
	return strings.Join(s, ",")
}

func newPinLsCmd(env *Env, g *globalOptions) *cobra.Command {
	var (
		typ    string
		quiet  bool
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List pins: CID, type (recursive or direct) and who holds each",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains([]string{"all", "recursive", "direct"}, typ) {
				return usagef("--type %q: want all, recursive or direct", typ)
			}
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				pins, err := a.PinLs(ctx, core.PinLsRequest{Type: typ})
				if err != nil {
					return err
				}
				switch {
				case asJSON:
					return printJSON(env.Stdout, pins)
				case quiet:
					for _, p := range pins {
						fmt.Fprintln(env.Stdout, p.CID)
					}
				default:
					for _, p := range pins {
						fmt.Fprintf(env.Stdout, "%s %s %s\n", p.CID, p.Type, holderList(p.Holders))
					}
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&typ, "type", "all", "which pins: all, recursive or direct")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the CIDs")
	f.BoolVar(&asJSON, "json", false, "print the pins and their holders as JSON")
	return cmd
}
