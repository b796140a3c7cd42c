package node_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	unixfile "github.com/ipfs/boxo/ipld/unixfs/file"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/testutil/testnet"
)

// readAll reads the file at root through a Stream of n.
func streamFile(t *testing.T, n *node.Node, root cid.Cid) ([]byte, error) {
	t.Helper()
	s := n.Stream(context.Background(), root)
	defer s.Close()
	nd, err := s.DAG().Get(s.Context(), root)
	if err != nil {
		return nil, err
	}
	f, err := unixfile.NewUnixfsFile(s.Context(), s.DAG(), nd)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f.(files.File))
}

// Without a trustless gateway on A (NoTrustless), B reads over bitswap.
func TestStreamReadsWithoutStoring(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	nodes := testnet.NewNetwork(t, 2, testnet.WithConfig(func(i int, cfg *node.Config) {
		cfg.NoTrustless = i == 0
	}))
	a, b := nodes[0], nodes[1]
	root := testnet.AddRandomFile(t, a.DAG(), 5<<20+123, 7)
	want, err := streamFile(t, a, root) // all local on A
	require.NoError(t, err)
	require.Len(t, want, 5<<20+123)

	got, err := streamFile(t, b, root)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "B read other bytes than A holds")
	for _, c := range testnet.DAGBlocks(t, a.DAG(), root) {
		has, err := b.BlockService().Blockstore().Has(context.Background(), c)
		require.NoError(t, err)
		require.False(t, has, "block %s of a stream was stored", c)
	}
	require.Positive(t, sentTo(t, a, b.ID()))
	require.Zero(t, a.CARsServed())
}

// A file whose chunks repeat (the same block linked many times) reads whole:
// a block read once is fetched again when linked again, as nothing stores it.
func TestStreamRepeatedBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	nodes := testnet.NewNetwork(t, 2)
	a, b := nodes[0], nodes[1]
	data := make([]byte, 3<<20+5) // zeros: every 1 MiB chunk is one block
	root := testnet.AddDir(t, a.DAG(), map[string][]byte{"zeros": data})
	nd, err := a.DAG().Get(context.Background(), root)
	require.NoError(t, err)
	file := nd.Links()[0].Cid

	got, err := streamFile(t, b, file)
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got))
}

func TestStreamGivesUp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	nodes := testnet.NewNetwork(t, 2, testnet.WithConfig(func(i int, cfg *node.Config) {
		cfg.FetchTimeout = 300 * time.Millisecond
	}))
	hash, err := mh.Sum([]byte("nobody has this"), mh.SHA2_256, -1)
	require.NoError(t, err)
	missing := cid.NewCidV1(cid.Raw, hash)
	start := time.Now()
	_, err = streamFile(t, nodes[1], missing)
	require.ErrorIs(t, err, node.ErrNoProviders)
	var np *node.NoProvidersError
	require.True(t, errors.As(err, &np))
	require.Equal(t, missing, np.Cid)
	require.Less(t, time.Since(start), 30*time.Second)
}
