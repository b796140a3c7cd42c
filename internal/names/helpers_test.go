package names

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/boxo/routing/offline"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	pebbleds "github.com/ipfs/go-ds-pebble"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/multiformats/go-multihash"
	"github.com/stretchr/testify/require"
)

// mustDatastore opens a real pebble datastore in a temporary directory.
func mustDatastore(t testing.TB) *pebbleds.Datastore {
	t.Helper()
	ds, err := pebbleds.NewDatastore(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = ds.Close() })
	return ds
}

// mustRouting is a real value store shared by the systems of a test: boxo's
// offline router over its own pebble datastore, with the validators a DHT uses.
func mustRouting(t testing.TB) (routing.ValueStore, datastore.Batching) {
	t.Helper()
	ds := mustDatastore(t)
	v := record.NamespacedValidator{"ipns": ipns.Validator{}, "pk": record.PublicKeyValidator{}}
	return offline.NewOfflineRouter(ds, v), ds
}

// mustSystem builds a System over r and a fresh datastore (or ds when given).
func mustSystem(t testing.TB, r routing.ValueStore, ds datastore.Batching, edit func(*Config)) *System {
	t.Helper()
	if ds == nil {
		ds = mustDatastore(t)
	}
	cfg := DefaultConfig()
	cfg.Routing = r
	cfg.Datastore = ds
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func mustKey(t testing.TB) crypto.PrivKey {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	require.NoError(t, err)
	return k
}

func nameOf(t testing.TB, k crypto.PrivKey) ipns.Name {
	t.Helper()
	pid, err := peer.IDFromPrivateKey(k)
	require.NoError(t, err)
	return ipns.NameFromPeer(pid)
}

// testCID is the CID of a raw block holding s.
func testCID(t testing.TB, s string) cid.Cid {
	t.Helper()
	sum := sha256.Sum256([]byte(s))
	mh, err := multihash.Encode(sum[:], multihash.SHA2_256)
	require.NoError(t, err)
	return cid.NewCidV1(cid.Raw, mh)
}

func ipfsPath(t testing.TB, s string) path.Path {
	t.Helper()
	return path.FromCid(testCID(t, s))
}

// allKeys lists the keys under prefix.
func allKeys(t testing.TB, ds datastore.Datastore, prefix string) []string {
	t.Helper()
	res, err := ds.Query(context.Background(), query.Query{Prefix: prefix, KeysOnly: true})
	require.NoError(t, err)
	all, err := res.Rest()
	require.NoError(t, err)
	keys := make([]string, 0, len(all))
	for _, e := range all {
		keys = append(keys, e.Key)
	}
	return keys
}

func mustPath(t testing.TB, s string) path.Path {
	t.Helper()
	p, err := path.NewPath(s)
	require.NoError(t, err)
	return p
}
