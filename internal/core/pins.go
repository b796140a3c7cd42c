package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/islandsite/island/internal/repo"
)

// PinAdd fetches the whole DAG (online), checks that every block is in the
// repo, and holds it for the user.
func (c *Core) PinAdd(ctx context.Context, req PinAddRequest) (_ PinAdded, err error) {
	defer c.fail(&err, "pin add")
	root, err := c.resolve(ctx, req.Path, req.Lookup)
	if err != nil {
		return PinAdded{}, err
	}
	mode := repo.Direct
	if req.Recursive {
		mode = repo.Recursive
	}
	if err := c.fetchAndHold(ctx, root, userHolder, mode, nil, req.Progress, sizeLimit{}); err != nil {
		return PinAdded{}, fmt.Errorf("%s: %w", req.Path, err)
	}
	return PinAdded{CID: root.String(), Type: string(mode)}, nil
}

// PinRm drops the user's hold; the others' stay.
func (c *Core) PinRm(ctx context.Context, req PathRequest) (_ PinRemoved, err error) {
	defer c.fail(&err, "pin rm")
	root, err := c.resolve(ctx, req.Path, req.Lookup)
	if err != nil {
		return PinRemoved{}, err
	}
	if err := c.repo.Unpin(ctx, root, userHolder); err != nil {
		if nh, ok := errors.AsType[*repo.NotHeldError](err); ok && len(nh.Holds) > 0 {
			return PinRemoved{}, Errorf(CodeNotFound, "%s is not pinned by you, so there is nothing of yours to remove; %s keep it (see 'island pin ls')",
				root, describeHolds(nh.Holds))
		}
		if errors.Is(err, repo.ErrNotPinned) {
			return PinRemoved{}, Errorf(CodeNotFound, "%s is not pinned (see 'island pin ls')", root)
		}
		return PinRemoved{}, err
	}
	out := PinRemoved{CID: root.String(), HeldBy: []Holder{}, Removed: true}
	p, ok, err := c.repo.PinOf(ctx, root)
	if err != nil {
		return out, err
	}
	if ok {
		out.HeldBy, out.Removed = holders(p), false
	}
	return out, nil
}

// describeHolds names the holders of a pin for a person: "the site k51…
// and the follow of example.org".
func describeHolds(hs []repo.Hold) string {
	var out string
	for i, h := range hs {
		switch {
		case i == 0:
		case i == len(hs)-1:
			out += " and "
		default:
			out += ", "
		}
		out += describeHolder(h.Holder)
	}
	return out
}

func describeHolder(h repo.Holder) string {
	switch h.Kind {
	case repo.HolderUser:
		return "you"
	case repo.HolderSite:
		return "the site " + h.ID
	case repo.HolderFollow:
		return "the follow of " + h.ID
	case repo.HolderPinService:
		return "pinning-service request " + h.ID
	default:
		return h.String()
	}
}

func holders(p repo.Pin) []Holder {
	out := make([]Holder, 0, len(p.Holds))
	for _, h := range p.Holds {
		out = append(out, Holder{Kind: string(h.Kind), ID: h.ID, Type: string(h.Mode), Since: h.Since.UTC()})
	}
	return out
}

// PinLs lists the pins, direct ones first, each sorted by CID, with its
// holders.
func (c *Core) PinLs(ctx context.Context, req PinLsRequest) (_ []Pin, err error) {
	defer c.fail(&err, "pin ls")
	switch req.Type {
	case "", "all", string(repo.Recursive), string(repo.Direct):
	default:
		return nil, Errorf(CodeInvalid, "type %q: want all, recursive or direct", req.Type)
	}
	pins, err := c.repo.Pins(ctx)
	if err != nil {
		return nil, err
	}
	out := []Pin{}
	for _, mode := range []repo.PinMode{repo.Direct, repo.Recursive} {
		if req.Type != "" && req.Type != "all" && req.Type != string(mode) {
			continue
		}
		for _, p := range pins {
			if p.Mode == mode {
				out = append(out, Pin{CID: p.CID.String(), Type: string(mode), Holders: holders(p)})
			}
		}
	}
	return out, nil
}

// GC removes every block nothing holds.
func (c *Core) GC(ctx context.Context) (_ GCResult, err error) {
	defer c.fail(&err, "gc")
	res, err := c.repo.GC(ctx)
	if err != nil {
		return GCResult{}, err
	}
	return GCResult{Removed: res.Removed, Kept: res.Kept, FreedBytes: res.FreedBytes}, nil
}

// RepoStat says how much of its quota the repo uses.
func (c *Core) RepoStat(ctx context.Context) (_ RepoStat, err error) {
	defer c.fail(&err, "repo stat")
	u, err := c.repo.Usage(ctx)
	if err != nil {
		return RepoStat{}, err
	}
	return RepoStat{UsedBytes: u.UsedBytes, MaxBytes: u.MaxBytes, GCWatermark: u.GCWatermark}, nil
}

// makeRoom collects the blocks nothing holds when the repo is past its gc
// watermark, before a write: holding no PinLock, since gc waits for them
// all. A collection that fails (a held DAG is incomplete, say) is logged,
// not fatal: the write itself then fails if there is no room.
func (c *Core) makeRoom(ctx context.Context) {
	if _, err := c.repo.MakeRoom(ctx, 0); err != nil {
		c.log.Warn("repo past its gc watermark, and collecting garbage failed", "err", err)
	}
}

// RunAutoGC checks every interval, until ctx ends, whether the repo is
// past its gc watermark and collects garbage if so: the daemon's part that
// keeps what the gateway brings in (each block written as it comes) within
// the quota, as Kubo's `daemon --enable-gc`.
func (c *Core) RunAutoGC(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			c.makeRoom(ctx)
		}
	}
}

// RepoVerify re-hashes every block and walks every pinned DAG.
func (c *Core) RepoVerify(ctx context.Context) (_ VerifyReport, err error) {
	defer c.fail(&err, "repo verify")
	rep, err := c.repo.Verify(ctx)
	if err != nil {
		return VerifyReport{}, err
	}
	out := VerifyReport{Blocks: rep.Blocks, Corrupt: []string{}, Missing: []MissingBlock{}}
	for _, b := range rep.Corrupt {
		out.Corrupt = append(out.Corrupt, b.String())
	}
	for _, m := range rep.Missing {
		out.Missing = append(out.Missing, MissingBlock{Pin: m.Pin.String(), Block: m.Block.String()})
	}
	return out, nil
}

// fetchAndHold brings root in from peers (origins first; the block alone
// for a direct hold) and holds it for h: what pin add, the follower and the
// pinning service do with what they are asked to keep. The fetch, which may
// wait minutes on the network, holds no PinLock: its root is Protected from
// gc meanwhile, so a waiting gc keeps no add or publish waiting. Only the
// check that the DAG is whole and the pin take PinLock; a block a gc swept
// in between (one the repo had, unheld, before the fetch reached it) is
// fetched again.
func (c *Core) fetchAndHold(ctx context.Context, root cid.Cid, h repo.Holder, mode repo.PinMode, origins []ma.Multiaddr, progress func(FetchProgress), lim sizeLimit) error {
	release := c.repo.Protect(root)
	defer release()
	if lim.max > 0 {
		var stop context.CancelCauseFunc
		ctx, stop = context.WithCancelCause(ctx)
		defer stop(nil)
		inner := progress
		progress = func(p FetchProgress) {
			if uint64(p.Bytes) > lim.max {
				stop(&repo.TooBigError{Root: root, Max: lim.max, Size: uint64(p.Bytes), Limit: lim.what})
			}
			if inner != nil {
				inner(p)
			}
		}
	}
	if c.node != nil && len(origins) > 0 {
		// The origins have the data: the fetch need not wait for the DHT.
		c.node.ConnectAll(ctx, origins)
	}
	for attempt := 1; ; attempt++ {
		var err error
		switch {
		case mode == repo.Direct:
			_, err = c.BlockService().GetBlock(ctx, root)
		case c.node != nil:
			err = c.fetch(ctx, root, progress)
		}
		if err != nil {
			return err
		}
		unlock := c.repo.PinLock(ctx)
		if mode == repo.Direct {
			_, err = c.repo.Blockstore().GetSize(ctx, root)
		} else {
			err = c.repo.CheckComplete(ctx, root)
		}
		if err == nil {
			err = c.repo.Pin(ctx, root, h, mode)
			unlock.Unlock(ctx)
			if err != nil {
				return err
			}
			return c.announce(ctx, root)
		}
		unlock.Unlock(ctx)
		if c.node == nil || attempt == maxFetchAttempts || !ipld.IsNotFound(err) {
			return fmt.Errorf("the DAG is incomplete: %w", err)
		}
	}
}

// sizeLimit bounds the bytes of a DAG fetchAndHold keeps: max 0 is none;
// what says, in a *repo.TooBigError, how to raise it.
type sizeLimit struct {
	max  uint64
	what string
}

// maxFetchAttempts bounds the fetches of one DAG that a gc running in
// between can make incomplete again.
const maxFetchAttempts = 3

// release drops h's hold on root; a hold that is gone already is fine.
func (c *Core) release(ctx context.Context, root cid.Cid, h repo.Holder) error {
	if err := c.repo.Unpin(ctx, root, h); err != nil && !errors.Is(err, repo.ErrNotPinned) {
		return err
	}
	return nil
}
