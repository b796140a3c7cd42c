package repo

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	blocks "github.com/ipfs/go-block-format"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestImportWritesChunksPastThePageCache: an import writes full file chunks
// with O_DIRECT (third_party/go-ds-flatfs, docs/bench.md), so none of their
// pages is left in the page cache, while a chunk of odd length takes the
// buffered path; both read back whole and verify.
func TestImportWritesChunksPastThePageCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var st unix.Statfs_t
	require.NoError(t, unix.Statfs(dir, &st))
	if st.Type == unix.TMPFS_MAGIC {
		t.Skip("the test directory is on tmpfs, whose pages are its storage: nothing to see")
	}
	probe, err := os.OpenFile(filepath.Join(dir, "probe"), os.O_CREATE|os.O_WRONLY|unix.O_DIRECT, 0o600)
	if err != nil {
		t.Skipf("the file system of %s refuses O_DIRECT (%v): island writes through the page cache there", dir, err)
	}
	require.NoError(t, probe.Close())

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
	f, err := os.Open(files[0])
	require.NoError(t, err)
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, len(b.RawData()), unix.PROT_READ, unix.MAP_SHARED)
	require.NoError(t, err)
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		require.NoError(t, errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}
