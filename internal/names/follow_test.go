package names

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pinSet is the follower's side of a node in these tests: what Fetch pinned,
// what Provide announced, and a switch to make fetching fail.
type pinSet struct {
	mu       sync.Mutex
	pinned   map[cid.Cid]bool
	provided []cid.Cid
	fetches  int
	failing  map[cid.Cid]bool
}

func newPinSet() *pinSet {
	return &pinSet{pinned: map[cid.Cid]bool{}, failing: map[cid.Cid]bool{}}
}

func (p *pinSet) config() FollowConfig {
	return FollowConfig{
		Interval:     50 * time.Millisecond,
		KeepVersions: 2,
		// Re-put on every round, so the test sees it without waiting hours.
		RepublishInterval: time.Nanosecond,
		Fetch: func(_ context.Context, c cid.Cid) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.fetches++
			if p.failing[c] {
				return fmt.Errorf("no provider for %s", c)
			}
			p.pinned[c] = true
			return nil
		},
		Unpin: func(_ context.Context, c cid.Cid) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			delete(p.pinned, c)
			return nil
		},
		Provide: func(_ context.Context, c cid.Cid) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.provided = append(p.provided, c)
			return nil
		},
	}
}

func (p *pinSet) pins() []cid.Cid {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []cid.Cid
	for c := range p.pinned {
		out = append(out, c)
	}
	return out
}

func (p *pinSet) setFailing(c cid.Cid, fail bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failing[c] = fail
}

// runFollower runs s's follower until the test ends.
func runFollower(t *testing.T, s *System, fc FollowConfig) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.RunFollower(ctx, fc) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

func followOf(t *testing.T, s *System, name string) Follow {
	t.Helper()
	list, err := s.List(context.Background())
	require.NoError(t, err)
	for _, f := range list {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("%s is not followed", name)
	return Follow{}
}

const eventually = 10 * time.Second
const tick = 10 * time.Millisecond

func TestFollowerKeepsNewestVersions(t *testing.T) {
	ctx := context.Background()
	r, rds := mustRouting(t)
	author := mustSystem(t, r, nil, nil)
	friend := mustSystem(t, r, nil, nil)
	key := mustKey(t)
	name := nameOf(t, key).String()
	pins := newPinSet()
	runFollower(t, friend, pins.config())

	v1, v2, v3 := testCID(t, "v1"), testCID(t, "v2"), testCID(t, "v3")
	_, err := author.PublishVersion(ctx, key, v1)
	require.NoError(t, err)
	f, err := friend.Follow(ctx, "/ipns/"+name)
	require.NoError(t, err)
	require.Equal(t, name, f.Name)

	waitFor := func(want cid.Cid) {
		t.Helper()
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			f := followOf(t, friend, name)
			require.Equal(c, want, f.LastCID)
			require.Empty(c, f.LastError)
		}, eventually, tick)
	}
	waitFor(v1)
	require.ElementsMatch(t, []cid.Cid{v1}, pins.pins())
	require.Equal(t, uint64(1), followOf(t, friend, name).LastSeq)

	_, err = author.PublishVersion(ctx, key, v2)
	require.NoError(t, err)
	friend.CheckFollows()
	waitFor(v2)
	_, err = author.PublishVersion(ctx, key, v3)
	require.NoError(t, err)
	waitFor(v3)

	// Two versions kept: v1 was unpinned.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.ElementsMatch(c, []cid.Cid{v3, v2}, pins.pins())
	}, eventually, tick)
	f = followOf(t, friend, name)
	require.Equal(t, []cid.Cid{v3, v2}, f.Kept)
	require.Equal(t, uint64(3), f.LastSeq)
	roots, err := friend.FollowRoots(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []cid.Cid{v3, v2}, roots)
	pins.mu.Lock()
	require.Equal(t, []cid.Cid{v1, v2, v3}, pins.provided)
	pins.mu.Unlock()

	// The author goes offline and every routing copy of the record is
	// dropped: the friend puts the author's exact bytes back.
	authorRecord, err := author.Record(ctx, name)
	require.NoError(t, err)
	clearRouting(t, rds)
	friend.CheckFollows()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got, err := r.GetValue(ctx, string(nameOf(t, key).RoutingKey()))
		require.NoError(c, err)
		require.Equal(c, authorRecord, got)
	}, eventually, tick)
	// So a stranger still resolves the name.
	res, err := mustSystem(t, r, nil, nil).Resolve(ctx, name)
	require.NoError(t, err)
	require.Equal(t, "/ipfs/"+v3.String(), res.Path.String())

	// Unfollowing lets go of every kept version.
	require.NoError(t, friend.Unfollow(ctx, name))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Empty(c, pins.pins())
		roots, err := friend.FollowRoots(ctx)
		require.NoError(c, err)
		require.Empty(c, roots)
	}, eventually, tick)
	list, err := friend.List(ctx)
	require.NoError(t, err)
	require.Empty(t, list)
	require.ErrorIs(t, friend.Unfollow(ctx, name), ErrNotFollowed)
}

func TestFollowerRecordsErrorsAndGoesOn(t *testing.T) {
	ctx := context.Background()
	r, _ := mustRouting(t)
	author := mustSystem(t, r, nil, nil)
	friend := mustSystem(t, r, nil, nil)
	key := mustKey(t)
	name := nameOf(t, key).String()
	missing := nameOf(t, mustKey(t)).String()
	v1 := testCID(t, "unfetchable at first")
	_, err := author.PublishVersion(ctx, key, v1)
	require.NoError(t, err)

	pins := newPinSet()
	pins.setFailing(v1, true)
	_, err = friend.Follow(ctx, missing)
	require.NoError(t, err)
	_, err = friend.Follow(ctx, name)
	require.NoError(t, err)
	runFollower(t, friend, pins.config())

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		m := followOf(t, friend, missing)
		require.Contains(c, m.LastError, "no record for "+missing)
		f := followOf(t, friend, name)
		require.Contains(c, f.LastError, "fetch "+v1.String())
		require.False(c, f.LastCID.Defined())
		// The record is re-put even though the content could not be had.
		require.False(c, f.LastPut.IsZero())
	}, eventually, tick)

	pins.setFailing(v1, false)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		f := followOf(t, friend, name)
		require.Equal(c, v1, f.LastCID)
		require.Empty(c, f.LastError)
		require.NotEmpty(c, followOf(t, friend, missing).LastError)
	}, eventually, tick)
}

// Two followed names pointing at the same content: dropping one must not
// unpin what the other keeps.
func TestFollowerSharedContent(t *testing.T) {
	ctx := context.Background()
	r, _ := mustRouting(t)
	author := mustSystem(t, r, nil, nil)
	friend := mustSystem(t, r, nil, nil)
	k1, k2 := mustKey(t), mustKey(t)
	shared := testCID(t, "shared")
	_, err := author.PublishVersion(ctx, k1, shared)
	require.NoError(t, err)
	_, err = author.PublishVersion(ctx, k2, shared)
	require.NoError(t, err)
	pins := newPinSet()
	runFollower(t, friend, pins.config())
	n1, n2 := nameOf(t, k1).String(), nameOf(t, k2).String()
	for _, n := range []string{n1, n2} {
		_, err := friend.Follow(ctx, n)
		require.NoError(t, err)
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, shared, followOf(t, friend, n1).LastCID)
		require.Equal(c, shared, followOf(t, friend, n2).LastCID)
	}, eventually, tick)

	require.NoError(t, friend.Unfollow(ctx, n1))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		list, err := friend.List(ctx)
		require.NoError(c, err)
		require.Len(c, list, 1)
		all, err := friend.follows(ctx)
		require.NoError(c, err)
		require.Len(c, all, 1, "the unfollowed name is forgotten")
	}, eventually, tick)
	require.Equal(t, []cid.Cid{shared}, pins.pins())
}

func TestFollowNames(t *testing.T) {
	ctx := context.Background()
	r, _ := mustRouting(t)
	overrides := map[string]string{"friend.example": "/ipfs/" + testCID(t, "dnslink site").String()}
	s := mustSystem(t, r, nil, func(c *Config) {
		c.MaxFollows = 2
		c.DNSLinkOverrides = overrides
	})
	key := mustKey(t)
	name := nameOf(t, key)

	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{"/ipns/" + name.String(), name.String(), ""},
		{name.Peer().String(), name.String(), ""},
		{"Friend.Example.", "friend.example", ""},
		{"/ipfs/" + testCID(t, "x").String(), "", "cannot follow"},
		{"friend.example/sub", "", "cannot follow"},
		{"", "", "cannot follow"},
	}
	for _, tt := range tests {
		got, err := FollowName(tt.in)
		if tt.wantErr != "" {
			require.ErrorContains(t, err, tt.wantErr, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got)
	}

	_, err := s.Follow(ctx, name.String())
	require.NoError(t, err)
	_, err = s.Follow(ctx, name.Peer().String()) // the same name again
	require.NoError(t, err)
	_, err = s.Follow(ctx, "friend.example")
	require.NoError(t, err)
	_, err = s.Follow(ctx, nameOf(t, mustKey(t)).String())
	require.ErrorIs(t, err, ErrTooManyFollows)
	list, err := s.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)

	// A DNSLink name is followed like a key name (no record to re-put).
	pins := newPinSet()
	runFollower(t, s, pins.config())
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		f := followOf(t, s, "friend.example")
		require.Equal(c, overrides["friend.example"], "/ipfs/"+f.LastCID.String())
		require.Empty(c, f.LastError)
		require.True(c, f.LastPut.IsZero())
	}, eventually, tick)
}

func TestRunFollowerLifecycle(t *testing.T) {
	r, _ := mustRouting(t)
	s := mustSystem(t, r, nil, nil)
	pins := newPinSet()

	err := s.RunFollower(context.Background(), FollowConfig{})
	require.ErrorContains(t, err, "needs Fetch and Unpin")

	done := make(chan error, 1)
	go func() { done <- s.RunFollower(context.Background(), pins.config()) }()
	require.Eventually(t, s.followerOn.Load, eventually, tick)
	require.ErrorContains(t, s.RunFollower(context.Background(), pins.config()), "already running")

	// Close stops the running follower and waits for it.
	require.NoError(t, s.Close())
	require.NoError(t, <-done)
	require.True(t, errors.Is(s.RunFollower(context.Background(), pins.config()), ErrClosed))
}
