package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/api"
	"github.com/islandsite/island/internal/daemon"
	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/repo"
	"github.com/islandsite/island/internal/site"
)

// daemonOptions are the flags of `island daemon` (and `island serve`).
type daemonOptions struct {
	offline        bool
	gateway        string
	api            string
	listen         []string
	bootstrap      []string
	followInterval time.Duration
	pinning        string
}

func (o *daemonOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.offline, "offline", false, "join no network: no listening, dialing, DHT or bitswap")
	f.StringVar(&o.gateway, "gateway", "127.0.0.1:8080", "gateway listen address (port 0 picks one; \"\" runs none)")
	f.StringVar(&o.api, "api", "127.0.0.1:5080", "local API listen address, loopback only (port 0 picks one)")
	f.StringArrayVar(&o.listen, "listen", nil, "libp2p listen multiaddr, repeatable (default TCP and QUIC on port 4001, all interfaces)")
	f.StringArrayVar(&o.bootstrap, "bootstrap", nil, "bootstrap peer multiaddr ending in /p2p/ID, repeatable, replaces the public Amino peers; \"none\" dials no one")
	f.StringVar(&o.pinning, "pinning", "", "also serve the Pinning Service API on this address (e.g. 0.0.0.0:5081) for friends on other machines; the token is in $REPO/pinning-token")
	f.DurationVar(&o.followInterval, "follow-interval", 0, "how often followed names are checked (default 5m)")
}

// config turns the flags into a daemon configuration.
func (o *daemonOptions) config(env *Env) (daemon.Config, error) {
	cfg := daemon.DefaultConfig()
	cfg.Core.Names.DNSLinkOverrides = env.nsMap()
	nc := &cfg.Core.Node
	nc.Offline = o.offline
	if len(o.listen) > 0 {
		for _, s := range o.listen {
			if _, err := ma.NewMultiaddr(s); err != nil {
				return cfg, usagef("--listen %q: %v", s, err)
			}
		}
		nc.ListenAddrs = o.listen
	}
	switch {
	case len(o.bootstrap) == 1 && o.bootstrap[0] == "none":
		nc.Bootstrap = nil
	case len(o.bootstrap) > 0:
		peers, err := node.ParseBootstrap(o.bootstrap)
		if err != nil {
			return cfg, usageError{err}
		}
		nc.Bootstrap = peers
	case !o.offline:
		nc.Bootstrap = node.DefaultBootstrapPeers()
	}
	// Peers that all live on this machine (tests, a first try) can only find
	// each other through the LAN DHT if it keeps loopback addresses.
	nc.LoopbackOnLAN = allLoopback(nc.ListenAddrs) || bootstrapLoopback(nc.Bootstrap)
	cfg.Gateway.ListenAddr = o.gateway
	if o.gateway != "" {
		if _, _, err := net.SplitHostPort(o.gateway); err != nil {
			return cfg, usagef("--gateway %q: want host:port, e.g. 127.0.0.1:8080", o.gateway)
		}
	}
	cfg.API.ListenAddr = o.api
	if _, _, err := net.SplitHostPort(o.api); err != nil {
		return cfg, usagef("--api %q: want host:port, e.g. 127.0.0.1:5080", o.api)
	}
	if o.pinning != "" {
		if _, _, err := net.SplitHostPort(o.pinning); err != nil {
			return cfg, usagef("--pinning %q: want host:port, e.g. 0.0.0.0:5081", o.pinning)
		}
		cfg.PinningAddr = o.pinning
	}
	if o.followInterval > 0 {
		cfg.Follow.Interval = o.followInterval
	}
	cfg.StyleSheet = site.StyleSheet()
	return cfg, nil
}

func allLoopback(addrs []string) bool {
	if len(addrs) == 0 {
		return false
	}
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil || !manet.IsIPLoopback(a) {
			return false
		}
	}
	return true
}

func bootstrapLoopback(peers []peer.AddrInfo) bool {
	for _, p := range peers {
		for _, a := range p.Addrs {
			if manet.IsIPLoopback(a) {
				return true
			}
		}
	}
	return false
}

func newDaemonCmd(env *Env, g *globalOptions) *cobra.Command {
	var o daemonOptions
	cmd := &cobra.Command{
		Use:         "daemon",
		Short:       "Run the node: DHT, bitswap, providing, the gateway and the local API",
		Annotations: local(),
		Args:        noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config(env)
			if err != nil {
				return err
			}
			return runDaemon(cmd, env, g, cfg, nil)
		},
	}
	o.register(cmd)
	return cmd
}

// runDaemon opens the repo, starts a daemon, prints where it answers, calls
// ready (if any) and serves until the command's context ends (SIGINT/SIGTERM).
func runDaemon(cmd *cobra.Command, env *Env, g *globalOptions, cfg daemon.Config, ready func(*daemon.Daemon) error) (err error) {
	ctx := cmd.Context()
	r, err := openRepo(ctx, env, g)
	if err != nil {
		return err
	}
	defer closeInto(&err, r)
	var d *daemon.Daemon
	cfg.API.Run = func(ctx context.Context, req api.RunRequest, stdout, stderr io.Writer) int {
		// d is set before Run starts serving the API.
		return DaemonRunner(d)(ctx, req, stdout, stderr)
	}
	// Printed only once $REPO/api and $REPO/gateway exist: scripts and
	// tests wait for this line, then read them.
	cfg.Ready = func() { fmt.Fprintln(env.Stdout, "Daemon is ready") }
	if d, err = daemon.New(ctx, r, cfg); err != nil {
		return err
	}
	printDaemon(env, r, d)
	if ready != nil {
		if err := ready(d); err != nil {
			d.Close()
			return err
		}
	}
	return d.Run(ctx)
}

func printDaemon(env *Env, r *repo.Repo, d *daemon.Daemon) {
	fmt.Fprintf(env.Stdout, "peer ID: %s\n", r.PeerID())
	if n := d.Core().Node; n != nil {
		for _, a := range n.Addrs() {
			fmt.Fprintf(env.Stdout, "swarm listening on %s\n", a)
		}
	}
	fmt.Fprintf(env.Stdout, "API server listening on %s\n", d.APIURL())
	fmt.Fprintf(env.Stdout, "pinning service at %s (token in %s)\n", d.PinningURL(), filepath.Join(r.Path(), daemon.TokenFile))
	if u := d.GatewayURL(); u != "" {
		fmt.Fprintf(env.Stdout, "gateway listening on %s (subdomains: %s)\n", u, strings.Replace(u, "127.0.0.1", "localhost", 1))
	}
}
