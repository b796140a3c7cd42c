package repo

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
	"golang.org/x/sync/errgroup"
)

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	// Blocks counts the blocks re-hashed.
	Blocks int
	// Corrupt lists stored blocks whose bytes do not hash to their key or
	// cannot be read (as raw CIDs: the store knows multihashes only).
	Corrupt []cid.Cid
	// Missing lists blocks of pinned DAGs that are not in the store.
	Missing []MissingBlock
}

// MissingBlock is a block a pinned DAG needs and the store lacks.
type MissingBlock struct {
	Pin   cid.Cid
	Block cid.Cid
}

// OK says whether the repo is sound.
func (v VerifyReport) OK() bool { return len(v.Corrupt) == 0 && len(v.Missing) == 0 }

// verifyWorkers re-hash blocks in parallel: hashing, not reading, is the
// bottleneck once the files are in the page cache.
const verifyWorkers = 4

// Verify re-hashes every stored block and walks every pinned DAG, reporting
// corrupt and missing blocks. It changes nothing; an error means the check
// itself could not run.
func (r *Repo) Verify(ctx context.Context) (VerifyReport, error) {
	// Hold GC off: a block it sweeps mid-walk would be reported missing.
	unlock := r.PinLock(ctx)
	defer unlock.Unlock(ctx)
	var rep VerifyReport
	corrupt, n, err := r.rehashAll(ctx)
	if err != nil {
		return rep, err
	}
	slices.SortFunc(corrupt, func(a, b cid.Cid) int { return strings.Compare(a.String(), b.String()) })
	rep.Blocks, rep.Corrupt = n, corrupt
	bad := make(map[string]bool, len(corrupt))
	for _, c := range corrupt {
		bad[string(c.Hash())] = true
	}
	// Pins only: other roots (a followed site being fetched) may be
	// incomplete by design.
	pins, err := r.Pins(ctx)
	if err != nil {
		return rep, err
	}
	// Recursive pins first, so a block seen under a direct pin (not
	// descended into) was already walked if it needs to be.
	seen := map[string]bool{}
	for _, mode := range []PinMode{Recursive, Direct} {
		for _, p := range pins {
			if p.Mode != mode {
				continue
			}
			missing, err := r.missingBlocks(ctx, p.CID, mode == Recursive, bad, seen)
			if err != nil {
				return rep, err
			}
			for _, m := range missing {
				rep.Missing = append(rep.Missing, MissingBlock{Pin: p.CID, Block: m})
			}
		}
	}
	return rep, nil
}

// rehashAll reads and re-hashes every block, returning those that fail.
func (r *Repo) rehashAll(ctx context.Context) ([]cid.Cid, int, error) {
	// Cancelled on return so the key lister stops if a worker fails.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	keys, errFn, err := r.allKeys(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("repo: verify: list blocks: %w", err)
	}
	var (
		mu      sync.Mutex
		corrupt []cid.Cid
		count   int
	)
	g, gctx := errgroup.WithContext(ctx)
	for range verifyWorkers {
		g.Go(func() error {
			for c := range keys {
				ok := r.rehash(gctx, c)
				mu.Lock()
				count++
				if !ok {
					corrupt = append(corrupt, c)
				}
				mu.Unlock()
			}
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	if err := errFn(); err != nil {
		return nil, 0, fmt.Errorf("repo: verify: list blocks: %w", err)
	}
	return corrupt, count, nil
}

// rehash says whether block c can be read and hashes to its multihash.
func (r *Repo) rehash(ctx context.Context, c cid.Cid) bool {
	data, err := r.stores.root.Get(ctx, blockKey(c))
	if err != nil {
		return false
	}
	dec, err := mh.Decode(c.Hash())
	if err != nil {
		return false
	}
	sum, err := mh.Sum(data, dec.Code, dec.Length)
	if err != nil {
		return false
	}
	return bytes.Equal(sum, c.Hash())
}

// missingBlocks walks the DAG of root (or only root, if not recursive) and
// returns the blocks it lacks. Corrupt blocks (already reported) are not
// descended into: their links cannot be trusted.
func (r *Repo) missingBlocks(ctx context.Context, root cid.Cid, recursive bool, bad, seen map[string]bool) ([]cid.Cid, error) {
	var missing []cid.Cid
	stack := []cid.Cid{root}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		k := string(c.Hash())
		if seen[k] || bad[k] {
			continue
		}
		seen[k] = true
		if !recursive || c.Prefix().Codec == cid.Raw {
			has, err := r.bstore.Has(ctx, c)
			if err != nil {
				return nil, fmt.Errorf("repo: verify: %s: %w", c, err)
			}
			if !has {
				missing = append(missing, c)
			}
			continue
		}
		// Reading the links is the presence check: one read, not two.
		links, err := r.linksOf(ctx, c)
		if ipld.IsNotFound(err) {
			missing = append(missing, c)
			continue
		}
		if err != nil {
			// A block in a codec island cannot decode: its links are
			// unknown, which is not damage.
			continue
		}
		for i := len(links) - 1; i >= 0; i-- {
			stack = append(stack, links[i].Cid)
		}
	}
	return missing, nil
}
