package node_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/testutil/testnet"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

// After a restart on the same datastore the provider goes on announcing the
// keys it had (or the ones ProvideRoots now lists), here to a network that
// never heard of them. Whether the first reprovide after the restart comes at
// once or at its scheduled time depends on when the region was last
// reprovided (records in the old network are still valid), so the interval
// is short enough for either to happen within the test.
const shortInterval = 2 * time.Second

func TestReprovideAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two loopback networks")
	}
	tests := []struct {
		name string
		// roots is what ProvideRoots returns after the restart (nil: the
		// node keeps its persisted keystore).
		roots func(kept, dropped cid.Cid) []cid.Cid
	}{
		{"persisted keystore", nil},
		{"keystore reset to ProvideRoots", func(kept, dropped cid.Cid) []cid.Cid { return []cid.Cid{kept} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			key := testnet.NewKey(t)

			// First life: provide two roots to a network of two.
			st := testnet.OpenStore(t, dir)
			first := testnet.NodeConfig(t, st, key)
			first.ReprovideInterval = shortInterval
			a, err := node.New(ctx, first)
			require.NoError(t, err)
			b := testnet.StartNode(t, testnet.NodeConfig(t, testnet.NewStore(t), testnet.NewKey(t)))
			testnet.Connect(t, a, b)
			kept := testnet.AddRandomFile(t, a.DAG(), 2<<20, 6)
			dropped := testnet.AddRandomFile(t, a.DAG(), 1<<20, 7)
			require.NoError(t, a.Provide(ctx, kept, dropped))
			waitForProvider(t, b, kept, a.ID())
			require.NoError(t, a.Close())
			require.NoError(t, st.Close())

			// Second life: same datastore, a network that never saw a record.
			st = testnet.OpenStore(t, dir)
			cfg := testnet.NodeConfig(t, st, key)
			cfg.ReprovideInterval = shortInterval
			wantKeys := 3 + 1 // kept: root and two leaves; dropped: a single raw leaf
			if tt.roots != nil {
				cfg.ProvideRoots = func(context.Context) ([]cid.Cid, error) { return tt.roots(kept, dropped), nil }
				wantKeys = 3
			}
			fresh := testnet.NewNetwork(t, 2)
			cfg.Bootstrap = []peer.AddrInfo{testnet.AddrInfo(fresh[0])}
			a = testnet.StartNode(t, cfg)
			testnet.AwaitDHTNeighbours(t, a, fresh[0].ID())

			// The record must have been pushed to the fresh peers: A answering
			// from its own persisted records would not prove a reprovide.
			require.Eventually(t, func() bool {
				provs, err := fresh[0].DHT().LAN.ProviderStore().GetProviders(ctx, kept.Hash())
				return err == nil && slices.ContainsFunc(provs, func(p peer.AddrInfo) bool { return p.ID == a.ID() })
			}, 30*time.Second, 50*time.Millisecond, "the fresh network's DHT never received A's record")
			waitForProvider(t, fresh[1], kept, a.ID())
			require.Eventually(t, func() bool {
				s, err := a.ProvideStat(ctx)
				return err == nil && s.Keys == wantKeys && !s.LAN.LastReprovide.IsZero()
			}, 30*time.Second, 50*time.Millisecond, "keystore of %d keys, reprovided", wantKeys)
		})
	}
}
