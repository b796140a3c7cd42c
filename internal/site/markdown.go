package site

import (
	"bufio"
	"bytes"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	lexers "github.com/islandsite/island/third_party/chromalexers"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// mdLink is one link or image of a Markdown page, resolved.
type mdLink struct {
	line int
	raw  string // as written, entities and escapes resolved
	res  resolved
	key  string // emittedKey of what was written in its place
}

// markdown renders Markdown for one worker: goldmark instances and buffers
// are reused across the pages the worker renders, never shared.
type markdown struct {
	md  goldmark.Markdown
	buf bytes.Buffer
	bw  *bufio.Writer
}

// docKey carries the page being rendered to the link transformer.
var docKey = parser.NewContextKey()

// docState is what the AST transformer needs and finds for one page.
type docState struct {
	res     *resolver
	page    *page
	src     []byte
	x       *expansion // the page's shortcodes, when src is their expansion
	lineIdx []int      // offsets of '\n' in the page's body, made on first use
}

// line is the file line of a byte offset into the body.
func (st *docState) line(off int) int {
	if off < 0 {
		return st.page.bodyLine
	}
	if st.x != nil {
		off = st.x.source(off)
	}
	if st.lineIdx == nil {
		st.lineIdx = make([]int, 0, 64)
		for i, c := range st.page.body {
			if c == '\n' {
				st.lineIdx = append(st.lineIdx, i)
			}
		}
	}
	return st.page.bodyLine + sort.SearchInts(st.lineIdx, off)
}

// linkTransformer resolves every link and image of a page against the
// bundle, rewrites internal ones to page-relative paths and records them
// for the link check.
type linkTransformer struct{}

func (linkTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	st, _ := pc.Get(docKey).(*docState)
	if st == nil {
		return
	}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			n.Destination = st.link(n, n.Destination)
		case *ast.Image:
			n.Destination = st.link(n, n.Destination)
		}
		return ast.WalkContinue, nil
	})
}

// link resolves one destination and returns what to write in its place.
func (st *docState) link(n ast.Node, dest []byte) []byte {
	raw := string(util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(dest))))
	p := st.page
	r := st.res.resolve(loc{dir: p.dir, file: p.outPath(), src: p.src}, raw)
	if r.external {
		return dest
	}
	out := dest
	if r.problem == "" {
		out = []byte(r.href)
	}
	p.links = append(p.links, mdLink{line: st.line(nodeOffset(n)), raw: raw, res: r, key: emittedKey(out)})
	return out
}

// nodeOffset is the source offset where an inline node's text starts, or
// of its enclosing block; -1 when neither is known.
func nodeOffset(n ast.Node) int {
	off := -1
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := c.(*ast.Text); ok && entering {
			off = t.Segment.Start
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	if off >= 0 {
		return off
	}
	for p := n.Parent(); p != nil; p = p.Parent() {
		if p.Type() == ast.TypeBlock && p.Lines().Len() > 0 {
			return p.Lines().At(0).Start
		}
	}
	return -1
}

// summaryRunes bounds a summary derived from the first paragraph.
const summaryRunes = 200

// firstParagraph is the plain text of the page's first paragraph, cut at a
// word boundary, for lists and the feed when the front matter has no summary.
func firstParagraph(doc ast.Node, src []byte) string {
	var para ast.Node
	for c := doc.FirstChild(); c != nil; c = c.NextSibling() {
		if c.Kind() == ast.KindParagraph {
			para = c
			break
		}
	}
	if para == nil {
		return ""
	}
	var b strings.Builder
	_ = ast.Walk(para, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		if _, ok := n.(*ast.RawHTML); ok {
			return ast.WalkSkipChildren, nil
		}
		writeText(&b, n, src)
		return ast.WalkContinue, nil
	})
	return truncateWords(strings.Join(strings.Fields(b.String()), " "), summaryRunes)
}

// writeText writes the text of a Text or String node, a line break as a
// space; other nodes write nothing.
func writeText(b *strings.Builder, n ast.Node, src []byte) {
	switch n := n.(type) {
	case *ast.Text:
		b.Write(n.Segment.Value(src))
		if n.SoftLineBreak() || n.HardLineBreak() {
			b.WriteByte(' ')
		}
	case *ast.String:
		b.Write(n.Value)
	}
}

func truncateWords(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	cut := 0
	for i := range s {
		if cut >= max {
			s = s[:i]
			break
		}
		cut++
	}
	if i := strings.LastIndexByte(s, ' '); i > len(s)/2 {
		s = s[:i]
	}
	return strings.TrimRight(s, " ,;:.") + "…"
}

// headingIDs makes GitHub-style heading ids (lower case, spaces to '-',
// punctuation dropped) that keep non-ASCII letters, so that headings in any
// language get readable, distinct anchors.
type headingIDs struct{ used map[string]bool }

func newHeadingIDs() *headingIDs {
	// "main" is the id of the theme's <main>, the skip link's target.
	return &headingIDs{used: map[string]bool{"main": true}}
}

func (s *headingIDs) Generate(value []byte, _ ast.NodeKind) []byte {
	var b strings.Builder
	for _, r := range string(bytes.TrimSpace(value)) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-':
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsSpace(r):
			b.WriteByte('-')
		}
	}
	base := strings.Trim(b.String(), "-")
	if base == "" {
		base = "section"
	}
	id := base
	for i := 1; s.used[id]; i++ {
		id = base + "-" + strconv.Itoa(i)
	}
	s.used[id] = true
	return []byte(id)
}

func (s *headingIDs) Put(value []byte) { s.used[string(value)] = true }

// headingRenderer renders headings with a trailing anchor link to their id.
type headingRenderer struct{}

func (headingRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindHeading, renderHeading)
}

func renderHeading(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Heading)
	if entering {
		_, _ = w.WriteString("<h")
		_ = w.WriteByte("0123456"[n.Level])
		if n.Attributes() != nil {
			html.RenderAttributes(w, node, html.HeadingAttributeFilter)
		}
		_ = w.WriteByte('>')
		return ast.WalkContinue, nil
	}
	if v, ok := n.AttributeString("id"); ok {
		if id, ok := v.([]byte); ok && len(id) > 0 {
			_, _ = w.WriteString(` <a class="anchor" href="#`)
			_, _ = w.Write(util.EscapeHTML(util.URLEscape(id, false)))
			_, _ = w.WriteString(`" aria-label="Link to this section">#</a>`)
		}
	}
	_, _ = w.WriteString("</h")
	_ = w.WriteByte("0123456"[n.Level])
	_, _ = w.WriteString(">\n")
	return ast.WalkContinue, nil
}

// codeRenderer highlights fenced code blocks with chroma, writing CSS
// classes rather than inline styles: the colours live in css/syntax.css,
// which follows prefers-color-scheme. It belongs to one worker, so its
// formatter (and the formatter's style cache) and lexers are made once per
// worker instead of once per block as goldmark-highlighting does.
type codeRenderer struct {
	formatter *chromahtml.Formatter
	style     *chroma.Style
	lexers    map[string]chroma.Lexer // by language name; nil when chroma has none
	cache     *highlightCache
	code      strings.Builder
	out       bytes.Buffer
}

func newCodeRenderer(hl *highlightCache) *codeRenderer {
	return &codeRenderer{
		formatter: chromahtml.New(chromahtml.WithClasses(true)),
		style:     githubStyle(),
		lexers:    map[string]chroma.Lexer{},
		cache:     hl,
	}
}

func (r *codeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindFencedCodeBlock, r.render)
}

// warmLexers builds chroma's lexer registry (~5-8 ms, on first use) on a
// goroutine of its own, once: an incremental build that will highlight a
// changed page's code has it ready by the time it renders, instead of
// building it then while the other core is idle.
var warmLexers = sync.OnceFunc(func() { go lexers.Registry() })

// mayHighlight says Markdown source may hold a fenced code block, which
// is highlighted.
func mayHighlight(src []byte) bool {
	return bytes.Contains(src, []byte("```")) || bytes.Contains(src, []byte("~~~"))
}

func (r *codeRenderer) lexer(lang string) chroma.Lexer {
	l, ok := r.lexers[lang]
	if !ok {
		if l = lexers.Get(lang); l != nil {
			l = chroma.Coalesce(l)
		}
		r.lexers[lang] = l
	}
	return l
}

func (r *codeRenderer) render(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.FencedCodeBlock)
	lang := strings.ToLower(string(n.Language(src)))
	r.code.Reset()
	for i := 0; i < n.Lines().Len(); i++ {
		seg := n.Lines().At(i)
		r.code.Write(seg.Value(src))
	}
	code := r.code.String()
	if lang != "" {
		if html, ok := r.cache.get(lang, code); ok {
			_, _ = w.Write(html)
			return ast.WalkContinue, nil
		}
		if l := r.lexer(lang); l != nil {
			if it, err := l.Tokenise(nil, code); err == nil {
				r.out.Reset()
				if err := r.formatter.Format(&r.out, r.style, it); err == nil {
					r.cache.put(lang, code, r.out.Bytes())
					_, _ = w.Write(r.out.Bytes())
					return ast.WalkContinue, nil
				}
			}
		}
	}
	_, _ = w.WriteString("<pre><code")
	if lang != "" {
		_, _ = w.WriteString(` class="language-`)
		_, _ = w.Write(util.EscapeHTML(n.Language(src)))
		_ = w.WriteByte('"')
	}
	_ = w.WriteByte('>')
	_, _ = w.Write(util.EscapeHTML([]byte(code)))
	_, _ = w.WriteString("</code></pre>\n")
	return ast.WalkContinue, nil
}

// highlightCache keeps the highlighted HTML of code blocks for one build,
// shared by the workers, so a snippet that recurs across pages (an install
// command, a license header, a config every post shows) is lexed once:
// chroma's regular-expression lexers are the most expensive part of
// rendering. It holds at most highlightCacheBytes of HTML.
type highlightCache struct {
	mu    sync.Mutex
	m     map[string][]byte
	bytes int
}

const highlightCacheBytes = 16 << 20

func newHighlightCache() *highlightCache { return &highlightCache{m: map[string][]byte{}} }

func (c *highlightCache) get(lang, code string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	html, ok := c.m[lang+"\x00"+code]
	return html, ok
}

func (c *highlightCache) put(lang, code string, html []byte) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bytes+len(html)+len(code) > highlightCacheBytes {
		return
	}
	key := lang + "\x00" + code
	if _, ok := c.m[key]; !ok {
		c.m[key] = bytes.Clone(html)
		c.bytes += len(html) + len(key)
	}
}
