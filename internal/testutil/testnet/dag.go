package testnet

import (
	"context"
	"io"
	"testing"
	"testing/fstest"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/testutil"
	"github.com/stretchr/testify/require"
)

// AddFile imports r as a UnixFS file into dag with island's importer and
// returns its root CID.
func AddFile(tb testing.TB, dag ipld.DAGService, r io.Reader) cid.Cid {
	tb.Helper()
	c, err := importer.AddReader(context.Background(), dag, r)
	require.NoError(tb, err)
	return c
}

// AddRandomFile imports size pseudo-random bytes (the same for the same seed)
// and returns the file's root CID.
func AddRandomFile(tb testing.TB, dag ipld.DAGService, size int64, seed uint64) cid.Cid {
	tb.Helper()
	return AddFile(tb, dag, testutil.RandomReader(size, seed))
}

// AddDir imports files as one flat UnixFS directory (name -> content) and
// returns the directory's CID.
func AddDir(tb testing.TB, dag ipld.DAGService, files map[string][]byte) cid.Cid {
	tb.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	res, err := importer.AddFS(context.Background(), dag, fsys, ".", importer.Options{Hidden: true})
	require.NoError(tb, err)
	return res.Root
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
