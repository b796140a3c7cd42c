package gateway

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/testutil"
)

func TestNewListensAtOnceOnLoopback(t *testing.T) {
	_, bserv := newTestStore(t)
	cfg := DefaultConfig()
	require.Equal(t, "127.0.0.1:8080", cfg.ListenAddr, "loopback by default")
	cfg.BlockService = bserv
	g := startGateway(t, cfg)
	require.Regexp(t, regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*$`), g.URL())
	r := fetch(t, g.URL(), "GET", "/", "")
	require.Equal(t, http.StatusNotFound, r.status, "no status page configured")
	require.Contains(t, string(r.body), "content lives under /ipfs/CID/")
}

func TestNewRefusesBadConfig(t *testing.T) {
	_, bserv := newTestStore(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() })

	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"port in use", func(c *Config) { c.ListenAddr = busy.Addr().String() }, "gateway: listen on " + busy.Addr().String()},
		{"not a port", func(c *Config) { c.ListenAddr = "127.0.0.1:http-ish" }, "gateway: listen on 127.0.0.1:http-ish"},
		{"no host port", func(c *Config) { c.ListenAddr = "localhost" }, `gateway: listen address "localhost"`},
		{"no blockservice", func(c *Config) { c.BlockService = nil }, "BlockService is required"},
		{"subdomain host with a port", func(c *Config) { c.SubdomainHosts = []string{"example.net:80"} }, `subdomain host "example.net:80"`},
		{"subdomain host that is an address", func(c *Config) { c.SubdomainHosts = []string{"10.0.0.1"} }, `subdomain host "10.0.0.1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.ListenAddr = "127.0.0.1:0"
			cfg.BlockService = bserv
			tc.edit(&cfg)
			g, err := New(context.Background(), cfg)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, g)
		})
	}
}

func TestCloseIsIdempotentAndStopsListening(t *testing.T) {
	_, bserv := newTestStore(t)
	cfg := DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.BlockService = bserv
	g, err := New(context.Background(), cfg)
	require.NoError(t, err)
	addr := strings.TrimPrefix(g.URL(), "http://")
	require.NoError(t, g.Close())
	require.NoError(t, g.Close())
	_, err = net.DialTimeout("tcp", addr, time.Second)
	require.Error(t, err, "nothing listens after Close")
}

func TestContextEndStopsTheGateway(t *testing.T) {
	_, bserv := newTestStore(t)
	cfg := DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.BlockService = bserv
	g, err := New(context.Background(), cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx) }()
	addr := strings.TrimPrefix(g.URL(), "http://")
	cancel()
	require.NoError(t, <-done)
	_, err = net.DialTimeout("tcp", addr, time.Second)
	require.Error(t, err, "nothing listens once Serve returned")
	require.NoError(t, g.Close())
}

func TestRequestsAreLogged(t *testing.T) {
	_, bserv := newTestStore(t)
	var buf testutil.Buffer
	cfg := DefaultConfig()
	cfg.BlockService = bserv
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g := startGateway(t, cfg)
	require.Equal(t, http.StatusBadRequest, fetch(t, g.URL(), "GET", "/ipfs/not-a-cid", "").status)
	// The line is written once the response is out, maybe after the client
	// has read it.
	want := "msg=\"gateway: request\" system=gateway method=GET host=" + strings.TrimPrefix(g.URL(), "http://") + " path=/ipfs/not-a-cid status=400"
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), want) }, 10*time.Second, 10*time.Millisecond, "log:\n%s", &buf)
}
