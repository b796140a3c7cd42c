package site

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// saveCache writes b's cache file as `island publish` does.
func saveCache(t *testing.T, b *Builder, file, tag string) {
	t.Helper()
	require.NoError(t, b.SaveCache(file, tag))
}

// cacheFileSite is a small site with a saved cache file, for the tests of
// LoadCache.
func cacheFileSite(t *testing.T) (*incSite, string) {
	t.Helper()
	files := map[string]string{"index.md": "Home."}
	for i := range 12 {
		files[fmt.Sprintf("posts/p%02d.md", i)] = incPost(fmt.Sprintf("P%d", i), fmt.Sprintf("2024-01-%02d", i+1), fmt.Sprintf("t%d", i%3),
			fmt.Sprintf("Post %d links to [the next](p%02d.md#part).\n\n## Part\n\nMore.", i, (i+1)%12))
	}
	s := newIncSite(t, files)
	file := filepath.Join(t.TempDir(), "cache")
	b := NewBuilder(testConfig(t, s.dir))
	b.cache.clock = s.b.cache.clock // long after the writes: every stamp settled
	_, err := b.Build(context.Background())
	require.NoError(t, err)
	saveCache(t, b, file, "v1")
	return s, file
}

// TestCacheFileReused: a Builder started from a cache file reads, parses
// and renders again only what an edit changed; every other page is the
// file's, known by its digest, and the bundle says it is not complete.
func TestCacheFileReused(t *testing.T) {
	s, file := cacheFileSite(t)
	b := NewBuilder(testConfig(t, s.dir))
	require.NoError(t, b.LoadCache(file, "v1"))
	b.cache.clock = func() time.Time { return time.Now().Add(time.Hour) } // every stamp settled
	s.mtime = s.mtime.Add(time.Second)
	s.edit("posts/p05.md", "Post 5 links", "Post five links")
	s.edit("posts/p08.md", "Post 8 links", "Post 8 links") // touched: read, not parsed
	bundle, err := b.Build(context.Background())
	require.NoError(t, err)
	for _, f := range bundle.Files() {
		switch f.Path {
		case "posts/p05/index.html", "posts/p04/index.html", "posts/p06/index.html", "posts/index.html", "tags/t2/index.html", "index.html": // the home page shows the ten newest
			require.False(t, f.absent, "%s must be made again", f.Path)
		case "posts/p00/index.html", "posts/p11/index.html", "tags/t0/index.html", "tags/index.html", "404.html":
			require.True(t, f.absent, "%s must come from the cache file", f.Path)
		}
	}
	require.False(t, bundle.Complete())
	_, err = bundle.FS().Open("posts/p00/index.html")
	require.ErrorIs(t, err, errAbsent, "a page the bundle does not hold is never read as empty")
	require.ErrorIs(t, WriteDir(bundle, filepath.Join(t.TempDir(), "out")), errAbsent)
	for src, st := range b.cache.sources {
		require.Equal(t, src != "posts/p05.md", st.fromFile, "%s: only the edited file is parsed", src)
	}
	full, err := Build(context.Background(), testConfig(t, s.dir))
	require.NoError(t, err)
	requireSameFiles(t, full, bundle)
}

// TestCacheFileIgnored: a cache file that is damaged, cut short, of
// another island (tag) or another content directory is refused as a
// whole; the Builder then renders everything, as Build does.
func TestCacheFileIgnored(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spoil   func(t *testing.T, file string)
		tag     string
		content func(s *incSite) string
		wantErr string
	}{
		{name: "a byte changed", spoil: func(t *testing.T, file string) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			data[len(data)/2] ^= 0x40
			require.NoError(t, os.WriteFile(file, data, 0o600))
		}, wantErr: "damaged"},
		{name: "cut short", spoil: func(t *testing.T, file string) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(file, data[:len(data)/3], 0o600))
		}, wantErr: "damaged"},
		{name: "empty", spoil: func(t *testing.T, file string) { require.NoError(t, os.WriteFile(file, nil, 0o600)) }, wantErr: "damaged"},
		{name: "missing", spoil: func(t *testing.T, file string) { require.NoError(t, os.Remove(file)) }, wantErr: "no such file"},
		{name: "another island", tag: "v2", wantErr: "another island"},
		{name: "another content directory", content: func(s *incSite) string {
			other := filepath.Join(t.TempDir(), "content")
			require.NoError(t, os.CopyFS(other, os.DirFS(s.dir)))
			return other
		}, wantErr: "another content directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, file := cacheFileSite(t)
			if tc.spoil != nil {
				tc.spoil(t, file)
			}
			tag := "v1"
			if tc.tag != "" {
				tag = tc.tag
			}
			dir := s.dir
			if tc.content != nil {
				dir = tc.content(s)
			}
			b := NewBuilder(testConfig(t, dir))
			require.ErrorContains(t, b.LoadCache(file, tag), tc.wantErr)
			require.Empty(t, b.cache.outputs, "nothing of the file is kept")
			require.Empty(t, b.cache.sources)
			bundle, err := b.Build(context.Background())
			require.NoError(t, err)
			full, err := Build(context.Background(), testConfig(t, dir))
			require.NoError(t, err)
			require.Equal(t, readAll(t, full), readAll(t, bundle))
		})
	}
}

// TestCacheFileBodyRaced: a file whose stat is unchanged but whose bytes
// are not what the cache file's parse was of, found when its body is
// read to render it again, is read and parsed afresh: the build is a full
// build's of what the file holds.
func TestCacheFileBodyRaced(t *testing.T) {
	s, file := cacheFileSite(t)
	p03 := filepath.Join(s.dir, "posts", "p03.md")
	data, err := os.ReadFile(p03)
	require.NoError(t, err)
	b := NewBuilder(testConfig(t, s.dir))
	require.NoError(t, b.LoadCache(file, "v1"))
	b.cache.clock = func() time.Time { return time.Now().Add(time.Hour) }
	s.write("posts/p03.md", strings.Replace(string(data), "Post 3 links", "Post 3 LINKS", 1))
	// As if the stat had been taken after the change, and the parse in the
	// file were of the bytes before: only the body's read can tell. The
	// page must be rendered again (no rendering kept), so it is read.
	info, err := os.Stat(p03)
	require.NoError(t, err)
	st := b.cache.sources["posts/p03.md"]
	require.True(t, st.fromFile)
	st.stamp, st.md = stampOf(info), nil
	bundle, err := b.Build(context.Background())
	require.NoError(t, err)
	full, err := Build(context.Background(), testConfig(t, s.dir))
	require.NoError(t, err)
	requireSameFiles(t, full, bundle)
	require.Contains(t, string(readAll(t, full)["posts/p03/index.html"]), "Post 3 LINKS")
}

// TestCacheFileContentsDamaged: renderings are read back from the contents
// file only where they are used, each checked against its SHA-256; one
// that is not what was written (the file damaged, cut short or gone)
// makes the Builder render everything, and the build is still a full
// build's.
func TestCacheFileContentsDamaged(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, contents string)
	}{
		{"a byte changed", func(t *testing.T, contents string) {
			data, err := os.ReadFile(contents)
			require.NoError(t, err)
			for i := range data {
				data[i] ^= 0x20 // every rendering, whichever is read
			}
			require.NoError(t, os.WriteFile(contents, data, 0o600))
		}},
		{"cut short", func(t *testing.T, contents string) { require.NoError(t, os.Truncate(contents, 10)) }},
		{"gone", func(t *testing.T, contents string) { require.NoError(t, os.Remove(contents)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, file := cacheFileSite(t)
			tc.spoil(t, file+contentsSuffix)
			b := NewBuilder(testConfig(t, s.dir))
			require.NoError(t, b.LoadCache(file, "v1"))
			b.cache.clock = s.b.cache.clock
			s.mtime = s.mtime.Add(time.Second)
			s.edit("posts/p05.md", "Post 5 links", "Post five links")
			bundle, err := b.Build(context.Background())
			require.NoError(t, err)
			require.True(t, bundle.Complete(), "rendered whole")
			full, err := Build(context.Background(), testConfig(t, s.dir))
			require.NoError(t, err)
			requireSameFiles(t, full, bundle)
		})
	}
}

// TestCacheFileContentsAppended: a save appends only the renderings that
// are new to the contents file, and one grown past twice what it must
// hold is written anew.
func TestCacheFileContentsAppended(t *testing.T) {
	s, file := cacheFileSite(t)
	contents := file + contentsSuffix
	size := func() int64 {
		st, err := os.Stat(contents)
		require.NoError(t, err)
		return st.Size()
	}
	first := size()
	b := NewBuilder(testConfig(t, s.dir))
	require.NoError(t, b.LoadCache(file, "v1"))
	b.cache.clock = s.b.cache.clock
	s.mtime = s.mtime.Add(time.Second)
	s.edit("posts/p05.md", "Post 5 links", "Post five links")
	_, err := b.Build(context.Background())
	require.NoError(t, err)
	saveCache(t, b, file, "v1")
	var p05 int64
	for src, st := range b.cache.sources {
		require.Equal(t, contents, st.md.ref.file, src)
		if src == "posts/p05.md" {
			p05 = st.md.ref.n
		}
	}
	require.Equal(t, first+p05, size(), "only the edited post's rendering is appended")

	// Past twice the renderings' size (and a MiB of slack), it is rewritten.
	f, err := os.OpenFile(contents, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(make([]byte, 2*first+1<<20))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	s.mtime = s.mtime.Add(time.Second)
	s.edit("posts/p06.md", "Post 6 links", "Post six links")
	_, err = b.Build(context.Background())
	require.NoError(t, err)
	saveCache(t, b, file, "v1")
	var live int64
	for _, st := range b.cache.sources {
		live += st.md.ref.n
	}
	require.Equal(t, live, size(), "only what it must hold")
	require.Less(t, size(), first+10)

	again := NewBuilder(testConfig(t, s.dir))
	require.NoError(t, again.LoadCache(file, "v1"))
	again.cache.clock = s.b.cache.clock
	s.mtime = s.mtime.Add(time.Second)
	s.edit("posts/p07.md", "Post 7 links", "Post seven links")
	bundle, err := again.Build(context.Background())
	require.NoError(t, err)
	require.False(t, bundle.Complete(), "built from the rewritten file")
	full, err := Build(context.Background(), testConfig(t, s.dir))
	require.NoError(t, err)
	requireSameFiles(t, full, bundle)
}

// FuzzCacheFile feeds decodeCache arbitrary bytes, checksummed so that
// the decoder itself is reached: it must never panic or allocate beyond
// its input, and what it accepts must encode and decode to the same.
func FuzzCacheFile(f *testing.F) {
	var sum [32]byte
	sum[3] = 7
	seed := &cache{
		sources: map[string]*source{"posts/a.md": {hash: sum, md: &rendering{ref: &contentRef{off: 3, n: 8}, summary: "a",
			links: []mdLink{{line: 3, raw: "b.md#x", res: resolved{href: "../b/#x", target: "posts/b/index.html", frag: "x", rewrite: true}, key: "b.md#x"}},
			refs:  []refUse{{from: loc{dir: "posts/a", file: "posts/a/index.html", src: "posts/a.md"}, arg: "b", href: "../b/"}},
			hash:  sum, env: sum}}},
		outputs: map[string]*cachedOutput{"posts/a/index.html": {key: sum, size: 6, absent: true, ids: map[string]bool{"x": true},
			pageLinks: pageLinks{links: []htmlLink{{raw: "/", res: resolved{external: true}}, {raw: "b/#y", res: resolved{href: "../b/#y", target: "posts/b/index.html", frag: "y"}}},
				pending: []htmlLink{{raw: "b/#y", res: resolved{href: "../b/#y", target: "posts/b/index.html", frag: "y"}}}}}},
	}
	seed.sources["posts/b.md"] = &source{stamp: fileStamp{size: 9, mtime: 1e18, ino: 4}, settled: true, hash: sum, fromFile: true,
		parsed: &page{src: "posts/b.md", file: "/c/posts/b.md", lazyBody: true, bodyLine: 5, meta: meta{Title: "B", Tags: []string{"go"},
			Date: time.Date(2024, 5, 1, 9, 30, 0, 0, time.FixedZone("", 7200)), keyLines: map[string]int{"title": 2, "x": 3}, unknown: []string{"x"}}}}
	data := seed.encodeBytes("/c", "v1")
	f.Add(data[len(cacheFileMagic) : len(data)-4])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		data := append([]byte(cacheFileMagic), body...)
		data = binary.LittleEndian.AppendUint32(data, crc32.Checksum(data, crcTable))
		c, err := decodeCache(data, "/c", "v1", "/c.md")
		if err != nil {
			return
		}
		again, err := decodeCache(c.encodeBytes("/c", "v1"), "/c", "v1", "/c.md")
		require.NoError(t, err)
		require.True(t, reflect.DeepEqual(c.sources, again.sources))
		require.Equal(t, len(c.outputs), len(again.outputs))
		for p, o := range c.outputs {
			require.Equal(t, o.size, again.outputs[p].size)
			require.True(t, again.outputs[p].absent)
			require.Equal(t, o.pending, again.outputs[p].pending)
			links, ok := o.all()
			againLinks, againOK := again.outputs[p].all()
			require.Equal(t, ok, againOK)
			require.Equal(t, links, againLinks)
			require.Equal(t, o.ids, again.outputs[p].ids)
			require.Equal(t, o.key, again.outputs[p].key)
		}
	})
}

// TestIdentity: across processes (a Builder from the cache file) a file's
// identity is the same exactly when its bytes are, for pages the Builder
// did or did not render again, generated files and static ones (settled:
// by stat; fresh: by their bytes).
func TestIdentity(t *testing.T) {
	s, file := cacheFileSite(t)
	s.write("static/img/a.png", "PNG")
	ids := func(b *Bundle) map[string]string {
		out := map[string]string{}
		for _, f := range b.Files() {
			id, err := f.Identity()
			require.NoError(t, err)
			out[f.Path] = id
		}
		return out
	}
	// Built as if long after the writes, so that stamps are settled.
	later := func() time.Time { return time.Now().Add(time.Hour) }
	// What each build's files hold, read from a full build of the same
	// sources: pages reused from the cache file have no bytes to read.
	fullData := func() map[string][]byte {
		full, err := Build(context.Background(), testConfig(t, s.dir))
		require.NoError(t, err)
		return readAll(t, full)
	}
	first := NewBuilder(testConfig(t, s.dir))
	require.NoError(t, first.LoadCache(file, "v1"))
	first.cache.clock = later
	before, err := first.Build(context.Background())
	require.NoError(t, err)
	saveCache(t, first, file, "v1")
	old, oldData := ids(before), fullData()

	s.mtime = s.mtime.Add(time.Second)
	s.edit("posts/p05.md", "Post 5 links", "Post five links")
	s.write("static/img/a.png", "GIF")
	fresh := filepath.Join(s.dir, "static", "img", "b.png")
	require.NoError(t, os.WriteFile(fresh, []byte("new"), 0o644))
	soon := time.Now().Add(2 * time.Hour) // changed just before the build: not settled
	require.NoError(t, os.Chtimes(fresh, soon, soon))
	second := NewBuilder(testConfig(t, s.dir))
	require.NoError(t, second.LoadCache(file, "v1"))
	second.cache.clock = later
	after, err := second.Build(context.Background())
	require.NoError(t, err)

	cur := ids(after)
	curData := fullData()
	for p, id := range cur {
		if _, ok := old[p]; !ok {
			continue
		}
		require.Equal(t, string(oldData[p]) == string(curData[p]), old[p] == id, "%s: identity %s then %s", p, old[p], id)
	}
	require.NotEqual(t, old["posts/p05/index.html"], cur["posts/p05/index.html"])
	require.Equal(t, old["posts/p00/index.html"], cur["posts/p00/index.html"])
	require.NotEqual(t, old["img/a.png"], cur["img/a.png"])
	require.True(t, strings.HasPrefix(cur["img/b.png"], "sha256:"), "a file changed just now is known by its bytes")
	require.True(t, strings.HasPrefix(cur["img/a.png"], "stat:"), "a settled one by its stat")
}
