package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/daemon"
	"github.com/islandsite/island/internal/testutil/testnet"
)

// testDaemon is a daemon running in-process on env's repo.
type testDaemon struct {
	*daemon.Daemon
	env  *Env
	stop func()
}

// startDaemon runs a real daemon on env's repo, on loopback only: libp2p on
// 127.0.0.1 port 0, API on port 0, no gateway, no bootstrap peers unless
// edit adds some. It returns once $REPO/api is written, so runCLI on env
// reaches it from then on. stop (also run by t.Cleanup) ends it.
func startDaemon(t *testing.T, env *Env, edit func(*daemon.Config)) *testDaemon {
	t.Helper()
	o := daemonOptions{
		api:       "127.0.0.1:0",
		listen:    []string{"/ip4/127.0.0.1/tcp/0"},
		bootstrap: []string{"none"},
		// No DNS query leaves a test; tests of DNSLink run their own server.
		dnsResolver: "none",
	}
	cfg, err := o.config(env, &globalOptions{})
	require.NoError(t, err)
	// The daemon's own logs go to the test binary's stderr, never to a
	// command's output buffer that runCLI has already read.
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	if edit != nil {
		edit(&cfg)
	}
	ready := make(chan struct{})
	cfg.Ready = func() { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	d, err := daemon.New(ctx, cfg)
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("the daemon stopped before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon never got ready")
	}
	return &testDaemon{Daemon: d, env: env, stop: stop}
}

// bootstrapTo makes a daemon dial peers at start.
func bootstrapTo(peers ...*testDaemon) func(*daemon.Config) {
	return func(cfg *daemon.Config) {
		for _, p := range peers {
			cfg.Core.Node.Bootstrap = append(cfg.Core.Node.Bootstrap, testnet.AddrInfo(p.Core().Node()))
		}
	}
}

// dhtHolds reports whether d's DHT keeps rec as its record for the IPNS
// name, as a peer does after another one put it there: asked of d's own
// record store, not of the network.
func dhtHolds(t *testing.T, d *testDaemon, name string, rec []byte) bool {
	t.Helper()
	n, err := ipns.NameFromString(name)
	require.NoError(t, err)
	key := string(n.RoutingKey())
	dht := d.Core().Node().DHT()
	for _, one := range []interface {
		GetValue(context.Context, string, ...routing.Option) ([]byte, error)
	}{dht.LAN, dht.WAN} {
		v, err := one.GetValue(context.Background(), key, routing.Offline)
		if err == nil && bytes.Equal(v, rec) {
			return true
		}
	}
	return false
}
