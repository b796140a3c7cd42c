package site

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func checkFolder(t *testing.T, dir string, hidden bool) *FolderCheck {
	t.Helper()
	fc, err := CheckFolder(context.Background(), os.DirFS(filepath.Join("testdata", "folder", dir)), hidden)
	require.NoError(t, err)
	return fc
}

func warningLines(fc *FolderCheck) []string {
	var out []string
	for _, w := range fc.Warnings {
		out = append(out, w.String())
	}
	return out
}

func TestCheckFolder(t *testing.T) {
	hugoAbs := "set relativeURLs = true in the site's hugo.toml (or config.toml) and build again, or let island build the Hugo site itself: island publish --content SITE"
	hugoOwn := "use .RelPermalink and relURL instead of .Permalink and absURL in the templates, or let island build the Hugo site itself: island publish --content SITE"

	fc := checkFolder(t, "absolute", false)
	require.Equal(t, "Hugo 0.139.3", fc.Generator)
	require.Equal(t, 3, fc.Pages, "the hidden page is not published, so not read")
	require.Equal(t, []string{
		`index.html: 6 link(s) start with / (e.g. "/css/main.css"): under /ipfs/CID/ they leave the site; ` + hugoAbs,
		`css/main.css: 1 link(s) start with / (e.g. "/images/sand.png"): under /ipfs/CID/ they leave the site; ` + hugoAbs,
		`index.html: 1 link(s) lead to the site's web address (e.g. "https://harbour.example.net/about/"), away from the version published here; ` + hugoOwn,
		`moved.html: 1 link(s) start with / (e.g. "/posts/tide-tables/"): under /ipfs/CID/ they leave the site; ` + hugoAbs,
		`posts/tide-tables/index.html: <base href="/"> makes every relative link lead there; remove the <base> element from the template`,
		`posts/tide-tables/index.html: 1 link(s) lead to the site's web address (e.g. "//harbour.example.net/posts/"), away from the version published here; ` + hugoOwn,
		`posts/tide-tables/index.html: 1 link(s) start with / (e.g. "/css/main.css"): under /ipfs/CID/ they leave the site; ` + hugoAbs,
	}, warningLines(fc))

	fc = checkFolder(t, "absolute", true)
	require.Equal(t, 4, fc.Pages, "with hidden files published, they are read")

	fc = checkFolder(t, "relative", false)
	require.Empty(t, fc.Warnings, "page-relative links work under any prefix")
	require.Equal(t, "", fc.Generator)

	fc = checkFolder(t, "nested-output", false)
	require.Equal(t, []string{
		`.: there is no index.html at the top: a gateway shows a list of the files instead of a page; publish the folder the generator wrote the site to (Hugo: public/, Jekyll: _site/, Eleventy: _site/, Zola: public/)`,
	}, warningLines(fc))
}

// TestCheckFolderOfIslandsOwnBuild: what island builds has no link that
// breaks under /ipfs/CID/; its 404 page's root-absolute links are for the
// origins _redirects serves it on.
func TestCheckFolderOfIslandsOwnBuild(t *testing.T) {
	for _, dir := range []string{filepath.Join("testdata", "site"), hugoFixture} {
		fc, err := CheckFolder(context.Background(), mustBuild(t, testConfig(t, dir)).FS(), false)
		require.NoError(t, err)
		require.Empty(t, fc.Warnings, dir)
		require.Positive(t, fc.Pages)
	}
	fsys := fstest.MapFS{
		"index.html":   {Data: []byte(`<a href="x/">x</a>`)},
		"missing.html": {Data: []byte(`<a href="/">home</a>`)},
		"_redirects":   {Data: []byte("# comment\n/old /new 301\n/* /missing.html 404\n")},
	}
	fc, err := CheckFolder(context.Background(), fsys, false)
	require.NoError(t, err)
	require.Empty(t, fc.Warnings, "the 404 rule's page is served at the root of its origin")
}

func TestCheckFolderBoundsWarnings(t *testing.T) {
	fsys := fstest.MapFS{"index.html": {Data: []byte(`<a href="/">home</a>`)}}
	for i := range MaxFolderWarnings + 7 {
		fsys[filepath.ToSlash(filepath.Join("p", string(rune('a'+i%26))+string(rune('a'+i/26)), "index.html"))] = &fstest.MapFile{Data: []byte(`<img src="/x.png">`)}
	}
	fc, err := CheckFolder(context.Background(), fsys, false)
	require.NoError(t, err)
	require.Len(t, fc.Warnings, MaxFolderWarnings)
	require.Equal(t, 8, fc.More)
	require.Equal(t, MaxFolderWarnings+8, fc.Pages)
}
