package site

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRelPath(t *testing.T) {
	tests := []struct {
		from, to string
		dir      bool
		want     string
	}{
		{"", "", true, "./"},
		{"", "posts", true, "posts/"},
		{"posts/x", "posts/y", true, "../y/"},
		{"posts/x", "posts", true, "../"},
		{"posts/x", "", true, "../../"},
		{"posts/x", "posts/x", true, "./"},
		{"posts/x", "img/a.png", false, "../../img/a.png"},
		{"posts/x", "posts/x/a.png", false, "a.png"},
		{"tags/café", "tags/café", true, "./"},
		{"", "tags/café", true, "tags/caf%C3%A9/"},
		{"", "a b/c:d.png", false, "a%20b/c%3Ad.png"},
		{"postsx", "posts/y", true, "../posts/y/"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, relPath(tt.from, tt.to, tt.dir), "%q → %q", tt.from, tt.to)
	}
}

func TestResolve(t *testing.T) {
	a := &page{src: "posts/a.md", dir: "posts/a", kind: kindPost}
	home := &page{src: "index.md", dir: "", kind: kindHome}
	r := &resolver{
		files: map[string]bool{
			"index.html": true, "posts/a/index.html": true, "posts/index.html": true,
			"img/a b.png": true, "docs/guide.html": true, "tags/café/index.html": true,
		},
		sources:    map[string]*page{"posts/a.md": a, "index.md": home},
		excluded:   map[string]string{"posts/draft.md": "a draft", "posts/draft": "a draft"},
		contentDir: "content",
	}
	at := loc{dir: "posts/a", file: "posts/a/index.html", src: "posts/a.md"}
	tests := []struct {
		raw     string
		href    string
		target  string
		frag    string
		problem string
		rewrite bool
	}{
		{raw: "../a/", href: "./", target: "posts/a/index.html"},
		{raw: "../a", href: "./", target: "posts/a/index.html"},
		{raw: "./", href: "./", target: "posts/a/index.html"},
		{raw: "/", href: "../../", target: "index.html", rewrite: true},
		{raw: "/posts/a/#x", href: "./#x", target: "posts/a/index.html", frag: "x", rewrite: true},
		{raw: "a.md?q=1#part", href: "./?q=1#part", target: "posts/a/index.html", frag: "part", rewrite: true},
		{raw: "../index.md", href: "../../", target: "index.html", rewrite: true},
		{raw: "/img/a%20b.png", href: "../../img/a%20b.png", target: "img/a b.png", rewrite: true},
		{raw: "../static/img/a b.png", href: "../../img/a%20b.png", target: "img/a b.png", rewrite: true},
		{raw: "/tags/caf%C3%A9/", href: "../../tags/caf%C3%A9/", target: "tags/café/index.html", rewrite: true},
		{raw: "/tags/café/", href: "../../tags/caf%C3%A9/", target: "tags/café/index.html", rewrite: true},
		{raw: "#caf%C3%A9", href: "#caf%C3%A9", target: "posts/a/index.html", frag: "café"},
		{raw: "../../docs/guide.html#install", href: "../../docs/guide.html#install", target: "docs/guide.html", frag: "install"},
		{raw: "../nope/", problem: "no such page"},
		{raw: "nope.png", problem: "no such file"},
		{raw: "draft.md", problem: "that page is a draft", rewrite: true},
		{raw: "../../../x/", problem: "goes above the site's root"},
		{raw: "../../../x.md", problem: "points outside the content directory", rewrite: true},
		{raw: "gone.md", problem: "content/posts/gone.md does not exist", rewrite: true},
		{raw: "%zz", problem: "not a valid URL path (write a literal '%' as %25)"},
	}
	for _, tt := range tests {
		got := r.resolve(at, tt.raw)
		require.False(t, got.external, tt.raw)
		require.Equal(t, tt.problem, got.problem, tt.raw)
		if tt.problem != "" {
			continue
		}
		require.Equal(t, tt.href, got.href, tt.raw)
		require.Equal(t, tt.target, got.target, tt.raw)
		require.Equal(t, tt.frag, got.frag, tt.raw)
		require.Equal(t, tt.rewrite, got.rewrite, tt.raw)
	}
	for _, ext := range []string{"https://example.org/", "mailto:a@b.c", "//cdn.example/x.js", "data:image/png;base64,AA", " ", ""} {
		require.True(t, r.resolve(at, ext).external, ext)
	}
}

func TestScanHTML(t *testing.T) {
	html := `<!doctype html><!-- <a href="/c"> --><A HREF='/x' id=top>t</A><img src = "y.png" alt="a > b">` +
		`<script>var s = '<a href="/s">';</script><style>a[href="/t"]{}</style><a name="old" href="#top">` +
		`<p data-x="1" hidden>x</p><a href=/unquoted>u</a>`
	type attr struct{ tag, name, val string }
	var got []attr
	scanHTML([]byte(html), func(tag, name []byte, vs, ve int) {
		got = append(got, attr{string(tag), string(name), html[vs:ve]})
	})
	require.Equal(t, []attr{
		{"A", "HREF", "/x"}, {"A", "id", "top"},
		{"img", "src", "y.png"}, {"img", "alt", "a > b"},
		{"a", "name", "old"}, {"a", "href", "#top"},
		{"p", "data-x", "1"},
		{"a", "href", "/unquoted"},
	}, got, "comments and the insides of script and style are skipped")
}
