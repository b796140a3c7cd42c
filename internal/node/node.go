package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ipfs/boxo/bitswap"
	"github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p-kad-dht/dual"
	"github.com/libp2p/go-libp2p-kad-dht/provider/buffered"
	ddhtprovider "github.com/libp2p/go-libp2p-kad-dht/provider/dual"
	"github.com/libp2p/go-libp2p-kad-dht/provider/keystore"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	libp2phttp "github.com/libp2p/go-libp2p/p2p/http"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
)

// Node is a running island node. Its methods are safe for concurrent use.
type Node struct {
	cfg Config
	log *slog.Logger

	// ctx lives until Close; background work runs under bg.
	ctx    context.Context
	cancel context.CancelFunc
	bgMu   sync.Mutex
	bgDone bool
	bg     errgroup.Group

	host       host.Host
	dht        *dual.DHT
	keys       *keystore.ResettableKeystore
	prov       providers
	bswap      *bitswap.Bitswap
	eager      *eagerExchange // bitswap, with eager provider discovery
	bserv      blockservice.BlockService
	dag        ipld.DAGService
	metrics    prometheus.Collector // nil without Registerer
	watches    fetchWatches
	carsServed atomic.Int64 // CARs the trustless gateway started to send
	// wellKnown remembers peers' /.well-known/libp2p/protocols.
	wellKnown *lru.Cache[peer.ID, libp2phttp.PeerMeta]
	traffic   *traffic

	relaySrc     relaySource
	holePunches  holePunches
	relayService *relayv2.Relay // nil unless RelayServiceOn
	served       atomic.Pointer[ServedPeer]

	closeOnce sync.Once
	closeErr  error
}

// New builds and starts a node: host, DHT, bitswap (before any dial), the
// provider, block and DAG services; then, in the background, it dials the
// bootstrap peers and syncs the provider's keystore with ProvideRoots. If a
// step fails, everything built so far is closed again.
func New(ctx context.Context, cfg Config) (_ *Node, err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	routeLibraryLogs(cfg.Logger.Handler(), cfg.LibraryLogLevel)

	n := &Node{cfg: cfg, log: cfg.Logger.With("system", "node")}
	n.wellKnown, _ = lru.New[peer.ID, libp2phttp.PeerMeta](wellKnownPeers) // errs only for a size < 1
	n.ctx, n.cancel = context.WithCancel(context.Background())
	var undo []func() error
	defer func() {
		if err == nil {
			return
		}
		n.cancel()
		for i := len(undo) - 1; i >= 0; i-- {
			if uerr := undo[i](); uerr != nil {
				n.log.Warn("undo a half-built node", "err", uerr)
			}
		}
	}()
	// The datastore is the caller's: nothing the node builds may close it.
	ds := keepOpen{cfg.Datastore}

	// A host given by the caller (the simulator's in-memory network) keeps
	// its own transports, so its traffic is not counted here.
	n.traffic = &traffic{}
	if n.host = cfg.Host; n.host == nil {
		if n.host, err = newHost(&cfg, n.traffic, n.log, natOptions(&cfg, n.relaySrc.peers, &n.holePunches)); err != nil {
			return nil, err
		}
	}
	undo = append(undo, n.host.Close)
	n.relaySrc.host.Store(&n.host)
	if cfg.RelayService == RelayServiceOn {
		if n.relayService, err = startRelayService(n.host, cfg.Registerer); err != nil {
			return nil, err
		}
		undo = append(undo, n.relayService.Close)
	}
	if n.keys, err = newKeystore(ds); err != nil {
		return nil, err
	}
	undo = append(undo, n.keys.Close)

	if n.dht, err = newDHT(n.host, ds, &cfg); err != nil {
		return nil, err
	}
	undo = append(undo, n.dht.Close)
	n.relaySrc.dht.Store(n.dht)
	bsn := newRelayAware(bsnet.NewFromIpfsHost(newLimitedHost(n.host)), n.host, n.log, &n.holePunches, cfg.HolePunchWait,
		func(s ServedPeer) { n.served.Store(&s) })
	n.bswap = newBitswap(n.ctx, bsn, n.dht, cfg.Blockstore, &n.watches)
	undo = append(undo, n.bswap.Close)
	n.eager = &eagerExchange{Bitswap: n.bswap, n: n}
	n.prov.start = func() (*buffered.SweepingProvider, *ddhtprovider.SweepingProvider, error) {
		return newProvider(n.dht, n.keys, ds, cfg.ReprovideInterval)
	}
	if !cfg.KeptRoutingTable {
		if _, _, err = n.prov.get(); err != nil {
			return nil, err
		}
	}
	undo = append(undo, n.prov.close)
	n.bserv = blockservice.New(cfg.Blockstore, n.eager)
	n.dag = merkledag.NewDAGService(n.bserv)

	if cfg.Registerer != nil {
		c := collector{n}
		if err = cfg.Registerer.Register(c); err != nil {
			return nil, fmt.Errorf("node: register metrics: %w", err)
		}
		n.metrics = c
	}

	if !cfg.NoTrustless {
		if err = n.serveTrustless(); err != nil {
			return nil, err
		}
	}
	if !cfg.KeptRoutingTable {
		n.goBG(func() error {
			n.connectBootstrap(n.ctx)
			return nil
		})
	}
	if cfg.ProvideRoots != nil {
		n.goBG(func() error { return n.keystoreLoop(n.ctx) })
	}
	n.log.Info("node started", "peer", n.host.ID(), "addrs", n.host.Addrs())
	return n, nil
}

// goBG runs f in the background unless the node is closing, and says which.
func (n *Node) goBG(f func() error) bool {
	n.bgMu.Lock()
	defer n.bgMu.Unlock()
	if n.bgDone {
		return false
	}
	n.bg.Go(f)
	return true
}

// Close stops the node and waits for all its goroutines. It closes what New
// built, in reverse order, and leaves the Datastore and Blockstore open.
// Calling it again returns the first call's result.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.bgMu.Lock()
		n.bgDone = true
		n.bgMu.Unlock()
		n.cancel()
		errs := []error{n.bg.Wait()}
		if n.metrics != nil {
			n.cfg.Registerer.Unregister(n.metrics)
		}
		// The provider uses the keystore and the DHT; bitswap (closed with
		// the block service) uses the DHT and the host.
		errs = append(errs, n.prov.close(), n.keys.Close(), n.bserv.Close(), n.dht.Close())
		if n.relayService != nil {
			errs = append(errs, n.relayService.Close())
		}
		errs = append(errs, n.host.Close())
		if err := errors.Join(errs...); err != nil {
			n.closeErr = fmt.Errorf("node: close: %w", err)
		}
	})
	return n.closeErr
}

// ID is the node's peer ID.
func (n *Node) ID() peer.ID { return n.host.ID() }

// Host is the libp2p host.
func (n *Node) Host() host.Host { return n.host }

// Routing is the dual DHT (LAN and WAN).
func (n *Node) Routing() routing.Routing { return n.dht }

// DHT is the dual DHT itself.
func (n *Node) DHT() *dual.DHT { return n.dht }

// BlockService reads blocks from the blockstore and, when they are missing,
// from peers over bitswap; blocks written through it are announced to peers
// that want them.
func (n *Node) BlockService() blockservice.BlockService { return n.bserv }

// DAG is the DAG service over BlockService.
func (n *Node) DAG() ipld.DAGService { return n.dag }

// Exchange is bitswap, wrapped so that a block missing locally starts a DHT
// provider lookup at once.
func (n *Node) Exchange() exchange.Interface { return n.eager }

// Addrs are the addresses peers can dial the node on, each ending in
// /p2p/<peer ID>.
func (n *Node) Addrs() []ma.Multiaddr {
	self, err := ma.NewComponent("p2p", n.host.ID().String())
	if err != nil {
		return nil // a peer ID always encodes
	}
	addrs := n.host.Addrs()
	out := make([]ma.Multiaddr, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.Encapsulate(self))
	}
	return out
}

// PeerInfo describes one connected peer.
type PeerInfo struct {
	ID        peer.ID      `json:"id"`
	Addr      ma.Multiaddr `json:"addr"`
	Direction string       `json:"direction"`
	// Latency is the smoothed round trip time, zero until measured.
	Latency time.Duration `json:"latency,omitempty"`
	// Agent is the peer's user agent, as identify reported it.
	Agent string `json:"agent,omitempty"`
}

// Peers lists the connected peers, one entry per peer: its direct
// connection if it has one (a /p2p-circuit address means the peer is
// reachable only through a relay so far), else its first.
func (n *Node) Peers() []PeerInfo {
	seen := map[peer.ID]bool{}
	var out []PeerInfo
	ps := n.host.Peerstore()
	for _, c := range n.host.Network().Conns() {
		p := c.RemotePeer()
		if seen[p] {
			continue
		}
		seen[p] = true
		if direct, _ := route(n.host, p); direct != nil {
			c = direct
		}
		info := PeerInfo{
			ID:        p,
			Addr:      c.RemoteMultiaddr(),
			Direction: direction(c.Stat().Direction),
			Latency:   ps.LatencyEWMA(p),
		}
		if v, err := ps.Get(p, "AgentVersion"); err == nil {
			info.Agent, _ = v.(string)
		}
		out = append(out, info)
	}
	return out
}

func direction(d network.Direction) string {
	switch d {
	case network.DirInbound:
		return "inbound"
	case network.DirOutbound:
		return "outbound"
	default:
		return "unknown"
	}
}

// FindProviders asks the DHT for up to limit peers that provide c.
func (n *Node) FindProviders(ctx context.Context, c cid.Cid, limit int) ([]peer.AddrInfo, error) {
	provs := n.providersOf(ctx, c, limit)
	if len(provs) == 0 && ctx.Err() != nil {
		return nil, fmt.Errorf("node: find providers of %s: %w", c, ctx.Err())
	}
	return provs, nil
}

// keepOpen shields the caller's datastore from Close calls by the parts the
// node builds on it.
type keepOpen struct{ datastore.Batching }

func (keepOpen) Close() error { return nil }

// Traffic is how many bytes the node's host has received and sent over
// its streams since it started.
func (n *Node) Traffic() (in, out uint64) {
	return uint64(max(n.traffic.in.Load(), 0)), uint64(max(n.traffic.out.Load(), 0))
}
