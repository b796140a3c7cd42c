package site

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A symbolic link that leaves content/ (in static/, a page, a layout) is
// refused with an error naming it: followed, it would publish any file the
// user can read. Links inside content/ are followed; dotfiles in static/
// are not published, as add skips them.
func TestSymlinksStayInsideContent(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.txt")
	require.NoError(t, os.WriteFile(outside, []byte("the user's private key"), 0o600))

	dir := writeSite(t, map[string]string{
		"index.md":             post("Home", "[notes](notes.txt)"),
		"static/notes.txt":     "notes",
		"static/.DS_Store":     "finder litter",
		"static/.git/config":   "[core]",
		"static/sub/.hidden":   "hidden",
		"static/sub/shown.txt": "shown",
	})
	require.NoError(t, os.Symlink(filepath.Join(dir, "static", "notes.txt"), filepath.Join(dir, "static", "inside.txt")))
	b := mustBuild(t, testConfig(t, dir))
	files := readAll(t, b)
	require.Equal(t, "notes", string(files["inside.txt"]), "a link inside content/ is followed")
	require.Contains(t, files, "sub/shown.txt")
	for p := range files {
		require.NotContains(t, "/"+p, "/.", "dotfiles are not published: %s", p)
	}

	for _, link := range []string{"static/secret.txt", "static/deep/key", "leak.md", "layouts/base.html"} {
		t.Run(link, func(t *testing.T) {
			dir := writeSite(t, map[string]string{"index.md": post("Home", "hi"), "static/ok.txt": "ok", "layouts/.keep": ""})
			p := filepath.Join(dir, filepath.FromSlash(link))
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.Symlink(outside, p))
			want := p + ": is a symbolic link to " + outside + ", outside the content directory"
			_, err := Build(context.Background(), testConfig(t, dir))
			require.ErrorContains(t, err, want)
			// The incremental builder of `island serve` refuses it too.
			_, err = NewBuilder(testConfig(t, dir)).Build(context.Background())
			require.ErrorContains(t, err, want)
		})
	}
}
