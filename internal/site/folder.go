package site

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
)

// A folder another generator built (Hugo, Zola, Jekyll, Eleventy, plain
// HTML) is published as it is. CheckFolder reads it for what works on a web
// server at the site's root but breaks when a gateway serves it under a
// path, /ipfs/CID/ or /ipns/NAME/: links that start with "/" leave the
// site, links to the site's own web address lead away from this version,
// and a <base> element sends every relative link elsewhere. Subdomain
// gateways (CID.ipfs.localhost) and DNSLink names serve the site at the
// root of its origin, where root-absolute links work.

// FolderCheck is what CheckFolder found.
type FolderCheck struct {
	// Generator is what the pages say made them (<meta name="generator">),
	// "" when they do not say.
	Generator string `json:"generator,omitempty"`
	// Pages is the number of HTML files read.
	Pages int `json:"pages"`
	// Warnings are the files with links that break under /ipfs/CID/, most
	// links first, at most MaxFolderWarnings; More counts those left out.
	Warnings []FolderWarning `json:"warnings"`
	More     int             `json:"more,omitempty"`
}

// FolderWarning is one file's links of one kind that break under a path.
type FolderWarning struct {
	File    string `json:"file"` // slash path in the folder; "" for the folder itself
	Kind    string `json:"kind"` // one of the Warn* kinds
	Count   int    `json:"count"`
	Example string `json:"example,omitempty"` // the first such link
	// Fix is the setting of the generator (or the step) that makes the
	// links work everywhere.
	Fix string `json:"fix"`
}

// Kinds of FolderWarning.
const (
	WarnRootAbsolute = "root-absolute" // href="/css/main.css"
	WarnOwnURL       = "own-url"       // href="https://example.org/post/" where example.org is the site's address
	WarnBase         = "base"          // <base href="/"> or an absolute one
	WarnNoIndex      = "no-index"      // no index.html at the top: gateways list the files instead
)

// MaxFolderWarnings bounds the warnings CheckFolder returns.
const MaxFolderWarnings = 50

// maxScanBytes is the largest HTML or CSS file CheckFolder reads.
const maxScanBytes = 8 << 20

func (w FolderWarning) String() string { return w.Problem() + "; " + w.Fix }

// Problem says what is wrong where, without the fix.
func (w FolderWarning) Problem() string {
	where := w.File
	if where == "" {
		where = "."
	}
	var what string
	switch w.Kind {
	case WarnRootAbsolute:
		what = fmt.Sprintf("%d link(s) start with / (e.g. %q): under /ipfs/CID/ they leave the site", w.Count, w.Example)
	case WarnOwnURL:
		what = fmt.Sprintf("%d link(s) lead to the site's web address (e.g. %q), away from the version published here", w.Count, w.Example)
	case WarnBase:
		what = fmt.Sprintf("<base href=%q> makes every relative link lead there", w.Example)
	case WarnNoIndex:
		what = "there is no index.html at the top: a gateway shows a list of the files instead of a page"
	}
	return where + ": " + what
}

// CheckFolder reads the HTML and CSS files of fsys (hidden ones only with
// hidden, as they are published) for links that break under /ipfs/CID/.
func CheckFolder(ctx context.Context, fsys fs.FS, hidden bool) (*FolderCheck, error) {
	fc := &FolderCheck{}
	own := map[string]bool{} // hosts of the site's own address
	type found struct {
		file, kind string
		n          int
		example    string
	}
	var all []found
	var pages []string
	var sheets []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p != "." && !hidden && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		switch strings.ToLower(path.Ext(p)) {
		case ".html", ".htm":
			pages = append(pages, p)
		case ".css":
			sheets = append(sheets, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("site: check folder: %w", err)
	}
	if _, err := fs.Stat(fsys, "index.html"); err != nil {
		all = append(all, found{kind: WarnNoIndex})
	}
	read := func(p string) ([]byte, error) {
		f, err := fsys.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, maxScanBytes))
	}
	// One pass over the pages: links that break under a path whatever the
	// site's address are counted at once; absolute links are kept (only
	// they, so memory stays small) until every page has said what the
	// site's own address is.
	type absLink struct{ file, val string }
	var absolute []absLink
	counts := map[[2]string]*found{} // file, kind
	var order [][2]string
	note := func(file, kind, example string) {
		k := [2]string{file, kind}
		f := counts[k]
		if f == nil {
			f = &found{file: file, kind: kind, example: example}
			counts[k] = f
			order = append(order, k)
		}
		f.n++
	}
	notFound := notFoundPages(fsys)
	for _, p := range pages {
		data, err := read(p)
		if err != nil {
			return nil, fmt.Errorf("site: check folder: %w", err)
		}
		check := !notFound[p]
		link := func(val string) {
			switch {
			case !check:
			case strings.HasPrefix(val, "//") || isExternal(val):
				absolute = append(absolute, absLink{p, val})
			case strings.HasPrefix(val, "/"):
				note(p, WarnRootAbsolute, val)
			}
		}
		scanHTML(data, func(tag, name []byte, vs, ve int) {
			val := strings.TrimSpace(html.UnescapeString(string(data[vs:ve])))
			isLink, isMeta := bytes.EqualFold(tag, []byte("link")), bytes.EqualFold(tag, []byte("meta"))
			switch {
			case isLink && bytes.EqualFold(name, []byte("href")) && relIs(data, vs, "canonical"),
				isMeta && bytes.EqualFold(name, []byte("content")) && metaIs(data, vs, "og:url"):
				// The site's address, rightly absolute, and what tells it.
				if u, err := url.Parse(val); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
					own[strings.ToLower(u.Host)] = true
				}
			case isLink && relIs(data, vs, "alternate", "me"):
			case isMeta && bytes.EqualFold(name, []byte("content")):
				switch {
				case fc.Generator == "" && metaIs(data, vs, "generator"):
					fc.Generator = val
				case metaIs(data, vs, "refresh"):
					if _, u, ok := strings.Cut(strings.ToLower(val), "url="); ok {
						link(strings.Trim(strings.TrimSpace(val[len(val)-len(u):]), `'"`))
					}
				}
			case bytes.EqualFold(tag, []byte("base")) && bytes.EqualFold(name, []byte("href")):
				if check && (strings.HasPrefix(val, "/") || isExternal(val)) {
					note(p, WarnBase, val)
				}
			case bytes.EqualFold(name, []byte("srcset")):
				for _, c := range strings.Split(val, ",") {
					if f := strings.Fields(c); len(f) > 0 {
						link(f[0])
					}
				}
			case isURLAttr(name):
				link(val)
			}
		})
	}
	fc.Pages = len(pages)
	for _, a := range absolute {
		if linkKind(a.val, own) == WarnOwnURL {
			note(a.file, WarnOwnURL, a.val)
		}
	}
	for _, k := range order {
		all = append(all, *counts[k])
	}
	for _, p := range sheets {
		data, err := read(p)
		if err != nil {
			return nil, fmt.Errorf("site: check folder: %w", err)
		}
		var f *found
		for _, m := range cssURL.FindAllSubmatch(data, -1) {
			v := strings.TrimSpace(string(m[1]))
			if kind := linkKind(v, own); kind != "" {
				if f == nil {
					f = &found{file: p, kind: kind, example: v}
				}
				f.n++
			}
		}
		if f != nil {
			all = append(all, *f)
		}
	}
	slices.SortFunc(all, func(a, b found) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.file, b.file), cmp.Compare(a.kind, b.kind))
	})
	for i, f := range all {
		if i == MaxFolderWarnings {
			fc.More = len(all) - i
			break
		}
		fc.Warnings = append(fc.Warnings, FolderWarning{File: f.file, Kind: f.kind, Count: max(f.n, 1), Example: f.example,
			Fix: folderFix(f.kind, fc.Generator)})
	}
	if fc.Warnings == nil {
		fc.Warnings = []FolderWarning{}
	}
	return fc, nil
}

// notFoundPages are the pages a gateway serves for missing paths: those
// the _redirects file's 404 rules name, and ipfs-404.html. Gateways serve
// them only on origins whose root is the site's (subdomain, DNSLink), at
// whatever depth the missing path had, so root-absolute links are what
// work there (island's own 404.html has them).
func notFoundPages(fsys fs.FS) map[string]bool {
	out := map[string]bool{"ipfs-404.html": true}
	data, err := fs.ReadFile(fsys, redirectsPath)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && !strings.HasPrefix(f[0], "#") && strings.HasPrefix(f[2], "404") {
			out[strings.TrimPrefix(f[1], "/")] = true
		}
	}
	return out
}

// cssURL finds url(…) in a style sheet.
var cssURL = regexp.MustCompile(`url\(\s*['"]?([^'")]*)['"]?\s*\)`)

// linkKind says how a link breaks under /ipfs/CID/, or "".
func linkKind(v string, own map[string]bool) string {
	switch {
	case strings.HasPrefix(v, "//"):
		if u, err := url.Parse("https:" + v); err == nil && own[strings.ToLower(u.Host)] {
			return WarnOwnURL
		}
	case strings.HasPrefix(v, "/"):
		return WarnRootAbsolute
	case isExternal(v):
		if u, err := url.Parse(v); err == nil && (u.Scheme == "http" || u.Scheme == "https") && own[strings.ToLower(u.Host)] {
			return WarnOwnURL
		}
	}
	return ""
}

// isURLAttr says an attribute holds a URL the browser follows or loads.
func isURLAttr(name []byte) bool {
	for _, a := range []string{"href", "src", "action", "poster", "data", "formaction"} {
		if bytes.EqualFold(name, []byte(a)) {
			return true
		}
	}
	return false
}

// relIs says the tag whose attribute value starts at vs has a rel naming
// one of rels.
func relIs(data []byte, vs int, rels ...string) bool {
	v, ok := tagAttr(data, vs, "rel")
	if !ok {
		return false
	}
	for _, r := range strings.Fields(strings.ToLower(v)) {
		if slices.Contains(rels, r) {
			return true
		}
	}
	return false
}

// metaIs says the meta tag whose attribute value starts at vs is named
// (name, property or http-equiv) key.
func metaIs(data []byte, vs int, key string) bool {
	for _, a := range []string{"name", "property", "http-equiv"} {
		if v, ok := tagAttr(data, vs, a); ok && strings.EqualFold(strings.TrimSpace(v), key) {
			return true
		}
	}
	return false
}

// tagAttr is the value of attribute name of the tag holding offset vs.
func tagAttr(data []byte, vs int, name string) (string, bool) {
	start := bytes.LastIndexByte(data[:vs], '<')
	if start < 0 {
		return "", false
	}
	end := bytes.IndexByte(data[vs:], '>')
	if end < 0 {
		end = len(data) - vs
	}
	tag := data[start : vs+end+1]
	var val string
	found := false
	scanHTML(tag, func(_, n []byte, s, e int) {
		if !found && bytes.EqualFold(n, []byte(name)) {
			val, found = html.UnescapeString(string(tag[s:e])), true
		}
	})
	return val, found
}

// folderFix is what makes links of kind work everywhere, in the words of
// the generator that made the pages when it is one island knows.
func folderFix(kind, generator string) string {
	hugo := strings.HasPrefix(strings.ToLower(generator), "hugo")
	switch kind {
	case WarnRootAbsolute:
		if hugo {
			return "set relativeURLs = true in the site's hugo.toml (or config.toml) and build again, or let island build the Hugo site itself: island publish --content SITE"
		}
		return "make the generator write page-relative links (../css/site.css rather than /css/site.css); they work on subdomain gateways and DNSLink names as they are"
	case WarnOwnURL:
		if hugo {
			return "use .RelPermalink and relURL instead of .Permalink and absURL in the templates, or let island build the Hugo site itself: island publish --content SITE"
		}
		return "make the generator write links within the site without its web address"
	case WarnBase:
		return "remove the <base> element from the template"
	case WarnNoIndex:
		return "publish the folder the generator wrote the site to (Hugo: public/, Jekyll: _site/, Eleventy: _site/, Zola: public/)"
	}
	return ""
}
