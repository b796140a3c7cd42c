package daemon

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fsnotify/fsnotify"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/site"
)

func TestServeIgnoresWhatCannotChangeTheSite(t *testing.T) {
	content := filepath.Join(t.TempDir(), "content")
	s := &watcher{cfg: SiteConfig{Content: content}, root: content, inputs: site.Inputs(content)}
	tests := []struct {
		path string
		op   fsnotify.Op
		want bool
	}{
		{"posts/a.md", fsnotify.Write, true},
		{"posts/a.md", fsnotify.Remove, true},
		{"static/img", fsnotify.Create, true},
		{"site.toml", fsnotify.Rename, true},
		{"posts/a.md", fsnotify.Chmod, false},
		{"posts/.a.md.swp", fsnotify.Create, false},
		{".git/index", fsnotify.Write, false},
		{"static/.cache/x", fsnotify.Write, false},
		{"posts/a.md~", fsnotify.Write, true},
	}
	for _, tt := range tests {
		ev := fsnotify.Event{Name: filepath.Join(content, filepath.FromSlash(tt.path)), Op: tt.op}
		require.Equal(t, tt.want, s.relevant(ev), "%s %s", tt.op, tt.path)
	}

	// A Hugo site's root: only what its build reads.
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "hugo.toml"), []byte("theme = \"t\"\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "themes", "t"), 0o755))
	s = &watcher{cfg: SiteConfig{Content: root}, root: root, inputs: site.Inputs(root)}
	for _, tt := range []struct {
		path string
		want bool
	}{
		{"hugo.toml", true},
		{"config.yaml", true},
		{"content/post/a.md", true},
		{"static/img/a.png", true},
		{"layouts/shortcodes/x.html", true},
		{"themes/t/static/x.css", true},
		{"themes/other/static/x.css", false},
		{"public/index.html", false},
		{"resources/_gen/x", false},
		{"node_modules/x/y.js", false},
		{"README.md", false},
	} {
		ev := fsnotify.Event{Name: filepath.Join(root, filepath.FromSlash(tt.path)), Op: fsnotify.Write}
		require.Equal(t, tt.want, s.relevant(ev), "%s in a Hugo site", tt.path)
	}
}
