package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"

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

	mu      sync.Mutex
	rng     *rand.Rand
	next    int                 // index for the next peer's address
	bw      map[peer.ID]float64 // upload bandwidth, bytes/s
	servers []*server           // the Amino DHT servers alive now
	islands map[peer.ID]*Island
}

// server is one Amino DHT server: kad-dht as Kubo runs it, no island code.
type server struct {
	host host.Host
	dht  *dht.IpfsDHT
	key  kb.ID
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
	}
	for range servers {
		s, err := n.newServer()
		if err != nil {
			n.Close()
			return nil, err
		}
		n.servers = append(n.servers, s)
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
	servers := n.servers
	islands := make([]*Island, 0, len(n.islands))
	for _, i := range n.islands {
		islands = append(islands, i)
	}
	n.servers, n.islands = nil, map[peer.ID]*Island{}
	n.mu.Unlock()
	var errs []error
	for _, i := range islands {
		errs = append(errs, i.Close())
	}
	for _, s := range servers {
		errs = append(errs, s.close())
	}
	errs = append(errs, n.mn.Close())
	return errors.Join(errs...)
}

func (s *server) close() error { return errors.Join(s.dht.Close(), s.host.Close()) }

// newPeer adds a host with a fresh identity and a public-looking address,
// linked to every live peer with a drawn latency and bandwidth.
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
	if err := n.linkAll(h.ID()); err != nil {
		_ = h.Close()
		return nil, nil, err
	}
	return h, key, nil
}

func seedBytes(s uint64) [32]byte {
	var b [32]byte
	for i := range 8 {
		b[i] = byte(s >> (8 * i))
	}
	return b
}

// linkAll links p to every live peer. The RTT of a pair is drawn from its
// own seeded generator, so it does not depend on the order peers join in.
func (n *Network) linkAll(p peer.ID) error {
	n.mu.Lock()
	others := n.livePeersLocked()
	bw := n.bw
	n.mu.Unlock()
	for _, q := range others {
		if q == p {
			continue
		}
		l, err := n.mn.LinkPeers(p, q)
		if err != nil {
			return fmt.Errorf("sim: link: %w", err)
		}
		a, b := string(p), string(q)
		if a > b {
			a, b = b, a
		}
		r := rand.New(rand.NewPCG(n.cfg.Seed, hash64(a+b)))
		n.mu.Lock()
		rate := min(bw[p], bw[q])
		n.mu.Unlock()
		l.SetOptions(mocknet.LinkOptions{Latency: n.cfg.RTT.Draw(r) / 2, Bandwidth: rate})
	}
	return nil
}

func hash64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// livePeersLocked lists every live peer, servers and island nodes.
func (n *Network) livePeersLocked() []peer.ID {
	out := make([]peer.ID, 0, len(n.servers)+len(n.islands))
	for _, s := range n.servers {
		out = append(out, s.host.ID())
	}
	for id := range n.islands {
		out = append(out, id)
	}
	return out
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
	n.mu.Lock()
	byCPL := map[int][]*server{}
	for _, q := range n.servers {
		if q != s {
			c := kb.CommonPrefixLen(s.key, q.key)
			byCPL[c] = append(byCPL[c], q)
		}
	}
	var picked []*server
	for _, qs := range byCPL {
		n.rng.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
		picked = append(picked, qs[:min(bucketSize, len(qs))]...)
	}
	n.mu.Unlock()
	for _, q := range picked {
		s.host.Peerstore().AddAddrs(q.host.ID(), q.host.Addrs(), peerstore.PermanentAddrTTL)
		if _, err := s.dht.RoutingTable().TryAddPeer(q.host.ID(), true, false); err != nil {
			n.log.Debug("wire", "err", err)
		}
		// A full bucket refuses a newcomer, as kad-dht's does.
		q.host.Peerstore().AddAddrs(p, s.host.Addrs(), peerstore.PermanentAddrTTL)
		_, _ = q.dht.RoutingTable().TryAddPeer(p, true, false)
	}
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
	sorted := kb.SortClosestPeers(ids, kb.ConvertPeerID(p))
	out := slices.Clone(sorted[:min(closest, len(sorted))])
	rest := sorted[len(out):]
	for range min(random, len(rest)) {
		j := n.rng.IntN(len(rest))
		out = append(out, rest[j])
		rest = slices.Delete(slices.Clone(rest), j, j+1)
	}
	return out
}

// Churn replaces share of the DHT servers with new ones (new identities,
// empty stores), as peers leave the Amino network and others join.
func (n *Network) Churn(ctx context.Context, share float64) (int, error) {
	n.mu.Lock()
	k := int(share*float64(len(n.servers)) + n.rng.Float64()) // rounds at random, keeping the mean
	var gone []*server
	for range min(k, len(n.servers)) {
		j := n.rng.IntN(len(n.servers))
		gone = append(gone, n.servers[j])
		n.servers = slices.Delete(n.servers, j, j+1)
	}
	n.mu.Unlock()
	for _, s := range gone {
		if err := n.remove(s.host.ID(), s.close); err != nil {
			return 0, err
		}
	}
	fresh := make([]*server, 0, len(gone))
	for range gone {
		s, err := n.newServer()
		if err != nil {
			return 0, err
		}
		fresh = append(fresh, s)
	}
	n.mu.Lock()
	n.servers = append(n.servers, fresh...)
	n.mu.Unlock()
	for _, s := range fresh {
		n.wire(s)
	}
	return len(gone), nil
}

// remove closes a peer and drops its links, so the mocknet does not grow
// with churn.
func (n *Network) remove(p peer.ID, closeFn func() error) error {
	err := closeFn()
	n.mu.Lock()
	others := n.livePeersLocked()
	delete(n.bw, p)
	n.mu.Unlock()
	for _, q := range others {
		_ = n.mn.UnlinkPeers(p, q)
	}
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
