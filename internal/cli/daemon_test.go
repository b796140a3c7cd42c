package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-datastore/query"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/api"
	"github.com/islandsite/island/internal/daemon"
	"github.com/islandsite/island/internal/repo"
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
// edit adds some. It returns once $REPO/api is written, so runCLI on env is
// forwarded to it from then on. stop (also run by t.Cleanup) ends it and
// closes the repo.
func startDaemon(t *testing.T, env *Env, edit func(*daemon.Config)) *testDaemon {
	t.Helper()
	o := daemonOptions{
		api:       "127.0.0.1:0",
		listen:    []string{"/ip4/127.0.0.1/tcp/0"},
		bootstrap: []string{"none"},
	}
	cfg, err := o.config(env)
	require.NoError(t, err)
	// The daemon's own logs go to the test binary's stderr, never to a
	// command's output buffer that runCLI has already read.
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	if edit != nil {
		edit(&cfg)
	}

	ctx, cancel := context.WithCancel(context.Background())
	rc := repo.DefaultConfig()
	rc.Path = repoOf(t, env)
	r, err := repo.Open(ctx, rc)
	require.NoError(t, err)
	var d *daemon.Daemon
	cfg.API.Run = func(ctx context.Context, req api.RunRequest, stdout, stderr io.Writer) int {
		return DaemonRunner(d)(ctx, req, stdout, stderr)
	}
	d, err = daemon.New(ctx, r, cfg)
	if err != nil {
		cancel()
		r.Close()
		require.NoError(t, err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
			require.NoError(t, r.Close())
		})
	}
	t.Cleanup(stop)
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(rc.Path, api.FileName))
		return err == nil || !errors.Is(err, os.ErrNotExist)
	}, 30*time.Second, 5*time.Millisecond, "the daemon never wrote $REPO/api")
	return &testDaemon{Daemon: d, env: env, stop: stop}
}

// bootstrapTo makes a daemon dial peers at start.
func bootstrapTo(peers ...*testDaemon) func(*daemon.Config) {
	return func(cfg *daemon.Config) {
		for _, p := range peers {
			cfg.Core.Node.Bootstrap = append(cfg.Core.Node.Bootstrap, testnet.AddrInfo(p.Core().Node))
		}
	}
}

// dhtHolds reports whether d's DHT keeps a record carrying rec, as a peer
// does after another one put it there.
func dhtHolds(t *testing.T, d *testDaemon, rec []byte) bool {
	t.Helper()
	// The node keeps its DHTs' records under /node/dht (internal/node).
	res, err := d.Core().Repo.Datastore().Query(context.Background(), query.Query{Prefix: "/node/dht"})
	require.NoError(t, err)
	all, err := res.Rest()
	require.NoError(t, err)
	for _, e := range all {
		if bytes.Contains(e.Value, rec) {
			return true
		}
	}
	return false
}
