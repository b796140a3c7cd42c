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
	f, err := os.Create(file)
	require.NoError(t, err)
	require.NoError(t, b.WriteCache(f, tag))
	require.NoError(t, f.Close())
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
	_, err := b.Build(context.Background())
	require.NoError(t, err)
	saveCache(t, b, file, "v1")
	return s, file
}

// TestCacheFileReused: a Builder started from a cache file renders again
// only what an edit changed; every other page is the file's bytes.
func TestCacheFileReused(t *testing.T) {
	s, file := cacheFileSite(t)
	b := NewBuilder(testConfig(t, s.dir))
	require.NoError(t, b.LoadCache(file, "v1"))
	loaded := map[string][]byte{}
	for p, o := range b.cache.outputs {
		loaded[p] = o.data
	}
	s.edit("posts/p05.md", "Post 5 links", "Post five links")
	bundle, err := b.Build(context.Background())
	require.NoError(t, err)
	fromFile := func(f File) bool {
		return len(f.Data) > 0 && len(loaded[f.Path]) > 0 && &loaded[f.Path][0] == &f.Data[0]
	}
	for _, f := range bundle.Files() {
		switch f.Path {
		case "posts/p05/index.html", "posts/p04/index.html", "posts/p06/index.html", "posts/index.html", "tags/t2/index.html", "index.html": // the home page shows the ten newest
			require.False(t, fromFile(f), "%s must be made again", f.Path)
		case "posts/p00/index.html", "posts/p11/index.html", "tags/t0/index.html", "tags/index.html", "404.html":
			require.True(t, fromFile(f), "%s must come from the cache file", f.Path)
		}
	}
	full, err := Build(context.Background(), testConfig(t, s.dir))
	require.NoError(t, err)
	require.Equal(t, readAll(t, full), readAll(t, bundle))
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

// FuzzCacheFile feeds decodeCache arbitrary bytes, checksummed so that
// the decoder itself is reached: it must never panic or allocate beyond
// its input, and what it accepts must encode and decode to the same.
func FuzzCacheFile(f *testing.F) {
	var sum [32]byte
	sum[3] = 7
	seed := &cache{
		sources: map[string]*source{"posts/a.md": {hash: sum, md: &rendering{content: "<p>a</p>", summary: "a",
			links: []mdLink{{line: 3, raw: "b.md#x", res: resolved{href: "../b/#x", target: "posts/b/index.html", frag: "x", rewrite: true}, key: "b.md#x"}},
			refs:  []refUse{{from: loc{dir: "posts/a", file: "posts/a/index.html", src: "posts/a.md"}, arg: "b", href: "../b/"}},
			hash:  sum, env: sum}}},
		outputs: map[string]*cachedOutput{"posts/a/index.html": {key: sum, data: []byte("<html>"), ids: map[string]bool{"x": true},
			links: []htmlLink{{raw: "/", res: resolved{external: true}}}}},
	}
	data := seed.encodeBytes("/c", "v1")
	f.Add(data[len(cacheFileMagic) : len(data)-4])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		data := append([]byte(cacheFileMagic), body...)
		data = binary.LittleEndian.AppendUint32(data, crc32.Checksum(data, crcTable))
		c, err := decodeCache(data, "/c", "v1")
		if err != nil {
			return
		}
		again, err := decodeCache(c.encodeBytes("/c", "v1"), "/c", "v1")
		require.NoError(t, err)
		require.True(t, reflect.DeepEqual(c.sources, again.sources))
		require.Equal(t, len(c.outputs), len(again.outputs))
		for p, o := range c.outputs {
			require.Equal(t, string(o.data), string(again.outputs[p].data))
			require.Equal(t, o.links, again.outputs[p].links)
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
	first := NewBuilder(testConfig(t, s.dir))
	require.NoError(t, first.LoadCache(file, "v1"))
	first.cache.clock = later
	before, err := first.Build(context.Background())
	require.NoError(t, err)
	saveCache(t, first, file, "v1")
	old, oldData := ids(before), readAll(t, before) // static files are read when opened: now

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
	curData := readAll(t, after)
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
