// Package browsercheck runs the page of testdata/browser in Chromium: a
// visitor with a browser only, which is given a site's IPNS name and a
// Delegated Routing V1 URL and must find the site, dial a node that has it
// over WebTransport or WebRTC-direct, fetch files over bitswap and check
// every block, with no HTTP request for content. It bundles the page from
// the pinned npm packages of testdata/browser (installed by `make
// browser-deps`, which `make test` and .ci/run run) with their esbuild,
// serves it on loopback and reads the page's report.
package browsercheck

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/testutil"
	"github.com/islandsite/island/internal/testutil/chromium"
)

// Transports are the browser transports the page can use.
var Transports = []string{"webtransport", "webrtc-direct"}

// sourceDir is the page's source and npm packages, from the module root.
const sourceDir = "testdata/browser"

// Page is the bundled page, served on 127.0.0.1 until the test ends.
type Page struct {
	URL string // the page's base URL, http://127.0.0.1:PORT/
}

var (
	bundleOnce sync.Once
	bundleDir  string
	bundleErr  error
	bundleSkip string
)

// Serve bundles the page (once per test binary) and serves it until tb
// ends. The test is skipped, saying what to run, when the npm packages or
// Node.js are missing.
func Serve(tb testing.TB) *Page {
	tb.Helper()
	bundleOnce.Do(bundle)
	if bundleSkip != "" {
		tb.Skip(bundleSkip)
	}
	require.NoError(tb, bundleErr)
	srv := httptest.NewServer(http.FileServer(http.Dir(bundleDir)))
	tb.Cleanup(srv.Close)
	return &Page{URL: srv.URL + "/"}
}

// bundle runs esbuild on the page into a temporary directory, next to its
// index.html.
func bundle() {
	src := filepath.Join(testutil.ModuleRoot(), sourceDir)
	esbuild := filepath.Join(src, "node_modules", ".bin", "esbuild")
	if _, err := os.Stat(esbuild); err != nil {
		bundleSkip = fmt.Sprintf("the browser page's npm packages are not installed (%s), so this browser check is skipped: run `make browser-deps` (npm ci --ignore-scripts in %s; `make test` does it)", esbuild, sourceDir)
		return
	}
	if _, err := exec.LookPath("node"); err != nil {
		bundleSkip = "Node.js is not installed, so the browser page cannot be bundled and this browser check is skipped: apt-get install nodejs npm"
		return
	}
	if bundleDir, bundleErr = os.MkdirTemp("", "island-browser-page-"); bundleErr != nil {
		return
	}
	cmd := exec.Command(esbuild, "page.js", "--bundle", "--format=esm", "--platform=browser",
		"--target=chrome120", "--log-level=warning", "--outfile="+filepath.Join(bundleDir, "page.js"))
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		bundleErr = fmt.Errorf("browsercheck: bundle %s/page.js with esbuild: %v\n%s", sourceDir, err, out)
		return
	}
	html, err := os.ReadFile(filepath.Join(src, "index.html"))
	if err == nil {
		err = os.WriteFile(filepath.Join(bundleDir, "index.html"), html, 0o644)
	}
	bundleErr = err
}

// Cleanup removes the bundle; TestMain calls it after the tests.
func Cleanup() {
	if bundleDir != "" {
		_ = os.RemoveAll(bundleDir)
	}
}

// Start runs Chromium for the page: WebRTC may use loopback (the nodes are
// on 127.0.0.1) and shows real addresses rather than mDNS names, and QUIC
// stays on, since WebTransport runs over it.
func Start(tb testing.TB) context.Context {
	tb.Helper()
	return chromium.Start(tb,
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
	)
}

// Params are what the visitor knows: the name, a router, and which files
// to fetch; and which transport the page may use.
type Params struct {
	Name      string   // the site's IPNS name, k51…
	Routing   string   // a Delegated Routing V1 server's base URL
	Transport string   // "webtransport" or "webrtc-direct"
	Files     []string // paths inside the site
}

// Report is what the page reports (window.islandReport in page.js).
type Report struct {
	Done      bool
	Transport string
	// Env says why this browser cannot use the transport at all (no
	// WebRTC candidates on this machine, say): the environment, not
	// island, is at fault.
	Env       string
	Error     string
	Steps     []Step
	Resolved  string
	Providers []struct {
		ID    string
		Addrs []string
	}
	Connection string
	Files      []File
	Blocks     int
	Verified   int
}

// Step is one milestone of the page, in milliseconds since it started.
type Step struct {
	Step string
	Ms   int
}

// File is one fetched file.
type File struct {
	Path   string
	Bytes  int
	SHA256 string `json:"sha256"`
}

// Ms returns when step happened, or -1.
func (r Report) Ms(step string) int {
	for _, s := range r.Steps {
		if s.Step == step {
			return s.Ms
		}
	}
	return -1
}

// Request is one HTTP request the page made.
type Request struct {
	URL  string
	Type network.ResourceType
}

// Run opens the page with p in a new tab of browser and returns its
// report once done (or when timeout runs out), with every request the tab
// made and anything the page logged as an error.
func (pg *Page) Run(tb testing.TB, browser context.Context, p Params, timeout time.Duration) (Report, []Request, []string) {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	defer cancel()

	var mu sync.Mutex
	var requests []Request
	var logged []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests = append(requests, Request{URL: ev.Request.URL, Type: ev.Type})
		case *network.EventWebTransportCreated:
			requests = append(requests, Request{URL: ev.URL, Type: "WebTransport"})
		case *runtime.EventExceptionThrown:
			logged = append(logged, "uncaught: "+ev.ExceptionDetails.Error())
		}
	})
	q := url.Values{
		"name":      {p.Name},
		"routing":   {p.Routing},
		"transport": {p.Transport},
		"files":     {strings.Join(p.Files, ",")},
	}
	var rep Report
	err := chromedp.Run(ctx,
		chromedp.Navigate(pg.URL+"?"+q.Encode()),
		chromedp.Poll(`window.islandReport && window.islandReport.done ? window.islandReport : null`, &rep,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout)),
	)
	if err != nil {
		// Whatever the page got to is the best account of where it hung.
		if chromedp.Run(ctx, chromedp.Evaluate(`window.islandReport`, &rep)) == nil {
			err = fmt.Errorf("%w (the page got to: %+v)", err, rep)
		}
	}
	require.NoError(tb, err, "run the browser page")
	mu.Lock()
	defer mu.Unlock()
	return rep, append([]Request(nil), requests...), append([]string(nil), logged...)
}
