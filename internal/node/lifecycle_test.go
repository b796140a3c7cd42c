package node_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ipfs/go-datastore"
	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/testutil/testnet"
	"github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestNewRejectsBadConfig(t *testing.T) {
	st := testnet.NewStore(t)
	tests := []struct {
		name string
		edit func(*node.Config)
		want string
	}{
		{"no identity", func(c *node.Config) { c.Identity = nil }, "Identity is required"},
		{"no datastore", func(c *node.Config) { c.Datastore = nil }, "Datastore is required"},
		{"no blockstore", func(c *node.Config) { c.Blockstore = nil }, "Blockstore is required"},
		{"bad listen address", func(c *node.Config) { c.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/x"} }, `listen address "/ip4/127.0.0.1/tcp/x"`},
		{"water marks", func(c *node.Config) { c.ConnMgrLow, c.ConnMgrHigh = 10, 5 }, "low=10 high=5"},
		{"negative interval", func(c *node.Config) { c.ReprovideInterval = -1 }, "ReprovideInterval -1ns is negative"},
		{"relay service", func(c *node.Config) { c.RelayService = "sometimes" }, `RelayService "sometimes": want auto, on or off`},
		{"negative hole punch wait", func(c *node.Config) { c.HolePunchWait = -1 }, "HolePunchWait -1ns is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testnet.NodeConfig(t, st, testnet.NewKey(t))
			tt.edit(&cfg)
			_, err := node.New(context.Background(), cfg)
			require.ErrorContains(t, err, "node: config: ")
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// A failure late in New must close everything built before it; goleak in
// TestMain catches what is left running.
func TestNewUndoesOnFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nodes")
	}
	tests := []struct {
		name string
		edit func(t *testing.T, cfg *node.Config)
		want string
	}{
		{"address that cannot be bound", func(t *testing.T, cfg *node.Config) {
			cfg.ListenAddrs = []string{"/ip4/192.0.2.1/tcp/0"} // TEST-NET-1: not ours
		}, "listen on /ip4/192.0.2.1/tcp/0"},
		{"metrics already registered", func(t *testing.T, cfg *node.Config) {
			reg := prometheus.NewRegistry()
			other := testnet.NodeConfig(t, testnet.NewStore(t), testnet.NewKey(t))
			other.Registerer = reg
			testnet.StartNode(t, other)
			cfg.Registerer = reg
		}, "register metrics"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testnet.NodeConfig(t, testnet.NewStore(t), testnet.NewKey(t))
			tt.edit(t, &cfg)
			_, err := node.New(context.Background(), cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestCloseTwice(t *testing.T) {
	st := testnet.NewStore(t)
	n, err := node.New(context.Background(), testnet.NodeConfig(t, st, testnet.NewKey(t)))
	require.NoError(t, err)
	require.NoError(t, n.Close())
	require.NoError(t, n.Close())
	// The node left the caller's store open.
	_, err = st.Datastore.Has(context.Background(), datastore.NewKey("/probe"))
	require.NoError(t, err)
}

func TestAddrsEndInPeerID(t *testing.T) {
	n := testnet.StartNode(t, testnet.NodeConfig(t, testnet.NewStore(t), testnet.NewKey(t)))
	addrs := n.Addrs()
	require.NotEmpty(t, addrs)
	for _, a := range addrs {
		require.True(t, strings.HasSuffix(a.String(), "/p2p/"+n.ID().String()), a.String())
		port, err := a.ValueForProtocol(multiaddr.P_TCP)
		require.NoError(t, err)
		require.NotEqual(t, "0", port, "the real port, not the requested 0")
	}
}
