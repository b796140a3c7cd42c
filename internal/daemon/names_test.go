package daemon

import (
	"context"
	"testing"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/boxo/routing/offline"
	"github.com/ipfs/go-cid"
	pebbleds "github.com/ipfs/go-ds-pebble"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/names"
)

func rawCID(t *testing.T, s string) cid.Cid {
	t.Helper()
	mh, err := multihash.Sum([]byte(s), multihash.SHA2_256, -1)
	require.NoError(t, err)
	return cid.NewCidV1(cid.Raw, mh)
}

// The gateway sees a new version the moment it is published, even right
// after resolving (and caching) the one before.
func TestGatewayNamesSeeAPublishAtOnce(t *testing.T) {
	ctx := context.Background()
	ds, err := pebbleds.NewDatastore(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = ds.Close() })
	cfg := names.DefaultConfig()
	cfg.Routing = offline.NewOfflineRouter(ds, record.NamespacedValidator{"ipns": ipns.Validator{}, "pk": record.PublicKeyValidator{}})
	cfg.Datastore = ds
	s, err := names.New(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	gw := newGatewayNames(s)

	key, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	id, err := peer.IDFromPrivateKey(key)
	require.NoError(t, err)
	p, err := path.NewPath("/ipns/" + ipns.NameFromPeer(id).String() + "/sub")
	require.NoError(t, err)

	_, err = gw.Resolve(ctx, p)
	require.ErrorIs(t, err, namesys.ErrResolveFailed, "nothing published yet: the gateway answers 404")

	for _, v := range []string{"one", "two"} {
		_, err := s.PublishVersion(ctx, key, rawCID(t, v))
		require.NoError(t, err)
		res, err := gw.Resolve(ctx, p)
		require.NoError(t, err)
		require.Equal(t, "/ipfs/"+rawCID(t, v).String()+"/sub", res.Path.String())
		ar := <-gw.ResolveAsync(ctx, p)
		require.NoError(t, ar.Err)
		require.Equal(t, res.Path.String(), ar.Path.String())
	}

	imm := path.FromCid(rawCID(t, "x"))
	res, err := gw.Resolve(ctx, imm)
	require.NoError(t, err)
	require.Equal(t, imm.String(), res.Path.String())
}
