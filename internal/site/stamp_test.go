package site

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestChangesAt: a build knows when its sources would build differently
// with no file changing: the first future date of a post (island's layout
// or a Hugo site), and a Hugo page's expiryDate still to come.
func TestChangesAt(t *testing.T) {
	future := time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
	require.True(t, mustBuild(t, testConfig(t, filepath.Join("testdata", "site"))).ChangesAt().Equal(future))
	require.True(t, mustBuild(t, testConfig(t, filepath.Join("testdata", "hugo"))).ChangesAt().Equal(future))

	dir := t.TempDir()
	write := func(rel, text string) { writeUnder(t, dir, rel, text) }
	write("hugo.toml", "title = \"x\"\n")
	write("content/post/a.md", "---\ntitle: A\ndate: 2020-01-01\nexpiryDate: 2030-05-01\n---\nA.\n")
	require.True(t, mustBuild(t, testConfig(t, dir)).ChangesAt().Equal(time.Date(2030, 5, 1, 0, 0, 0, 0, time.UTC)))
	write("content/post/a.md", "---\ntitle: A\ndate: 2020-01-01\n---\nA.\n")
	require.True(t, mustBuild(t, testConfig(t, dir)).ChangesAt().IsZero(), "nothing changes by itself")
}

// TestSourceStamp: the stamp changes with anything a build reads (a file's
// bytes, a new or removed file, the Hugo root above content/), and a file
// too fresh for its stat to be trusted is compared by its bytes.
func TestSourceStamp(t *testing.T) {
	root := t.TempDir()
	content := filepath.Join(root, "content")
	write := func(rel, text string) { writeUnder(t, root, rel, text) }
	write("hugo.toml", "title = \"x\"\n")
	write("content/post/a.md", "A.\n")
	stamp := func(start time.Time) [32]byte {
		t.Helper()
		s, _, err := SourceStamp(content, start, nil)
		require.NoError(t, err)
		return s
	}
	now := time.Now()
	first := stamp(now)
	require.Equal(t, first, stamp(now), "the same sources")

	// Fresh files count by their bytes: the same bytes written again are
	// the same sources, other bytes of the same size are not.
	write("content/post/a.md", "A.\n")
	require.Equal(t, first, stamp(now))
	write("content/post/a.md", "B.\n")
	changed := stamp(now)
	require.NotEqual(t, first, changed)

	// Settled files count by their stat.
	later := time.Now().Add(time.Hour)
	settled := stamp(later)
	require.NotEqual(t, changed, settled, "judged at another time, by stat rather than bytes")
	write("content/post/b.md", "B.\n")
	require.NotEqual(t, settled, stamp(later), "a new file")
	require.NoError(t, os.Remove(filepath.Join(content, "post", "b.md")))
	require.Equal(t, settled, stamp(later), "the file gone again")
	write("hugo.toml", "title = \"y\"\n")
	require.NotEqual(t, settled, stamp(later), "the Hugo site's root, above content/")

	_, _, err := SourceStamp(filepath.Join(root, "missing"), now, nil)
	require.Error(t, err)
}

// TestSourceStampSettling: a stamp taken while a file was fresh compares
// equal, once the file has settled, with a stamp that counts the same file
// by its bytes, and differs as soon as its bytes do.
func TestSourceStampSettling(t *testing.T) {
	dir := t.TempDir()
	writeUnder(t, dir, "posts/a.md", "A.\n")
	writeUnder(t, dir, "posts/b.md", "B.\n")
	now := time.Now()
	fresh, bytes, err := SourceStamp(dir, now, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"posts/a.md", "posts/b.md"}, bytes, "both just written")

	later := now.Add(time.Hour)
	settled, none, err := SourceStamp(dir, later, nil)
	require.NoError(t, err)
	require.Empty(t, none)
	require.NotEqual(t, fresh, settled, "by stat once settled")

	same, again, err := SourceStamp(dir, later, bytes)
	require.NoError(t, err)
	require.Equal(t, fresh, same, "the files that counted by their bytes still do")
	require.Equal(t, bytes, again)

	writeUnder(t, dir, "posts/b.md", "C.\n")
	edited, _, err := SourceStamp(dir, later, bytes)
	require.NoError(t, err)
	require.NotEqual(t, fresh, edited)
}

// TestSourceStamps: the stamps one walk takes are each SourceStamp's with
// the same start and files by bytes, symbolic links, fresh and settled
// files alike.
func TestSourceStamps(t *testing.T) {
	dir := t.TempDir()
	writeUnder(t, dir, "posts/a.md", "A.\n")
	writeUnder(t, dir, "posts/b.md", "B.\n")
	require.NoError(t, os.Symlink("a.md", filepath.Join(dir, "posts", "c.md")))
	now := time.Now()
	at := []StampAt{
		{Start: now},                // both fresh
		{Start: now.Add(time.Hour)}, // both settled
		{Start: now.Add(time.Hour), ByBytes: []string{"posts/b.md"}}, // one by its bytes anyway
	}
	got, stats, err := SourceStamps(dir, at...)
	require.NoError(t, err)
	require.Len(t, got, len(at))
	for _, name := range []string{"a.md", "b.md"} {
		file := filepath.Join(dir, "posts", name)
		info, err := os.Stat(file)
		require.NoError(t, err)
		st, ok := stats.of(file)
		require.True(t, ok, name)
		require.Equal(t, stampOf(info), st, "the stats are the files'")
	}
	_, ok := stats.of(filepath.Join(dir, "posts", "c.md"))
	require.False(t, ok, "a symbolic link is stat'ed by the build, which checks where it leads")
	for i, a := range at {
		sum, bytes, err := SourceStamp(dir, a.Start, a.ByBytes)
		require.NoError(t, err)
		require.Equal(t, sum, got[i].Sum, "stamp %d", i)
		require.Equal(t, bytes, got[i].ByBytes, "stamp %d", i)
	}
	require.NotEqual(t, got[0].Sum, got[1].Sum)
	require.NotEqual(t, got[1].Sum, got[2].Sum)
}

// writeUnder writes text to the file rel under dir, making its folders.
func writeUnder(t *testing.T, dir, rel, text string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, rel), []byte(text), 0o644))
}
