package site

import (
	"bytes"
	"encoding/xml"
	"strings"
	"sync"
	"time"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
)

// siteURL is where a bundle path is on the web: under base_url when set,
// else root-relative (the feed and the sitemap are read from outside the
// site, where a page-relative link means nothing).
func (b *builder) siteURL(p string) string {
	base := b.c.info.BaseURL
	if base == "" {
		base = "/"
	}
	return base + escapePath(p)
}

// entryID is a stable id for an Atom entry or feed: its URL when the site
// has a base_url, else a URN that does not pretend to be a location.
func (b *builder) entryID(p string) string {
	if b.c.info.BaseURL != "" {
		return b.siteURL(p)
	}
	return "urn:island:" + slugify(b.c.info.Title, true) + ":" + escapePath(p)
}

// epoch stands in for "updated" when no post has a date: Atom requires one,
// and the build time would make every build differ.
var epoch = time.Unix(0, 0).UTC()

// feed renders atom.xml with the newest posts, their full HTML included.
func (b *builder) feed() []byte {
	info := b.c.info
	posts := b.c.posts[:min(feedEntries, len(b.c.posts))]
	updated := epoch
	for _, p := range b.c.posts {
		if p.meta.Date.After(updated) {
			updated = p.meta.Date
		}
	}
	var w bytes.Buffer
	w.WriteString(xml.Header)
	w.WriteString(`<feed xmlns="http://www.w3.org/2005/Atom"`)
	attr(&w, "xml:lang", info.Language)
	w.WriteString(">\n")
	elem(&w, "title", info.Title)
	if info.Description != "" {
		elem(&w, "subtitle", info.Description)
	}
	w.WriteString(`<link rel="self" type="application/atom+xml"`)
	attr(&w, "href", b.siteURL(feedPath))
	w.WriteString("/>\n<link rel=\"alternate\" type=\"text/html\"")
	attr(&w, "href", b.siteURL(""))
	w.WriteString("/>\n")
	elem(&w, "id", b.entryID(""))
	elem(&w, "updated", updated.UTC().Format(time.RFC3339))
	author := info.Author
	if author == "" {
		author = info.Title
	}
	w.WriteString("<author><name>")
	xmlEscape(&w, author)
	w.WriteString("</name></author>\n")
	elem(&w, "generator", "island")
	for _, p := range posts {
		e := b.entries[p]
		w.WriteString("<entry>\n")
		elem(&w, "title", e.Title)
		w.WriteString(`<link rel="alternate" type="text/html"`)
		attr(&w, "href", b.siteURL(e.Path))
		w.WriteString("/>\n")
		elem(&w, "id", b.entryID(e.Path))
		d := p.meta.Date
		if d.IsZero() {
			d = updated
		}
		elem(&w, "updated", d.UTC().Format(time.RFC3339))
		for _, t := range e.Tags {
			w.WriteString("<category")
			attr(&w, "term", t.Name)
			w.WriteString("/>\n")
		}
		if e.Summary != "" {
			elem(&w, "summary", e.Summary)
		}
		// The content's links are relative to the post; xml:base says to what.
		w.WriteString(`<content type="html"`)
		attr(&w, "xml:base", b.siteURL(e.Path))
		w.WriteString(">")
		xmlEscape(&w, string(e.Content))
		w.WriteString("</content>\n</entry>\n")
	}
	w.WriteString("</feed>\n")
	return w.Bytes()
}

// sitemap renders sitemap.xml: every HTML page but 404.html.
func (b *builder) sitemap(outs []*output) []byte {
	var w bytes.Buffer
	w.WriteString(xml.Header)
	w.WriteString(`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	for _, o := range outs {
		if o.path == notFoundPath {
			continue
		}
		w.WriteString("<url><loc>")
		xmlEscape(&w, b.siteURL(strings.TrimSuffix(o.path, "index.html")))
		w.WriteString("</loc>")
		if o.page != nil {
			d := o.page.meta.Date
			if o.page.hugo != nil && !o.page.hugo.lastmod.IsZero() {
				d = o.page.hugo.lastmod
			}
			if !d.IsZero() {
				w.WriteString("<lastmod>" + d.UTC().Format("2006-01-02") + "</lastmod>")
			}
		}
		w.WriteString("</url>\n")
	}
	w.WriteString("</urlset>\n")
	return w.Bytes()
}

func elem(w *bytes.Buffer, name, text string) {
	w.WriteString("<" + name + ">")
	xmlEscape(w, text)
	w.WriteString("</" + name + ">\n")
}

func attr(w *bytes.Buffer, name, val string) {
	w.WriteString(" " + name + `="`)
	xmlEscape(w, val)
	w.WriteString(`"`)
}

// xmlEscape escapes what XML needs escaped and replaces the characters XML
// 1.0 cannot carry at all; unlike xml.EscapeText it leaves newlines as they
// are, so the feed stays readable.
func xmlEscape(w *bytes.Buffer, s string) {
	for _, r := range s {
		switch {
		case r == '&':
			w.WriteString("&amp;")
		case r == '<':
			w.WriteString("&lt;")
		case r == '>':
			w.WriteString("&gt;")
		case r == '"':
			w.WriteString("&quot;")
		case r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF:
			w.WriteRune(r)
		default:
			w.WriteRune('\uFFFD')
		}
	}
}

var syntaxOnce = sync.OnceValue(func() []byte {
	var w bytes.Buffer
	f := chromahtml.New(chromahtml.WithClasses(true))
	w.WriteString("/* Code highlighting: chroma's github style, github-dark in dark mode. */\n")
	_ = f.WriteCSS(&w, githubStyle())
	w.WriteString("@media (prefers-color-scheme: dark) {\n")
	// Undo the light colours first: github-dark leaves some token types to
	// the text colour, where github's dark-on-light colours would stay.
	w.WriteString(".chroma [class] { color: inherit; background-color: transparent; font-weight: inherit; font-style: inherit; text-decoration: inherit; }\n")
	_ = f.WriteCSS(&w, githubDarkStyle())
	w.WriteString("}\n")
	return w.Bytes()
})

// syntaxStyleSheet is css/syntax.css, the same bytes on every build.
func syntaxStyleSheet() []byte { return syntaxOnce() }
