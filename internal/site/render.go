package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"html/template"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yuin/goldmark/util"
	"golang.org/x/sync/errgroup"
)

// entry is a page as the templates see it.
type entry struct {
	Title   string
	Date    time.Time // zero when undated
	Summary string
	Path    string // bundle directory with a trailing slash: "posts/x/"
	Tags    []*tagView
	Content template.HTML

	key [sha256.Size]byte // entryKeys, for Builder's cache
	// meta is the key of every field but Content, for the lists of a
	// layout that reads no Content of their entries (readsListContent).
	meta [sha256.Size]byte
	// lazy, when set, holds Content until load reads it: a rendering
	// reused from a cache file is read only if a layout or the feed may
	// use it.
	lazy *contentRef
	once sync.Once
	err  error
}

// load fills in Content from lazy; every reader of Content calls it
// first. Safe for concurrent use.
func (e *entry) load() error {
	if e == nil || e.lazy == nil {
		return nil
	}
	e.once.Do(func() { e.Content, e.err = e.lazy.get() })
	return e.err
}

// tagView is a tag as the templates see it.
type tagView struct {
	Name  string
	Path  string // "tags/go/"
	Count int
}

// taxonomyView is a taxonomy as the templates see it.
type taxonomyView struct {
	Name     string // "Tags", "Categories"
	Plural   string // "tags", "categories"
	Singular string // "tag", "category"
	Path     string // "tags/"
}

// navItem is one entry of the site navigation.
type navItem struct {
	Name    string
	Path    string
	Current bool
}

// view is the data every layout is executed with.
type view struct {
	Site        *siteInfo
	Kind        string // home, post, page, posts, tags, tag, 404
	Title       string // for <title>; "" on the home page
	Description string
	Nav         []navItem
	Page        *entry // the page's own Markdown, if it has any
	Posts       []*entry
	Tags        []*tagView
	Tag         *tagView
	Taxonomy    *taxonomyView // on the list of a taxonomy's terms and a term's page
	MainPath    string        // the list of all posts ("posts/"), "" when the site has none
	Prev, Next  *entry
	// InlineCSS is set on 404.html, which gateways serve at any depth, where
	// no relative stylesheet link would reach css/.
	InlineCSS template.CSS

	dir string
}

// Rel is the link from this page to a bundle path: a directory when it is
// "" (the root) or ends in "/", else a file. Layouts must use it for every
// internal link so that the site works under any prefix. A URL with a
// scheme (a menu entry leading elsewhere) is returned as it is.
func (v *view) Rel(target string) string {
	if isExternal(target) {
		return target
	}
	if target == "" || strings.HasSuffix(target, "/") {
		return relPath(v.dir, strings.TrimSuffix(target, "/"), true)
	}
	return relPath(v.dir, target, false)
}

// tagLinks lets the "taglinks" partial reach both an entry's tags and Rel.
type tagLinks struct {
	View *view
	Tags []*tagView
}

// With pairs the view with an entry, for the "taglinks" partial.
func (v *view) With(e *entry) tagLinks { return tagLinks{View: v, Tags: e.Tags} }

// output is one rendered HTML file and what the link check needs of it.
type output struct {
	path   string
	data   []byte
	page   *page  // its Markdown source and links, nil for generated lists
	layout string // the layout it was executed with
	ids    map[string]bool
	// pageLinks are the links found in the HTML outside the Markdown.
	pageLinks
	// reused says the page is the cache's, its links resolving as they
	// did: the link check needs only its pending links.
	reused bool
	key    [sha256.Size]byte // jobKey, for Builder's cache
	// digest is the SHA-256 of data, set when a Builder keeps the page
	// (File.Identity); zero when not known.
	digest [sha256.Size]byte
	// absent is set on a page reused from a cache file, which keeps no
	// page bytes: data is nil and size its length.
	absent bool
	size   int64
}

// job renders one HTML page of the bundle.
type job struct {
	path   string
	layout string
	page   *page
	view   func() *view // built late: lists need summaries rendered first
}

// worker is the per-goroutine state of rendering.
type worker struct {
	md  *markdown
	hl  *highlightCache
	buf bytes.Buffer
}

// runParallel runs fn(w, i) for i in [0, n) on up to workers goroutines,
// each with its own worker state; the first error cancels the rest.
// workers must be positive, as build makes Config.Workers.
func runParallel(ctx context.Context, workers, n int, hl *highlightCache, fn func(w *worker, i int) error) error {
	workers = min(workers, n)
	var next atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			w := &worker{hl: hl}
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return nil
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := fn(w, i); err != nil {
					return err
				}
			}
		})
	}
	return g.Wait()
}

// markdownFor returns the worker's goldmark, made on first use.
func (w *worker) markdownFor(o mdOptions) *markdown {
	if w.md == nil {
		w.md = newMarkdown(w.hl, o)
	}
	return w.md
}

// execute runs a layout for one page, scans the result for ids and links
// and rewrites what must be made page-relative.
func (b *builder) execute(w *worker, j job, ps *problems) *output {
	v := j.view()
	var key [sha256.Size]byte
	if b.cache != nil {
		key = b.jobKey(j, v)
		if out := b.cache.reuseOutput(j, v.dir, key, b.res, b.fp); out != nil {
			return out
		}
	}
	if b.cache != nil && !b.loadContents(v, j.layout, ps) {
		return nil
	}
	w.buf.Reset()
	if err := b.theme.sets[j.layout].ExecuteTemplate(&w.buf, baseLayout, v); err != nil {
		ps.add(templateProblem(b.theme.files, j.layout, err))
		return nil
	}
	data := bytes.Clone(w.buf.Bytes())
	out := &output{path: j.path, page: j.page, layout: j.layout, key: key}
	var skip map[string]bool
	src := ""
	if j.page != nil {
		src = j.page.src
		skip = make(map[string]bool, len(j.page.links))
		for _, l := range j.page.links {
			skip[l.key] = true
		}
	}
	var sc scanned
	out.data, sc = b.res.scanPage(data, loc{dir: v.dir, file: j.path, src: src}, skip)
	out.ids, out.links = sc.ids, sc.links
	return out
}

// loadContents reads the Content of the entries a layout may read (those
// its key covers) that a cache file holds. false when one cannot be read:
// the Builder then renders everything.
func (b *builder) loadContents(v *view, layout string, ps *problems) bool {
	load := func(e *entry) bool {
		if err := e.load(); err != nil {
			b.cache.damaged.Store(true)
			ps.addf(b.c.dir, 0, "%v", err)
			return false
		}
		return true
	}
	if !load(v.Page) || !load(v.Prev) || !load(v.Next) {
		return false
	}
	if b.theme.listContent[layout] {
		for _, e := range v.Posts {
			if !load(e) {
				return false
			}
		}
	}
	return true
}

// emittedKey is how goldmark writes a destination into href, unescaped
// back from HTML: the key under which scanPage skips Markdown links.
func emittedKey(dest []byte) string { return string(util.URLEscape(dest, true)) }
