package names_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/boxo/routing/offline"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/names/namestest"
)

func TestPublishResolve(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	author := namestest.System(t, r, nil, nil)
	readerDS := namestest.Datastore(t)
	reader := namestest.System(t, r, readerDS, nil)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)
	value := namestest.IPFSPath(t, "site v1")

	rec, err := author.Publish(ctx, key, value)
	require.NoError(t, err)
	require.Equal(t, uint64(1), rec.Seq)
	require.Equal(t, value.String(), rec.Value.String())
	require.True(t, rec.EOL.After(time.Now().Add(47*time.Hour)), "default lifetime is 48h")
	require.Equal(t, 5*time.Minute, rec.TTL)

	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"ipns path", "/ipns/" + name.String(), value.String()},
		{"bare key", name.String(), value.String()},
		{"peer ID form", name.Peer().String(), value.String()},
		{"sub-path", "/ipns/" + name.String() + "/posts/a.html", value.String() + "/posts/a.html"},
		{"immutable path", value.String(), value.String()},
	}
	for _, sys := range []struct {
		label string
		s     *names.System
	}{{"author", author}, {"reader via routing", reader}} {
		for _, tt := range tests {
			t.Run(sys.label+"/"+tt.name, func(t *testing.T) {
				res, err := sys.s.Resolve(ctx, tt.input)
				require.NoError(t, err)
				require.Equal(t, tt.want, res.Path.String())
				if tt.name != "immutable path" {
					require.Equal(t, uint64(1), res.Seq)
					require.Equal(t, rec.Raw, res.Record)
					require.True(t, res.Name.Equal(name))
					require.Positive(t, res.TTL)
				}
			})
		}
	}

	// The reader kept the record it resolved, so it answers offline too.
	held, err := readerDS.Get(ctx, namesys.IpnsDsKey(name))
	require.NoError(t, err)
	require.Equal(t, rec.Raw, held)

	// The gateway's name system sees the same record.
	nres, err := author.NameSystem().Resolve(ctx, name.AsPath())
	require.NoError(t, err)
	require.Equal(t, value.String(), nres.Path.String())
}

func TestResolveNotFound(t *testing.T) {
	r, _ := namestest.Routing(t)
	s := namestest.System(t, r, nil, nil)
	_, err := s.Resolve(context.Background(), namestest.NameOf(t, namestest.Key(t)).String())
	require.ErrorIs(t, err, names.ErrNotFound)

	_, err = s.Resolve(context.Background(), "not a name!")
	require.Error(t, err)
}

// Every publish gets a sequence above everything known for the name: the
// local copy and what routing holds, even when the value is unchanged.
func TestPublishSequenceIncreases(t *testing.T) {
	ctx := context.Background()
	key := namestest.Key(t)
	r1, _ := namestest.Routing(t)
	ds := namestest.Datastore(t)
	a := namestest.System(t, r1, ds, nil)
	value := namestest.IPFSPath(t, "same")
	for want := uint64(1); want <= 3; want++ {
		rec, err := a.Publish(ctx, key, value)
		require.NoError(t, err)
		require.Equal(t, want, rec.Seq)
	}

	// A second machine with the same key but an empty store learns seq 3
	// from routing.
	b := namestest.System(t, r1, nil, nil)
	rec, err := b.Publish(ctx, key, namestest.IPFSPath(t, "from b"))
	require.NoError(t, err)
	require.Equal(t, uint64(4), rec.Seq)

	// The first store with a routing that knows nothing goes on from its
	// local copy (seq 3), not from scratch.
	r2, _ := namestest.Routing(t)
	c := namestest.System(t, r2, ds, nil)
	rec, err = c.Publish(ctx, key, value)
	require.NoError(t, err)
	require.Equal(t, uint64(4), rec.Seq)
}

func TestRecordsRefused(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	s := namestest.System(t, r, nil, nil)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)
	value := namestest.IPFSPath(t, "good")
	first, err := s.Publish(ctx, key, value)
	require.NoError(t, err)
	second, err := s.Publish(ctx, key, value)
	require.NoError(t, err)
	require.Equal(t, uint64(2), second.Seq)

	eol := time.Now().Add(time.Hour)
	forger := namestest.Key(t)
	signed := func(opts ...ipns.Option) []byte {
		t.Helper()
		rec, err := ipns.NewRecord(forger, namestest.IPFSPath(t, "evil"), 100, eol, time.Minute, opts...)
		require.NoError(t, err)
		b, err := ipns.MarshalRecord(rec)
		require.NoError(t, err)
		return b
	}
	expired, err := ipns.NewRecord(key, namestest.IPFSPath(t, "old"), 100, time.Now().Add(-time.Hour), time.Minute)
	require.NoError(t, err)
	expiredBytes, err := ipns.MarshalRecord(expired)
	require.NoError(t, err)
	flipped := append([]byte(nil), second.Raw...)
	flipped[len(flipped)-5] ^= 0xff

	tests := []struct {
		name    string
		data    []byte
		reason  error
		message string
	}{
		{"forged, embedding the forger's key", signed(ipns.WithPublicKey(true)), names.ErrWrongKey, "is signed by another key"},
		{"forged, signed by another key", signed(), names.ErrBadSignature, "does not verify"},
		{"expired", expiredBytes, names.ErrExpired, "record for " + name.String() + " expired at "},
		{"lower sequence", first.Raw, names.ErrLowerSequence, "record sequence 1 is lower than the 2 already held for " + name.String()},
		{"not protobuf", []byte("hello, I am not a record"), names.ErrMalformed, "is malformed"},
		{"empty", nil, names.ErrMalformed, "is malformed"},
		{"too big", make([]byte, ipns.MaxRecordSize+1), names.ErrMalformed, "more than the"},
		{"tampered bytes", flipped, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.PutRecord(ctx, "/ipns/"+name.String(), tt.data)
			require.Error(t, err)
			t.Log(err)
			var rerr *names.RecordError
			require.ErrorAs(t, err, &rerr)
			require.Equal(t, name.String(), rerr.Name)
			if tt.reason != nil {
				require.ErrorIs(t, err, tt.reason)
				require.Contains(t, err.Error(), tt.message)
			}
		})
	}

	// Nothing refused replaced what was held, locally or in routing.
	res, err := s.Resolve(ctx, name.String())
	require.NoError(t, err)
	require.Equal(t, uint64(2), res.Seq)
	require.Equal(t, value.String(), res.Path.String())
	fromRouting, err := r.GetValue(ctx, string(name.RoutingKey()))
	require.NoError(t, err)
	require.Equal(t, second.Raw, fromRouting)
}

func TestPutRecordAcceptsNewerAndEqual(t *testing.T) {
	ctx := context.Background()
	rAuthor, _ := namestest.Routing(t)
	author := namestest.System(t, rAuthor, nil, nil)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)
	v1, err := author.Publish(ctx, key, namestest.IPFSPath(t, "v1"))
	require.NoError(t, err)
	v2, err := author.Publish(ctx, key, namestest.IPFSPath(t, "v2"))
	require.NoError(t, err)

	rFriend, _ := namestest.Routing(t)
	friend := namestest.System(t, rFriend, nil, nil)
	for _, step := range []struct {
		rec  names.Record
		want uint64
	}{{v1, 1}, {v1, 1}, {v2, 2}, {v2, 2}} {
		got, err := friend.PutRecord(ctx, name.String(), step.rec.Raw)
		require.NoError(t, err)
		require.Equal(t, step.rec.Seq, got.Seq)
		raw, err := friend.Record(ctx, name.String())
		require.NoError(t, err)
		best, err := names.CheckRecord(name, raw)
		require.NoError(t, err)
		require.Equal(t, step.want, best.Seq)
	}
	// The friend put the author's exact bytes to its routing.
	inRouting, err := rFriend.GetValue(ctx, string(name.RoutingKey()))
	require.NoError(t, err)
	require.Equal(t, v2.Raw, inRouting)

	_, err = friend.PutRecord(ctx, "example.com", v2.Raw)
	require.Error(t, err, "a domain is not a key name")
}

// Resolution takes the highest valid sequence among the local copy and
// routing, whichever side holds it.
func TestResolveHighestSequence(t *testing.T) {
	ctx := context.Background()
	name, rAuthor, recs := publishVersions(t, 3)

	t.Run("routing newer than local", func(t *testing.T) {
		for _, tt := range []struct {
			name       string
			answerHeld bool
			// first is the sequence the first Resolve answers with.
			first uint64
		}{
			{"waits for routing", false, 3},
			// The held record answers at once; the lookup it starts in
			// the background finds the newer one for the next resolve.
			{"answers held, refreshes", true, 1},
		} {
			t.Run(tt.name, func(t *testing.T) {
				rOther, _ := namestest.Routing(t)
				ds := namestest.Datastore(t)
				seed := namestest.System(t, rOther, ds, nil)
				_, err := seed.PutRecord(ctx, name.String(), recs[0].Raw)
				require.NoError(t, err)
				s := namestest.System(t, rAuthor, ds, func(c *names.Config) { c.AnswerHeld = tt.answerHeld })
				res, err := s.Resolve(ctx, name.String())
				require.NoError(t, err)
				require.Equal(t, tt.first, res.Seq)
				require.Eventually(t, func() bool {
					res, err = s.Resolve(ctx, name.String())
					return err == nil && res.Seq == 3
				}, 10*time.Second, 10*time.Millisecond)
				require.Equal(t, recs[2].Value.String(), res.Path.String())
				held, err := s.Held(ctx, name)
				require.NoError(t, err)
				require.Equal(t, uint64(3), held.Seq, "the newer record is kept")
			})
		}
	})
	t.Run("local newer than routing", func(t *testing.T) {
		rOther, _ := namestest.Routing(t)
		_, err := namestest.System(t, rOther, nil, nil).PutRecord(ctx, name.String(), recs[0].Raw)
		require.NoError(t, err)
		ds := namestest.Datastore(t)
		require.NoError(t, ds.Put(ctx, namesys.IpnsDsKey(name), recs[2].Raw))
		s := namestest.System(t, rOther, ds, nil) // routing holds seq 1 only
		res, err := s.Resolve(ctx, name.String())
		require.NoError(t, err)
		require.Equal(t, uint64(3), res.Seq)
		require.Equal(t, recs[2].Value.String(), res.Path.String())
	})
}

func TestResolveExpiredLocalRecord(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	ds := namestest.Datastore(t)
	s := namestest.System(t, r, ds, nil)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)
	old, err := ipns.NewRecord(key, namestest.IPFSPath(t, "old"), 7, time.Now().Add(-time.Minute), time.Minute)
	require.NoError(t, err)
	raw, err := ipns.MarshalRecord(old)
	require.NoError(t, err)
	// As if the node had been off for longer than the record lived.
	require.NoError(t, ds.Put(ctx, namesys.IpnsDsKey(name), raw))

	_, err = s.Resolve(ctx, name.String())
	require.ErrorIs(t, err, names.ErrExpired)
	require.Contains(t, err.Error(), "expired at")

	// Publishing again goes above the expired record's sequence.
	rec, err := s.Publish(ctx, key, namestest.IPFSPath(t, "new"))
	require.NoError(t, err)
	require.Equal(t, uint64(8), rec.Seq)
}

func TestPublishReplacesCorruptLocalRecord(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	ds := namestest.Datastore(t)
	s := namestest.System(t, r, ds, nil)
	key := namestest.Key(t)
	require.NoError(t, ds.Put(ctx, namesys.IpnsDsKey(namestest.NameOf(t, key)), []byte("garbage")))
	rec, err := s.Publish(ctx, key, namestest.IPFSPath(t, "v"))
	require.NoError(t, err)
	require.Equal(t, uint64(1), rec.Seq)
}

func TestRepublish(t *testing.T) {
	ctx := context.Background()
	r, rds := namestest.Routing(t)
	ds := namestest.Datastore(t)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)
	short := namestest.System(t, r, ds, func(c *names.Config) { c.RecordLifetime = time.Hour })
	first, err := short.Publish(ctx, key, namestest.IPFSPath(t, "v"))
	require.NoError(t, err)

	// Plenty of lifetime left: the same bytes go out again.
	got, err := short.Republish(ctx, key)
	require.NoError(t, err)
	require.Equal(t, first.Raw, got.Raw)

	// Routing lost it (peers churned); republish puts it back.
	namestest.ClearRouting(t, rds)
	_, err = r.GetValue(ctx, string(name.RoutingKey()))
	require.Error(t, err)
	_, err = short.Republish(ctx, key)
	require.NoError(t, err)
	back, err := r.GetValue(ctx, string(name.RoutingKey()))
	require.NoError(t, err)
	require.Equal(t, first.Raw, back)

	// Less than half of a 48h lifetime left: re-signed with a new sequence.
	long := namestest.System(t, r, ds, nil)
	got, err = long.Republish(ctx, key)
	require.NoError(t, err)
	require.Equal(t, uint64(2), got.Seq)
	require.Equal(t, first.Value.String(), got.Value.String())
	require.True(t, got.EOL.After(first.EOL))

	_, err = long.Republish(ctx, namestest.Key(t))
	require.ErrorIs(t, err, names.ErrNotFound)
}

func TestDNSLink(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)
	direct := namestest.IPFSPath(t, "dnslink target")
	overrides, err := names.ParseNSMap("example.com:" + direct.String() + ", Site.Test.:/ipns/" + name.String())
	require.NoError(t, err)
	s := namestest.System(t, r, nil, func(c *names.Config) { c.DNSLinkOverrides = overrides })
	published := namestest.IPFSPath(t, "published")
	_, err = s.Publish(ctx, key, published)
	require.NoError(t, err)

	tests := []struct {
		input      string
		want       string
		hasRecord  bool
		wantReason error
	}{
		{"example.com", direct.String(), false, nil},
		{"/ipns/example.com/about/", direct.String() + "/about", false, nil},
		{"site.test/a/b", published.String() + "/a/b", true, nil},
		{"unknown.example", "", false, names.ErrDNSDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			res, err := s.Resolve(ctx, tt.input)
			if tt.wantReason != nil {
				require.ErrorIs(t, err, tt.wantReason)
				require.Contains(t, err.Error(), "IPFS_NS_MAP")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, res.Path.String())
			require.Equal(t, tt.hasRecord, res.Record != nil)
			if tt.hasRecord {
				require.True(t, res.Name.Equal(name))
			}
		})
	}

	// The gateway's name system honours the same overrides.
	p, err := path.NewPath("/ipns/site.test")
	require.NoError(t, err)
	nres, err := s.NameSystem().Resolve(ctx, p)
	require.NoError(t, err)
	require.Equal(t, published.String(), nres.Path.String())
}

func TestParseNSMap(t *testing.T) {
	c := "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
	tests := []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{"", map[string]string{}, ""},
		{"a.com:/ipfs/" + c, map[string]string{"a.com": "/ipfs/" + c}, ""},
		{"A.com.:/ipfs/" + c + ",,b.net:/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8", map[string]string{
			"a.com": "/ipfs/" + c, "b.net": "/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8"}, ""},
		{"a.com", nil, "want domain:/ipfs/CID"},
		{"a.com:/ipfs/notacid", nil, "not a content path"},
		{":/ipfs/" + c, nil, "want domain"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := names.ParseNSMap(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	r, _ := namestest.Routing(t)
	ds := namestest.Datastore(t)
	for _, tt := range []struct {
		name string
		cfg  names.Config
	}{
		{"no routing", names.Config{Datastore: ds}},
		{"no datastore", names.Config{Routing: r}},
		{"bad override", names.Config{Routing: r, Datastore: ds, DNSLinkOverrides: map[string]string{"a.com": "nope"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := names.New(context.Background(), tt.cfg)
			require.Error(t, err)
		})
	}
}

// A routing that takes no IPNS records (like a DHT with no peers): the
// record is still signed, kept and resolvable locally, and the error says
// only the put failed.
func TestPublishWhenRoutingRefuses(t *testing.T) {
	ctx := context.Background()
	refusing := offline.NewOfflineRouter(namestest.Datastore(t), record.NamespacedValidator{"pk": record.PublicKeyValidator{}})
	s := namestest.System(t, refusing, nil, nil)
	key := namestest.Key(t)
	v := namestest.CID(t, "offline")

	rec, err := s.Publish(ctx, key, path.FromCid(v))
	require.ErrorIs(t, err, names.ErrRoutingPut)
	require.Equal(t, uint64(1), rec.Seq)
	res, err := s.Resolve(ctx, namestest.NameOf(t, key).String())
	require.NoError(t, err)
	require.Equal(t, "/ipfs/"+v.String(), res.Path.String())
}

func TestPublishOptions(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	s := namestest.System(t, r, nil, nil)
	key := namestest.Key(t)
	tests := []struct {
		name    string
		opts    []names.PublishOption
		ttl     time.Duration
		life    time.Duration
		wantErr string
	}{
		{"defaults", nil, names.DefaultConfig().TTL, names.DefaultConfig().RecordLifetime, ""},
		{"ttl and lifetime", []names.PublishOption{names.WithTTL(time.Minute), names.WithLifetime(2 * time.Hour)}, time.Minute, 2 * time.Hour, ""},
		{"zero ttl", []names.PublishOption{names.WithTTL(0)}, 0, 0, "must be positive"},
		{"negative lifetime", []names.PublishOption{names.WithLifetime(-time.Hour)}, 0, 0, "must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now()
			rec, err := s.Publish(ctx, key, namestest.IPFSPath(t, tt.name), tt.opts...)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.ttl, rec.TTL)
			require.WithinRange(t, rec.EOL, before.Add(tt.life), time.Now().Add(tt.life))
		})
	}
}

// Resolve answers from the cache for a record's TTL; ResolveFresh looks
// again, so a poller sees a new version at once.
func TestResolveFresh(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	author := namestest.System(t, r, nil, nil)
	reader := namestest.System(t, r, nil, nil)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key).String()
	v1, v2 := namestest.IPFSPath(t, "v1"), namestest.IPFSPath(t, "v2")

	_, err := author.Publish(ctx, key, v1)
	require.NoError(t, err)
	res, err := reader.Resolve(ctx, name)
	require.NoError(t, err)
	require.Equal(t, v1.String(), res.Path.String())
	_, err = author.Publish(ctx, key, v2)
	require.NoError(t, err)

	for _, tt := range []struct {
		name    string
		resolve func(context.Context, string) (names.ResolveResult, error)
		want    string
		seq     uint64
	}{
		{"cached", reader.Resolve, v1.String(), 1},
		{"fresh", reader.ResolveFresh, v2.String(), 2},
		{"cache refreshed by the fresh lookup", reader.Resolve, v2.String(), 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.resolve(ctx, name)
			require.NoError(t, err)
			require.Equal(t, tt.want, res.Path.String())
			require.Equal(t, tt.seq, res.Seq)
		})
	}
}

// With AnswerHeld, routing never holds up a name whose record is held: the
// lookup runs in the background, one per name however many resolve it, a
// record pushed meanwhile wins over an older one routing finds, and Close
// ends the lookup.
func TestAnswerHeldRefreshesInBackground(t *testing.T) {
	ctx := context.Background()
	// A TTL that ends at once: every resolve below passes the cache.
	name, rAuthor, recs := publishVersions(t, 3, names.WithTTL(time.Nanosecond))
	r := &stallingRouting{ValueStore: rAuthor, release: make(chan struct{})}
	s := namestest.System(t, r, nil, func(c *names.Config) { c.AnswerHeld = true })
	_, _, err := s.Accept(ctx, name.String(), recs[0].Raw)
	require.NoError(t, err)

	for range 5 {
		res, err := s.Resolve(ctx, name.String())
		require.NoError(t, err)
		require.Equal(t, uint64(1), res.Seq)
	}
	require.Eventually(t, func() bool { return r.calls.Load() == 1 }, 10*time.Second, 5*time.Millisecond)

	// Pushed while the lookup is under way (it would find seq 3 too, but
	// seq 2 arriving first must answer at once).
	_, stored, err := s.Accept(ctx, name.String(), recs[1].Raw)
	require.NoError(t, err)
	require.True(t, stored)
	res, err := s.Resolve(ctx, name.String())
	require.NoError(t, err)
	require.Equal(t, uint64(2), res.Seq)
	require.Equal(t, int64(1), r.calls.Load(), "one lookup per name at a time")

	close(r.release)
	require.Eventually(t, func() bool {
		res, err := s.Resolve(ctx, name.String())
		return err == nil && res.Seq == 3
	}, 10*time.Second, 5*time.Millisecond)

	t.Run("close ends the lookup", func(t *testing.T) {
		r := &stallingRouting{ValueStore: rAuthor, release: make(chan struct{})}
		s := namestest.System(t, r, nil, func(c *names.Config) { c.AnswerHeld = true })
		_, _, err := s.Accept(ctx, name.String(), recs[2].Raw)
		require.NoError(t, err)
		_, err = s.Resolve(ctx, name.String())
		require.NoError(t, err)
		require.Eventually(t, func() bool { return r.calls.Load() == 1 }, 10*time.Second, 5*time.Millisecond)
		require.NoError(t, s.Close())
		require.NoError(t, s.Close())
		require.ErrorIs(t, r.err.Load().(error), context.Canceled)
		res, err := s.Resolve(ctx, name.String())
		require.NoError(t, err, "a closed System still answers from what it holds")
		require.Equal(t, uint64(3), res.Seq)
	})
}

// publishVersions publishes n versions of a new name (sequences 1..n) to
// a routing of its own, which it returns with their records.
func publishVersions(t *testing.T, n int, opts ...names.PublishOption) (ipns.Name, routing.ValueStore, []names.Record) {
	t.Helper()
	key := namestest.Key(t)
	r, _ := namestest.Routing(t)
	author := namestest.System(t, r, nil, nil)
	var recs []names.Record
	for i := range n {
		rec, err := author.Publish(context.Background(), key, namestest.IPFSPath(t, string(rune('a'+i))), opts...)
		require.NoError(t, err)
		recs = append(recs, rec)
	}
	return namestest.NameOf(t, key), r, recs
}

// stallingRouting's lookups wait for release (or their context), then ask
// the routing it wraps.
type stallingRouting struct {
	routing.ValueStore
	release chan struct{}
	calls   atomic.Int64
	err     atomic.Value
}

func (r *stallingRouting) GetValue(ctx context.Context, key string, opts ...routing.Option) ([]byte, error) {
	r.calls.Add(1)
	select {
	case <-r.release:
		return r.ValueStore.GetValue(ctx, key, opts...)
	case <-ctx.Done():
		r.err.Store(ctx.Err())
		return nil, ctx.Err()
	}
}

// Reput puts a resolved record's exact bytes back to routing, which is how
// a friend keeps an offline author's name alive.
func TestReput(t *testing.T) {
	ctx := context.Background()
	r, rds := namestest.Routing(t)
	author := namestest.System(t, r, nil, nil)
	friend := namestest.System(t, r, nil, nil)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)
	rec, err := author.Publish(ctx, key, namestest.IPFSPath(t, "v"))
	require.NoError(t, err)
	res, err := friend.ResolveFresh(ctx, name.String())
	require.NoError(t, err)

	namestest.ClearRouting(t, rds)
	require.NoError(t, friend.Reput(ctx, names.Record{Name: res.Name, Raw: res.Record}))
	got, err := r.GetValue(ctx, string(name.RoutingKey()))
	require.NoError(t, err)
	require.Equal(t, rec.Raw, got)

	refusing := offline.NewOfflineRouter(namestest.Datastore(t), record.NamespacedValidator{"pk": record.PublicKeyValidator{}})
	err = namestest.System(t, refusing, nil, nil).Reput(ctx, rec)
	require.ErrorIs(t, err, names.ErrRoutingPut)
}

// A lifetime asked for once (a site's) is the name's from then on: later
// publishes and the republisher sign with it, not with the 48 h default,
// and the republisher re-signs only when half of it is left.
func TestLifetimeIsTheNames(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	s := namestest.System(t, r, nil, nil)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)
	d, own, err := s.Lifetime(ctx, name)
	require.NoError(t, err)
	require.False(t, own)
	require.Equal(t, names.DefaultConfig().RecordLifetime, d)

	month := 35 * 24 * time.Hour
	first, err := s.Publish(ctx, key, namestest.IPFSPath(t, "v1"), names.WithLifetime(month))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(month), first.EOL, time.Minute)
	second, err := s.Publish(ctx, key, namestest.IPFSPath(t, "v2"))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(month), second.EOL, time.Minute, "the name's lifetime, not the default")
	again, err := s.Republish(ctx, key)
	require.NoError(t, err)
	require.Equal(t, second.Seq, again.Seq, "more than half the lifetime left: re-put, not re-signed")

	require.NoError(t, s.SetLifetime(ctx, name, 10*24*time.Hour))
	d, own, err = s.Lifetime(ctx, name)
	require.NoError(t, err)
	require.True(t, own)
	require.Equal(t, 10*24*time.Hour, d)
	require.Error(t, s.SetLifetime(ctx, name, 0))
}

// Records strangers send (PUT /routing/v1/ipns/) are kept for at most
// MaxRecords names and only while the repo has room; a refused one is a
// *RecordError with ErrNoRoom and nothing is stored. Names held already
// still take newer records, and the user's and the follower's PutRecord
// are not bounded.
func TestPeerRecordsAreBounded(t *testing.T) {
	ctx := context.Background()
	rAuthor, _ := namestest.Routing(t)
	author := namestest.System(t, rAuthor, nil, nil)
	type signed struct {
		name   string
		v1, v2 names.Record
	}
	var recs []signed
	for range 4 {
		key := namestest.Key(t)
		v1, err := author.Publish(ctx, key, namestest.IPFSPath(t, "v1"))
		require.NoError(t, err)
		v2, err := author.Publish(ctx, key, namestest.IPFSPath(t, "v2"))
		require.NoError(t, err)
		recs = append(recs, signed{namestest.NameOf(t, key).String(), v1, v2})
	}

	full := errors.New("repo full")
	var noRoom bool
	r, _ := namestest.Routing(t)
	s := namestest.System(t, r, nil, func(c *names.Config) {
		c.MaxRecords = 2
		c.Room = func(context.Context, int) error {
			if noRoom {
				return full
			}
			return nil
		}
	})
	for _, rec := range recs[:2] {
		_, err := s.PutPeerRecord(ctx, rec.name, rec.v1.Raw)
		require.NoError(t, err)
	}
	_, err := s.PutPeerRecord(ctx, recs[2].name, recs[2].v1.Raw)
	require.ErrorIs(t, err, names.ErrNoRoom)
	require.ErrorAs(t, err, new(*names.RecordError))
	require.Contains(t, err.Error(), "records of 2 names")
	name2, err := names.ParseName(recs[2].name)
	require.NoError(t, err)
	_, err = s.Held(ctx, name2)
	require.ErrorIs(t, err, names.ErrNotFound, "nothing of it is stored")

	got, err := s.PutPeerRecord(ctx, recs[0].name, recs[0].v2.Raw)
	require.NoError(t, err, "a name held already takes its newer record")
	require.Equal(t, uint64(2), got.Seq)
	_, err = s.PutRecord(ctx, recs[2].name, recs[2].v1.Raw)
	require.NoError(t, err, "routing put and the follower are not bounded")

	s = namestest.System(t, r, nil, func(c *names.Config) {
		c.Room = func(context.Context, int) error {
			if noRoom {
				return full
			}
			return nil
		}
	})
	noRoom = true
	_, err = s.PutPeerRecord(ctx, recs[3].name, recs[3].v1.Raw)
	require.ErrorIs(t, err, names.ErrNoRoom)
	require.ErrorIs(t, err, full, "the repo's error is kept")
}

// AboveSequence signs above a sequence no record held here shows: what a
// site's imported history knows of its name.
func TestPublishAboveSequence(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	s := namestest.System(t, r, nil, nil)
	key := namestest.Key(t)
	rec, err := s.Publish(ctx, key, namestest.IPFSPath(t, "v"), names.AboveSequence(41))
	require.NoError(t, err)
	require.Equal(t, uint64(42), rec.Seq)
	rec, err = s.Publish(ctx, key, namestest.IPFSPath(t, "w"), names.AboveSequence(3))
	require.NoError(t, err)
	require.Equal(t, uint64(43), rec.Seq, "and above what is held")
}
