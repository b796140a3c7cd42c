package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/site"
)

// writeFolder makes a folder as a generator would write it, under the
// env's working directory.
func writeFolder(t *testing.T, env *Env, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(env.Cwd, dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
}

// builtByHugo is a folder as Hugo writes it without relativeURLs.
func builtByHugo(body string) map[string]string {
	return map[string]string{
		"index.html": `<!doctype html><html><head><meta name="generator" content="Hugo 0.139.3">` +
			`<link rel="canonical" href="https://lake.example.net/"><link rel="stylesheet" href="/css/main.css"></head>` +
			`<body><a href="/notes/">notes</a> ` + body + `</body></html>`,
		"notes/index.html": `<!doctype html><html><body><a href="../">home</a></body></html>`,
		"css/main.css":     "body { color: navy; }\n",
		".DS_Store":        "hidden, not published",
	}
}

// publishedDir is `publish --dir --json` as a script reads it.
type publishedDir struct {
	siteVersionOut
	Folder site.FolderCheck `json:"folder"`
}

func TestPublishDir(t *testing.T) {
	env := testEnv(t)
	writeFolder(t, env, "public", builtByHugo("First."))

	// The CID is the one `island add -q` gives the same folder.
	added := strings.TrimSpace(mustRun(t, env, "add", "--only-hash", "-q", "public"))
	code, out, errOut := runCLI(t, env, "publish", "--dir", "public", "--no-check", "--json")
	require.Equal(t, exitOK, code, errOut)
	var v publishedDir
	require.NoError(t, json.Unmarshal([]byte(out), &v), out)
	require.Equal(t, added, v.CID)
	require.Equal(t, 1, v.Version)
	require.Equal(t, "Hugo 0.139.3", v.Folder.Generator)
	require.Equal(t, 2, v.Folder.Pages)
	require.Len(t, v.Folder.Warnings, 1)
	require.Equal(t, site.FolderWarning{File: "index.html", Kind: site.WarnRootAbsolute, Count: 2, Example: "/css/main.css",
		Fix: "set relativeURLs = true in the site's hugo.toml (or config.toml) and build again, or let island build the Hugo site itself: island publish --content SITE"},
		v.Folder.Warnings[0])
	require.Empty(t, errOut, "with --json the warnings are in the JSON")
	require.Contains(t, mustRun(t, env, "ls", v.CID), "notes")
	require.NotContains(t, mustRun(t, env, "ls", v.CID), ".DS_Store", "hidden files are left out, as add leaves them out")

	// The same folder again: no new version. Human output: the warnings
	// on stderr, naming the file and the setting.
	code, out, errOut = runCLI(t, env, "publish", "--dir", "public", "--no-check")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "unchanged: "+v.CID+" is still the current version (version 1)")
	require.Equal(t, `warning: links that break when the site is served under /ipfs/CID/ or /ipns/NAME/ (the pages say Hugo 0.139.3 made them); on subdomain gateways (CID.ipfs.localhost) and DNSLink names they work:
  index.html: 2 link(s) start with / (e.g. "/css/main.css"): under /ipfs/CID/ they leave the site
  fix: set relativeURLs = true in the site's hugo.toml (or config.toml) and build again, or let island build the Hugo site itself: island publish --content SITE
`, errOut)

	// Rebuilt with relative links: version 2, no warning, same history and
	// name as a content publish; rollback goes back to the folder of version 1.
	writeFolder(t, env, "public", map[string]string{
		"index.html": `<!doctype html><html><head><link rel="stylesheet" href="css/main.css"></head><body><a href="notes/">notes</a> Second.</body></html>`,
	})
	code, out, errOut = runCLI(t, env, "publish", "--dir", "public", "--no-check")
	require.Equal(t, exitOK, code, errOut)
	require.Regexp(t, `(?m)^published bafy\S+ \(version 2\)$`, out)
	require.Empty(t, errOut)
	require.Equal(t, v.Name, regexp.MustCompile(`name: /ipns/(\S+)`).FindStringSubmatch(out)[1])
	writeContent(t, env, smallSite("Built by island."))
	require.Equal(t, 3, publishJSON(t, env, "--no-check").Version, "a content publish continues the same history")
	mustRun(t, env, "rollback", "1")
	hist := historyOf(t, env)
	require.Len(t, hist, 4)
	require.Equal(t, v.CID, hist[3].CID)
}

func TestPublishDirUsage(t *testing.T) {
	env := testEnv(t)
	writeFolder(t, env, "public", map[string]string{"index.html": "<p>x</p>"})
	require.NoError(t, os.WriteFile(filepath.Join(env.Cwd, "file.html"), []byte("x"), 0o644))
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no such folder", []string{"publish", "--dir", "nope"}, exitFailure,
			"--dir nope: no such folder; name the folder your generator wrote the site to (Hugo: public/, Jekyll: _site/)"},
		{"a file", []string{"publish", "--dir", "file.html"}, exitFailure, "--dir file.html: is a file, not a folder"},
		{"both", []string{"publish", "--dir", "public", "--content", "content"}, exitUsage,
			"--dir and --content: give one; --dir publishes a folder as it is, --content builds the site first"},
		{"serve, both", []string{"serve", "--offline", "--dir", "public", "--content", "content"}, exitUsage, "--dir and --content: give one"},
		{"serve, no such folder", []string{"serve", "--offline", "--dir", "nope"}, exitFailure, "serve: --dir nope: no such folder"},
		{"no such key", []string{"publish", "--dir", "public", "--key", "nope"}, exitFailure, "--key nope: no key of that name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, env, tt.args...)
			require.Equal(t, tt.code, code, errOut)
			require.Contains(t, errOut, tt.stderr)
		})
	}
	require.Empty(t, historyOf(t, env), "nothing was published")
}

func TestServeDir(t *testing.T) {
	env := testEnv(t)
	writeFolder(t, env, "public", builtByHugo("First."))
	srv := startCLI(t, env, "serve", "--offline", "--dir", "public", "--gateway", "127.0.0.1:0", "--api", "127.0.0.1:0", "--debounce", "50ms")
	srv.waitOutput(t, "Daemon is ready")
	require.Contains(t, srv.stdout.String(), "(version 1)")
	require.Contains(t, srv.stdout.String(), "watching public for changes")
	require.Eventually(t, func() bool { return strings.Contains(srv.stderr.String(), "fix: set relativeURLs = true") },
		10*time.Second, 20*time.Millisecond, "the folder's check is printed: %s", srv.stderr.String())
	hist := historyOf(t, env)
	require.Equal(t, strings.TrimSpace(mustRun(t, env, "add", "--only-hash", "-q", "public")), hist[0].CID)

	// The generator writes again: a new version, and the warnings, now
	// gone, are said to be fixed.
	writeFolder(t, env, "public", map[string]string{
		"index.html": `<!doctype html><html><head><link rel="stylesheet" href="css/main.css"></head><body>Second.</body></html>`,
	})
	hist = waitVersions(t, env, 2)
	srv.waitOutput(t, "the links that broke under /ipfs/CID/ are fixed")
	require.Contains(t, mustRun(t, env, "cat", hist[1].CID+"/index.html"), "Second.")
	// A hidden file is not published, so its changing is not even looked at.
	writeFolder(t, env, "public", map[string]string{".DS_Store": "changed"})
	time.Sleep(300 * time.Millisecond)
	require.NotContains(t, srv.stdout.String(), "unchanged:")
	require.Equal(t, exitOK, srv.stop(t), srv.stderr.String())
}

// TestServeHugoSite serves a Hugo site's root: a change to its content
// republishes, one to what no build reads (public/, where hugo writes)
// is not even looked at.
func TestServeHugoSite(t *testing.T) {
	env := testEnv(t)
	writeFolder(t, env, "blog", map[string]string{
		"hugo.toml":         "title = \"Lake notes\"\n",
		"content/_index.md": "---\ntitle: Home\n---\nWelcome.\n",
		"content/post/a.md": "---\ntitle: A\ndate: 2024-01-02\n---\nFirst words.\n",
		"static/s.txt":      "s",
	})
	// Named by its content/, as `island serve` in the site's root does by default.
	srv := startCLI(t, env, "serve", "--offline", "--content", "blog/content", "--gateway", "", "--api", "127.0.0.1:0", "--debounce", "50ms")
	srv.waitOutput(t, "Daemon is ready")
	require.Contains(t, srv.stdout.String(), "(version 1)")
	hist := historyOf(t, env)
	require.Contains(t, mustRun(t, env, "cat", hist[0].CID+"/post/a/index.html"), "First words.")

	writeFolder(t, env, "blog", map[string]string{"public/index.html": "what hugo wrote", "README.md": "not an input"})
	time.Sleep(300 * time.Millisecond)
	require.NotContains(t, srv.stdout.String(), "unchanged:")
	require.Len(t, historyOf(t, env), 1)

	writeFolder(t, env, "blog", map[string]string{"content/post/a.md": "---\ntitle: A\ndate: 2024-01-02\n---\nSecond words.\n"})
	hist = waitVersions(t, env, 2)
	require.Contains(t, mustRun(t, env, "cat", hist[1].CID+"/post/a/index.html"), "Second words.")
	// Its configuration, beside content/, is watched too.
	writeFolder(t, env, "blog", map[string]string{"hugo.toml": "title = \"Lake and river notes\"\n"})
	hist = waitVersions(t, env, 3)
	require.Contains(t, mustRun(t, env, "cat", hist[2].CID+"/index.html"), "<title>Lake and river notes</title>")
	require.Equal(t, exitOK, srv.stop(t), srv.stderr.String())
}

// TestBuildHugoSite builds a Hugo site's root with `island build`, into
// its public/ as hugo would, and publishes it.
func TestBuildHugoSite(t *testing.T) {
	env := testEnv(t)
	writeFolder(t, env, "blog", map[string]string{
		"hugo.toml":                  "title = \"Lake notes\"\n",
		"content/post/a/index.md":    "---\ntitle: A\n---\n{{< figure src=\"pic.svg\" caption=\"A *pic*\" >}}\n",
		"content/post/a/pic.svg":     "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
		"content/post/b.md":          "---\ntitle: B\n---\n{{< nope >}}\n",
		"layouts/_default/list.html": "{{ .Content }}",
	})
	code, _, errOut := runCLI(t, env, "build", "--content", "blog", "--out", "blog/public")
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "build: 1 problem in blog; blog/public was left as it was:\n"+filepath.Join("blog", "content", "post", "b.md")+`:4: unknown shortcode "nope"`)
	require.NoError(t, os.Remove(filepath.Join(env.Cwd, "blog", "content", "post", "b.md")))
	code, out, errOut := runCLI(t, env, "build", "--content", "blog", "--out", "blog/public")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "into blog/public")
	require.Contains(t, errOut, "the Hugo templates in layouts/ are not used", "the warning reaches the user")
	page, err := os.ReadFile(filepath.Join(env.Cwd, "blog", "public", "post", "a", "index.html"))
	require.NoError(t, err)
	require.Contains(t, string(page), `<img src="pic.svg" alt="A pic">`)
	require.FileExists(t, filepath.Join(env.Cwd, "blog", "public", "post", "a", "pic.svg"))
	// The build in public/ is no input: publishing the site gives the same
	// CID as publishing the folder island built.
	v := publishJSON(t, env, "--no-check", "--content", "blog")
	code, out, errOut = runCLI(t, env, "publish", "--no-check", "--dir", "blog/public")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "unchanged: "+v.CID)
	require.Empty(t, errOut, "island's own output has no link that breaks under /ipfs/CID/")
}
