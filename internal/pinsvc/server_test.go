package pinsvc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore/query"
	"github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	eventually = 10 * time.Second
	tick       = 10 * time.Millisecond
	poll       = 5 * time.Millisecond
)

func TestPinLifecycle(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	_, ts := mustServer(t, n, nil)
	c := NewClient(ts.URL, testToken)
	root := n.addDAG(t, "hello", true)
	origin, err := multiaddr.NewMultiaddr("/ip4/127.0.0.1/tcp/4001")
	require.NoError(t, err)

	st, err := c.Add(ctx, Pin{CID: root, Name: "my site", Origins: []multiaddr.Multiaddr{origin}, Meta: map[string]string{"app": "island"}})
	require.NoError(t, err)
	require.Equal(t, Queued, st.Status)
	require.NotEmpty(t, st.RequestID)
	require.Equal(t, root, st.Pin.CID)
	require.Equal(t, "my site", st.Pin.Name)
	require.Len(t, st.Pin.Origins, 1)
	require.Len(t, st.Delegates, 1)

	done, err := c.WaitPinned(ctx, st.RequestID, poll)
	require.NoError(t, err)
	require.Equal(t, Pinned, done.Status)
	require.Equal(t, st.Created, done.Created)
	require.True(t, n.isPinned(t, root))
	require.Equal(t, st.RequestID, n.pinnedFor(root), "Pin is told which request it pins for")

	// A second request for the same CID: removing one keeps the pin.
	st2, err := c.Add(ctx, Pin{CID: root})
	require.NoError(t, err)
	require.NotEqual(t, st.RequestID, st2.RequestID)
	_, err = c.WaitPinned(ctx, st2.RequestID, poll)
	require.NoError(t, err)

	list, err := c.List(ctx, ListFilter{})
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, st2.RequestID, list[0].RequestID, "newest first")

	// Each request lets go of its own hold only.
	require.NoError(t, c.Remove(ctx, st.RequestID))
	require.True(t, n.isPinned(t, root))
	_, err = c.Get(ctx, st.RequestID)
	require.ErrorIs(t, err, ErrNotFound)
	require.Equal(t, []release{{RequestID: st.RequestID, CID: root}}, n.unpinned())
	require.NoError(t, c.Remove(ctx, st2.RequestID))
	require.False(t, n.isPinned(t, root))
	require.Equal(t, []release{{RequestID: st.RequestID, CID: root}, {RequestID: st2.RequestID, CID: root}}, n.unpinned())
	require.ErrorIs(t, c.Remove(ctx, st2.RequestID), ErrNotFound)
}

func TestWrongTokenIsRefused(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	_, ts := mustServer(t, n, nil)
	root := n.addDAG(t, "secret", true)

	_, err := NewClient(ts.URL, "not-the-token").Add(ctx, Pin{CID: root})
	require.ErrorIs(t, err, ErrUnauthorized)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "UNAUTHORIZED", ae.Reason)

	for _, tt := range []struct {
		name, method, path, token string
	}{
		{"no token", http.MethodGet, "/pins", ""},
		{"wrong token", http.MethodGet, "/pins", testToken + "0"},
		{"token prefix", http.MethodPost, "/pins", testToken[:10]},
		{"no token on delete", http.MethodDelete, "/pins/x", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, tt.method, ts.URL+tt.path, tt.token, []byte(`{"cid":"`+root.String()+`"}`))
			require.Equal(t, http.StatusUnauthorized, code)
			require.Equal(t, "UNAUTHORIZED", failureReason(t, body))
		})
	}
	require.False(t, n.isPinned(t, root))
}

func TestFailedPin(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	_, ts := mustServer(t, n, nil)
	c := NewClient(ts.URL, testToken)
	incomplete := n.addDAG(t, "leaf is missing", false)

	st, err := c.Add(ctx, Pin{CID: incomplete})
	require.NoError(t, err)
	got, err := c.WaitPinned(ctx, st.RequestID, poll)
	require.ErrorIs(t, err, ErrPinFailed)
	require.Equal(t, Failed, got.Status)
	require.NotEmpty(t, got.Info["status_details"])
	require.False(t, n.isPinned(t, incomplete))

	failed, err := c.List(ctx, ListFilter{Statuses: []Status{Failed}})
	require.NoError(t, err)
	require.Len(t, failed, 1)
	pinned, err := c.List(ctx, ListFilter{})
	require.NoError(t, err)
	require.Empty(t, pinned, "the default lists pinned only")
}

func TestListFilters(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	_, ts := mustServer(t, n, nil)
	c := NewClient(ts.URL, testToken)

	var all []PinStatus
	var cids []cid.Cid
	for i, name := range []string{"Blog", "blog archive", "photos", "Photos 2024", "notes"} {
		root := n.addDAG(t, name, true)
		cids = append(cids, root)
		st, err := c.Add(ctx, Pin{CID: root, Name: name, Meta: map[string]string{"kind": []string{"even", "odd"}[i%2]}})
		require.NoError(t, err)
		_, err = c.WaitPinned(ctx, st.RequestID, poll)
		require.NoError(t, err)
		all = append(all, st)
	}

	t.Run("client filters", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			f    ListFilter
			want []int // indexes into all, newest first
		}{
			{"everything", ListFilter{}, []int{4, 3, 2, 1, 0}},
			{"by cid", ListFilter{CIDs: []cid.Cid{cids[1], cids[3]}}, []int{3, 1}},
			{"by exact name", ListFilter{Name: "photos"}, []int{2}},
			{"limit", ListFilter{Limit: 2}, []int{4, 3}},
			{"before", ListFilter{Before: all[2].Created}, []int{1, 0}},
			{"after", ListFilter{After: all[2].Created}, []int{4, 3}},
			{"nothing queued", ListFilter{Statuses: []Status{Queued, Pinning}}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := c.List(ctx, tt.f)
				require.NoError(t, err)
				var ids []string
				for _, g := range got {
					ids = append(ids, g.RequestID)
				}
				var want []string
				for _, i := range tt.want {
					want = append(want, all[i].RequestID)
				}
				require.Equal(t, want, ids)
			})
		}
	})

	t.Run("query parameters", func(t *testing.T) {
		for _, tt := range []struct {
			query string
			count int
			names []string
		}{
			{"name=blog&match=partial", 1, []string{"blog archive"}},
			{"name=blog&match=ipartial", 2, []string{"blog archive", "Blog"}},
			{"name=PHOTOS&match=iexact", 1, []string{"photos"}},
			{"limit=1", 5, []string{"notes"}},
			{"meta=" + url.QueryEscape(`{"kind":"odd"}`), 2, []string{"Photos 2024", "blog archive"}},
			{"status=pinned,failed&limit=2", 5, []string{"notes", "Photos 2024"}},
		} {
			t.Run(tt.query, func(t *testing.T) {
				code, body := call(t, http.MethodGet, ts.URL+"/pins?"+tt.query, testToken, nil)
				require.Equal(t, http.StatusOK, code, string(body))
				var res resultsWire
				require.NoError(t, json.Unmarshal(body, &res))
				require.Equal(t, tt.count, res.Count)
				var names []string
				for _, r := range res.Results {
					names = append(names, r.Pin.Name)
				}
				require.Equal(t, tt.names, names)
			})
		}
	})

	t.Run("paging with before", func(t *testing.T) {
		var seen []string
		before := ""
		for range 10 {
			code, body := call(t, http.MethodGet, ts.URL+"/pins?limit=2"+before, testToken, nil)
			require.Equal(t, http.StatusOK, code)
			var res resultsWire
			require.NoError(t, json.Unmarshal(body, &res))
			for _, r := range res.Results {
				seen = append(seen, r.RequestID)
			}
			if len(res.Results) == res.Count {
				break
			}
			before = "&before=" + url.QueryEscape(res.Results[len(res.Results)-1].Created.Format(time.RFC3339Nano))
		}
		require.Len(t, seen, 5)
		require.Equal(t, all[0].RequestID, seen[4])
	})
}

func TestBadRequests(t *testing.T) {
	n := mustNode(t, tempDir(t))
	_, ts := mustServer(t, n, func(c *Config) { c.MaxBodyBytes = 4096 })
	good := n.addDAG(t, "x", true).String()
	origins := make([]string, 21)
	for i := range origins {
		origins[i] = fmt.Sprintf(`"/ip4/127.0.0.1/tcp/%d"`, 4000+i)
	}

	for _, tt := range []struct {
		name, method, path, body string
		code                     int
		reason                   string
	}{
		{"not json", "POST", "/pins", `{"cid":`, 400, "BAD_REQUEST"},
		{"no cid", "POST", "/pins", `{"name":"x"}`, 400, "BAD_REQUEST"},
		{"bad cid", "POST", "/pins", `{"cid":"hello"}`, 400, "BAD_REQUEST"},
		{"trailing data", "POST", "/pins", `{"cid":"` + good + `"} {}`, 400, "BAD_REQUEST"},
		{"long name", "POST", "/pins", `{"cid":"` + good + `","name":"` + strings.Repeat("é", 256) + `"}`, 400, "BAD_REQUEST"},
		{"too many origins", "POST", "/pins", `{"cid":"` + good + `","origins":[` + strings.Join(origins, ",") + `]}`, 400, "BAD_REQUEST"},
		{"bad origin", "POST", "/pins", `{"cid":"` + good + `","origins":["/nope"]}`, 400, "BAD_REQUEST"},
		{"meta not strings", "POST", "/pins", `{"cid":"` + good + `","meta":{"a":1}}`, 400, "BAD_REQUEST"},
		{"too big", "POST", "/pins", `{"cid":"` + good + `","name":"` + strings.Repeat("a", 5000) + `"}`, 413, "PAYLOAD_TOO_LARGE"},
		{"limit 0", "GET", "/pins?limit=0", "", 400, "BAD_REQUEST"},
		{"limit 1001", "GET", "/pins?limit=1001", "", 400, "BAD_REQUEST"},
		{"bad status", "GET", "/pins?status=done", "", 400, "BAD_REQUEST"},
		{"bad before", "GET", "/pins?before=yesterday", "", 400, "BAD_REQUEST"},
		{"bad match", "GET", "/pins?name=a&match=regex", "", 400, "BAD_REQUEST"},
		{"bad meta", "GET", "/pins?meta=notjson", "", 400, "BAD_REQUEST"},
		{"eleven cids", "GET", "/pins?cid=" + strings.TrimSuffix(strings.Repeat(good+",", 11), ","), "", 400, "BAD_REQUEST"},
		{"unknown id", "GET", "/pins/nope", "", 404, "NOT_FOUND"},
		{"unknown id delete", "DELETE", "/pins/nope", "", 404, "NOT_FOUND"},
		{"unknown id replace", "POST", "/pins/nope", `{"cid":"` + good + `"}`, 404, "NOT_FOUND"},
		{"unknown path", "GET", "/other", "", 404, "NOT_FOUND"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, tt.method, ts.URL+tt.path, testToken, []byte(tt.body))
			require.Equal(t, tt.code, code, string(body))
			require.Equal(t, tt.reason, failureReason(t, body))
		})
	}
	require.False(t, n.isPinned(t, cid.MustParse(good)))
}

// gate holds pins until released, so tests can see requests pending.
type gate struct {
	started chan cid.Cid
	release chan struct{}
}

func newGate() *gate { return &gate{started: make(chan cid.Cid, 100), release: make(chan struct{})} }

func (g *gate) wrap(n *node) func(context.Context, string, cid.Cid, []multiaddr.Multiaddr, uint64) (uint64, error) {
	return func(ctx context.Context, id string, c cid.Cid, origins []multiaddr.Multiaddr, max uint64) (uint64, error) {
		g.started <- c
		select {
		case <-g.release:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		return n.pin(ctx, id, c, origins, max)
	}
}

func TestBounds(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	g := newGate()
	_, ts := mustServer(t, n, func(c *Config) {
		c.Workers = 1
		c.MaxPending = 2
		c.MaxRequests = 3
		c.Pin = g.wrap(n)
	})
	c := NewClient(ts.URL, testToken)
	var ids []string
	for i := range 2 {
		st, err := c.Add(ctx, Pin{CID: n.addDAG(t, fmt.Sprint(i), true)})
		require.NoError(t, err)
		ids = append(ids, st.RequestID)
	}
	_, err := c.Add(ctx, Pin{CID: n.addDAG(t, "third", true)})
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusTooManyRequests, ae.StatusCode)
	require.Equal(t, "TOO_MANY_PENDING", ae.Reason)

	close(g.release)
	for _, id := range ids {
		_, err := c.WaitPinned(ctx, id, poll)
		require.NoError(t, err)
	}
	st, err := c.Add(ctx, Pin{CID: n.addDAG(t, "third", true)})
	require.NoError(t, err)
	_, err = c.WaitPinned(ctx, st.RequestID, poll)
	require.NoError(t, err)
	_, err = c.Add(ctx, Pin{CID: n.addDAG(t, "fourth", true)})
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusForbidden, ae.StatusCode)
	require.Equal(t, "PIN_LIMIT_REACHED", ae.Reason)
}

func TestReplace(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	_, ts := mustServer(t, n, nil)
	c := NewClient(ts.URL, testToken)
	v1, v2 := n.addDAG(t, "v1", true), n.addDAG(t, "v2", true)

	st, err := c.Add(ctx, Pin{CID: v1, Name: "site"})
	require.NoError(t, err)
	_, err = c.WaitPinned(ctx, st.RequestID, poll)
	require.NoError(t, err)

	rep, err := c.Replace(ctx, st.RequestID, Pin{CID: v2, Name: "site"})
	require.NoError(t, err)
	require.NotEqual(t, st.RequestID, rep.RequestID)
	_, err = c.Get(ctx, st.RequestID)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = c.WaitPinned(ctx, rep.RequestID, poll)
	require.NoError(t, err)
	require.True(t, n.isPinned(t, v2))
	require.Eventually(t, func() bool { return !n.isPinned(t, v1) }, eventually, tick)
	// The replaced request lets go of its own pin.
	require.Equal(t, []release{{RequestID: st.RequestID, CID: v1}}, n.unpinned())

	// Replacing with the same CID never lets go of it: the new request
	// holds it before the old one lets go.
	same, err := c.Replace(ctx, rep.RequestID, Pin{CID: v2, Name: "renamed"})
	require.NoError(t, err)
	got, err := c.WaitPinned(ctx, same.RequestID, poll)
	require.NoError(t, err)
	require.Equal(t, "renamed", got.Pin.Name)
	require.Eventually(t, func() bool { return len(n.unpinned()) == 2 }, eventually, tick)
	require.Equal(t, release{RequestID: rep.RequestID, CID: v2}, n.unpinned()[1])
	require.True(t, n.isPinned(t, v2))
}

func TestRemoveWhilePinning(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	g := newGate()
	_, ts := mustServer(t, n, func(c *Config) { c.Pin = g.wrap(n) })
	c := NewClient(ts.URL, testToken)
	root := n.addDAG(t, "slow", true)
	st, err := c.Add(ctx, Pin{CID: root})
	require.NoError(t, err)
	require.Equal(t, root, <-g.started)
	got, err := c.Get(ctx, st.RequestID)
	require.NoError(t, err)
	require.Equal(t, Pinning, got.Status)

	require.NoError(t, c.Remove(ctx, st.RequestID))
	close(g.release)
	// The worker finishes, finds the request gone and lets go of the pin.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []release{{RequestID: st.RequestID, CID: root}}, n.unpinned())
	}, eventually, tick)
	require.False(t, n.isPinned(t, root))
	list, err := c.List(ctx, ListFilter{Statuses: []Status{Queued, Pinning, Pinned, Failed}})
	require.NoError(t, err)
	require.Empty(t, list)
}

// A pin cut short by a stop is queued again when the service starts.
func TestRestartRequeues(t *testing.T) {
	ctx := context.Background()
	dir := tempDir(t)
	n := mustNode(t, dir)
	g := newGate()
	cfg := DefaultConfig()
	cfg.Token, cfg.Datastore, cfg.Pin, cfg.Unpin = testToken, n.ds, g.wrap(n), n.unpin
	first, err := New(ctx, cfg)
	require.NoError(t, err)
	ts := serve(t, first)
	root := n.addDAG(t, "survives restarts", true)
	st, err := NewClient(ts, testToken).Add(ctx, Pin{CID: root})
	require.NoError(t, err)
	<-g.started
	require.NoError(t, first.Close())
	require.NoError(t, first.Close())

	_, ts2 := mustServer(t, n, nil)
	got, err := NewClient(ts2.URL, testToken).WaitPinned(ctx, st.RequestID, poll)
	require.NoError(t, err)
	require.Equal(t, st.Created, got.Created)
	require.True(t, n.isPinned(t, root))
}

func TestNewRejectsBadConfig(t *testing.T) {
	n := mustNode(t, tempDir(t))
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"no token", Config{Datastore: n.ds, Pin: n.pin, Unpin: n.unpin}},
		{"no datastore", Config{Token: "t", Pin: n.pin, Unpin: n.unpin}},
		{"no pin", Config{Token: "t", Datastore: n.ds, Unpin: n.unpin}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), tt.cfg)
			require.Error(t, err)
		})
	}
}

// Delegates are the node's addresses of the moment: asked for once per
// response, never stored with a request.
func TestDelegatesPerResponse(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	var calls atomic.Int32
	delegate := "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf"
	_, ts := mustServer(t, n, func(c *Config) {
		c.Delegates = func() []string {
			calls.Add(1)
			return []string{delegate, "not a multiaddr"}
		}
	})
	c := NewClient(ts.URL, testToken)
	for i := range 3 {
		st, err := c.Add(ctx, Pin{CID: n.addDAG(t, fmt.Sprint("d", i), true)})
		require.NoError(t, err)
		_, err = c.WaitPinned(ctx, st.RequestID, poll)
		require.NoError(t, err)
	}

	calls.Store(0)
	list, err := c.List(ctx, ListFilter{})
	require.NoError(t, err)
	require.Len(t, list, 3)
	for _, st := range list {
		require.Len(t, st.Delegates, 1)
		require.Equal(t, delegate, st.Delegates[0].String())
	}
	require.Equal(t, int32(1), calls.Load())

	res, err := n.ds.Query(ctx, query.Query{Prefix: requestsRoot})
	require.NoError(t, err)
	stored, err := res.Rest()
	require.NoError(t, err)
	require.Len(t, stored, 3)
	for _, e := range stored {
		require.NotContains(t, string(e.Value), "/ip4/")
	}
}

// A replacement replaced again before it settles passes on the pin to
// release, with the ID of the request that held it; the pin it was making
// is released under its own ID.
func TestReplaceChain(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	v1, v2, v3 := n.addDAG(t, "v1", true), n.addDAG(t, "v2", true), n.addDAG(t, "v3", true)
	block := make(chan struct{})
	_, ts := mustServer(t, n, func(c *Config) {
		c.Pin = func(ctx context.Context, id string, c cid.Cid, origins []multiaddr.Multiaddr, max uint64) (uint64, error) {
			if c.Equals(v2) {
				select {
				case <-block:
				case <-ctx.Done():
					return 0, ctx.Err()
				}
			}
			return n.pin(ctx, id, c, origins, max)
		}
	})
	c := NewClient(ts.URL, testToken)

	a, err := c.Add(ctx, Pin{CID: v1})
	require.NoError(t, err)
	_, err = c.WaitPinned(ctx, a.RequestID, poll)
	require.NoError(t, err)
	b, err := c.Replace(ctx, a.RequestID, Pin{CID: v2})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		got, err := c.Get(ctx, b.RequestID)
		return err == nil && got.Status == Pinning
	}, eventually, tick)
	cc, err := c.Replace(ctx, b.RequestID, Pin{CID: v3})
	require.NoError(t, err)
	_, err = c.WaitPinned(ctx, cc.RequestID, poll)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return !n.isPinned(t, v1) }, eventually, tick)
	require.Equal(t, []release{{RequestID: a.RequestID, CID: v1}}, n.unpinned())

	close(block)
	require.Eventually(t, func() bool { return len(n.unpinned()) == 2 }, eventually, tick)
	require.Equal(t, release{RequestID: b.RequestID, CID: v2}, n.unpinned()[1])
	require.False(t, n.isPinned(t, v2))
	require.True(t, n.isPinned(t, v3))
}

// A replacement stored by a version that kept only the replaced CID
// releases it with an unknown ("") request ID.
func TestReplacementFromOlderVersion(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	v1, v2 := n.addDAG(t, "v1", true), n.addDAG(t, "v2", true)
	_, err := n.pin(ctx, "", v1, nil, 1<<20) // pinned by an old version, under no request ID
	require.NoError(t, err)
	stored := fmt.Sprintf(`{"requestid":"b","status":"queued","created":"2025-01-02T03:04:05Z",`+
		`"pin":{"cid":%q},"delegates":[],"info":{},"unpinAfter":%q}`, v2, v1)
	require.NoError(t, n.ds.Put(ctx, requestKey("b"), []byte(stored)))

	_, ts := mustServer(t, n, nil)
	_, err = NewClient(ts.URL, testToken).WaitPinned(ctx, "b", poll)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(n.unpinned()) == 1 }, eventually, tick)
	require.Equal(t, []release{{RequestID: "", CID: v1}}, n.unpinned())
	require.False(t, n.isPinned(t, v1))
}

func TestPinnedRequests(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	_, ts := mustServer(t, n, nil)
	c := NewClient(ts.URL, testToken)
	shared, own, broken := n.addDAG(t, "shared", true), n.addDAG(t, "own", true), n.addDAG(t, "broken", false)

	got, err := PinnedRequests(ctx, n.ds)
	require.NoError(t, err)
	require.Empty(t, got)

	add := func(p Pin, want Status) string {
		t.Helper()
		st, err := c.Add(ctx, p)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			got, err := c.Get(ctx, st.RequestID)
			return err == nil && got.Status == want
		}, eventually, tick)
		return st.RequestID
	}
	s1 := add(Pin{CID: shared, Name: "one"}, Pinned)
	s2 := add(Pin{CID: shared, Name: "two"}, Pinned)
	o := add(Pin{CID: own}, Pinned)
	add(Pin{CID: broken}, Failed)
	// Left on disk by something else, or damaged: skipped.
	require.NoError(t, n.ds.Put(ctx, requestKey("junk"), []byte("{not json")))

	got, err = PinnedRequests(ctx, n.ds)
	require.NoError(t, err)
	want := map[cid.Cid][]string{shared: {s1, s2}, own: {o}}
	slices.Sort(want[shared])
	require.Equal(t, want, got)
}

// The token's pins hold at most MaxBytes: a pin past it fails, telling the
// friend why (and is held by nobody), and removing a pin makes room.
func TestTokenQuota(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	text := func(s string) string { return s + strings.Repeat(".", 1000) }
	a, b, c := n.addDAG(t, text("a"), true), n.addDAG(t, text("b"), true), n.addDAG(t, text("c"), true)
	_, ts := mustServer(t, n, func(c *Config) { c.MaxBytes = 5000 })
	client := NewClient(ts.URL, testToken)
	pin := func(root cid.Cid) (PinStatus, error) {
		t.Helper()
		st, err := client.Add(ctx, Pin{CID: root})
		require.NoError(t, err)
		return client.WaitPinned(ctx, st.RequestID, poll)
	}
	first, err := pin(a)
	require.NoError(t, err)
	_, err = pin(b)
	require.NoError(t, err)
	got, err := pin(c)
	require.ErrorIs(t, err, ErrPinFailed)
	require.Contains(t, got.Info["status_details"], c.String()+" does not fit in what is left of this token's 4.9 KiB")
	require.Empty(t, n.pinnedFor(c), "held by nobody")

	require.NoError(t, client.Remove(ctx, first.RequestID))
	_, err = pin(c)
	require.NoError(t, err, "removing a pin makes room")
}
