package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// incSite is a content directory edited step by step, built after each
// step both by one Builder and by a fresh Build.
type incSite struct {
	t   *testing.T
	dir string
	b   *Builder
	// mtime is the time every write sets: an hour ago, a second later at
	// every step, so that stamps are settled (trusted) and still change.
	mtime time.Time
	// cacheFile, when set, makes every build a new Builder started from
	// the cache file the previous one saved, as `island publish` does.
	cacheFile string
	// stamped makes every build use the stats SourceStamps took before
	// it, as `island publish` does.
	stamped bool
}

// throughCacheFile makes every build start from the last one's cache file.
func (s *incSite) throughCacheFile() {
	s.cacheFile = filepath.Join(s.t.TempDir(), "render-cache")
}

// builder is the Builder of the next build.
func (s *incSite) builder() *Builder {
	s.t.Helper()
	if s.cacheFile == "" {
		return s.b
	}
	b := NewBuilder(testConfig(s.t, s.dir))
	b.cache.clock = s.b.cache.clock
	if _, err := os.Stat(s.cacheFile); err == nil {
		require.NoError(s.t, b.LoadCache(s.cacheFile, "test"))
	}
	return b
}

func newIncSite(t *testing.T, files map[string]string) *incSite {
	t.Helper()
	s := &incSite{t: t, dir: filepath.Join(t.TempDir(), "content"), mtime: time.Now().Add(-time.Hour).Truncate(time.Second)}
	for name, data := range files {
		s.write(name, data)
	}
	s.b = NewBuilder(testConfig(t, s.dir))
	// Builds run as if long after every write, so that unchanged stamps
	// are trusted and files are not read again: every write in a step
	// gets the step's own mtime, so a changed file's stamp changes.
	s.b.cache.clock = func() time.Time { return time.Now().Add(time.Hour) }
	return s
}

func (s *incSite) write(name, data string) {
	s.t.Helper()
	p := filepath.Join(s.dir, filepath.FromSlash(name))
	require.NoError(s.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(s.t, os.WriteFile(p, []byte(data), 0o644))
	require.NoError(s.t, os.Chtimes(p, s.mtime, s.mtime))
}

func (s *incSite) edit(name, old, new string) {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(name)))
	require.NoError(s.t, err)
	require.Contains(s.t, string(data), old)
	s.write(name, strings.Replace(string(data), old, new, 1))
}

func (s *incSite) remove(name string) {
	s.t.Helper()
	require.NoError(s.t, os.Remove(filepath.Join(s.dir, filepath.FromSlash(name))))
}

// build builds incrementally and from scratch and requires the same
// result: the same files with the same bytes, or the same problems.
func (s *incSite) build() (*Bundle, error) {
	s.t.Helper()
	s.mtime = s.mtime.Add(time.Second)
	b := s.builder()
	if s.stamped {
		_, stats, err := SourceStamps(s.dir)
		require.NoError(s.t, err)
		b.UseStats(stats)
	}
	inc, incErr := b.Build(context.Background())
	if s.cacheFile != "" {
		saveCache(s.t, b, s.cacheFile, "test")
	}
	full, fullErr := Build(context.Background(), testConfig(s.t, s.dir))
	if fullErr != nil {
		var be *BuildError
		require.ErrorAs(s.t, fullErr, &be)
		require.Error(s.t, incErr, "the full build fails with:\n%v", fullErr)
		require.Equal(s.t, fullErr.Error(), incErr.Error())
		return nil, incErr
	}
	require.NoError(s.t, incErr)
	requireSameFiles(s.t, full, inc)
	require.Equal(s.t, full.Pages(), inc.Pages())
	require.Equal(s.t, full.StaticFiles(), inc.StaticFiles())
	return inc, nil
}

func incPost(title, date, tags, body string) string {
	return fmt.Sprintf("---\ntitle: %s\ndate: %s\ntags: [%s]\n---\n%s\n", title, date, tags, body)
}

// TestBuilderMatchesFullBuild edits a site step by step and requires the
// Builder's bundle to equal a fresh Build's each time, with one Builder
// kept in memory and with a new Builder per step started from the cache
// file of the one before.
func TestBuilderMatchesFullBuild(t *testing.T) {
	for _, tc := range []struct {
		name             string
		viaFile, stamped bool
	}{{"in memory", false, false}, {"through a cache file", true, false}, {"through a cache file, stats from the stamp", true, true}} {
		t.Run(tc.name, func(t *testing.T) { testBuilderMatchesFullBuild(t, tc.viaFile, tc.stamped) })
	}
}

func testBuilderMatchesFullBuild(t *testing.T, viaFile, stamped bool) {
	s := newIncSite(t, map[string]string{
		"site.toml":         "title = \"Inc\"\nauthor = \"Ann\"\n",
		"index.md":          "Welcome. Start with [the first post](posts/a.md).\n",
		"about.md":          "---\ntitle: About\n---\nAbout me. See [notes](/notes.html#top) and [b](posts/b.md#part).\n",
		"posts/a.md":        incPost("A", "2024-01-01", "go, p2p", "First. Next is [B](b.md).\n\n![x](/img/x.png)"),
		"posts/b.md":        incPost("B", "2024-02-01", "go", "Second.\n\n## Part\n\nA part. Back to [A](a.md)."),
		"posts/c.md":        incPost("C", "2024-03-01", "p2p", "Third links to [D's part](d.md#part).\n\n```go\nfunc c() {}\n```"),
		"posts/d.md":        incPost("D", "2024-04-01", "quic", "Fourth.\n\n## Part\n\nHere."),
		"posts/e.md":        incPost("E", "2024-05-01", "", "Fifth, with no tags."),
		"static/img/x.png":  "PNG",
		"static/notes.html": "<p id=\"n\">notes</p>",
	})
	if viaFile {
		s.throughCacheFile()
	}
	s.stamped = stamped
	_, err := s.build()
	require.NoError(t, err)

	s.steps([]incStep{
		{"nothing changed", func() {}, ""},
		{"touched without a change", func() { s.edit("posts/b.md", "Second.", "Second.") }, ""},
		{"a body", func() { s.edit("posts/b.md", "Second.", "Second, longer now.") }, ""},
		{"a title", func() { s.edit("posts/a.md", "title: A", "title: A, retitled") }, ""},
		{"tags", func() { s.edit("posts/e.md", "tags: []", "tags: [go, rust]") }, ""},
		{"a date", func() { s.edit("posts/e.md", "date: 2024-05-01", "date: 2023-12-01") }, ""},
		{"a date with a zone", func() { s.edit("posts/e.md", "date: 2023-12-01", "date: 2024-05-01T09:30:00+02:00") }, ""},
		{"a post added", func() { s.write("posts/f.md", incPost("F", "2024-06-01", "rust", "Sixth, see [E](e.md).")) }, ""},
		{"a post deleted", func() { s.remove("posts/a.md") }, "posts/a.md does not exist"},
		{"the links fixed", func() {
			s.edit("index.md", "posts/a.md", "posts/b.md")
			s.edit("posts/b.md", "[A](a.md)", "[C](c.md)")
		}, ""},
		{"a fragment broken", func() { s.edit("posts/d.md", "## Part", "## Whole") }, `has no heading or element with id "part"`},
		{"the fragment fixed", func() { s.edit("posts/c.md", "d.md#part", "d.md#whole") }, ""},
		{"a slug changed", func() { s.edit("posts/b.md", "title: B", "title: B\nslug: bee") }, ""},
		{"a draft linked to", func() { s.edit("posts/d.md", "title: D", "title: D\ndraft: true") }, "that page is a draft"},
		{"the draft published", func() { s.edit("posts/d.md", "draft: true", "draft: false") }, ""},
		{"a page added to the navigation", func() { s.write("colophon.md", "---\ntitle: Colophon\nweight: 1\n---\nMade with island.") }, ""},
		{"a layout override", func() {
			s.write("layouts/post.html", `{{define "main"}}<article>{{.Page.Content}}</article><p>{{len .Page.Tags}} tags</p>{{end}}`)
		}, ""},
		{"a layout linking nowhere", func() {
			s.write("layouts/post.html", `{{define "main"}}{{.Page.Content}}<a href="{{.Rel "nowhere/"}}">x</a>{{end}}`)
		}, "no such page"},
		{"the layout removed", func() { s.remove("layouts/post.html") }, ""},
		// A list layout that shows its posts' content is executed again
		// when a body changes; island's own lists are not (their key
		// leaves the content out), and both give a full build's bytes.
		{"a list layout showing content", func() {
			s.write("layouts/posts.html", `{{define "main"}}{{range .Posts}}{{if eq .Title "D"}}<div>{{.Content}}</div>{{end}}{{end}}{{end}}`)
		}, ""},
		{"a body under that layout", func() { s.edit("posts/d.md", "Here.", "Here, now.") }, ""},
		{"the list layout removed", func() { s.remove("layouts/posts.html") }, ""},
		{"a body under island's lists", func() { s.edit("posts/d.md", "Here, now.", "Here.") }, ""},
		{"a new layout selected", func() {
			s.write("layouts/wide.html", `{{define "main"}}<div class="wide">{{.Page.Content}}</div>{{end}}`)
			s.edit("posts/c.md", "title: C", "title: C\nlayout: wide")
		}, ""},
		{"the stylesheet", func() { s.write("layouts/site.css", "body { color: red; }") }, ""},
		{"site.toml", func() { s.write("site.toml", "title = \"Renamed\"\nbase_url = \"https://example.org/\"\n") }, ""},
		{"bad front matter", func() { s.write("posts/g.md", "---\ntitle: [unclosed\n---\nG") }, "posts/g.md"},
		{"the front matter fixed", func() { s.write("posts/g.md", "---\ntitle: G\n---\nG links to [the notes](../static/notes.html#n).") }, ""},
		{"a static file added", func() { s.write("static/img/y.png", "PNG2") }, ""},
		{"a static file changed", func() { s.write("static/notes.html", "<p id=\"m\">moved</p>") }, `has no heading or element with id "n"`},
		{"the static link fixed", func() { s.edit("posts/g.md", "notes.html#n", "notes.html#m") }, ""},
		{"a static file clashing with a page", func() { s.write("static/colophon/index.html", "x") }, "would replace colophon/index.html"},
		{"the clash removed", func() { s.remove("static/colophon/index.html") }, ""},
		{"the home page removed", func() { s.remove("index.md") }, ""},
		// The page layout's link is rewritten when it resolves; the pages
		// using it see the same view whether it does or not.
		{"a layout linking to a static file", func() {
			s.write("layouts/page.html", `{{define "main"}}{{.Page.Content}}<a href="/notes.html">notes</a>{{end}}`)
		}, ""},
		{"the static file removed", func() { s.remove("static/notes.html") }, `page.html:1: link "/notes.html" on colophon/: no such file`},
		{"the static file back", func() { s.write("static/notes.html", "<p id=\"m\">back</p>") }, ""},
		// The link check of a page reused as it was sees again only its
		// links whose check can come out otherwise: a fragment of another
		// page, and one its own page lacks.
		{"a layout linking to another page's heading", func() {
			s.write("layouts/post.html", `{{define "main"}}{{.Page.Content}}<a href="{{.Rel "about/"}}#me">me</a>{{end}}`)
			s.edit("about.md", "About me.", "About me.\n\n## Me\n\nMe.\n")
		}, ""},
		{"that heading renamed", func() { s.edit("about.md", "## Me", "## Myself") }, `has no heading or element with id "me"`},
		{"the heading back", func() { s.edit("about.md", "## Myself", "## Me") }, ""},
		{"a layout linking to a fragment its page lacks", func() {
			s.write("layouts/post.html", `{{define "main"}}{{.Page.Content}}<a href="#nowhere">x</a>{{end}}`)
		}, `has no heading or element with id "nowhere"`},
		{"a body edited under that layout", func() { s.edit("posts/e.md", "Fifth", "The fifth") }, `has no heading or element with id "nowhere"`},
		{"that layout removed", func() { s.remove("layouts/post.html") }, ""},
	})
}

// incStep is one edit of an incSite and what its build must give.
type incStep struct {
	name    string
	edit    func()
	wantErr string // in the problems; "" for a build that succeeds
}

// steps makes each edit in turn and builds after it, both ways.
func (s *incSite) steps(steps []incStep) {
	s.t.Helper()
	for _, st := range steps {
		st.edit()
		_, err := s.build()
		if st.wantErr == "" {
			require.NoError(s.t, err, st.name)
		} else {
			require.ErrorContains(s.t, err, st.wantErr, st.name)
		}
	}
}

// TestBuilderReusesUnchangedPages checks that the Builder is incremental:
// after one post's body changes, the other pages are the very same bytes
// in memory as in the previous bundle (which is also what lets the
// importer skip them), and the changed ones are not.
func TestBuilderReusesUnchangedPages(t *testing.T) {
	files := map[string]string{"index.md": "Home."}
	for i := range 30 {
		files[fmt.Sprintf("posts/p%02d.md", i)] = incPost(fmt.Sprintf("P%d", i), fmt.Sprintf("2024-01-%02d", i+1), fmt.Sprintf("t%d", i%3),
			fmt.Sprintf("Post %d links to [the next](p%02d.md).", i, (i+1)%30))
	}
	s := newIncSite(t, files)
	before, err := s.build()
	require.NoError(t, err)
	s.edit("posts/p10.md", "Post 10 links", "Post ten links")
	after, err := s.build()
	require.NoError(t, err)

	data := func(b *Bundle) map[string][]byte {
		out := map[string][]byte{}
		for _, f := range b.Files() {
			out[f.Path] = f.Data
		}
		return out
	}
	old, cur := data(before), data(after)
	same := func(p string) bool { return len(old[p]) > 0 && &old[p][0] == &cur[p][0] }
	// p10 itself and its neighbours, whose prev/next entries changed; the
	// lists that show it: posts/ and its tag's page (the home page shows
	// only the ten newest). Posts are newest first, so p11 and p09 are
	// p10's neighbours.
	changed := []string{"posts/p10/index.html", "posts/p09/index.html", "posts/p11/index.html",
		"posts/index.html", "tags/t1/index.html"}
	for _, p := range changed {
		require.False(t, same(p), "%s must be made again", p)
	}
	for _, p := range []string{"posts/p00/index.html", "posts/p29/index.html", "posts/p12/index.html", "tags/t0/index.html",
		"tags/index.html", "index.html", "404.html"} {
		require.True(t, same(p), "%s must be reused", p)
	}
	// The versions the importer's cache goes by agree.
	version := func(b *Bundle, p string) any {
		st, err := fs.Stat(b.FS(), p)
		require.NoError(t, err)
		v, ok := st.Sys().(interface{ FileVersion() any })
		require.True(t, ok, "%s has a version", p)
		return v.FileVersion()
	}
	for p := range cur {
		if _, ok := old[p]; ok {
			require.Equal(t, same(p), version(before, p) == version(after, p), "%s: version", p)
		}
	}
}

// TestBuilderNoticesChangesStatMisses: a file rewritten with the same size
// and its mtime put back (cp -p, tar) must still be read again, even when
// its stamp is trusted: ctime tells.
func TestBuilderNoticesChangesStatMisses(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux stamps carry the inode and ctime")
	}
	dir := writeSite(t, map[string]string{"posts/a.md": incPost("A", "2024-01-01", "", "Body one.")})
	file := filepath.Join(dir, "posts", "a.md")
	before, err := os.Stat(file)
	require.NoError(t, err)
	c := &cache{}
	var ps problems
	later := time.Now().Add(racyWindow + time.Second) // as if built a while after the write
	_, first := c.loadPage(dir, "posts/a.md", later, false, &ps)
	require.True(t, first.settled)
	c.keepSources([]*source{first})

	time.Sleep(20 * time.Millisecond) // ctime only moves when the clock ticks
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, bytes.Replace(data, []byte("Body one."), []byte("Body two."), 1), 0o644))
	require.NoError(t, os.Chtimes(file, before.ModTime(), before.ModTime()))
	after, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, before.Size(), after.Size())
	require.Equal(t, before.ModTime(), after.ModTime())

	p, second := c.loadPage(dir, "posts/a.md", later, false, &ps)
	require.NotSame(t, first, second, "the file is read again")
	require.Contains(t, string(p.body), "Body two.")
	require.Empty(t, ps)
}

// TestBuilderRacyFiles: a file changed just before a build is read again
// next time even if its stamp is the same, since a coarse clock may not
// have moved.
func TestBuilderRacyFiles(t *testing.T) {
	dir := writeSite(t, map[string]string{"posts/a.md": incPost("A", "2024-01-01", "", "Body one.")})
	c := &cache{}
	var ps problems
	p, src := c.loadPage(dir, "posts/a.md", time.Now(), false, &ps)
	require.NotNil(t, p)
	require.False(t, src.settled, "a file written just now is not settled")
	c.keepSources([]*source{src})
	p2, src2 := c.loadPage(dir, "posts/a.md", time.Now(), false, &ps)
	require.NotSame(t, src, src2, "an unsettled file is read again")
	require.Same(t, src.parsed, src2.parsed, "and, unchanged, not parsed again")
	require.Equal(t, p.meta.Title, p2.meta.Title)
	later := time.Now().Add(racyWindow + time.Second)
	_, src3 := c.loadPage(dir, "posts/a.md", later, false, &ps)
	require.True(t, src3.settled)
	c.keepSources([]*source{src3})
	_, src4 := c.loadPage(dir, "posts/a.md", later, false, &ps)
	require.Same(t, src3, src4, "a settled, unchanged file is not read")
	require.Empty(t, ps)
}

// TestViewKeyCoversTheView changes every field a layout can reach, one at
// a time, and requires the page key to change: a field the key missed
// would let the Builder reuse a page whose layout would now print
// something else.
func TestViewKeyCoversTheView(t *testing.T) {
	tag := func(n string) *tagView { return &tagView{Name: n, Path: "tags/" + n + "/", Count: 2} }
	ent := func(n string) *entry {
		return &entry{Title: n, Date: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Summary: "s" + n, Path: "posts/" + n + "/",
			Tags: []*tagView{tag("go")}, Content: template.HTML("<p>" + n + "</p>")}
	}
	base := func() *view {
		return &view{
			Site: &siteInfo{Title: "T", Author: "A", Description: "D", Language: "en", BaseURL: "https://x/", Copyright: "C"},
			Kind: "post", Title: "Title", Description: "Desc",
			Nav:  []navItem{{Name: "Home", Path: "", Current: true}},
			Page: ent("p"), Posts: []*entry{ent("q")}, Tags: []*tagView{tag("go")}, Tag: tag("rust"),
			Taxonomy: &taxonomyView{Name: "Tags", Plural: "tags", Singular: "tag", Path: "tags/"}, MainPath: "posts/",
			Prev: ent("prev"), Next: ent("next"), InlineCSS: "body{}", dir: "posts/p",
		}
	}
	keyOf := func(v *view, listContent bool) [sha256.Size]byte {
		for _, e := range append([]*entry{v.Page, v.Prev, v.Next}, v.Posts...) {
			if e != nil {
				h := sha256.Sum256([]byte(e.Content))
				e.key, e.meta = entryKeys(e, h)
			}
		}
		k := newKeyWriter()
		viewKey(k, v, listContent)
		return k.sum()
	}
	key := func(v *view) [sha256.Size]byte { return keyOf(v, true) }
	want := key(base())
	require.Equal(t, want, key(base()), "the key is deterministic")
	wantLists := keyOf(base(), false)
	require.NotEqual(t, want, wantLists)

	// getters reaches every leaf a layout can read from a fresh view, and
	// the length of every slice.
	getters := map[string]func(*view) reflect.Value{}
	var record func(path string, typ reflect.Type, get func(*view) reflect.Value)
	record = func(path string, typ reflect.Type, get func(*view) reflect.Value) {
		switch typ.Kind() {
		case reflect.Pointer:
			record(path, typ.Elem(), func(v *view) reflect.Value { return get(v).Elem() })
		case reflect.Struct:
			if typ == reflect.TypeFor[time.Time]() {
				getters[path] = get
				return
			}
			for i := range typ.NumField() {
				f := typ.Field(i)
				if f.Name == "key" || f.Name == "meta" || f.Name == "lazy" || f.Name == "once" || f.Name == "err" {
					continue // derived from the others, or where Content is read from
				}
				record(path+"."+f.Name, f.Type, func(v *view) reflect.Value { return get(v).Field(i) })
			}
		case reflect.Slice:
			getters[path+"[len]"] = get
			record(path+"[0]", typ.Elem(), func(v *view) reflect.Value { return get(v).Index(0) })
		default:
			getters[path] = get
		}
	}
	record("view", reflect.TypeFor[view](), func(v *view) reflect.Value { return reflect.ValueOf(v).Elem() })
	require.Greater(t, len(getters), 30)
	for path, get := range getters {
		v := base()
		f := get(v)
		f = reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem() // unexported fields too
		switch {
		case strings.HasSuffix(path, "[len]"):
			f.Set(reflect.Append(f, f.Index(0)))
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(f.Interface().(time.Time).Add(time.Hour)))
		case f.Kind() == reflect.String:
			f.SetString(f.String() + "x")
		case f.Kind() == reflect.Bool:
			f.SetBool(!f.Bool())
		case f.Kind() == reflect.Int:
			f.SetInt(f.Int() + 1)
		default:
			t.Fatalf("%s: no way to change a %s; teach the test and viewKey about it", path, f.Type())
		}
		require.NotEqual(t, want, key(v), "changing %s leaves the key as it was; add it to viewKey or entryKeys", path)
		// For a layout that reads no Content of the entries of Posts, all
		// but that Content counts.
		if path == "view.Posts[0].Content" {
			require.Equal(t, wantLists, keyOf(v, false), "%s is not read by such a layout", path)
		} else {
			require.NotEqual(t, wantLists, keyOf(v, false), "changing %s leaves the key as it was", path)
		}
	}
	// A nil pointer is not an empty value.
	v := base()
	v.Prev = nil
	require.NotEqual(t, want, key(v))
}
