package core_test

import (
	"context"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"
)

// A client may stop reading an export without closing it (an HTTP client
// gone, a refused output file): closing the Core ends the stream and waits
// for it, so nothing reads the repo after it closed.
func TestCloseEndsUnreadExport(t *testing.T) {
	ctx := context.Background()
	cfg := core.DefaultConfig()
	cfg.RepoPath = t.TempDir()
	c, err := core.Open(ctx, cfg)
	require.NoError(t, err)

	data := make([]byte, 8<<20) // more than the stream's buffers hold
	_, err = rand.Read(data)
	require.NoError(t, err)
	added, err := c.Add(ctx, core.AddRequest{Files: files.NewMapDirectory(map[string]files.Node{
		"big.bin": files.NewBytesFile(data),
	})})
	require.NoError(t, err)

	r, err := c.DagExport(ctx, core.PathRequest{Path: added.Roots[0].CID})
	require.NoError(t, err)
	_, err = io.CopyN(io.Discard, r, 1<<10)
	require.NoError(t, err)

	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Close waits for an export nobody reads")
	}
	_, err = io.Copy(io.Discard, r)
	require.Error(t, err, "the stream ends with an error, not a whole CAR")

}
