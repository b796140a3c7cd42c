package gateway

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/boxo/bitswap"
	"github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	routinghelpers "github.com/libp2p/go-libp2p-routing-helpers"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/stretchr/testify/require"
)

// TestGatewayTimeout serves from a node whose bitswap has no peers: blocks
// that are not local can never arrive, so requests for them must end in
// 504 after RetrievalTimeout, not hang and not answer 500 or 404.
func TestGatewayTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a libp2p host and waits out retrieval timeouts")
	}
	g, site, _ := peerlessGateway(t, func(cfg *Config) { cfg.RetrievalTimeout = 500 * time.Millisecond })

	missing := "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
	for _, tc := range []struct {
		name    string
		method  string
		url     string
		headers []string
		status  int
	}{
		{"missing root", "GET", "/ipfs/" + missing + "/", nil, http.StatusGatewayTimeout},
		{"missing root as a page", "GET", "/ipfs/" + missing + "/", []string{"Accept: text/html"}, http.StatusGatewayTimeout},
		{"missing child of a local root", "GET", "/ipfs/" + site.String() + "/about/", nil, http.StatusGatewayTimeout},
		{"missing raw block", "GET", "/ipfs/" + missing + "?format=raw", nil, http.StatusGatewayTimeout},
		{"missing CAR", "GET", "/ipfs/" + missing + "?format=car", nil, http.StatusGatewayTimeout},
		{"missing HEAD", "HEAD", "/ipfs/" + missing + "/", nil, http.StatusGatewayTimeout},
		{"only-if-cached miss", "GET", "/ipfs/" + missing + "/", []string{"Cache-Control: only-if-cached"}, http.StatusPreconditionFailed},
		{"only-if-cached HEAD miss", "HEAD", "/ipfs/" + missing + "/", []string{"Cache-Control: only-if-cached"}, http.StatusPreconditionFailed},
		{"local root still served", "GET", "/ipfs/" + site.String() + "?format=raw", nil, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fetch(t, g.URL(), tc.method, tc.url, "", tc.headers...)
			require.Equal(t, tc.status, r.status, "%s", r.body)
			if tc.status == http.StatusGatewayTimeout && tc.method == "GET" {
				require.Contains(t, string(r.body), "Unable to retrieve content within timeout period")
			}
		})
	}
}

// peerlessGateway starts a gateway whose bitswap has no peers, over a store
// holding only the root blocks of testdata/site and of a two-block file,
// which it returns.
func peerlessGateway(t *testing.T, config func(*Config)) (g *Gateway, site, file cid.Cid) {
	t.Helper()
	// The content: made in another store, of which this node holds only
	// the root blocks.
	src, _ := newTestStore(t)
	site = src.addTree(t, "testdata/site")
	big := filepath.Join(t.TempDir(), "big.bin")
	require.NoError(t, os.WriteFile(big, bytes.Repeat([]byte("island "), 200_000), 0o644))
	file = src.addTree(t, big)
	store, _ := newTestStore(t)
	for _, c := range []cid.Cid{site, file} {
		root, err := src.blocks.Get(context.Background(), c)
		require.NoError(t, err)
		require.NoError(t, store.blocks.Put(context.Background(), root))
	}

	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(), libp2p.NoTransports, libp2p.Transport(tcp.NewTCPTransport))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, h.Close()) })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	bs := bitswap.New(ctx, bsnet.NewFromIpfsHost(h), routinghelpers.Null{}, store.blocks)
	bserv := blockservice.New(store.blocks, bs)
	t.Cleanup(func() { require.NoError(t, bserv.Close()) })

	cfg := DefaultConfig()
	cfg.BlockService = bserv
	config(&cfg)
	return startGateway(t, cfg), site, file
}

// TestGatewayGuard: a request its guard ends with a reason (the node's
// relay guard: the holders are behind a relay that cannot carry the
// content) answers 503 with that reason at once, not 504 after the
// retrieval timeout.
func TestGatewayGuard(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a libp2p host")
	}
	errHeld := errors.New("held only behind a relay that cannot carry it")
	g, site, file := peerlessGateway(t, func(cfg *Config) {
		cfg.RetrievalTimeout = 10 * time.Minute
		cfg.Guard = func(ctx context.Context) context.Context {
			ctx, cancel := context.WithCancelCause(ctx)
			time.AfterFunc(time.Second, func() { cancel(errHeld) })
			return ctx
		}
	})
	missing := "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
	for _, tc := range []struct {
		name, method, url string
		status            int
	}{
		{"missing root", "GET", "/ipfs/" + missing + "/", http.StatusServiceUnavailable},
		{"missing child of a local root", "GET", "/ipfs/" + site.String() + "/about/", http.StatusServiceUnavailable},
		{"missing raw block", "GET", "/ipfs/" + missing + "?format=raw", http.StatusServiceUnavailable},
		// Not 200 and a body cut short: the first data block is fetched
		// before the status line.
		{"a file whose data is missing", "GET", "/ipfs/" + file.String(), http.StatusServiceUnavailable},
		{"missing CAR", "GET", "/ipfs/" + missing + "?format=car", http.StatusServiceUnavailable},
		{"missing HEAD", "HEAD", "/ipfs/" + missing + "/", http.StatusServiceUnavailable},
		{"local root still served", "GET", "/ipfs/" + site.String() + "?format=raw", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fetch(t, g.URL(), tc.method, tc.url, "")
			require.Equal(t, tc.status, r.status, "%s", r.body)
			if tc.status != http.StatusOK && tc.method == "GET" {
				require.Contains(t, string(r.body), errHeld.Error())
			}
		})
	}
}
