package site

import (
	"bufio"
	"bytes"
	"html/template"
	"strings"

	"github.com/gohugoio/hugo-goldmark-extensions/passthrough"
	"github.com/yuin/goldmark"
	emoji "github.com/yuin/goldmark-emoji"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// mdOptions are how Markdown is read and written: island's own way, or a
// Hugo site's (markup.goldmark and enableEmoji in its configuration).
type mdOptions struct {
	hugo        bool
	unsafe      bool // raw HTML kept
	typographer bool
	emoji       bool
	passthrough *passthroughDelims
}

// mdOptionsOf is the Markdown of a Hugo site, or of island's own when h is nil.
func mdOptionsOf(h *hugoSite) mdOptions {
	if h == nil {
		return mdOptions{unsafe: true}
	}
	return mdOptions{hugo: true, unsafe: h.unsafe, typographer: h.typographer, emoji: h.emoji, passthrough: h.passthrough}
}

// goldmarkOptions are the goldmark options of o; page says the instance
// renders whole pages (links resolved and recorded, headings with ids and
// anchors) rather than fragments inside shortcodes.
func (o mdOptions) goldmarkOptions(hl *highlightCache, page bool) []goldmark.Option {
	exts := []goldmark.Extender{
		extension.GFM, // tables, strikethrough, autolinks, task lists
		extension.Footnote,
	}
	if o.hugo {
		exts = append(exts, extension.DefinitionList)
		if o.typographer {
			exts = append(exts, extension.Typographer)
		}
		if o.emoji {
			exts = append(exts, emoji.New(emoji.WithRenderingMethod(emoji.Unicode)))
		}
		if d := o.passthrough; d != nil {
			cfg := passthrough.Config{}
			for _, p := range d.block {
				cfg.BlockDelimiters = append(cfg.BlockDelimiters, passthrough.Delimiters{Open: p[0], Close: p[1]})
			}
			for _, p := range d.inline {
				cfg.InlineDelimiters = append(cfg.InlineDelimiters, passthrough.Delimiters{Open: p[0], Close: p[1]})
			}
			exts = append(exts, passthrough.New(cfg))
		}
	}
	parserOpts := []parser.Option{parser.WithAttribute()}
	renderers := []util.PrioritizedValue{util.Prioritized(newCodeRenderer(hl), 100)}
	if page {
		parserOpts = append(parserOpts, parser.WithAutoHeadingID(), parser.WithASTTransformers(util.Prioritized(linkTransformer{}, 1000)))
		renderers = append(renderers, util.Prioritized(headingRenderer{}, 100))
	}
	if o.passthrough != nil {
		renderers = append(renderers, util.Prioritized(mathRenderer{}, 50))
	}
	rendererOpts := []renderer.Option{renderer.WithNodeRenderers(renderers...)}
	if o.unsafe {
		// The author's own raw HTML is theirs to use (details, figures, video).
		rendererOpts = append(rendererOpts, html.WithUnsafe())
	}
	return []goldmark.Option{
		goldmark.WithExtensions(exts...),
		goldmark.WithParserOptions(parserOpts...),
		goldmark.WithRendererOptions(rendererOpts...),
	}
}

func newMarkdown(hl *highlightCache, o mdOptions) *markdown {
	m := &markdown{}
	m.md = goldmark.New(o.goldmarkOptions(hl, true)...)
	m.bw = bufio.NewWriterSize(&m.buf, 32<<10)
	return m
}

// render turns p.body into HTML, resolving and rewriting its links, and
// derives a summary from the first paragraph (on a Hugo site, from the
// text before <!--more-->) when the front matter has none. env, for a Hugo
// site, does its shortcodes first; problems with them go to ps.
func (m *markdown) render(p *page, res *resolver, env *renderEnv, ps *problems) error {
	body := p.body
	var x *expansion
	if env != nil && indexShortcode(body) >= 0 {
		var probs []Problem
		x, probs = env.expand(p, res)
		*ps = append(*ps, probs...)
		if x != nil {
			body = x.body
			p.refs = x.refs
		}
	}
	st := &docState{res: res, page: p, src: body, x: x}
	pc := parser.NewContext(parser.WithIDs(newHeadingIDs()))
	pc.Set(docKey, st)
	doc := m.md.Parser().Parse(text.NewReader(body), parser.WithContext(pc))
	switch {
	case p.meta.Summary != "" && env != nil:
		p.summary = plainText(string(env.markdownify(p.meta.Summary, true)))
	case p.meta.Summary != "":
		p.summary = p.meta.Summary
	case env != nil && bytes.Contains(body, []byte(moreDivider)):
		p.summary = textBeforeMore(doc, body)
	default:
		p.summary = firstParagraph(doc, body)
	}
	m.buf.Reset()
	m.bw.Reset(&m.buf)
	if err := m.md.Renderer().Render(m.bw, body, doc); err != nil {
		return err
	}
	out := m.buf.String()
	if x != nil {
		out = x.fill(out, p, ps)
		p.summary = x.strip(p.summary)
	}
	p.content = template.HTML(out)
	return nil
}

// moreDivider ends a Hugo page's summary.
const moreDivider = "<!--more-->"

// textBeforeMore is the plain text of a page before <!--more-->.
func textBeforeMore(doc ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			if n.Type() == ast.TypeBlock {
				b.WriteByte(' ')
			}
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.HTMLBlock:
			var raw []byte
			for i := 0; i < n.Lines().Len(); i++ {
				seg := n.Lines().At(i)
				raw = append(raw, seg.Value(src)...)
			}
			if bytes.Contains(raw, []byte(moreDivider)) {
				return ast.WalkStop, nil
			}
			return ast.WalkSkipChildren, nil
		case *ast.RawHTML:
			for i := 0; i < n.Segments.Len(); i++ {
				seg := n.Segments.At(i)
				if bytes.Contains(seg.Value(src), []byte(moreDivider)) {
					return ast.WalkStop, nil
				}
			}
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			return ast.WalkSkipChildren, nil
		}
		writeText(&b, n, src)
		return ast.WalkContinue, nil
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// fill puts the HTML of the page's HTML shortcodes in place of their
// placeholders: one alone in a paragraph replaces the paragraph, as in
// Hugo, since it is most often a block (a figure, code). A placeholder
// that did not survive rendering is a problem.
func (x *expansion) fill(out string, p *page, ps *problems) string {
	for i, h := range x.html {
		tok := placeholder(i)
		if !strings.Contains(out, tok) {
			ps.addf(p.file, 0, "the output of a shortcode cannot be placed where it stands (inside code or an HTML attribute?); move it, or use {{%% … %%}}")
			continue
		}
		out = strings.ReplaceAll(out, "<p>"+tok+"</p>\n", h+"\n")
		out = strings.ReplaceAll(out, tok, h)
	}
	return out
}

// strip removes placeholders from plain text (a summary).
func (x *expansion) strip(s string) string {
	for i := range x.html {
		s = strings.ReplaceAll(s, placeholder(i), "")
	}
	return strings.Join(strings.Fields(s), " ")
}

// mathRenderer writes math (a Hugo site's passthrough) as it was written,
// escaped, for a theme to render with a script or to show as it is.
type mathRenderer struct{}

func (mathRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(passthrough.KindPassthroughInline, func(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			_, _ = w.WriteString(`<span class="math">`)
			_, _ = w.Write(util.EscapeHTML(n.(*passthrough.PassthroughInline).Segment.Value(src)))
			_, _ = w.WriteString(`</span>`)
		}
		return ast.WalkContinue, nil
	})
	reg.Register(passthrough.KindPassthroughBlock, func(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			_, _ = w.WriteString(`<div class="math">`)
			for i := 0; i < n.Lines().Len(); i++ {
				seg := n.Lines().At(i)
				_, _ = w.Write(util.EscapeHTML(seg.Value(src)))
			}
			_, _ = w.WriteString("</div>\n")
		}
		return ast.WalkSkipChildren, nil
	})
}

// fragmentMarkdown renders Markdown inside shortcodes: captions, details.
type fragmentMarkdown struct{ md goldmark.Markdown }

func newFragmentMarkdown(o mdOptions) *fragmentMarkdown {
	return &fragmentMarkdown{md: goldmark.New(o.goldmarkOptions(nil, false)...)}
}

// renderMarkdown renders s as blocks.
func (env *renderEnv) renderMarkdown(s string) string {
	f := env.fragments.Get().(*fragmentMarkdown)
	defer env.fragments.Put(f)
	var b bytes.Buffer
	if err := f.md.Convert([]byte(s), &b); err != nil {
		return string(util.EscapeHTML([]byte(s)))
	}
	return b.String()
}

// markdownify renders s, as Hugo's markdownify: a single paragraph loses
// its <p>.
func (env *renderEnv) markdownify(s string, inline bool) template.HTML {
	if s == "" {
		return ""
	}
	out := env.renderMarkdown(s)
	if inline {
		t := strings.TrimSuffix(out, "\n")
		if strings.HasPrefix(t, "<p>") && strings.HasSuffix(t, "</p>") && strings.Count(t, "<p>") == 1 {
			out = t[3 : len(t)-4]
		}
	}
	return template.HTML(out)
}
