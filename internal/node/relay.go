package node

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p-kad-dht/dual"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	circuitproto "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
)

// NAT traversal, as Kubo does it by default: a node that AutoNAT finds
// private reserves slots on relays (AutoRelay) and advertises the
// /p2p-circuit addresses they give it; a peer that dials one of them gets a
// limited, relayed connection, which hole punching (DCUtR) then tries to
// replace with a direct one. A node that AutoNAT finds public relays for
// others (circuit v2, with libp2p's default limits) and answers their
// AutoNAT probes, so islands help each other's home nodes.

// RelayServiceMode says when a node relays connections for peers behind NAT.
type RelayServiceMode string

const (
	// RelayServiceAuto relays while AutoNAT finds the node publicly
	// reachable (Kubo's Swarm.RelayService default).
	RelayServiceAuto RelayServiceMode = "auto"
	// RelayServiceOn relays whatever AutoNAT says: for a node known to be
	// public before AutoNAT has confirmed it (a bootstrap server).
	RelayServiceOn RelayServiceMode = "on"
	// RelayServiceOff never relays.
	RelayServiceOff RelayServiceMode = "off"
)

// ParseRelayService reads "auto", "on" or "off".
func ParseRelayService(s string) (RelayServiceMode, error) {
	switch m := RelayServiceMode(s); m {
	case RelayServiceAuto, RelayServiceOn, RelayServiceOff:
		return m, nil
	}
	return "", fmt.Errorf("node: relay service %q: want auto, on or off", s)
}

// AutoRelay tuning. libp2p waits for 4 candidates or 3 minutes before its
// first reservation, so as to pick the best of several relays; a personal
// node wants to be reachable soon after it starts, and any two relays do.
const (
	relayMinCandidates = 2
	relayBootDelay     = 20 * time.Second
)

// AutoNAT service limits (Kubo's AutoNAT.Throttle defaults): dial-back
// requests answered per minute in all, and per peer.
const (
	autoNATGlobalLimit = 30
	autoNATPeerLimit   = 3
)

// relayResources are the limits of the relay service: libp2p's defaults
// (128 KiB each way and 2 minutes per relayed connection, 128 reservations,
// 16 circuits per peer), spelled out so that a change of defaults upstream
// cannot loosen them unnoticed.
func relayResources() relayv2.Resources {
	return relayv2.DefaultResources()
}

// natOptions are the libp2p options of NAT traversal: the relay client and
// AutoRelay (fed by relays, or else by src), hole punching traced by hp,
// AutoNAT v2 and the AutoNAT service, and the relay service in auto mode.
func natOptions(cfg *Config, src autorelay.PeerSource, hp *holePunches) []libp2p.Option {
	arOpts := []autorelay.Option{
		autorelay.WithMinCandidates(relayMinCandidates),
		autorelay.WithBootDelay(relayBootDelay),
	}
	opts := []libp2p.Option{
		// The relay transport (on by default; explicit so that a change of
		// default cannot drop it) and AutoNAT v2, which learns which of the
		// node's addresses are reachable. NAT port mapping (UPnP, NAT-PMP)
		// stays off: it changes the user's router, which a personal site
		// should not do unasked.
		libp2p.EnableRelay(),
		libp2p.EnableAutoNATv2(),
		libp2p.EnableNATService(),
		libp2p.AutoNATServiceRateLimit(autoNATGlobalLimit, autoNATPeerLimit, time.Minute),
		libp2p.EnableHolePunching(hp.option(cfg.Registerer)),
	}
	if len(cfg.StaticRelays) > 0 {
		opts = append(opts, libp2p.EnableAutoRelayWithStaticRelays(cfg.StaticRelays, arOpts...))
	} else {
		opts = append(opts, libp2p.EnableAutoRelayWithPeerSource(src, arOpts...))
	}
	if cfg.RelayService == RelayServiceAuto {
		opts = append(opts, libp2p.EnableRelayService(relayv2.WithResources(relayResources())))
	}
	return opts
}

// startRelayService runs the relay service whatever AutoNAT says
// (RelayServiceOn); the caller closes it.
func startRelayService(h host.Host, reg prometheus.Registerer) (*relayv2.Relay, error) {
	opts := []relayv2.Option{relayv2.WithResources(relayResources())}
	if reg != nil {
		opts = append(opts, relayv2.WithMetricsTracer(relayv2.NewMetricsTracer(relayv2.WithRegisterer(reg))))
	}
	r, err := relayv2.New(h, opts...)
	if err != nil {
		return nil, fmt.Errorf("node: relay service: %w", err)
	}
	return r, nil
}

// relaySource offers AutoRelay its relay candidates, as Kubo's peer source
// does: first the connected peers that announce the relay service, then the
// peers of the WAN DHT's routing table (public DHT servers, which AutoRelay
// dials and asks). The host and the DHT exist only after libp2p.New, which
// needs the source: they are filled in once built.
type relaySource struct {
	host atomic.Pointer[host.Host]
	dht  atomic.Pointer[dual.DHT]
}

func (s *relaySource) peers(ctx context.Context, num int) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo, max(num, 0))
	defer close(out)
	hp := s.host.Load()
	if hp == nil || num <= 0 {
		return out
	}
	h := *hp
	seen := map[peer.ID]bool{h.ID(): true}
	offer := func(p peer.ID) bool {
		if seen[p] {
			return true
		}
		seen[p] = true
		ai := h.Peerstore().PeerInfo(p)
		if len(ai.Addrs) == 0 {
			return true
		}
		out <- ai
		return len(out) < num
	}
	for _, p := range h.Network().Peers() {
		if protos, err := h.Peerstore().SupportsProtocols(p, circuitproto.ProtoIDv2Hop); err == nil && len(protos) > 0 {
			if !offer(p) {
				return out
			}
		}
	}
	if d := s.dht.Load(); d != nil {
		for _, p := range d.WAN.RoutingTable().ListPeers() {
			if ctx.Err() != nil || !offer(p) {
				return out
			}
		}
	}
	return out
}

// holePunches keeps the outcome of the last hole punch with each peer, from
// libp2p's hole punching tracer: a fetch stuck behind a relay says why.
type holePunches struct {
	mu    sync.Mutex
	peers map[peer.ID]HolePunch
}

// HolePunch is the last hole punch with a peer.
type HolePunch struct {
	At time.Time
	// OK says it made a direct connection; Err says why not.
	OK  bool
	Err string
}

// maxHolePunches bounds the peers holePunches remembers; the oldest go first.
const maxHolePunches = 1024

func (h *holePunches) option(reg prometheus.Registerer) holepunch.Option {
	if reg != nil {
		// libp2p adds its own metrics tracer when metrics are on; an
		// option replaces the tracer, so this one keeps the metrics.
		return holepunch.WithMetricsAndEventTracer(holepunch.NewMetricsTracer(holepunch.WithRegisterer(reg)), h)
	}
	return holepunch.WithTracer(h)
}

// Trace implements holepunch.EventTracer.
func (h *holePunches) Trace(evt *holepunch.Event) {
	var hp HolePunch
	switch e := evt.Evt.(type) {
	case *holepunch.EndHolePunchEvt:
		hp = HolePunch{OK: e.Success, Err: e.Error}
	case *holepunch.ProtocolErrorEvt:
		hp = HolePunch{Err: e.Error}
	default:
		return
	}
	hp.At = time.Unix(0, evt.Timestamp)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.peers == nil {
		h.peers = map[peer.ID]HolePunch{}
	}
	if _, ok := h.peers[evt.Remote]; !ok && len(h.peers) >= maxHolePunches {
		var oldest peer.ID
		for p, v := range h.peers {
			if oldest == "" || v.At.Before(h.peers[oldest].At) {
				oldest = p
			}
		}
		delete(h.peers, oldest)
	}
	h.peers[evt.Remote] = hp
}

func (h *holePunches) last(p peer.ID) (HolePunch, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hp, ok := h.peers[p]
	return hp, ok
}

// Reachability is how peers can reach the node.
type Reachability struct {
	// Status is what AutoNAT found: "public", "private" (behind NAT or a
	// firewall) or "unknown" (not probed yet).
	Status string
	// RelayAddrs are the /p2p-circuit addresses the node advertises (each
	// ending in /p2p/<its ID>): reservations on relays, kept fresh while
	// the node is private.
	RelayAddrs []ma.Multiaddr
	// RelayService says the node relays for others now.
	RelayService bool
	// HolePunching says the node takes part in hole punching (DCUtR): it
	// has a public address of its own, or has been told one by a peer
	// that observed it (its router's, behind NAT). Until then a relayed
	// connection stays relayed.
	HolePunching bool
	// LastServed is the last peer that fetched blocks from the node, nil
	// before any.
	LastServed *ServedPeer
}

// ServedPeer is a peer the node sent blocks to, and how.
type ServedPeer struct {
	Peer peer.ID
	// Relayed says the blocks went through a relay (a limited connection),
	// else over a direct connection.
	Relayed bool
	// Addr is the connection's remote address.
	Addr ma.Multiaddr
	At   time.Time
}

// Reachability reports how peers can reach the node.
func (n *Node) Reachability() Reachability {
	r := Reachability{Status: "unknown"}
	if rh, ok := n.host.(interface{ Reachability() network.Reachability }); ok {
		switch rh.Reachability() {
		case network.ReachabilityPublic:
			r.Status = "public"
		case network.ReachabilityPrivate:
			r.Status = "private"
		}
	}
	for _, a := range n.Addrs() {
		if isRelayed(a) {
			r.RelayAddrs = append(r.RelayAddrs, a)
		}
	}
	protos := n.host.Mux().Protocols()
	r.RelayService = slices.Contains(protos, circuitproto.ProtoIDv2Hop)
	r.HolePunching = slices.Contains(protos, holepunch.Protocol)
	if s := n.served.Load(); s != nil {
		c := *s
		r.LastServed = &c
	}
	return r
}

// isRelayed says a goes through a relay.
func isRelayed(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}
