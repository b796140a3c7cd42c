package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/boxo/bitswap"
	"github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/dual"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// ErrNoPeers means the node is connected to no peer that could vouch for
// its content: nobody to ask.
var ErrNoPeers = errors.New("no other peer to ask")

// Retrieval is what CheckRetrievable found.
type Retrieval struct {
	// Via is the connected peer the fresh client entered the network through.
	Via peer.ID `json:"via"`
	// Providers is how many providers of the root the lookup found.
	Providers int `json:"providers"`
	// Took is the time from the first dial to the root block.
	Took time.Duration `json:"took"`
	// Relayed says the root came through a relay: the node is behind NAT
	// and no direct connection was made (yet).
	Relayed bool `json:"relayed,omitempty"`
}

const (
	// retrievalCandidates bounds how many connected peers one check tries.
	retrievalCandidates = 3
	// retrievalRetry is the pause between provider lookups that found
	// nobody: right after Provide the announcement may still be in flight.
	retrievalRetry = 500 * time.Millisecond
	// routingTableWait bounds the wait for the entry peer's identify, after
	// which the fresh client's routing table holds it.
	routingTableWait = 10 * time.Second
)

// dhtProtocols are the DHT protocols of a peer worth asking.
var dhtProtocols = []protocol.ID{
	protocol.ID("/ipfs/kad/1.0.0"),
	protocol.ID("/ipfs/lan/kad/1.0.0"),
}

// CheckRetrievable asks the network whether someone who is not this node can
// get root: a fresh libp2p client (new key, blocks in memory, listening
// nowhere) enters the network through one of the node's connected DHT peers,
// looks up providers of root in the DHT and fetches the root block over
// bitswap from whoever the lookup names. Peers are tried in turn (at most a
// few) until one attempt succeeds or ctx ends; give ctx a deadline. It
// returns ErrNoPeers when no connected peer serves the DHT, and otherwise the
// last attempt's reason.
func (n *Node) CheckRetrievable(ctx context.Context, root cid.Cid) (Retrieval, error) {
	var candidates []peer.AddrInfo
	for _, p := range n.host.Network().Peers() {
		if len(candidates) == retrievalCandidates {
			break
		}
		if ok, _ := n.host.Peerstore().SupportsProtocols(p, dhtProtocols...); len(ok) == 0 {
			continue
		}
		addrs := n.host.Peerstore().Addrs(p)
		if len(addrs) == 0 {
			continue
		}
		candidates = append(candidates, peer.AddrInfo{ID: p, Addrs: addrs})
	}
	if len(candidates) == 0 {
		return Retrieval{}, ErrNoPeers
	}
	var err error
	for i, via := range candidates {
		// Each peer gets an equal share of what is left, so one that
		// stalls cannot use up the whole check.
		actx, cancel := ctx, context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok {
			actx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(dl)/time.Duration(len(candidates)-i)))
		}
		var r Retrieval
		r, err = n.retrieveVia(actx, via, root)
		cancel()
		if err == nil {
			return r, nil
		}
		n.log.Debug("retrieval check failed", "via", via.ID, "cid", root, "err", err)
		if ctx.Err() != nil {
			break
		}
	}
	return Retrieval{}, err
}

// retrieveVia is one attempt of CheckRetrievable, through via.
func (n *Node) retrieveVia(ctx context.Context, via peer.AddrInfo, root cid.Cid) (_ Retrieval, err error) {
	start := time.Now()
	r := Retrieval{Via: via.ID}
	h, err := freshClientHost()
	if err != nil {
		return r, err
	}
	defer h.Close()
	// A client on both DHTs. Loopback addresses are kept in the LAN DHT, as
	// LoopbackOnLAN does for the node, so that peers on this machine count.
	d, err := dual.New(h,
		dual.DHTOption(dht.Mode(dht.ModeClient), dht.DisableAutoRefresh()),
		dual.LanDHTOption(dht.AddressFilter(nil)),
	)
	if err != nil {
		return r, fmt.Errorf("node: check: DHT client: %w", err)
	}
	defer d.Close()
	bs := blockstore.NewBlockstore(dssync.MutexWrap(datastore.NewMapDatastore()))
	// An island visitor's bitswap: it takes small blocks through a relay
	// when the node is behind NAT (limited.go).
	net := newRelayAware(bsnet.NewFromIpfsHost(newLimitedHost(h)), h, n.log, &holePunches{}, n.cfg.HolePunchWait, func(ServedPeer) {})
	swap := bitswap.New(ctx, net, d, bs, bitswap.WithServerEnabled(false))
	defer swap.Close()

	if err := h.Connect(ctx, via); err != nil {
		return r, fmt.Errorf("cannot dial %s: %w", via.ID, err)
	}
	if err := awaitRoutingTable(ctx, d, via.ID); err != nil {
		return r, err
	}

	var provs []peer.AddrInfo
	for {
		for p := range d.FindProvidersAsync(ctx, root, 8) { // each peer once
			provs = append(provs, p)
		}
		if len(provs) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("%s knows no provider of %s (the announcement may still be queued: see 'island provide stat'): %w", via.ID, root, ctx.Err())
		case <-time.After(retrievalRetry):
		}
	}
	r.Providers = len(provs)
	var dialErrs []error
	for _, p := range provs {
		if err := h.Connect(allowLimited(ctx), p); err != nil {
			dialErrs = append(dialErrs, fmt.Errorf("%s: %w", p.ID, err))
		}
	}
	if len(dialErrs) == len(provs) {
		return r, fmt.Errorf("found %d provider(s) of %s but could dial none: %w", len(provs), root, errors.Join(dialErrs...))
	}
	if _, err := swap.GetBlock(ctx, root); err != nil {
		return r, fmt.Errorf("found %d provider(s) of %s but none sent the block: %w", len(provs), root, err)
	}
	r.Took = time.Since(start)
	r.Relayed = true
	for _, p := range provs {
		if direct, _ := route(h, p.ID); direct != nil {
			r.Relayed = false
		}
	}
	return r, nil
}

// freshClientHost is a libp2p host with a new key that listens nowhere: it
// only dials out, like a visitor's node would.
func freshClientHost() (host.Host, error) {
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		return nil, fmt.Errorf("node: check: key: %w", err)
	}
	h, err := libp2p.New(
		libp2p.Identity(key),
		libp2p.NoListenAddrs,
		// The transports island nodes listen on (host.go); a visitor needs
		// no others to reach them.
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.DisableMetrics(),
		// Like a visitor's node: it can dial a node behind NAT through its
		// relay and then punch a direct connection.
		libp2p.EnableRelay(),
		libp2p.EnableHolePunching(),
		libp2p.UserAgent(userAgent+"-check"),
	)
	if err != nil {
		return nil, fmt.Errorf("node: check: libp2p host: %w", err)
	}
	return h, nil
}

// awaitRoutingTable waits until p, once identified, is in one of d's routing
// tables: a lookup started before that finds no one to ask.
func awaitRoutingTable(ctx context.Context, d *dual.DHT, p peer.ID) error {
	ctx, cancel := context.WithTimeout(ctx, routingTableWait)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if d.LAN.RoutingTable().Find(p) != "" || d.WAN.RoutingTable().Find(p) != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s does not serve the DHT to a new client: %w", p, ctx.Err())
		case <-t.C:
		}
	}
}
