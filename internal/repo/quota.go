package repo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/ipfs/go-cid"
)

// The repo's quota works as Kubo's Datastore.StorageMax and
// StorageGCWatermark do: the stores may take up to StorageMax bytes on disk;
// once they pass the watermark (a percentage of it), MakeRoom collects the
// blocks nothing holds before more are written; a write that would pass
// StorageMax itself fails with a *FullError and leaves nothing behind.

// DefaultGCWatermark is the share of StorageMax (percent) past which
// MakeRoom collects garbage: Kubo's StorageGCWatermark.
const DefaultGCWatermark = 90

// defaultShareOfFree is how much of the disk space free when a repo first
// gets a quota it may grow into: half, leaving the rest to the person
// whose laptop it is.
const defaultShareOfFree = 2

// fallbackStorageMax is the quota when the free space cannot be read:
// Kubo's default StorageMax.
const fallbackStorageMax = 10_000_000_000

// ErrRepoFull is what a *FullError matches with errors.Is.
var ErrRepoFull = errors.New("repo full")

// FullError says a write was refused because the repo would pass its quota
// even after garbage collection: what it holds is held (pinned, a site
// version, a follow, a pinning request).
type FullError struct {
	Used, Max, Need uint64
}

func (e *FullError) Error() string {
	return fmt.Sprintf("repo full: %s of its %s quota used, %s more needed; run gc to remove what nothing holds, unpin something (pin rm, follow rm), or raise the quota (--storage-max, storageMax in config.json)",
		humanize.IBytes(e.Used), humanize.IBytes(e.Max), humanize.IBytes(e.Need))
}

func (e *FullError) Is(target error) bool { return target == ErrRepoFull }

// ErrTooBig is what a *TooBigError matches with errors.Is.
var ErrTooBig = errors.New("DAG too big")

// TooBigError says a DAG was not kept because it is larger than what its
// holder allows (a follow's --max-size, a pinning token's quota). Size is
// what the fetch had counted when it stopped: at least Max.
type TooBigError struct {
	Root      cid.Cid
	Max, Size uint64
	// Limit names the limit and how to raise it, for a person.
	Limit string
}

func (e *TooBigError) Error() string {
	return fmt.Sprintf("%s is larger than %s (%s counted when the fetch stopped): not kept; %s",
		e.Root, humanize.IBytes(e.Max), humanize.IBytes(e.Size), e.Limit)
}

func (e *TooBigError) Is(target error) bool { return target == ErrTooBig }

// ParseSize reads a size as people write it ("10GB", "512MiB", "1e9"); it
// must be positive.
func ParseSize(s string) (uint64, error) {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional unit, e.g. 10GB or 512MiB", s)
	}
	if n == 0 {
		return 0, fmt.Errorf("size %q: want more than 0 bytes", s)
	}
	return n, nil
}

// quota is the block store's account: what the stores hold on disk plus
// what open batches have staged and not committed yet.
type quota struct {
	max atomic.Uint64 // 0: no quota
	// pending is the bytes staged by batches (imports, stages) not yet
	// committed: temporary files and memory the disk usage does not count.
	pending atomic.Int64
	usage   func(context.Context) (uint64, error)
}

// reserve counts n bytes about to be written against the quota, or
// refuses them. Pending bytes are added before the check, so writers
// racing each other see each other's bytes.
func (q *quota) reserve(ctx context.Context, n int) error {
	max := q.max.Load()
	if max == 0 || n <= 0 {
		return nil
	}
	p := q.pending.Add(int64(n))
	used, err := q.usage(ctx)
	if err != nil {
		q.pending.Add(-int64(n))
		return err
	}
	if used+uint64(p) > max {
		q.pending.Add(-int64(n))
		return &FullError{Used: used + uint64(p) - uint64(n), Max: max, Need: uint64(n)}
	}
	return nil
}

func (q *quota) release(n int64) {
	if n != 0 {
		q.pending.Add(-n)
	}
}

// Usage is how much of its quota the repo uses.
type Usage struct {
	// UsedBytes is what the block and metadata stores take on disk, plus
	// what writes in progress have staged.
	UsedBytes uint64
	// MaxBytes is the quota (StorageMax).
	MaxBytes uint64
	// GCWatermark is the share of MaxBytes (percent) past which MakeRoom
	// collects garbage.
	GCWatermark int
}

// Usage says how full the repo is.
func (r *Repo) Usage(ctx context.Context) (Usage, error) {
	used, err := r.stores.blocks.quota.usage(ctx)
	if err != nil {
		return Usage{}, fmt.Errorf("repo: usage: %w", err)
	}
	used += uint64(max(r.stores.blocks.quota.pending.Load(), 0))
	return Usage{UsedBytes: used, MaxBytes: r.stores.blocks.quota.max.Load(), GCWatermark: r.watermark}, nil
}

// autoGCInterval is how soon after a collection that freed too little
// MakeRoom collects again, unless the repo has grown by a percent of its
// quota since: each collection reads every held DAG's nodes, so a repo
// full of held data must not pay for one before each write.
const autoGCInterval = time.Minute

// autoGC remembers the last collection MakeRoom ran.
type autoGC struct {
	mu   sync.Mutex
	at   time.Time
	used uint64 // the usage it left
}

// MakeRoom collects garbage when the repo is past its watermark, or would
// be with need more bytes: call it before a write, holding no PinLock (gc
// waits for every PinLock to be let go). It returns the collection's
// result, or nil when none ran. That a collection frees too little is no
// error here: the write itself then fails with a *FullError.
func (r *Repo) MakeRoom(ctx context.Context, need uint64) (*GCResult, error) {
	u, err := r.Usage(ctx)
	if err != nil || u.MaxBytes == 0 {
		return nil, err
	}
	mark := u.MaxBytes / 100 * uint64(u.GCWatermark)
	if u.UsedBytes+need < mark {
		return nil, nil
	}
	r.auto.mu.Lock()
	defer r.auto.mu.Unlock()
	if !r.auto.at.IsZero() && time.Since(r.auto.at) < autoGCInterval &&
		u.UsedBytes+need <= r.auto.used+u.MaxBytes/100 && u.UsedBytes+need <= u.MaxBytes {
		return nil, nil
	}
	res, err := r.GC(ctx)
	if err != nil {
		return nil, err
	}
	after, err := r.Usage(ctx)
	if err != nil {
		return nil, err
	}
	r.auto.at, r.auto.used = time.Now(), after.UsedBytes
	r.log.Info("repo past its gc watermark: collected garbage", "removed", res.Removed, "freed", res.FreedBytes,
		"used", after.UsedBytes, "max", after.MaxBytes)
	return &res, nil
}

// Room says whether the repo has room for n more bytes outside its blocks
// (a record kept for someone else, say): a *FullError if not.
func (r *Repo) Room(ctx context.Context, n int) error {
	q := &r.stores.blocks.quota
	if err := q.reserve(ctx, n); err != nil {
		return err
	}
	q.release(int64(n))
	return nil
}

// SetStorageMax changes the quota of the open repo (not config.json's).
func (r *Repo) SetStorageMax(n uint64) { r.stores.blocks.quota.max.Store(n) }

// defaultStorageMax is the quota a repo gets when config.json has none:
// what it uses now plus half the space free on its disk.
func defaultStorageMax(ctx context.Context, dir string, s *stores) uint64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return fallbackStorageMax
	}
	used, err := s.blocks.quota.usage(ctx)
	if err != nil {
		used = 0
	}
	free := uint64(st.Bavail) * uint64(st.Bsize) //nolint:unconvert // the field types differ by platform
	return used + free/defaultShareOfFree
}
