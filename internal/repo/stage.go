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
	mh "github.com/multiformats/go-multihash"
)

// Stage is a write-behind blockstore for the blocks a fetch receives from
// peers. Written straight into the store, every 1 MiB block would cost a
// file fsync and a directory fsync before the next one could land, one after
// the other: that, not the network, was what held a loopback transfer to
// about 250 MiB/s. A Stage writes each block into a batch instead (a
// temporary file fsynced in the background for a big block, memory for a
// small one), and Flush moves everything staged into the store at once,
// syncing each directory once.
//
// Nothing staged is visible to the store's readers (gc, pins, the bitswap
// server, other commands) before Flush: a crash loses at most the unflushed
// blocks, and never leaves a partial or unsynced block in the store. The
// Stage itself answers Has and Get for what it staged, from memory, so the
// fetch it serves sees its own blocks at once. Memory is what the caller
// lets pile up between Flushes.
//
// A Stage takes PinLock only while Flush moves blocks into the store, so
// they land wholly before a collection or after it: Protect the fetch's
// root so that a collection in between keeps what landed, and take PinLock
// to pin the DAG once it is complete.
type Stage struct {
	r *Repo

	// batchMu is held shared by Put while it stages, exclusively by Flush
	// while it commits and replaces the batch.
	batchMu sync.RWMutex
	batch   *blockBatch

	mu     sync.Mutex
	staged map[string]blocks.Block // by multihash
	err    error                   // the first write error; the Stage is dead after it
	closed bool
}

var _ blockstore.Blockstore = (*Stage)(nil)

// ErrStageClosed is returned by a Stage used after Close.
var ErrStageClosed = errors.New("repo: stage closed")

// BeginStage starts a Stage. Flush what must be kept, then Close it.
func (r *Repo) BeginStage(ctx context.Context) (*Stage, error) {
	b, err := r.stores.blocks.newBatch(ctx)
	if err != nil {
		return nil, fmt.Errorf("repo: start stage: %w", err)
	}
	return &Stage{r: r, batch: b, staged: map[string]blocks.Block{}}, nil
}

// Put stages b, unless the Stage already holds it. It does not ask the store:
// the blockservice puts only blocks it just failed to read, and writing a
// block the store has again is harmless. b's bytes must not be modified
// afterwards.
func (s *Stage) Put(ctx context.Context, b blocks.Block) error {
	c := b.Cid()
	if c.Prefix().MhType == mh.IDENTITY {
		return nil
	}
	s.batchMu.RLock()
	defer s.batchMu.RUnlock()
	key := string(c.Hash())
	s.mu.Lock()
	_, dup := s.staged[key]
	err := s.err
	if s.closed {
		err = ErrStageClosed
	}
	if err == nil && !dup {
		s.staged[key] = b
	}
	s.mu.Unlock()
	if err != nil || dup {
		return err
	}
	// A block that arrived is written even when the fetch that wanted it
	// was just canceled: keeping what arrived is the Stage's point, and a
	// canceled context must not pass for a write error that ends it
	// (flatfs's batch gives up waiting for a write slot on ctx).
	if err := s.batch.Put(context.WithoutCancel(ctx), dshelp.MultihashToDsKey(c.Hash()), b.RawData()); err != nil {
		return s.fail(fmt.Errorf("repo: stage block %s: %w", c, err))
	}
	return nil
}

// PutMany stages each block.
func (s *Stage) PutMany(ctx context.Context, bs []blocks.Block) error {
	for _, b := range bs {
		if err := s.Put(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// Flush makes everything staged so far part of the store, durably, and
// returns the blocks it moved. After an error the Stage is unusable: every
// call returns that error and the unflushed blocks are lost.
func (s *Stage) Flush(ctx context.Context) ([]blocks.Block, error) {
	s.batchMu.Lock()
	defer s.batchMu.Unlock()
	s.mu.Lock()
	err, n := s.err, len(s.staged)
	if s.closed {
		err = ErrStageClosed
	}
	s.mu.Unlock()
	if err != nil || n == 0 {
		return nil, err
	}
	unlock := s.r.PinLock(ctx)
	defer unlock.Unlock(ctx)
	if err := s.batch.Commit(ctx); err != nil {
		s.batch.Discard(ctx)
		return nil, s.fail(fmt.Errorf("repo: store staged blocks: %w", err))
	}
	next, err := s.r.stores.blocks.newBatch(ctx)
	if err != nil {
		return nil, s.fail(fmt.Errorf("repo: start stage: %w", err))
	}
	s.batch = next
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]blocks.Block, 0, len(s.staged))
	for _, b := range s.staged {
		out = append(out, b)
	}
	clear(s.staged)
	return out, nil
}

// Err is the write error that ended the Stage, if any: a fetch whose blocks
// stopped arriving reports it rather than a timeout.
func (s *Stage) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Stage) fail(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
	return s.err
}

// Close discards what was not flushed. It is idempotent.
func (s *Stage) Close() error {
	s.batchMu.Lock()
	defer s.batchMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	clear(s.staged)
	return s.batch.Discard(context.Background())
}

func (s *Stage) lookup(c cid.Cid) (blocks.Block, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.staged[string(c.Hash())]
	return b, ok
}

// Has reports whether the Stage or the store holds c.
func (s *Stage) Has(ctx context.Context, c cid.Cid) (bool, error) {
	if _, ok := s.lookup(c); ok {
		return true, nil
	}
	return s.r.bstore.Has(ctx, c)
}

// Get reads c from the Stage or the store.
func (s *Stage) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	if b, ok := s.lookup(c); ok {
		if b.Cid().Equals(c) {
			return b, nil
		}
		return blocks.NewBlockWithCid(b.RawData(), c) // same multihash, other codec
	}
	return s.r.bstore.Get(ctx, c)
}

// GetSize is the size of c in the Stage or the store.
func (s *Stage) GetSize(ctx context.Context, c cid.Cid) (int, error) {
	if b, ok := s.lookup(c); ok {
		return len(b.RawData()), nil
	}
	return s.r.bstore.GetSize(ctx, c)
}

// DeleteBlock is not supported: a Stage only adds.
func (s *Stage) DeleteBlock(context.Context, cid.Cid) error {
	return errors.New("repo: a stage cannot delete blocks")
}

// AllKeysChan lists the store's blocks; staged ones are not listed.
func (s *Stage) AllKeysChan(ctx context.Context) (<-chan cid.Cid, error) {
	return s.r.bstore.AllKeysChan(ctx)
}
