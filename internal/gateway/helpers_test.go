package gateway

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/repo"
	"github.com/islandsite/island/internal/testutil"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.CleanupCorpora()
	os.Exit(code)
}

// testStore is a real on-disk store: an island repo in a temporary
// directory (flatfs for big blocks, pebble for small ones).
type testStore struct {
	blocks blockstore.Blockstore
	dag    ipld.DAGService
}

// newTestStore opens a repo and returns its blockservice, which has no
// exchange: every block is local or missing. Like Kubo's (and the node's)
// it answers identity CIDs from the CID itself.
func newTestStore(tb testing.TB) (*testStore, blockservice.BlockService) {
	tb.Helper()
	r, err := repo.Open(context.Background(), repo.Config{Path: filepath.Join(tb.TempDir(), "repo")})
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, r.Close()) })
	return &testStore{blocks: r.Blockstore(), dag: r.DAG()}, r.BlockService()
}

// addTree imports a file or directory from disk with island's importer
// (the unixfs-v1-2025 profile, dot-files skipped) and returns its root.
func (s *testStore) addTree(tb testing.TB, root string) cid.Cid {
	tb.Helper()
	res, err := importer.AddPath(context.Background(), s.dag, root, importer.Options{})
	require.NoError(tb, err)
	return res.Root
}

// addFS imports a whole file system (such as a rendered site bundle) and
// returns its root directory.
func (s *testStore) addFS(tb testing.TB, fsys fs.FS) cid.Cid {
	tb.Helper()
	res, err := importer.AddFS(context.Background(), s.dag, fsys, ".", importer.Options{})
	require.NoError(tb, err)
	return res.Root
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
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx) }()
	tb.Cleanup(func() {
		cancel()
		require.NoError(tb, <-done)
		require.NoError(tb, g.Close())
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
