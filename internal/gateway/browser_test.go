package gateway

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/islandsite/island/internal/site"
	"github.com/islandsite/island/internal/testutil"
	"github.com/islandsite/island/internal/testutil/chromium"
	"github.com/stretchr/testify/require"
)

// contentNow is when the browser check renders content/: fixed, so that
// every run serves the same site.
var contentNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// renderContent renders the repository's content/ as `island build` does.
func renderContent(tb testing.TB) *site.Bundle {
	tb.Helper()
	b, err := site.Build(context.Background(), site.Config{
		ContentDir: filepath.Join(testutil.ModuleRoot(), "content"),
		Now:        contentNow,
		Logger:     slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	require.NoError(tb, err, "render content/")
	return b
}

// TestBrowserSite opens every file of the real site (content/ rendered by
// internal/site) in headless Chromium through the path gateway and the
// subdomain gateway, and the hand-made fixture site of testdata/, whose
// images and _redirects rules the real site does not have.
func TestBrowserSite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	tabs := startBrowser(t)
	t.Run("content", func(t *testing.T) {
		checkSiteInBrowser(t, tabs, "content", renderContent(t).FS())
	})
	t.Run("fixture", func(t *testing.T) {
		checkSiteInBrowser(t, tabs, "fixture", os.DirFS(filepath.Join("testdata", "site")))
	})
}

// startBrowser runs headless Chromium until the test ends with a pool of
// tabs, one per page check that may run at once (-parallel).
func startBrowser(t *testing.T) tabPool {
	t.Helper()
	// The pages are plain HTTP: no QUIC, so nothing is tried over UDP.
	browserCtx := chromium.Start(t, chromedp.Flag("disable-quic", true))

	// Opening a tab costs more than loading a page in it, so tabs are
	// reused; every page replaces the previous document.
	n := testParallel()
	pool := make(tabPool, n)
	for range n {
		tb := &tab{}
		tb.ctx, _ = chromedp.NewContext(browserCtx) // closed with the browser
		require.NoError(t, chromedp.Run(tb.ctx), "open a tab")
		chromedp.ListenTarget(tb.ctx, tb.event)
		pool <- tb
	}
	return pool
}

// testParallel is the -test.parallel setting: how many parallel tests run
// at once.
func testParallel() int {
	if f := flag.Lookup("test.parallel"); f != nil {
		if n, err := strconv.Atoi(f.Value.String()); err == nil && n > 0 {
			return n
		}
	}
	return goruntime.GOMAXPROCS(0)
}

// tabPool hands out browser tabs; a page check takes one and gives it back.
type tabPool chan *tab

// tab is a browser tab and the page load its events go to.
type tab struct {
	ctx  context.Context
	mu   sync.Mutex
	load *pageLoad // nil between page checks
}

func (tb *tab) event(ev any) {
	tb.mu.Lock()
	l := tb.load
	tb.mu.Unlock()
	if l != nil {
		l.event(ev)
	}
}

func (tb *tab) watch(l *pageLoad) {
	tb.mu.Lock()
	tb.load = l
	tb.mu.Unlock()
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

// siteFile is one thing a browser opens: a page (an HTML file, a folder's
// index.html as the folder) or any other file of the site.
type siteFile struct {
	path string // relative to the site root, as in a URL
	kind fileKind
}

type fileKind int

const (
	htmlPage  fileKind = iota // styled, its images must decode
	imageFile                 // must decode
	otherFile                 // feeds, style sheets, text
)

// siteFiles lists every file of fsys as the browser should open it.
func siteFiles(t *testing.T, fsys fs.FS) []siteFile {
	t.Helper()
	var files []siteFile
	require.NoError(t, fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case p == "index.html":
			files = append(files, siteFile{"", htmlPage})
		case strings.HasSuffix(p, "/index.html"):
			files = append(files, siteFile{strings.TrimSuffix(p, "index.html"), htmlPage})
		case strings.HasSuffix(p, ".html"):
			files = append(files, siteFile{p, htmlPage})
		case slices.Contains([]string{".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico"}, strings.ToLower(path.Ext(p))):
			files = append(files, siteFile{p, imageFile})
		default:
			files = append(files, siteFile{p, otherFile})
		}
		return nil
	}))
	return files
}

// checkSiteInBrowser imports fsys into a store, serves it from a gateway
// and opens every file of it in the browser through the path gateway and
// the subdomain gateway. It fails on any request that fails or answers an
// error (page, stylesheet, image, feed), any console error or uncaught
// exception, a page whose stylesheet was not applied and an image that did
// not decode. A missing page on the subdomain gateway must get the site's
// 404.html with status 404, loading as cleanly. It saves screenshots of the
// home page as artifacts.
func checkSiteInBrowser(t *testing.T, tabs tabPool, name string, fsys fs.FS) {
	store, bserv := newTestStore(t)
	root := store.addFS(t, fsys)
	cfg := DefaultConfig()
	cfg.BlockService = bserv
	g := startGateway(t, cfg)
	u, err := url.Parse(g.URL())
	require.NoError(t, err)
	bases := []struct{ kind, url string }{
		{"path", g.URL() + "/ipfs/" + root.String() + "/"},
		{"subdomain", "http://" + root.String() + ".ipfs.localhost:" + u.Port() + "/"},
	}
	files := siteFiles(t, fsys)
	require.NotEmpty(t, files)

	artifacts := artifactDir(t)
	for _, base := range bases {
		for _, f := range files {
			t.Run(base.kind+"/"+f.path, func(t *testing.T) {
				// Tabs of one browser; -parallel (GOMAXPROCS) bounds how many.
				t.Parallel()
				if base.kind == "path" && f.path == "404.html" {
					// 404.html links from the origin's root (see
					// internal/site/notfound.go), which only a subdomain
					// or DNSLink origin has.
					t.Skip("404.html is served by the subdomain gateway")
				}
				shot := ""
				if f.path == "" {
					shot = filepath.Join(artifacts, "gateway-"+name+"-home-"+base.kind+".png")
				}
				openInBrowser(t, tabs, base.url+f.path, 200, f.kind, shot)
			})
		}
	}
	t.Run("subdomain/missing page gets the site's 404.html", func(t *testing.T) {
		t.Parallel()
		if _, err := fs.Stat(fsys, "404.html"); err != nil {
			t.Skip("the site has no 404.html")
		}
		openInBrowser(t, tabs, bases[1].url+"no/such/page/", 404, htmlPage, "")
	})
}

// pageLoad collects what the browser reports while it loads one page.
type pageLoad struct {
	url    string
	status int64 // the status the page is meant to have

	mu       sync.Mutex
	problems []string
	probes   []string // problems with the browser's own /favicon.ico probe
	loaded   []string
	docCode  int64
	requests map[network.RequestID]string
}

func (l *pageLoad) report(resource, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	if u, err := url.Parse(resource); err == nil && u.Path == "/favicon.ico" {
		l.probes = append(l.probes, msg)
		return
	}
	l.problems = append(l.problems, msg)
}

func (l *pageLoad) event(ev any) {
	switch ev := ev.(type) {
	case *network.EventResponseReceived:
		l.mu.Lock()
		l.loaded = append(l.loaded, fmt.Sprintf("%d %s", ev.Response.Status, ev.Response.URL))
		if ev.Type == network.ResourceTypeDocument && ev.Response.URL == l.url {
			l.docCode = ev.Response.Status
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		if ev.Response.Status >= 400 {
			l.report(ev.Response.URL, "%s answered %d", ev.Response.URL, ev.Response.Status)
		}
	case *network.EventRequestWillBeSent:
		l.mu.Lock()
		l.requests[ev.RequestID] = ev.Request.URL
		l.mu.Unlock()
	case *network.EventLoadingFailed:
		l.mu.Lock()
		u := l.requests[ev.RequestID]
		l.mu.Unlock()
		l.report(u, "request for %s failed: %s %s", u, ev.ErrorText, ev.BlockedReason)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value))
			}
			l.report("", "console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		l.report("", "uncaught exception: %s", ev.ExceptionDetails.Error())
	case *log.EventEntryAdded:
		// The intended error status of the page itself is logged too.
		if ev.Entry.Level == log.LevelError && !(l.status >= 400 && ev.Entry.URL == l.url) {
			l.report(ev.Entry.URL, "browser log: %s (%s)", ev.Entry.Text, ev.Entry.URL)
		}
	}
}

// openInBrowser opens pageURL in a tab of the pool and checks that it
// answered status and that everything it loaded worked.
func openInBrowser(t *testing.T, tabs tabPool, pageURL string, status int64, kind fileKind, screenshot string) {
	t.Helper()
	tb := <-tabs
	l := &pageLoad{url: pageURL, status: status, requests: map[network.RequestID]string{}}
	tb.watch(l)
	defer func() {
		tb.watch(nil)
		tabs <- tb
	}()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()

	var styled, wantsFavicon bool
	var brokenImages []string
	actions := []chromedp.Action{
		chromedp.Navigate(pageURL),
		chromedp.WaitReady("body", chromedp.ByQuery),
		chromedp.Evaluate(`document.documentElement.outerHTML.includes("favicon.ico")`, &wantsFavicon),
	}
	if kind == htmlPage {
		// The stylesheet applied if any rule of it changed the body from
		// the browser's default 8px margin or its font.
		actions = append(actions, chromedp.Evaluate(`(() => { const s = getComputedStyle(document.body); return document.styleSheets.length > 0 && (s.margin !== "8px" || s.fontFamily !== "Times New Roman") })()`, &styled))
	}
	if kind != otherFile {
		// An image opened by itself is the document's one image.
		actions = append(actions, chromedp.Evaluate(`Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)`, &brokenImages))
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
	// No wait for late events: Navigate returned after the load event, and
	// chromedp hands every event to the listener before the answer to a
	// later command (the evaluations above), so everything the page loaded
	// has been seen. The sites have no scripts that could fail later.

	l.mu.Lock()
	defer l.mu.Unlock()
	// Chromium asks for /favicon.ico by itself when a document names no
	// icon (feeds do not); that is the browser's guess, not a broken link.
	if wantsFavicon {
		l.problems = append(l.problems, l.probes...)
	}
	require.Equal(t, status, l.docCode, "status of %s (loaded: %v)", pageURL, l.loaded)
	require.Empty(t, l.problems, "loading %s (loaded: %v)", pageURL, l.loaded)
	if kind == htmlPage {
		require.True(t, styled, "%s: the stylesheet was not applied", pageURL)
	}
	require.Empty(t, brokenImages, "%s: images that did not load", pageURL)
}
