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

	d, err := New(ctx, r, loopbackConfig())
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()

	apiFile := filepath.Join(r.Path(), api.FileName)
	gwFile := filepath.Join(r.Path(), GatewayFile)
	require.Eventually(t, func() bool {
		_, err1 := os.Stat(apiFile)
		_, err2 := os.Stat(gwFile)
		return err1 == nil && err2 == nil
	}, 10*time.Second, 20*time.Millisecond, "the daemon announces its API and gateway")
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
