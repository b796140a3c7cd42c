package cli

// The publisher's dashboard in a real browser: a daemon that has published
// three versions of content/ (as it is, then with pages taken out) and
// follows a second daemon's site is opened in headless Chromium at its
// API's address.

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/testutil"
	"github.com/islandsite/island/internal/testutil/chromium"
)

// dashboardArtifacts is where the dashboard's screenshots go:
// $ISLAND_ARTIFACTS/dashboard, else island-artifacts/dashboard in the
// system's temporary directory (docs/contracts.md says so). They are kept
// after the test, for a person to look at.
func dashboardArtifacts(t *testing.T) string {
	t.Helper()
	base := os.Getenv("ISLAND_ARTIFACTS")
	if base == "" {
		base = filepath.Join(os.TempDir(), "island-artifacts")
	}
	dir := filepath.Join(base, "dashboard")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// pageWatch collects what a tab reports that a working page never does:
// console errors and warnings, uncaught exceptions, and requests that
// failed (a fetch the page's CSP blocks among them) or were answered with
// an error status. A script the CSP blocked would leave the page without
// its actions, which the test uses.
type pageWatch struct {
	mu       sync.Mutex
	problems []string
	requests int
}

func (w *pageWatch) event(ev any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeWarning {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			w.problems = append(w.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		w.problems = append(w.problems, "uncaught: "+ev.ExceptionDetails.Error())
	case *network.EventRequestWillBeSent:
		w.requests++
	case *network.EventLoadingFailed:
		w.problems = append(w.problems, fmt.Sprintf("request failed: %s %s", ev.ErrorText, ev.BlockedReason))
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			w.problems = append(w.problems, fmt.Sprintf("%s answered %d", ev.Response.URL, ev.Response.Status))
		}
	}
}

func (w *pageWatch) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Empty(t, w.problems, "the dashboard logged errors or had failed requests")
	require.Positive(t, w.requests, "the watch saw the page's requests")
}

// builtWithout copies the built site at src to a new folder, leaving out
// the files named.
func builtWithout(t *testing.T, src string, leave ...string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "public")
	require.NoError(t, os.CopyFS(dst, os.DirFS(src)))
	for _, name := range leave {
		require.NoError(t, os.Remove(filepath.Join(dst, filepath.FromSlash(name))))
	}
	return dst
}

// pagesOf lists the HTML pages of a built site other than its home page,
// sorted.
func pagesOf(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel = filepath.ToSlash(rel); rel != "index.html" && rel != "404.html" {
			out = append(out, rel)
		}
		return nil
	}))
	slices.Sort(out)
	return out
}

// currentVersion reads `island history --json`: the current version, its
// CID, and how many versions there are.
func currentVersion(t *testing.T, d *daemonProc) (int, string, int) {
	t.Helper()
	var vs []struct {
		Version int    `json:"version"`
		CID     string `json:"cid"`
		Current bool   `json:"current"`
	}
	require.NoError(t, json.Unmarshal([]byte(d.ok(t, "history", "--json")), &vs))
	for _, v := range vs {
		if v.Current {
			return v.Version, v.CID, len(vs)
		}
	}
	t.Fatalf("no current version in %+v", vs)
	return 0, "", 0
}

func apiURL(t *testing.T, d *daemonProc) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.repo, "api"))
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// TestBrowserDashboard: every section of the dashboard shows what the
// daemon reports, its rollback button makes an older version current, it
// is readable at desktop and phone widths in light and dark (screenshots
// kept as artifacts), with no console error and no failed request; and no
// page the gateway serves can make it act.
func TestBrowserDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two daemons and a browser")
	}
	dir := t.TempDir()
	full := builtSite(t, filepath.Join(testutil.ModuleRoot(), "content"))
	pages := pagesOf(t, full)
	require.GreaterOrEqual(t, len(pages), 2, "content/ has pages beside its home page")
	fewer := builtWithout(t, full, pages[0])
	fewest := builtWithout(t, full, pages[0], pages[1])

	author := startDaemonProc(t, "author", filepath.Join(dir, "author"), nil, "--stats-interval", "250ms", "--follow-interval", "1s")
	friend := startDaemonProc(t, "friend", filepath.Join(dir, "friend"), []*daemonProc{author})
	friendContent := filepath.Join(dir, "friend-content")
	writeSite(t, friendContent, "A friend's first post.")
	var fv siteVersionOut
	require.NoError(t, json.Unmarshal([]byte(friend.ok(t, "publish", "--content", friendContent, "--json", "--no-check")), &fv))

	var vs [3]siteVersionOut
	for i, site := range []string{full, fewer, fewest} {
		args := []string{"publish", "--dir", site, "--json"}
		if i < 2 {
			args = append(args, "--no-check")
		} else {
			args = append(args, "--check-timeout", "60s")
		}
		require.NoError(t, json.Unmarshal([]byte(author.ok(t, args...)), &vs[i]))
		require.Equal(t, i+1, vs[i].Version)
	}
	require.True(t, vs[2].Retrievable.OK, "retrievability check: %+v", vs[2].Retrievable)
	author.ok(t, "follow", fv.Name)
	author.eventually(t, func(out string) bool { return strings.Contains(out, fv.CID) }, "follow", "ls", "--json")

	dash := apiURL(t, author) + "/"
	browser := chromium.Start(t, chromedp.Flag("disable-quic", true))
	ctx, cancel := chromedp.NewContext(browser)
	defer cancel()
	// The tab is opened with ctx itself: a tab opened by a Run with a
	// shorter-lived context closes with it.
	require.NoError(t, chromedp.Run(ctx))
	watch := &pageWatch{}
	chromedp.ListenTarget(ctx, watch.event)
	run := func(actions ...chromedp.Action) {
		t.Helper()
		rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		require.NoError(t, chromedp.Run(rctx, actions...))
	}
	text := func(sel string) string {
		t.Helper()
		var s string
		run(chromedp.Text(sel, &s, chromedp.ByQuery))
		return strings.TrimSpace(s)
	}
	// textNow is text for polling: the page re-renders as the node's state
	// changes, and a node replaced between query and read is no failure.
	textNow := func(sel string) string {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var s string
		if err := chromedp.Run(rctx, chromedp.Text(sel, &s, chromedp.ByQuery)); err != nil {
			return ""
		}
		return strings.TrimSpace(s)
	}
	attr := func(sel, name string) string {
		t.Helper()
		var s string
		var ok bool
		run(chromedp.AttributeValue(sel, name, &s, &ok, chromedp.ByQuery))
		require.True(t, ok, "%s has no %s", sel, name)
		return s
	}
	run(network.Enable(), chromedp.Navigate(dash), chromedp.WaitVisible("#node", chromedp.ByQuery))
	var shown string
	run(chromedp.Evaluate(`document.body.innerText`, &shown))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the dashboard showed:\n%s", shown)
		}
	})

	t.Run("site", func(t *testing.T) {
		require.Equal(t, "3", text("#site-version"))
		require.Equal(t, vs[2].CID, text("#site-cid"))
		require.Equal(t, vs[2].Name, text("#site-name"))
		var urls []string
		run(chromedp.Evaluate(`[...document.querySelectorAll("#site-urls a")].map(a => a.href)`, &urls))
		require.Equal(t, vs[2].URLs, urls, "the URLs publish printed, subdomain first")
		require.Contains(t, urls[0], ".localhost:")
		require.Equal(t, "ok", attr("#site-check [data-check]", "data-check"))
		require.Contains(t, text("#site-check"), "version 3 (current)")
	})

	t.Run("versions", func(t *testing.T) {
		var got []string
		run(chromedp.Evaluate(`[...document.querySelectorAll("li.version")].map(li => li.dataset.version + " " + li.dataset.cid)`, &got))
		require.Equal(t, []string{"3 " + vs[2].CID, "2 " + vs[1].CID, "1 " + vs[0].CID}, got, "newest first")
		var files int
		require.NoError(t, filepath.WalkDir(full, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files++
			}
			return err
		}))
		require.Equal(t, fmt.Sprintf("+%d", files), text(`li[data-version="1"] [data-k="added"]`))
		for _, v := range []string{"2", "3"} {
			require.Equal(t, "−1", text(`li[data-version="`+v+`"] [data-k="removed"]`))
			require.Equal(t, "+0", text(`li[data-version="`+v+`"] [data-k="added"]`))
			require.Contains(t, text(`li[data-version="`+v+`"] [data-k="pages"]`), "−1")
		}
		var listed []string
		run(chromedp.Evaluate(`[...document.querySelectorAll('li[data-version="2"] .files code')].map(c => c.textContent)`, &listed))
		require.Equal(t, []string{pages[0]}, listed)
		require.Contains(t, attr(`li[data-version="1"] a.browse`, "href"), ".ipfs.localhost:")
		var buttons []string
		run(chromedp.Evaluate(`[...document.querySelectorAll('form[data-op="rollback"]')].map(f => f.dataset.version)`, &buttons))
		require.Equal(t, []string{"2", "1"}, buttons, "a rollback button on every version but the current")
	})

	t.Run("friends", func(t *testing.T) {
		li := `li.friend[data-name="` + fv.Name + `"]`
		require.Equal(t, fv.CID, attr(li+` [data-k="version"] code`, "title"))
		require.Contains(t, text(li+` [data-k="behind"]`), "up to date")
		require.NotContains(t, text(li+` [data-k="size"]`), "unknown")
		var follows []struct {
			Name    string `json:"name"`
			MaxSize uint64 `json:"max_size"`
		}
		require.NoError(t, json.Unmarshal([]byte(author.ok(t, "follow", "ls", "--json")), &follows))
		require.Len(t, follows, 1)
		require.Equal(t, fmt.Sprint(follows[0].MaxSize)+" bytes", attr(li+` [data-k="cap"]`, "title"), "the follow's size cap")
		require.NotContains(t, text(li+` [data-k="seen"]`), "not yet")
		require.NotContains(t, text(li+` [data-k="next"]`), "when the daemon")
		var noError bool
		run(chromedp.Evaluate(`document.querySelector('`+li+` [data-k="error"]') === null`, &noError))
		require.True(t, noError, "no error for a friend whose site was fetched")
		var form bool
		run(chromedp.Evaluate(`!!document.querySelector('form[data-op="follow"] input[name="name"]')`, &form))
		require.True(t, form, "a form to follow a name")
	})

	t.Run("node", func(t *testing.T) {
		var id idJSON
		require.NoError(t, json.Unmarshal([]byte(author.ok(t, "id", "--json")), &id))
		require.Equal(t, id.ID, text("#peer-id"))
		// The charts fill as samples come in (every 250ms here).
		require.Eventually(t, func() bool {
			var n int
			run(chromedp.Evaluate(`document.querySelectorAll("#chart-peers polyline, #chart-traffic polyline").length`, &n))
			return n == 3
		}, 30*time.Second, 250*time.Millisecond, "the peers line and the in and out lines")
		var peers int
		run(chromedp.Evaluate(`Number(document.querySelector("#node-peers").textContent)`, &peers))
		require.GreaterOrEqual(t, peers, 1, "the friend is connected")
		require.NotEqual(t, "0 B", text(`[data-k="total-in"]`))
		var keys int
		run(chromedp.Evaluate(`Number(document.querySelector("#provide-keys").textContent)`, &keys))
		require.Positive(t, keys)
		require.Regexp(t, `^\d+%$`, text(`li.sweep[data-dht="LAN"] [data-k="sweep"]`))
		var addrs []string
		run(chromedp.Evaluate(`[...document.querySelectorAll("#addrs code")].map(c => c.textContent)`, &addrs))
		require.ElementsMatch(t, id.Addrs, addrs)
		var repo struct {
			MaxBytes uint64 `json:"max_bytes"`
		}
		require.NoError(t, json.Unmarshal([]byte(author.ok(t, "repo", "stat", "--json")), &repo))
		require.Equal(t, fmt.Sprint(repo.MaxBytes)+" bytes", attr(`#node-repo [data-k="repo-max"]`, "title"), "the repo's quota")
		require.NotEqual(t, "0 bytes", attr(`#node-repo [data-k="repo-used"]`, "title"))
	})

	shots := dashboardArtifacts(t)
	t.Run("screenshots", func(t *testing.T) {
		backgrounds := map[string]string{}
		for _, theme := range []string{"light", "dark"} {
			for _, size := range []struct {
				name          string
				width, height int64
				mobile        bool
			}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
				var png []byte
				var overflow bool
				var bg string
				opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
				if size.mobile {
					opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
				}
				run(
					emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}}),
					chromedp.EmulateViewport(size.width, size.height, opts...),
					chromedp.Sleep(200*time.Millisecond),
					chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow),
					chromedp.Evaluate(`getComputedStyle(document.body).backgroundColor`, &bg),
					chromedp.FullScreenshot(&png, 100),
				)
				require.False(t, overflow, "%s %s: the page is wider than the screen", theme, size.name)
				backgrounds[theme] = bg
				p := filepath.Join(shots, fmt.Sprintf("dashboard-%s-%s.png", size.name, theme))
				require.NoError(t, os.WriteFile(p, png, 0o644))
				t.Logf("screenshot: %s", p)
			}
		}
		require.NotEqual(t, backgrounds["light"], backgrounds["dark"], "a dark theme")
		run(chromedp.EmulateReset(), emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "light"}}))
	})

	t.Run("without JavaScript", func(t *testing.T) {
		nctx, cancel := chromedp.NewContext(browser)
		defer cancel()
		require.NoError(t, chromedp.Run(nctx))
		rctx, cancel := context.WithTimeout(nctx, 60*time.Second)
		defer cancel()
		var version, hint string
		var buttons int
		require.NoError(t, chromedp.Run(rctx,
			emulation.SetScriptExecutionDisabled(true),
			chromedp.Navigate(dash),
			chromedp.Text("#site-version", &version, chromedp.ByQuery),
			chromedp.Text(`li[data-version="1"] .nojs`, &hint, chromedp.ByQuery),
			chromedp.Evaluate(`[...document.querySelectorAll("form.act")].filter(f => f.offsetParent !== null).length`, &buttons),
		))
		require.Equal(t, "3", version, "every value is in the page as served")
		require.Contains(t, hint, "island rollback 1", "without the script, the page names the command")
		require.Zero(t, buttons, "no button that could not work")
	})

	t.Run("rollback button", func(t *testing.T) {
		run(chromedp.Click(`form[data-op="rollback"][data-version="1"] button`, chromedp.ByQuery))
		require.Eventually(t, func() bool { return textNow("#site-version") == "4" }, 30*time.Second, 100*time.Millisecond,
			"the page shows the new current version")
		require.Contains(t, text("#flash"), "Version 4 is current")
		require.Equal(t, vs[0].CID, text("#site-cid"))
		v, c, n := currentVersion(t, author)
		require.Equal(t, 4, v)
		require.Equal(t, vs[0].CID, c, "the site of version 1 is current again")
		require.Equal(t, 4, n)
	})

	t.Run("unfollow and follow through the page", func(t *testing.T) {
		li := `li.friend[data-name="` + fv.Name + `"]`
		run(chromedp.Click(li+` form[data-op="unfollow"] button`, chromedp.ByQuery))
		require.Eventually(t, func() bool {
			var gone bool
			run(chromedp.Evaluate(`document.querySelector('`+li+`') === null`, &gone))
			return gone
		}, 30*time.Second, 100*time.Millisecond)
		require.NotContains(t, author.ok(t, "follow", "ls"), fv.Name)
		run(chromedp.SendKeys("#follow-name", fv.Name, chromedp.ByQuery),
			chromedp.Click(`form[data-op="follow"] button`, chromedp.ByQuery))
		require.Eventually(t, func() bool {
			var back bool
			run(chromedp.Evaluate(`document.querySelector('`+li+`') !== null`, &back))
			return back
		}, 30*time.Second, 100*time.Millisecond)
		require.Contains(t, author.ok(t, "follow", "ls"), fv.Name)
	})
	watch.check(t)

	t.Run("refused from a page of the gateway", func(t *testing.T) {
		probeDir := filepath.Join(dir, "probe")
		require.NoError(t, os.MkdirAll(probeDir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(probeDir, "index.html"), []byte(rollbackProbe), 0o644))
		probe := strings.TrimSpace(author.ok(t, "add", "-q", probeDir)) // a CIDv1, a subdomain label as it is
		gw := author.gatewayURL(t)
		port := gw[strings.LastIndex(gw, ":")+1:]
		_, before, n := currentVersion(t, author)
		api := apiURL(t, author)
		for _, page := range []string{gw + "/ipfs/" + probe + "/", "http://" + probe + ".ipfs.localhost:" + port + "/"} {
			var results []string
			var landed string
			run(chromedp.Navigate(page+"#"+api),
				chromedp.Poll(`window.probes`, &results, chromedp.WithPollingTimeout(30*time.Second)),
			)
			t.Log(strings.Join(results, "\n"))
			require.Len(t, results, 2)
			require.Contains(t, results[0], "fetch error", "a JSON POST from another origin needs a preflight, which is refused")
			require.Contains(t, results[1], "opaque", "a no-cors POST gets no answer it could read")
			// The cross-origin form post: it navigates to the API's refusal.
			run(chromedp.Evaluate(`document.getElementById("f").submit()`, nil),
				chromedp.Sleep(500*time.Millisecond),
				chromedp.WaitReady("body", chromedp.ByQuery),
				chromedp.Text("body", &landed, chromedp.ByQuery))
			require.Contains(t, landed, "cross-origin requests to the API are refused", "the form post was refused")
			_, after, m := currentVersion(t, author)
			require.Equal(t, before, after, "nothing rolled back from %s", page)
			require.Equal(t, n, m, "no version was made from %s", page)
		}
	})
}

// rollbackProbe tries, from a page the gateway serves, to roll back the
// site through the API given in its fragment: a fetch with a JSON body, a
// no-cors fetch with a text body, and (when the test asks) a form post.
const rollbackProbe = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>probe</title><link rel="icon" href="data:,"></head>
<body><form id="f" method="post" enctype="text/plain"><input type="hidden" name='{"version":1,"x":"' value='"}'></form>
<script>
const api = location.hash.slice(1);
document.getElementById("f").action = api + "/api/v1/site/rollback";
const url = api + "/api/v1/site/rollback";
Promise.all([
  fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body: '{"version":1}'})
    .then(r => "fetch " + r.status, e => "fetch error " + e),
  fetch(url, {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: '{"version":1}'})
    .then(r => "no-cors " + r.type + " " + r.status, e => "no-cors error " + e),
]).then(r => { window.probes = r; });
</script></body></html>`
