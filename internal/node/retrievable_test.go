package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/testutil/testnet"
)

func TestCheckRetrievable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	ctx := context.Background()
	nodes := testnet.NewNetwork(t, 3, testnet.WithTopology(testnet.Star))
	a := nodes[1]

	t.Run("provided", func(t *testing.T) {
		root := testnet.AddRandomFile(t, a.DAG(), 3<<20, 11)
		require.NoError(t, a.Provide(ctx, root))
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		r, err := a.CheckRetrievable(cctx, root)
		require.NoError(t, err)
		// a starts connected to the hub only, but the DHT may connect it to
		// the third node too: either is an independent peer, a itself is not.
		require.Contains(t, []peer.ID{nodes[0].ID(), nodes[2].ID()}, r.Via)
		require.GreaterOrEqual(t, r.Providers, 1)
		require.Positive(t, r.Took)
	})

	t.Run("never provided", func(t *testing.T) {
		// In a's blockstore, but announced to nobody: a stranger cannot
		// find it, whatever a has.
		root := testnet.AddRandomFile(t, a.DAG(), 1<<10, 12)
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		_, err := a.CheckRetrievable(cctx, root)
		require.ErrorContains(t, err, "knows no provider")
	})

	t.Run("alone", func(t *testing.T) {
		lone := testnet.NewNetwork(t, 1)[0]
		root := testnet.AddRandomFile(t, lone.DAG(), 1<<10, 13)
		_, err := lone.CheckRetrievable(ctx, root)
		require.ErrorIs(t, err, node.ErrNoPeers)
	})
}
