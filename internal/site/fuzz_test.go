package site

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
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
			var be *BuildError
			require.ErrorAs(t, err, &be)
			for _, p := range be.Problems {
				require.NotEmpty(t, p.Msg)
			}
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
