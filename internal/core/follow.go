package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"

	"github.com/islandsite/island/internal/follow"
	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/repo"
)

// Follow adds a name to the followed ones and wakes a running follower, so
// the first fetch starts now.
func (c *Core) Follow(ctx context.Context, req FollowRequest) (_ Followed, err error) {
	defer c.fail(&err, "follow")
	if _, err := follow.FollowName(req.Name); err != nil {
		return Followed{}, &Error{Code: CodeInvalid, Message: err.Error(), Err: err}
	}
	f, err := c.follows.Follow(ctx, req.Name, req.MaxSize)
	if err != nil {
		return Followed{}, err
	}
	c.subscribe(f.Name)
	out := Followed{Follow: toFollow(f)}
	if !c.following.Load() {
		out.Notes = append(out.Notes, c.offlineHint(
			fmt.Sprintf("no node is running: 'island daemon' fetches %s when it starts", f.Name),
			fmt.Sprintf("the daemon runs --offline: it fetches %s once it runs online", f.Name)))
	}
	return out, nil
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toFollow(f follow.Entry) Follow {
	out := Follow{Name: f.Name, Added: f.Added, LastSeq: f.LastSeq, LastError: f.LastError,
		LastCheck: optTime(f.LastCheck), LastChange: optTime(f.LastChange), Kept: []string{}, MaxSize: cmp.Or(f.MaxSize, follow.DefaultMaxSize)}
	if f.LastCID.Defined() {
		out.LastCID = f.LastCID.String()
	}
	if f.TooBig.Defined() {
		out.TooBig = f.TooBig.String()
	}
	for _, k := range f.Kept {
		out.Kept = append(out.Kept, k.String())
	}
	return out
}

// FollowLs lists the followed names.
func (c *Core) FollowLs(ctx context.Context) (_ []Follow, err error) {
	defer c.fail(&err, "follow ls")
	fs, err := c.follows.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Follow, 0, len(fs))
	for _, f := range fs {
		ff := toFollow(f)
		c.recordValidity(ctx, &ff)
		c.followProgress(ctx, f, &ff)
		out = append(out, ff)
	}
	return out, nil
}

// eolWarning is how close to its end of validity a followed record must be
// for follow ls to warn.
const eolWarning = 7 * 24 * time.Hour

// recordValidity adds when the author's record held for f ends, and a
// warning when that is near.
func (c *Core) recordValidity(ctx context.Context, f *Follow) {
	n, err := ipns.NameFromString(f.Name)
	if err != nil {
		return // a DNSLink domain: its record is its target's
	}
	rec, err := c.names.Held(ctx, n)
	if err != nil && !errors.Is(err, names.ErrExpired) {
		return
	}
	eol := rec.EOL.UTC()
	f.EOL = &eol
	f.RecordSeq = rec.Seq
	switch left := time.Until(eol); {
	case left <= 0:
		f.Warning = fmt.Sprintf("the record of %s expired at %s: the name no longer resolves until its author publishes again", f.Name, eol.Format(time.RFC3339))
	case left < eolWarning:
		f.Warning = fmt.Sprintf("the record of %s expires at %s (in %s): unless its author publishes again by then, the name stops resolving", f.Name, eol.Format(time.RFC3339), left.Round(time.Hour))
	}
}

// followProgress adds the kept version's size (from its root block, when
// held) and, while a follower runs, when it checks next.
func (c *Core) followProgress(ctx context.Context, e follow.Entry, f *Follow) {
	if e.LastCID.Defined() {
		f.Size = c.dagSize(ctx, e.LastCID)
	}
	if !c.following.Load() {
		return
	}
	next := e.Added
	if !e.LastCheck.IsZero() {
		next = e.LastCheck.Add(time.Duration(c.followEvery.Load()))
	}
	next = next.UTC()
	f.NextCheck = &next
}

// dagSize is the cumulative size of the DAG under root as its root block
// says it (0 when the repo lacks that block: nothing is fetched for it).
func (c *Core) dagSize(ctx context.Context, root cid.Cid) uint64 {
	if has, _ := c.repo.Blockstore().Has(ctx, root); !has {
		return 0
	}
	nd, err := c.repo.DAG().Get(ctx, root)
	if err != nil {
		return 0
	}
	size, err := nd.Size()
	if err != nil {
		return 0
	}
	return size
}

// Unfollow stops following a name; the follower then drops its holds.
func (c *Core) Unfollow(ctx context.Context, req FollowRequest) (_ Unfollowed, err error) {
	defer c.fail(&err, "follow rm")
	canon, err := follow.FollowName(req.Name)
	if err != nil {
		return Unfollowed{}, &Error{Code: CodeInvalid, Message: err.Error(), Err: err}
	}
	fs, err := c.follows.List(ctx)
	if err != nil {
		return Unfollowed{}, err
	}
	kept := 0
	for _, f := range fs {
		if f.Name == canon {
			kept = len(f.Kept)
		}
	}
	if err := c.follows.Unfollow(ctx, canon); err != nil {
		if errors.Is(err, follow.ErrNotFollowed) {
			return Unfollowed{}, fmt.Errorf("%w (see 'island follow ls')", err)
		}
		return Unfollowed{}, err
	}
	if n, perr := names.ParseName(canon); perr == nil && c.push != nil {
		c.push.Unsubscribe(n)
	}
	out := Unfollowed{Name: canon, Kept: kept}
	if kept > 0 && !c.following.Load() {
		out.Notes = append(out.Notes, c.offlineHint(
			fmt.Sprintf("no node is running: the %d version(s) kept for %s stay until 'island daemon' releases them", kept, canon),
			fmt.Sprintf("the daemon runs --offline: the %d version(s) kept for %s stay until it runs online", kept, canon)))
	}
	return out, nil
}

// RunFollower runs the follower until ctx ends: each followed name's newest
// version is fetched and held for it, announced, and its record re-put.
// It needs a node.
func (c *Core) RunFollower(ctx context.Context, rc follow.RunConfig) error {
	if c.node == nil {
		return c.needNode("follow")
	}
	rc.Fetch = func(ctx context.Context, name string, v cid.Cid, maxSize uint64) error {
		lim := sizeLimit{max: maxSize, what: fmt.Sprintf("raise the follow's max size: island follow %s --max-size LARGER", name)}
		return c.fetchAndHold(ctx, v, repo.Holder{Kind: repo.HolderFollow, ID: name}, repo.Recursive, nil, nil, lim)
	}
	rc.Resolve = func(ctx context.Context, p path.ImmutablePath) (cid.Cid, error) {
		return repo.Resolve(ctx, c.BlockService(), p)
	}
	rc.Unpin = func(ctx context.Context, name string, v cid.Cid) error {
		return c.release(ctx, v, repo.Holder{Kind: repo.HolderFollow, ID: name})
	}
	// fetchAndHold announced it already.
	rc.Provide = nil
	rc.Reannounce = func(ctx context.Context, v cid.Cid) error { return c.node.Reannounce(ctx, v) }
	interval := rc.Interval
	if interval <= 0 {
		interval = follow.DefaultRunConfig().Interval
	}
	c.followEvery.Store(int64(interval))
	if fs, err := c.follows.List(ctx); err == nil {
		for _, f := range fs {
			c.subscribe(f.Name)
		}
	}
	c.following.Store(true)
	defer c.following.Store(false)
	return c.follows.Run(ctx, rc)
}

// subscribe listens for pushed records of a followed IPNS name (a DNSLink
// domain has no topic); a failure is logged, the periodic check remains.
func (c *Core) subscribe(name string) {
	if c.push == nil {
		return
	}
	n, err := names.ParseName(name)
	if err != nil {
		return
	}
	if err := c.push.Subscribe(n); err != nil {
		c.log.Warn("cannot listen for pushed records", "name", name, "err", err)
	}
}
