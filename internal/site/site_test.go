package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/islandsite/island/internal/testutil"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the fixture site")

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.CleanupCorpora()
	os.Exit(code)
}

// testNow is the fixed "now" of every test build: the fixture's post dated
// 2999 is in its future, everything else in its past.
var testNow = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func testConfig(t testing.TB, dir string) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.ContentDir = dir
	cfg.Now = testNow
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

func mustBuild(t testing.TB, cfg Config) *Bundle {
	t.Helper()
	b, err := Build(context.Background(), cfg)
	require.NoError(t, err)
	return b
}

// readAll returns every file of a bundle by path.
func readAll(t testing.TB, b *Bundle) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range b.Files() {
		r, err := f.Open()
		require.NoError(t, err)
		data, err := io.ReadAll(r)
		require.NoError(t, err)
		require.NoError(t, r.Close())
		require.EqualValues(t, f.Size, len(data), f.Path)
		out[f.Path] = data
	}
	return out
}

// requireSameFiles requires got to have the files of want, a complete
// bundle, with their bytes; a page got reused from a cache file, which
// keeps no page bytes, must have the digest and size of want's.
func requireSameFiles(t testing.TB, want, got *Bundle) {
	t.Helper()
	wantData := readAll(t, want)
	var paths []string
	for _, f := range got.Files() {
		paths = append(paths, f.Path)
		w, ok := wantData[f.Path]
		require.True(t, ok, "%s is not in the full build", f.Path)
		if !f.absent {
			require.Equal(t, string(w), string(readFile(t, f)), "%s differs from a full build", f.Path)
			continue
		}
		sum := sha256.Sum256(w)
		require.Equal(t, sum, f.digest, "%s (reused from the cache file) differs from a full build", f.Path)
		require.EqualValues(t, len(w), f.Size, f.Path)
	}
	require.ElementsMatch(t, slices.Collect(maps.Keys(wantData)), paths)
}

func readFile(t testing.TB, f File) []byte {
	t.Helper()
	r, err := f.Open()
	require.NoError(t, err)
	defer r.Close()
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	return data
}

func TestGolden(t *testing.T) {
	b := mustBuild(t, testConfig(t, filepath.Join("testdata", "site")))
	compareGolden(t, b, filepath.Join("testdata", "golden"))
	require.Equal(t, 12, b.Pages())
	require.Equal(t, 2, b.StaticFiles())
	checkLinksIndependently(t, b)
}

func TestDraftsAndFuture(t *testing.T) {
	tests := []struct {
		name          string
		drafts, fut   bool
		draft, future bool
	}{
		{"neither", false, false, false, false},
		{"drafts", true, false, true, false},
		{"future", false, true, false, true},
		{"both", true, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, filepath.Join("testdata", "site"))
			cfg.Drafts, cfg.Future = tt.drafts, tt.fut
			files := readAll(t, mustBuild(t, cfg))
			_, draft := files["posts/003-draft/index.html"]
			_, future := files["posts/004-future/index.html"]
			require.Equal(t, tt.draft, draft)
			require.Equal(t, tt.future, future)
			require.Equal(t, tt.draft, bytes.Contains(files["posts/index.html"], []byte("A draft")))
			require.Equal(t, tt.draft, bytes.Contains(files["sitemap.xml"], []byte("posts/003-draft/")))
			require.Equal(t, tt.future, bytes.Contains(files["atom.xml"], []byte("From the future")))
		})
	}
}

// hrefRE finds link targets in HTML the way a browser sees them; the test
// does not share the builder's own scanner.
var (
	hrefRE = regexp.MustCompile(`(?:href|src)="([^"]*)"`)
	idRE   = regexp.MustCompile(`\sid="([^"]*)"`)
)

// checkLinksIndependently resolves every href and src of every page as a
// browser would, from the page's own URL, and requires that each internal
// one is page-relative and reaches a file (and, with a fragment, an id).
func checkLinksIndependently(t *testing.T, b *Bundle) {
	t.Helper()
	fsys := b.FS()
	ids := func(p string) map[string]bool {
		data, err := fs.ReadFile(fsys, p)
		require.NoError(t, err)
		m := map[string]bool{}
		for _, sm := range idRE.FindAllSubmatch(data, -1) {
			m[htmlUnescape(string(sm[1]))] = true
		}
		return m
	}
	checked := 0
	require.NoError(t, fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") || p == notFoundPath {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		require.NoError(t, err)
		for _, sm := range hrefRE.FindAllSubmatch(data, -1) {
			raw := htmlUnescape(string(sm[1]))
			u, err := url.Parse(raw)
			require.NoError(t, err, "%s: %q", p, raw)
			if u.Scheme != "" || u.Host != "" {
				continue
			}
			require.False(t, strings.HasPrefix(u.Path, "/"), "%s: link %q is not page-relative", p, raw)
			target := p
			if u.Path != "" {
				target = path.Join(path.Dir(p), u.Path)
				require.False(t, strings.HasPrefix(target, ".."), "%s: link %q leaves the site", p, raw)
				if st, err := fs.Stat(fsys, target); err == nil && st.IsDir() {
					require.True(t, strings.HasSuffix(u.Path, "/") || u.Path == ".", "%s: link %q to a directory lacks its slash", p, raw)
					target = path.Join(target, "index.html")
				}
			}
			_, err = fs.Stat(fsys, target)
			require.NoError(t, err, "%s: link %q reaches nothing", p, raw)
			if u.Fragment != "" && strings.HasSuffix(target, ".html") {
				require.True(t, ids(target)[u.Fragment], "%s: link %q: no id %q in %s", p, raw, u.Fragment, target)
			}
			checked++
		}
		return nil
	}))
	require.Positive(t, checked)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#34;", `"`, "&quot;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

func TestCorpusBuildsAndEveryLinkResolves(t *testing.T) {
	dir := testutil.Corpus(t, 200, 5)
	b := mustBuild(t, testConfig(t, dir))
	// 200 posts, home, 404, posts/, tags/ and one page per tag.
	require.Equal(t, 200+4+10, b.Pages())
	require.Equal(t, 5, b.StaticFiles())
	checkLinksIndependently(t, b)
	files := readAll(t, b)
	post := string(files["posts/00003/index.html"])
	require.Contains(t, post, `href="../00010/"`, "a page-relative link stays page-relative")
	require.Contains(t, post, `href="../../img/i003.png"`, "a root-absolute link is made page-relative")
	require.Contains(t, post, `<span class="kd">func</span>`, "code is highlighted with classes")
	require.Contains(t, post, `id="fn:1"`, "footnotes are rendered")
	require.Contains(t, post, "<table>", "tables are rendered")
}

func TestDeterministic(t *testing.T) {
	dir := testutil.Corpus(t, 200, 5)
	cfg := testConfig(t, dir)
	cfg.Workers = 1
	one := readAll(t, mustBuild(t, cfg))
	cfg.Workers = 3
	three := readAll(t, mustBuild(t, cfg))
	require.Equal(t, slices.Sorted(maps.Keys(one)), slices.Sorted(maps.Keys(three)))
	for p := range one {
		require.True(t, bytes.Equal(one[p], three[p]), "%s differs between two builds of the same input", p)
	}
}

func TestFS(t *testing.T) {
	b := mustBuild(t, testConfig(t, filepath.Join("testdata", "site")))
	var names []string
	for _, f := range b.Files() {
		names = append(names, f.Path)
	}
	require.NoError(t, fstest.TestFS(b.FS(), names...))
	st, err := fs.Stat(b.FS(), "posts")
	require.NoError(t, err)
	require.Equal(t, fs.ModeDir|0o755, st.Mode())
	require.True(t, st.ModTime().IsZero())
	st, err = fs.Stat(b.FS(), "img/logo.png")
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o644), st.Mode())
	require.True(t, st.ModTime().IsZero())
	logo, err := fs.ReadFile(b.FS(), "img/logo.png")
	require.NoError(t, err)
	disk, err := os.ReadFile(filepath.Join("testdata", "site", "static", "img", "logo.png"))
	require.NoError(t, err)
	require.Equal(t, disk, logo, "static files are copied verbatim")
}

// writeSite makes a content directory from a map of path → contents.
func writeSite(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "content")
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	return dir
}

func post(title, body string) string {
	return "---\ntitle: " + title + "\n---\n\n" + body + "\n"
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // each a line of the error, "DIR/" standing for the content dir
	}{
		{
			name: "broken links, all listed",
			files: map[string]string{
				"posts/x.md": "---\ntitle: X\n---\n\nline 5\n\nline 7\n\nline 9\n\nline 11\n[a link](../nope/) and [another](/img/none.png)\n\n![pic](missing.png)\n",
			},
			want: []string{
				`DIR/posts/x.md:12: link "../nope/": no such page`,
				`DIR/posts/x.md:12: link "/img/none.png": no such file`,
				`DIR/posts/x.md:14: link "missing.png": no such file`,
			},
		},
		{
			name: "broken anchor",
			files: map[string]string{
				"posts/x.md": post("X", "See [y](../y/#nope) and [here](#gone).\n\n## Present\n\n[fine](../y/#there) [fine too](#present)"),
				"posts/y.md": post("Y", "## There"),
			},
			want: []string{
				`DIR/posts/x.md:5: link "#gone": posts/x/ has no heading or element with id "gone"`,
				`DIR/posts/x.md:5: link "../y/#nope": posts/y/ has no heading or element with id "nope"`,
			},
		},
		{
			name:  "broken link to a Markdown source",
			files: map[string]string{"about.md": post("About", "\n[old](posts/old.md#part)")},
			want:  []string{`DIR/about.md:6: link "posts/old.md#part": DIR/posts/old.md does not exist`},
		},
		{
			name: "link to a draft",
			files: map[string]string{
				"posts/a.md": post("A", "[b](b.md)"),
				"posts/b.md": "---\ntitle: B\ndraft: true\n---\n",
			},
			want: []string{`DIR/posts/a.md:5: link "b.md": that page is a draft (build with --drafts to include it)`},
		},
		{
			name:  "bad YAML front matter",
			files: map[string]string{"posts/x.md": "---\ntitle: ok\ntags: [unclosed\n---\nbody\n"},
			want:  []string{`DIR/posts/x.md:3: front matter is not valid YAML: did not find expected ',' or ']'`},
		},
		{
			name:  "wrong types in front matter",
			files: map[string]string{"posts/x.md": "---\ntitle: [a, list]\ndate: yesterday\ndraft: maybe\nweight: heavy\ntags: {a: 1}\n---\n"},
			want: []string{
				`DIR/posts/x.md:2: title: want a single value in quotes, not a list or a mapping`,
				`DIR/posts/x.md:3: date: "yesterday" is not a date; write it as 2024-05-17 or 2024-05-17T09:30:00Z`,
				`DIR/posts/x.md:4: draft: want true or false`,
				`DIR/posts/x.md:5: weight: want a whole number`,
				`DIR/posts/x.md:6: tags: want a list of words, such as [go, p2p]`,
			},
		},
		{
			name:  "bad TOML front matter",
			files: map[string]string{"posts/x.md": "+++\ntitle = \"ok\"\ndate = \n+++\n"},
			want:  []string{`DIR/posts/x.md:3: front matter is not valid TOML: toml: incomplete number`},
		},
		{
			name:  "unclosed front matter",
			files: map[string]string{"index.md": "---\ntitle: x\n\nbody\n"},
			want:  []string{`DIR/index.md:1: front matter opened with "---" is never closed; end it with a line holding only "---"`},
		},
		{
			name:  "unknown layout",
			files: map[string]string{"posts/x.md": "---\ntitle: X\nlayout: talk\n---\n"},
			want:  []string{`DIR/posts/x.md:3: layout "talk": no such layout; add content/layouts/talk.html or use one of: 404, home, page, post, posts, section, tag, tags, term, terms`},
		},
		{
			name: "duplicate slug",
			files: map[string]string{
				"posts/a.md": post("A", ""),
				"posts/b.md": "---\ntitle: B\nslug: a\n---\n",
			},
			want: []string{`DIR/posts/b.md:3: slug "a" is also used by DIR/posts/a.md; give one of them another ` + "`slug:`" + ` in its front matter or rename a file`},
		},
		{
			name:  "bad slug",
			files: map[string]string{"posts/a.md": "---\nslug: a/b\n---\n"},
			want:  []string{`DIR/posts/a.md:2: slug "a/b": use only letters, digits, '-', '_' and '.', e.g. "a-b"`},
		},
		{
			name:  "page on a reserved path",
			files: map[string]string{"tags.md": post("Tags", ""), "feed.md": "---\nslug: atom.xml\n---\n"},
			want: []string{
				`DIR/feed.md:2: its page would be at atom.xml/, which the site itself uses; rename the file or set another ` + "`slug:`",
				`DIR/tags.md: its page would be at tags/, which the site itself uses; rename the file or set another ` + "`slug:`",
			},
		},
		{
			name:  "not UTF-8",
			files: map[string]string{"posts/x.md": "---\ntitle: x\n---\nbad \xff byte\n"},
			want:  []string{`DIR/posts/x.md:4: not valid UTF-8; save the file as UTF-8`},
		},
		{
			name:  "static file replacing a generated one",
			files: map[string]string{"static/index.html": "<p>mine</p>", "static/css/site.css": "x"},
			want: []string{
				`DIR/static/css/site.css: would replace css/site.css made by the generated site; remove or rename it (the theme is changed in content/layouts/)`,
				`DIR/static/index.html: would replace index.html made by the generated site; remove or rename it (the theme is changed in content/layouts/)`,
			},
		},
		{
			name:  "broken layout template",
			files: map[string]string{"layouts/post.html": "{{define \"main\"}}\n{{.Nope\n{{end}}"},
			want:  []string{`DIR/layouts/post.html:3: layout: template: post.html:3: unexpected "{" in operand`},
		},
		{
			name: "broken link in a layout",
			files: map[string]string{
				"layouts/post.html": "{{define \"main\"}}\n<a href=\"/nope/\">x</a>{{.Page.Content}}\n{{end}}",
				"posts/a.md":        post("A", ""),
				"posts/b.md":        post("B", ""),
			},
			want: []string{`DIR/layouts/post.html:2: link "/nope/" on posts/a/ and 1 other pages: no such page`},
		},
		{
			name:  "broken link in raw HTML",
			files: map[string]string{"index.md": "---\ntitle: Home\n---\n\n<img src=\"/nope.png\">\n"},
			want:  []string{`DIR/index.md:5: link "/nope.png": no such file`},
		},
		{
			name:  "unknown key in site.toml",
			files: map[string]string{"site.toml": "title = \"x\"\ntheme = \"dark\"\n"},
			want:  []string{`DIR/site.toml:2: unknown key "theme"; the keys are title, author, description, language, base_url and lifetime`},
		},
		{
			name:  "record lifetime too short",
			files: map[string]string{"site.toml": "title = \"T\"\nlifetime = \"10m\"\n", "index.md": post("Home", "hi")},
			want:  []string{`DIR/site.toml:2: lifetime 10m0s: a record valid for less than an hour would expire between republishes; want 1h or more (the default is 35d)`},
		},
		{
			name:  "not a layout",
			files: map[string]string{"layouts/notes.txt": "x"},
			want:  []string{`DIR/layouts/notes.txt: not a layout: content/layouts/ holds .html templates (base.html, home.html, post.html, page.html, posts.html, tags.html, tag.html, 404.html, section.html, terms.html, term.html or a new layout) and site.css`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { requireBuildError(t, writeSite(t, tt.files), tt.want) })
	}
}

// requireBuildError builds dir and requires exactly the problems want,
// one line each, "DIR/" standing for dir.
func requireBuildError(t *testing.T, dir string, want []string) {
	t.Helper()
	_, err := Build(context.Background(), testConfig(t, dir))
	var be *BuildError
	require.ErrorAs(t, err, &be)
	require.Equal(t, strings.ReplaceAll(strings.Join(want, "\n"), "DIR/", dir+string(filepath.Separator)), err.Error())
}

func TestMissingContentDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nothing")
	_, err := Build(context.Background(), testConfig(t, dir))
	var be *BuildError
	require.ErrorAs(t, err, &be)
	require.Equal(t, dir+": no such content directory; create it (with posts/ and an index.md) or pass --content DIR", err.Error())
}

func TestLayoutOverrides(t *testing.T) {
	dir := writeSite(t, map[string]string{
		"layouts/talk.html": "{{define \"main\"}}<div class=\"talk\">{{.Page.Title}}: {{.Page.Content}}</div><a href=\"{{.Rel \"tags/\"}}\">tags</a>{{end}}",
		"layouts/site.css":  "body { color: red; }",
		"layouts/base.html": "<!doctype html><title>{{.Title}}</title><link rel=stylesheet href=\"{{.Rel \"css/site.css\"}}\">{{template \"main\" .}}",
		"posts/a.md":        "---\ntitle: A talk\nlayout: talk\n---\nslides",
		"posts/b.md":        post("B", "plain"),
	})
	files := readAll(t, mustBuild(t, testConfig(t, dir)))
	require.Equal(t, "body { color: red; }", string(files["css/site.css"]))
	require.Contains(t, string(files["posts/a/index.html"]), `<div class="talk">A talk: <p>slides</p>`)
	require.Contains(t, string(files["posts/a/index.html"]), `<a href="../../tags/">tags</a>`)
	require.True(t, strings.HasPrefix(string(files["posts/b/index.html"]), "<!doctype html><title>B</title>"))
}

func TestNoContentFilesStillBuilds(t *testing.T) {
	dir := writeSite(t, map[string]string{"posts/only.md": "just text, no front matter\n"})
	files := readAll(t, mustBuild(t, testConfig(t, dir)))
	require.Contains(t, string(files["index.html"]), "<title>My island</title>")
	require.Contains(t, string(files["posts/only/index.html"]), "<h1>only</h1>")
	require.Contains(t, string(files["posts/index.html"]), "just text, no front matter")
}

func TestWriteDir(t *testing.T) {
	b := mustBuild(t, testConfig(t, filepath.Join("testdata", "site")))
	parent := t.TempDir()
	out := filepath.Join(parent, "public")

	require.NoError(t, WriteDir(b, out))
	requireTreeEquals(t, b, out)

	// A second write replaces the first and leaves nothing else behind.
	require.NoError(t, os.WriteFile(filepath.Join(out, "stale.html"), []byte("old"), 0o644))
	require.NoError(t, WriteDir(b, out))
	requireTreeEquals(t, b, out)
	ents, err := os.ReadDir(parent)
	require.NoError(t, err)
	require.Len(t, ents, 1, "no temporary directory is left beside the output")

	st, err := os.Stat(filepath.Join(out, "posts"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o755), st.Mode().Perm())
}

func TestWriteDirFailureKeepsPreviousOutput(t *testing.T) {
	content := writeSite(t, map[string]string{"posts/a.md": post("A", ""), "static/big.bin": "payload"})
	b := mustBuild(t, testConfig(t, content))
	parent := t.TempDir()
	out := filepath.Join(parent, "public")
	require.NoError(t, WriteDir(b, out))
	before, err := os.ReadFile(filepath.Join(out, "index.html"))
	require.NoError(t, err)

	// The static file vanishes between the build and the write.
	require.NoError(t, os.Remove(filepath.Join(content, "static", "big.bin")))
	require.Error(t, WriteDir(b, out))
	after, err := os.ReadFile(filepath.Join(out, "index.html"))
	require.NoError(t, err)
	require.Equal(t, before, after)
	data, err := os.ReadFile(filepath.Join(out, "big.bin"))
	require.NoError(t, err)
	require.Equal(t, "payload", string(data))
	ents, err := os.ReadDir(parent)
	require.NoError(t, err)
	require.Len(t, ents, 1, "the failed write's temporary directory is removed")
}

func TestWriteDirRefusesToReplaceOtherData(t *testing.T) {
	content := writeSite(t, map[string]string{"posts/a.md": post("A", "")})
	b := mustBuild(t, testConfig(t, content))

	notBuild := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(notBuild, "thesis.tex"), []byte("precious"), 0o644))
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))

	tests := []struct{ name, out, want string }{
		{"a directory that is not a build", notBuild, "not a previous build"},
		{"the content directory", content, "overlap"},
		{"a parent of the content", filepath.Dir(content), "overlap"},
		{"inside the content", filepath.Join(content, "public"), "overlap"},
		{"a file", file, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteDir(b, tt.out)
			require.ErrorContains(t, err, tt.want)
		})
	}
	data, err := os.ReadFile(filepath.Join(notBuild, "thesis.tex"))
	require.NoError(t, err)
	require.Equal(t, "precious", string(data))
}

func requireTreeEquals(t *testing.T, b *Bundle, dir string) {
	t.Helper()
	want := readAll(t, b)
	got := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		got[filepath.ToSlash(rel)] = data
		st, _ := d.Info()
		require.Equal(t, fs.FileMode(0o644), st.Mode().Perm(), p)
		return err
	}))
	require.Equal(t, want, got)
}

func TestStyleSheet(t *testing.T) {
	css := StyleSheet()
	require.Contains(t, string(css), "prefers-color-scheme: dark")
	b := mustBuild(t, testConfig(t, filepath.Join("testdata", "site")))
	data, err := fs.ReadFile(b.FS(), siteCSSPath)
	require.NoError(t, err)
	require.Equal(t, css, data)
	syntax, err := fs.ReadFile(b.FS(), syntaxCSS)
	require.NoError(t, err)
	require.Contains(t, string(syntax), "@media (prefers-color-scheme: dark)")
	notFound, err := fs.ReadFile(b.FS(), notFoundPath)
	require.NoError(t, err)
	require.Contains(t, string(notFound), "<style>"+string(css)+"</style>",
		"404.html, served at any depth, carries its CSS inline")
}

func TestBuildHonoursCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Build(ctx, testConfig(t, filepath.Join("testdata", "site")))
	require.ErrorIs(t, err, context.Canceled)
	var be *BuildError
	require.False(t, errors.As(err, &be))
}

func TestRepeatedCodeIsHighlightedAlike(t *testing.T) {
	code := "```go\nfunc f() error { return nil }\n```\n"
	dir := writeSite(t, map[string]string{
		"posts/a.md": post("A", code),
		"posts/b.md": post("B", code),
		"posts/c.md": post("C", "```Go\nfunc f() error { return nil }\n```\n\n```text\nplain <b>\n```"),
	})
	files := readAll(t, mustBuild(t, testConfig(t, dir)))
	pre := func(p string) string {
		s := string(files[p])
		return s[strings.Index(s, "<pre"):strings.Index(s, "</pre>")]
	}
	require.Contains(t, pre("posts/a/index.html"), `<span class="kd">func</span>`)
	require.Equal(t, pre("posts/a/index.html"), pre("posts/b/index.html"))
	require.Equal(t, pre("posts/a/index.html"), pre("posts/c/index.html"), "language names are case-insensitive")
	require.Contains(t, string(files["posts/c/index.html"]), "plain &lt;b&gt;")
}

func TestLayoutsMayReadOtherPages(t *testing.T) {
	// Every layout runs after all Markdown is rendered: under -race this
	// guards against a layout reading what another goroutine still writes.
	files := map[string]string{
		"layouts/post.html": "{{define \"main\"}}{{.Page.Content}}{{with .Next}}<aside>{{.Summary}}|{{.Content}}</aside>{{end}}{{end}}",
	}
	for i := range 20 {
		files["posts/p"+string(rune('a'+i))+".md"] = fmt.Sprintf("---\ntitle: P%d\nweight: %d\n---\nBody %d.\n", i, i+1, i)
	}
	out := readAll(t, mustBuild(t, testConfig(t, writeSite(t, files))))
	require.Contains(t, string(out["posts/pa/index.html"]), "<aside>Body 1.|<p>Body 1.</p>\n</aside>")
}
