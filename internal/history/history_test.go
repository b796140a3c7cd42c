package history

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/ipfs/boxo/routing/offline"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/names/namestest"
)

// mustStore builds a Store and the name system it publishes with over r
// and ds (a fresh datastore when nil), the same datastore for both as in a repo.
func mustStore(t *testing.T, r routing.ValueStore, ds datastore.Batching) (*Store, *names.System) {
	t.Helper()
	if ds == nil {
		ds = namestest.Datastore(t)
	}
	ns := namestest.System(t, r, ds, nil)
	s, err := New(Config{Datastore: ds, Names: ns})
	require.NoError(t, err)
	return s, ns
}

func TestHistoryAndRollback(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	s, ns := mustStore(t, r, nil)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key).String()
	a, b, c := namestest.CID(t, "a"), namestest.CID(t, "b"), namestest.CID(t, "c")

	_, err := s.Current(ctx, name)
	require.ErrorIs(t, err, ErrNoHistory)
	_, err = s.Rollback(ctx, key, 0)
	require.ErrorIs(t, err, ErrNoHistory)

	for i, v := range []cid.Cid{a, b, c} {
		e, err := s.PublishVersion(ctx, key, v)
		require.NoError(t, err)
		require.Equal(t, i+1, e.Version)
		require.Equal(t, v, e.CID)
	}
	hist, err := s.History(ctx, name)
	require.NoError(t, err)
	require.Len(t, hist, 3)
	require.False(t, hist[0].Prev.Defined())
	for i := 1; i < len(hist); i++ {
		require.Equal(t, hist[i-1].CID, hist[i].Prev)
		require.Greater(t, hist[i].Seq, hist[i-1].Seq)
		require.False(t, hist[i].Time.Before(hist[i-1].Time))
	}

	// Publishing the current content again refreshes the record only.
	same, err := s.PublishVersion(ctx, key, c)
	require.NoError(t, err)
	require.Equal(t, 3, same.Version)
	before, err := ns.Resolve(ctx, name)
	require.NoError(t, err)
	require.Equal(t, uint64(4), before.Seq)

	// Rollback restores the previous CID under the same name with a higher sequence.
	rb, err := s.Rollback(ctx, key, 0)
	require.NoError(t, err)
	require.Equal(t, 4, rb.Version)
	require.Equal(t, b, rb.CID)
	require.Equal(t, c, rb.Prev)
	require.Greater(t, rb.Seq, before.Seq)
	res, err := ns.Resolve(ctx, name)
	require.NoError(t, err)
	require.Equal(t, "/ipfs/"+b.String(), res.Path.String())
	require.Equal(t, rb.Seq, res.Seq)
	// Another node resolving through routing sees the rollback too.
	res, err = namestest.System(t, r, nil, nil).Resolve(ctx, name)
	require.NoError(t, err)
	require.Equal(t, "/ipfs/"+b.String(), res.Path.String())

	rb, err = s.Rollback(ctx, key, 1)
	require.NoError(t, err)
	require.Equal(t, a, rb.CID)
	require.Equal(t, 5, rb.Version)

	for _, tt := range []struct {
		version int
		want    string
	}{
		{5, "already the current content"},
		{1, "already the current content"},
		{6, "no version 6 (there are versions 1 to 5)"},
		{-1, "no version -1"},
	} {
		_, err := s.Rollback(ctx, key, tt.version)
		require.ErrorContains(t, err, tt.want)
	}

	cur, err := s.Current(ctx, name)
	require.NoError(t, err)
	require.Equal(t, 5, cur.Version)

	// Every version of every site is a gc root.
	other := namestest.Key(t)
	d := namestest.CID(t, "d")
	_, err = s.PublishVersion(ctx, other, d)
	require.NoError(t, err)
	roots, err := s.Roots(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []cid.Cid{a, b, c, d}, roots)
}

func TestHistoryTampering(t *testing.T) {
	ctx := context.Background()
	key := namestest.Key(t)
	n := namestest.NameOf(t, key)
	a, b, c := namestest.CID(t, "a"), namestest.CID(t, "b"), namestest.CID(t, "c")

	tests := []struct {
		name   string
		tamper func(t *testing.T, ds datastore.Batching, hist []Entry)
		want   string
	}{
		{"content swapped", func(t *testing.T, ds datastore.Batching, hist []Entry) {
			e := hist[1]
			e.CID = namestest.CID(t, "evil")
			putEntry(t, ds, e)
		}, "version 2 of " + n.String() + ": signature does not verify"},
		{"entry deleted", func(t *testing.T, ds datastore.Batching, hist []Entry) {
			require.NoError(t, ds.Delete(ctx, entryKey(n, hist[1].Seq)))
		}, "has version 3 where version 2 belongs"},
		{"entry re-signed by another key", func(t *testing.T, ds datastore.Batching, hist []Entry) {
			e := hist[2]
			e.Prev = namestest.CID(t, "evil")
			require.NoError(t, e.sign(namestest.Key(t)))
			putEntry(t, ds, e)
		}, "signature does not verify"},
		{"garbage", func(t *testing.T, ds datastore.Batching, hist []Entry) {
			require.NoError(t, ds.Put(ctx, entryKey(n, hist[0].Seq), []byte("{not json")))
		}, "cannot be read"},
		{"signature replayed from another version", func(t *testing.T, ds datastore.Batching, hist []Entry) {
			e := hist[2]
			e.Signature = hist[1].Signature
			putEntry(t, ds, e)
		}, "version 3 of " + n.String() + ": signature does not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := namestest.Routing(t)
			ds := namestest.Datastore(t)
			s, _ := mustStore(t, r, ds)
			for _, v := range []cid.Cid{a, b, c} {
				_, err := s.PublishVersion(ctx, key, v)
				require.NoError(t, err)
			}
			hist, err := s.History(ctx, n.String())
			require.NoError(t, err)

			tt.tamper(t, ds, hist)
			// The Store that verified the history before, and a new one
			// (the next process), both find it.
			_, err = s.History(ctx, n.String())
			require.ErrorIs(t, err, ErrTamperedHistory)
			require.ErrorContains(t, err, tt.want)
			fresh, _ := mustStore(t, r, ds)
			_, err = fresh.History(ctx, n.String())
			require.ErrorIs(t, err, ErrTamperedHistory)
			require.ErrorContains(t, err, tt.want)
			// Nothing is appended to a broken chain.
			_, err = s.PublishVersion(ctx, key, namestest.CID(t, "next"))
			require.ErrorIs(t, err, ErrTamperedHistory)
			// The content still counts as a gc root.
			roots, err := s.Roots(ctx)
			require.NoError(t, err)
			require.Contains(t, roots, c)
		})
	}
}

func putEntry(t *testing.T, ds datastore.Batching, e Entry) {
	t.Helper()
	b, err := json.Marshal(e)
	require.NoError(t, err)
	require.NoError(t, ds.Put(context.Background(), entryKey(e.Name, e.Seq), b))
}

// RSA names do not contain their key: entries carry it and it must match.
func TestHistoryRSAKey(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	s, ns := mustStore(t, r, nil)
	key, _, err := crypto.GenerateKeyPairWithReader(crypto.RSA, 2048, rand.Reader)
	require.NoError(t, err)
	e, err := s.PublishVersion(ctx, key, namestest.CID(t, "rsa"))
	require.NoError(t, err)
	require.NotEmpty(t, e.PublicKey)
	require.NoError(t, e.Verify())

	other, _, err := crypto.GenerateKeyPairWithReader(crypto.RSA, 2048, rand.Reader)
	require.NoError(t, err)
	forged := e
	forged.PublicKey = nil
	require.NoError(t, forged.sign(other)) // embeds other's key
	require.ErrorContains(t, forged.Verify(), "not the name's")

	res, err := ns.Resolve(ctx, namestest.NameOf(t, key).String())
	require.NoError(t, err)
	require.Equal(t, "/ipfs/"+e.CID.String(), res.Path.String())
}

func TestEntryJSONRoundTrip(t *testing.T) {
	r, _ := namestest.Routing(t)
	s, _ := mustStore(t, r, nil)
	key := namestest.Key(t)
	ctx := context.Background()
	_, err := s.PublishVersion(ctx, key, namestest.CID(t, "1"))
	require.NoError(t, err)
	e, err := s.PublishVersion(ctx, key, namestest.CID(t, "2"))
	require.NoError(t, err)
	b, err := json.Marshal(e)
	require.NoError(t, err)
	require.Contains(t, string(b), `"cid":"`+e.CID.String()+`"`)
	var back Entry
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, e.signedBytes(), back.signedBytes())
	require.NoError(t, back.Verify())
}

// A routing that takes no IPNS records (like a DHT with no peers): the
// version is published locally and recorded, and the error says only the
// put failed.
func TestPublishVersionWhenRoutingRefuses(t *testing.T) {
	ctx := context.Background()
	refusing := offline.NewOfflineRouter(namestest.Datastore(t), record.NamespacedValidator{"pk": record.PublicKeyValidator{}})
	s, ns := mustStore(t, refusing, nil)
	key := namestest.Key(t)
	_, err := ns.Publish(ctx, key, namestest.IPFSPath(t, "offline"))
	require.ErrorIs(t, err, names.ErrRoutingPut)

	e, err := s.PublishVersion(ctx, key, namestest.CID(t, "offline 2"))
	require.ErrorIs(t, err, names.ErrRoutingPut)
	require.Equal(t, 1, e.Version)
	require.Equal(t, uint64(2), e.Seq)
	hist, err := s.History(ctx, namestest.NameOf(t, key).String())
	require.NoError(t, err)
	require.Len(t, hist, 1)
	res, err := ns.Resolve(ctx, namestest.NameOf(t, key).String())
	require.NoError(t, err)
	require.Equal(t, "/ipfs/"+e.CID.String(), res.Path.String())
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
			_, err := New(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}
