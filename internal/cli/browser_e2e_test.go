package cli

// The browser visitor: a page in headless Chromium that knows only a
// site's IPNS name and a Delegated Routing V1 URL finds the site and loads
// it straight from island's nodes over WebTransport and WebRTC-direct,
// every block verified, with `island daemon` processes as the nodes.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/testutil"
	"github.com/islandsite/island/internal/testutil/browsercheck"
)

// browserListen are the loopback listen flags of a node browsers can dial.
var browserListen = []string{
	"--listen", "/ip4/127.0.0.1/udp/0/quic-v1/webtransport",
	"--listen", "/ip4/127.0.0.1/udp/0/webrtc-direct",
}

// pageTimeout bounds one run of the page: resolve, find, dial, fetch.
const pageTimeout = 2 * time.Minute

// photo is a PNG of noise, a few blocks big: an image as a site has them.
func photo(t *testing.T) []byte {
	t.Helper()
	const w, h = 700, 600
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	noise := testutil.RandomBytes(w*h*3, 16)
	for i := range w * h {
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = noise[3*i], noise[3*i+1], noise[3*i+2], 0xff
	}
	img.Set(0, 0, color.NRGBA{A: 0xff})
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// browserSite writes a small site with a photo and returns its content
// directory, the files the visitor fetches, and the built site to compare
// them with.
func browserSite(t *testing.T, dir string) (content string, files []string, built string) {
	t.Helper()
	content = filepath.Join(dir, "content")
	writeSite(t, content, "Words a browser reads straight from the author.")
	require.NoError(t, os.MkdirAll(filepath.Join(content, "static"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(content, "static", "photo.png"), photo(t), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(content, "index.md"),
		[]byte("---\ntitle: Home\n---\nWelcome.\n\n![noise](photo.png)\n"), 0o644))
	return content, []string{"index.html", "css/site.css", "photo.png"}, builtSite(t, content)
}

// providersOf asks router's /routing/v1 who provides c.
func providersOf(t *testing.T, router, c string) string {
	t.Helper()
	resp, err := http.Get(router + "/routing/v1/providers/" + c)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	return out.String()
}

// visit runs the page over each transport against router and checks what
// it got: the built site's bytes, every block verified, a direct
// connection to one of want, and no HTTP request but the page's own and
// the router's. It logs the page's timings.
func visit(t *testing.T, page *browsercheck.Page, name, router string, files []string, built string, want ...*daemonProc) {
	t.Helper()
	browser := browsercheck.Start(t)
	for _, transport := range browsercheck.Transports {
		t.Run(transport, func(t *testing.T) {
			rep, requests, logged := page.Run(t, browser, browsercheck.Params{
				Name: name, Routing: router, Transport: transport, Files: files,
			}, pageTimeout)
			if rep.Env != "" {
				t.Skipf("environment, not island: %s", rep.Env)
			}
			require.Empty(t, rep.Error, "the page failed (steps %+v, providers %+v, logged %v, requests %v)", rep.Steps, rep.Providers, logged, requests)
			require.Equal(t, "/ipfs/", rep.Resolved[:6], "resolved %q", rep.Resolved)

			require.Contains(t, rep.Connection, "/"+transport+"/", "a direct %s connection", transport)
			var ids []string
			for _, d := range want {
				ids = append(ids, d.id)
			}
			require.Contains(t, ids, lastP2P(rep.Connection), "connected to %s", rep.Connection)

			require.Len(t, rep.Files, len(files))
			for i, f := range rep.Files {
				b, err := os.ReadFile(filepath.Join(built, filepath.FromSlash(files[i])))
				require.NoError(t, err)
				sum := sha256.Sum256(b)
				require.Equal(t, browsercheck.File{Path: files[i], Bytes: len(b), SHA256: hex.EncodeToString(sum[:])}, f)
			}
			require.Positive(t, rep.Blocks)
			require.Equal(t, rep.Blocks, rep.Verified, "every block hashes to its CID")

			// Content came over libp2p: the page's HTTP was its own files
			// and the router's API, nothing from any gateway.
			for _, r := range requests {
				switch {
				case strings.HasPrefix(r.URL, page.URL), strings.HasPrefix(r.URL, router+"/routing/v1/"):
				case r.Type == "WebTransport" && strings.Contains(r.URL, "/.well-known/libp2p-webtransport"):
				default:
					t.Errorf("the page made a request other than for itself or for routing: %s %s", r.Type, r.URL)
				}
			}
			// From the page's start, once the browser is ready: resolve
			// the name, the first provider, a connection, the first byte
			// of index.html, all files.
			at := func(step string) int { return rep.Ms(step) - rep.Ms("helia started") }
			t.Logf("TIMING %s: resolved %d ms, first provider %d ms, dialed %d ms (dial %d ms), first byte %d ms, %d files (%d blocks) %d ms; via %s",
				transport, at("name resolved"), at("first provider"), at("provider dialed"),
				rep.Ms("provider dialed")-rep.Ms("first provider"), at("first byte"),
				len(rep.Files), rep.Blocks, at("files fetched"), rep.Connection)
		})
	}
}

// lastP2P is the peer ID a multiaddr ends with.
func lastP2P(addr string) string {
	i := strings.LastIndex(addr, "/p2p/")
	if i < 0 {
		return ""
	}
	return addr[i+len("/p2p/"):]
}

// TestBrowserVisitsSite: the author publishes; a visitor's browser, given
// the name and a router, loads the site from the author. Then the author
// goes offline and the browser loads it from a friend who follows it.
func TestBrowserVisitsSite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three daemons and a browser")
	}
	page := browsercheck.Serve(t)
	dir := t.TempDir()
	content, files, built := browserSite(t, dir)

	author := startDaemonProc(t, "author", filepath.Join(dir, "author"), nil, browserListen...)
	// The router is an island node the visitor trusts to route, not to
	// serve: it holds none of the site.
	router := startDaemonProc(t, "router", filepath.Join(dir, "router"), []*daemonProc{author})
	routerURL := router.gatewayURL(t)
	follower := startDaemonProc(t, "follower", filepath.Join(dir, "follower"), []*daemonProc{author},
		append([]string{"--follow-interval", "1s"}, browserListen...)...)
	var v siteVersionOut
	require.NoError(t, json.Unmarshal([]byte(author.ok(t, "publish", "--content", content, "--json", "--no-check")), &v))
	awaitProvider(t, routerURL, v.CID, author)

	t.Run("author online", func(t *testing.T) {
		visit(t, page, v.Name, routerURL, files, built, author)
	})

	follower.ok(t, "follow", v.Name)
	follower.eventually(t, func(out string) bool { return strings.Contains(out, v.CID) }, "follow", "ls", "--json")
	awaitProvider(t, routerURL, v.CID, follower)
	author.stop(t)
	t.Run("author offline, follower serves", func(t *testing.T) {
		visit(t, page, v.Name, routerURL, files, built, follower)
	})
}

// awaitProvider waits until the router's /routing/v1 lists d as a provider
// of c.
func awaitProvider(t *testing.T, router, c string, d *daemonProc) {
	t.Helper()
	require.Eventually(t, func() bool {
		return strings.Contains(providersOf(t, router, c), d.id)
	}, netDeadline, 100*time.Millisecond, "the router never found %s as a provider of %s", d.name, c)
}

// gatewayURL is the daemon's gateway base URL ($REPO/gateway).
func (d *daemonProc) gatewayURL(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.repo, "gateway"))
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}
