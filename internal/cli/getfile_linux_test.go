package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestWriteNewFilePastThePageCache checks that get's OUT goes to the disk
// past the page cache (but its tail), and that a file system refusing
// O_DIRECT gets the same bytes buffered.
func TestWriteNewFilePastThePageCache(t *testing.T) {
	dir := t.TempDir()
	var st unix.Statfs_t
	require.NoError(t, unix.Statfs(dir, &st))
	if st.Type == unix.TMPFS_MAGIC {
		t.Skip("the test directory is on tmpfs, whose pages are its storage: nothing to see")
	}
	probe, err := os.OpenFile(filepath.Join(dir, "probe"), os.O_CREATE|os.O_WRONLY|unix.O_DIRECT, 0o600)
	if err != nil {
		t.Skipf("the file system of %s refuses O_DIRECT (%v): get writes through the page cache there", dir, err)
	}
	require.NoError(t, probe.Close())

	want := randomBytes(t, 2*outPiece+100)
	path := filepath.Join(dir, "out")
	require.NoError(t, writeNewFile(path, bytes.NewReader(want)))
	cached := cachedPages(t, path, len(want))
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

// cachedPages counts the pages of the first n bytes of path in the page cache.
func cachedPages(t *testing.T, path string, n int) int {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, n, unix.PROT_READ, unix.MAP_SHARED)
	require.NoError(t, err)
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		require.NoError(t, errno)
	}
	c := 0
	for _, v := range vec {
		c += int(v & 1)
	}
	return c
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
