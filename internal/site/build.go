package site

import (
	"context"
	"crypto/sha256"
	"fmt"
	"html/template"
	"log/slog"
	"path"
	"runtime"
	"slices"
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
	b := &builder{cfg: cfg, c: c, theme: th, cache: cache, env: newRenderEnv(c, cfg.Logger), mdOpts: mdOptionsOf(c.hugo)}
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
	// env and mdOpts are how Markdown is rendered: a Hugo site's shortcodes
	// and settings (env is nil for island's own layout).
	env    *renderEnv
	mdOpts mdOptions

	entries   map[*page]*entry
	tagViews  map[*tagInfo]*tagView
	taxViews  map[*taxonomy]*taxonomyView
	postList  []*entry
	nav       []navItem // the navigation, no item current
	inSection map[string]*section
	mainPath  string // view.MainPath
	jobs      []job  // one per HTML page
	aliases   []aliasPage
}

// owner is what makes a bundle path, for messages about two things
// wanting the same one.
type owner struct {
	file string // the source file, "" for what the site generates
	line int
	what string // "the generated site", "the list of tags", …
}

// plan decides every path of the bundle before anything is rendered, so
// links can be resolved while rendering, and reports collisions.
func (b *builder) plan(ps *problems) {
	c := b.c
	b.entries = map[*page]*entry{}
	b.tagViews = map[*tagInfo]*tagView{}
	b.taxViews = map[*taxonomy]*taxonomyView{}
	for _, tx := range c.taxes {
		b.taxViews[tx] = &taxonomyView{Name: tx.title, Plural: strings.ToLower(tx.title), Singular: tx.singular, Path: tx.dir + "/"}
		for _, t := range tx.terms {
			b.tagViews[t] = &tagView{Name: t.name, Path: tx.dir + "/" + t.slug + "/", Count: len(t.posts)}
		}
	}
	for _, p := range b.markdownPages() {
		e := &entry{Title: p.meta.Title, Date: p.meta.Date, Path: p.dir + "/"}
		switch {
		case !p.isIndex():
			e.Path = p.outPath()
		case p.dir == "":
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
	b.postList = b.entryList(c.posts)

	b.res = &resolver{files: map[string]bool{}, sources: map[string]*page{}, excluded: c.excluded, contentDir: c.srcDir}
	if c.hugo != nil {
		b.res.baseURL = c.hugo.baseURL
	}
	owners := map[string]owner{}
	generate := func(p string, o owner) {
		if prev, ok := owners[p]; ok {
			b.collision(p, prev, o, ps)
			return
		}
		b.res.files[p] = true
		owners[p] = o
	}
	site := owner{what: "the generated site"}
	for _, s := range c.sections {
		list := b.entryList(s.pages)
		for i, p := range s.pages {
			var prev, next *entry
			if i > 0 {
				prev = list[i-1]
			}
			if i+1 < len(list) {
				next = list[i+1]
			}
			b.jobs = append(b.jobs, job{path: p.outPath(), layout: b.layoutFor(p, "post.html", ps), page: p,
				view: func() *view {
					return b.newView("post", p.dir, p.meta.Title, b.describe(p), &view{Page: b.entries[p], Prev: prev, Next: next})
				}})
		}
	}
	for _, p := range c.pages {
		b.jobs = append(b.jobs, job{path: p.outPath(), layout: b.layoutFor(p, "page.html", ps), page: p,
			view: func() *view {
				return b.newView("page", p.dir, b.entries[p].Title, b.describe(p), &view{Page: b.entries[p]})
			}})
	}
	for _, p := range b.markdownPages() {
		b.res.sources[p.src] = p
		generate(p.outPath(), owner{file: p.file, line: p.pathLine(), what: p.file})
	}
	home := job{path: "index.html", layout: "home.html", page: c.home, view: func() *view {
		v := &view{Posts: b.postList[:min(len(b.postList), 10)]}
		desc := c.info.Description
		if c.home != nil {
			v.Page = b.entries[c.home]
			if c.home.meta.Description != "" {
				desc = c.home.meta.Description
			}
		}
		return b.newView("home", "", "", desc, v)
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
	b.jobs = append(b.jobs, home, notFound)
	for _, s := range c.sections {
		if s.noList {
			continue
		}
		b.jobs = append(b.jobs, job{path: indexOf(s.dir), layout: s.layout, page: s.index, view: func() *view {
			v := &view{Posts: b.entryList(s.pages)}
			for _, sub := range s.subs {
				if !sub.noList {
					v.Posts = append(v.Posts, b.sectionEntry(sub))
				}
			}
			desc := ""
			if s.index != nil {
				v.Page = b.entries[s.index]
				desc = s.index.meta.Description
			}
			return b.newView(s.kind, s.dir, s.title, desc, v)
		}})
	}
	for _, tx := range c.taxes {
		if len(tx.terms) == 0 && tx.index == nil && c.hugo != nil {
			continue // a Hugo site without categories has no page listing none
		}
		b.jobs = append(b.jobs, job{path: indexOf(tx.dir), layout: tx.layout, page: tx.index, view: func() *view {
			tags := make([]*tagView, len(tx.terms))
			for i, t := range tx.terms {
				tags[i] = b.tagViews[t]
			}
			v := &view{Tags: tags, Taxonomy: b.taxViews[tx]}
			if tx.index != nil {
				v.Page = b.entries[tx.index]
			}
			return b.newView(tx.kind, tx.dir, tx.title, "", v)
		}})
		for _, t := range tx.terms {
			dir := tx.dir + "/" + t.slug
			b.jobs = append(b.jobs, job{path: indexOf(dir), layout: tx.termLayout, page: t.index, view: func() *view {
				v := &view{Tag: b.tagViews[t], Posts: b.entryList(t.posts), Taxonomy: b.taxViews[tx]}
				title := tx.termTitle(t.name)
				if t.index != nil {
					v.Page = b.entries[t.index]
					if t.index.meta.Title != "" {
						title = t.index.meta.Title
					}
				}
				return b.newView(tx.termKind, dir, title, "", v)
			}})
		}
	}
	for _, j := range b.jobs {
		if j.page == nil {
			generate(j.path, site)
		}
	}
	for _, p := range b.generatedFiles() {
		generate(p, site)
	}
	b.planAliases(generate, ps)

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
			ps.addf(file, 0, "would replace %s made by %s; remove or rename it%s", s.path, owners[s.path].describe(), c.themeHint())
			continue
		case dirs[s.path]:
			ps.addf(file, 0, "is a file where the site needs the directory %s/; remove or rename it", s.path)
			continue
		}
		clash := false
		for d := path.Dir(s.path); d != "."; d = path.Dir(d) {
			if b.res.files[d] {
				ps.addf(file, 0, "needs %s to be a directory, but %s makes it a file; rename one of them", d, owners[d].describe())
				clash = true
				break
			}
		}
		if !clash {
			b.res.files[s.path] = true
		}
	}
	b.nav = b.navigation(ps)
	b.inSection = b.topSections()
	b.mainPath = b.mainList()
	if b.cache != nil {
		b.fp = b.res.fingerprint()
	}
}

// describe names an owner in a message.
func (o owner) describe() string {
	if o.file == "" {
		return o.what
	}
	return o.file
}

// collision reports two things making the same bundle path p.
func (b *builder) collision(p string, prev, o owner, ps *problems) {
	if o.file == "" { // the generated site's own path taken by a page
		o, prev = prev, o
	}
	where := describeTarget(p)
	switch {
	case prev.file == "":
		ps.addf(o.file, o.line, "its page would be at %s, which the site itself uses for %s; set another `slug` or `url` in its front matter, or rename the file", where, prev.what)
	default:
		a, c := prev, o
		if c.file < a.file {
			a, c = c, a
		}
		ps.addf(c.file, c.line, "%s would be at %s, as would %s; set another `slug` or `url` in the front matter of one of them, or rename a file", c.what, where, a.describe())
	}
}

// generatedFiles are the files the site makes besides its HTML pages.
func (b *builder) generatedFiles() []string {
	out := []string{siteCSSPath, syntaxCSS}
	out = append(out, b.c.feeds()...)
	return append(out, sitemapPath)
}

// entryList is the entries of pages, in their order.
func (b *builder) entryList(pages []*page) []*entry {
	out := make([]*entry, len(pages))
	for i, p := range pages {
		out[i] = b.entries[p]
	}
	return out
}

// sectionEntry is a section as an item of its parent's list.
func (b *builder) sectionEntry(s *section) *entry {
	if s.index != nil {
		return b.entries[s.index]
	}
	return &entry{Title: s.title, Path: s.dir + "/"}
}

// describe is a page's description: its own, else its summary.
func (b *builder) describe(p *page) string {
	if p.meta.Description != "" {
		return p.meta.Description
	}
	return b.entries[p].Summary
}

// markdownPages lists every page with Markdown of its own, in a fixed order.
func (b *builder) markdownPages() []*page {
	c := b.c
	out := make([]*page, 0, len(c.regular)+len(c.sections)+2)
	out = append(out, c.regular...)
	for _, s := range c.sections {
		if s.index != nil {
			out = append(out, s.index)
		}
	}
	for _, tx := range c.taxes {
		if tx.index != nil {
			out = append(out, tx.index)
		}
		for _, t := range tx.terms {
			if t.index != nil {
				out = append(out, t.index)
			}
		}
	}
	if c.home != nil {
		out = append(out, c.home)
	}
	if c.notFound != nil {
		out = append(out, c.notFound)
	}
	return out
}

// layoutFor is the layout a page asks for in `layout:`, else def. A Hugo
// site's page naming a layout island does not have gets def with a
// warning, as Hugo does; on island's own site it is an error.
func (b *builder) layoutFor(p *page, def string, ps *problems) string {
	name, key := p.meta.Layout, "layout"
	if name == "" && p.hugo != nil && p.hugo.typ != "" {
		// Hugo's type picks layouts too; the section's own name is the
		// type every page of it has anyway.
		if top, _, _ := strings.Cut(p.src, "/"); !strings.EqualFold(p.hugo.typ, top) {
			name, key = p.hugo.typ, "type"
		}
	}
	if name == "" {
		return def
	}
	name = strings.TrimSuffix(name, ".html") + ".html"
	if b.c.hugo != nil {
		// Hugo's layouts are not island's: only island's layouts of one
		// page may be named (post, page); any other falls back.
		if name != "post.html" && name != "page.html" {
			b.cfg.Logger.Warn("site: island has no such layout; using its default one, as Hugo does", "file", p.file,
				"line", p.keyLine(key), key, strings.TrimSuffix(name, ".html"), "default", strings.TrimSuffix(def, ".html"), "layouts", "page, post")
			return def
		}
		return name
	}
	if b.theme.sets[name] == nil {
		ps.addf(p.file, p.meta.keyLines["layout"], "layout %q: no such layout; add content/layouts/%s or use one of: %s",
			p.meta.Layout, name, b.theme.layoutNames())
		return def
	}
	return name
}

// navigation is the site's navigation: a Hugo site's main menu when it has
// one, else the home page, the top-level sections, the taxonomies and the
// top-level pages.
func (b *builder) navigation(ps *problems) []navItem {
	if c := b.c; c.hugo != nil && c.hugo.menu != nil {
		return b.hugoMenu(ps)
	}
	nav := []navItem{{Name: "Home", Path: ""}}
	for _, s := range b.c.sections {
		if s.top && !s.noList {
			nav = append(nav, navItem{Name: s.title, Path: s.dir + "/"})
		}
	}
	for _, tx := range b.c.taxes {
		if b.res.files[indexOf(tx.dir)] {
			nav = append(nav, navItem{Name: tx.title, Path: tx.dir + "/"})
		}
	}
	for _, p := range b.c.pages {
		nav = append(nav, navItem{Name: b.entries[p].Title, Path: b.entries[p].Path})
	}
	return nav
}

// mainList is the bundle directory of the list holding the site's posts:
// posts/, a Hugo site's only main section; "" when there is none.
func (b *builder) mainList() string {
	var found *section
	for _, s := range b.c.sections {
		if s.top && !s.noList && len(b.c.posts) > 0 && slices.Contains(s.pages, b.c.posts[0]) {
			found = s
		}
	}
	if b.c.hugo == nil {
		return postsDir + "/"
	}
	if found == nil {
		return ""
	}
	return found.dir + "/"
}

// newView fills what every page shows: site, navigation, title, and dir,
// the output directory the page is in, which Rel links from.
func (b *builder) newView(kind, dir, title, desc string, v *view) *view {
	v.Site, v.Kind, v.Title, v.Description, v.dir = &b.c.info, kind, title, desc, dir
	v.MainPath = b.mainPath
	if v.Description == "" {
		v.Description = b.c.info.Description
	}
	v.Nav = make([]navItem, len(b.nav))
	for i, n := range b.nav {
		n.Current = n.current(kind, dir) || b.inSection[dir] != nil && b.inSection[dir].dir+"/" == n.Path
		v.Nav[i] = n
	}
	return v
}

// current says the item is the page in dir or holds it: the home page, a
// section or taxonomy and every page in it, a page.
func (n navItem) current(kind, dir string) bool {
	if n.Path == "" {
		return kind == "home"
	}
	if isExternal(n.Path) {
		return false
	}
	p := strings.TrimSuffix(n.Path, "/")
	return dir == p || strings.HasPrefix(dir, p+"/")
}

// topSections maps the directory of every page of a top-level section (or
// below one) to that section, for pages that permalinks put elsewhere.
func (b *builder) topSections() map[string]*section {
	out := map[string]*section{}
	var walk func(top, s *section)
	walk = func(top, s *section) {
		for _, p := range s.pages {
			out[p.dir] = top
		}
		for _, sub := range s.subs {
			walk(top, sub)
		}
	}
	for _, s := range b.c.sections {
		if s.top {
			walk(s, s)
		}
	}
	return out
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
	files := make([]File, 0, len(outs)+5+len(b.aliases)+len(b.c.static))
	add := func(p string, data []byte) {
		files = append(files, File{Path: p, Data: data, Size: int64(len(data))})
	}
	if f, ok := b.redirects(); ok {
		files = append(files, f)
	}
	for _, o := range outs {
		f := File{Path: o.path, Data: o.data, Size: int64(len(o.data)), digest: o.digest}
		if o.absent {
			f.Size, f.absent = o.size, true
		}
		files = append(files, f)
	}
	add(siteCSSPath, b.theme.css)
	add(syntaxCSS, syntaxStyleSheet())
	feed := b.feed()
	for _, p := range b.c.feeds() {
		add(p, feed)
	}
	add(sitemapPath, b.sitemap(outs))
	for _, a := range b.aliases {
		add(a.path, a.data)
	}
	for _, s := range b.c.static {
		files = append(files, File{Path: s.path, Size: s.size, src: s.src, stamp: s.stamp, settled: s.settled})
	}
	bundle := newBundle(files, len(outs), len(b.c.static))
	bundle.inputs = b.c.inputs
	bundle.lifetime = b.c.lifetime
	bundle.changesAt = b.c.changesAt
	return bundle
}
