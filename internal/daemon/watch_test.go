package daemon

import (
	"path/filepath"
	"testing"

	"github.com/fsnotify/fsnotify"
	"github.com/stretchr/testify/require"
)

func TestServeIgnoresWhatCannotChangeTheSite(t *testing.T) {
	content := filepath.Join(t.TempDir(), "content")
	s := &watcher{cfg: SiteConfig{Content: content}}
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
}
