package gateway

import (
	"html"
	"io/fs"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// linkRE finds the links of a page the renderer wrote.
var linkRE = regexp.MustCompile(`(?:href|src)="([^"]*)"`)

// TestContentSiteNotFound serves the rendered content/ and asks for paths it
// does not have. On the subdomain gateway the site's _redirects answers
// them, at any depth, with its 404.html and status 404, and every link of
// that page, followed from where it was served, reaches a page of the site.
// The path gateway ignores _redirects (it has no origin of the site's own)
// and answers its own 404.
func TestContentSiteNotFound(t *testing.T) {
	b := renderContent(t)
	store, bserv := newTestStore(t)
	root := store.addFS(t, b.FS()).String()
	cfg := DefaultConfig()
	cfg.BlockService = bserv
	g := startGateway(t, cfg)
	u, err := url.Parse(g.URL())
	require.NoError(t, err)
	host := root + ".ipfs.localhost:" + u.Port()
	notFound, err := fs.ReadFile(b.FS(), "404.html")
	require.NoError(t, err)
	index, err := fs.ReadFile(b.FS(), "index.html")
	require.NoError(t, err)

	r := fetch(t, g.URL(), "GET", "/", host)
	require.Equal(t, 200, r.status, "a path that exists is served as itself")
	sameBytes(t, index, r.body, "home page")

	followed := map[string]bool{}
	for _, missing := range []string{"/nope", "/posts/no-such-post/", "/a/b/c/d.html", "/tags/go/x/y/z/"} {
		t.Run(missing, func(t *testing.T) {
			r := fetch(t, g.URL(), "GET", missing, host)
			require.Equal(t, 404, r.status)
			sameBytes(t, notFound, r.body, "body of "+missing)
			require.Contains(t, r.header.Get("Content-Type"), "text/html")

			from, err := url.Parse("http://" + host + missing)
			require.NoError(t, err)
			links := 0
			for _, m := range linkRE.FindAllSubmatch(r.body, -1) {
				raw := html.UnescapeString(string(m[1]))
				if strings.HasPrefix(raw, "#") {
					continue // this very page
				}
				to, err := from.Parse(raw)
				require.NoError(t, err)
				require.Equal(t, from.Host, to.Host, "link %q leaves the site", raw)
				links++
				if followed[to.RequestURI()] {
					continue
				}
				followed[to.RequestURI()] = true
				got := fetch(t, g.URL(), "GET", to.RequestURI(), host)
				require.Equal(t, 200, got.status, "link %q on the 404 page served at %s", raw, missing)
			}
			require.Positive(t, links)
		})
	}

	r = fetch(t, g.URL(), "GET", "/ipfs/"+root+"/nope", "")
	require.Equal(t, 404, r.status)
	require.NotEqual(t, string(notFound), string(r.body), "the path gateway does not apply _redirects")
}
