package gateway

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/api"
	"github.com/islandsite/island/internal/core"
)

// statusOnly is a core.API that answers Status alone, for the status page.
type statusOnly struct {
	core.API
	st core.Status
}

func (s statusOnly) Status(context.Context) (core.Status, error) { return s.st, nil }

// The dashboard's other reports are unavailable, as on a node just starting.
func (s statusOnly) History(context.Context, core.HistoryRequest) (core.History, error) {
	return core.History{}, core.Errorf(core.CodeUnavailable, "not here")
}
func (s statusOnly) ID(context.Context) (core.Identity, error) {
	return core.Identity{}, core.Errorf(core.CodeUnavailable, "not here")
}
func (s statusOnly) NodeStats(context.Context) (core.NodeStats, error) {
	return core.NodeStats{}, core.Errorf(core.CodeUnavailable, "not here")
}
func (s statusOnly) ProvideStat(context.Context) (core.ProvideStat, error) {
	return core.ProvideStat{}, core.Errorf(core.CodeUnavailable, "not here")
}

// probePage tries, from a page the gateway serves, every way a script
// could read the node's status: on its own origin (as before the status
// moved), on the gateway's origin, and on the API's, the status page and
// its JSON, with and without CORS. It reports what each answered.
const probePage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>probe</title><link rel="icon" href="data:,"></head>
<body><p>probe</p><script>
const q = new URLSearchParams(location.hash.slice(1));
const api = q.get("api"), gw = q.get("gw");
async function probe(u, opts) {
  try {
    const r = await fetch(u, opts);
    return u + " -> " + r.type + " " + r.status + " " + (await r.text());
  } catch (e) {
    return u + " -> error " + e;
  }
}
Promise.all([
  probe("/"), probe("/api/status"), probe("/api/v1/status"),
  probe(gw + "/"), probe(gw + "/api/status"),
  probe(api + "/"), probe(api + "/api/v1/status"),
  probe(api + "/", {mode: "no-cors"}), probe(api + "/api/v1/status", {mode: "no-cors"}),
  probe(api + "/api/v1/status", {credentials: "include"}),
  probe("probe.txt"),
]).then(r => { window.probes = r; });
</script></body></html>`

// TestBrowserCannotReadStatus: a page served by the gateway, on the path
// gateway and on a subdomain, cannot read the node's status in Chromium,
// while the person running the node sees it at the API's address and
// through the gateway's "/".
func TestBrowserCannotReadStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	const secret = "12D3KooWSecretPeerIDOfTheNodeRunningThisGateway"
	apiCfg := api.DefaultConfig()
	apiCfg.ListenAddr = "127.0.0.1:0"
	apiCfg.API = statusOnly{st: core.Status{PeerID: secret, Follows: []core.Follow{}}}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := api.New(ctx, apiCfg)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte(probePage), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "probe.txt"), []byte("content is readable"), 0o644))
	store, bserv := newTestStore(t)
	root := store.addTree(t, dir)
	cfg := DefaultConfig()
	cfg.BlockService = bserv
	cfg.StatusURL = srv.URL()
	g := startGateway(t, cfg)
	u, err := url.Parse(g.URL())
	require.NoError(t, err)

	tabs := startBrowser(t)
	tb := <-tabs
	defer func() { tabs <- tb }()
	hash := "#" + url.Values{"api": {srv.URL()}, "gw": {g.URL()}}.Encode()
	for _, page := range []string{
		g.URL() + "/ipfs/" + root.String() + "/",
		"http://" + root.String() + ".ipfs.localhost:" + u.Port() + "/",
	} {
		t.Run(page, func(t *testing.T) {
			rctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
			defer cancel()
			var probes []string
			require.NoError(t, chromedp.Run(rctx, chromedp.Navigate(page+hash)))
			require.Eventually(t, func() bool {
				require.NoError(t, chromedp.Run(rctx, chromedp.Evaluate(`window.probes || []`, &probes)))
				return len(probes) > 0
			}, 30*time.Second, 50*time.Millisecond, "the probes never finished")
			t.Log(strings.Join(probes, "\n"))
			require.Len(t, probes, 11)
			for _, p := range probes {
				require.NotContains(t, p, secret, "a page of the gateway read the node's status")
			}
			require.Contains(t, probes[len(probes)-1], "content is readable", "the probe itself works: %v", probes)
		})
	}

	// The person running the node sees the status: at the API's address,
	// and by opening the gateway's own address.
	for _, page := range []string{srv.URL() + "/", g.URL() + "/"} {
		rctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
		var text, at string
		require.NoError(t, chromedp.Run(rctx,
			chromedp.Navigate(page),
			chromedp.Text("body", &text, chromedp.ByQuery),
			chromedp.Location(&at),
		))
		cancel()
		require.Contains(t, text, secret, "the status page, opened from %s", page)
		require.True(t, strings.HasPrefix(at, srv.URL()), "the status page is on the API's origin, not %s", at)
	}
}
