package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/node"
)

// errOffline is what network commands say without a daemon.
var errOffline = errors.New("this needs the running node: start 'island daemon' (or 'island serve') first")

// withNode runs f on the daemon's Core, for commands that only ask the
// running node (op names them in the error). Without a daemon it fails
// before opening the repo, which would create one (a new identity) just to
// say that no node runs.
func withNode(env *Env, op string, f func(*core.Core) error) error {
	if env.core == nil || !env.core.Online() {
		return fmt.Errorf("%s: %w", op, errOffline)
	}
	return f(env.core)
}

type idJSON struct {
	ID    string   `json:"id"`
	Addrs []string `json:"addrs"`
}

func newIDCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "id",
		Short: "Print the node's peer ID and dialable addresses (each ending in /p2p/<peer ID>)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withCore(cmd.Context(), env, g, func(cr *core.Core) error {
				out := idJSON{ID: cr.Repo.PeerID().String(), Addrs: []string{}}
				if cr.Online() {
					for _, a := range cr.Node.Addrs() {
						out.Addrs = append(out.Addrs, a.String())
					}
				}
				if asJSON {
					return printJSON(env.Stdout, out)
				}
				fmt.Fprintln(env.Stdout, out.ID)
				for _, a := range out.Addrs {
					fmt.Fprintln(env.Stdout, a)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func newPeersCmd(env *Env, _ *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "peers",
		Short: "List connected peers",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withNode(env, "peers", func(cr *core.Core) error {
				peers := cr.Node.Peers()
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

func newProvideCmd(env *Env, _ *globalOptions) *cobra.Command {
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
			return withNode(env, "provide stat", func(cr *core.Core) error {
				st, err := cr.Node.ProvideStat(cmd.Context())
				if err != nil {
					return fmt.Errorf("provide stat: %w", err)
				}
				if asJSON {
					return printJSON(env.Stdout, st)
				}
				fmt.Fprintf(env.Stdout, "keys reprovided: %d every %s\n", st.Keys, st.Interval)
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "DHT\tstatus\tprovided\tfailed\tqueued\tlast reprovide\tnext reprovide")
				for _, r := range []struct {
					name string
					s    node.DHTProvideStat
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

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format(time.DateTime)
}
