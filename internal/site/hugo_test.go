package site

import (
	"bytes"
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
