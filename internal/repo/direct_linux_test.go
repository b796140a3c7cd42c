package repo

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	blocks "github.com/ipfs/go-block-format"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/testutil"
)

// TestImportWritesChunksPastThePageCache: an import writes full file chunks
// with O_DIRECT (third_party/go-ds-flatfs, docs/bench.md), so none of their
// pages is left in the page cache, while a chunk of odd length takes the
// buffered path; both read back whole and verify.
func TestImportWritesChunksPastThePageCache(t *testing.T) {
	ctx := context.Background()
	dir := testutil.DirectIODir(t)

	r := openTestRepo(t, filepath.Join(dir, "repo"))
	aligned := randomBlock(t, 1<<20)
	odd := randomBlock(t, smallBlockMax+5)
	im, err := r.BeginImport(ctx)
	require.NoError(t, err)
	require.NoError(t, im.Put(ctx, aligned))
	require.NoError(t, im.Put(ctx, odd))
	require.NoError(t, im.Commit(ctx))
	require.NoError(t, im.Close())

	// Before anything reads them back (a read fills the cache).
	require.Zero(t, cachedPages(t, r, aligned), "a 1 MiB chunk went through the page cache")
	require.NotZero(t, cachedPages(t, r, odd), "an odd-sized block is written buffered")
	for _, b := range []blocks.Block{aligned, odd} {
		got, err := r.Blockstore().Get(ctx, b.Cid())
		require.NoError(t, err)
		require.Equal(t, b.RawData(), got.RawData())
	}
	rep, err := r.Verify(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, rep.Blocks)
	require.Empty(t, rep.Corrupt)
}

// randomBlock is a raw block of n random bytes.
func randomBlock(t *testing.T, n int) blocks.Block {
	t.Helper()
	data := make([]byte, n)
	_, err := rand.Read(data)
	require.NoError(t, err)
	return blocks.NewBlock(data)
}

// cachedPages counts the pages of b's block file in the page cache.
func cachedPages(t *testing.T, r *Repo, b blocks.Block) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(r.Path(), "blocks", "*", dshelp.MultihashToDsKey(b.Cid().Hash()).String()[1:]+".data"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	return testutil.CachedPages(t, files[0], len(b.RawData()))
}
