package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	iface "github.com/ipfs/boxo/bitswap/network"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
)

// Bitswap over relayed connections.
//
// A circuit v2 relay gives the two ends a limited connection: by default it
// carries 128 KiB each way and lasts 2 minutes, then the relay resets it.
// go-libp2p opens no stream on such a connection unless asked to
// (network.WithAllowLimitedConn), and boxo's bitswap never asks: it does not
// even count a peer it reaches only through a relay as connected. A visitor
// then gets nothing from a node behind NAT until a hole punch succeeds.
//
// island's bitswap counts such a peer as connected and uses the relayed
// connection within its allowance: wants, and messages of blocks that fit
// what is left of it (relayAllowance). A message that does not fit waits
// for the direct connection hole punching is making, until the relayed
// connection is Config.HolePunchWait old; the moment one exists every message goes
// over it. If none comes, blocks that do not fit are answered with HAVE
// instead: the peer learns who has them, and its Fetch ends with a
// RelayOnlyError (fetch.go) rather than waiting for ever.

const (
	// relayOverhead is what a relayed connection carries besides bitswap's
	// messages: the security handshake, identify and its pushes, hole
	// punching, stream and muxer framing. It is kept out of the allowance.
	relayOverhead = 24 << 10
	// defaultRelayLimit is circuit v2's default data limit, for a relay
	// that does not say its own.
	defaultRelayLimit = 128 << 10
	// Framing of one message on its own stream and of one block in it,
	// counted on top of bsmsg's Size.
	messageOverhead = 256
	blockOverhead   = 32
	// maxDirectWaiters bounds the bitswap server's workers that may wait
	// for a direct connection at once; the others answer HAVE at once.
	maxDirectWaiters = 4
	// directPoll is how often a waiter looks for a direct connection.
	directPoll = 100 * time.Millisecond
)

// allowLimited lets a stream open on a relayed connection.
func allowLimited(ctx context.Context) context.Context {
	return network.WithAllowLimitedConn(ctx, "bitswap within the relay's limits")
}

// limitedHost is the host bitswap's network sees: a peer connected only
// through a relay is connected, and streams may open on such connections.
type limitedHost struct {
	host.Host
	net *limitedNetwork
}

func newLimitedHost(h host.Host) *limitedHost {
	return &limitedHost{Host: h, net: &limitedNetwork{Network: h.Network(), notifiees: map[network.Notifiee]network.Notifiee{}}}
}

func (h *limitedHost) Network() network.Network { return h.net }

func (h *limitedHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	return h.Host.NewStream(allowLimited(ctx), p, pids...)
}

func (h *limitedHost) Connect(ctx context.Context, pi peer.AddrInfo) error {
	return h.Host.Connect(allowLimited(ctx), pi)
}

// limitedNetwork reports limited connections as ordinary ones.
type limitedNetwork struct {
	network.Network
	mu        sync.Mutex
	notifiees map[network.Notifiee]network.Notifiee
}

func (n *limitedNetwork) Connectedness(p peer.ID) network.Connectedness {
	if c := n.Network.Connectedness(p); c != network.Limited {
		return c
	}
	return network.Connected
}

func (n *limitedNetwork) Conns() []network.Conn {
	cs := n.Network.Conns()
	for i, c := range cs {
		cs[i] = unlimitedConn{c}
	}
	return cs
}

func (n *limitedNetwork) Notify(f network.Notifiee) {
	a := &limitedNotifiee{Notifiee: f, net: n}
	n.mu.Lock()
	n.notifiees[f] = a
	n.mu.Unlock()
	n.Network.Notify(a)
}

func (n *limitedNetwork) StopNotify(f network.Notifiee) {
	n.mu.Lock()
	a, ok := n.notifiees[f]
	delete(n.notifiees, f)
	n.mu.Unlock()
	if ok {
		n.Network.StopNotify(a)
	}
}

type limitedNotifiee struct {
	network.Notifiee
	net *limitedNetwork
}

func (a *limitedNotifiee) Connected(_ network.Network, c network.Conn) {
	a.Notifiee.Connected(a.net, unlimitedConn{c})
}

func (a *limitedNotifiee) Disconnected(_ network.Network, c network.Conn) {
	a.Notifiee.Disconnected(a.net, unlimitedConn{c})
}

// unlimitedConn hides that a connection is limited.
type unlimitedConn struct{ network.Conn }

func (c unlimitedConn) Stat() network.ConnStats {
	s := c.Conn.Stat()
	s.Limited = false
	return s
}

// relayAware is bitswap's network: boxo's, on a limitedHost, with what it
// sends over relayed connections held to the relay's limit.
type relayAware struct {
	iface.BitSwapNetwork
	host    host.Host // the real one
	log     logger
	hp      *holePunches
	served  func(ServedPeer)
	wait    time.Duration // Config.HolePunchWait
	waiters chan struct{}

	mu         sync.Mutex
	allowances map[network.Conn]int64
}

// logger is the part of slog.Logger relayAware uses.
type logger interface {
	Debug(msg string, args ...any)
}

func newRelayAware(inner iface.BitSwapNetwork, h host.Host, log logger, hp *holePunches, wait time.Duration, served func(ServedPeer)) *relayAware {
	r := &relayAware{
		BitSwapNetwork: inner,
		host:           h,
		log:            log,
		hp:             hp,
		wait:           wait,
		served:         served,
		waiters:        make(chan struct{}, maxDirectWaiters),
		allowances:     map[network.Conn]int64{},
	}
	h.Network().Notify(&network.NotifyBundle{DisconnectedF: func(_ network.Network, c network.Conn) {
		r.mu.Lock()
		delete(r.allowances, c)
		r.mu.Unlock()
	}})
	return r
}

func (r *relayAware) route(p peer.ID) (direct, relayed network.Conn) {
	return route(r.host, p)
}

// route is how a message to p would go now: over a direct connection
// (direct set), over a relayed one (relayed set, the oldest), or neither
// (not connected: bitswap dials as usual).
func route(h host.Host, p peer.ID) (direct, relayed network.Conn) {
	for _, c := range h.Network().ConnsToPeer(p) {
		if c.IsClosed() {
			continue
		}
		if !c.Stat().Limited {
			return c, nil
		}
		if relayed == nil || c.Stat().Opened.Before(relayed.Stat().Opened) {
			relayed = c
		}
	}
	return nil, relayed
}

// take spends size bytes of c's allowance, if that much is left.
func (r *relayAware) take(c network.Conn, size int64) bool {
	return r.spend(c, size, false)
}

// spend spends size bytes of c's allowance: only if that much is left,
// unless force (what must be sent anyway), which spends what is left.
func (r *relayAware) spend(c network.Conn, size int64, force bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	left, ok := r.allowances[c]
	if !ok {
		left = relayAllowance(c)
	}
	fits := size <= left
	if fits || force {
		left = max(left-size, 0)
	}
	r.allowances[c] = left
	return fits
}

// relayAllowance is what bitswap may send over a fresh relayed connection.
func relayAllowance(c network.Conn) int64 {
	limit := int64(defaultRelayLimit)
	if v, ok := c.Stat().Extra[client.StatLimitData].(uint64); ok && v > 0 {
		limit = int64(min(v, 1<<40))
	}
	return max(limit-relayOverhead, 0)
}

// wireSize is about what msg takes on a stream of its own.
func wireSize(msg bsmsg.BitSwapMessage) int64 {
	return int64(msg.Size() + messageOverhead + blockOverhead*len(msg.Blocks()))
}

// awaitDirect waits, at most until the relayed connection is r.wait old,
// for a direct connection to p, and returns it (nil if none came).
func (r *relayAware) awaitDirect(ctx context.Context, p peer.ID, relayed network.Conn) network.Conn {
	deadline := relayed.Stat().Opened.Add(r.wait)
	if !time.Now().Before(deadline) {
		return nil
	}
	select {
	case r.waiters <- struct{}{}:
		defer func() { <-r.waiters }()
	default:
		return nil
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	t := time.NewTicker(directPoll)
	defer t.Stop()
	for {
		if d, _ := r.route(p); d != nil {
			return d
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// SendMessage is how bitswap's server sends blocks and presences.
func (r *relayAware) SendMessage(ctx context.Context, p peer.ID, msg bsmsg.BitSwapMessage) error {
	direct, relayed := r.route(p)
	if direct == nil && relayed != nil && !r.take(relayed, wireSize(msg)) {
		if direct = r.awaitDirect(ctx, p, relayed); direct == nil {
			msg = r.fit(relayed, msg)
		}
	}
	if err := r.BitSwapNetwork.SendMessage(ctx, p, msg); err != nil {
		return err
	}
	if len(msg.Blocks()) > 0 {
		if c := first(direct, relayed); c != nil {
			r.served(ServedPeer{Peer: p, Relayed: c.Stat().Limited, Addr: c.RemoteMultiaddr(), At: time.Now()})
		}
	}
	return nil
}

func first(cs ...network.Conn) network.Conn {
	for _, c := range cs {
		if c != nil {
			return c
		}
	}
	return nil
}

// fit turns msg into what the relayed connection c still carries: its
// presences, and the blocks that fit, in order; each other block becomes a
// HAVE, so the peer learns who has it.
func (r *relayAware) fit(c network.Conn, msg bsmsg.BitSwapMessage) bsmsg.BitSwapMessage {
	out := bsmsg.New(false)
	for _, bp := range msg.BlockPresences() {
		out.AddBlockPresence(bp.Cid, bp.Type)
	}
	out.SetPendingBytes(msg.PendingBytes())
	r.spend(c, wireSize(out), true)
	held := 0
	for _, b := range msg.Blocks() {
		if r.take(c, int64(len(b.RawData())+blockOverhead)) {
			out.AddBlock(b)
			continue
		}
		out.AddHave(b.Cid())
		r.spend(c, int64(bsmsg.BlockPresenceSize(b.Cid())), true)
		held++
	}
	r.log.Debug("blocks held back from a relayed connection", "peer", c.RemotePeer(), "blocks", held)
	return out
}

// NewMessageSender is how bitswap's client sends wants.
func (r *relayAware) NewMessageSender(ctx context.Context, p peer.ID, opts *iface.MessageSenderOpts) (iface.MessageSender, error) {
	s, err := r.BitSwapNetwork.NewMessageSender(ctx, p, opts)
	if err != nil {
		return nil, err
	}
	direct, _ := r.route(p)
	return &relayAwareSender{MessageSender: s, net: r, p: p, onRelayed: direct == nil}, nil
}

// errRelayFull is a message that a relayed connection has no room for.
var errRelayFull = errors.New("the relayed connection's data limit is reached")

// relayAwareSender keeps a stream to one peer; once a direct connection
// exists it moves its stream there.
type relayAwareSender struct {
	iface.MessageSender
	net *relayAware
	p   peer.ID

	mu        sync.Mutex
	onRelayed bool // the stream may be on a relayed connection
}

func (s *relayAwareSender) SendMsg(ctx context.Context, msg bsmsg.BitSwapMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	direct, relayed := s.net.route(s.p)
	if direct == nil && relayed != nil && !s.net.take(relayed, wireSize(msg)) {
		if direct = s.net.awaitDirect(ctx, s.p, relayed); direct == nil {
			return fmt.Errorf("node: wants to %s: %w", s.p, errRelayFull)
		}
	}
	if direct != nil && s.onRelayed {
		// The stream stays on the connection it opened on: a new one
		// opens on the best, the direct one.
		_ = s.MessageSender.Reset()
		s.onRelayed = false
	}
	if direct == nil {
		s.onRelayed = true
	}
	return s.MessageSender.SendMsg(ctx, msg)
}
