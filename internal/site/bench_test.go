package site

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	dir := copyTree(b, testutil.Corpus(b, 2000, 50), func(rel string, data []byte) []byte {
		if strings.HasSuffix(rel, ".md") {
			data = bytes.Replace(data, []byte("```go\n"), []byte("```go\n// "+rel+"\n"), 1)
		}
		return data
	})
	benchBuild(b, dir)
}

// BenchmarkRebuild is the Builder's side of `island serve`: one post of the
// 2,000-post corpus gets a sentence more, then the site is built again.
func BenchmarkRebuild(b *testing.B) {
	dir := copyTree(b, testutil.Corpus(b, 2000, 50), nil)
	builder := NewBuilder(testConfig(b, dir))
	if _, err := builder.Build(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		appendSentence(b, dir, i)
		i++
		bundle, err := builder.Build(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if bundle.Pages() != 2014 {
			b.Fatalf("built %d pages, want 2014", bundle.Pages())
		}
	}
}

// copyTree copies the directory src into a new temporary directory and
// returns it, passing every file's bytes (and its path relative to src)
// through transform when it is not nil.
func copyTree(tb testing.TB, src string, transform func(rel string, data []byte) []byte) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "content")
	require.NoError(tb, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
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
		if transform != nil {
			data = transform(filepath.ToSlash(rel), data)
		}
		return os.WriteFile(dst, data, 0o644)
	}))
	return dir
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

// appendSentence edits the i-th post of the corpus (spread over the whole
// list) the way an author does: a sentence more at the end of its body.
func appendSentence(tb testing.TB, dir string, i int) {
	tb.Helper()
	p := filepath.Join(dir, "posts", fmt.Sprintf("%05d.md", (i*997)%2000))
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(tb, err)
	_, err = fmt.Fprintf(f, "\nEdit %d: one more sentence.\n", i)
	require.NoError(tb, err)
	require.NoError(tb, f.Close())
}

// BenchmarkRebuildFromCacheFile is the CLI's side of `island publish`
// after an edit: a new Builder started from the render cache file the
// previous publish saved and from the stats of the stamp, one post of the
// 2,000-post corpus edited, the site built and the cache file saved again.
func BenchmarkRebuildFromCacheFile(b *testing.B) {
	dir := copyTree(b, testutil.Corpus(b, 2000, 50), nil)
	file := filepath.Join(b.TempDir(), "cache")
	later := func() time.Time { return time.Now().Add(time.Hour) } // every stamp settled
	builder := NewBuilder(testConfig(b, dir))
	builder.cache.clock = later
	_, err := builder.Build(context.Background())
	require.NoError(b, err)
	require.NoError(b, builder.SaveCache(file, "bench"))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		appendSentence(b, dir, i)
		i++
		_, stats, err := SourceStamps(dir)
		require.NoError(b, err)
		builder := NewBuilder(testConfig(b, dir))
		require.NoError(b, builder.LoadCache(file, "bench"))
		builder.UseStats(stats)
		builder.cache.clock = later
		bundle, err := builder.Build(context.Background())
		require.NoError(b, err)
		require.Equal(b, 2014, bundle.Pages())
		require.NoError(b, builder.SaveCache(file, "bench"))
	}
}
