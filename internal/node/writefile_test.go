package node_test

import (
	"bytes"
	"context"
	"testing"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/unixfs/importer"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/testutil"
	"github.com/islandsite/island/internal/testutil/testnet"
)

// writeFile reads root's file through a Stream of n with WriteFile.
func writeFile(t *testing.T, n *node.Node, root cid.Cid) ([]byte, *pieces) {
	t.Helper()
	s := n.Stream(context.Background(), root)
	defer s.Close()
	nd, err := s.DAG().Get(s.Context(), root)
	require.NoError(t, err)
	var p pieces
	written, err := s.WriteFile(nd, &p)
	require.NoError(t, err)
	require.EqualValues(t, p.buf.Len(), written)
	return p.buf.Bytes(), &p
}

// pieces keeps what is written, counting the writes.
type pieces struct {
	buf    bytes.Buffer
	writes int
}

func (p *pieces) Write(b []byte) (int, error) {
	p.writes++
	return p.buf.Write(b)
}

// TestStreamWriteFile checks that WriteFile writes the bytes boxo's DAG
// reader reads, for files of raw and of dag-pb leaves, of one block and of
// many, read as a CAR or (the CAR cut short) over bitswap.
func TestStreamWriteFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	for _, tc := range []struct {
		name  string
		bytes int64 // the CAR's bound on A (0: the default)
		add   func(t *testing.T, dag ipld.DAGService) cid.Cid
	}{
		{"raw leaves", 0, func(t *testing.T, dag ipld.DAGService) cid.Cid {
			return testnet.AddRandomFile(t, dag, 5<<20+123, 21)
		}},
		{"one block", 0, func(t *testing.T, dag ipld.DAGService) cid.Cid {
			return testnet.AddRandomFile(t, dag, 1000, 22)
		}},
		{"dag-pb leaves, two levels", 0, func(t *testing.T, dag ipld.DAGService) cid.Cid {
			nd, err := importer.BuildDagFromReader(dag, chunker.NewSizeSplitter(testutil.RandomReader(3<<20+7, 23), 1<<10))
			require.NoError(t, err)
			return nd.Cid()
		}},
		{"the CAR cut short", 2<<20 + 1000, func(t *testing.T, dag ipld.DAGService) cid.Cid {
			return testnet.AddRandomFile(t, dag, 6<<20, 24)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := testnet.NewNetwork(t, 2, testnet.WithConfig(func(i int, cfg *node.Config) {
				if i == 0 {
					cfg.Trustless.Bytes = tc.bytes
				}
			}))
			a, b := nodes[0], nodes[1]
			root := tc.add(t, a.DAG())
			want, err := streamFile(t, a, root)
			require.NoError(t, err)
			got, _ := writeFile(t, b, root)
			require.True(t, bytes.Equal(want, got), "WriteFile wrote %d bytes, other than the %d the DAG reader reads", len(got), len(want))
			require.EqualValues(t, 1, a.CARsServed())
		})
	}
}

// TestStreamWriteFileReusesBuffers checks that the blocks a CAR brings are
// read into buffers WriteFile handed back: far fewer buffers than blocks.
func TestStreamWriteFileReusesBuffers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	nodes := testnet.NewNetwork(t, 2)
	a, b := nodes[0], nodes[1]
	const leaves = 40
	root := testnet.AddRandomFile(t, a.DAG(), leaves<<20, 25)
	before := node.CARBuffers()
	got, p := writeFile(t, b, root)
	require.Len(t, got, leaves<<20)
	require.Equal(t, leaves, p.writes)
	// At most the CAR's queue, its kept buffers and those in use are alive
	// at once (~26); without reuse every block has its own.
	allocated := node.CARBuffers() - before
	require.Less(t, allocated, int64(30), "%d buffers for %d blocks", allocated, leaves+1)
}
