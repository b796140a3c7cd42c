package site

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"html"
	"io/fs"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"gopkg.in/yaml.v3"
)

// hugoConfigNames are the names of a Hugo site's configuration file, in
// the order Hugo looks for them.
var hugoConfigNames = []string{
	"hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json",
	"config.toml", "config.yaml", "config.yml", "config.json",
}

// hugoConfigDir is Hugo's configuration directory: one file per top-level
// key (params.toml, menus.toml) beside hugo.toml.
const hugoConfigDir = "config/_default"

// hugoSite is what island reads of a Hugo site's configuration.
type hugoSite struct {
	root    string   // the site's root directory
	files   []string // the configuration files read
	srcDir  string   // content/ (contentDir)
	statics []string // static/ (staticDir) and the theme's, site's first
	layouts []string // layouts/ and the theme's, site's first
	theme   string   // themes/NAME, when the site names a theme
	baseURL string   // "https://example.org/blog/", "" when relative or unset

	lowerPaths        bool              // Hugo lower-cases paths unless disablePathToLower
	permalinks        map[string]string // section → pattern
	taxonomies        map[string]string // plural → singular
	mainSections      []string
	menu              []hugoMenuEntry // the main menu's entries from the configuration; nil: no menu at all
	sectionPagesMenu  string
	emoji             bool
	inlineShortcodes  bool
	unsafe            bool // raw HTML in Markdown is kept (markup.goldmark.renderer.unsafe)
	typographer       bool
	passthrough       *passthroughDelims
	params            map[string]any // lower-cased keys, for the param shortcode
	shortcodes        map[string]layoutFile
	shortcodeProblems []Problem // of templates that failed to load, reported when used
}

// hugoMenuEntry is one entry of a menu, from the configuration or a page's
// front matter.
type hugoMenuEntry struct {
	name, url, pageRef, parent string
	weight                     int
	page                       *page // set for an entry from a page's front matter
	file                       string
	line                       int
}

// passthroughDelims are the delimiters of math (or any text) Markdown must
// leave alone: markup.goldmark.extensions.passthrough.
type passthroughDelims struct {
	block, inline [][2]string
}

// findHugoRoot says whether dir is a Hugo site: its root (holding
// hugo.toml, config.toml, … or config/_default/), or the content/ of one,
// which is what `island build` in a Hugo site's root finds by default.
func findHugoRoot(dir string) (string, bool) {
	if hugoConfigIn(dir) {
		return dir, true
	}
	if filepath.Base(filepath.Clean(dir)) != "content" || fileExists(filepath.Join(dir, siteFile)) {
		return "", false
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if !hugoConfigIn(parent) {
		return "", false
	}
	return parent, true
}

func hugoConfigIn(dir string) bool {
	for _, name := range hugoConfigNames {
		if fileExists(filepath.Join(dir, name)) {
			return true
		}
	}
	st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(hugoConfigDir)))
	return err == nil && st.IsDir()
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// hugoConfig is a configuration decoded into maps with lower-cased keys
// (Hugo's keys are case-insensitive), and where each came from.
type hugoConfig struct {
	m     map[string]any
	where map[string]configSource // top-level key → the file and its text
}

type configSource struct {
	file string
	data []byte
}

// line is the line of the file setting top-level key (or a key below it),
// for messages; 0 when unknown.
func (hc hugoConfig) line(key string, sub ...string) (string, int) {
	src := hc.where[key]
	k := key
	if len(sub) > 0 {
		k = sub[len(sub)-1]
	}
	return src.file, keyLineFold(src.data, k)
}

// keyLineFold is keyLine ignoring case, also finding TOML tables and JSON
// keys ("[menu]", `"title":`).
func keyLineFold(data []byte, key string) int {
	key = strings.ToLower(key)
	for i, line := range strings.Split(string(data), "\n") {
		l := strings.ToLower(strings.TrimSpace(line))
		l = strings.TrimLeft(l, "[\"'-")
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(l, key); ok {
			rest = strings.TrimLeft(rest, "\"'")
			rest = strings.TrimSpace(rest)
			if rest == "" || strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, ":") || strings.HasPrefix(rest, "]") || strings.HasPrefix(rest, ".") {
				return i + 1
			}
		}
	}
	return 0
}

// readHugoConfig reads the configuration of the Hugo site at root.
func readHugoConfig(root string, ps *problems) (hugoConfig, []string) {
	hc := hugoConfig{m: map[string]any{}, where: map[string]configSource{}}
	for _, name := range hugoConfigNames {
		file := filepath.Join(root, name)
		if !fileExists(file) {
			continue
		}
		if m, data, ok := decodeConfigFile(file, ps); ok {
			hc.merge("", m, configSource{file, data})
		}
		return hc, []string{file}
	}
	// config/_default/: hugo.toml (or config.toml) holds top-level keys,
	// every other file the key its name says (params.toml → [params]).
	dir := filepath.Join(root, filepath.FromSlash(hugoConfigDir))
	ents, err := os.ReadDir(dir)
	if err != nil {
		ps.addf(dir, 0, "cannot list: %v", err)
		return hc, []string{dir}
	}
	for _, e := range ents {
		name := e.Name()
		ext := filepath.Ext(name)
		if e.IsDir() || strings.HasPrefix(name, ".") || !slices.Contains([]string{".toml", ".yaml", ".yml", ".json"}, ext) {
			continue
		}
		file := filepath.Join(dir, name)
		m, data, ok := decodeConfigFile(file, ps)
		if !ok {
			continue
		}
		// menus.en.toml is the menus of English, the only language built.
		key, _, _ := strings.Cut(strings.TrimSuffix(name, ext), ".")
		key = strings.ToLower(key)
		if key == "hugo" || key == "config" {
			key = ""
		}
		hc.merge(key, m, configSource{file, data})
	}
	return hc, []string{dir}
}

// merge puts a decoded file's keys under key ("" is the top level).
func (hc hugoConfig) merge(key string, m map[string]any, src configSource) {
	if key == "" {
		for k, v := range m {
			hc.m[k] = v
			hc.where[k] = src
		}
		return
	}
	if old, ok := hc.m[key].(map[string]any); ok {
		maps.Copy(old, m)
	} else {
		hc.m[key] = m
	}
	hc.where[key] = src
}

// decodeConfigFile reads a TOML, YAML or JSON file into a map with
// lower-cased keys.
func decodeConfigFile(file string, ps *problems) (map[string]any, []byte, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		ps.addf(file, 0, "cannot read: %v", err)
		return nil, nil, false
	}
	if line, ok := invalidUTF8Line(data); !ok {
		ps.addf(file, line, "not valid UTF-8; save the file as UTF-8")
		return nil, nil, false
	}
	var m map[string]any
	switch filepath.Ext(file) {
	case ".toml":
		if err := toml.Unmarshal(data, &m); err != nil {
			tomlProblem(file, err, ps)
			return nil, nil, false
		}
	case ".json":
		if err := json.Unmarshal(data, &m); err != nil {
			ps.addf(file, 0, "%v; fix the JSON syntax", err)
			return nil, nil, false
		}
	default:
		if err := yamlUnmarshal(data, &m); err != nil {
			le := yamlError(err)
			ps.addf(file, le.Line-fmLineOffset, "%s", strings.Replace(le.Msg, "front matter is not", "not", 1))
			return nil, nil, false
		}
	}
	return lowerKeys(m), data, true
}

// yamlUnmarshal is yaml.Unmarshal that turns a panic of the parser into an
// error, as the front matter decoder does.
func yamlUnmarshal(data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the YAML parser failed (%v); simplify the YAML", r)
		}
	}()
	return yaml.Unmarshal(data, v)
}

// lowerKeys lower-cases the keys of every map in v, as Hugo reads them.
func lowerKeys(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = lowerValue(v)
	}
	return out
}

func lowerValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return lowerKeys(x)
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[fmt.Sprint(k)] = v
		}
		return lowerKeys(m)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = lowerValue(e)
		}
		return out
	}
	return v
}

// hugoKnownKeys are the configuration keys island reads; hugoHarmlessKeys
// those it does not need because its output already is what they ask for
// (relative links, one language) or because they configure services a
// static bundle has no part in.
var (
	hugoKnownKeys = []string{
		"author", "baseurl", "contentdir", "copyright", "defaultcontentlanguage", "disablekinds",
		"disablepathtolower", "enableemoji", "enableinlineshortcodes", "languagecode", "languages",
		"markup", "menu", "menus", "params", "permalinks", "sectionpagesmenu", "staticdir", "taxonomies",
		"theme", "title",
	}
	hugoHarmlessKeys = []string{"canonifyurls", "relativeurls", "publishdir", "enablerobotstxt", "paginate", "pagination", "summarylength", "module"}
)

// loadHugoSite reads the Hugo site at root: its configuration, and where
// its content, static files and layouts are.
func loadHugoSite(root string, log *slog.Logger, ps *problems) (*hugoSite, siteInfo) {
	hc, files := readHugoConfig(root, ps)
	h := &hugoSite{root: root, files: files, lowerPaths: true, typographer: true, params: map[string]any{}}
	info := siteInfo{Title: "My island", Language: "en"}
	cfgErr := func(key string, format string, args ...any) {
		file, line := hc.line(key)
		ps.addf(file, line, "%s: "+format, append([]any{key}, args...)...)
	}
	str := func(key string) string {
		v, ok := hc.m[key]
		if !ok {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			cfgErr(key, "want a string in quotes")
		}
		return s
	}
	boolean := func(key string) bool {
		v, ok := hc.m[key]
		if !ok {
			return false
		}
		b, ok := v.(bool)
		if !ok {
			cfgErr(key, "want true or false")
		}
		return b
	}
	if p, ok := hc.m["params"].(map[string]any); ok {
		h.params = p
	} else if _, set := hc.m["params"]; set {
		cfgErr("params", "want a table of settings, such as [params] description = \"…\"")
	}

	if t := str("title"); t != "" {
		info.Title = t
	}
	info.Language = cmp.Or(str("languagecode"), str("defaultcontentlanguage"), "en")
	info.Copyright = html.UnescapeString(str("copyright"))
	info.Author = cmp.Or(personName(h.params["author"]), personName(hc.m["author"]))
	info.Description, _ = h.params["description"].(string)
	if info.Description == "" {
		info.Description, _ = h.params["subtitle"].(string)
	}
	if base := str("baseurl"); base != "" {
		u, err := url.Parse(base)
		if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			h.baseURL = strings.TrimSuffix(base, "/") + "/"
			info.BaseURL = h.baseURL
		}
	}
	h.lowerPaths = !boolean("disablepathtolower")
	h.emoji = boolean("enableemoji")
	h.inlineShortcodes = boolean("enableinlineshortcodes")
	h.sectionPagesMenu = str("sectionpagesmenu")
	h.readMarkup(hc, ps)
	h.readTaxonomies(hc, ps)
	h.readPermalinks(hc, ps)
	h.readMenus(hc, ps)
	if ms, ok := h.params["mainsections"]; ok {
		h.mainSections = stringList(ms)
	}
	if langs, ok := hc.m["languages"].(map[string]any); ok && len(langs) > 1 {
		log.Warn("site: the Hugo site has several languages; island builds the content/ of the default one only",
			"languages", strings.Join(slices.Sorted(maps.Keys(langs)), ", "))
	}

	h.srcDir = filepath.Join(root, cmp.Or(filepath.FromSlash(str("contentdir")), "content"))
	statics := []string{"static"}
	if v, ok := hc.m["staticdir"]; ok {
		if l := stringList(v); len(l) > 0 {
			statics = l
		}
	}
	for _, s := range statics {
		h.statics = append(h.statics, filepath.Join(root, filepath.FromSlash(s)))
	}
	h.layouts = []string{filepath.Join(root, "layouts")}
	switch t := hc.m["theme"].(type) {
	case string:
		h.theme = t
	case []any:
		if len(t) > 0 {
			h.theme, _ = t[0].(string)
		}
	}
	if h.theme != "" {
		dir := filepath.Join(root, "themes", filepath.FromSlash(h.theme))
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			log.Warn("site: the theme the Hugo site names is not in themes/; island renders with its own theme anyway",
				"theme", h.theme, "dir", dir)
			h.theme = ""
		} else {
			h.statics = append(h.statics, filepath.Join(dir, "static"))
			h.layouts = append(h.layouts, filepath.Join(dir, "layouts"))
		}
	}
	if v, ok := hc.m["disablekinds"]; ok {
		for _, k := range stringList(v) {
			if k := strings.ToLower(k); k == "taxonomy" || k == "term" || k == "taxonomyterm" {
				h.taxonomies = map[string]string{}
			}
		}
	}
	var ignored []string
	for k := range hc.m {
		if !slices.Contains(hugoKnownKeys, k) && !slices.Contains(hugoHarmlessKeys, k) {
			ignored = append(ignored, k)
		}
	}
	if len(ignored) > 0 {
		slices.Sort(ignored)
		log.Warn("site: ignoring Hugo settings island has no use for", "file", files[0], "keys", strings.Join(ignored, ", "))
	}
	return h, info
}

// personName reads an author: a string, or a table with a name.
func personName(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		n, _ := x["name"].(string)
		return n
	}
	return ""
}

// stringList reads a string or a list of strings.
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return x
	}
	return nil
}

// mapPath walks nested maps: path(m, "a", "b") is m["a"]["b"].
func mapPath(m map[string]any, keys ...string) (any, bool) {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// readMarkup reads what island honours of markup.goldmark: raw HTML,
// typographer and passthrough (math).
func (h *hugoSite) readMarkup(hc hugoConfig, ps *problems) {
	gm, ok := mapPath(hc.m, "markup", "goldmark")
	if !ok {
		return
	}
	g, _ := gm.(map[string]any)
	if v, ok := mapPath(g, "renderer", "unsafe"); ok {
		h.unsafe, _ = v.(bool)
	}
	switch v, _ := mapPath(g, "extensions", "typographer"); t := v.(type) {
	case bool:
		h.typographer = t
	case map[string]any:
		if d, ok := t["disable"].(bool); ok {
			h.typographer = !d
		}
	}
	pt, ok := mapPath(g, "extensions", "passthrough")
	if !ok {
		return
	}
	if on, _ := mapPath(pt.(map[string]any), "enable"); on != true {
		return
	}
	d := &passthroughDelims{}
	read := func(kind string) [][2]string {
		v, ok := mapPath(pt.(map[string]any), "delimiters", kind)
		if !ok {
			return nil
		}
		var out [][2]string
		list, _ := v.([]any)
		for _, pair := range list {
			p, _ := pair.([]any)
			if len(p) != 2 {
				file, line := hc.line("markup", "delimiters")
				ps.addf(file, line, "markup.goldmark.extensions.passthrough.delimiters.%s: want pairs of strings such as [['$$', '$$']]", kind)
				return nil
			}
			open, _ := p[0].(string)
			closing, _ := p[1].(string)
			if open == "" || closing == "" {
				file, line := hc.line("markup", "delimiters")
				ps.addf(file, line, "markup.goldmark.extensions.passthrough.delimiters.%s: delimiters cannot be empty", kind)
				return nil
			}
			out = append(out, [2]string{open, closing})
		}
		return out
	}
	d.block, d.inline = read("block"), read("inline")
	h.passthrough = d
}

// defaultTaxonomies are Hugo's when the configuration names none.
var defaultTaxonomies = map[string]string{"tags": "tag", "categories": "category"}

func (h *hugoSite) readTaxonomies(hc hugoConfig, ps *problems) {
	v, ok := hc.m["taxonomies"]
	if !ok {
		if h.taxonomies == nil {
			h.taxonomies = maps.Clone(defaultTaxonomies)
		}
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		file, line := hc.line("taxonomies")
		ps.addf(file, line, "taxonomies: want a table of singular = \"plural\", such as tag = \"tags\"")
		return
	}
	h.taxonomies = map[string]string{}
	for singular, pv := range m {
		plural, ok := pv.(string)
		if !ok || plural == "" {
			file, line := hc.line("taxonomies", singular)
			ps.addf(file, line, "taxonomies.%s: want the plural as a string, such as %s = \"%ss\"", singular, singular, singular)
			continue
		}
		h.taxonomies[strings.ToLower(plural)] = singular
	}
}

func (h *hugoSite) readPermalinks(hc hugoConfig, ps *problems) {
	v, ok := hc.m["permalinks"]
	if !ok {
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		file, line := hc.line("permalinks")
		ps.addf(file, line, "permalinks: want a table of section = \"pattern\", such as posts = \"/:year/:slug/\"")
		return
	}
	h.permalinks = map[string]string{}
	add := func(section string, pv any) {
		pattern, ok := pv.(string)
		if !ok {
			file, line := hc.line("permalinks", section)
			ps.addf(file, line, "permalinks.%s: want a pattern as a string, such as \"/:year/:slug/\"", section)
			return
		}
		if bad := badPermalinkToken(pattern); bad != "" {
			file, line := hc.line("permalinks", section)
			ps.addf(file, line, "permalinks.%s: %q is not a token island knows; use %s", section, bad, strings.Join(permalinkTokens, ", "))
			return
		}
		h.permalinks[section] = pattern
	}
	for k, pv := range m {
		// Hugo 0.120's form: [permalinks.page] section = "…"
		if sub, ok := pv.(map[string]any); ok {
			if k == "page" {
				for s, p := range sub {
					add(s, p)
				}
			}
			continue
		}
		add(k, pv)
	}
}

// readMenus reads the main menu of the configuration ([[menu.main]] or
// [[menus.main]]). Other menus are not shown by island's theme.
func (h *hugoSite) readMenus(hc hugoConfig, ps *problems) {
	for _, key := range []string{"menu", "menus"} {
		v, ok := hc.m[key]
		if !ok {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			file, line := hc.line(key)
			ps.addf(file, line, "%s: want tables of entries, such as [[%s.main]] name = \"About\" pageRef = \"/about\"", key, key)
			continue
		}
		main, ok := m["main"]
		if !ok {
			continue
		}
		list, ok := main.([]any)
		if !ok {
			file, line := hc.line(key, "main")
			ps.addf(file, line, "%s.main: want a list of entries, such as [[%s.main]] name = \"About\" pageRef = \"/about\"", key, key)
			continue
		}
		src := hc.where[key]
		if h.menu == nil {
			h.menu = []hugoMenuEntry{}
		}
		for i, item := range list {
			e, ok := item.(map[string]any)
			if !ok {
				continue
			}
			me := hugoMenuEntry{file: src.file, line: menuLine(src.data, key, i)}
			me.name, _ = e["name"].(string)
			me.url, _ = e["url"].(string)
			me.pageRef, _ = e["pageref"].(string)
			me.parent, _ = e["parent"].(string)
			me.weight = weightOf(e["weight"])
			h.menu = append(h.menu, me)
		}
	}
}

// weightOf reads a menu entry's weight, however the file's format typed
// the number; 0 (unweighted) when it is none.
func weightOf(v any) int {
	switch w := v.(type) {
	case int64:
		return int(w)
	case int:
		return w
	case float64:
		return int(w)
	}
	return 0
}

// menuLine is the line of the name of the n-th (from 0) entry of the
// main menu, set under key ("menu" or "menus") in data; 0 when not found.
func menuLine(data []byte, key string, n int) int {
	start := keyLineFold(data, key)
	if start == 0 {
		return 0
	}
	line := start - 1 // lines before the menu's own
	for range n + 1 {
		l := keyLineFold(data[lineOffset(data, line):], "name")
		if l == 0 {
			return 0
		}
		line += l
	}
	return line
}

// lineOffset is the byte offset of the start of line n+1 (after n lines).
func lineOffset(data []byte, n int) int {
	off := 0
	for range n {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return len(data)
		}
		off += i + 1
	}
	return off
}

// loadShortcodes reads the shortcode templates of layouts/shortcodes (or
// _shortcodes, Hugo's newer name), the site's over the theme's, and says
// how many other layout files there are, which island does not use.
func (h *hugoSite) loadShortcodes(ps *problems) (others int) {
	h.shortcodes = map[string]layoutFile{}
	for i := len(h.layouts) - 1; i >= 0; i-- { // the theme's first, the site's replace them
		dir := h.layouts[i]
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p != dir {
					ps.addf(p, 0, "cannot read: %v", err)
				}
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") && p != dir {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(dir, p)
			rel = filepath.ToSlash(rel)
			var name string
			for _, prefix := range []string{"shortcodes/", "_shortcodes/"} {
				if n, ok := strings.CutPrefix(rel, prefix); ok {
					name = n
				}
			}
			if name == "" {
				others++
				return nil
			}
			ext := filepath.Ext(name)
			if ext != ".html" && ext != ".md" {
				return nil
			}
			name = strings.TrimSuffix(name, ext)
			// Output-format variants (name.amp.html) are not island's.
			if strings.Contains(path.Base(name), ".") {
				return nil
			}
			if !insideContent(h.root, p, ps) {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				ps.addf(p, 0, "cannot read: %v", err)
				return nil
			}
			if line, ok := invalidUTF8Line(data); !ok {
				ps.addf(p, line, "not valid UTF-8; save the file as UTF-8")
				return nil
			}
			h.shortcodes[name] = layoutFile{name: name, file: p, text: string(data)}
			return nil
		})
	}
	return others
}

// inputs are what a build of the site reads, and the configuration files
// it would read were they there.
func (h *hugoSite) inputs() []string {
	var out []string
	for _, name := range hugoConfigNames {
		out = append(out, filepath.Join(h.root, name))
	}
	out = append(out, filepath.Join(h.root, filepath.FromSlash(hugoConfigDir)), h.srcDir)
	out = append(out, h.statics...)
	out = append(out, h.layouts...)
	if h.theme != "" {
		out = append(out, filepath.Join(h.root, "themes", filepath.FromSlash(h.theme)))
	}
	return slices.Compact(out)
}

// Inputs are the files and directories a build of contentDir reads:
// contentDir itself for island's own layout; a Hugo site's configuration,
// content, static files, layouts and theme. A change anywhere else cannot
// change the site (a Hugo site's public/, node_modules/, .git/).
func Inputs(contentDir string) []string {
	root, ok := findHugoRoot(contentDir)
	if !ok {
		return []string{contentDir}
	}
	var ps problems
	h, _ := loadHugoSite(root, slog.New(slog.DiscardHandler), &ps)
	return h.inputs()
}
