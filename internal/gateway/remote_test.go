package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/gateway"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/stretchr/testify/require"
)

// slowExchange hands out any block asked for after a while, counting the
// retrievals running at once.
type slowExchange struct {
	running, most atomic.Int32
	blocks        map[cid.Cid]blocks.Block
}

func (e *slowExchange) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	n := e.running.Add(1)
	defer e.running.Add(-1)
	for {
		m := e.most.Load()
		if n <= m || e.most.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-time.After(20 * time.Millisecond):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	b, ok := e.blocks[c]
	if !ok {
		return nil, errors.New("nobody has it")
	}
	return b, nil
}

func (e *slowExchange) GetBlocks(ctx context.Context, cs []cid.Cid) (<-chan blocks.Block, error) {
	out := make(chan blocks.Block)
	go func() {
		defer close(out)
		for _, c := range cs {
			b, err := e.GetBlock(ctx, c)
			if err != nil {
				return
			}
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

func (e *slowExchange) NotifyNewBlocks(context.Context, ...blocks.Block) error { return nil }
func (e *slowExchange) Close() error                                           { return nil }
func (e *slowExchange) NewSession(context.Context) exchange.Fetcher            { return e }

// The gateway's retrievals from peers run at most max at once, blocks the
// repo holds take no slot, and a full repo answers 507 before any
// retrieval starts.
func TestRemoteRetrievalsAreBounded(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
	ex := &slowExchange{blocks: map[cid.Cid]blocks.Block{}}
	var remote []cid.Cid
	for i := range 12 {
		b := blocks.NewBlock(fmt.Appendf(nil, "remote %d", i))
		ex.blocks[b.Cid()] = b
		remote = append(remote, b.Cid())
	}
	local := blocks.NewBlock([]byte("held"))
	require.NoError(t, bs.Put(ctx, local))

	var full atomic.Bool
	room := func(context.Context, int) error {
		if full.Load() {
			return errors.New("repo full: 10 GiB of its 10 GiB quota used")
		}
		return nil
	}
	bserv := BoundedBlockService(bs, ex, 3, room)
	var wg sync.WaitGroup
	for _, c := range remote {
		wg.Go(func() {
			_, err := bserv.GetBlock(ctx, c)
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.Equal(t, int32(3), ex.most.Load(), "at most 3 retrievals at once")
	ses := BoundedBlockService(bs, ex, 1, room)
	ch := ses.GetBlocks(ctx, remote[:4])
	n := 0
	for range ch {
		n++
	}
	require.Equal(t, 4, n)

	full.Store(true)
	_, err := bserv.GetBlock(ctx, local.Cid())
	require.NoError(t, err, "what the repo holds is served whatever its quota")
	other := blocks.NewBlock([]byte("not here"))
	_, err = bserv.GetBlock(ctx, other.Cid())
	var status *gateway.ErrorStatusCode
	require.ErrorAs(t, err, &status)
	require.Equal(t, http.StatusInsufficientStorage, status.StatusCode)
	require.ErrorContains(t, err, "repo full")
}
