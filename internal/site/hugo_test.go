package site

import (
	"bytes"
	"context"
	"html"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// hugoFixture is a small Hugo site written for these tests: sections,
// nested sections, bundles, aliases, taxonomies, menus, permalinks, every
// shortcode island renders, emoji and math.
var hugoFixture = filepath.Join("testdata", "hugo")

// warnings captures what a build logs at warning level, one message with
// its attributes per line, paths relative to dir.
type warnings struct {
	bytes.Buffer
	dir string
}

func (w *warnings) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelWarn,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, slog.LevelKey:
				return slog.Attr{}
			}
			if s, ok := a.Value.Any().(string); ok && w.dir != "" {
				return slog.String(a.Key, strings.ReplaceAll(s, w.dir+string(filepath.Separator), ""))
			}
			return a
		},
	}))
}

func (w *warnings) lines() []string {
	return strings.Split(strings.TrimSpace(w.String()), "\n")
}

// compareGolden requires the bundle's files to be those under golden,
// byte for byte; -update rewrites golden.
func compareGolden(t *testing.T, b *Bundle, golden string) {
	t.Helper()
	got := readAll(t, b)
	if *update {
		require.NoError(t, os.RemoveAll(golden))
		for p, data := range got {
			file := filepath.Join(golden, filepath.FromSlash(p))
			require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
			require.NoError(t, os.WriteFile(file, data, 0o644))
		}
	}
	want := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(golden, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(golden, p)
		want[filepath.ToSlash(rel)] = data
		return err
	}))
	require.Equal(t, slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got)),
		"files differ from %s; run go test ./internal/site -update and review the diff", golden)
	for p := range want {
		require.Equal(t, string(want[p]), string(got[p]), "%s differs from %s; run go test ./internal/site -update and review the diff", p, golden)
	}
}

func TestHugoGolden(t *testing.T) {
	abs, err := filepath.Abs(hugoFixture)
	require.NoError(t, err)
	w := &warnings{dir: abs}
	cfg := testConfig(t, abs)
	cfg.Logger = w.logger()
	b := mustBuild(t, cfg)
	compareGolden(t, b, filepath.Join("testdata", "hugo-golden"))
	require.Equal(t, 23, b.Pages())
	require.Equal(t, 6, b.StaticFiles())
	checkLinksIndependently(t, b)
	require.Equal(t, []string{
		`msg="site: ignoring Hugo settings island has no use for" file=hugo.toml keys=googleanalytics`,
		`msg="site: island renders the site with its own theme: the Hugo templates in layouts/ are not used, but for shortcodes" layouts=layouts templates=2`,
		`msg="site: island has no such layout; using its default one, as Hugo does" file=content/post/dipole-day.md line=7 layout=archives default=post layouts="page, post"`,
		`msg="site: island has no such layout; using its default one, as Hugo does" file=content/projects/hive-scale/index.md line=4 type=gallery default=post layouts="page, post"`,
		`msg="site: leaving out a menu entry that leads to nothing the site has" file=hugo.toml line=43 name=Search url=/search/`,
	}, w.lines())
}

// TestHugoConventions checks the fixture's output against what a Hugo user
// expects of the same tree, written out rather than compared with golden
// files: where pages go, which list pages exist, where aliases lead.
func TestHugoConventions(t *testing.T) {
	b := mustBuild(t, testConfig(t, hugoFixture))
	files := readAll(t, b)
	has := func(p string) bool { _, ok := files[p]; return ok }

	for _, p := range []string{
		// The home page, a section's list page, a nested section's.
		"index.html", "post/index.html", "projects/index.html", "projects/radio/index.html",
		// permalinks: post = "/:year/:month/:slug/", the slug from the title when there is none.
		"2024/04/first-inspection-of-the-year/index.html", "2024/02/dipole-day/index.html",
		// A folder without _index.md is no section: its page is its parent's, the permalink still applies.
		"2023/12/winter-notes/index.html",
		// A bundle: slug names it, its files go beside it (but not its other Markdown).
		"2024/05/swarms-arrive/index.html", "2024/05/swarms-arrive/swarm.svg", "2024/05/swarms-arrive/notes/checklist.txt",
		// A section's pages, a bundle in a section with its file.
		"projects/radio/antenna-log/index.html", "projects/hive-scale/index.html", "projects/hive-scale/wiring.svg",
		// A top-level page, and one whose url names a file.
		"about/index.html", "contact.html",
		// Taxonomies: the three configured, each term under its taxonomy, urlized.
		"tags/index.html", "tags/bees/index.html", "categories/hives/index.html", "categories/radio/index.html",
		"series/index.html", "series/hive-diary/index.html",
		// Static files at the root, the theme's too; the feed where Hugo puts it.
		"favicon.svg", "images/frames.svg", "css/quiet.css", "index.xml",
	} {
		require.True(t, has(p), "%s is missing", p)
	}
	for _, p := range []string{
		"post/first-inspection/index.html",                                                     // moved by permalinks
		"2024/05/swarms-arrive/draft-notes/index.html", "2024/05/swarms-arrive/draft-notes.md", // a bundle's Markdown is no page, nor published
		"post/seed-list/index.html", "seed-list/index.html", // a draft
		"2999/01/next-year/index.html",                    // in the future
		"homepage/index.html", "homepage/hero/index.html", // headless, and cascaded render: never
	} {
		require.False(t, has(p), "%s should not be built", p)
	}
	require.Equal(t, files["atom.xml"], files["index.xml"], "index.xml is the same feed, where Hugo users' subscribers look")

	// Aliases are pages that lead to the page, relative so they work under /ipfs/CID/.
	refresh := regexp.MustCompile(`<meta http-equiv="refresh" content="0; url=([^"]*)">`)
	for alias, target := range map[string]string{
		"about-me/index.html":               "about/index.html",
		"wren.html":                         "about/index.html",
		"2024/swarms/index.html":            "2024/05/swarms-arrive/index.html",
		"2024/05/old-swarm-note/index.html": "2024/05/swarms-arrive/index.html", // relative to the page's parent
	} {
		m := refresh.FindSubmatch(files[alias])
		require.NotNil(t, m, "%s has no refresh", alias)
		to := path.Join(path.Dir(alias), html.UnescapeString(string(m[1])))
		if strings.HasSuffix(string(m[1]), "/") {
			to = path.Join(to, "index.html")
		}
		require.Equal(t, target, to, "%s leads elsewhere", alias)
	}

	home := string(files["index.html"])
	require.Contains(t, home, "two hives 🐝", "emoji codes are replaced (enableEmoji)")
	require.Contains(t, home, `<title>Wren&#39;s field notes</title>`)
	require.Contains(t, home, `<html lang="en-gb">`)
	require.Contains(t, home, `© 2024 Wren Okafor · <a href="atom.xml">`, "copyright, entities resolved")
	require.Contains(t, home, `<meta name="author" content="Wren Okafor">`, "params.author.name")
	// The main menu: configured entries and the page that put itself in it, by weight;
	// the entry leading to nothing the site has (Search) left out.
	nav := regexp.MustCompile(`<li><a href="[^"]*"[^>]*>([^<]*)</a></li>`).FindAllStringSubmatch(home[:strings.Index(home, "</nav>")], -1)
	var names []string
	for _, m := range nav {
		names = append(names, m[1])
	}
	require.Equal(t, []string{"Notes", "Projects", "About", "Tags", "Code"}, names)
	require.Contains(t, home, `<a href="https://code.example.org/wren/notes">Code</a>`)

	// Main sections (params.mainSections) make the home page's list and the feed.
	require.Contains(t, home, `href="2024/05/swarms-arrive/">Swarm season</a>`)
	require.NotContains(t, home, "Antenna log", "a page of projects/ is not in the main sections")
	require.NotContains(t, string(files["atom.xml"]), "Antenna log")

	list := string(files["post/index.html"])
	require.Contains(t, list, "<h1>Notes</h1>", "_index.md titles the section")
	require.Contains(t, list, "Short notes, mostly written on the allotment bench.", "and gives it its text")
	require.Contains(t, list, `<meta name="description" content="Everything written down, newest first.">`)
	require.Regexp(t, `(?s)Swarm season.*First inspection.*Dipole day.*Winter notes`, list, "newest first")
	require.Contains(t, string(files["projects/radio/antenna-log/index.html"]), `<article class="page">`, "type: page picks the page layout")
	projects := string(files["projects/index.html"])
	require.Contains(t, projects, `href="radio/">Radio station</a>`, "a nested section is listed in its parent")
	require.Contains(t, projects, `href="hive-scale/">Hive scale</a>`)
	require.Contains(t, string(files["categories/hives/index.html"]), "Everything about the two hives.", "a term's _index.md")

	post := string(files["2024/04/first-inspection-of-the-year/index.html"])
	require.Contains(t, post, `<meta name="description" content="The first warm Saturday: both colonies made it through the winter.">`,
		"the summary is the text before <!--more-->")
	require.Contains(t, post, `<img src="../../../images/frames.svg" alt="Two frames of capped brood">`, "figure, root-absolute src made relative")
	require.Contains(t, post, `<a href="../../05/swarms-arrive/">its own note</a>`, "ref by a bundle's name")
	require.Contains(t, post, `<span class="line hl">`, "highlight with hl_lines")
	require.Contains(t, post, "<details>\n<summary>What I <em>took</em> with me</summary>\n<ul>", "details, Markdown inside")
	require.Contains(t, post, "grid square is IO91wm", "param reaches into the site's params")
	require.Contains(t, post, `href="../../../series/hive-diary/"`, "terms of every taxonomy are linked")

	dipole := string(files["2024/02/dipole-day/index.html"])
	require.Contains(t, dipole, `<a href="../../../post/" aria-current="page">Notes</a>`,
		"a page that permalinks put outside its section's folder still has its section current in the menu")
	for _, want := range []string{
		`<a href="https://www.youtube.com/watch?v=dQw4fIXTUR3">Raising the dipole</a>`,
		`<a href="https://vimeo.com/900000001">`,
		`<a href="https://gist.github.com/wrenfixture/0123456789abcdef#file-antenna-py">`,
		`<a href="https://x.com/WrenFixture/status/1790000000000000002">`,
		`<span class="math">\(\ell = \frac{c}{4f}\)</span>`, "<div class=\"math\">$$\nL \\approx",
		"<aside class=\"callout callout-tip\"><strong>Feed point</strong>\n<p>Keep the feed point <strong>dry</strong>",
		`<span class="shack">Dipole day from IO91wm</span>` + "\nand again: " + `<span class="shack">Dipole day from IO91wm</span>`,
		`<p class="station">Wren&#39;s field notes: 40m from IO91wm (station #0)</p>`,
		`<div class="note">Theme shortcodes work too.</div>`,
		`{{&lt; figure src=`,
	} {
		require.Contains(t, dipole, want)
	}
	require.Contains(t, string(files["2024/05/swarms-arrive/index.html"]), `<a href="https://x.com/WrenFixture/status/1790000000000000001">`)
	require.Contains(t, string(files["2024/05/swarms-arrive/index.html"]), `<a href="https://www.instagram.com/p/C0FIXTURE01/">`)
	for p, data := range files {
		if strings.HasSuffix(p, ".html") {
			require.NotRegexp(t, `<(iframe|script)\b`, string(data), "%s loads something from elsewhere", p)
			require.NotContains(t, string(data), "ISLANDSHORTCODE", "%s has a placeholder left", p)
		}
	}
	about := string(files["about/index.html"])
	require.Contains(t, about, `<a href="../projects/radio/">own page</a>`, "relref to a section's _index.md")
	require.Contains(t, about, `lives at <a href="https://code.example.org/wren/notes">`, "param, then linkified as Hugo does")
	require.Contains(t, string(files["sitemap.xml"]), "<loc>https://wren.example.org/2024/02/dipole-day/</loc><lastmod>2024-03-01</lastmod>")
}

// writeHugoSite makes a Hugo site's root from a map of path → contents,
// with a minimal hugo.toml unless the map has one.
func writeHugoSite(t *testing.T, files map[string]string) string {
	t.Helper()
	if !slices.ContainsFunc(hugoConfigNames, func(n string) bool { _, ok := files[n]; return ok }) {
		files["hugo.toml"] = "title = \"T\"\n"
	}
	dir := filepath.Join(t.TempDir(), "site")
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	return dir
}

func TestHugoBadInput(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // each a line of the error, "DIR/" standing for the site's root
	}{
		{
			name:  "unknown shortcode",
			files: map[string]string{"content/post/a.md": "---\ntitle: A\n---\n\nText.\n\n{{< gallery dir=\"x\" >}}\n"},
			want:  []string{`DIR/content/post/a.md:7: unknown shortcode "gallery": Hugo's built-in ones island renders are comment, details, figure, gist, highlight, instagram, param, ref, relref, tweet, twitter, vimeo, x, youtube; add your own as layouts/shortcodes/gallery.html`},
		},
		{
			name:  "shortcode never closed",
			files: map[string]string{"content/post/a.md": "---\ntitle: A\n---\n{{< highlight go >}}\nx := 1\n"},
			want:  []string{`DIR/content/post/a.md:4: shortcode "highlight" is never closed; end it with {{< /highlight >}} (or write {{< highlight />}} if it has no inner content)`},
		},
		{
			name:  "closing tag without opening",
			files: map[string]string{"content/post/a.md": "---\ntitle: A\n---\nx\n{{< /details >}}\n"},
			want:  []string{`DIR/content/post/a.md:5: {{< /details >}} closes a shortcode that was never opened (or that takes no inner content)`},
		},
		{
			name:  "mixed arguments",
			files: map[string]string{"content/post/a.md": "---\ntitle: A\n---\n{{< youtube abc title=\"x\" >}}\n"},
			want:  []string{`DIR/content/post/a.md:4: shortcode "youtube" mixes named and positional arguments; use one kind`},
		},
		{
			name:  "unclosed quote",
			files: map[string]string{"content/a.md": "---\ntitle: A\n---\n\n{{< figure src=\"x.png >}}\nmore\n"},
			want:  []string{`DIR/content/a.md:5: a quoted shortcode argument runs past the end of its line; close the quote (or use ` + "`…`" + ` for text over several lines)`},
		},
		{
			name: "ref to a missing page and to a draft",
			files: map[string]string{
				"content/post/a.md": "---\ntitle: A\n---\n[b]({{< ref \"b.md\" >}}) and [c]({{< relref \"/post/nope\" >}})\n",
				"content/post/b.md": "---\ntitle: B\ndraft: true\n---\n",
			},
			want: []string{
				`DIR/content/post/a.md:4: ref "b.md": that page is a draft (build with --drafts to include it)`,
				`DIR/content/post/a.md:4: relref "/post/nope": no such page; write the path of a page below content/, such as post/first.md or /about`,
			},
		},
		{
			name:  "param nobody sets",
			files: map[string]string{"content/a.md": "---\ntitle: A\n---\n\nx {{< param nope >}}\n"},
			want:  []string{`DIR/content/a.md:5: param "nope": neither the page's front matter nor the site's params set it`},
		},
		{
			name:  "inline shortcodes off",
			files: map[string]string{"content/a.md": "---\ntitle: A\n---\n{{< t.inline >}}{{ .Page.Title }}{{< /t.inline >}}\n"},
			want:  []string{`DIR/content/a.md:4: inline shortcode "t.inline": inline shortcodes are off; set enableInlineShortcodes = true in the site's configuration`},
		},
		{
			name: "a shortcode template calling what island does not have",
			files: map[string]string{
				"layouts/shortcodes/img.html": "<img src=\"{{ .Get 0 }}\">\n{{ partial \"x.html\" . }}\n",
				"content/a.md":                "---\ntitle: A\n---\n{{< img a.png >}}\n",
			},
			want: []string{`DIR/content/a.md:4: shortcode "img": DIR/layouts/shortcodes/img.html:2: template: img:2: function "partial" not defined`},
		},
		{
			name: "a shortcode template failing",
			files: map[string]string{
				"layouts/shortcodes/need.html": "{{ if not (.Get \"src\") }}{{ errorf \"need: src is required\" }}{{ end }}",
				"content/a.md":                 "---\ntitle: A\n---\n\n{{< need >}}\n",
			},
			want: []string{`DIR/content/a.md:5: shortcode "need" (DIR/layouts/shortcodes/need.html): template: need:1:28: executing "need" at <errorf "need: src is required">: error calling errorf: need: src is required`},
		},
		{
			name:  "broken link, checked as on island's own sites",
			files: map[string]string{"content/post/a.md": "---\ntitle: A\n---\n\n[gone](/post/gone/) {{< figure src=\"/img/none.png\" >}}\n"},
			want: []string{
				`DIR/content/post/a.md:5: link "/img/none.png": no such file`,
				`DIR/content/post/a.md:5: link "/post/gone/": no such page`,
			},
		},
		{
			name: "two pages in one place",
			files: map[string]string{
				"content/post/a.md": "---\ntitle: A\nslug: same\n---\n",
				"content/post/b.md": "---\ntitle: B\nurl: /post/same/\n---\n",
			},
			want: []string{`DIR/content/post/b.md:3: DIR/content/post/b.md would be at post/same/, as would DIR/content/post/a.md; set another ` + "`slug` or `url`" + ` in the front matter of one of them, or rename a file`},
		},
		{
			name:  "a page where the site has its list of tags",
			files: map[string]string{"content/tags.md": "---\ntitle: Tags\n---\n", "content/post/a.md": "---\ntags: [x]\n---\n"},
			want:  []string{`DIR/content/tags.md: its page would be at tags/, which the site itself uses for the generated site; set another ` + "`slug` or `url`" + ` in its front matter, or rename the file`},
		},
		{
			name:  "bad alias",
			files: map[string]string{"content/a.md": "---\ntitle: A\naliases: [\"https://elsewhere.example/a\"]\n---\n"},
			want:  []string{`DIR/content/a.md:3: alias "https://elsewhere.example/a": write a path of this site, such as /old/address/`},
		},
		{
			name:  "bad front matter types",
			files: map[string]string{"content/a.md": "---\ntitle: A\naliases: {a: 1}\nexpiryDate: someday\nmenu: 3\n---\n"},
			want: []string{
				`DIR/content/a.md:3: aliases: want a list of words, such as [go, p2p]`,
				`DIR/content/a.md:4: expirydate: "someday" is not a date; write it as 2024-05-17 or 2024-05-17T09:30:00Z`,
				`DIR/content/a.md:5: menu: want a menu's name, such as main, or a table such as {main: {weight: 10}}`,
			},
		},
		{
			name:  "bad TOML configuration",
			files: map[string]string{"hugo.toml": "title = \"T\"\nbaseURL = \n", "content/a.md": "x"},
			want:  []string{`DIR/hugo.toml:2: toml: incomplete number; fix the TOML syntax`},
		},
		{
			name:  "bad YAML configuration",
			files: map[string]string{"hugo.yaml": "title: T\nparams: [x\n", "content/a.md": "x"},
			want:  []string{`DIR/hugo.yaml:2: not valid YAML: did not find expected ',' or ']'`},
		},
		{
			name:  "wrong types in the configuration",
			files: map[string]string{"hugo.toml": "title = 3\nenableEmoji = \"yes\"\n[permalinks]\npost = \"/:year/:bogus/\"\n", "content/a.md": "x"},
			want: []string{
				`DIR/hugo.toml:1: title: want a string in quotes`,
				`DIR/hugo.toml:2: enableemoji: want true or false`,
				`DIR/hugo.toml:4: permalinks.post: ":bogus" is not a token island knows; use :year, :month, :monthname, :day, :weekday, :weekdayname, :yearday, :section, :sections, :title, :slug, :filename, :slugorfilename, :contentbasename, :slugorcontentbasename`,
			},
		},
		{
			name:  "no content directory",
			files: map[string]string{"hugo.toml": "title = \"T\"\ncontentDir = \"pages\"\n"},
			want:  []string{`DIR/pages: the Hugo site has no content directory; create it or set contentDir in hugo.toml`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { requireBuildError(t, writeHugoSite(t, tt.files), tt.want) })
	}
}

// TestHugoBuilderMatchesFullBuild edits a Hugo site step by step and
// requires the Builder's bundle to equal a fresh Build's each time: what a
// page's rendering depends on beyond its file (the configuration, shortcode
// templates, cascades, the pages refs reach) must make it render again.
func TestHugoBuilderMatchesFullBuild(t *testing.T) {
	for _, tc := range []struct {
		name    string
		viaFile bool
	}{{"in memory", false}, {"through a cache file", true}} {
		t.Run(tc.name, func(t *testing.T) { testHugoBuilderMatchesFullBuild(t, tc.viaFile) })
	}
}

func testHugoBuilderMatchesFullBuild(t *testing.T, viaFile bool) {
	s := newIncSite(t, map[string]string{
		"hugo.toml": "title = \"Inc\"\nenableInlineShortcodes = true\n[params]\ncolour = \"blue\"\n" +
			"[[menu.main]]\nname = \"Posts\"\npageRef = \"/post\"\n",
		"content/_index.md":                "Welcome to [the first post]({{< ref \"post/a\" >}}).\n",
		"content/post/_index.md":           "---\ntitle: Posts\ncascade:\n  mood: calm\n---\nAll of them.\n",
		"content/post/a.md":                "---\ntitle: A\ndate: 2024-01-01\ntags: [go]\n---\nColour {{< param colour >}}, mood {{< param mood >}}. See {{< sig \"A\" >}} and [B]({{< relref \"b.md\" >}}).\n",
		"content/post/b.md":                "---\ntitle: B\ndate: 2024-02-01\ncategories: [notes]\n---\nSecond. {{< figure src=\"/img/x.png\" caption=\"x\" >}}\n",
		"content/post/c/index.md":          "---\ntitle: C\ndate: 2024-03-01\n---\n![pic](pic.png) {{< t.inline >}}{{ len .Page.Resources }} files{{< /t.inline >}}\n",
		"content/post/c/pic.png":           "PNG",
		"layouts/shortcodes/sig.html":      "<em>{{ .Get 0 }} ({{ .Site.Params.colour }})</em>",
		"static/img/x.png":                 "PNG",
		"content/projects/radio/_index.md": "---\ntitle: Radio\n---\n",
	})
	if viaFile {
		s.throughCacheFile()
	}
	_, err := s.build()
	require.NoError(t, err)
	s.steps([]incStep{
		{"nothing changed", func() {}, ""},
		{"a site parameter", func() { s.edit("hugo.toml", `colour = "blue"`, `colour = "green"`) }, ""},
		{"a shortcode template", func() { s.write("layouts/shortcodes/sig.html", "<strong>{{ .Get 0 }}</strong>") }, ""},
		{"a cascade", func() { s.edit("content/post/_index.md", "mood: calm", "mood: busy") }, ""},
		{"a ref's page moved", func() { s.edit("content/post/b.md", "title: B", "title: B\nslug: bee") }, ""},
		{"a ref's page removed", func() { s.remove("content/post/b.md") }, `relref "b.md": no such page`},
		{"the page back", func() { s.write("content/post/b.md", "---\ntitle: B\ndate: 2024-02-01\n---\nBack.\n") }, ""},
		{"a bundle's file added", func() { s.write("content/post/c/more.png", "PNG") }, ""},
		{"an alias", func() { s.edit("content/post/a.md", "title: A", "title: A\naliases: [/old-a/]") }, ""},
		{"the menu", func() {
			s.edit("hugo.toml", `pageRef = "/post"`, "pageRef = \"/post\"\nweight = 1\n[[menu.main]]\nname = \"Radio\"\nurl = \"/projects/radio/\"")
		}, ""},
		{"emoji on", func() {
			s.edit("hugo.toml", "enableInlineShortcodes = true", "enableInlineShortcodes = true\nenableEmoji = true")
			s.edit("content/post/b.md", "Back.", "Back :smile:.")
		}, ""},
		{"permalinks", func() { s.edit("hugo.toml", "[params]", "[permalinks]\npost = \"/:year/:slug/\"\n[params]") }, ""},
		{"a section made headless", func() { s.edit("content/post/_index.md", "title: Posts", "title: Posts\nheadless: true") }, ""},
		{"a taxonomy added", func() {
			s.edit("hugo.toml", "[params]", "[taxonomies]\ntag = \"tags\"\nseries = \"series\"\n[params]")
			s.edit("content/post/a.md", "tags: [go]", "tags: [go]\nseries: [basics]")
		}, ""},
		{"an unknown shortcode", func() { s.edit("content/post/c/index.md", "![pic]", "{{< nope >}} ![pic]") }, `unknown shortcode "nope"`},
		{"made an island site", func() {
			s.remove("hugo.toml")
			require.NoError(t, os.RemoveAll(filepath.Join(s.dir, "layouts")))
			s.write("posts/z.md", "---\ntitle: Z\n---\nNow island's own layout.\n")
		}, ""},
	})
}

func TestHugoDeterministic(t *testing.T) {
	cfg := testConfig(t, hugoFixture)
	cfg.Workers = 1
	one := readAll(t, mustBuild(t, cfg))
	cfg.Workers = 4
	require.Equal(t, one, readAll(t, mustBuild(t, cfg)), "the same Hugo site gives the same bytes however it is built")
}

func TestHugoRootFoundFromItsContent(t *testing.T) {
	dir := writeHugoSite(t, map[string]string{
		"hugo.toml":         "title = \"Found\"\n",
		"content/post/a.md": "---\ntitle: A\n---\nx\n",
		"static/s.txt":      "s",
	})
	// `island build` in a Hugo site's root finds content/ by default.
	files := readAll(t, mustBuild(t, testConfig(t, filepath.Join(dir, "content"))))
	require.Contains(t, string(files["index.html"]), "<title>Found</title>")
	require.Contains(t, files, "post/a/index.html")
	require.Contains(t, files, "s.txt")

	// A content directory of island's own, even beside a config.toml, stays island's.
	island := writeSite(t, map[string]string{"site.toml": "title = \"Mine\"\n", "posts/a.md": "---\ntitle: A\n---\n"})
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(island), "config.toml"), []byte("title = \"Other\"\n"), 0o644))
	files = readAll(t, mustBuild(t, testConfig(t, island)))
	require.Contains(t, string(files["index.html"]), "<title>Mine</title>")
	require.Contains(t, files, "posts/a/index.html")
}

func TestHugoWriteDir(t *testing.T) {
	dir := writeHugoSite(t, map[string]string{"content/a.md": "---\ntitle: A\n---\n", "static/s.txt": "s"})
	b := mustBuild(t, testConfig(t, dir))
	// public/ in the site's root is where Hugo writes; island may too.
	require.NoError(t, WriteDir(b, filepath.Join(dir, "public")))
	require.FileExists(t, filepath.Join(dir, "public", "a", "index.html"))
	for _, out := range []string{dir, filepath.Join(dir, "content"), filepath.Join(dir, "static", "out"), filepath.Dir(dir)} {
		require.ErrorContains(t, WriteDir(b, out), "overlap", out)
	}
	require.FileExists(t, filepath.Join(dir, "hugo.toml"))
}

// A Hugo site keeps island's rule: a symbolic link out of the site (a
// page, a bundle's file, a static file, a shortcode template) is refused
// with an error naming it; dotfiles are not published.
func TestHugoSymlinksStayInside(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.txt")
	require.NoError(t, os.WriteFile(outside, []byte("the user's private key"), 0o600))
	for _, link := range []string{"content/post/leak.md", "content/post/b/secret.txt", "static/secret.txt", "layouts/shortcodes/leak.html"} {
		t.Run(link, func(t *testing.T) {
			dir := writeHugoSite(t, map[string]string{
				"content/post/a.md":       "---\ntitle: A\n---\na\n",
				"content/post/b/index.md": "---\ntitle: B\n---\nb\n",
				"content/post/.notes.md":  "not a page",
				"static/.DS_Store":        "not published",
			})
			p := filepath.Join(dir, filepath.FromSlash(link))
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.Symlink(outside, p))
			_, err := Build(context.Background(), testConfig(t, dir))
			require.ErrorContains(t, err, p+": is a symbolic link to "+outside+", outside the content directory")
			require.NoError(t, os.Remove(p))
			for f := range readAll(t, mustBuild(t, testConfig(t, dir))) {
				require.NotContains(t, "/"+f, "/.", "dotfiles are not published: %s", f)
			}
		})
	}
}
