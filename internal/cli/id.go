package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
)

// idJSON is what `id --json` prints (docs/interface.md: id, addrs and
// browser_addrs; and how peers reach the node, when one runs).
type idJSON struct {
	ID           string             `json:"id"`
	Addrs        []string           `json:"addrs"`
	BrowserAddrs []string           `json:"browser_addrs"`
	Reachability *core.Reachability `json:"reachability,omitempty"`
}

func newIDCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "id",
		Short: "Print the node's peer ID and dialable addresses (each ending in /p2p/<peer ID>)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				id, err := a.ID(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, idJSON{ID: id.ID, Addrs: id.Addrs, BrowserAddrs: id.BrowserAddrs, Reachability: id.Reachability})
				}
				fmt.Fprintln(env.Stdout, id.ID)
				for _, a := range id.Addrs {
					fmt.Fprintln(env.Stdout, a)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func newPeersCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "peers",
		Short: "List connected peers",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withDaemon(ctx, env, g, "peers", func(a core.API) error {
				peers, err := a.Peers(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, peers)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				for _, p := range peers {
					lat := "-"
					if p.Latency > 0 {
						lat = p.Latency.Round(time.Microsecond).String()
					}
					fmt.Fprintf(tw, "%s/p2p/%s\t%s\t%s\t%s\n", p.Addr, p.ID, p.Direction, lat, p.Agent)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func newProvideCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provide",
		Short: "What the node announces on the DHT",
	}
	var asJSON bool
	stat := &cobra.Command{
		Use:   "stat",
		Short: "Provided keys, queue, last and next reprovide, per DHT (LAN and WAN)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withDaemon(ctx, env, g, "provide stat", func(a core.API) error {
				st, err := a.ProvideStat(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, st)
				}
				fmt.Fprintf(env.Stdout, "keys reprovided: %d every %s\n", st.Keys, st.Interval)
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "DHT\tstatus\tprovided\tfailed\tqueued\tlast reprovide\tnext reprovide")
				for _, r := range []struct {
					name string
					s    core.DHTProvideStat
				}{{"LAN", st.LAN}, {"WAN", st.WAN}} {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", r.name, r.s.Status, r.s.Provided, r.s.Failed, r.s.Queued, when(r.s.LastReprovide), when(r.s.NextReprovide))
				}
				return tw.Flush()
			})
		},
	}
	stat.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.AddCommand(stat)
	return cmd
}

func newStatusCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "The node at a glance: identity, mode, site, peers, providing, follows",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				st, err := a.Status(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, st)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintf(tw, "peer ID:\t%s\n", st.PeerID)
				fmt.Fprintf(tw, "mode:\t%s\n", st.Mode)
				if st.Site != nil {
					fmt.Fprintf(tw, "site:\t/ipns/%s → %s\n", st.Site.Name, st.Site.CID)
				} else {
					fmt.Fprintf(tw, "site:\tnothing published yet\n")
				}
				if r := st.Reachability; r != nil {
					fmt.Fprintf(tw, "reachability:\t%s\n", reachabilityText(r))
					for _, a := range r.RelayAddrs {
						fmt.Fprintf(tw, "  relay address\t%s\n", a)
					}
					if s := r.LastServed; s != nil {
						fmt.Fprintf(tw, "last served:\t%s, %s, %s ago\n", s.Peer, s.Path, time.Since(s.At).Round(time.Second))
					}
				}
				fmt.Fprintf(tw, "peers:\t%d\n", st.Peers)
				if st.Provide != nil {
					fmt.Fprintf(tw, "provided:\t%d, %d queued, last reprovide %s, next %s\n", st.Provide.Provided, st.Provide.Queued, when(st.Provide.LastReprovide), when(st.Provide.NextReprovide))
				}
				fmt.Fprintf(tw, "following:\t%d\n", len(st.Follows))
				for _, f := range st.Follows {
					c := f.LastCID
					if c == "" {
						c = "not fetched yet"
					}
					fmt.Fprintf(tw, "  %s\t%s\n", f.Name, c)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// reachabilityText says in a few words how peers reach the node.
func reachabilityText(r *core.Reachability) string {
	var s string
	switch r.Status {
	case "public":
		s = "public: peers dial this node directly"
	case "private":
		s = "private (behind NAT): peers reach this node through relays, then directly once hole punching succeeds"
		if !r.HolePunching {
			s = "private (behind NAT): peers reach this node through relays; hole punching waits for a peer to observe its public address"
		}
		if len(r.RelayAddrs) == 0 {
			s = "private (behind NAT), no relay yet: peers cannot dial this node"
		}
	default:
		s = "unknown (not probed yet)"
	}
	if r.RelayService {
		s += "; relaying for others"
	}
	return s
}
