package site

import (
	"crypto/sha256"
	"embed"
	"fmt"
	"html/template"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// themeFS is the default theme, built into the binary. Any of its files can
// be replaced by a file of the same name in content/layouts/.
//
//go:embed theme
var themeFS embed.FS

const (
	baseLayout     = "base.html"     // the page skeleton, executed for every page
	partialsLayout = "partials.html" // shared {{define}}s
	cssLayout      = "site.css"
)

// kindLayouts are the layouts the build itself picks; each defines "main".
var kindLayouts = []string{"home.html", "post.html", "page.html", "posts.html", "tags.html", "tag.html", "404.html",
	"section.html", "terms.html", "term.html"}

// StyleSheet returns the default theme's main CSS, so that other pages
// island serves (the gateway's status page) can share the site's look.
func StyleSheet() []byte {
	b, err := themeFS.ReadFile("theme/" + cssLayout)
	if err != nil {
		panic("site: the embedded theme lacks " + cssLayout) // a broken build of island itself
	}
	return b
}

// layoutFile is one file of the theme.
type layoutFile struct {
	name string // "post.html"
	file string // for messages: content/layouts/post.html, or the built-in theme
	text string
}

// loadLayouts reads content/layouts: *.html templates and site.css.
func loadLayouts(dir string, ps *problems) map[string]layoutFile {
	entries, err := os.ReadDir(dir)
	if err != nil {
		ps.addf(dir, 0, "cannot list: %v", err)
		return nil
	}
	out := map[string]layoutFile{}
	for _, e := range entries {
		name := e.Name()
		file := filepath.Join(dir, name)
		if strings.HasPrefix(name, ".") {
			continue
		}
		if e.IsDir() || (!strings.HasSuffix(name, ".html") && name != cssLayout) {
			ps.addf(file, 0, "not a layout: content/layouts/ holds .html templates (%s, %s or a new layout) and %s",
				baseLayout, strings.Join(kindLayouts, ", "), cssLayout)
			continue
		}
		if !insideContent(filepath.Dir(dir), file, ps) {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			ps.addf(file, 0, "cannot read: %v", err)
			continue
		}
		if line, ok := invalidUTF8Line(data); !ok {
			ps.addf(file, line, "not valid UTF-8; save the file as UTF-8")
			continue
		}
		out[name] = layoutFile{name: name, file: file, text: string(data)}
	}
	return out
}

// theme is the parsed set of layouts.
type theme struct {
	sets  map[string]*template.Template // layout name → templates to execute baseLayout of
	files map[string]layoutFile
	css   []byte
	hash  [sha256.Size]byte // of every file's name and text, for Builder's cache
	// listContent says, by layout, that executing it may read the Content
	// of the entries of view.Posts (readsListContent).
	listContent map[string]bool
}

// newTheme parses the built-in theme with the overrides laid over it.
func newTheme(overrides map[string]layoutFile, ps *problems) *theme {
	files := map[string]layoutFile{}
	entries, err := themeFS.ReadDir("theme")
	if err != nil {
		panic("site: the embedded theme cannot be listed: " + err.Error())
	}
	for _, e := range entries {
		b, _ := themeFS.ReadFile("theme/" + e.Name())
		files[e.Name()] = layoutFile{name: e.Name(), file: "built-in theme " + e.Name(), text: string(b)}
	}
	for name, f := range overrides {
		files[name] = f
	}
	t := &theme{sets: map[string]*template.Template{}, files: files, css: []byte(files[cssLayout].text), listContent: map[string]bool{}}
	k := newKeyWriter()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		k.str(name)
		k.str(files[name].text)
	}
	t.hash = k.sum()

	root := template.New(baseLayout).Option("missingkey=error")
	if _, err := root.Parse(files[baseLayout].text); err != nil {
		ps.add(templateProblem(files, baseLayout, err))
		return nil
	}
	if _, err := root.New(partialsLayout).Parse(files[partialsLayout].text); err != nil {
		ps.add(templateProblem(files, partialsLayout, err))
		return nil
	}
	names := make([]string, 0, len(files))
	for name := range files {
		if strings.HasSuffix(name, ".html") && name != baseLayout && name != partialsLayout {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		set, err := root.Clone()
		if err != nil {
			panic("site: cloning unexecuted templates failed: " + err.Error())
		}
		if _, err := set.New(name).Parse(files[name].text); err != nil {
			ps.add(templateProblem(files, name, err))
			continue
		}
		t.sets[name] = set
		t.listContent[name] = readsListContent(set) // before any execution escapes the trees
	}
	return t
}

// layoutNames lists the layouts a page may name in `layout:`.
func (t *theme) layoutNames() string {
	var names []string
	for name := range t.sets {
		names = append(names, strings.TrimSuffix(name, ".html"))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// templateProblem locates a text/template or html/template error, which
// reads like "template: post.html:12:5: executing ...", in its layout file.
func templateProblem(files map[string]layoutFile, fallback string, err error) Problem {
	msg := err.Error()
	name, line := fallback, 0
	for n := range files {
		i := strings.Index(msg, n+":")
		if i < 0 {
			continue
		}
		rest := msg[i+len(n)+1:]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if v, err := strconv.Atoi(rest[:j]); err == nil {
			name, line = n, v
			break
		}
	}
	return Problem{File: files[name].file, Line: line, Msg: fmt.Sprintf("layout: %s", msg)}
}

func (ps *problems) add(p Problem) { *ps = append(*ps, p) }
