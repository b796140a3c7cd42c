package daemon

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/path"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/multiformats/go-multihash"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/api"
	"github.com/islandsite/island/internal/repo"
)

// loopbackConfig is a daemon that listens only on 127.0.0.1, on ports the
// kernel picks, and dials no one.
func loopbackConfig() Config {
	cfg := DefaultConfig()
	cfg.Core.Node.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Core.Node.Bootstrap = nil
	cfg.Core.Node.LoopbackOnLAN = true
	cfg.API.ListenAddr = "127.0.0.1:0"
	cfg.Gateway.ListenAddr = "127.0.0.1:0"
	cfg.API.Run = func(ctx context.Context, req api.RunRequest, stdout, stderr io.Writer) int {
		io.WriteString(stdout, strings.Join(req.Args, " "))
		return 0
	}
	return cfg
}

func TestDaemonLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a libp2p node")
	}
	ctx := context.Background()
	r, err := repo.Open(ctx, repo.Config{Path: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })

	cfg := loopbackConfig()
	ready := make(chan struct{})
	cfg.Ready = func() { close(ready) }
	d, err := New(ctx, r, cfg)
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()

	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run ended before it was ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon did not get ready within 10 s")
	}
	// Ready means announced: the files are there when it is called.
	apiFile := filepath.Join(r.Path(), api.FileName)
	gwFile := filepath.Join(r.Path(), GatewayFile)
	require.FileExists(t, gwFile)
	b, err := os.ReadFile(apiFile)
	require.NoError(t, err)
	require.Equal(t, d.APIURL()+"\n", string(b))

	// Commands reach the runner through the client a CLI would use.
	c, err := api.Dial(ctx, r.Path())
	require.NoError(t, err)
	var out strings.Builder
	code, err := c.Run(ctx, api.RunRequest{Args: []string{"id", "--json"}}, &out, io.Discard)
	require.NoError(t, err)
	require.Zero(t, code)
	require.Equal(t, "id --json", out.String())

	// Metrics of every part on one injected registry.
	resp, err := http.Get(d.APIURL() + "/debug/metrics/prometheus")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for _, m := range []string{"go_goroutines", "libp2p_", "island_bitswap_", "island_provide_"} {
		require.Contains(t, string(metrics), m)
	}

	// The status page knows the node.
	st, err := d.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, r.PeerID().String(), st.PeerID)
	require.NotEmpty(t, st.Addrs)

	stop()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("the daemon did not stop within 5 s")
	}
	require.NoFileExists(t, apiFile, "a stopped daemon removes its API file")
	require.NoFileExists(t, gwFile)
	require.NoError(t, d.Close(), "Close after Run is a no-op")
	_, err = api.Dial(ctx, r.Path())
	require.ErrorIs(t, err, api.ErrNoDaemon)
}

func TestDaemonRefusesBusyAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a libp2p node")
	}
	ctx := context.Background()
	r, err := repo.Open(ctx, repo.Config{Path: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	first, err := New(ctx, r, loopbackConfig())
	require.NoError(t, err)
	t.Cleanup(func() { first.Close() })

	cfg := loopbackConfig()
	cfg.API.ListenAddr = strings.TrimPrefix(first.APIURL(), "http://")
	_, err = New(ctx, r, cfg)
	require.ErrorContains(t, err, "listen on")
}

// A friend's node on another machine reaches the pinning service on its own
// listener, with the token and without the local API's loopback guard.
func TestPinningListener(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a libp2p node")
	}
	ctx := context.Background()
	r, err := repo.Open(ctx, repo.Config{Path: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	cfg := loopbackConfig()
	cfg.PinningAddr = "127.0.0.1:0"
	d, err := New(ctx, r, cfg)
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	t.Cleanup(func() { stop(); require.NoError(t, <-done) })

	token, err := os.ReadFile(filepath.Join(r.Path(), TokenFile))
	require.NoError(t, err)
	info, err := os.Stat(filepath.Join(r.Path(), TokenFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	require.NotEqual(t, d.APIURL()+PinningPrefix, d.PinningURL())

	tests := []struct {
		name  string
		token string
		host  string
		want  int
	}{
		{"no token", "", "", http.StatusUnauthorized},
		{"wrong token", "nope", "", http.StatusUnauthorized},
		{"token", strings.TrimSpace(string(token)), "", http.StatusOK},
		{"token, another machine's name", strings.TrimSpace(string(token)), "island.friend.example:5081", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, d.PinningURL()+"/pins", nil)
			require.NoError(t, err)
			if tt.host != "" {
				req.Host = tt.host
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, tt.want, resp.StatusCode)
		})
	}
	// The repo-controlling API is not on that listener.
	resp, err := http.Post(strings.TrimSuffix(d.PinningURL(), PinningPrefix)+"/api/v0/run", "application/json", strings.NewReader(`{"args":["gc"]}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// startOffline runs an --offline daemon on a fresh repo until the test ends.
func startOffline(t *testing.T) (*Daemon, *repo.Repo) {
	t.Helper()
	ctx := context.Background()
	r, err := repo.Open(ctx, repo.Config{Path: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	cfg := loopbackConfig()
	cfg.Core.Node.Offline = true
	d, err := New(ctx, r, cfg)
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	t.Cleanup(func() { stop(); require.NoError(t, <-done) })
	return d, r
}

// localBlock stores a one-block DAG (a raw block) in the repo, unpinned.
func localBlock(t *testing.T, r *repo.Repo, s string) cid.Cid {
	t.Helper()
	mh, err := multihash.Sum([]byte(s), multihash.SHA2_256, -1)
	require.NoError(t, err)
	b, err := blocks.NewBlockWithCid([]byte(s), cid.NewCidV1(cid.Raw, mh))
	require.NoError(t, err)
	require.NoError(t, r.Blockstore().Put(context.Background(), b))
	return b.Cid()
}

// publishAs signs a record for a fresh key pointing at c and returns the name.
func publishAs(t *testing.T, d *Daemon, c cid.Cid) (crypto.PrivKey, string) {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	rec, err := d.Core().Names.Publish(context.Background(), key, path.FromCid(c))
	require.NoError(t, err)
	return key, rec.Name.String()
}

// Under --offline the node's routing is a null router, yet /ipns/NAME
// resolves from the repo; its record must be served from there too.
func TestOfflineGatewayServesIPNSRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a libp2p node")
	}
	d, r := startOffline(t)
	ctx := context.Background()
	key, name := publishAs(t, d, localBlock(t, r, "site"))
	raw, err := d.Core().Names.Record(ctx, name)
	require.NoError(t, err)

	resp, err := http.Get(d.GatewayURL() + "/ipns/" + name + "?format=ipns-record")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.Equal(t, raw, body)

	other, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	require.NotEqual(t, key, other)
	resp, err = http.Get(d.GatewayURL() + "/ipns/" + keyName(other) + "?format=ipns-record")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "a name nobody published")
}

// The follower pins what it fetches at once, so gc cannot take a followed
// version before the follower records it as kept, and unpins it when the
// name is unfollowed; a pin someone else made on the same CID stays.
func TestFollowerPins(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a libp2p node")
	}
	d, r := startOffline(t)
	ctx := context.Background()
	follows := d.Core().Follows
	pinName := func(c cid.Cid) (string, bool) {
		name, ok, err := d.recursivePin(ctx, c)
		require.NoError(t, err)
		return name, ok
	}

	site := localBlock(t, r, "friend's site")
	_, name := publishAs(t, d, site)
	_, err := follows.Follow(ctx, name)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		n, ok := pinName(site)
		return ok && n == followPinName
	}, 10*time.Second, 20*time.Millisecond, "the followed version is pinned")
	require.NoError(t, follows.Unfollow(ctx, name))
	require.Eventually(t, func() bool {
		_, ok := pinName(site)
		return !ok
	}, 10*time.Second, 20*time.Millisecond, "unfollowing unpins it")

	mine := localBlock(t, r, "pinned by the user")
	require.NoError(t, r.PinRecursive(ctx, mine, ""))
	_, name = publishAs(t, d, mine)
	_, err = follows.Follow(ctx, name)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		fs, err := follows.List(ctx)
		require.NoError(t, err)
		return len(fs) == 1 && fs[0].LastCID.Equals(mine)
	}, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, follows.Unfollow(ctx, name))
	require.Eventually(t, func() bool {
		roots, err := follows.Roots(ctx)
		require.NoError(t, err)
		return len(roots) == 0
	}, 10*time.Second, 20*time.Millisecond, "the follower let go of the name")
	n, ok := pinName(mine)
	require.True(t, ok, "the user's pin stays")
	require.Empty(t, n)
}

// A daemon that cannot announce itself stops everything it started and
// leaves no announcement behind.
func TestRunFailsToAnnounce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a libp2p node")
	}
	ctx := context.Background()
	r, err := repo.Open(ctx, repo.Config{Path: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	// Nothing can be renamed over a directory that holds a file.
	gwFile := filepath.Join(r.Path(), GatewayFile)
	require.NoError(t, os.MkdirAll(filepath.Join(gwFile, "x"), 0o700))
	t.Cleanup(func() { os.RemoveAll(gwFile) })

	cfg := loopbackConfig()
	cfg.Core.Node.Offline = true
	d, err := New(ctx, r, cfg)
	require.NoError(t, err)
	serviceDone := make(chan struct{})
	d.Go(func(ctx context.Context) error {
		<-ctx.Done()
		close(serviceDone)
		return nil
	})
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	select {
	case err := <-done:
		require.ErrorContains(t, err, "daemon: write "+gwFile)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after failing to announce")
	}
	select {
	case <-serviceDone:
	default:
		t.Fatal("Run returned before its services stopped")
	}
	require.NoFileExists(t, filepath.Join(r.Path(), api.FileName))
}
