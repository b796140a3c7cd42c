package repo

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// RegisterRoots adds a named source of roots, kept whole by gc and
// announced by the node (site history, followed sites, ...); registering a
// name again replaces it. Pins are always roots and need no registration.
func (r *Repo) RegisterRoots(name string, f RootsFunc) {
	r.rootsMu.Lock()
	defer r.rootsMu.Unlock()
	r.roots[name] = f
}

// Protect keeps what is present of root's DAG from gc until release is
// called: for a fetch from peers, which holds no PinLock while it waits on
// the network. Blocks a Stage flushes into the store take PinLock for the
// flush, so they land either before a collection's mark, which then sees
// them, or after its sweep. Hold PinLock again to pin the DAG once it is
// complete, and release only after that.
func (r *Repo) Protect(root cid.Cid) (release func()) {
	r.rootsMu.Lock()
	r.inFlight[root]++
	r.rootsMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.rootsMu.Lock()
			defer r.rootsMu.Unlock()
			if r.inFlight[root]--; r.inFlight[root] <= 0 {
				delete(r.inFlight, root)
			}
		})
	}
}

// protected lists the roots of fetches in flight.
func (r *Repo) protected() []cid.Cid {
	r.rootsMu.Lock()
	defer r.rootsMu.Unlock()
	out := make([]cid.Cid, 0, len(r.inFlight))
	for c := range r.inFlight {
		out = append(out, c)
	}
	return out
}

// GCResult says what a collection did.
type GCResult struct {
	// Kept counts the blocks reachable from a root; Removed the others,
	// deleted, of FreedBytes bytes in all.
	Kept, Removed int
	FreedBytes    uint64
}

// MissingRootError stops a collection that cannot see a whole DAG it must
// keep: a block it cannot read may link to blocks that are present, and
// those would otherwise look unreachable.
type MissingRootError struct {
	Source string // "pins" or the name given to RegisterRoots
	Root   cid.Cid
	Err    error
}

func (e *MissingRootError) Error() string {
	return fmt.Sprintf("repo: gc: the DAG of %s root %s is incomplete (%v); nothing was removed. Fetch the missing blocks (pin add, dag import) or unpin it, then run gc again",
		e.Source, e.Root, e.Err)
}

func (e *MissingRootError) Unwrap() error { return e.Err }

// GC deletes every block not reachable from Roots: the pins, whoever holds
// them, and the registered sources.
//
// Mark, then sweep, with GC locked so no PinLock holder runs in between:
// a block written after the mark could otherwise be swept before it is
// pinned. The mark walks whole DAGs and fails, deleting nothing, if any
// block of them cannot be read. Deleting a block nothing reaches is always
// safe, so a crash in the middle of the sweep leaves a consistent repo with
// some garbage left for the next run.
func (r *Repo) GC(ctx context.Context) (GCResult, error) {
	unlock := r.gcLocker.GCLock(ctx)
	defer unlock.Unlock(ctx)
	// Cancelled on return so the key lister stops if the sweep fails.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	live, err := r.mark(ctx)
	if err != nil {
		return GCResult{}, err
	}
	keys, errFn, err := r.allKeys(ctx)
	if err != nil {
		return GCResult{}, err
	}
	var (
		res   GCResult
		small bool
	)
	for c := range keys {
		if _, ok := live[string(c.Hash())]; ok {
			res.Kept++
			continue
		}
		size, _ := r.bstore.GetSize(ctx, c) // only for the report
		if err := r.bstore.DeleteBlock(ctx, c); err != nil && !ipld.IsNotFound(err) {
			return res, fmt.Errorf("repo: gc: delete %s: %w", c, err)
		}
		res.Removed++
		if size > 0 {
			res.FreedBytes += uint64(size)
		}
		small = small || size < smallBlockMax
	}
	if err := errFn(); err != nil {
		return res, fmt.Errorf("repo: gc: list blocks: %w", err)
	}
	if err := r.Sync(ctx); err != nil {
		return res, err
	}
	if small {
		// pebble frees the space of deleted keys only as it compacts them
		// away; compact the blocks now, so the quota sees the room.
		if err := r.stores.compactBlocks(ctx); err != nil {
			return res, fmt.Errorf("repo: gc: compact: %w", err)
		}
	}
	return res, nil
}

// mark returns the multihashes of every block reachable from a root. Keys
// are multihashes because the store is: two CIDs differing only in codec
// name the same block.
func (r *Repo) mark(ctx context.Context) (map[string]struct{}, error) {
	sets, err := r.Roots(ctx)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	live := map[string]struct{}{}
	visit := func(c cid.Cid) bool {
		mu.Lock()
		defer mu.Unlock()
		k := string(c.Hash())
		if _, seen := live[k]; seen {
			return false
		}
		live[k] = struct{}{}
		return true
	}
	// Whole DAGs first: a block marked by a direct pin counts as visited, so
	// were it marked first, a walk reaching it later would not descend.
	slices.SortStableFunc(sets, func(a, b RootSet) int {
		if a.Recursive == b.Recursive {
			return 0
		}
		if a.Recursive {
			return -1
		}
		return 1
	})
	// What a fetch in flight has so far is kept; what it lacks is not an
	// error, unlike for a root that must be whole.
	for _, root := range r.protected() {
		if err := merkledag.Walk(ctx, r.presentLinksOf, root, visit, merkledag.Concurrent()); err != nil {
			return nil, fmt.Errorf("repo: gc: walk %s, fetched in flight: %w", root, err)
		}
	}
	for _, set := range sets {
		for _, root := range set.Roots {
			if !set.Recursive {
				if _, err := r.bstore.GetSize(ctx, root); err != nil {
					return nil, &MissingRootError{Source: set.Source, Root: root, Err: err}
				}
				visit(root)
				continue
			}
			if err := merkledag.Walk(ctx, r.linksOf, root, visit, merkledag.Concurrent()); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, &MissingRootError{Source: set.Source, Root: root, Err: err}
			}
		}
	}
	return live, nil
}

// allKeys lists every stored block; the returned function reports an error
// that ended the listing early and must be called after the channel is drained.
func (r *Repo) allKeys(ctx context.Context) (<-chan cid.Cid, func() error, error) {
	if bs, ok := r.bstore.(interface {
		AllKeysChanWithErr(context.Context) (<-chan cid.Cid, func() error, error)
	}); ok {
		return bs.AllKeysChanWithErr(ctx)
	}
	ch, err := r.bstore.AllKeysChan(ctx)
	if err != nil {
		return nil, nil, err
	}
	return ch, func() error { return nil }, nil
}

// presentLinksOf is linksOf for a DAG that may be incomplete: a block the
// store lacks has no links.
func (r *Repo) presentLinksOf(ctx context.Context, c cid.Cid) ([]*ipld.Link, error) {
	links, err := r.linksOf(ctx, c)
	if ipld.IsNotFound(err) {
		return nil, nil
	}
	return links, err
}

// linksOf returns the links of block c. Raw blocks have none, so they are
// not read: marking a 1 GiB file then reads its 1,000-odd dag-pb nodes, not
// the gigabyte.
func (r *Repo) linksOf(ctx context.Context, c cid.Cid) ([]*ipld.Link, error) {
	if c.Prefix().Codec == cid.Raw {
		return nil, nil
	}
	return ipld.GetLinks(ctx, r.dag, c)
}

// DAGSize is the bytes of the blocks of root's DAG, each counted once;
// raw leaves are sized without being read. The DAG must be complete.
func (r *Repo) DAGSize(ctx context.Context, root cid.Cid) (uint64, error) {
	var (
		mu   sync.Mutex
		seen = map[string]struct{}{}
		size uint64
		serr error
	)
	visit := func(c cid.Cid) bool {
		mu.Lock()
		defer mu.Unlock()
		k := string(c.Hash())
		if _, ok := seen[k]; ok {
			return false
		}
		seen[k] = struct{}{}
		n, err := r.bstore.GetSize(ctx, c)
		if err != nil && serr == nil {
			serr = err
		}
		size += uint64(max(n, 0))
		return true
	}
	if err := merkledag.Walk(ctx, r.linksOf, root, visit, merkledag.Concurrent()); err != nil {
		return 0, fmt.Errorf("repo: size of %s: %w", root, err)
	}
	if serr != nil {
		return 0, fmt.Errorf("repo: size of %s: %w", root, serr)
	}
	return size, nil
}
