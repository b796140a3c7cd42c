package testutil

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// DirectIODir returns a test directory whose file system takes O_DIRECT
// writes and keeps a page cache apart from its storage, or skips the test:
// on tmpfs the pages are the storage, and a file system refusing O_DIRECT
// gets island's buffered path, so neither shows whether a write went past
// the page cache.
func DirectIODir(t *testing.T) string {
	t.Helper()
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
	require.NoError(t, os.Remove(probe.Name()))
	return dir
}

// CachedPages counts the pages of the first n bytes of the file at path
// that are in the page cache (mincore), without reading them in.
func CachedPages(t *testing.T, path string, n int) int {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, n, unix.PROT_READ, unix.MAP_SHARED)
	require.NoError(t, err)
	defer func() { _ = unix.Munmap(m) }()
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
