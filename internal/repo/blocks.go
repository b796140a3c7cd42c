package repo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	flatfs "github.com/ipfs/go-ds-flatfs"
	pebbleds "github.com/ipfs/go-ds-pebble"
)

// smallBlockMax splits blocks between the two stores: smaller ones go to
// pebble, the rest (full 1 MiB file chunks) to flatfs.
//
// A flatfs block costs a file create, an fsync, a rename and a directory
// fsync whatever its size; a pebble block costs its bytes in one sequential
// log write, fsynced once per import, plus compaction later. For 1 MiB
// chunks flatfs is 2-5x faster than pebble (which writes every byte
// twice and compacts on the CPU hashing needs); for the few-KiB blocks of a
// site's pages pebble is 4-8x faster (BenchmarkBlockWrites). Site images
// (tens to hundreds of KiB) sit below the line.
const smallBlockMax = 256 << 10

// stagedSmallMax bounds the small blocks an Import holds in memory until
// Commit. Past it, the import stages further small blocks as files, like big
// ones: slower (see smallBlockMax), but memory stays bounded and the import
// stays all-or-nothing.
const stagedSmallMax = 32 << 20

// commitChunk is the most bytes of small blocks written to pebble in one
// batch on Commit, so that committing does not copy them all at once.
const commitChunk = 8 << 20

// blockStore is the datastore under /blocks: a block lives in pebble
// (small) or flatfs (big), decided by its size when it is written. Keys are
// the blockstore's (dshelp.MultihashToDsKey).
type blockStore struct {
	small ds.Batching // pebble, namespaced under /blocks
	meta  *pebbleds.Datastore
	big   *flatfs.Datastore
	// stagedMax is stagedSmallMax (tests lower it).
	stagedMax int
	// quota refuses writes past the repo's StorageMax.
	quota quota

	// metaUsage is pebble's disk usage as read at metaAt.
	metaMu    sync.Mutex
	metaUsage uint64
	metaAt    time.Time
}

// diskUsage is what both stores take on disk: flatfs counts its files'
// sizes as it writes and deletes them, pebble its files (so blocks gc
// deletes from it count until compaction: see GC). pebble's figure is
// read at most every metaUsageEvery: reading it builds all of pebble's
// metrics, which once per block of an add cost it half its speed
// (BenchmarkAddCorpus2000); between reads the quota may be passed by what
// small blocks land in that time, a few MiB at most.
func (s *blockStore) diskUsage(ctx context.Context) (uint64, error) {
	big, err := s.big.DiskUsage(ctx)
	if err != nil {
		return 0, err
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	if now := time.Now(); now.Sub(s.metaAt) >= metaUsageEvery {
		if s.metaUsage, err = s.meta.DiskUsage(ctx); err != nil {
			return 0, err
		}
		s.metaAt = now
	}
	return big + s.metaUsage, nil
}

// metaUsageEvery is how long pebble's disk usage is taken as read.
const metaUsageEvery = 100 * time.Millisecond

var _ ds.Batching = (*blockStore)(nil)

func (s *blockStore) Get(ctx context.Context, k ds.Key) ([]byte, error) {
	v, err := s.small.Get(ctx, k)
	if errors.Is(err, ds.ErrNotFound) {
		return s.big.Get(ctx, k)
	}
	return v, err
}

// getInto is Get reading a flatfs block into buf when it fits; a block
// pebble holds comes as its own slice.
func (s *blockStore) getInto(ctx context.Context, k ds.Key, buf []byte) ([]byte, error) {
	v, err := s.small.Get(ctx, k)
	if errors.Is(err, ds.ErrNotFound) {
		return s.big.GetInto(ctx, k, buf)
	}
	return v, err
}

func (s *blockStore) Has(ctx context.Context, k ds.Key) (bool, error) {
	has, err := s.small.Has(ctx, k)
	if err != nil || has {
		return has, err
	}
	return s.big.Has(ctx, k)
}

func (s *blockStore) GetSize(ctx context.Context, k ds.Key) (int, error) {
	n, err := s.small.GetSize(ctx, k)
	if errors.Is(err, ds.ErrNotFound) {
		return s.big.GetSize(ctx, k)
	}
	return n, err
}

func (s *blockStore) Put(ctx context.Context, k ds.Key, v []byte) error {
	if err := s.quota.reserve(ctx, len(v)); err != nil {
		return err
	}
	// Written at once: from here the disk usage counts it.
	defer s.quota.release(int64(len(v)))
	if len(v) < smallBlockMax {
		return s.small.Put(ctx, k, v)
	}
	return s.big.Put(ctx, k, v)
}

func (s *blockStore) Delete(ctx context.Context, k ds.Key) error {
	has, err := s.small.Has(ctx, k)
	if err != nil {
		return err
	}
	if has {
		return s.small.Delete(ctx, k)
	}
	return s.big.Delete(ctx, k)
}

// Query lists both stores, small blocks first. Only key-order-free queries
// are answered natively; anything else is applied to the merged results.
func (s *blockStore) Query(ctx context.Context, q query.Query) (query.Results, error) {
	sub := q
	sub.Orders, sub.Limit, sub.Offset = nil, 0, 0
	a, err := s.small.Query(ctx, sub)
	if err != nil {
		return nil, err
	}
	b, err := s.big.Query(ctx, sub)
	if err != nil {
		a.Close()
		return nil, err
	}
	merged := query.ResultsWithContext(sub, func(qctx context.Context, out chan<- query.Result) {
		defer a.Close()
		defer b.Close()
		for _, r := range []query.Results{a, b} {
			for res := range r.Next() {
				select {
				case out <- res:
				case <-qctx.Done():
					return
				}
			}
		}
	})
	if len(q.Orders) == 0 && q.Limit == 0 && q.Offset == 0 {
		return merged, nil
	}
	rest := q
	rest.Prefix, rest.Filters = "", nil
	return query.NaiveQueryApply(rest, merged), nil
}

// Sync makes both stores durable: flatfs fsyncs as it writes, pebble's
// log is fsynced here.
func (s *blockStore) Sync(ctx context.Context, prefix ds.Key) error {
	return s.meta.Sync(ctx, prefix)
}

// Close is a no-op: the stores are closed by their owner (stores.close).
func (s *blockStore) Close() error { return nil }

func (s *blockStore) Batch(ctx context.Context) (ds.Batch, error) {
	return s.newBatch(ctx)
}

func (s *blockStore) newBatch(ctx context.Context) (*blockBatch, error) {
	big, err := s.big.Batch(ctx)
	if err != nil {
		return nil, err
	}
	return &blockBatch{s: s, big: big, small: map[ds.Key][]byte{}}, nil
}

// blockBatch stages blocks: big ones in a flatfs batch (temporary files,
// renamed into place on Commit), small ones in memory up to stagedSmallMax
// (written to pebble on Commit), the rest of the small ones as files too.
type blockBatch struct {
	s   *blockStore
	big ds.Batch

	mu         sync.Mutex
	small      map[ds.Key][]byte
	smallBytes int
	deletes    []ds.Key
	// reserved is what this batch counts against the quota until it is
	// committed (then the disk usage counts it) or discarded.
	reserved int64
}

func (b *blockBatch) Put(ctx context.Context, k ds.Key, v []byte) error {
	if len(v) < smallBlockMax {
		b.mu.Lock()
		_, dup := b.small[k]
		b.mu.Unlock()
		if dup {
			return nil
		}
	}
	if err := b.s.quota.reserve(ctx, len(v)); err != nil {
		return err
	}
	b.mu.Lock()
	b.reserved += int64(len(v))
	if len(v) < smallBlockMax {
		_, dup := b.small[k]
		fits := b.smallBytes+len(v) <= b.s.stagedMax
		if !dup && fits {
			b.small[k] = v
			b.smallBytes += len(v)
		}
		b.mu.Unlock()
		if dup || fits {
			return nil
		}
	} else {
		b.mu.Unlock()
	}
	return b.big.Put(ctx, k, v)
}

// unreserve gives back what the batch counted against the quota.
func (b *blockBatch) unreserve() {
	b.s.quota.release(b.reserved)
	b.reserved = 0
}

func (b *blockBatch) Delete(ctx context.Context, k ds.Key) error {
	b.mu.Lock()
	if v, ok := b.small[k]; ok {
		delete(b.small, k)
		b.smallBytes -= len(v)
	}
	b.deletes = append(b.deletes, k)
	b.mu.Unlock()
	return b.big.Delete(ctx, k)
}

// Get reads a block staged in this batch, or else from the store.
func (b *blockBatch) Get(ctx context.Context, k ds.Key) ([]byte, error) {
	b.mu.Lock()
	v, ok := b.small[k]
	b.mu.Unlock()
	if ok {
		return v, nil
	}
	if r, ok := b.big.(ds.Read); ok {
		v, err := r.Get(ctx, k) // the flatfs batch reads through to the store
		if !errors.Is(err, ds.ErrNotFound) {
			return v, err
		}
	}
	return b.s.Get(ctx, k)
}

// Commit publishes the big blocks (fsynced files, renamed), then writes the
// small ones to pebble and fsyncs its log: when it returns, every block is
// durable.
func (b *blockBatch) Commit(ctx context.Context) error {
	if err := b.big.Commit(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var (
		pb   ds.Batch
		size int
	)
	flush := func() error {
		if pb == nil {
			return nil
		}
		err := pb.Commit(ctx)
		pb, size = nil, 0
		if err != nil {
			return fmt.Errorf("write small blocks: %w", err)
		}
		return nil
	}
	put := func(k ds.Key, v []byte, del bool) error {
		if pb == nil {
			var err error
			if pb, err = b.s.small.Batch(ctx); err != nil {
				return err
			}
		}
		if del {
			return pb.Delete(ctx, k)
		}
		size += len(v)
		if err := pb.Put(ctx, k, v); err != nil {
			return err
		}
		if size >= commitChunk {
			return flush()
		}
		return nil
	}
	for k, v := range b.small {
		if err := put(k, v, false); err != nil {
			return err
		}
	}
	for _, k := range b.deletes {
		if err := put(k, nil, true); err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	clear(b.small)
	b.smallBytes, b.deletes = 0, nil
	b.unreserve()
	return b.s.meta.Sync(ctx, ds.NewKey("/"))
}

// Discard drops everything staged.
func (b *blockBatch) Discard(ctx context.Context) error {
	b.mu.Lock()
	clear(b.small)
	b.smallBytes, b.deletes = 0, nil
	b.unreserve()
	b.mu.Unlock()
	if d, ok := b.big.(flatfs.DiscardableBatch); ok {
		return d.Discard(ctx)
	}
	return nil
}

// metaView is the metadata store as the root mount sees it: pebble minus
// the small blocks it also holds under /blocks, which the mount serves from
// blockStore. Without the filter a query of "/" would list them twice.
type metaView struct {
	*pebbleds.Datastore
}

func (m metaView) Query(ctx context.Context, q query.Query) (query.Results, error) {
	q.Filters = append(slices.Clone(q.Filters), notBlocks{})
	return m.Datastore.Query(ctx, q)
}

type notBlocks struct{}

func (notBlocks) Filter(e query.Entry) bool {
	return !strings.HasPrefix(e.Key, "/blocks/")
}
