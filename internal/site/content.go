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

	"golang.org/x/sync/errgroup"
)

type pageKind int

const (
	kindPost     pageKind = iota // content/posts/*.md
	kindPage                     // content/*.md
	kindHome                     // content/index.md
	kindNotFound                 // content/404.md
)

// page is one Markdown source and, once rendered, its HTML.
type page struct {
	src      string // path in the content dir, slash-separated: "posts/x.md"
	file     string // src joined to Config.ContentDir, for messages
	kind     pageKind
	meta     meta
	body     []byte // Markdown after the front matter; dropped once rendered
	bodyLine int    // file line on which body starts
	slug     string
	dir      string // output directory: "posts/x", "resume", "" for home
	tags     []*tagInfo

	// Set by rendering.
	content template.HTML
	summary string
	links   []mdLink // links the Markdown holds, for the link check
}

// outPath is the page's HTML file in the bundle.
func (p *page) outPath() string {
	if p.kind == kindNotFound {
		return notFoundPath
	}
	return indexOf(p.dir)
}

// indexOf is the index.html of an output directory ("" is the root).
func indexOf(dir string) string {
	if dir == "" {
		return "index.html"
	}
	return dir + "/index.html"
}

// tagInfo is one tag and the posts carrying it, in site order.
type tagInfo struct {
	name  string // as first written, e.g. "Reading group"
	slug  string // its directory under tags/, e.g. "reading-group"
	posts []*page
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
	dir      string
	info     siteInfo
	lifetime time.Duration // site.toml's lifetime; 0 when unset
	home     *page         // nil when there is no index.md
	notFound *page         // nil when there is no 404.md
	posts    []*page
	pages    []*page // top-level pages other than home and 404, in nav order
	tags     []*tagInfo
	static   []staticFile
	// excluded maps the source path and output directory of each draft or
	// future page left out to why, so links to them get a useful message.
	excluded map[string]string
	layouts  map[string]layoutFile // overrides from content/layouts
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
	sitemapPath  = "sitemap.xml"
	siteCSSPath  = "css/site.css"
	syntaxCSS    = "css/syntax.css"
)

// loadContent reads and parses the whole content directory, with the
// cache when it is not nil. Problems are collected rather than returned
// early, so one build reports them all.
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
	c := &content{dir: dir, excluded: map[string]string{}}
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

	pages := make([]*page, len(srcs))
	sources := make([]*source, len(srcs))
	errs := make([]problems, len(srcs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Workers)
	for i, src := range srcs {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			pages[i], sources[i] = cache.loadPage(dir, src, start, &errs[i])
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	cache.keepSources(sources)
	for i, p := range pages {
		*ps = append(*ps, errs[i]...)
		if p == nil {
			continue
		}
		for _, key := range p.meta.unknown {
			cfg.Logger.Warn("site: ignoring an unknown front matter key", "file", p.file,
				"line", p.meta.keyLines[key], "key", key, "known", strings.Join(knownKeys, ", "))
		}
		if reason := leftOut(p, cfg); reason != "" {
			c.excluded[p.src] = reason
			c.excluded[p.dir] = reason
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
	c.tags = collectTags(c.posts, ps)
	return c, nil
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
	p := &page{src: src, file: file, meta: m, body: body, bodyLine: bodyLine}
	stem := strings.TrimSuffix(path.Base(src), ".md")
	p.slug = slugify(stem, false)
	if m.Slug != "" {
		if s := slugify(m.Slug, false); s != m.Slug {
			ps.addf(file, m.keyLines["slug"], "slug %q: use only letters, digits, '-', '_' and '.', e.g. %q", m.Slug, s)
			return nil
		}
		p.slug = m.Slug
	}
	if p.slug == "" {
		ps.addf(file, 0, "the file name has no letters or digits to make a URL from; rename it or set `slug:` in the front matter")
		return nil
	}
	switch {
	case strings.HasPrefix(src, postsDir+"/"):
		p.kind, p.dir = kindPost, postsDir+"/"+p.slug
	case src == "index.md":
		p.kind, p.dir = kindHome, ""
	case src == "404.md":
		p.kind, p.dir = kindNotFound, ""
	default:
		p.kind, p.dir = kindPage, p.slug
	}
	if p.meta.Title == "" && p.kind == kindPost {
		p.meta.Title = stem
	}
	return p
}

// reservedDirs are top-level output names the generated site itself uses.
var reservedDirs = map[string]bool{
	postsDir: true, tagsDir: true, cssDir: true,
	"index.html": true, notFoundPath: true, feedPath: true, sitemapPath: true,
	redirectsPath: true,
}

// checkSlugs reports pages that would land on the same output path.
func (c *content) checkSlugs(ps *problems) {
	seen := map[string]*page{}
	for _, p := range slices.Concat(c.posts, c.pages) {
		if p.kind == kindPage && reservedDirs[p.slug] {
			ps.addf(p.file, p.meta.keyLines["slug"], "its page would be at %s/, which the site itself uses; rename the file or set another `slug:`", p.slug)
			continue
		}
		if q, ok := seen[p.dir]; ok {
			a, b := q, p
			if b.src < a.src {
				a, b = b, a
			}
			ps.addf(b.file, b.meta.keyLines["slug"], "slug %q is also used by %s; give one of them another `slug:` in its front matter or rename a file", p.slug, a.file)
			continue
		}
		seen[p.dir] = p
	}
}

// collectTags groups posts by tag slug, so "Go" and "go" are one tag.
func collectTags(posts []*page, ps *problems) []*tagInfo {
	bySlug := map[string]*tagInfo{}
	for _, p := range posts {
		for _, name := range p.meta.Tags {
			name = strings.TrimSpace(name)
			slug := slugify(name, true)
			if slug == "" {
				ps.addf(p.file, p.meta.keyLines["tags"], "tag %q has no letters or digits to make a URL from; change it", name)
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
	return tags
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

// loadStatic lists content/static; the files are read only when written.
// Dotfiles are skipped; a symbolic link out of the content directory is a
// problem.
// start is when the build started, before anything was read.
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
