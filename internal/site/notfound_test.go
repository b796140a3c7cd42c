package site

import (
	"context"
	"io/fs"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedirectsServeThe404Page(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // the bundle's _redirects
	}{
		{
			name:  "generated",
			files: map[string]string{"index.md": "Home."},
			want:  "/* /404.html 404\n",
		},
		{
			name: "the site's own _redirects wins",
			files: map[string]string{
				"index.md":          "Home.",
				"static/_redirects": "/old /new 301\n/* /404.html 404\n",
			},
			want: "/old /new 301\n/* /404.html 404\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustBuild(t, testConfig(t, writeSite(t, tt.files)))
			got, err := fs.ReadFile(b.FS(), redirectsPath)
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
			require.NotContains(t, string(readAll(t, b)["sitemap.xml"]), redirectsPath, "not a page")
		})
	}
}

func TestRedirectsNameIsReserved(t *testing.T) {
	_, err := Build(context.Background(), testConfig(t, writeSite(t, map[string]string{"_redirects.md": "A page."})))
	require.ErrorContains(t, err, "its page would be at _redirects/, which the site itself uses")
}

// 404.html is served in place of any missing path, so each of its links
// must reach the same file from any depth: they are root-absolute, and
// resolved from a deep URL they name files of the bundle.
func TestNotFoundLinksWorkAtAnyDepth(t *testing.T) {
	dir := writeSite(t, map[string]string{
		"index.md":        "Home.",
		"about.md":        post("About", "## Contact\n\nHi."),
		"posts/first.md":  post("First", "Hello."),
		"static/logo.png": "png",
		"404.md":          post("Lost", "Try [about](about.md#contact), [the first post](posts/first.md), [posts](/posts/) or ![the logo](logo.png)."),
	})
	b := mustBuild(t, testConfig(t, dir))
	page, err := fs.ReadFile(b.FS(), notFoundPath)
	require.NoError(t, err)
	base, err := url.Parse("http://site.example/no/such/deep/page/")
	require.NoError(t, err)
	var links []string
	for _, m := range hrefRE.FindAllSubmatch(page, -1) {
		raw := htmlUnescape(string(m[1]))
		if strings.HasPrefix(raw, "#") {
			continue // this very page, wherever it is
		}
		links = append(links, raw)
		require.True(t, strings.HasPrefix(raw, "/"), "link %q is not root-absolute", raw)
		u, err := base.Parse(raw)
		require.NoError(t, err)
		target := strings.TrimPrefix(u.Path, "/")
		if target == "" || strings.HasSuffix(target, "/") {
			target = path.Join(target, "index.html")
		}
		_, err = fs.Stat(b.FS(), target)
		require.NoError(t, err, "link %q from %s reaches nothing", raw, base)
	}
	for _, want := range []string{"/about/#contact", "/posts/first/", "/posts/", "/logo.png", "/atom.xml", "/tags/"} {
		require.Contains(t, links, want)
	}
}
