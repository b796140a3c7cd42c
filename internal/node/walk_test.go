package node

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/stretchr/testify/require"
)

// wideDAG is a root linking to nodes links each of which links to leaves
// raw blocks; shared, if set, links every node to the same extra leaf and
// to the first node's leaves again. It returns every block by CID.
func wideDAG(t *testing.T, nodes, leaves int, shared bool) (cid.Cid, map[cid.Cid]blocks.Block) {
	t.Helper()
	all := map[cid.Cid]blocks.Block{}
	leaf := func(i int) cid.Cid {
		b := make([]byte, 8)
		binary.BigEndian.PutUint64(b, uint64(i))
		blk := merkledag.NewRawNode(b)
		all[blk.Cid()] = blk
		return blk.Cid()
	}
	root := merkledag.NodeWithData(nil)
	var first []cid.Cid
	for n := range nodes {
		nd := merkledag.NodeWithData([]byte{byte(n), byte(n >> 8)})
		for l := range leaves {
			c := leaf(n*leaves + l)
			if n == 0 {
				first = append(first, c)
			}
			require.NoError(t, nd.AddRawLink("", &ipld.Link{Cid: c}))
		}
		if shared {
			require.NoError(t, nd.AddRawLink("", &ipld.Link{Cid: leaf(-1)}))
			for _, c := range first[:min(len(first), 3)] {
				require.NoError(t, nd.AddRawLink("", &ipld.Link{Cid: c}))
			}
		}
		all[nd.Cid()] = nd
		require.NoError(t, root.AddRawLink("", &ipld.Link{Cid: nd.Cid()}))
	}
	all[root.Cid()] = root
	return root.Cid(), all
}

// walkAll runs w over the DAG in all as Fetch does, with up to
// maxFetchInFlight blocks asked for at once and arriving in random order;
// it returns how often each block arrived, the most links and cursors the
// walk held at once, and how often it read a block's links again.
func walkAll(t *testing.T, root cid.Cid, all map[cid.Cid]blocks.Block) (arrived map[cid.Cid]int, maxHeld, maxStack, expands int) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	w := newDAGWalk(root)
	arrived = map[cid.Cid]int{}
	var inFlight []cid.Cid
	for !w.done() || len(inFlight) > 0 {
		if w.needsLinks() {
			require.NoError(t, w.expand(ctx, all[w.top()]))
			expands++
			continue
		}
		inFlight = append(inFlight, w.next(maxFetchInFlight-len(inFlight))...)
		if w.needsLinks() || len(inFlight) == 0 {
			continue
		}
		i := rng.IntN(len(inFlight))
		c := inFlight[i]
		inFlight = append(inFlight[:i], inFlight[i+1:]...)
		arrived[c]++
		require.NoError(t, w.received(ctx, all[c]))
		maxHeld, maxStack = max(maxHeld, w.held), max(maxStack, len(w.stack))
		require.LessOrEqual(t, len(w.seen.set), maxSeen)
	}
	return arrived, maxHeld, maxStack, expands
}

// A DAG hundreds of thousands of links wide is walked whole, each block
// asked for once, holding at most maxHeldLinks links (plus one block's)
// and maxSeen CIDs: a breadth-first queue held all 160k leaves at once.
func TestDAGWalkIsBoundedOnAWideDAG(t *testing.T) {
	const nodes, leaves = 160, 1024
	root, all := wideDAG(t, nodes, leaves, false)
	arrived, maxHeld, maxStack, _ := walkAll(t, root, all)
	require.Len(t, arrived, len(all), "every block of the DAG")
	for c, n := range arrived {
		require.Equal(t, 1, n, "block %s asked for once", c)
	}
	require.LessOrEqual(t, maxHeld, maxHeldLinks+leaves)
	require.Less(t, maxHeld, nodes*leaves/2)
	require.LessOrEqual(t, maxStack, maxFetchInFlight+1)
}

// With bounds far below the DAG's width and blocks linked from many
// places, the walk still reaches every block; a block asked for again is
// one it had forgotten.
func TestDAGWalkWithTightBounds(t *testing.T) {
	defer SetWalkBounds(100, 300)()
	const nodes, leaves = 40, 200
	root, all := wideDAG(t, nodes, leaves, true)
	arrived, maxHeld, _, expands := walkAll(t, root, all)
	require.Len(t, arrived, len(all), "every block of the DAG")
	require.LessOrEqual(t, maxHeld, 100+leaves+4)
	require.Positive(t, expands, "links let go of were read again")
}

// TestWalkLocalSkips: the walk that provide does visits every stored block
// of the DAG once, except the subtrees rooted at what it is told to skip
// (what a site's previous version provided already).
func TestWalkLocalSkips(t *testing.T) {
	ctx := context.Background()
	root, all := wideDAG(t, 4, 3, false)
	bs := blockstore.NewBlockstore(dssync.MutexWrap(datastore.NewMapDatastore()))
	for _, b := range all {
		require.NoError(t, bs.Put(ctx, b))
	}
	n := &Node{cfg: Config{Blockstore: bs}}
	walk := func(skip *cid.Set) map[cid.Cid]bool {
		t.Helper()
		seen := map[cid.Cid]bool{}
		require.NoError(t, n.walkLocal(ctx, root, skip, func(c cid.Cid) error {
			require.False(t, seen[c], "visited twice")
			seen[c] = true
			return nil
		}))
		return seen
	}
	require.Len(t, walk(nil), len(all))

	rootNode, ok := all[root].(ipld.Node)
	require.True(t, ok)
	skipped := rootNode.Links()[1].Cid
	skip := cid.NewSet()
	skip.Add(skipped)
	seen := walk(skip)
	require.Len(t, seen, len(all)-1-3, "the subtree and its three leaves")
	require.False(t, seen[skipped])
	sub, ok := all[skipped].(ipld.Node)
	require.True(t, ok)
	for _, l := range sub.Links() {
		require.False(t, seen[l.Cid], "a leaf of the skipped subtree")
	}
}
