package site

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
)

type pageKind int

const (
	kindPost     pageKind = iota // content/posts/*.md
	kindPage                     // content/*.md
	kindHome                     // content/index.md
	kindNotFound                 // content/404.md
	kindList                     // a Hugo section's or taxonomy's _index.md
)

// page is one Markdown source and, once rendered, its HTML.
type page struct {
	src      string // path in the content dir, slash-separated: "posts/x.md"
	file     string // src joined to Config.ContentDir, for messages
	kind     pageKind
	meta     meta
	body     []byte // Markdown after the front matter; dropped once rendered
	bodyLine int    // file line on which body starts
	// lazyBody says body was not read: the page was parsed from a cache
	// file (cache.loadBody reads it when the page is rendered again).
	lazyBody bool
	slug     string
	dir      string // output directory: "posts/x", "resume", "" for home
	// out is the page's HTML file in the bundle when it is not
	// dir/index.html: "about.html" (a Hugo page with uglyURLs or a url
	// ending in .html).
	out  string
	tags []*tagInfo // its terms in every taxonomy
	hugo *hugoPage  // what a Hugo site's front matter says beyond island's keys; nil otherwise

	// Set by rendering.
	content template.HTML
	lazy    *contentRef // holds content instead, when reused from a cache file
	summary string
	links   []mdLink // links the Markdown holds, for the link check
	refs    []refUse // its shortcodes' refs (Hugo), for Builder's cache
}

// outPath is the page's HTML file in the bundle.
func (p *page) outPath() string {
	switch {
	case p.kind == kindNotFound:
		return notFoundPath
	case p.out != "":
		return p.out
	}
	return indexOf(p.dir)
}

// isIndex says the page is its directory's index.html, linked as "dir/".
func (p *page) isIndex() bool { return p.kind != kindNotFound && p.out == "" }

// indexOf is the index.html of an output directory ("" is the root).
func indexOf(dir string) string {
	if dir == "" {
		return "index.html"
	}
	return dir + "/index.html"
}

// tagInfo is one term of a taxonomy (a tag) and the pages carrying it, in
// site order.
type tagInfo struct {
	name  string // as first written, e.g. "Reading group"
	slug  string // its directory under the taxonomy's, e.g. "reading-group"
	posts []*page
	index *page // a Hugo site's content/TAXONOMY/TERM/_index.md, or nil
}

// section is a list of pages with a list page of its own: island's posts/,
// every section of a Hugo site.
type section struct {
	dir    string // bundle directory of the list page: "posts"
	title  string
	kind   string // the list page's view kind
	layout string
	index  *page      // a Hugo section's _index.md, or nil
	pages  []*page    // its own regular pages, in site order
	subs   []*section // sections inside it (Hugo), by directory
	top    bool       // listed in the default navigation
	noList bool       // its pages are built, but no list page (a Hugo _index.md left out)
}

// taxonomy groups pages by the terms a front matter key gives them: island's
// tags, a Hugo site's tags, categories and others.
type taxonomy struct {
	key        string // the front matter key: "tags"
	singular   string // "tag"
	dir        string // bundle directory of its list of terms: "tags"
	title      string // of that list: "Tags"
	kind       string // view kinds of the list and of a term's page
	termKind   string
	layout     string // layouts of the list and of a term's page
	termLayout string
	terms      []*tagInfo // by slug
	index      *page      // a Hugo site's content/TAXONOMY/_index.md, or nil
	// termTitle is the title of a term's page.
	termTitle func(name string) string
}

// staticFile is one file of content/static, copied verbatim.
type staticFile struct {
	path    string // in the bundle
	src     string // on disk
	size    int64
	stamp   fileStamp
	settled bool // see fileStamp.settledAt
}

// content is everything read from the content directory.
type content struct {
	dir string // Config.ContentDir
	// srcDir holds the Markdown: dir itself, or a Hugo site's content/.
	srcDir   string
	hugo     *hugoSite // nil for island's own layout
	info     siteInfo
	lifetime time.Duration // site.toml's lifetime; 0 when unset (always for a Hugo site)
	// changesAt is the first time after Config.Now at which a page joins
	// or leaves the build by itself (a date still to come, an expiryDate
	// still to pass); zero when none does.
	changesAt time.Time
	home      *page   // nil when there is no index.md
	notFound  *page   // nil when there is no 404.md
	regular   []*page // every page that is neither a list nor home nor 404
	posts     []*page // the main list (home page, feed): posts/, a Hugo site's main sections
	pages     []*page // top-level regular pages, in nav order
	sections  []*section
	taxes     []*taxonomy
	static    []staticFile
	// excluded maps the source path and output directory of each draft or
	// future page left out to why, so links to them get a useful message.
	excluded map[string]string
	layouts  map[string]layoutFile // overrides from content/layouts
	// inputs are the files and directories the build reads, which an
	// output directory must neither be nor hold.
	inputs []string
}

// Fixed names in the content directory and the bundle.
const (
	postsDir     = "posts"
	staticDir    = "static"
	layoutsDir   = "layouts"
	tagsDir      = "tags"
	cssDir       = "css"
	notFoundPath = "404.html"
	feedPath     = "atom.xml"
	hugoFeedPath = "index.xml"
	sitemapPath  = "sitemap.xml"
	siteCSSPath  = "css/site.css"
	syntaxCSS    = "css/syntax.css"
)

// loadContent reads and parses the whole content directory, with the
// cache when it is not nil: island's own layout, or a Hugo site's root.
// Problems are collected rather than returned early, so one build reports
// them all.
func loadContent(ctx context.Context, cfg Config, cache *cache, ps *problems) (*content, error) {
	start := cache.now() // before anything is read: see fileStamp.settledAt
	dir := cfg.ContentDir
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ps.addf(dir, 0, "no such content directory; create it (with posts/ and an index.md) or pass --content DIR")
		return nil, nil
	case err != nil:
		ps.addf(dir, 0, "cannot read the content directory: %v", err)
		return nil, nil
	case !st.IsDir():
		ps.addf(dir, 0, "is a file, not a content directory; pass --content DIR")
		return nil, nil
	}
	if root, ok := findHugoRoot(dir); ok {
		return loadHugo(ctx, cfg, root, cache, start, ps)
	}
	return loadIsland(ctx, cfg, cache, start, ps)
}

// loadIsland reads island's own layout: site.toml, top-level pages,
// posts/, static/ and layouts/.
func loadIsland(ctx context.Context, cfg Config, cache *cache, start time.Time, ps *problems) (*content, error) {
	dir := cfg.ContentDir
	c := &content{dir: dir, srcDir: dir, excluded: map[string]string{}, inputs: []string{dir}}
	toml := loadSiteInfo(dir, ps)
	c.info, c.lifetime = toml.siteInfo, time.Duration(toml.Lifetime)

	var srcs []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		ps.addf(dir, 0, "cannot list the content directory: %v", err)
		return nil, nil
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "."), name == siteFile:
		case name == postsDir && e.IsDir():
			posts, err := os.ReadDir(filepath.Join(dir, postsDir))
			if err != nil {
				ps.addf(filepath.Join(dir, postsDir), 0, "cannot list: %v", err)
				continue
			}
			for _, pe := range posts {
				switch pn := pe.Name(); {
				case strings.HasPrefix(pn, "."):
				case strings.HasSuffix(pn, ".md") && !pe.IsDir():
					srcs = append(srcs, postsDir+"/"+pn)
				default:
					cfg.Logger.Warn("site: skipping a file that is not a post; put images and other files in static/",
						"file", filepath.Join(dir, postsDir, pn))
				}
			}
		case name == staticDir && e.IsDir():
			c.static = loadStatic(filepath.Join(dir, staticDir), start, ps)
		case name == layoutsDir && e.IsDir():
			c.layouts = loadLayouts(filepath.Join(dir, layoutsDir), ps)
		case strings.HasSuffix(name, ".md") && !e.IsDir():
			srcs = append(srcs, name)
		default:
			cfg.Logger.Warn("site: skipping what is neither a page, posts/, static/ nor layouts/",
				"file", filepath.Join(dir, name))
		}
	}

	pages, err := readSources(ctx, cfg, dir, srcs, cache, start, false, ps)
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		if !placeIsland(p, ps) {
			continue
		}
		for _, key := range p.meta.unknown {
			cfg.Logger.Warn("site: ignoring an unknown front matter key", "file", p.file,
				"line", p.meta.keyLines[key], "key", key, "known", strings.Join(knownKeys, ", "))
		}
		c.changeAt(cfg, p.meta.Date)
		if reason := leftOut(p, cfg); reason != "" {
			c.exclude(p, reason)
			continue
		}
		switch p.kind {
		case kindPost:
			c.posts = append(c.posts, p)
		case kindPage:
			c.pages = append(c.pages, p)
		case kindHome:
			c.home = p
		case kindNotFound:
			c.notFound = p
		}
	}
	slices.SortFunc(c.posts, comparePosts)
	slices.SortFunc(c.pages, func(a, b *page) int {
		return cmp.Or(compareWeight(a.meta.Weight, b.meta.Weight), cmp.Compare(a.slug, b.slug))
	})
	c.checkSlugs(ps)
	c.islandLists(ps)
	return c, nil
}

// islandLists makes island's lists from its posts and pages: posts/ and
// the tags.
func (c *content) islandLists(ps *problems) {
	c.regular = slices.Concat(c.posts, c.pages)
	c.sections = []*section{{dir: postsDir, title: "Posts", kind: "posts", layout: "posts.html", pages: c.posts, top: true}}
	tags := &taxonomy{key: "tags", singular: "tag", dir: tagsDir, title: "Tags", kind: "tags", termKind: "tag",
		layout: "tags.html", termLayout: "tag.html", termTitle: func(name string) string { return "Posts tagged " + name }}
	collectTerms(tags, c.posts, func(name string) string { return slugify(name, true) }, ps)
	c.taxes = []*taxonomy{tags}
}

// exclude leaves a draft or future page out, remembering why for links to it.
func (c *content) exclude(p *page, reason string) {
	c.excluded[p.src] = reason
	c.excluded[p.dir] = reason
	if p.out != "" {
		c.excluded[p.out] = reason
	}
}

// readSources reads and parses the Markdown files srcs (paths in dir), in
// parallel, through the cache; it returns the pages that parsed, in order.
func readSources(ctx context.Context, cfg Config, dir string, srcs []string, cache *cache, start time.Time, hugo bool, ps *problems) ([]*page, error) {
	if cache != nil {
		cache.hugo = hugo
	}
	pages := make([]*page, len(srcs))
	sources := make([]*source, len(srcs))
	errs := make([]problems, len(srcs))
	// A few workers take the sources in turn: a goroutine per source, each
	// waiting for a slot, cost more in hand-offs than a Builder spends on
	// a source it need not read.
	err := runParallel(ctx, cfg.Workers, len(srcs), nil, func(_ *worker, i int) error {
		pages[i], sources[i] = cache.loadPage(dir, srcs[i], start, hugo, &errs[i])
		return nil
	})
	if err != nil {
		return nil, err
	}
	cache.keepSources(sources)
	out := pages[:0]
	for i, p := range pages {
		*ps = append(*ps, errs[i]...)
		if p != nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// changeAt notes times at which the build's pages change with no file
// changing, for Bundle.ChangesAt.
func (c *content) changeAt(cfg Config, times ...time.Time) {
	for _, t := range times {
		if t.After(cfg.Now) && (c.changesAt.IsZero() || t.Before(c.changesAt)) {
			c.changesAt = t
		}
	}
}

// leftOut says why a page is not part of this build, or "".
func leftOut(p *page, cfg Config) string {
	if p.meta.Draft && !cfg.Drafts {
		return "a draft (build with --drafts to include it)"
	}
	if !p.meta.Date.IsZero() && p.meta.Date.After(cfg.Now) && !cfg.Future {
		return "dated in the future (build with --future to include it)"
	}
	return ""
}

// comparePosts orders posts by weight (unweighted last), then newest first
// (undated last), then slug: the order of every list on the site.
func comparePosts(a, b *page) int {
	if c := compareWeight(a.meta.Weight, b.meta.Weight); c != 0 {
		return c
	}
	ad, bd := a.meta.Date, b.meta.Date
	switch {
	case ad.IsZero() != bd.IsZero():
		if ad.IsZero() {
			return 1
		}
		return -1
	case !ad.Equal(bd):
		return bd.Compare(ad)
	}
	return cmp.Compare(a.slug, b.slug)
}

// compareWeight sorts lower weights first and weight 0 (unset) last.
func compareWeight(a, b int) int {
	switch {
	case a == b:
		return 0
	case a == 0:
		return 1
	case b == 0:
		return -1
	}
	return cmp.Compare(a, b)
}

// readPage reads and parses one Markdown file; nil when it cannot be used.
func readPage(dir, src string, ps *problems) *page {
	file := filepath.Join(dir, filepath.FromSlash(src))
	if !insideContent(dir, file, ps) {
		return nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		ps.addf(file, 0, "cannot read: %v", err)
		return nil
	}
	return parsePage(file, src, data, ps)
}

// parsePage parses one Markdown file read from file, src being its path in
// the content directory.
func parsePage(file, src string, data []byte, ps *problems) *page {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if line, ok := invalidUTF8Line(data); !ok {
		ps.addf(file, line, "not valid UTF-8; save the file as UTF-8")
		return nil
	}
	if bytes.IndexByte(data, 0) >= 0 {
		ps.addf(file, bytes.Count(data[:bytes.IndexByte(data, 0)], []byte("\n"))+1,
			"holds a NUL byte; is this a binary file? Move it to static/")
		return nil
	}
	m, body, bodyLine, errs := parseFrontMatter(data)
	for _, e := range errs {
		ps.addf(file, e.Line, "%s", e.Msg)
	}
	if len(errs) > 0 {
		return nil
	}
	return &page{src: src, file: file, meta: m, body: body, bodyLine: bodyLine}
}

// placeIsland gives a page of island's own layout its kind, slug and
// directory; false when it cannot have one.
func placeIsland(p *page, ps *problems) bool {
	m := p.meta
	stem := strings.TrimSuffix(path.Base(p.src), ".md")
	p.slug = slugify(stem, false)
	if m.Slug != "" {
		if s := slugify(m.Slug, false); s != m.Slug {
			ps.addf(p.file, m.keyLines["slug"], "slug %q: use only letters, digits, '-', '_' and '.', e.g. %q", m.Slug, s)
			return false
		}
		p.slug = m.Slug
	}
	if p.slug == "" {
		ps.addf(p.file, 0, "the file name has no letters or digits to make a URL from; rename it or set `slug:` in the front matter")
		return false
	}
	switch {
	case strings.HasPrefix(p.src, postsDir+"/"):
		p.kind, p.dir = kindPost, postsDir+"/"+p.slug
	case p.src == "index.md":
		p.kind, p.dir = kindHome, ""
	case p.src == "404.md":
		p.kind, p.dir = kindNotFound, ""
	default:
		p.kind, p.dir = kindPage, p.slug
	}
	if p.meta.Title == "" && p.kind == kindPost {
		p.meta.Title = stem
	}
	return true
}

// reservedDirs are top-level output names the generated site itself uses.
var reservedDirs = map[string]bool{
	postsDir: true, tagsDir: true, cssDir: true,
	"index.html": true, notFoundPath: true, feedPath: true, sitemapPath: true,
	redirectsPath: true,
}

// checkSlugs reports pages that would land on the same output path, and
// leaves them out so that the plan does not report them again.
func (c *content) checkSlugs(ps *problems) {
	seen := map[string]*page{}
	bad := map[*page]bool{}
	for _, p := range slices.Concat(c.posts, c.pages) {
		if p.kind == kindPage && reservedDirs[p.slug] {
			ps.addf(p.file, p.meta.keyLines["slug"], "its page would be at %s/, which the site itself uses; rename the file or set another `slug:`", p.slug)
			bad[p] = true
			continue
		}
		if q, ok := seen[p.dir]; ok {
			a, b := q, p
			if b.src < a.src {
				a, b = b, a
			}
			ps.addf(b.file, b.meta.keyLines["slug"], "slug %q is also used by %s; give one of them another `slug:` in its front matter or rename a file", p.slug, a.file)
			bad[p] = true
			continue
		}
		seen[p.dir] = p
	}
	drop := func(p *page) bool { return bad[p] }
	c.posts = slices.DeleteFunc(c.posts, drop)
	c.pages = slices.DeleteFunc(c.pages, drop)
}

// collectTerms groups pages by the terms the taxonomy's front matter key
// gives them, by slug (slugOf), so "Go" and "go" are one tag.
func collectTerms(tx *taxonomy, posts []*page, slugOf func(string) string, ps *problems) {
	key := tx.key
	bySlug := map[string]*tagInfo{}
	for _, p := range posts {
		for _, name := range p.terms(key) {
			name = strings.TrimSpace(name)
			slug := slugOf(name)
			if slug == "" {
				ps.addf(p.file, p.meta.keyLines[key], "%s %q has no letters or digits to make a URL from; change it", tx.singular, name)
				continue
			}
			t := bySlug[slug]
			if t == nil {
				t = &tagInfo{name: name, slug: slug}
				bySlug[slug] = t
			}
			if name < t.name {
				t.name = name // the same name whatever order files are read in
			}
			if !slices.Contains(p.tags, t) {
				t.posts = append(t.posts, p)
				p.tags = append(p.tags, t)
			}
		}
	}
	tags := make([]*tagInfo, 0, len(bySlug))
	for _, t := range bySlug {
		tags = append(tags, t)
	}
	slices.SortFunc(tags, func(a, b *tagInfo) int { return cmp.Compare(a.slug, b.slug) })
	tx.terms = tags
}

// slugify keeps letters, digits, '-', '_' and '.' and turns every other run
// of characters into one '-'. Tags are also lower-cased.
func slugify(s string, lower bool) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.':
			if lower {
				r = unicode.ToLower(r)
			}
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-.")
	if out == "" || strings.Trim(out, ".") == "" {
		return ""
	}
	return out
}

// feeds are the bundle paths of the Atom feed: atom.xml, and for a Hugo
// site also index.xml, where Hugo puts its feed, so that subscribers keep
// their address.
func (c *content) feeds() []string {
	if c.hugo != nil {
		return []string{feedPath, hugoFeedPath}
	}
	return []string{feedPath}
}

// themeHint ends a message about a static file in the generated site's way.
func (c *content) themeHint() string {
	if c.hugo != nil {
		return ""
	}
	return " (the theme is changed in content/layouts/)"
}

// keyLine is the line of a front matter key, in any case (Hugo's keys
// are case-insensitive); 0 when the page does not set it.
func (p *page) keyLine(key string) int {
	if l, ok := p.meta.keyLines[key]; ok {
		return l
	}
	for k, l := range p.meta.keyLines {
		if strings.EqualFold(k, key) {
			return l
		}
	}
	return 0
}

// pathLine is the line of the front matter key that decides where the page
// goes, for messages about two pages in one place; 0 when the file name
// does.
func (p *page) pathLine() int {
	for _, k := range []string{"url", "slug"} {
		if l, ok := p.meta.keyLines[k]; ok {
			return l
		}
	}
	return 0
}

// terms are the page's terms of the taxonomy whose front matter key is key.
func (p *page) terms(key string) []string {
	if key == "tags" {
		return p.meta.Tags
	}
	if p.hugo == nil {
		return nil
	}
	return p.hugo.terms[key]
}

// insideContent reports whether file, a symbolic link or not, stays inside
// the content directory dir; a link that leaves it is a problem naming the
// link: followed, it would publish any file the user can read.
func insideContent(dir, file string, ps *problems) bool {
	fi, err := os.Lstat(file)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return true // not a link; a missing file is reported by its reader
	}
	target, err := filepath.EvalSymlinks(file)
	if err != nil {
		ps.addf(file, 0, "is a symbolic link that cannot be followed: %v", err)
		return false
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		root = dir
	}
	if rel, err := filepath.Rel(root, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		ps.addf(file, 0, "is a symbolic link to %s, outside the content directory: island publishes only what is inside it; copy the file in or remove the link", target)
		return false
	}
	return true
}

// loadStatic lists content/static, whose files go to the root of the
// bundle; they are read only when written. Dotfiles are skipped; a symbolic
// link out of the directory holding root is a problem. start is when the
// build started, before anything was read.
func loadStatic(root string, start time.Time, ps *problems) []staticFile {
	var out []staticFile
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			ps.addf(p, 0, "cannot read: %v", err)
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") && p != root {
			// Dotfiles (.DS_Store, .git) are not published, as add skips them.
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !insideContent(filepath.Dir(root), p, ps) {
			return nil
		}
		info, err := os.Stat(p) // follows a symlink to the file it names
		if err != nil {
			ps.addf(p, 0, "cannot read: %v", err)
			return nil
		}
		if !info.Mode().IsRegular() {
			ps.addf(p, 0, "is not a regular file; static/ may hold only files and directories")
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return fmt.Errorf("site: static file %s: %w", p, err)
		}
		stamp := stampOf(info)
		out = append(out, staticFile{path: filepath.ToSlash(rel), src: p, size: info.Size(), stamp: stamp, settled: stamp.settledAt(start)})
		return nil
	})
	if err != nil {
		ps.addf(root, 0, "%v", err)
	}
	slices.SortFunc(out, func(a, b staticFile) int { return cmp.Compare(a.path, b.path) })
	return out
}
