package node

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/namespace"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/dual"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Datastore prefixes of the node's own state. "/node" is used by no other
// island package, and nothing the libraries write starts with it, so the
// go-datastore rule that a prefix already present is not added twice can
// never fold two namespaces together.
var (
	dhtLANKey      = datastore.NewKey("/node/dht/lan")
	dhtWANKey      = datastore.NewKey("/node/dht/wan")
	providerKey    = datastore.NewKey("/node/provider")
	keystoreSubKey = datastore.NewKey("keystore")
)

// bootstrapTimeout bounds each bootstrap dial; a dead bootstrap peer must not
// hold up the others.
const bootstrapTimeout = 30 * time.Second

// newDHT builds the dual DHT: the WAN DHT speaks the Amino protocol
// (/ipfs/kad/1.0.0) and switches between client and server as AutoNAT finds
// the node reachable or not; the LAN DHT (/ipfs/lan/kad/1.0.0) always
// serves, as dual.New arranges, so peers on the same network find each
// other whatever the Internet says.
func newDHT(h host.Host, ds datastore.Batching, cfg *Config) (*dual.DHT, error) {
	lan := []dht.Option{dht.Datastore(namespace.Wrap(ds, dhtLANKey))}
	if cfg.LoopbackOnLAN {
		// dual.New filters loopback addresses out of the LAN DHT; a nil
		// filter keeps every address (Kubo's LoopbackAddressesOnLanDHT).
		lan = append(lan, dht.AddressFilter(nil))
	}
	mode := dht.ModeAuto
	if cfg.DHTServer {
		mode = dht.ModeServer
	}
	common := []dht.Option{
		dht.Mode(mode),
		// Kubo's value: lookups finish in fewer round trips than with
		// the default of 3... 10 parallel requests per hop.
		dht.Concurrency(10),
	}
	wan := []dht.Option{
		dht.Datastore(namespace.Wrap(ds, dhtWANKey)),
		dht.BootstrapPeers(cfg.Bootstrap...),
	}
	if cfg.KeptRoutingTable {
		common = append(common, dht.DisableAutoRefresh())
		// The diversity filter admits only connected peers (it groups
		// them by the connection's address); the caller chose the peers
		// of a kept table, and none of them is connected yet.
		wan = append(wan, dht.RoutingTablePeerDiversityFilter(nil))
	}
	d, err := dual.New(h,
		dual.DHTOption(common...),
		dual.WanDHTOption(wan...),
		dual.LanDHTOption(lan...),
	)
	if err != nil {
		return nil, fmt.Errorf("node: dual DHT: %w", err)
	}
	return d, nil
}

// connectBootstrap dials every bootstrap peer in parallel and then refreshes
// both routing tables, so a node that knows one peer learns that peer's
// neighbours at once. A peer that cannot be reached is logged, not fatal: the
// network may be down now and up later, and the WAN DHT retries bootstrap
// peers whenever its table runs empty.
func (n *Node) connectBootstrap(ctx context.Context) {
	n.dialAll(ctx, n.cfg.Bootstrap, bootstrapTimeout, slog.LevelWarn, "bootstrap peer unreachable")
	if err := n.dht.Bootstrap(ctx); err != nil {
		n.log.Warn("DHT bootstrap", "err", err)
	}
}

// peerDialTimeout bounds each dial of ConnectAll.
const peerDialTimeout = 10 * time.Second

// ConnectAll dials the peers addrs name (each ending in /p2p/ID), all at
// once, and returns when every dial has ended. It is best effort, for peers
// that are likely to have or want data (a pin request's origins, a pinning
// service's delegates): a failure is only logged, at debug level, since the
// DHT can still find them.
func (n *Node) ConnectAll(ctx context.Context, addrs []ma.Multiaddr) {
	infos, err := peer.AddrInfosFromP2pAddrs(addrs...)
	if err != nil {
		n.log.Debug("peer address without /p2p/", "err", err)
		return
	}
	n.dialAll(ctx, infos, peerDialTimeout, slog.LevelDebug, "peer unreachable")
}

// dialAll dials every peer but this one in parallel, each for at most
// timeout, logging failures at level.
func (n *Node) dialAll(ctx context.Context, peers []peer.AddrInfo, timeout time.Duration, level slog.Level, msg string) {
	var wg sync.WaitGroup
	for _, pi := range peers {
		if pi.ID == n.host.ID() {
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(allowLimited(ctx), timeout)
			defer cancel()
			if err := n.host.Connect(ctx, pi); err != nil {
				n.log.Log(ctx, level, msg, "peer", pi.ID, "addrs", pi.Addrs, "err", err)
			}
		})
	}
	wg.Wait()
}

// connected reports whether the node has a live connection to p.
func (n *Node) connected(p peer.ID) bool {
	return n.host.Network().Connectedness(p) == network.Connected
}
