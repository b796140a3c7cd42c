package testutil

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/stretchr/testify/require"
)

// The import below is the minimal unixfs-v1-2025 import (1 MiB raw leaves,
// 1024 links per node, CIDv1, balanced layout) the network tests need; the
// real importer is internal/importer.

// AddFile imports r as a UnixFS file into dag and returns its root CID.
func AddFile(tb testing.TB, dag ipld.DAGService, r io.Reader) cid.Cid {
	tb.Helper()
	p := uio.UnixFS_v1_2025
	params := helpers.DagBuilderParams{
		Dagserv:    dag,
		Maxlinks:   p.FileDAGWidth,
		RawLeaves:  p.RawLeaves,
		CidBuilder: p.CidBuilder(),
	}
	db, err := params.New(chunker.NewSizeSplitter(r, p.ChunkSize))
	require.NoError(tb, err)
	nd, err := balanced.Layout(db)
	require.NoError(tb, err)
	return nd.Cid()
}

// RandomReader yields size bytes that depend only on seed.
func RandomReader(size int64, seed uint64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return io.LimitReader(rand.NewChaCha8(key), size)
}

// RandomBytes returns size bytes that depend only on seed.
func RandomBytes(size int, seed uint64) []byte {
	b, _ := io.ReadAll(RandomReader(int64(size), seed)) // ChaCha8 never fails
	return b
}

// AddRandomFile imports size pseudo-random bytes (the same for the same seed)
// and returns the file's root CID.
func AddRandomFile(tb testing.TB, dag ipld.DAGService, size int64, seed uint64) cid.Cid {
	tb.Helper()
	return AddFile(tb, dag, RandomReader(size, seed))
}

// AddDir imports files as one flat UnixFS directory (name -> content) and
// returns the directory's CID.
func AddDir(tb testing.TB, dag ipld.DAGService, files map[string][]byte) cid.Cid {
	tb.Helper()
	ctx := context.Background()
	p := uio.UnixFS_v1_2025
	dir, err := uio.NewDirectory(dag,
		uio.WithCidBuilder(p.CidBuilder()),
		uio.WithMaxLinks(0),
		uio.WithMaxHAMTFanout(p.HAMTShardWidth),
		uio.WithSizeEstimationMode(p.HAMTSizeEstimation),
	)
	require.NoError(tb, err)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f := AddFile(tb, dag, bytes.NewReader(files[name]))
		nd, err := dag.Get(ctx, f)
		require.NoError(tb, err)
		require.NoError(tb, dir.AddChild(ctx, name, nd))
	}
	nd, err := dir.GetNode()
	require.NoError(tb, err)
	require.NoError(tb, dag.Add(ctx, nd))
	return nd.Cid()
}

// DAGBlocks lists root and every block below it, reading them from dag.
func DAGBlocks(tb testing.TB, dag ipld.NodeGetter, root cid.Cid) []cid.Cid {
	tb.Helper()
	ctx := context.Background()
	var out []cid.Cid
	seen := cid.NewSet()
	queue := []cid.Cid{root}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if !seen.Visit(c) {
			continue
		}
		out = append(out, c)
		if c.Prefix().Codec == cid.Raw {
			continue
		}
		nd, err := dag.Get(ctx, c)
		require.NoError(tb, err)
		for _, l := range nd.Links() {
			queue = append(queue, l.Cid)
		}
	}
	return out
}
