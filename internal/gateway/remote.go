package gateway

import (
	"context"
	"net/http"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/gateway"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// DefaultMaxRemoteRetrievals bounds the gateway's retrievals from peers
// running at once: any web page can make the gateway fetch any CID, and
// each retrieval holds bitswap wants, DHT lookups and connections.
const DefaultMaxRemoteRetrievals = 16

// remoteRoom is how much room a retrieval from peers must find in the repo
// before it starts: one block of the unixfs-v1-2025 profile.
const remoteRoom = 1 << 20

// BoundedBlockService is the gateway's block service: blocks the repo
// holds are read as ever, and a block it lacks is retrieved from peers
// through ex only while fewer than max retrievals run (the others wait for
// a slot, within the request's timeout) and while the repo has room (else
// the request answers 507, room says why). What is retrieved is written to
// bs, within the repo's quota.
func BoundedBlockService(bs blockstore.Blockstore, ex exchange.SessionExchange, max int, room func(ctx context.Context, n int) error) blockservice.BlockService {
	if max <= 0 {
		max = DefaultMaxRemoteRetrievals
	}
	return blockservice.New(bs, &boundedExchange{SessionExchange: ex, slots: make(chan struct{}, max), room: room})
}

// boundedExchange is ex with each retrieval taking a slot; blockservice
// calls it only for blocks the blockstore lacks.
type boundedExchange struct {
	exchange.SessionExchange
	slots chan struct{}
	room  func(ctx context.Context, n int) error
}

func (e *boundedExchange) acquire(ctx context.Context) error {
	if e.room != nil {
		if err := e.room(ctx, remoteRoom); err != nil {
			return gateway.NewErrorStatusCode(err, http.StatusInsufficientStorage)
		}
	}
	select {
	case e.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *boundedExchange) release() { <-e.slots }

func (e *boundedExchange) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	return boundedGet(ctx, e, e.SessionExchange, c)
}

func (e *boundedExchange) GetBlocks(ctx context.Context, cs []cid.Cid) (<-chan blocks.Block, error) {
	return boundedGets(ctx, e, e.SessionExchange, cs)
}

func (e *boundedExchange) NewSession(ctx context.Context) exchange.Fetcher {
	return &boundedFetcher{f: e.SessionExchange.NewSession(ctx), e: e}
}

// boundedFetcher is a session of boundedExchange: one page load's
// retrievals, each taking a slot.
type boundedFetcher struct {
	f exchange.Fetcher
	e *boundedExchange
}

func (s *boundedFetcher) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	return boundedGet(ctx, s.e, s.f, c)
}

func (s *boundedFetcher) GetBlocks(ctx context.Context, cs []cid.Cid) (<-chan blocks.Block, error) {
	return boundedGets(ctx, s.e, s.f, cs)
}

func boundedGet(ctx context.Context, e *boundedExchange, f exchange.Fetcher, c cid.Cid) (blocks.Block, error) {
	if err := e.acquire(ctx); err != nil {
		return nil, err
	}
	defer e.release()
	return f.GetBlock(ctx, c)
}

// boundedGets holds its slot until the blocks' channel closes.
func boundedGets(ctx context.Context, e *boundedExchange, f exchange.Fetcher, cs []cid.Cid) (<-chan blocks.Block, error) {
	if err := e.acquire(ctx); err != nil {
		return nil, err
	}
	in, err := f.GetBlocks(ctx, cs)
	if err != nil {
		e.release()
		return nil, err
	}
	out := make(chan blocks.Block)
	go func() {
		defer e.release()
		defer close(out)
		for b := range in {
			select {
			case out <- b:
			case <-ctx.Done():
				// The fetcher closes in once ctx ends: drain it.
				for range in {
				}
				return
			}
		}
	}()
	return out, nil
}
