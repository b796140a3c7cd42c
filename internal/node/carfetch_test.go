package node_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2phttp "github.com/libp2p/go-libp2p/p2p/http"
	"github.com/libp2p/go-libp2p/p2p/net/gostream"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/repo"
	"github.com/islandsite/island/internal/testutil/testnet"
)

// B reads A's file as one CAR from A's trustless gateway over libp2p:
// bitswap sends nothing, and B keeps nothing.
func TestStreamReadsCAR(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	nodes := testnet.NewNetwork(t, 2)
	a, b := nodes[0], nodes[1]
	root := testnet.AddRandomFile(t, a.DAG(), 5<<20+123, 11)
	want, err := streamFile(t, a, root)
	require.NoError(t, err)

	got, err := streamFile(t, b, root)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "B read other bytes than A holds")
	require.EqualValues(t, 1, a.CARsServed())
	require.Zero(t, sentTo(t, a, b.ID()), "bitswap sent blocks the CAR carried")
	for _, c := range testnet.DAGBlocks(t, a.DAG(), root) {
		has, err := b.BlockService().Blockstore().Has(context.Background(), c)
		require.NoError(t, err)
		require.False(t, has, "block %s of a stream was stored", c)
	}
}

// A CAR cut short (the server's byte bound) is finished over bitswap.
func TestStreamResumesCutCAR(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	nodes := testnet.NewNetwork(t, 2, testnet.WithConfig(func(i int, cfg *node.Config) {
		if i == 0 {
			cfg.Trustless.Bytes = 2<<20 + 1000
		}
	}))
	a, b := nodes[0], nodes[1]
	root := testnet.AddRandomFile(t, a.DAG(), 6<<20, 12)
	want, err := streamFile(t, a, root)
	require.NoError(t, err)

	got, err := streamFile(t, b, root)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got))
	require.EqualValues(t, 1, a.CARsServed())
	require.Positive(t, sentTo(t, a, b.ID()), "bitswap did not bring the rest")
}

// corruptStore answers one block with other bytes than its CID's.
type corruptStore struct {
	blockstore.Blockstore
	bad cid.Cid
}

func (s corruptStore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	b, err := s.Blockstore.Get(ctx, c)
	if err != nil || !c.Equals(s.bad) {
		return b, err
	}
	data := bytes.Clone(b.RawData())
	data[0] ^= 0xff
	return blocks.NewBlockWithCid(data, c)
}

// A peer whose CAR holds a wrong block is not believed: B rejects the block,
// ends the CAR, and reads the rest over bitswap from an honest peer. No
// wrong byte reaches the reader. The liar is a bare libp2p host serving
// only a trustless gateway whose CAR has one leaf altered.
func TestStreamRejectsWrongCARBlock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	honestStore := testnet.NewStore(t)
	honestCfg := testnet.NodeConfig(t, honestStore, honestStore.Identity)
	honestCfg.NoTrustless = true
	honest := testnet.StartNode(t, honestCfg)
	root := testnet.AddRandomFile(t, honest.DAG(), 4<<20, 13)
	leaves := testnet.DAGBlocks(t, honest.DAG(), root)
	require.Greater(t, len(leaves), 3)
	liarBlocks := corruptStore{Blockstore: honestStore.Blockstore, bad: leaves[2]}

	liar, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, liar.Close()) })
	ln, err := gostream.Listen(liar, node.HTTPProtocol, gostream.IgnoreEOF())
	require.NoError(t, err)
	var wk libp2phttp.WellKnownHandler
	wk.AddProtocolMeta(node.GatewayProtocol, libp2phttp.ProtocolMeta{Path: "/"})
	var served atomic.Int64
	mux := http.NewServeMux()
	mux.Handle(libp2phttp.WellKnownProtocols, &wk)
	mux.HandleFunc("/ipfs/", func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("Content-Type", "application/vnd.ipld.car; version=1; order=dfs; dups=y")
		_ = repo.WriteCAR(r.Context(), w, liarBlocks, root, true)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { require.NoError(t, srv.Close()) })

	bStore := testnet.NewStore(t)
	b := testnet.StartNode(t, testnet.NodeConfig(t, bStore, bStore.Identity))
	testnet.Connect(t, b, honest)
	require.NoError(t, b.Host().Connect(context.Background(), peer.AddrInfo{ID: liar.ID(), Addrs: liar.Addrs()}))

	want, err := streamFile(t, honest, root)
	require.NoError(t, err)
	got, err := streamFile(t, b, root)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "B read a wrong byte")
	require.EqualValues(t, 1, served.Load(), "B never asked the liar for a CAR")
	require.Positive(t, sentTo(t, honest, b.ID()), "bitswap did not bring the rest")
}

// A peer asking for more CARs at once than the server's per-peer bound gets
// 429 Too Many Requests; a CAR is cut at the byte bound.
func TestTrustlessBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	nodes := testnet.NewNetwork(t, 2, testnet.WithConfig(func(i int, cfg *node.Config) {
		if i == 0 {
			cfg.Trustless.PerPeer = 1
			cfg.Trustless.Bytes = 1 << 20
		}
	}))
	a, b := nodes[0], nodes[1]
	root := testnet.AddRandomFile(t, a.DAG(), 8<<20, 15)
	ctx := context.Background()

	first, err := b.RequestCAR(ctx, a.ID(), root)
	require.NoError(t, err)
	_, err = b.RequestCAR(ctx, a.ID(), root)
	require.ErrorContains(t, err, "429")

	n, err := io.Copy(io.Discard, first)
	require.NoError(t, first.Close())
	require.LessOrEqual(t, n, int64(1<<20), "the CAR went past the byte bound (%v)", err)

	// The bound is per request in flight: once the first ended, B may ask again.
	require.Eventually(t, func() bool {
		again, err := b.RequestCAR(ctx, a.ID(), root)
		if err != nil {
			return false
		}
		again.Close()
		return true
	}, 10*time.Second, 50*time.Millisecond)
}
