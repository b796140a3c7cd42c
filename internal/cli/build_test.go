package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeContent makes a content directory under the env's working directory.
func writeContent(t *testing.T, env *Env, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(env.Cwd, "content", filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
}

func TestBuild(t *testing.T) {
	env := testEnv(t)
	writeContent(t, env, map[string]string{
		"site.toml":          "title = \"Mine\"\n",
		"index.md":           "---\ntitle: Home\n---\nHello, see [the post](posts/a.md).\n",
		"posts/a.md":         "---\ntitle: A\ntags: [go]\n---\nText.\n",
		"posts/b.md":         "---\ntitle: B\ndraft: true\n---\nLater.\n",
		"static/robots.txt":  "User-agent: *\n",
		"static/img/pic.png": "not really a png",
	})

	code, stdout, stderr := runCLI(t, env, "build")
	require.Equal(t, exitOK, code, stderr)
	// home, 404, posts/, posts/a/, tags/, tags/go/
	require.Equal(t, "built 6 pages, 2 static files into public\n", stdout)
	home, err := os.ReadFile(filepath.Join(env.Cwd, "public", "index.html"))
	require.NoError(t, err)
	require.Contains(t, string(home), `<a href="posts/a/">the post</a>`)
	require.NoFileExists(t, filepath.Join(env.Cwd, "public", "posts", "b", "index.html"))

	out := filepath.Join(t.TempDir(), "site")
	code, stdout, stderr = runCLI(t, env, "build", "--content", filepath.Join(env.Cwd, "content"), "--out", out, "--drafts")
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "built 7 pages, 2 static files into "+out+"\n", stdout)
	require.FileExists(t, filepath.Join(out, "posts", "b", "index.html"))
}

func TestBuildBadInputKeepsOutput(t *testing.T) {
	env := testEnv(t)
	writeContent(t, env, map[string]string{"posts/a.md": "---\ntitle: A\n---\nFine.\n"})
	code, _, stderr := runCLI(t, env, "build")
	require.Equal(t, exitOK, code, stderr)
	before, err := os.ReadFile(filepath.Join(env.Cwd, "public", "posts", "a", "index.html"))
	require.NoError(t, err)

	writeContent(t, env, map[string]string{
		"posts/a.md": "---\ntitle: A\n---\n[gone](../nope/) and [also gone](/x.png)\n",
		"posts/c.md": "---\ntitle: [C\n---\n",
	})
	code, stdout, stderr := runCLI(t, env, "build")
	require.Equal(t, exitFailure, code)
	require.Empty(t, stdout)
	require.Equal(t, "island: build: 1 problem in content; public was left as it was:\n"+
		filepath.Join("content", "posts", "c.md")+":3: front matter is not valid YAML: did not find expected ',' or ']'\n", stderr)

	writeContent(t, env, map[string]string{"posts/c.md": "---\ntitle: C\n---\n"})
	code, _, stderr = runCLI(t, env, "build")
	require.Equal(t, exitFailure, code)
	a := filepath.Join("content", "posts", "a.md")
	require.Equal(t, "island: build: 2 problems in content; public was left as it was:\n"+
		a+":4: link \"../nope/\": no such page\n"+
		a+":4: link \"/x.png\": no such file\n", stderr)

	after, err := os.ReadFile(filepath.Join(env.Cwd, "public", "posts", "a", "index.html"))
	require.NoError(t, err)
	require.Equal(t, before, after)
}

func TestBuildUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"extra argument", []string{"build", "content"}, exitUsage, "takes no arguments"},
		{"unknown flag", []string{"build", "--output", "x"}, exitUsage, "unknown flag"},
		{"missing content", []string{"build", "--content", "nowhere"}, exitFailure, "no such content directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, testEnv(t), tt.args...)
			require.Equal(t, tt.code, code, stderr)
			require.Contains(t, stderr, tt.stderr)
		})
	}
}
