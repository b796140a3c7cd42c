package site

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Shortcodes are Hugo's: {{< name args >}} whose output is HTML, and
// {{% name args %}} whose output is Markdown, rendered with the page. A
// shortcode that takes inner content is closed by {{< /name >}}; one used
// without it by {{< name />}}. {{</* name */>}} writes the shortcode as text.
// Arguments are positional or named (key="value"), quoted with "" (with \"
// inside) or `` (raw, across lines), or bare words; a bare true, false or
// number is typed.

// scArg is one argument of a shortcode.
type scArg struct {
	text  string
	value any // typed: bare true, false, numbers; else text
}

// scCall is one use of a shortcode.
type scCall struct {
	name     string
	markdown bool // {{% %}}: its output is Markdown
	pos      []scArg
	named    map[string]scArg
	start    int // offset of the opening "{{" in the source
	end      int // just past the closing tag (or the opening one, without inner content)
	line     int // 1-based line of start in the source
	// inner is the content between the opening and closing tags: text and
	// the shortcodes used in it; hasInner says there was a closing tag.
	inner    []scPiece
	hasInner bool
	innerRaw string // the inner content as written
	parent   *scCall
}

// scPiece is text or a shortcode.
type scPiece struct {
	text string
	call *scCall
}

// scTag is one tag of a shortcode as lexed.
type scTag struct {
	name      string
	closing   bool // {{< /name >}}
	selfClose bool // {{< name />}}
	markdown  bool
	comment   bool   // {{</* … */>}}: literal is what to write
	literal   string //
	args      []scArgNamed
	start     int
	end       int
}

type scArgNamed struct {
	key string // "" for a positional argument
	arg scArg
}

// scError is a mistake in a shortcode at a line of the source.
type scError struct {
	line int
	msg  string
}

func (e *scError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// scParser parses the shortcodes of one source.
type scParser struct {
	src []byte
	// takesInner says whether a shortcode has inner content (and so a
	// closing tag); an error for a name that is no shortcode.
	takesInner func(name string) (bool, error)
	lines      []int // offsets of '\n'
}

func (p *scParser) line(off int) int {
	if p.lines == nil {
		p.lines = []int{}
		for i, c := range p.src {
			if c == '\n' {
				p.lines = append(p.lines, i)
			}
		}
	}
	n := 1
	for _, l := range p.lines {
		if l >= off {
			break
		}
		n++
	}
	return n
}

func (p *scParser) errorf(off int, format string, args ...any) *scError {
	return &scError{line: p.line(off), msg: fmt.Sprintf(format, args...)}
}

// parseShortcodes splits src into text and shortcodes.
func parseShortcodes(src []byte, takesInner func(string) (bool, error)) ([]scPiece, error) {
	p := &scParser{src: src, takesInner: takesInner}
	pieces, closing, next, err := p.parse(0, nil)
	if err != nil {
		return nil, err
	}
	if closing != nil {
		return nil, p.errorf(closing.start, "{{< /%s >}} closes a shortcode that was never opened", closing.name)
	}
	_ = next
	return pieces, nil
}

// parse reads from off until the closing tag of open (or the end when open
// is nil) and returns the pieces, the closing tag and the offset after it.
func (p *scParser) parse(off int, open *scCall) ([]scPiece, *scTag, int, error) {
	var pieces []scPiece
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			pieces = append(pieces, scPiece{text: text.String()})
			text.Reset()
		}
	}
	for off < len(p.src) {
		i := indexShortcode(p.src[off:])
		if i < 0 {
			text.Write(p.src[off:])
			off = len(p.src)
			break
		}
		text.Write(p.src[off : off+i])
		off += i
		tag, err := p.lex(off)
		if err != nil {
			return nil, nil, 0, err
		}
		switch {
		case tag.comment:
			text.WriteString(tag.literal)
			off = tag.end
			continue
		case tag.closing:
			flush()
			if open == nil || tag.name != open.name {
				if open != nil {
					return nil, nil, 0, p.errorf(tag.start, "{{< /%s >}} closes %q, but the shortcode open here is %q (opened on line %d); close that first",
						tag.name, tag.name, open.name, open.line)
				}
				return nil, nil, 0, p.errorf(tag.start, "{{< /%s >}} closes a shortcode that was never opened (or that takes no inner content)", tag.name)
			}
			return pieces, tag, tag.end, nil
		}
		flush()
		call := &scCall{name: tag.name, markdown: tag.markdown, start: tag.start, end: tag.end, line: p.line(tag.start), parent: open}
		for _, a := range tag.args {
			if a.key == "" {
				call.pos = append(call.pos, a.arg)
				continue
			}
			if call.named == nil {
				call.named = map[string]scArg{}
			}
			call.named[a.key] = a.arg
		}
		if len(call.pos) > 0 && len(call.named) > 0 {
			return nil, nil, 0, p.errorf(tag.start, "shortcode %q mixes named and positional arguments; use one kind", tag.name)
		}
		off = tag.end
		if !tag.selfClose {
			takes, err := p.takesInner(tag.name)
			if err != nil {
				return nil, nil, 0, &scError{line: call.line, msg: err.Error()}
			}
			if takes {
				inner, closing, next, err := p.parse(off, call)
				if err != nil {
					return nil, nil, 0, err
				}
				if closing == nil {
					return nil, nil, 0, p.errorf(tag.start, "shortcode %q is never closed; end it with {{< /%s >}} (or write {{< %s />}} if it has no inner content)",
						tag.name, tag.name, tag.name)
				}
				call.inner, call.hasInner, call.innerRaw = inner, true, string(p.src[off:closing.start])
				call.end, off = next, next
			}
		}
		pieces = append(pieces, scPiece{call: call})
	}
	flush()
	return pieces, nil, off, nil
}

// indexShortcode finds the next "{{<" or "{{%".
func indexShortcode(b []byte) int {
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("{{"))
		if j < 0 {
			return -1
		}
		k := i + j + 2
		if k < len(b) && (b[k] == '<' || b[k] == '%') {
			return i + j
		}
		i += j + 1
	}
}

// lex reads the tag at off ("{{<" or "{{%").
func (p *scParser) lex(off int) (*scTag, error) {
	src := p.src
	t := &scTag{start: off, markdown: src[off+2] == '%'}
	closeDelim := ">}}"
	if t.markdown {
		closeDelim = "%}}"
	}
	i := off + 3
	skipSpace := func() {
		for i < len(src) && isSCSpace(src[i]) {
			i++
		}
	}
	skipSpace()
	if bytes.HasPrefix(src[i:], []byte("/*")) {
		end := bytes.Index(src[i+2:], []byte("*/"))
		if end < 0 {
			return nil, p.errorf(off, "a shortcode comment {{</* … */>}} is never closed; end it with */%s", closeDelim)
		}
		body := src[i+2 : i+2+end]
		j := i + 2 + end + 2
		for j < len(src) && isSCSpace(src[j]) {
			j++
		}
		if !bytes.HasPrefix(src[j:], []byte(closeDelim)) {
			return nil, p.errorf(off, "a shortcode comment must end with */%s", closeDelim)
		}
		open := string(src[off : off+3])
		t.comment, t.literal, t.end = true, open+string(body)+closeDelim, j+len(closeDelim)
		return t, nil
	}
	if i < len(src) && src[i] == '/' {
		t.closing = true
		i++
		skipSpace()
	}
	ns := i
	for i < len(src) && isSCNameByte(src[i]) {
		i++
	}
	t.name = string(src[ns:i])
	if t.name == "" {
		return nil, p.errorf(off, "a shortcode needs a name, such as {{< figure src=\"x.png\" >}}; to write {{< as text, write {{</* … */>}}")
	}
	for {
		skipSpace()
		switch {
		case i >= len(src):
			return nil, p.errorf(off, "shortcode %q is not closed with %s", t.name, closeDelim)
		case bytes.HasPrefix(src[i:], []byte(closeDelim)):
			t.end = i + len(closeDelim)
			return t, nil
		case src[i] == '/' && bytes.HasPrefix(src[i+1:], []byte(closeDelim)):
			if t.closing {
				return nil, p.errorf(off, "the closing tag of %q cannot also end with />", t.name)
			}
			t.selfClose, t.end = true, i+1+len(closeDelim)
			return t, nil
		case bytes.HasPrefix(src[i:], []byte(">}}")) || bytes.HasPrefix(src[i:], []byte("%}}")):
			return nil, p.errorf(off, "shortcode %q opens with %s but closes with %s; use {{< … >}} or {{%% … %%}}",
				t.name, string(src[off:off+3]), string(src[i:i+3]))
		}
		if t.closing {
			return nil, p.errorf(off, "the closing tag of %q takes no arguments", t.name)
		}
		a, next, err := p.arg(i, closeDelim)
		if err != nil {
			return nil, err
		}
		t.args = append(t.args, a)
		i = next
	}
}

// arg reads one argument at i: key=value or a value.
func (p *scParser) arg(i int, closeDelim string) (scArgNamed, int, error) {
	v, next, bare, err := p.value(i, closeDelim)
	if err != nil {
		return scArgNamed{}, 0, err
	}
	if bare && next < len(p.src) && p.src[next] == '=' {
		key := v.text
		val, after, _, err := p.value(next+1, closeDelim)
		if err != nil {
			return scArgNamed{}, 0, err
		}
		return scArgNamed{key: key, arg: val}, after, nil
	}
	return scArgNamed{arg: v}, next, nil
}

// value reads a quoted, raw or bare value at i.
func (p *scParser) value(i int, closeDelim string) (scArg, int, bool, error) {
	src := p.src
	if i >= len(src) {
		return scArg{}, 0, false, p.errorf(i, "a shortcode argument is cut off at the end of the file")
	}
	switch src[i] {
	case '"':
		var b strings.Builder
		for j := i + 1; j < len(src); j++ {
			switch src[j] {
			case '\\':
				if j+1 < len(src) && (src[j+1] == '"' || src[j+1] == '\\') {
					b.WriteByte(src[j+1])
					j++
					continue
				}
				b.WriteByte('\\')
			case '"':
				return scArg{text: b.String(), value: b.String()}, j + 1, false, nil
			case '\n':
				return scArg{}, 0, false, p.errorf(i, "a quoted shortcode argument runs past the end of its line; close the quote (or use `…` for text over several lines)")
			default:
				b.WriteByte(src[j])
			}
		}
		return scArg{}, 0, false, p.errorf(i, "a quoted shortcode argument is never closed")
	case '`':
		end := bytes.IndexByte(src[i+1:], '`')
		if end < 0 {
			return scArg{}, 0, false, p.errorf(i, "a `raw` shortcode argument is never closed")
		}
		s := string(src[i+1 : i+1+end])
		return scArg{text: s, value: s}, i + 2 + end, false, nil
	}
	j := i
	for j < len(src) && !isSCSpace(src[j]) && src[j] != '=' &&
		!bytes.HasPrefix(src[j:], []byte(closeDelim)) && !(src[j] == '/' && bytes.HasPrefix(src[j+1:], []byte(closeDelim))) {
		j++
	}
	if j == i {
		return scArg{}, 0, false, p.errorf(i, "a shortcode argument is missing here; write key=\"value\" or \"value\"")
	}
	s := string(src[i:j])
	return scArg{text: s, value: typedBare(s)}, j, true, nil
}

// typedBare is a bare argument's value: true, false and numbers typed.
func typedBare(s string) any {
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return s
}

func isSCSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isSCNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '/' || c == '.'
}

// get is an argument by position (int) or name (string); ok is false
// when absent.
func (c *scCall) get(key any) (scArg, bool) {
	switch k := key.(type) {
	case int:
		if k >= 0 && k < len(c.pos) {
			return c.pos[k], true
		}
	case string:
		if a, ok := c.named[k]; ok {
			return a, true
		}
		if n, err := strconv.Atoi(k); err == nil {
			return c.get(n)
		}
	}
	return scArg{}, false
}

// str is an argument's text by name, else by position pos (-1: none).
func (c *scCall) str(name string, pos int) string {
	if a, ok := c.named[name]; ok {
		return a.text
	}
	if pos >= 0 && pos < len(c.pos) {
		return c.pos[pos].text
	}
	return ""
}
