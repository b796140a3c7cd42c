package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/amino"
	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"github.com/libp2p/go-libp2p-kad-dht/records"
	kb "github.com/libp2p/go-libp2p-kbucket"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
	"golang.org/x/sync/errgroup"

	"github.com/islandsite/island/internal/node"
)

const (
	// bucketSize is the Amino DHT's k: peers per routing table bucket.
	bucketSize = 20
	// islandBootstrap is how many DHT servers an island node is given.
	islandBootstrap = 4
)

// Network is the simulated Internet.
type Network struct {
	cfg Config
	log *slog.Logger
	mn  mocknet.Mocknet

	// requests counts the DHT requests servers received, by type.
	requests [pb.Message_PING + 1]atomic.Int64
	// from counts the requests of the peers being watched (watch).
	from sync.Map // peer.ID → *atomic.Int64

	// linkMu orders linking a pair with taking a peer down, so no link to
	// an offline peer is made.
	linkMu sync.Mutex
	// closing are the connections of peers taken down, closing in the
	// background (takeDown).
	closing sync.WaitGroup

	mu      sync.Mutex
	rng     *rand.Rand
	next    int                 // index for the next peer's address
	bw      map[peer.ID]float64 // upload bandwidth, bytes/s
	servers []*server           // the Amino DHT servers alive now
	offline []*server           // servers churned off, which may come back
	islands map[peer.ID]*Island
	up      map[peer.ID]bool                 // dialable peers
	holders map[peer.ID][]*server            // servers whose table wire put a peer in
	former  map[peer.ID][]*server            // holders of an offline server before it left
	links   map[peer.ID]map[peer.ID]struct{} // linked pairs, both ways
}

// server is one Amino DHT server: kad-dht as Kubo runs it, no island code.
type server struct {
	host host.Host
	dht  *dht.IpfsDHT
	key  kb.ID
}

// linkedHost is a simulated node's host: before it dials a peer it links
// the two (the physical medium, with the pair's latency and bandwidth) if
// that peer is online, so a dial to an offline peer fails at once, as to
// an address where nobody listens. Links made on first dial rather than
// between every pair up front keep churn cheap: a server that leaves drops
// only the links of the peers that reached it, not one per peer of the
// network (at N = 1,000 and 20 %/hour that was hundreds of thousands of
// links per simulated hour, more than a churn batch's half second, so the
// churn asked for was not the churn run), and the mocknet holds no link for
// the pairs that never talk, most of them (servers only answer).
type linkedHost struct {
	host.Host
	n *Network
}

func (h *linkedHost) Connect(ctx context.Context, pi peer.AddrInfo) error {
	h.n.link(h.ID(), pi.ID)
	return h.Host.Connect(ctx, pi)
}

func (h *linkedHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	h.n.link(h.ID(), p)
	return h.Host.NewStream(ctx, p, pids...)
}

func (h *linkedHost) Network() network.Network { return linkedNet{h.Host.Network(), h.n} }

// linkedNet is a linkedHost's network: a direct dial links first too.
type linkedNet struct {
	network.Network
	n *Network
}

func (ln linkedNet) DialPeer(ctx context.Context, p peer.ID) (network.Conn, error) {
	ln.n.link(ln.LocalPeer(), p)
	return ln.Network.DialPeer(ctx, p)
}

// NewNetwork builds nodes DHT servers, all linked to each other, and wires
// their routing tables.
func NewNetwork(ctx context.Context, cfg Config, servers int) (*Network, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Network{
		cfg:     cfg,
		log:     cfg.Logger.With("system", "sim"),
		mn:      mocknet.New(),
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x15)),
		bw:      map[peer.ID]float64{},
		islands: map[peer.ID]*Island{},
		up:      map[peer.ID]bool{},
		holders: map[peer.ID][]*server{},
		former:  map[peer.ID][]*server{},
		links:   map[peer.ID]map[peer.ID]struct{}{},
	}
	for range servers {
		s, err := n.newServer()
		if err != nil {
			n.Close()
			return nil, err
		}
		n.servers = append(n.servers, s)
		n.setUp(s.host.ID())
	}
	for _, s := range n.servers {
		n.wire(s)
	}
	n.log.Info("network up", "servers", servers)
	return n, nil
}

// Close stops every node and the mocknet.
func (n *Network) Close() error {
	n.mu.Lock()
	servers := append(n.servers, n.offline...)
	islands := make([]*Island, 0, len(n.islands))
	for _, i := range n.islands {
		islands = append(islands, i)
	}
	n.servers, n.offline, n.islands = nil, nil, map[peer.ID]*Island{}
	n.mu.Unlock()
	var errs []error
	for _, i := range islands {
		errs = append(errs, i.Close())
	}
	for _, s := range servers {
		errs = append(errs, s.close())
	}
	n.closing.Wait()
	errs = append(errs, n.mn.Close())
	return errors.Join(errs...)
}

func (s *server) close() error { return errors.Join(s.dht.Close(), s.host.Close()) }

// newPeer adds a host with a fresh identity, a public-looking address and
// a drawn upload bandwidth; it is linked to a peer when one of the two
// first dials the other (linkedHost). It is not online (dialable) until
// the caller says so (setUp).
func (n *Network) newPeer() (host.Host, crypto.PrivKey, error) {
	n.mu.Lock()
	seed := n.rng.Uint64()
	i := n.next
	n.next++
	bw := n.cfg.BandwidthMbps * 1e6 / 8 * (1.0/3 + n.rng.Float64()*(3-1.0/3))
	n.mu.Unlock()
	key, _, err := crypto.GenerateEd25519Key(rand.NewChaCha8(seedBytes(seed)))
	if err != nil {
		return nil, nil, fmt.Errorf("sim: key: %w", err)
	}
	// A public address, so the WAN DHT keeps it, and one /16 per peer: the
	// WAN routing table takes at most a few peers per /16 (its diversity
	// filter), as if they were one operator's. 11–98.x is public and gives
	// 22,528 prefixes before they repeat.
	addr, err := ma.NewMultiaddr(fmt.Sprintf("/ip4/%d.%d.1.1/tcp/4001", 11+(i/256)%88, i%256))
	if err != nil {
		return nil, nil, fmt.Errorf("sim: address: %w", err)
	}
	h, err := n.mn.AddPeer(key, addr)
	if err != nil {
		return nil, nil, fmt.Errorf("sim: add peer: %w", err)
	}
	n.mu.Lock()
	n.bw[h.ID()] = bw
	n.mu.Unlock()
	return &linkedHost{Host: h, n: n}, key, nil
}

func seedBytes(s uint64) [32]byte {
	var b [32]byte
	for i := range 8 {
		b[i] = byte(s >> (8 * i))
	}
	return b
}

// link links p to q, if q is online and they are not linked yet. The RTT
// of a pair is drawn from its own seeded generator, so it does not depend
// on the order in which peers meet.
func (n *Network) link(p, q peer.ID) {
	if p == q {
		return
	}
	state := func() (up, linked bool, rate float64) {
		n.mu.Lock()
		defer n.mu.Unlock()
		_, linked = n.links[p][q]
		return n.up[q], linked, min(n.bw[p], n.bw[q])
	}
	// Most dials are of linked pairs: they need not wait for linkMu,
	// which a churn batch holds while it unlinks the peers it takes down.
	if up, linked, _ := state(); !up || linked {
		return
	}
	n.linkMu.Lock()
	defer n.linkMu.Unlock()
	up, linked, rate := state()
	if !up || linked {
		return
	}
	l, err := n.mn.LinkPeers(p, q)
	if err != nil {
		n.log.Debug("link", "err", err)
		return
	}
	a, b := string(p), string(q)
	if a > b {
		a, b = b, a
	}
	r := rand.New(rand.NewPCG(n.cfg.Seed, hash64(a+b)))
	l.SetOptions(mocknet.LinkOptions{Latency: n.cfg.RTT.Draw(r) / 2, Bandwidth: rate})
	n.mu.Lock()
	for _, e := range [][2]peer.ID{{p, q}, {q, p}} {
		if n.links[e[0]] == nil {
			n.links[e[0]] = map[peer.ID]struct{}{}
		}
		n.links[e[0]][e[1]] = struct{}{}
	}
	n.mu.Unlock()
}

// setUp makes p dialable.
func (n *Network) setUp(p peer.ID) {
	n.linkMu.Lock()
	defer n.linkMu.Unlock()
	n.mu.Lock()
	n.up[p] = true
	n.mu.Unlock()
}

// takeDown cuts p off: it stops being dialable, its links go (so nobody
// that reached it before can dial it again) and its connections close.
func (n *Network) takeDown(p peer.ID) {
	n.linkMu.Lock()
	n.mu.Lock()
	delete(n.up, p)
	peers := n.links[p]
	delete(n.links, p)
	for q := range peers {
		delete(n.links[q], p)
	}
	n.mu.Unlock()
	for q := range peers {
		_ = n.mn.UnlinkPeers(p, q)
	}
	n.linkMu.Unlock()
	// Without links nobody can dial p again; its open connections close
	// in the background. Closing a mocknet connection resets its streams
	// one by one, each waiting for the data it still carries to arrive
	// (latency and bandwidth), which held churn batches for seconds.
	if h := n.mn.Host(p); h != nil {
		for _, c := range h.Network().Conns() {
			n.closing.Go(func() { _ = c.Close() })
		}
	}
}

func hash64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// newServer starts one Amino DHT server, not yet wired.
func (n *Network) newServer() (*server, error) {
	h, _, err := n.newPeer()
	if err != nil {
		return nil, err
	}
	d, err := dht.New(h,
		dht.Mode(dht.ModeServer),
		dht.Datastore(dssync.MutexWrap(datastore.NewMapDatastore())),
		dht.MaxRecordAge(n.cfg.scaled(amino.DefaultMaxRecordAge)),
		dht.ProviderManagerOpts(records.ProvideValidity(n.cfg.scaled(amino.DefaultProvideValidity))),
		dht.DisableAutoRefresh(),
		dht.OnRequestHook(n.count),
	)
	if err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("sim: DHT server: %w", err)
	}
	return &server{host: h, dht: d, key: kb.ConvertPeerID(h.ID())}, nil
}

// count is the servers' request hook.
func (n *Network) count(_ context.Context, s network.Stream, req *pb.Message) {
	t := req.GetType()
	if t < 0 || int(t) >= len(n.requests) {
		return
	}
	n.requests[t].Add(1)
	if c, ok := n.from.Load(s.Conn().RemotePeer()); ok {
		c.(*[len(counts{})]atomic.Int64)[t].Add(1)
	}
}

// watch counts the DHT requests the servers receive from p from now on, by
// type, until the returned func, which says how many there were, is called.
func (n *Network) watch(p peer.ID) func() counts {
	c := new([len(counts{})]atomic.Int64)
	n.from.Store(p, c)
	return func() counts {
		n.from.Delete(p)
		var out counts
		for t := range out {
			out[t] = c[t].Load()
		}
		return out
	}
}

// Requests returns how many DHT requests of type t the servers received.
func (n *Network) Requests(t pb.Message_MessageType) int64 { return n.requests[t].Load() }

// wire fills the routing table of server s as a long-running Amino
// server's is: for every common prefix length with its own key, up to
// bucketSize live servers at random (all of them in the deep buckets, where
// fewer exist), and puts s in the tables of those that have room. This is
// an oracle: a real server learns the same peers through lookups, which
// would cost the whole network's CPU at every join. A table with only the
// closest peers and a few random ones is not enough beyond a few hundred
// servers: lookups stall in the middle buckets and never reach the peers
// closest to a key. Nothing is dialled: links make every pair dialable, and
// a connection opens at the first query, as on the Internet. (Dialling each
// wired pair would also cost an identify and a DHT lookup check per pair.)
func (n *Network) wire(s *server) {
	p := s.host.ID()
	picked := n.tableFor(p, s.key)
	var held, holds []*server
	for _, q := range picked {
		known(s.host.Peerstore(), q.host)
		if ok, err := s.dht.RoutingTable().TryAddPeer(q.host.ID(), true, false); err != nil {
			n.log.Debug("wire", "err", err)
		} else if ok {
			held = append(held, q)
		}
		// A full bucket refuses a newcomer, as kad-dht's does.
		known(q.host.Peerstore(), s.host)
		if ok, _ := q.dht.RoutingTable().TryAddPeer(p, true, false); ok {
			holds = append(holds, q)
		}
	}
	n.mu.Lock()
	for _, q := range held {
		n.holders[q.host.ID()] = append(n.holders[q.host.ID()], s)
	}
	n.holders[p] = append(n.holders[p], holds...)
	n.mu.Unlock()
}

// tableFor picks the live servers a long-running node with key k keeps in
// its routing table: for every common prefix length with k, up to
// bucketSize of them at random.
func (n *Network) tableFor(p peer.ID, k kb.ID) []*server {
	n.mu.Lock()
	defer n.mu.Unlock()
	byCPL := map[int][]*server{}
	for _, q := range n.servers {
		if q.host.ID() != p {
			c := kb.CommonPrefixLen(k, q.key)
			byCPL[c] = append(byCPL[c], q)
		}
	}
	var picked []*server
	for _, qs := range byCPL {
		n.rng.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
		picked = append(picked, qs[:min(bucketSize, len(qs))]...)
	}
	return picked
}

// known adds h's addresses to ps unless ps has them: a server that comes
// back, and those it met before, still know each other's addresses
// (permanent here), and adding them again is most of a returning server's
// wiring.
func known(ps peerstore.Peerstore, h host.Host) {
	if len(ps.Addrs(h.ID())) == 0 {
		ps.AddAddrs(h.ID(), h.Addrs(), peerstore.PermanentAddrTTL)
	}
}

// wireClient fills the WAN routing table of island node i, a DHT client,
// as a long-running node's is (tableFor). Nothing is dialled, and no
// server's table changes: servers keep clients out of theirs.
func (n *Network) wireClient(i *Island) {
	rt := i.Node.DHT().WAN.RoutingTable()
	for _, q := range n.tableFor(i.Node.ID(), kb.ConvertPeerID(i.Node.ID())) {
		known(i.Node.Host().Peerstore(), q.host)
		if _, err := rt.TryAddPeer(q.host.ID(), true, false); err != nil {
			n.log.Warn("wire client", "err", err)
		}
	}
}

// evict takes p out of the servers' routing tables that wire put it in. A
// server of the Amino network finds a peer gone at its next refresh (every
// ten minutes) or failed query and drops it; at a time scale of thousands
// that is at once. Servers here never query or refresh (the wiring stands
// in for it), so without this their tables would fill with peers that
// left, and no room would be left for those that join.
func (n *Network) evict(p peer.ID) {
	n.mu.Lock()
	hs := n.holders[p]
	delete(n.holders, p)
	n.former[p] = hs
	n.mu.Unlock()
	for _, h := range hs {
		h.dht.RoutingTable().RemovePeer(p)
	}
}

// rewire puts a server that comes back into the tables it was evicted
// from, as those servers rediscover it (its own table lost only the peers
// that left meanwhile); a server never wired before is wired afresh.
// Wiring a returning server afresh costs twice the table insertions, and
// that made churn fall behind the rate asked for at N = 1,000.
func (n *Network) rewire(s *server) {
	p := s.host.ID()
	n.mu.Lock()
	hs, ok := n.former[p]
	delete(n.former, p)
	n.mu.Unlock()
	if !ok {
		n.wire(s)
		return
	}
	var holds []*server
	for _, h := range hs {
		if ok, _ := h.dht.RoutingTable().TryAddPeer(p, true, false); ok {
			holds = append(holds, h)
		}
	}
	n.mu.Lock()
	n.holders[p] = append(n.holders[p], holds...)
	n.mu.Unlock()
}

// pick returns the closest live servers to p by XOR distance and random
// others.
func (n *Network) pick(p peer.ID, closest, random int) []peer.ID {
	n.mu.Lock()
	defer n.mu.Unlock()
	ids := make([]peer.ID, 0, len(n.servers))
	for _, s := range n.servers {
		if s.host.ID() != p {
			ids = append(ids, s.host.ID())
		}
	}
	sorted := ids
	if closest > 0 {
		// A hash per server, under n.mu: only when it is needed.
		sorted = kb.SortClosestPeers(ids, kb.ConvertPeerID(p))
	}
	out := slices.Clone(sorted[:min(closest, len(sorted))])
	rest := sorted[len(out):]
	for range min(random, len(rest)) {
		j := n.rng.IntN(len(rest))
		out = append(out, rest[j])
		rest = slices.Delete(slices.Clone(rest), j, j+1)
	}
	return out
}

// Churn takes k live DHT servers off the network and brings as many on:
// most of the Amino network's churn is the same peers going offline and
// coming back (with what they stored, as a restarted Kubo keeps its
// datastore), the rest new peers. A server that leaves drops its links and
// connections (no one can dial it), and waits offline; those that come back are
// drawn at random from the offline ones once there are at least twice as
// many as come on per batch, so a server stays away for a few simulated
// hours at random, and new servers (new identities, empty stores) make up
// the rest. Reusing peers also bounds the process: the mocknet never
// forgets a peer it was given, so a month of 20 %/hour churn by new peers
// alone at N = 1,000 (144,000 joins) outgrows the machine.
func (n *Network) Churn(ctx context.Context, k int) (int, error) {
	n.mu.Lock()
	gone := n.drawLocked(&n.servers, k)
	var back []*server
	if len(n.offline) >= 2*len(gone) {
		back = n.drawLocked(&n.offline, len(gone))
	}
	n.offline = append(n.offline, gone...)
	n.mu.Unlock()
	// A batch is a few hundred servers, each in about a hundred tables:
	// the table updates run on every core, or a batch outlasts its
	// simulated hour at N = 1,000.
	parallel(gone, func(s *server) {
		n.takeDown(s.host.ID())
		n.evict(s.host.ID())
	})
	for range len(gone) - len(back) {
		if ctx.Err() != nil {
			break
		}
		s, err := n.newServer()
		if err != nil {
			return 0, err
		}
		back = append(back, s)
	}
	for _, s := range back {
		n.setUp(s.host.ID())
	}
	n.mu.Lock()
	n.servers = append(n.servers, back...)
	n.mu.Unlock()
	parallel(back, n.rewire)
	return len(gone), nil
}

// parallel calls f for every element of xs, on as many goroutines at once
// as the process has cores, and returns when every call has.
func parallel[T any](xs []T, f func(T)) {
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, x := range xs {
		g.Go(func() error { f(x); return nil })
	}
	_ = g.Wait() // f returns nothing to wait for but its end
}

// AddServers starts k more DHT servers, online and wired. With
// TakeOffline it gives a churning run servers to bring back that were
// online before it began and hold what was stored then, as a restarted
// Kubo does; starting new (empty) servers during the run would also cost
// its first hours more than the churn ticker's half second.
func (n *Network) AddServers(k int) error {
	var added []*server
	for range k {
		s, err := n.newServer()
		if err != nil {
			return err
		}
		n.setUp(s.host.ID())
		n.mu.Lock()
		n.servers = append(n.servers, s)
		n.mu.Unlock()
		added = append(added, s)
	}
	for _, s := range added {
		n.wire(s)
	}
	return nil
}

// drawLocked removes up to k servers drawn at random from *from and
// returns them.
func (n *Network) drawLocked(from *[]*server, k int) []*server {
	var out []*server
	for range min(k, len(*from)) {
		j := n.rng.IntN(len(*from))
		out = append(out, (*from)[j])
		*from = slices.Delete(*from, j, j+1)
	}
	return out
}

// TakeOffline takes k live DHT servers, drawn at random, off the network,
// bringing none on.
func (n *Network) TakeOffline(k int) {
	n.mu.Lock()
	gone := n.drawLocked(&n.servers, k)
	n.offline = append(n.offline, gone...)
	n.mu.Unlock()
	for _, s := range gone {
		n.takeDown(s.host.ID())
		n.evict(s.host.ID())
	}
}

// remove closes a peer and drops its links, so the mocknet does not grow
// with churn.
func (n *Network) remove(p peer.ID, closeFn func() error) error {
	n.takeDown(p)
	err := closeFn()
	n.mu.Lock()
	delete(n.bw, p)
	n.mu.Unlock()
	return err
}

// bootstrapFor is the DHT servers an island node starts from.
func (n *Network) bootstrapFor(p peer.ID) []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, q := range n.pick(p, 0, islandBootstrap) {
		out = append(out, peer.AddrInfo{ID: q, Addrs: n.mn.Host(q).Addrs()})
	}
	return out
}

// nodeConfig is an island node on host h: DHT client or server, intervals
// scaled.
func (n *Network) nodeConfig(h host.Host, key crypto.PrivKey, ds datastore.Batching, bs blockstore.Blockstore, server bool) node.Config {
	cfg := node.DefaultConfig()
	cfg.Identity = key
	cfg.Host = h
	cfg.DHTServer = server
	cfg.Datastore = ds
	cfg.Blockstore = bs
	cfg.Bootstrap = n.bootstrapFor(h.ID())
	cfg.ReprovideInterval = n.cfg.scaled(amino.DefaultReprovideInterval)
	cfg.FetchTimeout = 20 * time.Second
	cfg.Logger = n.log
	return cfg
}
