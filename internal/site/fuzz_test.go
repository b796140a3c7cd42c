package site

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// fuzzSeeds are the fixture's Markdown files plus inputs that once broke
// something or sit on a boundary of the front matter syntax.
func fuzzSeeds(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "site", "*.md"))
	require.NoError(f, err)
	posts, err := filepath.Glob(filepath.Join("testdata", "site", "posts", "*.md"))
	require.NoError(f, err)
	for _, name := range append(files, posts...) {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
	for _, s := range []string{
		"", "---", "---\n", "---\n---", "---\n---\n", "+++\n+++\n", "---\r\ntitle: x\r\n---\r\nbody",
		"---\ntitle: *a\n---\n", "---\na: &a [*a]\n---\n", "---\n- 1\n- 2\n---\n", "---\n...\n",
		"+++\ntitle = 1\ndate = 1979-05-27T07:32:00Z\ntags = [1]\n+++\n", "+++\n[table]\nx = 1\n+++\n",
		"---\ndate: 2024-13-45\nweight: 99999999999999999999\n---\n",
		"[a](/x) [b](#y) [c](z.md) [d](%zz) ![e](//host/x) <a href='/'>h</a> <img src=x>",
		"# H\n## H\n### {#main}\n[^1]\n\n[^1]: x\n```go\nfunc(\n```\n| a |\n|---|\n| [x](../../../) |",
		"<!-- <a href=\"/nope\"> --><script>var a = '<a href=\"/x\">'</script><a href=\"/\" name=\"top\">",
		"<a href=\"/posts/\" <a", "<", "<a", "<a href=", "<a href='", "<a =x href=\"#\">",
	} {
		f.Add([]byte(s))
	}
}

func FuzzFrontMatter(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, body, bodyLine, errs := parseFrontMatter(data)
		for _, e := range errs {
			require.GreaterOrEqual(t, e.Line, 1, e.Msg)
			require.NotEmpty(t, e.Msg)
		}
		if len(errs) > 0 {
			return
		}
		require.GreaterOrEqual(t, bodyLine, 1)
		require.True(t, bytes.HasSuffix(data, body), "the body is the end of the file")
		if len(body) > 0 {
			head := data[:len(data)-len(body)]
			require.Equal(t, bodyLine-1, bytes.Count(head, []byte("\n")), "bodyLine is where the body starts")
		}
		require.NotNil(t, m.keyLines)
	})
}

// FuzzRender runs a whole build over one post made of the input: front
// matter, Markdown, raw HTML, layouts, the HTML scan and the link check.
// It must never panic, and a build that succeeds must be deterministic.
func FuzzRender(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		render := func() (map[string][]byte, error) {
			var ps problems
			c := &content{dir: "fuzz", srcDir: "fuzz", info: siteInfo{Title: "Fuzz", Language: "en"}, excluded: map[string]string{}}
			if p := parsePage(filepath.Join("fuzz", "posts", "x.md"), "posts/x.md", data, &ps); p != nil && placeIsland(p, &ps) {
				c.posts = append(c.posts, p)
			}
			c.islandLists(&ps)
			cfg := testConfig(t, "fuzz")
			cfg.Workers = 1
			b, err := buildContent(context.Background(), cfg, c, nil, &ps)
			if err != nil {
				return nil, err
			}
			out := map[string][]byte{}
			for _, f := range b.Files() {
				out[f.Path] = f.Data
			}
			return out, nil
		}
		first, err := render()
		if err != nil {
			requireProblems(t, err)
			return
		}
		if utf8.Valid(data) {
			for p, d := range first {
				require.True(t, utf8.Valid(d), "%s is not UTF-8", p)
			}
		}
		second, err := render()
		require.NoError(t, err)
		require.Equal(t, first, second)
	})
}

// hugoFuzzSeeds are the Hugo fixture's Markdown files plus shortcode
// syntax on its boundaries.
func hugoFuzzSeeds(f *testing.F) {
	f.Helper()
	err := filepath.WalkDir(filepath.Join("testdata", "hugo", "content"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".md") {
			return err
		}
		data, err := os.ReadFile(p)
		f.Add(data)
		return err
	})
	require.NoError(f, err)
	for _, s := range []string{
		"{{<", "{{%", "{{< >}}", "{{< x", "{{< figure >}}", "{{< figure />}}", "{{< /figure >}}", "{{</* x */>}}", "{{</* x",
		"{{< highlight go >}}x{{< /highlight >}}", "{{% details %}}*a*{{% /details %}}", "{{< details >}}{{< details >}}x{{< /details >}}{{< /details >}}",
		"{{< youtube id=\"a\" title=\"b\\\"c\" >}}", "{{< x a=`multi\nline` >}}", "{{< x a= >}}", "{{< x =b >}}", "{{< x \"unclosed >}}",
		"{{< a.inline >}}{{ .Get 0 }}{{< /a.inline >}}{{< a.inline 1 />}}", "{{< b.inline />}}", "{{< a.inline >}}{{ .Nope {{< /a.inline >}}",
		"[x]({{< ref \"nope\" >}})", "{{< param x >}} {{< param \"y.z\" >}}", "{{% figure src=\"/a.png\" %}}", "{{< figure >}}%}}",
		"```\n{{< youtube a >}}\n```", "<a href=\"{{< youtube a >}}\">", "$$\n\\frac{a}{b}\n$$ \\(x\\) :smile: <!--more-->",
	} {
		f.Add([]byte(s))
	}
}

// requireProblems requires err to be a BuildError of problems that say
// something.
func requireProblems(t *testing.T, err error) {
	t.Helper()
	var be *BuildError
	require.ErrorAs(t, err, &be)
	for _, p := range be.Problems {
		require.NotEmpty(t, p.Msg)
	}
}

// FuzzShortcodes parses any text for shortcodes: it must never panic, an
// error names a line of the text, and text without shortcodes is one piece.
func FuzzShortcodes(f *testing.F) {
	hugoFuzzSeeds(f)
	takes := func(name string) (bool, error) {
		if b, ok := builtinShortcodes[name]; ok {
			return b.inner, nil
		}
		if strings.HasSuffix(name, ".inline") {
			return true, nil
		}
		return false, errors.New("unknown")
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pieces, err := parseShortcodes(data, takes)
		if err != nil {
			var se *scError
			require.ErrorAs(t, err, &se)
			require.GreaterOrEqual(t, se.line, 1)
			require.LessOrEqual(t, se.line, bytes.Count(data, []byte("\n"))+1)
			require.NotEmpty(t, se.msg)
			return
		}
		if indexShortcode(data) < 0 {
			if len(data) == 0 {
				require.Empty(t, pieces)
			} else {
				require.Equal(t, []scPiece{{text: string(data)}}, pieces)
			}
		}
		var walk func([]scPiece)
		walk = func(ps []scPiece) {
			for _, p := range ps {
				if p.call != nil {
					require.NotEmpty(t, p.call.name)
					require.Less(t, p.call.start, p.call.end)
					require.LessOrEqual(t, p.call.end, len(data))
					walk(p.call.inner)
				}
			}
		}
		walk(pieces)
	})
}

// FuzzHugoPage builds a Hugo site whose one page is the input: shortcodes,
// emoji, math, front matter, links. It must never panic, problems name a
// file, and a build that succeeds must be deterministic.
func FuzzHugoPage(f *testing.F) {
	hugoFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		for name, text := range map[string]string{
			"hugo.toml": "title = \"F\"\nenableEmoji = true\nenableInlineShortcodes = true\n[params]\nx = \"y\"\n" +
				"[markup.goldmark.extensions.passthrough]\nenable = true\n[markup.goldmark.extensions.passthrough.delimiters]\nblock = [['$$', '$$']]\ninline = [['\\(', '\\)']]\n",
			"content/post/x.md":           string(data),
			"content/post/y.md":           "---\ntitle: Y\n---\ny\n",
			"layouts/shortcodes/sig.html": "<em>{{ .Get 0 }}</em>{{ .Inner }}",
		} {
			p := filepath.Join(dir, filepath.FromSlash(name))
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		}
		cfg := testConfig(t, dir)
		cfg.Workers = 1
		render := func() (map[string][]byte, error) {
			b, err := Build(context.Background(), cfg)
			if err != nil {
				return nil, err
			}
			return readAll(t, b), nil
		}
		first, err := render()
		if err != nil {
			requireProblems(t, err)
			return
		}
		for p, d := range first {
			require.NotContains(t, string(d), "ISLANDSHORTCODE", "%s keeps a placeholder", p)
		}
		second, err := render()
		require.NoError(t, err)
		require.Equal(t, first, second)
	})
}

// FuzzCheckFolder reads any page and style sheet for links that break
// under /ipfs/CID/: it must never panic, and what it reports names a file
// of the folder.
func FuzzCheckFolder(f *testing.F) {
	for _, s := range []string{
		`<a href="/x">`, `<base href="/">`, `<link rel="canonical" href="https://a.example/"><a href="https://a.example/b">`,
		`<meta http-equiv="refresh" content="0; url=/x">`, `<meta http-equiv="refresh" content="0;URL='/x'">`, `<img srcset="/a 2x, b 3x,,">`,
		`<meta name="generator" content="Hugo">`, `body{background:url(/x.png)}`, `url(`, `<a href=//a.example/x>`, `<link rel=canonical href=`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{"index.html": {Data: data}, "a/b.htm": {Data: data}, "style.css": {Data: data}, "_redirects": {Data: data}}
		fc, err := CheckFolder(context.Background(), fsys, false)
		require.NoError(t, err)
		require.LessOrEqual(t, len(fc.Warnings), MaxFolderWarnings)
		for _, w := range fc.Warnings {
			require.Contains(t, []string{"index.html", "a/b.htm", "style.css"}, w.File)
			require.Positive(t, w.Count)
			require.NotEmpty(t, w.Fix)
		}
	})
}
