package node

import (
	"context"
	"sync"
	"time"

	"github.com/ipfs/boxo/bitswap"
	bsclient "github.com/ipfs/boxo/bitswap/client"
	bsiface "github.com/ipfs/boxo/bitswap/network"
	bsserver "github.com/ipfs/boxo/bitswap/server"
	"github.com/ipfs/boxo/bitswap/tracer"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/exchange"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	mh "github.com/multiformats/go-multihash"
)

// Bitswap tuning. boxo's defaults suit a gateway serving thousands of small
// requests; island mostly moves whole sites and files between a few peers,
// so the server may keep more data in flight per peer.
const (
	// maxOutstandingBytesPerPeer bounds the data the server has queued but
	// not yet sent to one peer. boxo's default (1 MiB) is a single block of
	// the unixfs-v1-2025 profile: the server then waits for each 1 MiB block
	// to be written before reading the next, and the connection idles in
	// between. 16 MiB keeps a loopback or LAN pipe full while still bounding
	// what one greedy peer can make the node buffer.
	maxOutstandingBytesPerPeer = 16 << 20
	// targetMessageSize lets the server pack several small blocks into one
	// message (boxo: 16 KiB). Large blocks still go one per message.
	targetMessageSize = 1 << 20
	// engineTaskWorkers and taskWorkers (boxo: 8 each) read wanted blocks
	// from the blockstore and write messages; the server spends its time in
	// the blockstore and in syscalls, not on the CPU, so a few more workers
	// than cores hide the disk's latency.
	engineTaskWorkers = 8
	taskWorkers       = 8
	// maxEagerProviders bounds how many providers one eager discovery dials.
	maxEagerProviders = 8
	// eagerDialTimeout bounds one such dial.
	eagerDialTimeout = 15 * time.Second
)

// newBitswap starts bitswap (client and server) on net. It must run before
// the node dials anyone, so it hears about every connection.
func newBitswap(ctx context.Context, net bsiface.BitSwapNetwork, router routing.ContentDiscovery, bs blockstore.Blockstore, tr tracer.Tracer) *bitswap.Bitswap {
	return bitswap.New(ctx, net, router, bs,
		bitswap.WithServerEnabled(true),
		bitswap.WithTracer(tr),
		bitswap.WithServerOption(bsserver.MaxOutstandingBytesPerPeer(maxOutstandingBytesPerPeer)),
		bitswap.WithServerOption(bsserver.WithTargetMessageSize(targetMessageSize)),
		bitswap.WithServerOption(bsserver.EngineTaskWorkerCount(engineTaskWorkers)),
		bitswap.WithServerOption(bsserver.TaskWorkerCount(taskWorkers)),
		// Counting duplicate blocks costs a blockstore lookup per received
		// block; nobody reads the count.
		bitswap.WithClientOption(bsclient.WithoutDuplicatedBlockStats()),
	)
}

// eagerExchange wraps bitswap so that the first block a request misses sends
// a DHT provider lookup at once, in parallel with bitswap asking the
// connected peers, and dials what it finds; bitswap then offers its wants to
// each new connection. Bitswap alone waits a full second (its provider
// search delay) before it asks the DHT, which is most of a cold fetch. The
// lookup only ever runs for blocks missing locally, once per session.
type eagerExchange struct {
	*bitswap.Bitswap
	n *Node
}

var _ exchange.SessionExchange = (*eagerExchange)(nil)

func (e *eagerExchange) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	if b, ok := knownBlock(c); ok {
		return b, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	guardWants(ctx, c)
	e.n.discover(ctx, c)
	return e.Bitswap.GetBlock(ctx, c)
}

func (e *eagerExchange) GetBlocks(ctx context.Context, cids []cid.Cid) (<-chan blocks.Block, error) {
	known, rest := splitKnown(cids)
	if len(rest) > 0 {
		guardWants(ctx, rest...)
		e.n.discover(ctx, rest[0])
	}
	return withKnown(ctx, known, rest, e.Bitswap.GetBlocks)
}

func (e *eagerExchange) NewSession(ctx context.Context) exchange.Fetcher {
	return &eagerSession{Fetcher: e.Bitswap.NewSession(ctx), ctx: ctx, n: e.n}
}

// eagerSession runs one discovery for a whole session: the blocks of one DAG
// usually come from the same providers, and bitswap's own periodic search
// covers the rest.
type eagerSession struct {
	exchange.Fetcher
	ctx  context.Context
	n    *Node
	once sync.Once
}

func (s *eagerSession) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	if b, ok := knownBlock(c); ok {
		return b, nil
	}
	guardWants(ctx, c)
	s.once.Do(func() { s.n.discover(s.ctx, c) })
	return s.Fetcher.GetBlock(ctx, c)
}

func (s *eagerSession) GetBlocks(ctx context.Context, cids []cid.Cid) (<-chan blocks.Block, error) {
	known, rest := splitKnown(cids)
	if len(rest) > 0 {
		guardWants(ctx, rest...)
		s.once.Do(func() { s.n.discover(s.ctx, rest[0]) })
	}
	return withKnown(ctx, known, rest, s.Fetcher.GetBlocks)
}

// knownBlock builds the blocks whose data the CID alone determines: inline
// (identity) CIDs, and empty blocks. Bitswap cannot move an empty block (its
// server reports a size of 0 as "have", never as a block), yet every empty
// file imported with raw leaves is one.
func knownBlock(c cid.Cid) (blocks.Block, bool) {
	p := c.Prefix()
	if p.MhType == mh.IDENTITY {
		dm, err := mh.Decode(c.Hash())
		if err != nil {
			return nil, false
		}
		b, err := blocks.NewBlockWithCid(dm.Digest, c)
		return b, err == nil
	}
	empty, err := p.Sum(nil)
	if err != nil || !empty.Equals(c) {
		return nil, false
	}
	b, err := blocks.NewBlockWithCid(nil, c)
	return b, err == nil
}

func splitKnown(cids []cid.Cid) (known []blocks.Block, rest []cid.Cid) {
	rest = cids
	for i, c := range cids {
		b, ok := knownBlock(c)
		if !ok {
			if known != nil {
				rest = append(rest, c)
			}
			continue
		}
		if known == nil {
			rest = append([]cid.Cid(nil), cids[:i]...)
		}
		known = append(known, b)
	}
	return known, rest
}

// withKnown returns the known blocks followed by what get fetches of rest.
func withKnown(ctx context.Context, known []blocks.Block, rest []cid.Cid,
	get func(context.Context, []cid.Cid) (<-chan blocks.Block, error)) (<-chan blocks.Block, error) {
	if len(known) == 0 {
		return get(ctx, rest)
	}
	var fetched <-chan blocks.Block
	if len(rest) > 0 {
		var err error
		if fetched, err = get(ctx, rest); err != nil {
			return nil, err
		}
	}
	out := make(chan blocks.Block)
	go func() {
		defer close(out)
		for _, b := range known {
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
		}
		for b := range fetched {
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// discover looks up providers of c in the background and dials those the
// node is not connected to. It stops when ctx or the node ends.
func (n *Node) discover(ctx context.Context, c cid.Cid) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(n.ctx, cancel)
	started := n.goBG(func() error {
		defer stop()
		defer cancel()
		var wg sync.WaitGroup
		for p := range n.dht.FindProvidersAsync(ctx, c, maxEagerProviders) {
			if p.ID == n.host.ID() || n.connected(p.ID) {
				continue
			}
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(allowLimited(ctx), eagerDialTimeout)
				defer cancel()
				// A relayed connection will do: bitswap uses it within
				// its limits while hole punching looks for a direct one.
				if err := n.host.Connect(ctx, p); err != nil {
					n.log.Debug("dial provider", "cid", c, "peer", p.ID, "err", err)
				}
			})
		}
		wg.Wait()
		return nil
	})
	if !started {
		stop()
		cancel()
	}
}

// providersOf collects up to limit providers of c from the DHT.
func (n *Node) providersOf(ctx context.Context, c cid.Cid, limit int) []peer.AddrInfo {
	var out []peer.AddrInfo
	for p := range n.dht.FindProvidersAsync(ctx, c, limit) {
		out = append(out, p)
	}
	return out
}
