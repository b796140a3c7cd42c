package follow

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/names/namestest"
	"github.com/islandsite/island/internal/repo"
)

// pinSet is the follower's side of a node in these tests: which followed
// names hold which versions (Fetch and Unpin), what Provide announced, and a
// switch to make fetching fail.
type pinSet struct {
	mu       sync.Mutex
	holds    map[cid.Cid]map[string]bool
	provided []cid.Cid
	// reannounced are the versions announced again with a re-put.
	reannounced []cid.Cid
	fetches     int
	failing     map[cid.Cid]bool
	// sizes are the versions' sizes in bytes (0 if not set).
	sizes map[cid.Cid]uint64
}

func newPinSet() *pinSet {
	return &pinSet{holds: map[cid.Cid]map[string]bool{}, failing: map[cid.Cid]bool{}, sizes: map[cid.Cid]uint64{}}
}

func (p *pinSet) config() RunConfig {
	return RunConfig{
		Interval:     50 * time.Millisecond,
		KeepVersions: 2,
		// Re-put on every round, so the test sees it without waiting hours.
		RepublishInterval: time.Nanosecond,
		Fetch: func(_ context.Context, name string, c cid.Cid, maxSize uint64) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.fetches++
			if p.failing[c] {
				return fmt.Errorf("no provider for %s", c)
			}
			if p.sizes[c] > maxSize {
				return &repo.TooBigError{Root: c, Max: maxSize, Size: maxSize + 1}
			}
			if p.holds[c] == nil {
				p.holds[c] = map[string]bool{}
			}
			p.holds[c][name] = true
			return nil
		},
		Unpin: func(_ context.Context, name string, c cid.Cid) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			if delete(p.holds[c], name); len(p.holds[c]) == 0 {
				delete(p.holds, c)
			}
			return nil
		},
		Provide: func(_ context.Context, c cid.Cid) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.provided = append(p.provided, c)
			return nil
		},
		Reannounce: func(_ context.Context, c cid.Cid) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.reannounced = append(p.reannounced, c)
			return nil
		},
	}
}

// pins lists the versions some followed name holds.
func (p *pinSet) pins() []cid.Cid {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []cid.Cid
	for c := range p.holds {
		out = append(out, c)
	}
	return out
}

// holders lists the followed names holding c, sorted.
func (p *pinSet) holders(c cid.Cid) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Sorted(maps.Keys(p.holds[c]))
}

func (p *pinSet) setFailing(c cid.Cid, fail bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failing[c] = fail
}

// mustStore builds a Store and the name system it resolves with over r,
// both on one fresh datastore as in a repo; nsEdit and edit, when given,
// change their configs.
func mustStore(t *testing.T, r routing.ValueStore, nsEdit func(*names.Config), edit func(*Config)) *Store {
	t.Helper()
	ds := namestest.Datastore(t)
	cfg := DefaultConfig()
	cfg.Datastore = ds
	cfg.Names = namestest.System(t, r, ds, nsEdit)
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// runFollower runs s's follower until the test ends.
func runFollower(t *testing.T, s *Store, fc RunConfig) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, fc) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

func followOf(t *testing.T, s *Store, name string) Entry {
	t.Helper()
	list, err := s.List(context.Background())
	require.NoError(t, err)
	for _, f := range list {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("%s is not followed", name)
	return Entry{}
}

const eventually = 10 * time.Second
const tick = 10 * time.Millisecond

func TestFollowerKeepsNewestVersions(t *testing.T) {
	ctx := context.Background()
	r, rds := namestest.Routing(t)
	author := namestest.System(t, r, nil, nil)
	friend := mustStore(t, r, nil, nil)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key).String()
	pins := newPinSet()
	runFollower(t, friend, pins.config())

	v1, v2, v3 := namestest.CID(t, "v1"), namestest.CID(t, "v2"), namestest.CID(t, "v3")
	_, err := author.Publish(ctx, key, path.FromCid(v1))
	require.NoError(t, err)
	f, err := friend.Follow(ctx, "/ipns/"+name, 0)
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

	_, err = author.Publish(ctx, key, path.FromCid(v2))
	require.NoError(t, err)
	friend.Wake()
	waitFor(v2)
	_, err = author.Publish(ctx, key, path.FromCid(v3))
	require.NoError(t, err)
	waitFor(v3)

	// Two versions kept: v1 was unpinned, and then (a moment later) no
	// longer listed as kept.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.ElementsMatch(c, []cid.Cid{v3, v2}, pins.pins())
		require.Equal(c, []cid.Cid{v3, v2}, followOf(t, friend, name).Kept)
	}, eventually, tick)
	f = followOf(t, friend, name)
	require.Equal(t, uint64(3), f.LastSeq)
	roots, err := friend.Roots(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []cid.Cid{v3, v2}, roots)
	require.Equal(t, []string{name}, pins.holders(v3), "Fetch is told which name it holds a version for")
	pins.mu.Lock()
	require.Equal(t, []cid.Cid{v1, v2, v3}, pins.provided)
	pins.mu.Unlock()
	// Each later round re-puts the record (RepublishInterval is a
	// nanosecond here) and announces the version kept again.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		pins.mu.Lock()
		defer pins.mu.Unlock()
		require.Contains(c, pins.reannounced, v3)
	}, eventually, tick)

	// The author goes offline and every routing copy of the record is
	// dropped: the friend puts the author's exact bytes back.
	authorRecord, err := author.Record(ctx, name)
	require.NoError(t, err)
	namestest.ClearRouting(t, rds)
	friend.Wake()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got, err := r.GetValue(ctx, string(namestest.NameOf(t, key).RoutingKey()))
		require.NoError(c, err)
		require.Equal(c, authorRecord, got)
	}, eventually, tick)
	// So a stranger still resolves the name.
	res, err := namestest.System(t, r, nil, nil).Resolve(ctx, name)
	require.NoError(t, err)
	require.Equal(t, "/ipfs/"+v3.String(), res.Path.String())

	// Unfollowing lets go of every kept version.
	require.NoError(t, friend.Unfollow(ctx, name))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Empty(c, pins.pins())
		roots, err := friend.Roots(ctx)
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
	r, _ := namestest.Routing(t)
	author := namestest.System(t, r, nil, nil)
	friend := mustStore(t, r, nil, nil)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key).String()
	missing := namestest.NameOf(t, namestest.Key(t)).String()
	v1 := namestest.CID(t, "unfetchable at first")
	_, err := author.Publish(ctx, key, path.FromCid(v1))
	require.NoError(t, err)

	pins := newPinSet()
	pins.setFailing(v1, true)
	_, err = friend.Follow(ctx, missing, 0)
	require.NoError(t, err)
	_, err = friend.Follow(ctx, name, 0)
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
	r, _ := namestest.Routing(t)
	author := namestest.System(t, r, nil, nil)
	friend := mustStore(t, r, nil, nil)
	k1, k2 := namestest.Key(t), namestest.Key(t)
	shared := namestest.CID(t, "shared")
	_, err := author.Publish(ctx, k1, path.FromCid(shared))
	require.NoError(t, err)
	_, err = author.Publish(ctx, k2, path.FromCid(shared))
	require.NoError(t, err)
	pins := newPinSet()
	runFollower(t, friend, pins.config())
	n1, n2 := namestest.NameOf(t, k1).String(), namestest.NameOf(t, k2).String()
	for _, n := range []string{n1, n2} {
		_, err := friend.Follow(ctx, n, 0)
		require.NoError(t, err)
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, shared, followOf(t, friend, n1).LastCID)
		require.Equal(c, shared, followOf(t, friend, n2).LastCID)
	}, eventually, tick)
	keptBy := func() map[cid.Cid][]string {
		t.Helper()
		m, err := friend.KeptBy(ctx)
		require.NoError(t, err)
		return m
	}
	require.Equal(t, map[cid.Cid][]string{shared: slices.Sorted(slices.Values([]string{n1, n2}))}, keptBy())

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
	require.Equal(t, map[cid.Cid][]string{shared: {n2}}, keptBy())
}

func TestFollowNames(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	overrides := map[string]string{"friend.example": "/ipfs/" + namestest.CID(t, "dnslink site").String()}
	s := mustStore(t, r, func(c *names.Config) { c.DNSLinkOverrides = overrides }, func(c *Config) { c.MaxFollows = 2 })
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)

	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{"/ipns/" + name.String(), name.String(), ""},
		{name.Peer().String(), name.String(), ""},
		{"Friend.Example.", "friend.example", ""},
		{"/ipfs/" + namestest.CID(t, "x").String(), "", "cannot follow"},
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

	_, err := s.Follow(ctx, name.String(), 0)
	require.NoError(t, err)
	_, err = s.Follow(ctx, name.Peer().String(), 0) // the same name again
	require.NoError(t, err)
	_, err = s.Follow(ctx, "friend.example", 0)
	require.NoError(t, err)
	_, err = s.Follow(ctx, namestest.NameOf(t, namestest.Key(t)).String(), 0)
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

func TestRunLifecycle(t *testing.T) {
	r, _ := namestest.Routing(t)
	s := mustStore(t, r, nil, nil)
	pins := newPinSet()

	err := s.Run(context.Background(), RunConfig{})
	require.ErrorContains(t, err, "needs Fetch and Unpin")

	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background(), pins.config()) }()
	require.Eventually(t, s.running.Load, eventually, tick)
	require.ErrorContains(t, s.Run(context.Background(), pins.config()), "already running")

	// Close stops the running follower and waits for it, and again is fine.
	require.NoError(t, s.Close())
	require.NoError(t, <-done)
	require.NoError(t, s.Close())
	require.True(t, errors.Is(s.Run(context.Background(), pins.config()), ErrClosed))
}

func TestNewRejectsBadConfig(t *testing.T) {
	r, _ := namestest.Routing(t)
	ds := namestest.Datastore(t)
	ns := namestest.System(t, r, ds, nil)
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no datastore", Config{Names: ns}, "no datastore"},
		{"no name system", Config{Datastore: ds}, "no name system"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// A record that names a path inside a DAG (/ipfs/ROOT/sub) gets what it
// names fetched and kept, not the whole of ROOT.
func TestFollowerKeepsWhatTheRecordNames(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	author := namestest.System(t, r, nil, nil)
	friend := mustStore(t, r, nil, nil)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key).String()
	root, sub := namestest.CID(t, "a big archive"), namestest.CID(t, "the site inside it")
	pins := newPinSet()
	fc := pins.config()
	fc.Resolve = func(_ context.Context, p path.ImmutablePath) (cid.Cid, error) {
		require.Equal(t, "/ipfs/"+root.String()+"/site", p.String())
		return sub, nil
	}
	runFollower(t, friend, fc)
	p, err := path.Join(path.FromCid(root), "site")
	require.NoError(t, err)
	_, err = author.Publish(ctx, key, p)
	require.NoError(t, err)
	_, err = friend.Follow(ctx, name, 0)
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, sub, followOf(t, friend, name).LastCID)
	}, eventually, tick)
	require.ElementsMatch(t, []cid.Cid{sub}, pins.pins(), "the named sub-DAG, not the root")
}

// A version over the follow's max size is not kept (the last one kept
// stays), follow ls says why, and it is not fetched again each round; a
// larger --max-size lets it in.
func TestFollowerSkipsVersionsOverMaxSize(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	author := namestest.System(t, r, nil, nil)
	friend := mustStore(t, r, nil, nil)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key).String()
	pins := newPinSet()
	small, big := namestest.CID(t, "small"), namestest.CID(t, "big")
	pins.sizes[small], pins.sizes[big] = 100, 5000

	f, err := friend.Follow(ctx, name, 1000)
	require.NoError(t, err)
	require.Equal(t, uint64(1000), f.MaxSize)
	f, err = friend.Follow(ctx, name, 0)
	require.NoError(t, err)
	require.Equal(t, uint64(1000), f.MaxSize, "following again keeps the size given")
	_, err = author.Publish(ctx, key, path.FromCid(small))
	require.NoError(t, err)
	runFollower(t, friend, pins.config())
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, small, followOf(t, friend, name).LastCID)
	}, eventually, tick)

	_, err = author.Publish(ctx, key, path.FromCid(big))
	require.NoError(t, err)
	friend.Wake()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		f := followOf(t, friend, name)
		require.Equal(c, big, f.TooBig)
		require.Contains(c, f.LastError, "version "+big.String()+" is larger than this follow's max size 1000 B")
		require.Contains(c, f.LastError, "island follow "+name+" --max-size")
	}, eventually, tick)
	require.Equal(t, small, followOf(t, friend, name).LastCID)
	require.ElementsMatch(t, []cid.Cid{small}, pins.pins(), "the big version is held by nobody")
	pins.mu.Lock()
	fetches := pins.fetches
	pins.mu.Unlock()
	for range 3 {
		friend.Wake()
		time.Sleep(60 * time.Millisecond)
	}
	pins.mu.Lock()
	require.Equal(t, fetches, pins.fetches, "a version refused at this size is not fetched again")
	pins.mu.Unlock()
	require.NotEmpty(t, followOf(t, friend, name).LastError)

	// A larger size lets it in.
	_, err = friend.Follow(ctx, name, DefaultMaxSize)
	require.NoError(t, err)
	friend.Wake()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		f := followOf(t, friend, name)
		require.Equal(c, big, f.LastCID)
		require.False(c, f.TooBig.Defined())
		require.Empty(c, f.LastError)
	}, eventually, tick)
}
