package site

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/islandsite/island/internal/testutil"
	"github.com/stretchr/testify/require"
)

// BenchmarkBuild renders the 2,000-post corpus (gen-corpus.py OUT 2000 50)
// in memory, links checked. The target is under 1.5 s on 2 cores, half of
// Hugo's time on the same corpus; the CLI's wall time and peak RSS are
// measured on the binary (see the package's README note in the report).
func BenchmarkBuild(b *testing.B) {
	benchBuild(b, testutil.Corpus(b, 2000, 50))
}

// BenchmarkBuildUniqueCode is BenchmarkBuild with every post's code block
// made different, so the highlight cache cannot help: the corpus repeats
// one Go snippet in every post, which no real site does.
func BenchmarkBuildUniqueCode(b *testing.B) {
	src := testutil.Corpus(b, 2000, 50)
	dir := filepath.Join(b.TempDir(), "content")
	require.NoError(b, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".md") {
			data = bytes.Replace(data, []byte("```go\n"), []byte("```go\n// "+rel+"\n"), 1)
		}
		return os.WriteFile(dst, data, 0o644)
	}))
	benchBuild(b, dir)
}

func benchBuild(b *testing.B, dir string) {
	cfg := testConfig(b, dir)
	b.ReportAllocs()
	for b.Loop() {
		bundle, err := Build(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if bundle.Pages() != 2014 {
			b.Fatalf("built %d pages, want 2014", bundle.Pages())
		}
	}
}
