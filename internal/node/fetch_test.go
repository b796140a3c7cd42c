package node_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ipfs/boxo/bitswap/server"
	"github.com/ipfs/go-cid"
	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/testutil"
	"github.com/islandsite/island/internal/testutil/testnet"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/conngater"
	mh "github.com/multiformats/go-multihash"
	"github.com/stretchr/testify/require"
)

// requireHasDAG checks that every block of the DAG under root is in n's
// blockstore, reading the DAG from src (which has it all).
func requireHasDAG(t *testing.T, n, src *node.Node, root cid.Cid) {
	t.Helper()
	ctx := context.Background()
	blocks := testnet.DAGBlocks(t, src.DAG(), root)
	for _, c := range blocks {
		has, err := n.BlockService().Blockstore().Has(ctx, c)
		require.NoError(t, err)
		require.True(t, has, "block %s of %s missing", c, root)
	}
}

// sentTo is how many bytes n's bitswap server sent to p.
func sentTo(t *testing.T, n *node.Node, p peer.ID) uint64 {
	t.Helper()
	l, ok := n.Exchange().(interface{ LedgerForPeer(peer.ID) *server.Receipt })
	require.True(t, ok, "the exchange no longer exposes bitswap's ledger")
	if r := l.LedgerForPeer(p); r != nil {
		return r.Sent
	}
	return 0
}

func TestFetch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	tests := []struct {
		name  string
		files func(t *testing.T, n *node.Node) cid.Cid
		// local counts blocks the fetcher makes from their CID alone.
		local int
	}{
		{"file of many blocks", func(t *testing.T, n *node.Node) cid.Cid {
			return testnet.AddRandomFile(t, n.DAG(), 5<<20+123, 2)
		}, 0},
		{"directory with an empty file", func(t *testing.T, n *node.Node) cid.Cid {
			return testnet.AddDir(t, n.DAG(), map[string][]byte{
				"index.html": []byte("<h1>hello</h1>"),
				"big.bin":    testutil.RandomBytes(2<<20, 3),
				"empty":      nil,
			})
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A—B—C: C knows only B; A holds and provides the DAG.
			nodes := testnet.NewNetwork(t, 3, testnet.WithTopology(testnet.Chain))
			a, c := nodes[0], nodes[2]
			root := tt.files(t, a)
			require.NoError(t, a.Provide(context.Background(), root))
			waitForProvider(t, nodes[1], root, a.ID())

			var last node.FetchProgress
			err := c.Fetch(context.Background(), root, func(p node.FetchProgress) { last = p })
			require.NoError(t, err)
			requireHasDAG(t, c, a, root)
			want := len(testnet.DAGBlocks(t, a.DAG(), root))
			require.Equal(t, want, last.Blocks)
			require.Equal(t, want-tt.local, last.Fetched)
			require.Equal(t, 0, last.Pending)
			require.GreaterOrEqual(t, last.Peers, 1)
			require.Positive(t, sentTo(t, a, c.ID()), "A served C directly")

			// Everything is local now: a second fetch needs nobody.
			last = node.FetchProgress{}
			require.NoError(t, c.Fetch(context.Background(), root, func(p node.FetchProgress) { last = p }))
			require.Equal(t, want, last.Blocks)
			require.Zero(t, last.Fetched)
		})
	}
}

func TestFetchNoProviders(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	nodes := testnet.NewNetwork(t, 2, testnet.WithConfig(func(i int, cfg *node.Config) {
		cfg.FetchTimeout = 500 * time.Millisecond
	}))
	hash, err := mh.Sum([]byte("nobody has this"), mh.SHA2_256, -1)
	require.NoError(t, err)
	missing := cid.NewCidV1(cid.Raw, hash)

	tests := []struct {
		name  string
		ctx   func() (context.Context, context.CancelFunc)
		after time.Duration
	}{
		{"fetch timeout", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, 500 * time.Millisecond},
		{"caller deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			err := nodes[1].Fetch(ctx, missing, nil)
			require.ErrorIs(t, err, node.ErrNoProviders)
			var np *node.NoProvidersError
			require.True(t, errors.As(err, &np))
			require.Equal(t, missing, np.Cid)
			require.Contains(t, err.Error(), "no providers found for "+missing.String()+" after ")
			if tt.after > 0 {
				require.Equal(t, tt.after, np.After)
			}
		})
	}
}

func TestFetchCanceled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	n := testnet.NewNetwork(t, 1)[0]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	hash, err := mh.Sum([]byte("canceled"), mh.SHA2_256, -1)
	require.NoError(t, err)
	err = n.Fetch(ctx, cid.NewCidV1(cid.Raw, hash), nil)
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, node.ErrNoProviders)
}

// TestFetchRelaysWhileFetching: C, which knows only B, asks B for a DAG that
// B is itself still fetching from A. B holds what it fetches back until it
// flushes it into its store (node.Config.Stage); C must get every block from
// B as soon as B can serve it, not time out.
func TestFetchRelaysWhileFetching(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	// C's gate keeps A out from the start: the DHT would otherwise
	// introduce them.
	keyA := testnet.NewKey(t)
	idA, err := peer.IDFromPrivateKey(keyA)
	require.NoError(t, err)
	gate, err := conngater.NewBasicConnectionGater(nil)
	require.NoError(t, err)
	require.NoError(t, gate.BlockPeer(idA))
	nodes := testnet.NewNetwork(t, 3, testnet.WithTopology(testnet.Chain),
		testnet.WithConfig(func(i int, cfg *node.Config) {
			switch i {
			case 0:
				cfg.Identity = keyA
			case 2:
				cfg.ConnectionGater = gate
			}
		}))
	a, b, c := nodes[0], nodes[1], nodes[2]
	// Bigger than one flush of B's stage, so B serves C in several rounds.
	root := testnet.AddRandomFile(t, a.DAG(), 80<<20, 7)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	errs := make(chan error, 1)
	go func() { errs <- b.Fetch(ctx, root, nil) }()
	require.NoError(t, c.Fetch(ctx, root, nil))
	require.NoError(t, <-errs)
	requireHasDAG(t, b, a, root)
	requireHasDAG(t, c, a, root)
	require.Zero(t, sentTo(t, a, c.ID()), "A, which C does not know, sent C nothing")
	require.Positive(t, sentTo(t, b, c.ID()))
}

// TestFetchCanceledKeepsWhatArrived: blocks that arrived before a fetch was
// canceled are in the store afterwards, so a retry does not fetch them again.
func TestFetchCanceledKeepsWhatArrived(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	nodes := testnet.NewNetwork(t, 2)
	a, b := nodes[0], nodes[1]
	// Less than one flush of the Stage: only the cancel path can keep it.
	root := testnet.AddRandomFile(t, a.DAG(), 16<<20, 9)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var arrived int
	err := b.Fetch(ctx, root, func(p node.FetchProgress) {
		if arrived = p.Fetched; arrived >= 4 {
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	require.GreaterOrEqual(t, arrived, 4)

	held := 0
	for _, c := range testnet.DAGBlocks(t, a.DAG(), root) {
		has, err := b.BlockService().Blockstore().Has(context.Background(), c)
		require.NoError(t, err)
		if has {
			held++
		}
	}
	require.GreaterOrEqual(t, held, arrived)

	var again node.FetchProgress
	require.NoError(t, b.Fetch(context.Background(), root, func(p node.FetchProgress) { again = p }))
	require.LessOrEqual(t, again.Fetched, again.Blocks-arrived, "the retry fetched only what was missing")
	requireHasDAG(t, b, a, root)
}

// TestFetchWideDAG: a fetch's memory does not grow with the DAG's width.
// With the walk's bounds lowered far below it, a directory of 4,000 files
// in 20 folders arrives whole while the blocks known and not yet received
// stay within the bounds (a breadth-first fetch had all 4,000 pending at
// once).
func TestFetchWideDAG(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	const held, seen, dirs, files = 100, 300, 20, 200
	defer node.SetWalkBounds(held, seen)()
	nodes := testnet.NewNetwork(t, 2)
	a, b := nodes[0], nodes[1]
	tree := map[string][]byte{}
	for d := range dirs {
		for f := range files {
			tree[fmt.Sprintf("d%02d/f%03d.txt", d, f)] = fmt.Appendf(nil, "file %d of folder %d", f, d)
		}
	}
	root := testnet.AddDir(t, a.DAG(), tree)

	maxPending := 0
	var last node.FetchProgress
	require.NoError(t, b.Fetch(context.Background(), root, func(p node.FetchProgress) {
		maxPending, last = max(maxPending, p.Pending), p
	}))
	requireHasDAG(t, b, a, root)
	require.Equal(t, len(testnet.DAGBlocks(t, a.DAG(), root)), last.Blocks)
	require.LessOrEqual(t, maxPending, 256+held+files, "blocks pending at once")
}
