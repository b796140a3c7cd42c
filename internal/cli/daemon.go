package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/daemon"
	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/repo"
	"github.com/islandsite/island/internal/site"
)

// daemonOptions are the flags of `island daemon` (and `island serve`).
type daemonOptions struct {
	offline        bool
	gateway        string
	api            string
	apiAuth        bool
	listen         []string
	bootstrap      []string
	relays         []string
	relayService   string
	followInterval time.Duration
	pinning        string
	dnsResolver    string
	gatewayNoFetch bool
	storageMax     string
	pinningQuota   string
}

func (o *daemonOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.offline, "offline", false, "join no network: no listening, dialing, DHT or bitswap (DNSLink still asks DNS unless --dns-resolver none)")
	f.StringVar(&o.gateway, "gateway", "127.0.0.1:8080", "gateway listen address (port 0 picks one; \"\" runs none)")
	f.StringVar(&o.api, "api", "127.0.0.1:5080", "local API listen address (port 0 picks one); beyond loopback it needs --api-auth")
	f.BoolVar(&o.apiAuth, "api-auth", false, "require the bearer token in $REPO/api-token (created if missing) for every API request; always on beyond loopback")
	f.StringArrayVar(&o.listen, "listen", nil, "libp2p listen multiaddr, repeatable (default TCP, QUIC, WebTransport and WebRTC-direct on port 4001, all interfaces)")
	f.StringArrayVar(&o.bootstrap, "bootstrap", nil, "bootstrap peer multiaddr ending in /p2p/ID, repeatable, replaces the public Amino peers; \"none\" dials no one")
	f.StringArrayVar(&o.relays, "relay", nil, "relay multiaddr ending in /p2p/ID, repeatable: behind NAT, reserve slots on these relays only (default: relays found among connected and DHT peers)")
	f.StringVar(&o.relayService, "relay-service", string(node.RelayServiceAuto), "relay connections for peers behind NAT: auto (while AutoNAT finds this node public), on or off")
	f.StringVar(&o.pinning, "pinning", "", "also serve the Pinning Service API on this address (e.g. 0.0.0.0:5081) for friends on other machines; the token is in $REPO/pinning-token")
	f.StringVar(&o.pinningQuota, "pinning-quota", "", "the most the pinning token's pins may hold, e.g. 10GiB (default 4 GiB); a pin past it fails, telling the friend why")
	f.DurationVar(&o.followInterval, "follow-interval", 0, "how often followed names are checked (default 5m)")
	f.BoolVar(&o.gatewayNoFetch, "gateway-no-fetch", false, "the gateway serves only what the repo holds, never fetching from peers (Kubo's Gateway.NoFetch)")
	f.StringVar(&o.storageMax, "storage-max", "", "the repo's quota for this run, e.g. 20GB (default config.json's storageMax, set when the repo was created to half the free disk); past 90% of it unheld blocks are collected, and writes past it fail with \"repo full\"")
	f.StringVar(&o.dnsResolver, "dns-resolver", names.DNSSystem, "where DNSLink TXT records are looked up: system, none, a DNS-over-HTTPS URL (https://HOST/dns-query) or a DNS server HOST:PORT")
}

// config turns the flags into a daemon configuration.
func (o *daemonOptions) config(env *Env, g *globalOptions) (daemon.Config, error) {
	cfg := daemon.DefaultConfig()
	dir, err := repoDir(env, g)
	if err != nil {
		return cfg, err
	}
	cfg.Core.RepoPath = dir
	if o.pinningQuota != "" {
		if cfg.PinningQuota, err = repo.ParseSize(o.pinningQuota); err != nil {
			return cfg, usagef("--pinning-quota: %v", err)
		}
	}
	if o.storageMax != "" {
		if cfg.Core.StorageMax, err = repo.ParseSize(o.storageMax); err != nil {
			return cfg, usagef("--storage-max: %v", err)
		}
	}
	// The daemon's own IPFS_NS_MAP applies to what it resolves for itself
	// (the gateway); commands send theirs with each request.
	cfg.Core.Names.DNSLinkOverrides = env.lookup().NSMap
	if cfg.Core.Names.DNSResolver, err = names.NewDNSResolver(o.dnsResolver); err != nil {
		return cfg, usagef("--dns-resolver: %v", err)
	}
	nc := &cfg.Core.Node
	if len(o.listen) > 0 {
		for _, s := range o.listen {
			if _, err := ma.NewMultiaddr(s); err != nil {
				return cfg, usagef("--listen %q: %v", s, err)
			}
		}
		nc.ListenAddrs = o.listen
	}
	switch {
	case o.offline:
		cfg.Core.Mode = core.ModeOffline
	case len(o.bootstrap) == 1 && o.bootstrap[0] == "none":
		cfg.Core.Mode = core.ModeLAN
	case len(o.bootstrap) > 0:
		peers, err := node.ParsePeerAddrs(o.bootstrap)
		if err != nil {
			return cfg, usageError{err}
		}
		nc.Bootstrap = peers
		cfg.Core.Mode = core.ModeOnline
		if localOnly(peers) {
			cfg.Core.Mode = core.ModeLAN
		}
	default:
		nc.Bootstrap = node.DefaultBootstrapPeers()
		cfg.Core.Mode = core.ModeOnline
	}
	// Peers that all live on this machine (tests, a first try) can only find
	// each other through the LAN DHT if it keeps loopback addresses.
	if cfg.Core.Mode != core.ModeOffline && allLoopback(nc.ListenAddrs) {
		cfg.Core.Mode = core.ModeLAN
	}
	if len(o.relays) > 0 {
		relays, err := node.ParsePeerAddrs(o.relays)
		if err != nil {
			return cfg, usagef("--relay: %v", err)
		}
		nc.StaticRelays = relays
	}
	if o.relayService != "" {
		if nc.RelayService, err = node.ParseRelayService(o.relayService); err != nil {
			return cfg, usagef("--relay-service %q: want auto, on or off", o.relayService)
		}
	}
	cfg.Gateway.ListenAddr = o.gateway
	cfg.GatewayNoFetch = o.gatewayNoFetch
	if o.gateway != "" {
		if _, _, err := net.SplitHostPort(o.gateway); err != nil {
			return cfg, usagef("--gateway %q: want host:port, e.g. 127.0.0.1:8080", o.gateway)
		}
	}
	cfg.API.ListenAddr = o.api
	if _, _, err := net.SplitHostPort(o.api); err != nil {
		return cfg, usagef("--api %q: want host:port, e.g. 127.0.0.1:5080", o.api)
	}
	cfg.APIAuth = o.apiAuth
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

// localOnly says every bootstrap address is on this machine or a private
// network: the node then lives on a LAN, not on the public DHT.
func localOnly(peers []peer.AddrInfo) bool {
	for _, p := range peers {
		for _, a := range p.Addrs {
			if !manet.IsIPLoopback(a) && !manet.IsPrivateAddr(a) {
				return false
			}
		}
	}
	return true
}

func newDaemonCmd(env *Env, g *globalOptions) *cobra.Command {
	var o daemonOptions
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the node: DHT, bitswap, providing, the gateway and the local API",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config(env, g)
			if err != nil {
				return err
			}
			return runDaemon(cmd.Context(), env, cfg)
		},
	}
	o.register(cmd)
	return cmd
}

// runDaemon starts a daemon, prints where it answers and what it does, and
// serves until ctx ends (SIGINT/SIGTERM) or a part of it fails.
func runDaemon(ctx context.Context, env *Env, cfg daemon.Config) error {
	// Events come from the daemon's goroutines.
	out := &lockedWriter{w: env.Stdout}
	errOut := &lockedWriter{w: env.Stderr}
	pe := eventPrinter{env: env, out: out, errOut: errOut, folder: new(string)}
	cfg.Events = pe.print
	// Printed only once $REPO/api and $REPO/gateway exist: scripts and
	// tests wait for this line, then read them.
	cfg.Ready = func() { fmt.Fprintln(out, "Daemon is ready") }
	d, err := daemon.New(ctx, cfg)
	if err != nil {
		return err
	}
	printDaemon(out, d)
	return d.Run(ctx)
}

func printDaemon(w io.Writer, d *daemon.Daemon) {
	id, _ := d.Core().ID(context.Background())
	fmt.Fprintf(w, "peer ID: %s\n", id.ID)
	for _, a := range id.Addrs {
		fmt.Fprintf(w, "swarm listening on %s\n", a)
	}
	if id.Mode == core.ModeOffline {
		fmt.Fprintln(w, "offline: joining no network")
	}
	fmt.Fprintf(w, "API server listening on %s\n", d.APIURL())
	fmt.Fprintf(w, "status page: %s/\n", d.APIURL())
	fmt.Fprintf(w, "pinning service at %s (token in %s)\n", d.PinningURL(), filepath.Join(d.Core().Path(), daemon.PinningTokenFile))
	if u := d.GatewayURL(); u != "" {
		fmt.Fprintf(w, "gateway listening on %s (subdomains: %s)\n", u, strings.Replace(u, "127.0.0.1", "localhost", 1))
	}
}

// eventPrinter words what the daemon reports.
type eventPrinter struct {
	env         *Env
	out, errOut io.Writer
	// folder is the last folder check printed (serve --dir): a check is
	// printed at start and again only when what it finds changes.
	folder *string
}

// printFolder prints the check of a folder published as it is, when it
// differs from the one printed before.
func (p eventPrinter) printFolder(ev daemon.SitePublished) {
	if ev.Folder == nil {
		return
	}
	var b strings.Builder
	printFolderCheck(&b, ev.Folder)
	text := b.String()
	if !ev.First && text == *p.folder {
		return
	}
	prev := *p.folder
	*p.folder = text
	switch {
	case text != "":
		fmt.Fprint(p.errOut, text)
	case !ev.First && prev != "":
		fmt.Fprintln(p.out, "the links that broke under /ipfs/CID/ are fixed")
	}
}

func (p eventPrinter) print(ev daemon.Event) {
	switch ev := ev.(type) {
	case daemon.Joining:
		fmt.Fprintln(p.out, "joining the network…")
	case daemon.JoinTimedOut:
		fmt.Fprintf(p.out, "no peer answered within %s: publishing anyway; the record reaches the network when the daemon next republishes\n", ev.After)
	case daemon.SitePublished:
		v := ev.Published
		defer p.printFolder(ev)
		switch {
		case ev.First:
			if ev.Checking {
				v.Retrievable = core.Retrievability{Reason: "checking…"}
			}
			penv := *p.env
			penv.Stdout = p.out
			printPublished(&penv, v)
		case v.Unchanged:
			fmt.Fprintf(p.out, "%s unchanged: %s is still version %d\n", clock(), v.CID, v.Version)
		default:
			fmt.Fprintf(p.out, "%s published %s (version %d) in %s at /ipns/%s\n",
				clock(), v.CID, v.Version, ev.Took.Round(time.Millisecond), v.Name)
			if v.Warning != "" {
				fmt.Fprintf(p.out, "warning: %s\n", v.Warning)
			}
		}
	case daemon.SiteFailed:
		err := ev.Err
		if errors.As(err, new(*site.BuildError)) {
			err = describeBuildError(p.env, p.env.rel(ev.Content), "the published version stays as it was", err)
		}
		fmt.Fprintf(p.errOut, "island: %v\n", err)
		if ev.First {
			fmt.Fprintf(p.out, "nothing published yet: fix the problems above and save, %s is watched\n", p.env.rel(ev.Content))
		}
	case daemon.SiteChecked:
		fmt.Fprintf(p.out, "retrievable (version %d): %s\n", ev.Version, retrievableText(ev.Retrievable))
	case daemon.Watching:
		fmt.Fprintf(p.out, "watching %s for changes\n", p.env.rel(ev.Content))
	case daemon.WatchFailed:
		fmt.Fprintf(p.errOut, "island: %v\n", ev.Err)
	}
}

func clock() string { return time.Now().Format(time.TimeOnly) }

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
