package gateway

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	pebble "github.com/ipfs/go-ds-pebble"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/islandsite/island/internal/testutil"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.CleanupCorpora()
	os.Exit(code)
}

// testStore is a real on-disk block store: pebble in a temporary directory.
type testStore struct {
	blocks blockstore.Blockstore
	dag    ipld.DAGService
}

// newTestStore opens a store and a blockservice over it that has no
// exchange: every block is local or missing. Like Kubo's (and the node's)
// it answers identity CIDs from the CID itself.
func newTestStore(tb testing.TB) (*testStore, blockservice.BlockService) {
	tb.Helper()
	ds, err := pebble.NewDatastore(filepath.Join(tb.TempDir(), "blocks"))
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, ds.Close()) })
	bs := blockstore.NewIdStore(blockstore.NewBlockstore(ds))
	bserv := blockservice.New(bs, nil)
	return &testStore{blocks: bs, dag: merkledag.NewDAGService(bserv)}, bserv
}

// addTree imports a file or directory with the unixfs-v1-2025 profile
// (CIDv1, raw leaves, 1 MiB chunks, balanced layout), skipping dot-files
// like Kubo does, and returns its root.
func (s *testStore) addTree(tb testing.TB, root string) cid.Cid {
	tb.Helper()
	profile := uio.UnixFS_v1_2025
	var add func(p string) ipld.Node
	add = func(p string) ipld.Node {
		info, err := os.Stat(p)
		require.NoError(tb, err)
		if !info.IsDir() {
			f, err := os.Open(p)
			require.NoError(tb, err)
			defer f.Close()
			params := helpers.DagBuilderParams{
				Maxlinks:   profile.FileDAGWidth,
				RawLeaves:  profile.RawLeaves,
				CidBuilder: profile.CidBuilder(),
				Dagserv:    s.dag,
			}
			db, err := params.New(chunk.NewSizeSplitter(f, profile.ChunkSize))
			require.NoError(tb, err)
			nd, err := balanced.Layout(db)
			require.NoError(tb, err)
			return nd
		}
		dir, err := uio.NewDirectory(s.dag,
			uio.WithCidBuilder(profile.CidBuilder()),
			uio.WithMaxLinks(0),
			uio.WithMaxHAMTFanout(profile.HAMTShardWidth),
			uio.WithSizeEstimationMode(profile.HAMTSizeEstimation),
		)
		require.NoError(tb, err)
		entries, err := os.ReadDir(p)
		require.NoError(tb, err)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			require.NoError(tb, dir.AddChild(context.Background(), e.Name(), add(filepath.Join(p, e.Name()))))
		}
		nd, err := dir.GetNode()
		require.NoError(tb, err)
		require.NoError(tb, s.dag.Add(context.Background(), nd))
		return nd
	}
	return add(root).Cid()
}

// startGateway runs a gateway on 127.0.0.1 port 0 until the test ends.
func startGateway(tb testing.TB, cfg Config) *Gateway {
	tb.Helper()
	cfg.ListenAddr = "127.0.0.1:0"
	if cfg.Logger == nil {
		// Logs go with the test's output, shown when it fails or with -v.
		cfg.Logger = slog.New(slog.NewTextHandler(tb.Output(), nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	g, err := New(ctx, cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		require.NoError(tb, g.Close())
		cancel()
	})
	return g
}

// response is what a test reads from one request.
type response struct {
	status int
	header http.Header
	body   []byte
}

// noRedirects is a client that reports redirects instead of following
// them, as the tests check the redirects themselves.
var noRedirects = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// fetch sends method url to the gateway at base, with host as the Host
// header when not empty (to reach CID.ipfs.localhost without DNS) and
// header pairs "Name: value".
func fetch(tb testing.TB, base, method, url, host string, headers ...string) response {
	tb.Helper()
	req, err := http.NewRequest(method, base+url, nil)
	require.NoError(tb, err)
	if host != "" {
		req.Host = host
	}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ": ")
		require.True(tb, ok, "header %q", h)
		req.Header.Add(k, v)
	}
	resp, err := noRedirects.Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

func readFile(tb testing.TB, elem ...string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(elem...))
	require.NoError(tb, err)
	return b
}

// sameBytes compares bodies without printing megabytes on failure.
func sameBytes(tb testing.TB, want, got []byte, msg string) {
	tb.Helper()
	if !bytes.Equal(want, got) {
		n := min(len(got), 200)
		tb.Fatalf("%s: got %d bytes (%q…), want %d bytes", msg, len(got), got[:n], len(want))
	}
}
