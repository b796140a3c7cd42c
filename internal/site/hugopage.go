package site

import (
	"cmp"
	"errors"
	"fmt"
	"html"
	"maps"
	"path"
	"slices"
	"strings"
	"time"
)

// frontMatter reads what a Hugo page's front matter says beyond island's
// keys, with what the _index.md files above cascadeFrom hand down. Hugo's
// keys are case-insensitive. nil when the front matter cannot be used.
func (l *hugoLoader) frontMatter(p *page, cascadeFrom string) *hugoPage {
	m := &p.meta
	hp := &hugoPage{render: true, list: true, terms: map[string][]string{}, params: map[string]any{}}
	vals := map[string]fmValue{}
	lines := map[string]int{}
	for k, v := range m.values {
		lk := strings.ToLower(k)
		vals[lk], lines[lk] = v, m.keyLines[k]
	}
	for _, cm := range l.cascaded(cascadeFrom) {
		for k, v := range cm {
			if _, ok := vals[k]; !ok && k != "cascade" {
				vals[k] = tomlValue{v}
			}
		}
	}
	failed := false
	bad := func(key string, err error) {
		l.ps.addf(p.file, lines[key], "%s: %v", key, err)
		failed = true
	}
	// Island's keys written in another case (Title:) or cascaded: the page
	// is a copy, but its maps are the cached source's, so they are cloned.
	m.keyLines = maps.Clone(m.keyLines)
	for _, k := range knownKeys {
		v, ok := vals[k]
		if _, own := m.keyLines[k]; !ok || own {
			continue
		}
		if err := m.set(k, v); err != nil {
			bad(k, err)
		}
		m.keyLines[k] = lines[k]
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := vals[k]; ok {
				s, err := v.str()
				if err != nil {
					bad(k, err)
				}
				return s
			}
		}
		return ""
	}
	date := func(keys ...string) time.Time {
		for _, k := range keys {
			if v, ok := vals[k]; ok {
				t, err := v.date()
				if err != nil {
					bad(k, err)
				}
				return t
			}
		}
		return time.Time{}
	}
	m.Description = str("description")
	hp.url = str("url")
	hp.typ = str("type")
	hp.lastmod = date("lastmod", "modified")
	hp.publishDate = date("publishdate", "pubdate", "published")
	hp.expiryDate = date("expirydate", "unpublishdate")
	if m.Date.IsZero() {
		m.Date = hp.publishDate
	}
	if v, ok := vals["aliases"]; ok {
		a, err := v.strs()
		if err != nil {
			bad("aliases", err)
		}
		hp.aliases, hp.aliasLine = a, lines["aliases"]
	}
	for _, tx := range l.c.taxes {
		if tx.key == "tags" {
			continue // island's own key
		}
		if v, ok := vals[tx.key]; ok {
			t, err := v.strs()
			if err != nil {
				bad(tx.key, err)
			}
			hp.terms[tx.key] = t
		}
	}
	if v, ok := vals["headless"]; ok {
		b, err := v.boolean()
		if err != nil {
			bad("headless", err)
		}
		hp.render = !b
	}
	for _, k := range []string{"build", "_build"} {
		if v, ok := vals[k]; ok {
			if err := hp.readBuild(v.any()); err != nil {
				bad(k, err)
			}
		}
	}
	for _, k := range []string{"menu", "menus"} {
		if v, ok := vals[k]; ok {
			if err := hp.readMenu(v.any(), p, lines[k], cmp.Or(str("linktitle"), m.Title)); err != nil {
				bad(k, err)
			}
		}
	}
	if v, ok := vals["cascade"]; ok {
		switch c := v.any().(type) {
		case map[string]any:
			hp.cascade = c
		case []any:
			// Targeted cascades ([[cascade]] with _target) are Hugo's; the
			// untargeted ones apply to every page below.
			hp.cascade = map[string]any{}
			for _, e := range c {
				if em, ok := e.(map[string]any); ok {
					if _, targeted := em["_target"]; !targeted {
						maps.Copy(hp.cascade, em)
					}
				}
			}
		default:
			bad("cascade", errors.New("want a table of front matter keys to give the pages below"))
		}
	}
	for k, v := range vals {
		hp.params[k] = v.any()
	}
	if pm, ok := hp.params["params"].(map[string]any); ok {
		maps.Copy(hp.params, pm)
	}
	if failed {
		return nil
	}
	return hp
}

// readBuild reads Hugo's build options: render and list, each "always",
// "never" (or false), "link" or "local".
func (hp *hugoPage) readBuild(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return errors.New("want a table such as {render: never, list: never}")
	}
	never := func(x any) bool {
		switch y := x.(type) {
		case bool:
			return !y
		case string:
			return y == "never" || y == "link"
		}
		return false
	}
	if r, ok := m["render"]; ok && never(r) {
		hp.render = false
	}
	if l, ok := m["list"]; ok && never(l) {
		hp.list = false
	}
	return nil
}

// readMenu reads a page's `menu`: "main", [main, footer], or a table of
// menus each with name, weight and parent. Only the main menu is shown.
func (hp *hugoPage) readMenu(v any, p *page, line int, name string) error {
	entry := hugoMenuEntry{name: name, page: p, file: p.file, line: line}
	switch x := v.(type) {
	case string:
		if x == "main" {
			hp.menus = append(hp.menus, entry)
		}
	case []any:
		for _, e := range x {
			if e == "main" {
				hp.menus = append(hp.menus, entry)
			}
		}
	case map[string]any:
		mv, ok := x["main"]
		if !ok {
			return nil
		}
		if mm, ok := mv.(map[string]any); ok {
			if n, ok := mm["name"].(string); ok && n != "" {
				entry.name = n
			}
			entry.parent, _ = mm["parent"].(string)
			entry.weight = weightOf(mm["weight"])
		}
		hp.menus = append(hp.menus, entry)
	default:
		return errors.New("want a menu's name, such as main, or a table such as {main: {weight: 10}}")
	}
	return nil
}

// hugoMenu is the site's main menu as navigation items: the configured
// entries and the pages that put themselves in it, by weight (unweighted
// last), then name. An entry leading to nothing the site has is left out
// with a warning, so the navigation holds no broken link; a submenu's
// entries are left out (island's theme shows one level).
func (b *builder) hugoMenu(ps *problems) []navItem {
	c := b.c
	entries := slices.Clone(c.hugo.menu)
	for _, p := range b.markdownPages() {
		if p.hugo != nil {
			entries = append(entries, p.hugo.menus...)
		}
	}
	if m := c.hugo.sectionPagesMenu; m == "main" {
		for _, s := range c.sections {
			if s.top && !s.noList {
				entries = append(entries, hugoMenuEntry{name: s.title, url: "/" + s.dir + "/"})
			}
		}
	}
	slices.SortStableFunc(entries, func(a, b hugoMenuEntry) int {
		return cmp.Or(compareWeight(a.weight, b.weight), cmp.Compare(a.name, b.name))
	})
	var nav []navItem
	var nested []string
	for _, e := range entries {
		if e.parent != "" {
			nested = append(nested, e.name)
			continue
		}
		target, ok := b.menuTarget(e)
		if !ok {
			b.cfg.Logger.Warn("site: leaving out a menu entry that leads to nothing the site has", "file", e.file, "line", e.line,
				"name", e.name, "url", cmp.Or(e.pageRef, e.url))
			continue
		}
		nav = append(nav, navItem{Name: e.name, Path: target})
	}
	if len(nested) > 0 {
		b.cfg.Logger.Warn("site: island's theme shows one level of menu; leaving out the entries of submenus", "entries", strings.Join(nested, ", "))
	}
	return nav
}

// menuTarget is the bundle path (or external URL) a menu entry leads to.
func (b *builder) menuTarget(e hugoMenuEntry) (string, bool) {
	if e.page != nil {
		return b.entries[e.page].Path, true
	}
	if e.pageRef != "" {
		ref := strings.TrimPrefix(e.pageRef, "/")
		for _, src := range []string{ref, ref + ".md", ref + "/index.md", ref + "/_index.md", path.Join(ref, "_index.md")} {
			if p := b.res.sources[strings.TrimPrefix(src, "/")]; p != nil {
				return b.entries[p].Path, true
			}
		}
		// A section without an _index.md has no source: its directory.
		e.url = "/" + b.c.hugo.sanitizeDir(strings.Trim(ref, "/")) + "/"
	}
	u := e.url
	if !b.res.own(u) {
		if isExternal(u) {
			return u, true
		}
		u = "/" + strings.TrimPrefix(u, "/")
	}
	r := b.res.resolve(loc{}, u)
	if r.external || r.problem != "" {
		return "", false
	}
	return strings.TrimSuffix(r.target, "index.html"), true
}

// aliasPage is a page at an old address that leads to a page's new one.
type aliasPage struct {
	path string
	data []byte
}

// planAliases places the alias pages of every page: Hugo's `aliases`. An
// alias where the site already has something is left out with a warning.
func (b *builder) planAliases(generate func(string, owner), ps *problems) {
	for _, p := range b.markdownPages() {
		if p.hugo == nil {
			continue
		}
		for _, a := range p.hugo.aliases {
			at, ok := b.aliasPath(p, a)
			if !ok {
				ps.addf(p.file, p.hugo.aliasLine, "alias %q: write a path of this site, such as /old/address/", a)
				continue
			}
			if b.res.files[at] {
				b.cfg.Logger.Warn("site: leaving out an alias where the site already has a page", "file", p.file,
					"line", p.hugo.aliasLine, "alias", a)
				continue
			}
			generate(at, owner{file: p.file, line: p.hugo.aliasLine, what: "the alias " + a})
			b.aliases = append(b.aliases, aliasPage{path: at, data: b.aliasHTML(p, at)})
		}
	}
	slices.SortFunc(b.aliases, func(x, y aliasPage) int { return cmp.Compare(x.path, y.path) })
}

// aliasPath is the bundle file of an alias: "/old/" is old/index.html,
// "/old.html" old.html; one without a leading slash is relative to the
// page's parent directory, as in Hugo.
func (b *builder) aliasPath(p *page, alias string) (string, bool) {
	a := strings.TrimSpace(alias)
	if base := b.c.hugo.baseURL; base != "" {
		if rest, ok := strings.CutPrefix(a, base); ok {
			a = "/" + rest
		}
	}
	if a == "" || isExternal(a) || strings.ContainsAny(a, "?#") {
		return "", false
	}
	var clean string
	if strings.HasPrefix(a, "/") {
		clean = cleanJoin("", a[1:])
	} else {
		clean = cleanJoin(path.Dir(p.dir), a)
	}
	if clean == "" || escapesRoot(clean) {
		return "", false
	}
	if ext := path.Ext(clean); (ext == ".html" || ext == ".htm") && !strings.HasSuffix(a, "/") {
		return clean, true
	}
	return clean + "/index.html", true
}

// aliasHTML is the page at an alias: it sends the reader on at once, and
// says where to for a reader whose browser does not. Its links are
// relative, so it works under any prefix as the rest of the site does.
func (b *builder) aliasHTML(p *page, at string) []byte {
	e := b.entries[p]
	dir := path.Dir(at)
	if dir == "." {
		dir = ""
	}
	href := loc{dir: dir, file: at}.hrefTo(p)
	title := html.EscapeString(e.Title)
	ref := html.EscapeString(href)
	return fmt.Appendf(nil, `<!doctype html>
<html lang="%s">
<head>
<meta charset="utf-8">
<title>%s</title>
<link rel="canonical" href="%s">
<meta name="robots" content="noindex">
<meta http-equiv="refresh" content="0; url=%s">
</head>
<body>
<p>This page has moved to <a href="%s">%s</a>.</p>
</body>
</html>
`, html.EscapeString(b.c.info.Language), title, ref, ref, ref, title)
}
