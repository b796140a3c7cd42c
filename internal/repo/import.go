package repo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ipfs/boxo/blockstore"
	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

// Import is an all-or-nothing write of new blocks, for `add` and CAR
// imports: a DAGService whose blocks are staged (written to temporary files
// and fsynced as they arrive, or for small ones held in memory up to
// stagedSmallMax) and become part of the store only on Commit. If the import
// fails, the process dies or the disk fills up before Commit, nothing of it
// is left in the store: Close discards what was staged, and the next Open
// removes what a crash left behind. (A crash during Commit itself can leave
// some of the blocks in the store, unpinned, for GC to remove.)
//
// An Import holds PinLock from Begin to Close, so GC cannot run between
// Commit and the pin that keeps the blocks; pin before closing.
type Import struct {
	r      *Repo
	batch  *blockBatch
	unlock blockstore.Unlocker

	mu        sync.Mutex
	committed bool
	closed    bool
}

var _ ipld.DAGService = (*Import)(nil)

// BeginImport starts an Import. Close it when done, committed or not.
func (r *Repo) BeginImport(ctx context.Context) (*Import, error) {
	unlock := r.PinLock(ctx)
	b, err := r.stores.blocks.newBatch(ctx)
	if err != nil {
		unlock.Unlock(ctx)
		return nil, fmt.Errorf("repo: start import: %w", err)
	}
	return &Import{r: r, batch: b, unlock: unlock}, nil
}

// Put stages one block. Blocks the store already has, and identity blocks
// (their data is in the CID), are skipped. The block's bytes must not be
// modified afterwards: they are written asynchronously.
func (im *Import) Put(ctx context.Context, b blocks.Block) error {
	c := b.Cid()
	if c.Prefix().MhType == mh.IDENTITY {
		return nil
	}
	k := dshelp.MultihashToDsKey(c.Hash())
	if has, err := im.r.stores.blocks.Has(ctx, k); err == nil && has {
		return nil
	}
	if err := im.batch.Put(ctx, k, b.RawData()); err != nil {
		return fmt.Errorf("repo: stage block %s: %w", c, err)
	}
	return nil
}

// Add stages nd's block (ipld.DAGService).
func (im *Import) Add(ctx context.Context, nd ipld.Node) error {
	return im.Put(ctx, nd)
}

// AddMany stages every node's block (ipld.DAGService).
func (im *Import) AddMany(ctx context.Context, nds []ipld.Node) error {
	for _, nd := range nds {
		if err := im.Put(ctx, nd); err != nil {
			return err
		}
	}
	return nil
}

// Get reads a block staged by this import or already stored.
func (im *Import) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	if c.Prefix().MhType == mh.IDENTITY {
		return im.r.dag.Get(ctx, c)
	}
	data, err := im.batch.Get(ctx, dshelp.MultihashToDsKey(c.Hash()))
	if errors.Is(err, ds.ErrNotFound) {
		return nil, ipld.ErrNotFound{Cid: c}
	}
	if err != nil {
		return nil, fmt.Errorf("repo: read %s: %w", c, err)
	}
	b, err := blocks.NewBlockWithCid(data, c)
	if err != nil {
		return nil, err
	}
	return linkDecoder.DecodeNode(ctx, b)
}

// GetMany is Get for each CID (ipld.DAGService).
func (im *Import) GetMany(ctx context.Context, cs []cid.Cid) <-chan *ipld.NodeOption {
	out := make(chan *ipld.NodeOption, len(cs))
	go func() {
		defer close(out)
		for _, c := range cs {
			nd, err := im.Get(ctx, c)
			select {
			case out <- &ipld.NodeOption{Node: nd, Err: err}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// Remove is not supported: an import only adds.
func (im *Import) Remove(context.Context, cid.Cid) error {
	return errors.New("repo: an import cannot remove blocks")
}

// RemoveMany is not supported: an import only adds.
func (im *Import) RemoveMany(context.Context, []cid.Cid) error {
	return errors.New("repo: an import cannot remove blocks")
}

// Commit makes every staged block part of the store, durably.
func (im *Import) Commit(ctx context.Context) error {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.closed || im.committed {
		return errors.New("repo: import already committed or closed")
	}
	if err := im.batch.Commit(ctx); err != nil {
		return fmt.Errorf("repo: store blocks: %w", err)
	}
	im.committed = true
	return nil
}

// Close discards what was not committed and lets GC run again. It is
// idempotent.
func (im *Import) Close() error {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.closed {
		return nil
	}
	im.closed = true
	ctx := context.Background()
	var err error
	if !im.committed {
		err = im.batch.Discard(ctx)
	}
	im.unlock.Unlock(ctx)
	return err
}
