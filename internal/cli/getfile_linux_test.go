package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestWriteNewFilePastThePageCache checks that get's OUT goes to the disk
// past the page cache (but its tail), and that a file system refusing
// O_DIRECT gets the same bytes buffered.
func TestWriteNewFilePastThePageCache(t *testing.T) {
	dir := testutil.DirectIODir(t)

	want := randomBytes(t, 2*outPiece+100)
	path := filepath.Join(dir, "out")
	require.NoError(t, writeNewFile(path, bytes.NewReader(want)))
	cached := testutil.CachedPages(t, path, len(want))
	require.LessOrEqual(t, cached, 1, "OUT went through the page cache (%d pages of %d cached)", cached, (len(want)+4095)/4096)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got))
}

func TestWriteNewFileOnTmpfs(t *testing.T) {
	dir, err := os.MkdirTemp("/dev/shm", "island-get-")
	if err != nil {
		t.Skipf("no tmpfs at /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	want := randomBytes(t, outPiece+outAlign+3)
	path := filepath.Join(dir, "out")
	require.NoError(t, writeNewFile(path, bytes.NewReader(want)))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got))
}

// TestWritePieceFallsBackWhenRefused checks that a piece O_DIRECT refuses
// (here: memory not aligned, as a device with larger blocks would refuse
// it) is written buffered, whole.
func TestWritePieceFallsBackWhenRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	f, direct, err := createOut(path)
	require.NoError(t, err)
	if !direct {
		t.Skipf("the file system of %s refuses O_DIRECT: nothing to fall back from", path)
	}
	p := alignedBuffer(2*outAlign + 1)[1:] // 2 blocks, starting off alignment
	copy(p, randomBytes(t, len(p)))
	require.NoError(t, writePiece(f, p))
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	require.NoError(t, err)
	if fl&unix.O_DIRECT != 0 {
		t.Skip("this kernel writes unaligned memory with O_DIRECT: nothing refused to fall back from")
	}
	require.NoError(t, writePiece(f, []byte("and a tail")))
	require.NoError(t, f.Close())
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, append(append([]byte{}, p...), "and a tail"...), got)
}
