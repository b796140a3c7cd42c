package site

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// A Hugo site is built as Hugo lays it out (https://gohugo.io/content-management/):
//
//	hugo.toml (config.toml, …)  title, baseURL, languageCode, copyright, author, params,
//	                            menus, taxonomies, permalinks, enableEmoji, markup.goldmark
//	content/_index.md           the home page's text
//	content/SECTION/            a section: every top-level folder, and any folder with an
//	                            _index.md (its title and text); a list page at SECTION/
//	content/SECTION/x.md        a page at SECTION/x/ (slug, url and permalinks move it)
//	content/SECTION/x/index.md  a page bundle: the files beside index.md go to SECTION/x/
//	content/about.md            a top-level page at about/, in the navigation
//	static/, themes/T/static/   copied to the root of the site
//	layouts/shortcodes/         the site's own shortcodes (island renders its own theme)
//
// with the tags and categories (or the configured taxonomies) listed at
// tags/ and tags/TERM/, aliases as pages that lead to the page, and the
// feed at index.xml as well as atom.xml.

// hugoPage is what a Hugo page's front matter says beyond island's keys.
type hugoPage struct {
	terms       map[string][]string // taxonomy key → terms
	aliases     []string
	aliasLine   int
	url         string
	lastmod     time.Time
	publishDate time.Time
	expiryDate  time.Time
	render      bool // false: headless, or build.render = never
	list        bool // false: build.list = never, left out of lists
	typ         string
	menus       []hugoMenuEntry
	params      map[string]any // every key, lower-cased, for the param shortcode
	cascade     map[string]any // what an _index.md hands down to the pages below it
	resources   []string       // a bundle's files, relative to the page
}

// hugoContentExts are the Markdown files a Hugo site's content/ holds;
// other content formats (AsciiDoc, Org, …) are copied as files with a
// warning.
var hugoContentExts = []string{".md", ".markdown"}

var hugoOtherFormats = []string{".adoc", ".asciidoc", ".org", ".pandoc", ".pdc", ".rst"}

func isHugoContent(name string) bool { return slices.Contains(hugoContentExts, path.Ext(name)) }

// hugoTree is what walking content/ found.
type hugoTree struct {
	srcs      []string          // Markdown files, content-relative
	leaves    map[string]string // leaf bundle directory → its index file
	lists     map[string]bool   // directories with an _index file
	resources []hugoResource
}

// hugoResource is a file of content/ that is not a page: a bundle's
// image, a section's file.
type hugoResource struct {
	src    string // content-relative
	abs    string
	bundle string // the leaf bundle's directory, "" when in no leaf bundle
}

// walkHugoContent lists content/.
func walkHugoContent(cfg Config, srcDir string, ps *problems) hugoTree {
	t := hugoTree{leaves: map[string]string{}, lists: map[string]bool{}}
	skip := func(name string) bool {
		return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "#") || strings.HasSuffix(name, "~")
	}
	leafIndex := func(dir string) string {
		for _, ext := range hugoContentExts {
			if fileExists(filepath.Join(dir, "index"+ext)) {
				return "index" + ext
			}
		}
		return ""
	}
	var bundle string // the leaf bundle being walked
	err := filepath.WalkDir(srcDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			ps.addf(p, 0, "cannot read: %v", err)
			return nil
		}
		if p == srcDir {
			return nil
		}
		rel, _ := filepath.Rel(srcDir, p)
		rel = filepath.ToSlash(rel)
		if skip(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if bundle != "" && !strings.HasPrefix(rel, bundle+"/") {
			bundle = ""
		}
		if d.IsDir() {
			if bundle == "" {
				if idx := leafIndex(p); idx != "" {
					bundle = rel
					t.leaves[rel] = rel + "/" + idx
					t.srcs = append(t.srcs, rel+"/"+idx)
				}
			}
			return nil
		}
		name := d.Name()
		switch {
		case bundle != "" && isHugoContent(name):
			// A bundle's other Markdown files are its resources, not pages,
			// and Hugo does not publish them.
		case bundle != "":
			t.resources = append(t.resources, hugoResource{src: rel, abs: p, bundle: bundle})
		case isHugoContent(name):
			if strings.HasPrefix(name, "_index.") {
				t.lists[path.Dir(rel)] = true
			}
			t.srcs = append(t.srcs, rel)
		default:
			if slices.Contains(hugoOtherFormats, path.Ext(name)) {
				cfg.Logger.Warn("site: island renders Markdown only; copying this file as it is", "file", p)
			}
			t.resources = append(t.resources, hugoResource{src: rel, abs: p})
		}
		return nil
	})
	if err != nil {
		ps.addf(srcDir, 0, "%v", err)
	}
	return t
}

// loadHugo reads the Hugo site at root.
func loadHugo(ctx context.Context, cfg Config, root string, cache *cache, start time.Time, ps *problems) (*content, error) {
	h, info := loadHugoSite(root, cfg.Logger, ps)
	if root != cfg.ContentDir {
		cfg.Logger.Info("site: building the Hugo site this is the content of", "content", cfg.ContentDir, "site", root)
	}
	c := &content{dir: root, srcDir: h.srcDir, hugo: h, info: info, excluded: map[string]string{}, inputs: h.inputs()}
	if st, err := os.Stat(h.srcDir); err != nil || !st.IsDir() {
		ps.addf(h.srcDir, 0, "the Hugo site has no content directory; create it or set contentDir in %s", filepath.Base(h.files[0]))
		return c, nil
	}
	if others := h.loadShortcodes(ps); others > 0 {
		cfg.Logger.Warn("site: island renders the site with its own theme: the Hugo templates in layouts/ are not used, but for shortcodes",
			"layouts", h.layouts[0], "templates", others)
	}
	tree := walkHugoContent(cfg, h.srcDir, ps)
	pages, err := readSources(ctx, cfg, h.srcDir, tree.srcs, cache, start, true, ps)
	if err != nil {
		return nil, err
	}
	// Lists first, so that what an _index.md cascades reaches the pages
	// below it, shallower before deeper.
	slices.SortStableFunc(pages, func(a, b *page) int {
		return cmp.Or(cmp.Compare(listRank(a.src), listRank(b.src)), cmp.Compare(strings.Count(a.src, "/"), strings.Count(b.src, "/")))
	})
	l := hugoLoader{c: c, h: h, cfg: cfg, tree: tree, ps: ps, sections: map[string]*section{}, cascades: map[string]map[string]any{},
		taxes: map[string]*taxonomy{}}
	l.makeTaxonomies()
	l.makeSections(pages)
	for _, p := range pages {
		l.place(p)
	}
	l.finish()
	c.static = l.static(start)
	return c, nil
}

// listRank orders _index files before other pages.
func listRank(src string) int {
	if strings.HasPrefix(path.Base(src), "_index.") {
		return 0
	}
	return 1
}

// hugoLoader places a Hugo site's pages.
type hugoLoader struct {
	c        *content
	h        *hugoSite
	cfg      Config
	tree     hugoTree
	ps       *problems
	sections map[string]*section // by content directory
	taxes    map[string]*taxonomy
	cascades map[string]map[string]any // content directory → what its _index.md cascades
	// excludedDirs are the directories of leaf bundles left out, whose
	// resources are not published either.
	excludedDirs map[string]bool
	bundleDirs   map[string]string // leaf bundle's content directory → its bundle directory
	termIdx      map[*taxonomy]map[string]*page
	bundlePages  map[string]*page // leaf bundle's content directory → its page
}

// sanitize makes a path segment of a URL as Hugo does (MakePathSanitized):
// letters, digits and marks kept, spaces made '-', other characters but
// "._-+~#" dropped, lower-cased unless disablePathToLower.
func (h *hugoSite) sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || strings.ContainsRune("._-+~#", r):
			b.WriteRune(r)
		case unicode.IsSpace(r):
			b.WriteByte('-')
		}
	}
	out := b.String()
	if h.lowerPaths {
		out = strings.ToLower(out)
	}
	return out
}

// sanitizeDir sanitizes every segment of a content directory ("." is the root, "").
func (h *hugoSite) sanitizeDir(dir string) string {
	if dir == "." || dir == "" {
		return ""
	}
	parts := strings.Split(dir, "/")
	for i, s := range parts {
		parts[i] = h.sanitize(s)
	}
	return strings.Join(parts, "/")
}

// termSlug is a taxonomy term's directory, Hugo's urlize.
func (h *hugoSite) termSlug(name string) string {
	return strings.Trim(strings.ToLower(h.sanitize(name)), "-.")
}

func (l *hugoLoader) makeTaxonomies() {
	for _, key := range slices.Sorted(maps.Keys(l.h.taxonomies)) {
		singular := l.h.taxonomies[key]
		tx := &taxonomy{key: key, singular: singular, dir: l.h.sanitize(key), title: titleFromSlug(key),
			kind: "taxonomy", termKind: "term", layout: "terms.html", termLayout: "term.html"}
		word := titleFromSlug(singular)
		tx.termTitle = func(name string) string { return word + ": " + name }
		l.taxes[key] = tx
		l.c.taxes = append(l.c.taxes, tx)
	}
}

// taxonomyDir says a content directory belongs to a taxonomy (tags/,
// tags/go/), whose _index.md files give titles and text to its pages.
func (l *hugoLoader) taxonomyDir(dir string) (*taxonomy, string, bool) {
	top, rest, _ := strings.Cut(dir, "/")
	tx := l.taxes[strings.ToLower(top)]
	if tx == nil || strings.Contains(rest, "/") {
		return nil, "", false
	}
	return tx, rest, true
}

// makeSections makes a section of every top-level directory and of every
// directory with an _index file.
func (l *hugoLoader) makeSections(pages []*page) {
	dirs := map[string]bool{}
	for d := range l.tree.lists {
		if d != "." {
			dirs[d] = true
		}
	}
	for _, p := range pages {
		if top, _, ok := strings.Cut(p.src, "/"); ok {
			dirs[top] = true
		}
	}
	for _, r := range l.tree.resources {
		if top, _, ok := strings.Cut(r.src, "/"); ok && r.bundle == "" {
			dirs[top] = true
		}
	}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		if _, isLeaf := l.tree.leaves[d]; isLeaf {
			continue
		}
		if _, _, ok := l.taxonomyDir(d); ok {
			continue
		}
		if strings.Contains(d, "/") && !l.tree.lists[d] {
			continue // a folder that is no section: its pages are its parent's
		}
		s := &section{dir: l.h.sanitizeDir(d), title: titleFromSlug(path.Base(d)), kind: "section", layout: "section.html", top: !strings.Contains(d, "/")}
		l.sections[d] = s
	}
	for _, d := range slices.Sorted(maps.Keys(l.sections)) {
		s := l.sections[d]
		if s.top {
			l.c.sections = append(l.c.sections, s)
			continue
		}
		if parent := l.sectionOf(path.Dir(d)); parent != nil {
			parent.subs = append(parent.subs, s)
		}
		l.c.sections = append(l.c.sections, s)
	}
}

// sectionOf is the section a content directory belongs to: its own or its
// nearest ancestor's; nil at the top.
func (l *hugoLoader) sectionOf(dir string) *section {
	for d := dir; d != "." && d != ""; d = path.Dir(d) {
		if s := l.sections[d]; s != nil {
			return s
		}
	}
	return nil
}

// cascaded is what the _index.md files above dir hand down, nearest first.
func (l *hugoLoader) cascaded(dir string) []map[string]any {
	var out []map[string]any
	for d := dir; ; d = path.Dir(d) {
		if m := l.cascades[d]; m != nil {
			out = append(out, m)
		}
		if d == "." || d == "" {
			return out
		}
	}
}

// place gives one page its kind and place and files it.
func (l *hugoLoader) place(p *page) {
	c, h := l.c, l.h
	srcDir := path.Dir(p.src)
	base := path.Base(p.src)
	stem := strings.TrimSuffix(base, path.Ext(base))
	isList := stem == "_index"
	cascadeFrom := srcDir
	if isList {
		cascadeFrom = path.Dir(srcDir)
		if srcDir == "." {
			cascadeFrom = ""
		}
	}
	hp := l.frontMatter(p, cascadeFrom)
	if hp == nil {
		return
	}
	p.hugo = hp
	if isList && hp.cascade != nil {
		l.cascades[srcDir] = hp.cascade
	}

	switch {
	case isList && srcDir == ".", p.src == "index.md" && !l.tree.lists["."]:
		p.kind, p.dir, p.slug = kindHome, "", ""
		if l.keep(p) {
			c.home = p
		}
		return
	case isList:
		p.kind = kindList
		if tx, term, ok := l.taxonomyDir(srcDir); ok {
			if !l.keep(p) {
				return
			}
			if term == "" {
				p.dir = tx.dir
				tx.index = p
				if p.meta.Title != "" {
					tx.title = p.meta.Title
				}
			} else {
				p.dir = tx.dir + "/" + h.termSlug(term)
				l.termIndexes(tx)[h.termSlug(term)] = p
			}
			return
		}
		s := l.sections[srcDir]
		if s == nil {
			return
		}
		p.dir = s.dir
		if hp.url != "" {
			p.dir, p.out = l.urlPath(p, hp.url)
			s.dir = p.dir
		}
		if !l.keep(p) {
			s.noList = true // a section whose _index.md is not built has no list page
			return
		}
		s.index = p
		if p.meta.Title != "" {
			s.title = p.meta.Title
		}
		p.slug = path.Base(s.dir)
		return
	}

	// A regular page: a file, or a leaf bundle's index.
	name, parent := stem, srcDir
	bundleDir, isBundle := "", false
	if _, ok := l.tree.leaves[srcDir]; ok && stem == "index" {
		bundleDir, isBundle = srcDir, true
		name, parent = path.Base(srcDir), path.Dir(srcDir)
		if srcDir == "." {
			name, parent = "", "."
		}
	}
	if tx, _, ok := l.taxonomyDir(parent); ok && parent != "." {
		l.cfg.Logger.Warn("site: skipping a page inside a taxonomy's folder; pages of "+tx.key+"/ are made from the pages' front matter",
			"file", p.file)
		return
	}
	sec := l.sectionOf(parent)
	if p.meta.Title == "" {
		p.meta.Title = name
	}
	slug := name
	if p.meta.Slug != "" {
		slug = p.meta.Slug
	}
	switch {
	case hp.url != "":
		p.dir, p.out = l.urlPath(p, hp.url)
	case l.permalink(p, parent, name) != "":
		p.dir = l.permalink(p, parent, name)
	default:
		p.dir = strings.TrimPrefix(h.sanitizeDir(parent)+"/"+h.sanitize(slug), "/")
	}
	p.slug = path.Base(p.dir)
	if p.out != "" {
		p.slug = strings.TrimSuffix(path.Base(p.out), path.Ext(p.out))
	}
	if p.dir == "" && p.out == "" {
		l.ps.addf(p.file, p.pathLine(), "its page would be the home page; set another `url` or `slug`, or move the file")
		return
	}
	if isBundle {
		if l.bundleDirs == nil {
			l.bundleDirs, l.bundlePages = map[string]string{}, map[string]*page{}
		}
		l.bundleDirs[bundleDir] = p.dir
		l.bundlePages[bundleDir] = p
	}
	if !l.keep(p) {
		if isBundle {
			if l.excludedDirs == nil {
				l.excludedDirs = map[string]bool{}
			}
			l.excludedDirs[bundleDir] = true
		}
		return
	}
	if sec == nil {
		p.kind = kindPage
		c.pages = append(c.pages, p)
	} else {
		p.kind = kindPost
		sec.pages = append(sec.pages, p)
	}
	c.regular = append(c.regular, p)
}

// termIndexes are the _index.md pages of a taxonomy's terms, by slug,
// kept until the terms are known.
func (l *hugoLoader) termIndexes(tx *taxonomy) map[string]*page {
	if l.termIdx == nil {
		l.termIdx = map[*taxonomy]map[string]*page{}
	}
	if l.termIdx[tx] == nil {
		l.termIdx[tx] = map[string]*page{}
	}
	return l.termIdx[tx]
}

// keep says whether a page is built: not a draft, not in the future, not
// expired, not headless. A page left out is remembered, for links to it.
func (l *hugoLoader) keep(p *page) bool {
	hp := p.hugo
	l.c.changeAt(l.cfg, p.meta.Date, hp.publishDate, hp.expiryDate)
	reason := leftOut(p, l.cfg)
	switch {
	case reason != "":
	case !hp.publishDate.IsZero() && hp.publishDate.After(l.cfg.Now) && !l.cfg.Future:
		reason = "to be published in the future (build with --future to include it)"
	case !hp.expiryDate.IsZero() && !hp.expiryDate.After(l.cfg.Now):
		reason = "expired (its expiryDate has passed)"
	case !hp.render:
		reason = "headless (its front matter says not to render it)"
	}
	if reason != "" {
		l.c.exclude(p, reason)
		return false
	}
	return true
}

// urlPath is where a page's `url` puts it: a directory, or a file when it
// names one (about.html).
func (l *hugoLoader) urlPath(p *page, u string) (dir, out string) {
	if l.h.baseURL != "" {
		if rest, ok := strings.CutPrefix(u, l.h.baseURL); ok {
			u = "/" + rest
		}
	}
	clean := cleanJoin("", strings.TrimPrefix(u, "/"))
	if escapesRoot(clean) {
		l.ps.addf(p.file, p.meta.keyLines["url"], "url %q goes above the site's root; write a path such as /about/", u)
		return "", ""
	}
	switch path.Ext(clean) {
	case ".html", ".htm", ".xml", ".json", ".txt":
		if !strings.HasSuffix(u, "/") {
			d := path.Dir(clean)
			if d == "." {
				d = ""
			}
			return d, clean
		}
	}
	return clean, ""
}

// permalinkTokens are the parts of a permalink pattern island fills in.
var permalinkTokens = []string{
	":year", ":month", ":monthname", ":day", ":weekday", ":weekdayname", ":yearday", ":section", ":sections",
	":title", ":slug", ":filename", ":slugorfilename", ":contentbasename", ":slugorcontentbasename",
}

// badPermalinkToken is the first token of pattern island cannot fill, or "".
func badPermalinkToken(pattern string) string {
	for _, seg := range strings.Split(pattern, "/") {
		for i := 0; i < len(seg); i++ {
			if seg[i] != ':' {
				continue
			}
			j := i + 1
			for j < len(seg) && (seg[j] >= 'a' && seg[j] <= 'z' || seg[j] >= 'A' && seg[j] <= 'Z') {
				j++
			}
			if tok := strings.ToLower(seg[i:j]); !slices.Contains(permalinkTokens, tok) {
				return seg[i:j]
			}
			i = j - 1
		}
	}
	return ""
}

// permalink is where the site's permalinks put a page of section top, or "".
func (l *hugoLoader) permalink(p *page, parent, name string) string {
	top, _, _ := strings.Cut(parent, "/")
	var pattern string
	for k, v := range l.h.permalinks {
		if strings.EqualFold(k, top) {
			pattern = v
		}
	}
	if pattern == "" {
		return ""
	}
	h := l.h
	d := p.meta.Date
	slug := p.meta.Slug
	title := h.sanitize(p.meta.Title)
	values := map[string]string{
		":year": fmt.Sprintf("%04d", d.Year()), ":month": fmt.Sprintf("%02d", int(d.Month())),
		":monthname": strings.ToLower(d.Month().String()), ":day": fmt.Sprintf("%02d", d.Day()),
		":weekday": strconv.Itoa(int(d.Weekday())), ":weekdayname": strings.ToLower(d.Weekday().String()),
		":yearday": strconv.Itoa(d.YearDay()), ":section": h.sanitize(top), ":sections": h.sanitizeDir(parent),
		":title": title, ":slug": h.sanitize(cmp.Or(slug, p.meta.Title)), ":filename": h.sanitize(name),
		":slugorfilename": h.sanitize(cmp.Or(slug, name)), ":contentbasename": h.sanitize(name),
		":slugorcontentbasename": h.sanitize(cmp.Or(slug, name)),
	}
	var segs []string
	for _, seg := range strings.Split(pattern, "/") {
		if seg == "" {
			continue
		}
		var b strings.Builder
		for i := 0; i < len(seg); i++ {
			if seg[i] != ':' {
				b.WriteByte(seg[i])
				continue
			}
			j := i + 1
			for j < len(seg) && (seg[j] >= 'a' && seg[j] <= 'z' || seg[j] >= 'A' && seg[j] <= 'Z') {
				j++
			}
			b.WriteString(values[strings.ToLower(seg[i:j])])
			i = j - 1
		}
		segs = append(segs, b.String())
	}
	return cleanJoin("", strings.Join(segs, "/"))
}

// finish sorts what was placed and makes the lists that depend on all of it.
func (l *hugoLoader) finish() {
	c := l.c
	slices.SortFunc(c.regular, comparePosts)
	slices.SortFunc(c.pages, func(a, b *page) int {
		return cmp.Or(compareWeight(a.meta.Weight, b.meta.Weight), cmp.Compare(a.slug, b.slug))
	})
	listed := func(p *page) bool { return !p.hugo.list }
	for _, s := range c.sections {
		s.pages = slices.DeleteFunc(s.pages, listed)
		slices.SortFunc(s.pages, comparePosts)
	}
	// Hugo's main sections: params.mainSections, else the section with the
	// most pages.
	main := map[string]bool{}
	for _, s := range l.h.mainSections {
		main[strings.ToLower(s)] = true
	}
	if len(main) == 0 {
		var best *section
		count := map[*section]int{}
		for _, p := range c.regular {
			if top := l.topSection(p); top != nil {
				count[top]++
				if best == nil || count[top] > count[best] || count[top] == count[best] && top.dir < best.dir {
					best = top
				}
			}
		}
		if best != nil {
			main[best.dir] = true
		}
	}
	for _, p := range c.regular {
		if top := l.topSection(p); top != nil && main[top.dir] && p.hugo.list {
			c.posts = append(c.posts, p)
		}
	}
	for _, tx := range c.taxes {
		collectTerms(tx, slices.DeleteFunc(slices.Clone(c.regular), listed), l.h.termSlug, l.ps)
		for _, t := range tx.terms {
			t.index = l.termIdx[tx][t.slug]
		}
	}
}

// topSection is the top-level section a page is in, nil for a top-level page.
func (l *hugoLoader) topSection(p *page) *section {
	top, _, ok := strings.Cut(p.src, "/")
	if !ok {
		return nil
	}
	return l.sections[top]
}

// static lists static/ (and the theme's) and the resources of content/.
func (l *hugoLoader) static(start time.Time) []staticFile {
	byPath := map[string]staticFile{}
	for i := len(l.h.statics) - 1; i >= 0; i-- { // the site's replace the theme's
		dir := l.h.statics[i]
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		for _, f := range loadStatic(dir, start, l.ps) {
			byPath[f.path] = f
		}
	}
	var out []staticFile
	for _, f := range byPath {
		out = append(out, f)
	}
	for _, r := range l.tree.resources {
		if r.bundle != "" && l.excludedDirs[r.bundle] {
			continue
		}
		var dst string
		if r.bundle != "" {
			dir, ok := l.bundleDirs[r.bundle]
			if !ok {
				continue // a bundle whose page could not be placed
			}
			rel := strings.TrimPrefix(r.src, r.bundle+"/")
			dst = dir + "/" + rel
			if p := l.bundlePages[r.bundle]; p != nil {
				p.hugo.resources = append(p.hugo.resources, rel)
			}
		} else {
			dst = strings.TrimPrefix(l.h.sanitizeDir(path.Dir(r.src))+"/"+path.Base(r.src), "/")
		}
		if !insideContent(l.h.root, r.abs, l.ps) {
			continue
		}
		info, err := os.Stat(r.abs)
		if err != nil {
			l.ps.addf(r.abs, 0, "cannot read: %v", err)
			continue
		}
		if !info.Mode().IsRegular() {
			l.ps.addf(r.abs, 0, "is not a regular file; content/ may hold only files and directories")
			continue
		}
		stamp := stampOf(info)
		out = append(out, staticFile{path: dst, src: r.abs, size: info.Size(), stamp: stamp, settled: stamp.settledAt(start)})
	}
	slices.SortFunc(out, func(a, b staticFile) int { return cmp.Or(cmp.Compare(a.path, b.path), cmp.Compare(a.src, b.src)) })
	// Two files for one path (a static file and a bundle's): the first is
	// kept, the other reported.
	return slices.CompactFunc(out, func(a, b staticFile) bool {
		if a.path == b.path {
			l.ps.addf(b.src, 0, "would be at %s, as would %s; rename one of them", a.path, a.src)
			return true
		}
		return false
	})
}
