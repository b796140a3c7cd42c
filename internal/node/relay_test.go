package node_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/testutil/testnet"
)

// natGate plays NATs between nodes on loopback: while shut, the nodes
// that share it dial each other only through a relay.
type natGate struct {
	peers sync.Map // peer.ID → behind the gate
	open  atomic.Bool
}

func (g *natGate) InterceptPeerDial(peer.ID) bool { return true }
func (g *natGate) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	if _, behind := g.peers.Load(p); g.open.Load() || !behind {
		return true
	}
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}
func (g *natGate) InterceptAccept(network.ConnMultiaddrs) bool { return true }
func (g *natGate) InterceptSecured(network.Direction, peer.ID, network.ConnMultiaddrs) bool {
	return true
}
func (g *natGate) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

// relayed starts a relay, a holder and a visitor on loopback, gated from
// each other; the holder reserves a slot on the relay and the visitor
// connects to it through the relay only. On loopback nobody has a public
// address, so no hole punch is ever tried: only opening the gates makes a
// direct connection.
func relayed(t *testing.T, wait time.Duration) (holder, visitor *node.Node, gate *natGate) {
	t.Helper()
	gate = &natGate{}
	nodes := testnet.NewNetwork(t, 3, testnet.WithTopology(testnet.Isolated), testnet.WithConfig(func(i int, cfg *node.Config) {
		cfg.HolePunchWait = wait
		switch i {
		case 0:
			cfg.RelayService = node.RelayServiceOn
		default:
			cfg.ConnectionGater = gate
		}
	}))
	relay, holder, visitor := nodes[0], nodes[1], nodes[2]
	gate.peers.Store(holder.ID(), true)
	gate.peers.Store(visitor.ID(), true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, holder.Host().Connect(ctx, testnet.AddrInfo(relay)))
	_, err := client.Reserve(ctx, holder.Host(), testnet.AddrInfo(relay))
	require.NoError(t, err)
	require.NoError(t, visitor.Host().Connect(ctx, testnet.AddrInfo(relay)))
	circuit := ma.Join(relay.Host().Addrs()[0], ma.StringCast("/p2p/"+relay.ID().String()+"/p2p-circuit"))
	require.NoError(t, visitor.Host().Connect(network.WithAllowLimitedConn(ctx, "test"), peer.AddrInfo{ID: holder.ID(), Addrs: []ma.Multiaddr{circuit}}))
	require.Equal(t, network.Limited, visitor.Host().Network().Connectedness(holder.ID()))
	return holder, visitor, gate
}

func TestBitswapOverRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}

	t.Run("a small file comes through the relay", func(t *testing.T) {
		holder, visitor, _ := relayed(t, time.Minute)
		small := testnet.AddRandomFile(t, holder.DAG(), 20<<10, 1)
		require.NoError(t, visitor.Fetch(context.Background(), small, nil))
		served := holder.Reachability().LastServed
		require.NotNil(t, served)
		require.Equal(t, visitor.ID(), served.Peer)
		require.True(t, served.Relayed, "served over %s", served.Addr)
		require.Equal(t, network.Limited, visitor.Host().Network().Connectedness(holder.ID()), "still no direct connection")
	})

	t.Run("more than the relay carries fails with the reason, in bounded time", func(t *testing.T) {
		const wait = 2 * time.Second
		holder, visitor, _ := relayed(t, wait)
		// A 300 KiB file is one block, more than a relayed connection's
		// 128 KiB.
		big := testnet.AddRandomFile(t, holder.DAG(), 300<<10, 2)
		start := time.Now()
		err := visitor.Fetch(context.Background(), big, nil)
		took := time.Since(start)
		require.ErrorIs(t, err, node.ErrRelayOnly)
		var roe *node.RelayOnlyError
		require.True(t, errors.As(err, &roe))
		require.Equal(t, []peer.ID{holder.ID()}, roe.Peers)
		require.Equal(t, big, roe.Cid)
		require.ErrorContains(t, err, "reachable only through a relay")
		require.Less(t, took, 20*time.Second, "the fetch timeout is a minute; the relay's limit must end it sooner")
	})

	t.Run("a read the relay cannot carry ends with the reason; an idle one goes on", func(t *testing.T) {
		const wait = 2 * time.Second
		holder, visitor, _ := relayed(t, wait)
		small := testnet.AddRandomFile(t, holder.DAG(), 20<<10, 4)
		big := testnet.AddRandomFile(t, holder.DAG(), 300<<10, 5)

		ctx, stop := visitor.GuardRelay(context.Background())
		defer stop()
		_, err := visitor.DAG().Get(ctx, small)
		require.NoError(t, err)
		// Nothing is wanted now: however long the reader idles behind
		// the relay, the guard leaves it be.
		time.Sleep(wait + 3*time.Second)
		require.NoError(t, ctx.Err())

		start := time.Now()
		for range visitor.DAG().GetMany(ctx, []cid.Cid{big}) {
		}
		took := time.Since(start)
		err = node.RelayOnlyCause(ctx)
		require.ErrorIs(t, err, node.ErrRelayOnly)
		require.ErrorContains(t, err, big.String()+" is held by "+holder.ID().String())
		require.Less(t, took, 20*time.Second, "the guard, not a timeout, ends the read")
	})

	t.Run("a direct connection takes over what the relay cannot carry", func(t *testing.T) {
		holder, visitor, gate := relayed(t, time.Minute)
		big := testnet.AddRandomFile(t, holder.DAG(), 3<<20, 3)
		done := make(chan error, 1)
		go func() { done <- visitor.Fetch(context.Background(), big, nil) }()
		// As a hole punch would, a little later.
		time.Sleep(500 * time.Millisecond)
		gate.open.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, visitor.Host().Connect(network.WithForceDirectDial(ctx, "test"), testnet.AddrInfo(holder)))
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Fatal("the fetch did not finish over the direct connection")
		}
		require.Equal(t, visitor.ID(), holder.Reachability().LastServed.Peer)
		require.False(t, holder.Reachability().LastServed.Relayed)
		requireLocal(t, visitor, big)
	})
}

func requireLocal(t *testing.T, n *node.Node, root cid.Cid) {
	t.Helper()
	for _, c := range testnet.DAGBlocks(t, n.DAG(), root) {
		ok, err := n.BlockService().Blockstore().Has(context.Background(), c)
		require.NoError(t, err)
		require.True(t, ok, "%s missing", c)
	}
}

// TestRelayService: --relay-service on relays at once, auto only once
// AutoNAT finds the node public (never on loopback), off never; a relay
// keeps circuit v2's default limits.
func TestRelayService(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	for _, tc := range []struct {
		mode   node.RelayServiceMode
		relays bool
	}{
		{node.RelayServiceOn, true},
		{node.RelayServiceAuto, false},
		{node.RelayServiceOff, false},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			nodes := testnet.NewNetwork(t, 2, testnet.WithTopology(testnet.Isolated), testnet.WithConfig(func(i int, cfg *node.Config) {
				if i == 0 {
					cfg.RelayService = tc.mode
				}
			}))
			relay, home := nodes[0], nodes[1]
			require.Equal(t, tc.relays, relay.Reachability().RelayService)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, home.Host().Connect(ctx, testnet.AddrInfo(relay)))
			r, err := client.Reserve(ctx, home.Host(), testnet.AddrInfo(relay))
			if !tc.relays {
				require.Error(t, err, "a node with the relay service %s gave a reservation", tc.mode)
				return
			}
			require.NoError(t, err)
			require.Equal(t, uint64(128<<10), r.LimitData, "circuit v2's default data limit")
			require.Equal(t, 2*time.Minute, r.LimitDuration, "circuit v2's default duration limit")
		})
	}
}
