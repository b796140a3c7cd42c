package repo

import (
	"bytes"
	"context"
	"path/filepath"
	"sort"
	"testing"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	blocks "github.com/ipfs/go-block-format"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	"github.com/stretchr/testify/require"
)

func TestBlockStoreSplitsBySize(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	small := rawBlock(t, "a page")
	big := rawBlock(t, string(bytes.Repeat([]byte("x"), smallBlockMax)))
	edge := rawBlock(t, string(bytes.Repeat([]byte("y"), smallBlockMax-1)))
	var all []blocks.Block
	for _, b := range []blocks.Block{small, big, edge} {
		require.NoError(t, r.Blockstore().Put(ctx, b))
		all = append(all, b)
	}

	inFlatfs := func(b blocks.Block) bool {
		files, err := filepath.Glob(filepath.Join(r.Path(), "blocks", "*", dshelp.MultihashToDsKey(b.Cid().Hash()).String()[1:]+".data"))
		require.NoError(t, err)
		return len(files) == 1
	}
	require.False(t, inFlatfs(small))
	require.False(t, inFlatfs(edge), "below smallBlockMax: pebble")
	require.True(t, inFlatfs(big), "smallBlockMax and up: a file")

	for _, b := range all {
		got, err := r.Blockstore().Get(ctx, b.Cid())
		require.NoError(t, err)
		require.Equal(t, b.RawData(), got.RawData())
		n, err := r.Blockstore().GetSize(ctx, b.Cid())
		require.NoError(t, err)
		require.Equal(t, len(b.RawData()), n)
	}

	// Every block is listed once, whether asked under /blocks or at the root.
	var want []string
	for _, b := range all {
		want = append(want, blockKey(b.Cid()).String())
	}
	sort.Strings(want)
	for _, prefix := range []string{"/", "/blocks"} {
		res, err := r.Datastore().Query(ctx, query.Query{Prefix: prefix, KeysOnly: true})
		require.NoError(t, err)
		ents, err := res.Rest()
		require.NoError(t, err)
		var got []string
		for _, e := range ents {
			if len(e.Key) > 8 && e.Key[:8] == "/blocks/" {
				got = append(got, e.Key)
			}
		}
		sort.Strings(got)
		require.Equal(t, want, got, "query %q", prefix)
	}
	res, err := r.Datastore().Query(ctx, query.Query{Prefix: "/blocks", KeysOnly: true, Limit: 2, Orders: []query.Order{query.OrderByKey{}}})
	require.NoError(t, err)
	ents, err := res.Rest()
	require.NoError(t, err)
	require.Len(t, ents, 2)
	require.Equal(t, want[0], ents[0].Key)

	for _, b := range all {
		require.NoError(t, r.Blockstore().DeleteBlock(ctx, b.Cid()))
		has, err := r.Blockstore().Has(ctx, b.Cid())
		require.NoError(t, err)
		require.False(t, has)
	}
	require.False(t, inFlatfs(big))
	_, err = r.Datastore().Get(ctx, ds.NewKey("/blocks/CIQNOPE"))
	require.ErrorIs(t, err, ds.ErrNotFound)
}

func TestImportStagesOverflowAsFiles(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	r.stores.blocks.stagedMax = 3 * 1024
	var blks []blocks.Block
	for i := range 5 {
		blks = append(blks, rawBlock(t, string(bytes.Repeat([]byte{byte('a' + i)}, 1024))))
	}
	im, err := r.BeginImport(ctx)
	require.NoError(t, err)
	defer im.Close()
	for _, b := range blks {
		require.NoError(t, im.Put(ctx, b))
	}
	for _, b := range blks {
		nd, err := im.Get(ctx, b.Cid())
		require.NoError(t, err)
		require.Equal(t, b.RawData(), nd.RawData())
		has, err := r.Blockstore().Has(ctx, b.Cid())
		require.NoError(t, err)
		require.False(t, has, "nothing visible before Commit")
	}
	require.NoError(t, im.Commit(ctx))
	files, err := filepath.Glob(filepath.Join(r.Path(), "blocks", "*", "*.data"))
	require.NoError(t, err)
	require.Len(t, files, 2, "three blocks fit in memory, two went to files")
	for _, b := range blks {
		got, err := r.Blockstore().Get(ctx, b.Cid())
		require.NoError(t, err)
		require.Equal(t, b.RawData(), got.RawData())
	}
	require.Len(t, storedBlocks(t, r), 5)
}
