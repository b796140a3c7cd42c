package repo

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/importer"
)

func TestImportIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := openTestRepo(t, dir)
	kept := addFS(t, r, map[string]string{"kept.txt": "kept"})
	before := snap(t, r)

	im, err := r.BeginImport(ctx)
	require.NoError(t, err)
	c, err := importer.AddReader(ctx, im, io.LimitReader(rand.Reader, 3<<20))
	require.NoError(t, err)
	nd, err := im.Get(ctx, c)
	require.NoError(t, err, "staged blocks are readable through the import")
	require.Len(t, nd.Links(), 3)
	has, err := r.Blockstore().Has(ctx, c)
	require.NoError(t, err)
	require.False(t, has, "but not part of the store before Commit")
	require.NoError(t, im.Close())
	require.NoError(t, im.Close(), "Close is idempotent")
	require.Equal(t, before, snap(t, r), "a closed, uncommitted import leaves nothing")
	require.Error(t, im.Commit(ctx))

	// A crash (here: staging files left behind) is cleaned up by the next Open.
	require.NoError(t, r.Close())
	stale := filepath.Join(dir, "blocks", ".temp", "batch-1-1")
	require.NoError(t, os.MkdirAll(stale, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(stale, "CIQSTALE.data"), []byte("half"), 0o644))
	r = openTestRepo(t, dir)
	_, err = os.Stat(stale)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Equal(t, before, snap(t, r))

	im, err = r.BeginImport(ctx)
	require.NoError(t, err)
	defer im.Close()
	c, err = importer.AddReader(ctx, im, bytes.NewReader([]byte("committed")))
	require.NoError(t, err)
	require.NoError(t, im.Commit(ctx))
	require.NoError(t, r.Pin(ctx, c, user, Recursive))
	has, err = r.Blockstore().Has(ctx, c)
	require.NoError(t, err)
	require.True(t, has)
	require.Equal(t, Recursive, pinMode(t, r, kept))
}

// mountTmpfs mounts a tmpfs of the given size on a new directory, to fill
// a disk for real. It needs root (or CAP_SYS_ADMIN); without it the test is
// skipped, saying so.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs to fill up (%v): run as root to test a full disk", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

func TestFullDisk(t *testing.T) {
	ctx := context.Background()
	dir := mountTmpfs(t, "24m")
	// A quota beyond the disk: the disk fills first.
	r, err := Open(ctx, Config{Path: filepath.Join(dir, "repo"), StorageMax: 1 << 40})
	require.NoError(t, err)
	defer r.Close()
	small := addFS(t, r, map[string]string{"index.html": "<h1>still here</h1>"})
	before := snap(t, r)

	// A CAR bigger than the disk.
	src := openTestRepo(t, t.TempDir())
	big := make([]byte, 40<<20)
	_, err = rand.Read(big)
	require.NoError(t, err)
	bigRoot := addFS(t, src, map[string]string{"big.bin": string(big)})
	carData := exportCAR(t, src, bigRoot)

	_, err = r.ImportCAR(ctx, bytes.NewReader(carData), true)
	require.Error(t, err)
	require.True(t, errors.Is(err, syscall.ENOSPC), "the cause is named: %v", err)
	require.Equal(t, before, snap(t, r), "nothing of the CAR is left")

	// The same data added as a file.
	im, err := r.BeginImport(ctx)
	require.NoError(t, err)
	_, err = importer.AddReader(ctx, im, bytes.NewReader(big))
	if err == nil {
		err = im.Commit(ctx)
	}
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.NoError(t, im.Close())
	require.Equal(t, before, snap(t, r), "nothing of the add is left")

	// The same data fetched from peers, through a Stage.
	st, err := r.BeginStage(ctx)
	require.NoError(t, err)
	for _, b := range randomBlocks(t, 40, 1<<20) {
		if err = st.Put(ctx, b); err != nil {
			break
		}
	}
	if err == nil {
		_, err = st.Flush(ctx)
	}
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.ErrorIs(t, st.Err(), syscall.ENOSPC, "the stage keeps the cause for the fetch to report")
	require.NoError(t, st.Close())
	require.Equal(t, before, snap(t, r), "nothing of the fetch is left")

	rep, err := r.Verify(ctx)
	require.NoError(t, err)
	require.True(t, rep.OK())
	c, err := r.Resolve(ctx, mustPath(t, small.String()+"/index.html"))
	require.NoError(t, err)
	rd, err := Cat(ctx, r.DAG(), c)
	require.NoError(t, err)
	got, err := io.ReadAll(rd)
	require.NoError(t, err)
	require.Equal(t, "<h1>still here</h1>", string(got))

	// And once there is room again, it works.
	_, err = r.ImportCAR(ctx, bytes.NewReader(exportCAR(t, r, small)), true)
	require.NoError(t, err)
}
