// Package namestest builds the real parts tests of names and of the
// packages built on it need: pebble datastores in t.TempDir(), a routing
// value store with a DHT's validators, name systems over them, keys and
// CIDs. Everything is cleaned up with t.Cleanup.
package namestest

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

	"github.com/islandsite/island/internal/names"
)

// Datastore opens a real pebble datastore in a temporary directory.
func Datastore(t testing.TB) datastore.Batching {
	t.Helper()
	ds, err := pebbleds.NewDatastore(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = ds.Close() })
	return ds
}

// Routing is a real value store to share between the systems of a test:
// boxo's offline router over its own datastore (returned too, to see or
// drop what routing holds), with the validators a DHT uses.
func Routing(t testing.TB) (routing.ValueStore, datastore.Batching) {
	t.Helper()
	ds := Datastore(t)
	v := record.NamespacedValidator{"ipns": ipns.Validator{}, "pk": record.PublicKeyValidator{}}
	return offline.NewOfflineRouter(ds, v), ds
}

// System builds a System with the default config over r and ds (a fresh
// datastore when nil); edit, when given, changes the config first.
func System(t testing.TB, r routing.ValueStore, ds datastore.Batching, edit func(*names.Config)) *names.System {
	t.Helper()
	if ds == nil {
		ds = Datastore(t)
	}
	cfg := names.DefaultConfig()
	cfg.Routing = r
	cfg.Datastore = ds
	if edit != nil {
		edit(&cfg)
	}
	s, err := names.New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// ClearRouting deletes every IPNS record from a router's datastore, as if
// every peer holding it had dropped it.
func ClearRouting(t testing.TB, rds datastore.Batching) {
	t.Helper()
	ctx := context.Background()
	res, err := rds.Query(ctx, query.Query{Prefix: "/ipns", KeysOnly: true})
	require.NoError(t, err)
	all, err := res.Rest()
	require.NoError(t, err)
	for _, e := range all {
		require.NoError(t, rds.Delete(ctx, datastore.NewKey(e.Key)))
	}
}

// Key is a new Ed25519 key.
func Key(t testing.TB) crypto.PrivKey {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	require.NoError(t, err)
	return k
}

// NameOf is the IPNS name of k.
func NameOf(t testing.TB, k crypto.PrivKey) ipns.Name {
	t.Helper()
	pid, err := peer.IDFromPrivateKey(k)
	require.NoError(t, err)
	return ipns.NameFromPeer(pid)
}

// CID is the CID of a raw block holding s.
func CID(t testing.TB, s string) cid.Cid {
	t.Helper()
	sum := sha256.Sum256([]byte(s))
	mh, err := multihash.Encode(sum[:], multihash.SHA2_256)
	require.NoError(t, err)
	return cid.NewCidV1(cid.Raw, mh)
}

// IPFSPath is /ipfs/ of CID(t, s).
func IPFSPath(t testing.TB, s string) path.Path {
	t.Helper()
	return path.FromCid(CID(t, s))
}

// Path parses s as a content path.
func Path(t testing.TB, s string) path.Path {
	t.Helper()
	p, err := path.NewPath(s)
	require.NoError(t, err)
	return p
}
