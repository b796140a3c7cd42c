package site

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"html/template"
	"log/slog"
	"maps"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	lexers "github.com/islandsite/island/third_party/chromalexers"
)

// builtinShortcodes are Hugo's shortcodes island renders itself, each
// without loading anything from another site: an embed (a video, a post)
// becomes a link to it, so the page works offline from any gateway.
var builtinShortcodes = map[string]struct {
	inner bool // takes inner content
	text  bool // its output is text for the Markdown (a URL, a value), not HTML
}{
	"comment": {inner: true}, "details": {inner: true}, "figure": {}, "gist": {}, "highlight": {inner: true},
	"instagram": {}, "param": {text: true}, "ref": {text: true}, "relref": {text: true}, "tweet": {},
	"twitter": {}, "vimeo": {}, "x": {}, "youtube": {},
}

// renderEnv is what rendering a Hugo site's Markdown needs beyond the page:
// its settings and shortcode templates, the same for every page of a build.
type renderEnv struct {
	h         *hugoSite
	info      *siteInfo
	templates map[string]*template.Template // user shortcodes, by name
	problems  map[string]Problem            // user shortcodes that did not parse
	site      *siteContext
	// key covers everything a page's rendering depends on besides its own
	// file and its links: a Builder reuses a rendering only under the same.
	key [sha256.Size]byte
	// fragments renders Markdown inside shortcodes (markdownify, details),
	// one goldmark per goroutine at a time.
	fragments sync.Pool
	opts      mdOptions
	funcs     template.FuncMap
}

// newRenderEnv parses a Hugo site's shortcode templates; nil for island's
// own layout, which has no shortcodes.
func newRenderEnv(c *content, log *slog.Logger) *renderEnv {
	h := c.hugo
	if h == nil {
		return nil
	}
	env := &renderEnv{h: h, info: &c.info, templates: map[string]*template.Template{}, problems: map[string]Problem{},
		opts: mdOptionsOf(h)}
	env.funcs = env.funcMap(log)
	env.site = &siteContext{Title: c.info.Title, BaseURL: h.baseURL, LanguageCode: c.info.Language, Copyright: c.info.Copyright, Params: h.params}
	k := newKeyWriter()
	for _, name := range slices.Sorted(maps.Keys(h.shortcodes)) {
		f := h.shortcodes[name]
		k.str(name)
		k.str(f.text)
		t, err := template.New(name).Funcs(env.funcs).Parse(f.text)
		if err != nil {
			env.problems[name] = templateProblem(map[string]layoutFile{name: f}, name, err)
			continue
		}
		env.templates[name] = t
	}
	settings, _ := json.Marshal([]any{h.params, h.baseURL, h.emoji, h.inlineShortcodes, h.unsafe, h.typographer, h.passthrough, c.info})
	k.str(string(settings))
	env.key = k.sum()
	env.fragments.New = func() any { return newFragmentMarkdown(env.opts) }
	return env
}

// takesInner says whether the shortcode name has inner content.
func (env *renderEnv) takesInner(name string) (bool, error) {
	if b, ok := builtinShortcodes[name]; ok {
		return b.inner, nil
	}
	if strings.HasSuffix(name, ".inline") {
		return true, nil
	}
	if f, ok := env.h.shortcodes[name]; ok {
		return strings.Contains(f.text, ".Inner"), nil
	}
	return false, fmt.Errorf("unknown shortcode %q: Hugo's built-in ones island renders are %s; add your own as layouts/shortcodes/%s.html",
		name, strings.Join(slices.Sorted(maps.Keys(builtinShortcodes)), ", "), name)
}

// expansion is a page's Markdown with its shortcodes done: Markdown
// shortcodes' output in place, HTML ones' as placeholders filled in after
// rendering.
type expansion struct {
	body  []byte
	html  []string // by placeholder number
	spans []span   // where each part of body came from
	refs  []refUse
}

// span maps a stretch of the expanded body to the source: at offset from
// in the body, source offset to; verbatim stretches map byte for byte,
// inserted ones to the shortcode's start.
type span struct {
	from, to int
	verbatim bool
}

// source maps an offset of the expanded body to one of the source.
func (x *expansion) source(off int) int {
	i, _ := slices.BinarySearchFunc(x.spans, off, func(s span, off int) int {
		switch {
		case s.from > off:
			return 1
		case s.from < off:
			return -1
		}
		return 0
	})
	if i == len(x.spans) || x.spans[i].from > off {
		i--
	}
	if i < 0 {
		return off
	}
	s := x.spans[i]
	if s.verbatim {
		return s.to + off - s.from
	}
	return s.to
}

// placeholder is the text standing for HTML shortcode output n until the
// page is rendered: letters and digits only, so that neither Markdown nor
// a code highlighter splits or escapes it.
func placeholder(n int) string { return "ISLANDSHORTCODE" + strconv.Itoa(n) + "X" }

// refUse is a ref or relref as resolved, so that a Builder can tell
// whether it still resolves the same.
type refUse struct {
	from loc
	arg  string
	href string
	err  string
}

// expander expands the shortcodes of one page.
type expander struct {
	env      *renderEnv
	p        *page
	res      *resolver
	x        *expansion
	inlines  map[string]*template.Template
	ordinals map[string]int
	errs     []*scError
	pageCtx  *pageContext
}

// expand does the shortcodes of p's body. Problems are returned as
// Problems at their line of the file.
func (env *renderEnv) expand(p *page, res *resolver) (*expansion, []Problem) {
	pieces, err := parseShortcodes(p.body, env.takesInner)
	if err != nil {
		var se *scError
		if errors.As(err, &se) {
			return nil, []Problem{{File: p.file, Line: p.bodyLine + se.line - 1, Msg: se.msg}}
		}
		return nil, []Problem{{File: p.file, Line: p.bodyLine, Msg: err.Error()}}
	}
	e := &expander{env: env, p: p, res: res, x: &expansion{}, ordinals: map[string]int{}}
	var body bytes.Buffer
	srcOff := 0
	for _, pc := range pieces {
		if pc.call == nil {
			e.x.spans = append(e.x.spans, span{from: body.Len(), to: srcOff, verbatim: true})
			body.WriteString(pc.text)
			srcOff += len(pc.text)
			continue
		}
		c := pc.call
		e.x.spans = append(e.x.spans, span{from: body.Len(), to: c.start})
		out, asText := e.render(c, nil)
		if asText {
			body.WriteString(out)
		} else {
			body.WriteString(placeholder(len(e.x.html)))
			e.x.html = append(e.x.html, out)
		}
		srcOff = c.end
	}
	e.x.body = body.Bytes()
	var ps []Problem
	for _, se := range e.errs {
		ps = append(ps, Problem{File: p.file, Line: p.bodyLine + se.line - 1, Msg: se.msg})
	}
	return e.x, ps
}

// fail records a problem with the shortcode c.
func (e *expander) fail(c *scCall, format string, args ...any) {
	e.errs = append(e.errs, &scError{line: c.line, msg: fmt.Sprintf(format, args...)})
}

// inner is c's inner content with the shortcodes in it done: their output
// in place, HTML or Markdown.
func (e *expander) inner(c *scCall, ctx *scContext) string {
	var b strings.Builder
	for _, pc := range c.inner {
		if pc.call == nil {
			b.WriteString(pc.text)
			continue
		}
		out, _ := e.render(pc.call, ctx)
		b.WriteString(out)
	}
	return b.String()
}

// render renders one shortcode; asText says its output goes into the
// Markdown rather than standing for HTML (Markdown shortcodes, values).
func (e *expander) render(c *scCall, parent *scContext) (out string, asText bool) {
	e.ordinals[c.name]++
	if b, ok := builtinShortcodes[c.name]; ok {
		return e.builtin(c, parent), b.text
	}
	if strings.HasSuffix(c.name, ".inline") {
		return e.inline(c, parent), c.markdown
	}
	ctx := e.context(c, parent)
	t := e.env.templates[c.name]
	if t == nil {
		if pr, ok := e.env.problems[c.name]; ok {
			e.fail(c, "shortcode %q: %s:%d: %s", c.name, pr.File, pr.Line, strings.TrimPrefix(pr.Msg, "layout: "))
		}
		return "", true
	}
	return e.execute(c, t, ctx, e.env.h.shortcodes[c.name].file), c.markdown
}

// execute runs a shortcode template.
func (e *expander) execute(c *scCall, t *template.Template, ctx *scContext, file string) string {
	var b bytes.Buffer
	if err := t.Execute(&b, ctx); err != nil {
		e.fail(c, "shortcode %q (%s): %v", c.name, file, err)
		return ""
	}
	return b.String()
}

// inline runs an inline shortcode ({{< name.inline >}}template{{< /name.inline >}}),
// defined at its first use on the page and run again by {{< name.inline />}}.
func (e *expander) inline(c *scCall, parent *scContext) string {
	if !e.env.h.inlineShortcodes {
		if c.hasInner {
			e.fail(c, "inline shortcode %q: inline shortcodes are off; set enableInlineShortcodes = true in the site's configuration", c.name)
		}
		return ""
	}
	if e.inlines == nil {
		e.inlines = map[string]*template.Template{}
	}
	t := e.inlines[c.name]
	if c.hasInner {
		var err error
		t, err = template.New(c.name).Funcs(e.env.funcs).Parse(c.innerRaw)
		if err != nil {
			e.fail(c, "inline shortcode %q: %v", c.name, err)
			return ""
		}
		e.inlines[c.name] = t
	}
	if t == nil {
		e.fail(c, "inline shortcode %q is used before it is defined; define it with {{< %s >}}…{{< /%s >}} first", c.name, c.name, c.name)
		return ""
	}
	ctx := e.context(c, parent)
	ctx.Inner = ""
	return e.execute(c, t, ctx, e.p.file)
}

// builtin renders one of Hugo's built-in shortcodes.
func (e *expander) builtin(c *scCall, parent *scContext) string {
	esc := html.EscapeString
	switch c.name {
	case "comment":
		return ""
	case "ref", "relref":
		return e.ref(c, c.str("path", 0))
	case "param":
		key := c.str("name", 0)
		v, ok := e.pageContext().param(key)
		if !ok {
			e.fail(c, "param %q: neither the page's front matter nor the site's params set it", key)
			return ""
		}
		return esc(fmt.Sprint(v))
	case "highlight":
		lang := c.str("lang", 0)
		opts := c.str("options", 1)
		code := strings.TrimPrefix(e.inner(c, e.context(c, parent)), "\n")
		code = strings.TrimRight(code, " \t\n") + "\n"
		return highlightHTML(lang, code, opts)
	case "details":
		summary := c.str("summary", -1)
		if summary == "" {
			summary = "Details"
		}
		var b strings.Builder
		b.WriteString("<details")
		for _, a := range []string{"class", "name", "title"} {
			if v := c.str(a, -1); v != "" {
				fmt.Fprintf(&b, ` %s="%s"`, a, esc(v))
			}
		}
		if o, ok := c.named["open"]; ok && (o.value == true || o.text == "true") {
			b.WriteString(" open")
		}
		fmt.Fprintf(&b, ">\n<summary>%s</summary>\n%s</details>", e.env.markdownify(summary, true), e.env.renderMarkdown(e.inner(c, e.context(c, parent))))
		return b.String()
	case "figure":
		return e.figure(c)
	case "youtube":
		id := c.str("id", 0)
		u := "https://www.youtube.com/watch?v=" + url.QueryEscape(id)
		if s := c.str("start", -1); s != "" {
			u += "&t=" + url.QueryEscape(s)
		}
		return embedLink(u, c.str("title", -1), "YouTube video "+id, "YouTube")
	case "vimeo":
		id := c.str("id", 0)
		return embedLink("https://vimeo.com/"+url.PathEscape(id), c.str("title", -1), "Vimeo video "+id, "Vimeo")
	case "x", "twitter", "tweet":
		user, id := c.str("user", -1), c.str("id", -1)
		if id == "" {
			id = c.str("", 0)
		}
		if user == "" {
			return embedLink("https://x.com/i/status/"+url.PathEscape(id), "", "Post "+id, "X")
		}
		return embedLink("https://x.com/"+url.PathEscape(user)+"/status/"+url.PathEscape(id), "", "Post by @"+user, "X")
	case "instagram":
		id := c.str("id", 0)
		return embedLink("https://www.instagram.com/p/"+url.PathEscape(id)+"/", "", "Instagram post "+id, "Instagram")
	case "gist":
		user, id, file := c.str("user", 0), c.str("id", 1), c.str("file", 2)
		u := "https://gist.github.com/" + url.PathEscape(user) + "/" + url.PathEscape(id)
		title := "Gist " + user + "/" + id
		if file != "" {
			u += "#file-" + strings.ReplaceAll(strings.ToLower(file), ".", "-")
			title += " (" + file + ")"
		}
		return embedLink(u, "", title, "GitHub Gist")
	}
	return ""
}

// embedLink is what island writes for an embed: a link to it, with its
// title and where it is, and nothing loaded from there.
func embedLink(u, title, fallback, where string) string {
	if title == "" {
		title = fallback
	}
	return fmt.Sprintf(`<p class="embed"><a href="%s">%s</a> <span class="meta">(%s)</span></p>`,
		html.EscapeString(u), html.EscapeString(title), html.EscapeString(where))
}

// figure is Hugo's figure shortcode: an image with an optional link and
// caption (title, caption and attribution, Markdown allowed).
func (e *expander) figure(c *scCall) string {
	esc := html.EscapeString
	get := func(k string) string { return c.str(k, -1) }
	var b strings.Builder
	b.WriteString("<figure")
	if v := get("class"); v != "" {
		fmt.Fprintf(&b, ` class="%s"`, esc(v))
	}
	b.WriteString(">\n")
	if v := get("link"); v != "" {
		fmt.Fprintf(&b, `<a href="%s"`, esc(v))
		for _, a := range []string{"target", "rel"} {
			if v := get(a); v != "" {
				fmt.Fprintf(&b, ` %s="%s"`, a, esc(v))
			}
		}
		b.WriteString(">")
	}
	alt := get("alt")
	if alt == "" {
		alt = plainText(string(e.env.markdownify(get("caption"), true)))
	}
	fmt.Fprintf(&b, `<img src="%s" alt="%s"`, esc(get("src")), esc(alt))
	for _, a := range []string{"width", "height", "loading"} {
		if v := get(a); v != "" {
			fmt.Fprintf(&b, ` %s="%s"`, a, esc(v))
		}
	}
	b.WriteString(">")
	if get("link") != "" {
		b.WriteString("</a>")
	}
	b.WriteString("\n")
	title, caption, attr := get("title"), get("caption"), get("attr")
	if title != "" || caption != "" || attr != "" {
		b.WriteString("<figcaption>")
		if title != "" {
			fmt.Fprintf(&b, "<h4>%s</h4>", esc(title))
		}
		if caption != "" || attr != "" {
			b.WriteString("<p>")
			b.WriteString(string(e.env.markdownify(caption, true)))
			if attr != "" {
				if caption != "" {
					b.WriteString(" ")
				}
				a := string(e.env.markdownify(attr, true))
				if l := get("attrlink"); l != "" {
					a = fmt.Sprintf(`<a href="%s">%s</a>`, esc(l), a)
				}
				b.WriteString(a)
			}
			b.WriteString("</p>")
		}
		b.WriteString("</figcaption>\n")
	}
	b.WriteString("</figure>")
	return b.String()
}

// ref resolves a ref or relref: a page by its path below content/ (with
// or without .md, a bundle's folder, a section's), relative to the page or
// to content/, or by its file name alone when that is unique; "#id" kept.
// The result is the page-relative link, which works under any prefix.
func (e *expander) ref(c *scCall, arg string) string {
	l := loc{dir: e.p.dir, file: e.p.outPath(), src: e.p.src}
	href, msg := e.res.ref(l, arg)
	e.x.refs = append(e.x.refs, refUse{from: l, arg: arg, href: href, err: msg})
	if msg != "" {
		e.fail(c, "%s %q: %s", c.name, arg, msg)
	}
	return href
}

// ref is what ref and relref make of arg on the page at l: a link, or why
// there is none.
func (r *resolver) ref(l loc, arg string) (string, string) {
	p, frag, hasFrag := strings.Cut(strings.TrimSpace(arg), "#")
	suffix := ""
	if hasFrag {
		suffix = "#" + frag
	}
	if p == "" || p == "." {
		return l.href(l.dir, true) + suffix, ""
	}
	var cands []string
	if strings.HasPrefix(p, "/") {
		cands = []string{cleanJoin("", p[1:])}
	} else {
		cands = []string{cleanJoin(path.Dir(l.src), p), cleanJoin("", p)}
	}
	for _, cand := range cands {
		for _, src := range []string{cand, cand + ".md", cand + ".markdown", cand + "/index.md", cand + "/_index.md", cand + "/index.markdown", cand + "/_index.markdown"} {
			if q := r.sources[src]; q != nil {
				return l.hrefTo(q) + suffix, ""
			}
			if reason, ok := r.excluded[src]; ok {
				return "", "that page is " + reason
			}
		}
	}
	if !strings.Contains(p, "/") {
		var found *page
		for _, src := range slices.Sorted(maps.Keys(r.sources)) {
			q := r.sources[src]
			base := path.Base(src)
			stem := strings.TrimSuffix(base, path.Ext(base))
			if base == p || stem == p {
				if found != nil {
					return "", fmt.Sprintf("several pages are called %s; write its path below content/, such as %s", p, src)
				}
				found = q
			}
		}
		if found != nil {
			return l.hrefTo(found) + suffix, ""
		}
	}
	// A section without an _index.md is known by its list page only.
	for _, cand := range cands {
		if target, dir, ok := r.lookup(strings.ToLower(cand)); ok && dir {
			return l.href(strings.TrimSuffix(strings.TrimSuffix(target, "index.html"), "/"), true) + suffix, ""
		}
	}
	return "", "no such page; write the path of a page below content/, such as post/first.md or /about"
}

// pageContext is the page as a shortcode template sees it (.Page).
func (e *expander) pageContext() *pageContext {
	if e.pageCtx != nil {
		return e.pageCtx
	}
	p := e.p
	hp := p.hugo
	pc := &pageContext{e: e, Title: p.meta.Title, Description: p.meta.Description, Date: p.meta.Date, Draft: p.meta.Draft,
		Params: map[string]any{}, Site: e.env.site, RelPermalink: "/" + p.dir + "/", Summary: p.meta.Summary}
	if p.dir == "" {
		pc.RelPermalink = "/"
	}
	if !p.isIndex() {
		pc.RelPermalink = "/" + p.outPath()
	}
	pc.Permalink = pc.RelPermalink
	if e.env.h.baseURL != "" {
		pc.Permalink = strings.TrimSuffix(e.env.h.baseURL, "/") + pc.RelPermalink
	}
	if top, _, ok := strings.Cut(p.src, "/"); ok {
		pc.Section = top
	}
	if hp != nil {
		pc.Params = hp.params
		pc.Lastmod, pc.PublishDate, pc.Type = hp.lastmod, hp.publishDate, hp.typ
		pc.Resources = resourceListOf(hp.resources)
	}
	e.pageCtx = pc
	return pc
}

// context is what a shortcode template is executed with.
func (e *expander) context(c *scCall, parent *scContext) *scContext {
	ctx := &scContext{e: e, call: c, Name: c.name, Ordinal: e.ordinals[c.name] - 1, Parent: parent, Page: e.pageContext(),
		Site: e.env.site, Position: fmt.Sprintf("%s:%d", e.p.file, e.p.bodyLine+c.line-1)}
	if len(c.named) > 0 {
		ctx.IsNamedParams = true
		m := map[string]any{}
		for k, a := range c.named {
			m[k] = a.value
		}
		ctx.Params = m
	} else {
		l := make([]any, len(c.pos))
		for i, a := range c.pos {
			l[i] = a.value
		}
		ctx.Params = l
	}
	if c.hasInner {
		ctx.Inner = template.HTML(e.inner(c, ctx))
	}
	return ctx
}

// scContext is a shortcode as its template sees it: Hugo's shortcode
// context (.Get, .Inner, .Params, .Page, .Site, .Parent, .Ordinal, …).
type scContext struct {
	e             *expander
	call          *scCall
	Name          string
	Inner         template.HTML
	Ordinal       int
	Parent        *scContext
	IsNamedParams bool
	Params        any
	Page          *pageContext
	Site          *siteContext
	Position      string
	scratchPad
}

// Get is an argument by position or name; nil when absent.
func (c *scContext) Get(key any) any {
	a, ok := c.call.get(key)
	if !ok {
		return nil
	}
	return a.value
}

// InnerDeindent is Inner without the indentation its lines share.
func (c *scContext) InnerDeindent() template.HTML { return template.HTML(deindent(string(c.Inner))) }

// pageContext is a page as a shortcode template sees it.
type pageContext struct {
	e                          *expander
	Title, Description         string
	Summary, Section, Type     string
	RelPermalink, Permalink    string
	Date, Lastmod, PublishDate time.Time
	Draft                      bool
	Params                     map[string]any
	Site                       *siteContext
	Resources                  resourceList
	scratchPad
}

// Param is a page parameter, else the site's ("a.b" reaches into tables).
func (pc *pageContext) Param(key string) any {
	v, _ := pc.param(key)
	return v
}

func (pc *pageContext) param(key string) (any, bool) {
	keys := strings.Split(strings.ToLower(key), ".")
	if v, ok := mapPath(pc.Params, keys...); ok {
		return v, true
	}
	return mapPath(pc.Site.Params, keys...)
}

// RenderString renders Markdown: (s) or (options, s), options.display
// "block" keeping paragraphs.
func (pc *pageContext) RenderString(args ...any) (template.HTML, error) {
	var s string
	block := false
	switch len(args) {
	case 1:
		s = fmt.Sprint(args[0])
	case 2:
		if m, ok := args[0].(map[string]any); ok && m["display"] == "block" {
			block = true
		}
		s = fmt.Sprint(args[1])
	default:
		return "", errors.New("RenderString takes the Markdown, and optionally a map of options before it")
	}
	if block {
		return template.HTML(pc.e.env.renderMarkdown(s)), nil
	}
	return pc.e.env.markdownify(s, true), nil
}

// siteContext is the site as a shortcode template sees it.
type siteContext struct {
	Title, BaseURL, LanguageCode, Copyright string
	Params                                  map[string]any
}

// resource is a file of a page bundle.
type resource struct {
	Name, RelPermalink, MediaType string
}

// resourceList is a page bundle's files, as .Page.Resources.
type resourceList []resource

func resourceListOf(names []string) resourceList {
	out := make(resourceList, len(names))
	for i, n := range names {
		out[i] = resource{Name: n, RelPermalink: n, MediaType: mediaType(n)}
	}
	return out
}

// Match is the resources whose name matches a glob ("images/*.jpg").
func (rl resourceList) Match(pattern string) resourceList {
	var out resourceList
	for _, r := range rl {
		if ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(r.Name)); ok {
			out = append(out, r)
		}
	}
	return out
}

// GetMatch is the first resource matching a glob, or nil.
func (rl resourceList) GetMatch(pattern string) *resource {
	if m := rl.Match(pattern); len(m) > 0 {
		return &m[0]
	}
	return nil
}

// ByType is the resources of one media type's main part ("image").
func (rl resourceList) ByType(t string) resourceList {
	var out resourceList
	for _, r := range rl {
		if main, _, _ := strings.Cut(r.MediaType, "/"); main == t {
			out = append(out, r)
		}
	}
	return out
}

func mediaType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".svg":
		return "image/svg+xml"
	case ".pdf":
		return "application/pdf"
	case ".mp4":
		return "video/mp4"
	case ".mp3":
		return "audio/mpeg"
	}
	return "application/octet-stream"
}

// scratchPad gives a template context Hugo's .Scratch and .Store.
type scratchPad struct{ s *scratch }

// Scratch is the context's scratch pad, made on first use.
func (p *scratchPad) Scratch() *scratch {
	if p.s == nil {
		p.s = &scratch{m: map[string]any{}}
	}
	return p.s
}

// Store is Scratch, by Hugo's newer name.
func (p *scratchPad) Store() *scratch { return p.Scratch() }

// scratch is Hugo's .Scratch: a small map for templates.
type scratch struct{ m map[string]any }

func (s *scratch) Set(k string, v any) string { s.m[k] = v; return "" }
func (s *scratch) Get(k string) any           { return s.m[k] }
func (s *scratch) Delete(k string) string     { delete(s.m, k); return "" }

// Add adds v to the value of k: numbers are summed, strings and lists appended.
func (s *scratch) Add(k string, v any) (string, error) {
	old, ok := s.m[k]
	if !ok {
		s.m[k] = v
		return "", nil
	}
	sum, err := addValues(old, v)
	if err != nil {
		return "", err
	}
	s.m[k] = sum
	return "", nil
}

func addValues(a, b any) (any, error) {
	switch x := a.(type) {
	case int:
		if y, ok := toInt(b); ok {
			return x + y, nil
		}
	case float64:
		if y, ok := toFloat(b); ok {
			return x + y, nil
		}
	case string:
		return x + fmt.Sprint(b), nil
	case []any:
		if y, ok := b.([]any); ok {
			return append(slices.Clone(x), y...), nil
		}
		return append(slices.Clone(x), b), nil
	}
	return nil, fmt.Errorf("cannot add %T to %T", b, a)
}

// deindent removes the indentation every non-blank line of s shares.
func deindent(s string) string {
	lines := strings.Split(s, "\n")
	prefix := ""
	first := true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ind := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if first {
			prefix, first = ind, false
			continue
		}
		for !strings.HasPrefix(ind, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, prefix)
	}
	return strings.Join(lines, "\n")
}

// plainText is HTML without its tags, entities resolved.
func plainText(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(html.UnescapeString(b.String()))
}

// highlightHTML is Hugo's highlight shortcode: code in lang highlighted
// with chroma's classes (css/syntax.css), with options as Hugo writes them
// ("linenos=table,hl_lines=2 4-5,linenostart=10").
func highlightHTML(lang, code, options string) string {
	l := lexers.Get(strings.ToLower(lang))
	if l == nil {
		return fmt.Sprintf("<pre><code class=\"language-%s\">%s</code></pre>", html.EscapeString(lang), html.EscapeString(code))
	}
	opts := []chromahtml.Option{chromahtml.WithClasses(true)}
	for _, o := range strings.Split(options, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(o), "=")
		switch strings.ToLower(k) {
		case "linenos":
			switch v {
			case "table":
				opts = append(opts, chromahtml.WithLineNumbers(true), chromahtml.LineNumbersInTable(true))
			case "true", "inline":
				opts = append(opts, chromahtml.WithLineNumbers(true))
			}
		case "hl_lines":
			var ranges [][2]int
			for _, r := range strings.Fields(strings.Trim(v, "[]\"")) {
				a, b, isRange := strings.Cut(strings.Trim(r, "\","), "-")
				from, err1 := strconv.Atoi(a)
				to := from
				var err2 error
				if isRange {
					to, err2 = strconv.Atoi(b)
				}
				if err1 == nil && err2 == nil {
					ranges = append(ranges, [2]int{from, to})
				}
			}
			opts = append(opts, chromahtml.HighlightLines(ranges))
		case "linenostart":
			if n, err := strconv.Atoi(v); err == nil {
				opts = append(opts, chromahtml.BaseLineNumber(n))
			}
		}
	}
	it, err := chroma.Coalesce(l).Tokenise(nil, code)
	if err != nil {
		return fmt.Sprintf("<pre><code>%s</code></pre>", html.EscapeString(code))
	}
	var b bytes.Buffer
	if err := chromahtml.New(opts...).Format(&b, githubStyle(), it); err != nil {
		return fmt.Sprintf("<pre><code>%s</code></pre>", html.EscapeString(code))
	}
	return b.String()
}
