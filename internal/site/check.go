package site

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"html"
	"os"
	"slices"
	"strings"
)

// render renders every page in two parallel passes: first the Markdown of
// every page, then every layout. Layouts run only once all Markdown is
// rendered, so any layout may read any page's summary or content (lists,
// previous and next links) without racing the goroutine that makes it.
func (b *builder) render(ctx context.Context, ps *problems) ([]*output, error) {
	hl := newHighlightCache()
	pages := b.markdownPages()
	mdPs := make([]problems, len(pages))
	err := runParallel(ctx, b.cfg.Workers, len(pages), hl, func(w *worker, i int) error {
		p := pages[i]
		env := b.renderKey(p)
		hash, reused := b.cache.reuseRendering(p, b.res, b.fp, env)
		switch {
		case reused:
		case p.lazyBody && !b.cache.loadBody(p, &mdPs[i]):
		default:
			if err := w.markdownFor(b.mdOpts).render(p, b.res, b.env, &mdPs[i]); err != nil {
				mdPs[i].addf(p.file, 0, "rendering the Markdown failed: %v", err)
			}
		}
		p.body = nil
		e := b.entries[p]
		e.Summary, e.Content, e.lazy = p.summary, p.content, p.lazy
		switch {
		case b.cache == nil:
		case reused:
			e.key, e.meta = entryKeys(e, hash)
		case len(mdPs[i]) == 0:
			h := b.cache.keepRendering(p, b.fp, env)
			e.key, e.meta = entryKeys(e, h)
		default: // not kept, but other pages' keys still need this one's
			h := sha256.Sum256([]byte(p.content))
			e.key, e.meta = entryKeys(e, h)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	outs := make([]*output, len(b.jobs))
	jobPs := make([]problems, len(b.jobs))
	err = runParallel(ctx, b.cfg.Workers, len(b.jobs), hl, func(w *worker, i int) error {
		outs[i] = b.execute(w, b.jobs[i], &jobPs[i])
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The feed holds the newest posts' Content.
	for _, p := range b.c.posts[:min(feedEntries, len(b.c.posts))] {
		if b.cache == nil {
			break
		}
		if err := b.entries[p].load(); err != nil {
			b.cache.damaged.Store(true)
			mdPs = append(mdPs, problems{{File: b.c.dir, Msg: err.Error()}})
			break
		}
	}
	for _, list := range [][]problems{mdPs, jobPs} {
		for _, p := range list {
			*ps = append(*ps, p...)
		}
	}
	outs = slices.DeleteFunc(outs, func(o *output) bool { return o == nil })
	slices.SortFunc(outs, func(a, b *output) int { return cmp.Compare(a.path, b.path) })
	if b.cache != nil {
		b.cache.keepOutputs(outs, b.fp)
	}
	return outs, nil
}

// checkLinks reports every link that reaches no file, or a fragment that
// names no id on the page it reaches. Links in Markdown are reported at
// their line; links in layouts once per layout line, with how many pages
// carry them.
func (b *builder) checkLinks(outs []*output, ps *problems) {
	ids := make(map[string]map[string]bool, len(outs))
	for _, o := range outs {
		ids[o.path] = o.ids
	}
	staticSrc := map[string]string{}
	for _, s := range b.c.static {
		staticSrc[s.path] = s.src
	}
	problemOf := func(r resolved) string {
		if r.problem != "" || r.frag == "" || strings.EqualFold(r.frag, "top") {
			return r.problem
		}
		m, ok := ids[r.target]
		if !ok {
			src, isStatic := staticSrc[r.target]
			if !isStatic || !(strings.HasSuffix(r.target, ".html") || strings.HasSuffix(r.target, ".htm")) {
				return "" // a fragment of an image or a PDF is not ours to check
			}
			m = staticIDs(src)
			ids[r.target] = m
		}
		if m[r.frag] {
			return ""
		}
		return fmt.Sprintf("%s has no heading or element with id %q", describeTarget(r.target), r.frag)
	}

	type layoutKey struct {
		file string
		line int
		raw  string
		msg  string
	}
	type layoutAgg struct {
		first string
		n     int
	}
	agg := map[layoutKey]*layoutAgg{}
	var order []layoutKey
	for _, o := range outs {
		if o.page != nil {
			for _, l := range o.page.links {
				if msg := problemOf(l.res); msg != "" {
					ps.addf(o.page.file, l.line, "link %q: %s", l.raw, msg)
				}
			}
		}
		links := o.links
		if o.reused {
			links = o.pending
		}
		for _, l := range links {
			msg := problemOf(l.res)
			if msg == "" {
				continue
			}
			file, line, inPage := b.attribute(o, l.raw)
			if inPage {
				ps.addf(file, line, "link %q: %s", l.raw, msg)
				continue
			}
			k := layoutKey{file, line, l.raw, msg}
			if a := agg[k]; a != nil {
				a.n++
				continue
			}
			agg[k] = &layoutAgg{first: describeTarget(o.path), n: 1}
			order = append(order, k)
		}
	}
	for _, k := range order {
		a := agg[k]
		on := a.first
		if a.n > 1 {
			on = fmt.Sprintf("%s and %d other pages", a.first, a.n-1)
		}
		ps.addf(k.file, k.line, "link %q on %s: %s", k.raw, on, k.msg)
	}
}

// attribute finds where a link found in a page's HTML was written: the
// page's own Markdown (raw HTML in it), or one of the layouts it used.
func (b *builder) attribute(o *output, raw string) (file string, line int, inPage bool) {
	if o.page != nil {
		if data, err := os.ReadFile(o.page.file); err == nil {
			for _, form := range []string{raw, html.EscapeString(raw)} {
				if i := bytes.Index(data, []byte(form)); i >= 0 {
					return o.page.file, bytes.Count(data[:i], []byte("\n")) + 1, true
				}
			}
		}
	}
	for _, name := range []string{o.layout, baseLayout, partialsLayout} {
		f := b.theme.files[name]
		if i := strings.Index(f.text, raw); i >= 0 {
			return f.file, strings.Count(f.text[:i], "\n") + 1, false
		}
	}
	return b.theme.files[o.layout].file, 0, false
}

// staticIDs reads the ids of an HTML file of content/static.
func staticIDs(src string) map[string]bool {
	m := map[string]bool{}
	data, err := os.ReadFile(src)
	if err != nil {
		return m
	}
	scanHTML(data, func(tag, name []byte, vs, ve int) {
		if bytes.EqualFold(name, []byte("id")) || bytes.EqualFold(name, []byte("name")) && bytes.EqualFold(tag, []byte("a")) {
			m[html.UnescapeString(string(data[vs:ve]))] = true
		}
	})
	return m
}

// describeTarget names a bundle file the way a reader would look for it.
func describeTarget(p string) string {
	switch {
	case p == "index.html":
		return "the home page"
	case strings.HasSuffix(p, "/index.html"):
		return strings.TrimSuffix(p, "index.html")
	}
	return p
}
