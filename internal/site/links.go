package site

import (
	"bytes"
	"html"
	"net/url"
	"path"
	"path/filepath"
	"strings"
)

// loc is where a link is written: the bundle directory its page is served
// from, the page's own file in the bundle, and its Markdown source (content
// path; "" for generated pages).
type loc struct {
	dir, file, src string
}

// resolved is the outcome of resolving one link.
type resolved struct {
	external bool   // a scheme or "//": left alone and not checked
	href     string // what to write instead: relative to the page (root-absolute on 404.html)
	target   string // the bundle file the link reaches
	frag     string // its fragment, unescaped; "" when none
	problem  string // why it reaches nothing; "" when it does
	// rewrite says href must replace the link as written, which was
	// root-absolute or pointed at a Markdown source.
	rewrite bool
}

// resolver knows every path of the bundle before any page is rendered, so
// links are resolved and rewritten while rendering, in parallel.
type resolver struct {
	files      map[string]bool  // every bundle path
	sources    map[string]*page // content path of each page built → page
	excluded   map[string]string
	contentDir string
	// baseURL is a Hugo site's own address ("https://example.org/blog/"):
	// links to it are links into the site, made page-relative like
	// root-absolute ones. "" when unset.
	baseURL string
}

// own says raw is an absolute URL of the site itself (under baseURL).
func (r *resolver) own(raw string) bool {
	_, ok := r.ownPath(raw)
	return ok
}

// ownPath is the root-absolute path of a URL under baseURL, matching
// scheme and host without regard to case or to http versus https.
func (r *resolver) ownPath(raw string) (string, bool) {
	if r.baseURL == "" {
		return "", false
	}
	_, base, _ := strings.Cut(r.baseURL, "://")
	_, rest, ok := strings.Cut(raw, "://")
	scheme := strings.ToLower(raw[:max(0, len(raw)-len(rest)-3)])
	if !ok || (scheme != "http" && scheme != "https") {
		return "", false
	}
	host, _, _ := strings.Cut(base, "/")
	if len(rest) < len(host) || !strings.EqualFold(rest[:len(host)], host) {
		return "", false
	}
	p := rest[len(host):]
	bp := strings.TrimSuffix(base[len(host):], "/")
	switch {
	case p == bp || p == bp+"/":
		return "/", true
	case strings.HasPrefix(p, bp+"/") || strings.HasPrefix(p, bp+"#") || strings.HasPrefix(p, bp+"?"):
		return "/" + strings.TrimPrefix(p[len(bp):], "/"), true
	}
	return "", false
}

// resolve resolves raw, written on the page at l. Links to Markdown sources
// ("other.md#part", "../00012.md") are relative to the source file;
// root-absolute ones ("/img/a.png") to the bundle root; other relative ones
// to the page's own directory, falling back to the source file's directory
// (so "../static/img/a.png" in posts/x.md also works).
func (r *resolver) resolve(l loc, raw string) resolved {
	s := strings.TrimSpace(raw)
	if p, ok := r.ownPath(s); ok {
		s = p
	}
	if s == "" || isExternal(s) {
		return resolved{external: true}
	}
	p, frag, hasFrag := strings.Cut(s, "#")
	p, query, _ := strings.Cut(p, "?")
	if query != "" {
		query = "?" + query
	}
	suffix := query
	var out resolved
	if hasFrag {
		suffix += "#" + frag
		out.frag = frag
		if f, err := url.PathUnescape(frag); err == nil {
			out.frag = f
		}
	}
	if p == "" { // "#part" or "?q": this very page
		out.target, out.href = l.file, s
		return out
	}
	dp, err := url.PathUnescape(p)
	if err != nil {
		out.problem = "not a valid URL path (write a literal '%' as %25)"
		return out
	}
	absolute := strings.HasPrefix(dp, "/")
	if strings.HasSuffix(strings.ToLower(dp), ".md") {
		out.rewrite = true
		cp := cleanJoin(path.Dir(l.src), dp)
		if absolute {
			cp = cleanJoin("", dp[1:])
		}
		if escapesRoot(cp) {
			out.problem = "points outside the content directory"
			return out
		}
		q := r.sources[cp]
		if q == nil {
			out.problem = r.missing(cp, filepath.Join(r.contentDir, filepath.FromSlash(cp))+" does not exist")
			return out
		}
		out.target = q.outPath()
		out.href = l.hrefTo(q) + suffix
		return out
	}
	op := cleanJoin(l.dir, dp)
	if absolute {
		op, out.rewrite = cleanJoin("", dp[1:]), true
	}
	if escapesRoot(op) {
		out.problem = "goes above the site's root"
		return out
	}
	target, dir, ok := r.lookup(op)
	if !ok && !absolute {
		// Relative to the Markdown source: content/static/... is the root.
		if cp := cleanJoin(path.Dir(l.src), dp); strings.HasPrefix(cp, staticDir+"/") {
			if target, dir, ok = r.lookup(strings.TrimPrefix(cp, staticDir+"/")); ok {
				out.rewrite = true
			}
		}
	}
	if !ok {
		what := "no such page"
		if path.Ext(op) != "" && !strings.HasSuffix(dp, "/") {
			what = "no such file"
		}
		out.problem = r.missing(op, what)
		return out
	}
	out.target = target
	out.rewrite = out.rewrite || l.fromRoot()
	if dir {
		out.href = l.href(strings.TrimSuffix(strings.TrimSuffix(target, "index.html"), "/"), true) + suffix
	} else {
		out.href = l.href(target, false) + suffix
	}
	return out
}

// hrefTo is the link from the page at l to page q: its directory, or its
// file when it is not an index.html (404.html, a Hugo page's url: a.html).
func (l loc) hrefTo(q *page) string {
	if q.isIndex() {
		return l.href(q.dir, true)
	}
	return l.href(q.outPath(), false)
}

// missing explains a link to a page that is not built, naming why when the
// page exists but was left out.
func (r *resolver) missing(key, otherwise string) string {
	if reason, ok := r.excluded[key]; ok {
		return "that page is " + reason
	}
	return otherwise
}

// lookup finds a bundle path: a file, or a directory holding index.html.
func (r *resolver) lookup(p string) (target string, dir, ok bool) {
	if p != "" && r.files[p] {
		return p, false, true
	}
	if idx := indexOf(p); r.files[idx] {
		return idx, true, true
	}
	return "", false, false
}

// isExternal reports a URL with a scheme (https:, mailto:, data:) or a
// network path ("//host/x"); those leave the site and are not checked.
func isExternal(s string) bool {
	if strings.HasPrefix(s, "//") {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case c == ':' && i > 0:
			return true
		default:
			return false
		}
	}
	return false
}

// cleanJoin joins and cleans slash paths; the root is "".
func cleanJoin(dir, p string) string {
	out := path.Join(dir, p)
	if out == "." || out == "/" {
		return ""
	}
	return strings.TrimPrefix(out, "/")
}

func escapesRoot(p string) bool { return p == ".." || strings.HasPrefix(p, "../") }

// relPath is the link from a page in directory fromDir to target, a
// directory (written with a trailing slash) when dir is set, else a file.
// Both are bundle paths, "" being the root.
func relPath(fromDir, target string, dir bool) string {
	var b strings.Builder
	from, to := fromDir, target
	// Drop the common leading segments.
	for from != "" && to != "" {
		f, frest, _ := strings.Cut(from, "/")
		t, trest, _ := strings.Cut(to, "/")
		if f != t {
			break
		}
		from, to = frest, trest
	}
	if from != "" {
		b.WriteString(strings.Repeat("../", strings.Count(from, "/")+1))
	}
	b.WriteString(escapePath(to))
	if dir && to != "" {
		b.WriteByte('/')
	}
	if b.Len() == 0 {
		return "./"
	}
	return b.String()
}

// escapePath percent-encodes a bundle path for an href: everything but
// unreserved characters, '/' and a few sub-delimiters. ':' is escaped too so
// that "a:b.png" is not read as a scheme.
func escapePath(p string) string {
	for i := 0; i < len(p); i++ {
		if !pathSafe(p[i]) {
			goto escape
		}
	}
	return p
escape:
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if pathSafe(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}

func pathSafe(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-._~/!$'()*+,=@", c) >= 0
}

// htmlLink is a link found in a rendered page by scanning its HTML.
type htmlLink struct {
	raw string
	res resolved
}

// scanned is what scanning a page's HTML found.
type scanned struct {
	ids   map[string]bool
	links []htmlLink
}

// scanPage finds every id and every internal href/src of a rendered page.
// Links in skip (those of the Markdown, already resolved with their line)
// are not resolved again. Root-absolute links and links to Markdown
// sources (from layouts or raw HTML) are rewritten to page-relative ones;
// the returned HTML is b itself when nothing needed rewriting.
func (r *resolver) scanPage(b []byte, l loc, skip map[string]bool) ([]byte, scanned) {
	sc := scanned{ids: map[string]bool{}}
	type edit struct {
		start, end int
		with       string
	}
	var edits []edit
	value := func(vs, ve int) string {
		val := string(b[vs:ve])
		if strings.IndexByte(val, '&') >= 0 {
			val = html.UnescapeString(val)
		}
		return val
	}
	scanHTML(b, func(tag, name []byte, vs, ve int) {
		switch {
		case bytes.EqualFold(name, []byte("id")),
			bytes.EqualFold(name, []byte("name")) && bytes.EqualFold(tag, []byte("a")):
			sc.ids[value(vs, ve)] = true
		case bytes.EqualFold(name, []byte("href")), bytes.EqualFold(name, []byte("src")):
			if skip[string(b[vs:ve])] { // no allocation: most links are the Markdown's, seen already
				return
			}
			val := value(vs, ve)
			if skip[val] {
				return
			}
			res := r.resolve(l, val)
			if res.external {
				return
			}
			sc.links = append(sc.links, htmlLink{raw: val, res: res})
			if res.rewrite && res.problem == "" {
				edits = append(edits, edit{vs, ve, html.EscapeString(res.href)})
			}
		}
	})
	if len(edits) == 0 {
		return b, sc
	}
	out := make([]byte, 0, len(b)+len(edits)*8)
	last := 0
	for _, e := range edits {
		out = append(out, b[last:e.start]...)
		out = append(out, e.with...)
		last = e.end
	}
	return append(out, b[last:]...), sc
}

// scanHTML calls fn for every attribute that has a value, in order, with
// the value's span in b (quotes excluded). It is a small tokenizer, not a
// parser: enough for the HTML goldmark and html/template write and the raw
// HTML people put in Markdown. Comments and the contents of script, style,
// textarea and title are skipped.
func scanHTML(b []byte, fn func(tag, name []byte, vs, ve int)) {
	i := 0
	for i < len(b) {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			return
		}
		i += j + 1
		if i >= len(b) {
			return
		}
		switch c := b[i]; {
		case bytes.HasPrefix(b[i:], []byte("!--")):
			k := bytes.Index(b[i+3:], []byte("-->"))
			if k < 0 {
				return
			}
			i += 3 + k + 3
			continue
		case c == '!' || c == '/' || c == '?':
			k := bytes.IndexByte(b[i:], '>')
			if k < 0 {
				return
			}
			i += k + 1
			continue
		case !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'):
			continue
		}
		s := i
		for i < len(b) && !isHTMLSpace(b[i]) && b[i] != '>' && b[i] != '/' {
			i++
		}
		tag := b[s:i]
	attrs:
		for i < len(b) {
			for i < len(b) && (isHTMLSpace(b[i]) || b[i] == '/') {
				i++
			}
			if i >= len(b) {
				return
			}
			if b[i] == '>' {
				i++
				break attrs
			}
			ns := i
			for i < len(b) && !isHTMLSpace(b[i]) && b[i] != '=' && b[i] != '>' && b[i] != '/' {
				i++
			}
			name := b[ns:i]
			if len(name) == 0 { // a stray '=': step over it
				i++
				continue
			}
			for i < len(b) && isHTMLSpace(b[i]) {
				i++
			}
			if i >= len(b) || b[i] != '=' {
				continue
			}
			i++
			for i < len(b) && isHTMLSpace(b[i]) {
				i++
			}
			if i >= len(b) {
				return
			}
			if q := b[i]; q == '"' || q == '\'' {
				k := bytes.IndexByte(b[i+1:], q)
				if k < 0 {
					return
				}
				fn(tag, name, i+1, i+1+k)
				i += k + 2
				continue
			}
			vs := i
			for i < len(b) && !isHTMLSpace(b[i]) && b[i] != '>' {
				i++
			}
			fn(tag, name, vs, i)
		}
		for _, raw := range []string{"script", "style", "textarea", "title"} {
			if bytes.EqualFold(tag, []byte(raw)) {
				k := indexFold(b[i:], "</"+raw)
				if k < 0 {
					return
				}
				i += k
				break
			}
		}
	}
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// indexFold is bytes.Index ignoring ASCII case; s must be lower case.
func indexFold(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if b[i] == '<' && bytes.EqualFold(b[i:i+len(s)], []byte(s)) {
			return i
		}
	}
	return -1
}
