package flatfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSyncDirs(t *testing.T) {
	root := t.TempDir()
	dirs := map[string]struct{}{}
	for _, name := range []string{"AA", "BB", "CC"} {
		d := filepath.Join(root, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs[d] = struct{}{}
	}
	if err := syncDirs(dirs); err != nil {
		t.Fatalf("syncDirs: %v", err)
	}
	dirs[filepath.Join(root, "missing")] = struct{}{}
	if err := syncDirs(dirs); err == nil {
		t.Fatal("syncDirs of a missing directory: no error")
	}
}
