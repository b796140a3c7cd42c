package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestBrowserSite loads the test site in headless Chromium through the
// gateway. The lead points it at the rendered content/ by changing the
// directory here.
func TestBrowserSite(t *testing.T) {
	checkSiteInBrowser(t, filepath.Join("testdata", "site"))
}

// findChromium returns the Chromium binary, or "" when none is installed.
func findChromium() string {
	if p := os.Getenv("ISLAND_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// artifactDir is where test artifacts go: $ISLAND_ARTIFACTS, or a
// temporary directory that lives as long as the test.
func artifactDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("ISLAND_ARTIFACTS"); dir != "" {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		return dir
	}
	return t.TempDir()
}

// sitePages lists what a browser should be able to open in siteDir, as
// paths relative to the site root: every HTML page (a folder's index.html
// as the folder) and every feed.
func sitePages(t *testing.T, siteDir string) []string {
	t.Helper()
	var pages []string
	require.NoError(t, fs.WalkDir(os.DirFS(siteDir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case p == "index.html":
			pages = append(pages, "")
		case strings.HasSuffix(p, "/index.html"):
			pages = append(pages, strings.TrimSuffix(p, "index.html"))
		case strings.HasSuffix(p, ".html"), strings.HasSuffix(p, ".xml"):
			pages = append(pages, p)
		}
		return nil
	}))
	return pages
}

// checkSiteInBrowser serves siteDir from a gateway and opens every page in
// headless Chromium through the path gateway and the subdomain gateway. It
// fails on any request that fails or answers an error (page, stylesheet,
// image, feed), any console error or uncaught exception, a stylesheet that
// was not applied and an image that did not decode. It saves screenshots
// of the home page as artifacts.
func checkSiteInBrowser(t *testing.T, siteDir string) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	chromium := findChromium()
	if chromium == "" {
		t.Skip("Chromium is not installed, so the gateway's browser check is skipped: apt-get install chromium")
	}
	store, bserv := newTestStore(t)
	root := store.addTree(t, siteDir)
	cfg := DefaultConfig()
	cfg.BlockService = bserv
	g := startGateway(t, cfg)
	u, err := url.Parse(g.URL())
	require.NoError(t, err)
	bases := map[string]string{
		"path":      g.URL() + "/ipfs/" + root.String() + "/",
		"subdomain": "http://" + root.String() + ".ipfs.localhost:" + u.Port() + "/",
	}
	pages := sitePages(t, siteDir)
	require.NotEmpty(t, pages)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(chromium),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("metrics-recording-only", true),
	)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	require.NoError(t, chromedp.Run(browserCtx), "start %s", chromium)

	artifacts := artifactDir(t)
	for kind, base := range bases {
		for _, page := range pages {
			t.Run(kind+"/"+page, func(t *testing.T) {
				if kind == "path" && page == "404.html" {
					// A site's 404 page links from the origin's root, which
					// only a subdomain (or DNSLink) origin has.
					t.Skip("404.html is served by the subdomain gateway")
				}
				shot := ""
				if page == "" {
					shot = filepath.Join(artifacts, "gateway-home-"+kind+".png")
				}
				openInBrowser(t, browserCtx, base+page, 200, shot)
			})
		}
	}
	t.Run("subdomain/missing page gets the site's 404.html", func(t *testing.T) {
		if _, err := os.Stat(filepath.Join(siteDir, "404.html")); err != nil {
			t.Skip("the site has no 404.html")
		}
		openInBrowser(t, browserCtx, bases["subdomain"]+"no/such/page/", 404, "")
	})
}

// openInBrowser opens pageURL in a new tab and checks that it answered
// status and that everything it loaded worked.
func openInBrowser(t *testing.T, browserCtx context.Context, pageURL string, status int64, screenshot string) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	var (
		mu       sync.Mutex
		problems []string
		probes   []string // problems with the browser's own /favicon.ico probe
		loaded   []string
		docCode  int64
	)
	report := func(resource, format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		msg := fmt.Sprintf(format, args...)
		if u, err := url.Parse(resource); err == nil && u.Path == "/favicon.ico" {
			probes = append(probes, msg)
			return
		}
		problems = append(problems, msg)
	}
	requests := map[network.RequestID]string{}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventResponseReceived:
			mu.Lock()
			loaded = append(loaded, fmt.Sprintf("%d %s", ev.Response.Status, ev.Response.URL))
			if ev.Type == network.ResourceTypeDocument && ev.Response.URL == pageURL {
				docCode = ev.Response.Status
				mu.Unlock()
				return
			}
			mu.Unlock()
			if ev.Response.Status >= 400 {
				report(ev.Response.URL, "%s answered %d", ev.Response.URL, ev.Response.Status)
			}
		case *network.EventRequestWillBeSent:
			mu.Lock()
			requests[ev.RequestID] = ev.Request.URL
			mu.Unlock()
		case *network.EventLoadingFailed:
			mu.Lock()
			u := requests[ev.RequestID]
			mu.Unlock()
			report(u, "request for %s failed: %s %s", u, ev.ErrorText, ev.BlockedReason)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				report("", "console.%s: %s", ev.Type, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			report("", "uncaught exception: %s", ev.ExceptionDetails.Error())
		case *log.EventEntryAdded:
			// The intended error status of the page itself is logged too.
			if ev.Entry.Level == log.LevelError && !(status >= 400 && ev.Entry.URL == pageURL) {
				report(ev.Entry.URL, "browser log: %s (%s)", ev.Entry.Text, ev.Entry.URL)
			}
		}
	})

	var styled, wantsFavicon bool
	var brokenImages []string
	actions := []chromedp.Action{
		chromedp.Navigate(pageURL),
		chromedp.WaitReady("body", chromedp.ByQuery),
		chromedp.Evaluate(`document.documentElement.outerHTML.includes("favicon.ico")`, &wantsFavicon),
	}
	if !strings.HasSuffix(pageURL, ".xml") {
		actions = append(actions,
			// The stylesheet applied if any rule of it changed the body from
			// the browser's default 8px margin or its font.
			chromedp.Evaluate(`(() => { const s = getComputedStyle(document.body); return document.styleSheets.length > 0 && (s.margin !== "8px" || s.fontFamily !== "Times New Roman") })()`, &styled),
			chromedp.Evaluate(`Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)`, &brokenImages),
		)
	}
	require.NoError(t, chromedp.Run(ctx, actions...), "open %s", pageURL)
	if screenshot != "" {
		var png []byte
		// Quality 100 makes a PNG; anything less a JPEG.
		require.NoError(t, chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)))
		require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")), "a PNG screenshot")
		require.NoError(t, os.WriteFile(screenshot, png, 0o644))
		t.Logf("screenshot of %s: %s", pageURL, screenshot)
	}
	// Late events (a console error after load) still count.
	require.NoError(t, chromedp.Run(ctx, chromedp.Sleep(100*time.Millisecond)))

	mu.Lock()
	defer mu.Unlock()
	// Chromium asks for /favicon.ico by itself when a document names no
	// icon (feeds do not); that is the browser's guess, not a broken link.
	if wantsFavicon {
		problems = append(problems, probes...)
	}
	require.Equal(t, status, docCode, "status of %s (loaded: %v)", pageURL, loaded)
	require.Empty(t, problems, "loading %s (loaded: %v)", pageURL, loaded)
	if !strings.HasSuffix(pageURL, ".xml") {
		require.True(t, styled, "%s: the stylesheet was not applied", pageURL)
		require.Empty(t, brokenImages, "%s: images that did not load", pageURL)
	}
}
