// Package chromium runs headless Chromium for the browser checks (the
// gateway's pages, the page that fetches a site over WebTransport and
// WebRTC-direct), the same way everywhere: found on the PATH or at
// $ISLAND_CHROMIUM, a fresh profile, and every background service that
// would reach out to the network switched off, since tests may send
// nothing beyond the machine.
package chromium

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Find returns the Chromium binary: $ISLAND_CHROMIUM, else the first
// Chromium or Chrome on the PATH; "" when there is none.
func Find() string {
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

// Start runs headless Chromium until the test ends and returns the
// browser's context (its first tab); chromedp.NewContext on it opens more
// tabs. extra adds or overrides flags. The test is skipped, saying so,
// when Chromium is not installed.
func Start(tb testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	tb.Helper()
	binary := Find()
	if binary == "" {
		tb.Skip("Chromium is not installed, so this browser check is skipped: apt-get install chromium (.ci/run does)")
	}
	// Not t.TempDir: Chromium's helper processes may still write to their
	// profile for a moment after the browser is gone, and t.TempDir's
	// cleanup fails the test when the directory is not empty.
	profile, err := os.MkdirTemp("", "island-chromium-")
	require.NoError(tb, err)
	tb.Cleanup(func() { removeEventually(profile) })
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(binary),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		// Nothing of Chromium's own may leave the machine: no updates,
		// sync, safe-browsing lists or metrics uploads.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("metrics-recording-only", true),
	}, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tb.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	tb.Cleanup(cancelBrowser)
	require.NoError(tb, chromedp.Run(browserCtx), "start %s", binary)
	return browserCtx
}

// removeEventually removes dir, retrying while processes that are exiting
// still create files in it.
func removeEventually(dir string) {
	for range 50 {
		if os.RemoveAll(dir) == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
