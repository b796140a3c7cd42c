package site

import (
	"context"
	"crypto/sha256"
	"fmt"
	"html/template"
	"log/slog"
	"path"
	"runtime"
	"strings"
	"time"
	"unicode"
)

// feedEntries bounds the Atom feed to the newest posts, full text included.
const feedEntries = 20

// Build renders the content directory into a bundle and checks every
// internal link and fragment in it. Bad input gives a *BuildError listing
// every problem found; other errors are the context's.
func Build(ctx context.Context, cfg Config) (*Bundle, error) {
	return build(ctx, cfg, nil)
}

// build is Build, reusing what is in c when it is not nil (see Builder).
func build(ctx context.Context, cfg Config, c *cache) (*Bundle, error) {
	start := time.Now()
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var ps problems
	content, err := loadContent(ctx, cfg, c, &ps)
	if err != nil {
		return nil, fmt.Errorf("site: build %s: %w", cfg.ContentDir, err)
	}
	if content == nil {
		return nil, ps.err()
	}
	bundle, err := buildContent(ctx, cfg, content, c, &ps)
	if err != nil {
		return nil, err
	}
	cfg.Logger.Info("site: built", "content", cfg.ContentDir, "pages", bundle.pages,
		"static", bundle.static, "took", time.Since(start).Round(time.Millisecond))
	return bundle, nil
}

// buildContent renders content that has been read, checks its links and
// assembles the bundle, reusing what is in cache when it is not nil.
func buildContent(ctx context.Context, cfg Config, c *content, cache *cache, ps *problems) (*Bundle, error) {
	th := newTheme(c.layouts, ps)
	if th == nil {
		return nil, ps.err()
	}
	b := &builder{cfg: cfg, c: c, theme: th, cache: cache}
	b.plan(ps)
	if len(*ps) > 0 {
		// Rendering with pages missing would only add misleading link errors.
		return nil, ps.err()
	}
	outs, err := b.render(ctx, ps)
	if err != nil {
		return nil, fmt.Errorf("site: build %s: %w", cfg.ContentDir, err)
	}
	b.checkLinks(outs, ps)
	if len(*ps) > 0 {
		return nil, ps.err()
	}
	return b.assemble(outs), nil
}

// builder holds one build's state.
type builder struct {
	cfg   Config
	c     *content
	theme *theme
	res   *resolver
	cache *cache            // nil for a one-off Build
	fp    [sha256.Size]byte // res.fingerprint(), when cache is set

	entries  map[*page]*entry
	tagViews map[*tagInfo]*tagView
	postList []*entry
	jobs     []job // one per HTML page
}

// plan decides every path of the bundle before anything is rendered, so
// links can be resolved while rendering, and reports collisions.
func (b *builder) plan(ps *problems) {
	c := b.c
	b.entries = map[*page]*entry{}
	b.tagViews = map[*tagInfo]*tagView{}
	for _, t := range c.tags {
		b.tagViews[t] = &tagView{Name: t.name, Path: tagsDir + "/" + t.slug + "/", Count: len(t.posts)}
	}
	for _, p := range b.markdownPages() {
		e := &entry{Title: p.meta.Title, Date: p.meta.Date, Path: p.dir + "/"}
		if p.dir == "" {
			e.Path = ""
		}
		for _, t := range p.tags {
			e.Tags = append(e.Tags, b.tagViews[t])
		}
		if e.Title == "" && p.kind == kindPage {
			e.Title = titleFromSlug(p.slug)
		}
		b.entries[p] = e
	}
	for _, p := range c.posts {
		b.postList = append(b.postList, b.entries[p])
	}

	b.res = &resolver{files: map[string]bool{}, sources: map[string]*page{}, excluded: c.excluded, contentDir: c.dir}
	owner := map[string]string{} // bundle path → what makes it, for collision messages
	generate := func(p, what string) {
		b.res.files[p] = true
		owner[p] = what
	}
	for i, p := range c.posts {
		var prev, next *entry
		if i > 0 {
			prev = b.postList[i-1]
		}
		if i+1 < len(c.posts) {
			next = b.postList[i+1]
		}
		b.jobs = append(b.jobs, job{path: p.outPath(), layout: b.layoutFor(p, "post.html", ps), page: p,
			view: func() *view {
				return b.newView("post", p.dir, p.meta.Title, b.entries[p].Summary, &view{Page: b.entries[p], Prev: prev, Next: next})
			}})
	}
	for _, p := range c.pages {
		b.jobs = append(b.jobs, job{path: p.outPath(), layout: b.layoutFor(p, "page.html", ps), page: p,
			view: func() *view {
				return b.newView("page", p.dir, b.entries[p].Title, b.entries[p].Summary, &view{Page: b.entries[p]})
			}})
	}
	for _, p := range b.markdownPages() {
		b.res.sources[p.src] = p
		generate(p.outPath(), p.file)
	}
	home := job{path: "index.html", layout: "home.html", page: c.home, view: func() *view {
		v := &view{Posts: b.postList[:min(len(b.postList), 10)]}
		if c.home != nil {
			v.Page = b.entries[c.home]
		}
		return b.newView("home", "", "", c.info.Description, v)
	}}
	if c.home != nil {
		home.layout = b.layoutFor(c.home, "home.html", ps)
	}
	notFound := job{path: notFoundPath, layout: "404.html", page: c.notFound, view: func() *view {
		v := &view{InlineCSS: template.CSS(b.theme.css)}
		if c.notFound != nil {
			v.Page = b.entries[c.notFound]
		}
		return b.newView("404", "", "Page not found", "", v)
	}}
	b.jobs = append(b.jobs, home, notFound,
		job{path: postsDir + "/index.html", layout: "posts.html", view: func() *view {
			return b.newView("posts", postsDir, "Posts", "", &view{Posts: b.postList})
		}},
		job{path: tagsDir + "/index.html", layout: "tags.html", view: func() *view {
			tags := make([]*tagView, len(c.tags))
			for i, t := range c.tags {
				tags[i] = b.tagViews[t]
			}
			return b.newView("tags", tagsDir, "Tags", "", &view{Tags: tags})
		}})
	for _, t := range c.tags {
		dir := tagsDir + "/" + t.slug
		b.jobs = append(b.jobs, job{path: dir + "/index.html", layout: "tag.html", view: func() *view {
			posts := make([]*entry, len(t.posts))
			for i, p := range t.posts {
				posts[i] = b.entries[p]
			}
			return b.newView("tag", dir, "Posts tagged "+t.name, "", &view{Tag: b.tagViews[t], Posts: posts})
		}})
	}
	for _, j := range b.jobs {
		if j.page == nil {
			generate(j.path, "the generated site")
		}
	}
	for _, p := range []string{siteCSSPath, syntaxCSS, feedPath, sitemapPath} {
		generate(p, "the generated site")
	}

	// Static files may not replace or shadow generated files.
	dirs := map[string]bool{}
	for p := range b.res.files {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for _, s := range c.static {
		file := s.src
		switch {
		case b.res.files[s.path]:
			ps.addf(file, 0, "would replace %s made by %s; remove or rename it (the theme is changed in content/layouts/)", s.path, owner[s.path])
			continue
		case dirs[s.path]:
			ps.addf(file, 0, "is a file where the site needs the directory %s/; remove or rename it", s.path)
			continue
		}
		clash := false
		for d := path.Dir(s.path); d != "."; d = path.Dir(d) {
			if b.res.files[d] {
				ps.addf(file, 0, "needs %s to be a directory, but %s makes it a file; rename one of them", d, owner[d])
				clash = true
				break
			}
		}
		if !clash {
			b.res.files[s.path] = true
		}
	}
	if b.cache != nil {
		b.fp = b.res.fingerprint()
	}
}

// markdownPages lists every page with Markdown of its own, in a fixed order.
func (b *builder) markdownPages() []*page {
	out := make([]*page, 0, len(b.c.posts)+len(b.c.pages)+2)
	out = append(out, b.c.posts...)
	out = append(out, b.c.pages...)
	if b.c.home != nil {
		out = append(out, b.c.home)
	}
	if b.c.notFound != nil {
		out = append(out, b.c.notFound)
	}
	return out
}

// layoutFor is the layout a page asks for in `layout:`, else def.
func (b *builder) layoutFor(p *page, def string, ps *problems) string {
	name := p.meta.Layout
	if name == "" {
		return def
	}
	name = strings.TrimSuffix(name, ".html") + ".html"
	if b.theme.sets[name] == nil {
		ps.addf(p.file, p.meta.keyLines["layout"], "layout %q: no such layout; add content/layouts/%s or use one of: %s",
			p.meta.Layout, name, b.theme.layoutNames())
		return def
	}
	return name
}

// newView fills what every page shows: site, navigation, title, and dir,
// the output directory the page is in, which Rel links from.
func (b *builder) newView(kind, dir, title, desc string, v *view) *view {
	v.Site, v.Kind, v.Title, v.Description, v.dir = &b.c.info, kind, title, desc, dir
	if v.Description == "" {
		v.Description = b.c.info.Description
	}
	v.Nav = []navItem{
		{Name: "Home", Path: "", Current: kind == "home"},
		{Name: "Posts", Path: postsDir + "/", Current: kind == "posts" || kind == "post"},
		{Name: "Tags", Path: tagsDir + "/", Current: kind == "tags" || kind == "tag"},
	}
	for _, p := range b.c.pages {
		v.Nav = append(v.Nav, navItem{Name: b.entries[p].Title, Path: p.dir + "/", Current: dir == p.dir})
	}
	return v
}

// titleFromSlug makes "resume" into "Resume" for pages without a title.
func titleFromSlug(slug string) string {
	s := strings.ReplaceAll(slug, "-", " ")
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// assemble puts the rendered pages and the generated and static files
// together into the bundle.
func (b *builder) assemble(outs []*output) *Bundle {
	files := make([]File, 0, len(outs)+4+len(b.c.static))
	add := func(p string, data []byte) {
		files = append(files, File{Path: p, Data: data, Size: int64(len(data))})
	}
	if f, ok := b.redirects(); ok {
		files = append(files, f)
	}
	for _, o := range outs {
		add(o.path, o.data)
	}
	add(siteCSSPath, b.theme.css)
	add(syntaxCSS, syntaxStyleSheet())
	add(feedPath, b.feed())
	add(sitemapPath, b.sitemap(outs))
	for _, s := range b.c.static {
		files = append(files, File{Path: s.path, Size: s.size, src: s.src, stamp: s.stamp, settled: s.settled})
	}
	bundle := newBundle(files, len(outs), len(b.c.static))
	bundle.contentDir = b.c.dir
	bundle.lifetime = b.c.lifetime
	return bundle
}
