package importer

import (
	"context"
	"fmt"
	"strings"
	"testing"

	mdag "github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/stretchr/testify/require"
)

// TestDirBuilderIsBoxos: dirBuilder makes the node boxo's directory
// (NewDirectory) makes from the same children in the same order: a small
// directory, one whose block is exactly the HAMT threshold (it stays a
// basic directory) and one a byte over (a HAMT), names unsorted and of
// every length.
func TestDirBuilderIsBoxos(t *testing.T) {
	ctx := context.Background()
	// children are n leaves named "e<i>-"; the last name is padded by pad
	// bytes.
	children := func(n, pad int) ([]string, []ipld.Node) {
		names := make([]string, n)
		nodes := make([]ipld.Node, n)
		for i := range n {
			names[i] = fmt.Sprintf("e%d-", (i*7919)%n) // not in order
			nodes[i] = mdag.NewRawNode([]byte(names[i]))
		}
		names[n-1] += strings.Repeat("x", pad)
		return names, nodes
	}
	fast := func(names []string, nodes []ipld.Node) ipld.Node {
		dag, _ := memDAG(t)
		d := newDirBuilder(dag)
		for i, name := range names {
			require.NoError(t, d.AddChild(ctx, name, nodes[i]))
		}
		nd, err := d.GetNode(ctx)
		require.NoError(t, err)
		return nd
	}
	boxos := func(names []string, nodes []ipld.Node) ipld.Node {
		dag, _ := memDAG(t)
		d, err := NewDirectory(dag)
		require.NoError(t, err)
		for i, name := range names {
			require.NoError(t, d.AddChild(ctx, name, nodes[i]))
		}
		nd, err := d.GetNode()
		require.NoError(t, err)
		return nd
	}
	// The paddings that make a basic directory of n children exactly the
	// threshold, and a byte or two over it.
	const n = 5000
	sizeWith := func(pad int) int {
		names, nodes := children(n, pad)
		nd := ft.EmptyDirNode()
		for i, name := range names {
			require.NoError(t, nd.AddNodeLink(name, nodes[i]))
		}
		return len(nd.RawData())
	}
	below := profile.HAMTShardingSize - sizeWith(0)
	require.Positive(t, below, "n children must fit below the threshold")
	exact := max(0, below-4) // a longer name may take a longer length prefix
	for sizeWith(exact) < profile.HAMTShardingSize {
		exact++
	}
	require.Equal(t, profile.HAMTShardingSize, sizeWith(exact), "a padding gives exactly the threshold")

	for _, tc := range []struct {
		name string
		n    int
		pad  int
		hamt bool
	}{
		{"empty", 0, 0, false},
		{"one entry", 1, 0, false},
		{"2,000 entries", 2000, 0, false},
		{"exactly the threshold", n, exact, false},
		{"over it", n, exact + 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var names []string
			var nodes []ipld.Node
			if tc.n > 0 {
				names, nodes = children(tc.n, tc.pad)
			}
			want, got := boxos(names, nodes), fast(names, nodes)
			require.Equal(t, want.Cid(), got.Cid())
			fsn, err := ft.ExtractFSNode(got)
			require.NoError(t, err)
			require.Equal(t, tc.hamt, fsn.Type() == ft.THAMTShard)
		})
	}
}
