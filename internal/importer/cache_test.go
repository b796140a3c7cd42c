package importer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/islandsite/island/internal/site"
	"github.com/islandsite/island/internal/testutil"
)

// ver is a file version as a Versioned fs.FS reports it.
type ver string

func (v ver) FileVersion() any { return v }

// versionedFS is a MapFS whose files carry versions that change with their
// bytes.
type versionedFS struct {
	m fstest.MapFS
}

func newVersionedFS() *versionedFS { return &versionedFS{m: fstest.MapFS{}} }

// versions makes every version new, across all versionedFSs, as the
// Versioned contract requires.
var versions atomic.Int64

// put writes a file with a new version; unversioned files get no Sys.
func (v *versionedFS) put(name string, data []byte, versioned bool) {
	f := &fstest.MapFile{Data: data, Mode: 0o644}
	if versioned {
		f.Sys = ver(fmt.Sprint(versions.Add(1)))
	}
	v.m[name] = f
}

// remove deletes a file, or a directory and everything below it.
func (v *versionedFS) remove(name string) {
	for k := range v.m {
		if k == name || strings.HasPrefix(k, name+"/") {
			delete(v.m, k)
		}
	}
}

// countingFS records which files of an fs.FS are opened.
type countingFS struct {
	fs.FS
	mu    sync.Mutex
	opens map[string]bool
}

func counting(fsys fs.FS) *countingFS { return &countingFS{FS: fsys, opens: map[string]bool{}} }

func (c *countingFS) Open(name string) (fs.File, error) {
	f, err := c.FS.Open(name)
	if err == nil {
		if st, err := f.Stat(); err == nil && !st.IsDir() {
			c.mu.Lock()
			c.opens[name] = true
			c.mu.Unlock()
		}
	}
	return f, err
}

func (c *countingFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(c.FS, name) }

func (c *countingFS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(c.FS, name) }

// opened returns the files opened since the last call, sorted.
func (c *countingFS) opened() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Sorted(maps.Keys(c.opens))
	clear(c.opens)
	return out
}

// requireComplete checks that the store holds every block of root's DAG.
func requireComplete(t *testing.T, dag ipld.DAGService, root cid.Cid) {
	t.Helper()
	dagBlocks(t, dag, root)
}

// dagBlocks returns every block of root's DAG, all of which dag must hold.
func dagBlocks(t *testing.T, dag ipld.DAGService, root cid.Cid) map[cid.Cid]bool {
	t.Helper()
	ctx := context.Background()
	seen := map[cid.Cid]bool{}
	var walk func(c cid.Cid)
	walk = func(c cid.Cid) {
		if seen[c] {
			return
		}
		seen[c] = true
		nd, err := dag.Get(ctx, c)
		require.NoError(t, err, "block %s of the DAG is missing", c)
		for _, l := range nd.Links() {
			walk(l.Cid)
		}
	}
	walk(root)
	return seen
}

// requireSameAsFresh imports fsys with the cache into dag and without one
// into a new store, and requires the same root and entries and a complete
// DAG in dag. It returns the cached import's result and the files it read.
func requireSameAsFresh(t *testing.T, dag ipld.DAGService, fsys fs.FS, root string, opts Options) (Result, []string) {
	t.Helper()
	ctx := context.Background()
	c := counting(fsys)
	got, err := AddFS(ctx, dag, c, root, opts)
	require.NoError(t, err)
	fresh, _ := memDAG(t)
	opts.Cache = nil
	want, err := AddFS(ctx, fresh, fsys, root, opts)
	require.NoError(t, err)
	require.Equal(t, want.Root.String(), got.Root.String())
	require.Equal(t, want.Entries, got.Entries)
	requireComplete(t, dag, got.Root)
	return got, c.opened()
}

func TestCacheMatchesFullImport(t *testing.T) {
	v := newVersionedFS()
	for i := range 40 {
		v.put(fmt.Sprintf("site/posts/p%02d/index.html", i), []byte(fmt.Sprintf("<p>post %d</p>", i)), true)
	}
	v.put("site/index.html", []byte("<h1>home</h1>"), true)
	v.put("site/css/site.css", []byte("body{}"), true)
	v.put("site/plain.txt", []byte("no version"), false)
	v.put("site/.hidden", []byte("secret"), true)
	v.put("site/big.bin", bytes.Repeat([]byte("0123456789abcdef"), (2<<20)/16+3), true) // three chunks
	v.put("site/empty", nil, true)
	dag, bs := memDAG(t)
	cache := NewCache(bs)
	opts := Options{Cache: cache}

	_, reads := requireSameAsFresh(t, dag, v.m, "site", opts)
	require.Len(t, reads, 45, "the first import reads everything but the hidden file")

	tests := []struct {
		name   string
		edit   func()
		hidden bool
		reads  []string // files read by the cached import
	}{
		{"nothing changed", func() {}, false, []string{"site/plain.txt"}},
		{"one page", func() { v.put("site/posts/p07/index.html", []byte("<p>post 7, edited</p>"), true) }, false,
			[]string{"site/plain.txt", "site/posts/p07/index.html"}},
		{"same bytes, new version", func() { v.put("site/index.html", []byte("<h1>home</h1>"), true) }, false,
			[]string{"site/index.html", "site/plain.txt"}},
		{"a page added", func() { v.put("site/posts/p99/index.html", []byte("new"), true) }, false,
			[]string{"site/plain.txt", "site/posts/p99/index.html"}},
		{"a directory removed", func() { v.remove("site/posts/p03") }, false, []string{"site/plain.txt"}},
		{"a file removed", func() { v.remove("site/empty") }, false, []string{"site/plain.txt"}},
		{"the big file", func() {
			v.put("site/big.bin", bytes.Repeat([]byte("fedcba9876543210"), (2<<20)/16+3), true)
		}, false, []string{"site/big.bin", "site/plain.txt"}},
		{"hidden files included", func() {}, true, []string{"site/.hidden", "site/plain.txt"}},
		{"hidden files left out again", func() {}, false, []string{"site/plain.txt"}},
		{"an unversioned file changed", func() { v.put("site/plain.txt", []byte("changed"), false) }, false,
			[]string{"site/plain.txt"}},
		{"a file becomes a directory", func() {
			v.remove("site/css/site.css")
			v.put("site/css/site.css/x", []byte("x"), true)
		}, false, []string{"site/css/site.css/x", "site/plain.txt"}},
	}
	for _, tt := range tests {
		tt.edit()
		o := opts
		o.Hidden = tt.hidden
		_, reads := requireSameAsFresh(t, dag, v.m, "site", o)
		require.Equal(t, tt.reads, reads, tt.name)
	}

	// Parts of the tree: the cache knows them by their paths in the FS,
	// and afterwards only what the last import saw.
	_, reads = requireSameAsFresh(t, dag, v.m, "site/posts", opts)
	require.Empty(t, reads)
	_, reads = requireSameAsFresh(t, dag, v.m, "site/index.html", opts)
	require.Equal(t, []string{"site/index.html"}, reads, "forgotten by the import of site/posts")
	_, reads = requireSameAsFresh(t, dag, v.m, "site/index.html", opts)
	require.Empty(t, reads)
}

// TestCacheRestoresMissingBlocks: blocks the cache remembers may be gone
// (garbage collected, or never committed); the import must store them again.
func TestCacheRestoresMissingBlocks(t *testing.T) {
	ctx := context.Background()
	v := newVersionedFS()
	for i := range 10 {
		v.put(fmt.Sprintf("site/p%d/index.html", i), []byte(fmt.Sprintf("page %d", i)), true)
	}
	v.put("site/index.html", []byte("home"), true)
	dag, bs := memDAG(t)
	cache := NewCache(bs)
	first, _ := requireSameAsFresh(t, dag, v.m, "site", Options{Cache: cache})

	// As if collected: every block is gone.
	removeAll(t, bs)
	got, _ := requireSameAsFresh(t, dag, v.m, "site", Options{Cache: cache})
	require.Equal(t, first.Root, got.Root)

	// An import into another store (one that was discarded) must not make
	// the cache vouch for blocks this store lacks.
	other, _ := memDAG(t)
	v.put("site/p4/index.html", []byte("page 4, edited"), true)
	_, err := AddFS(ctx, other, v.m, "site", Options{Cache: cache})
	require.NoError(t, err)
	v.put("site/p5/index.html", []byte("page 5, edited"), true)
	requireSameAsFresh(t, dag, v.m, "site", Options{Cache: cache})

	// A root file whose block is gone is stored again too.
	removeAll(t, bs)
	requireSameAsFresh(t, dag, v.m, "site/index.html", Options{Cache: cache})
	requireSameAsFresh(t, dag, v.m, "site/index.html", Options{Cache: cache})

	// A file that changed while its version did not (it changed between
	// being versioned and being read) is refused, not imported under the
	// old CID, when the cache has to read it.
	removeAll(t, bs)
	v.m["site/index.html"].Data = []byte("HOME") // the same size
	_, err = AddFS(ctx, dag, v.m, "site/index.html", Options{Cache: cache})
	require.ErrorContains(t, err, "importer: index.html changed while being imported; import again")
}

func removeAll(t *testing.T, bs blockstore.Blockstore) {
	t.Helper()
	ctx := context.Background()
	keys, err := bs.AllKeysChan(ctx)
	require.NoError(t, err)
	var all []cid.Cid
	for c := range keys {
		all = append(all, c)
	}
	require.NotEmpty(t, all)
	for _, c := range all {
		require.NoError(t, bs.DeleteBlock(ctx, c))
	}
}

// TestCacheHAMT edits one file of a directory big enough to be sharded.
func TestCacheHAMT(t *testing.T) {
	v := newVersionedFS()
	name := strings.Repeat("long-name-", 6)
	for i := range 3500 {
		v.put(fmt.Sprintf("d/%s%04d.html", name, i), []byte(fmt.Sprint(i)), true)
	}
	dag, bs := memDAG(t)
	cache := NewCache(bs)
	res, _ := requireSameAsFresh(t, dag, v.m, "d", Options{Cache: cache})
	nd, err := dag.Get(context.Background(), res.Root)
	require.NoError(t, err)
	require.LessOrEqual(t, len(nd.Links()), profile.HAMTShardWidth, "the directory is a HAMT")

	v.put(fmt.Sprintf("d/%s%04d.html", name, 1234), []byte("edited"), true)
	_, reads := requireSameAsFresh(t, dag, v.m, "d", Options{Cache: cache})
	require.Equal(t, []string{fmt.Sprintf("d/%s%04d.html", name, 1234)}, reads)
}

// TestCacheConcurrentImports runs imports sharing a cache at once (for
// -race); each must still give the right root.
func TestCacheConcurrentImports(t *testing.T) {
	trees := make([]*versionedFS, 4)
	for i := range trees {
		trees[i] = newVersionedFS()
		for j := range 20 {
			trees[i].put(fmt.Sprintf("s/p%d/index.html", j), []byte(fmt.Sprintf("tree %d page %d", i%2, j)), true)
		}
	}
	dag, bs := memDAG(t)
	cache := NewCache(bs)
	var g errgroup.Group
	for _, tree := range trees {
		for range 3 {
			g.Go(func() error {
				got, err := AddFS(context.Background(), dag, tree.m, "s", Options{Cache: cache})
				if err != nil {
					return err
				}
				want, err := AddFS(context.Background(), NullDAG(), tree.m, "s", Options{})
				if err != nil {
					return err
				}
				if got.Root != want.Root {
					return fmt.Errorf("cached import gave %s, want %s", got.Root, want.Root)
				}
				return nil
			})
		}
	}
	require.NoError(t, g.Wait())
}

// TestCacheOnlyHash: with NullDAG, which keeps nothing, a cache still gives
// the right CIDs.
func TestCacheOnlyHash(t *testing.T) {
	v := newVersionedFS()
	for i := range 5 {
		v.put(fmt.Sprintf("s/p%d.html", i), []byte(fmt.Sprint(i)), true)
	}
	cache := NewCache(nil)
	for i := range 3 {
		v.put("s/p1.html", []byte(fmt.Sprint("edit ", i)), true)
		got, err := AddFS(context.Background(), NullDAG(), v.m, "s", Options{Cache: cache})
		require.NoError(t, err)
		fresh, _ := memDAG(t)
		want, err := AddFS(context.Background(), fresh, v.m, "s", Options{})
		require.NoError(t, err)
		require.Equal(t, want.Root, got.Root)
		require.Equal(t, want.Entries, got.Entries)
	}
}

// TestCacheWithSiteBuilder imports the bundles a site.Builder makes after
// each edit: the result equals a full import, and only the pages the edit
// changed (and the feed, the sitemap and the stylesheet, made anew every
// build) are read. The static files were copied just now, too recently for
// their stat to be trusted (see site's fileStamp.settledAt), so they are
// read every time here; a few seconds later they would not be.
func TestCacheWithSiteBuilder(t *testing.T) {
	dir := copyDir(t, testutil.Corpus(t, 20, 3))
	cfg := site.DefaultConfig()
	cfg.ContentDir = dir
	cfg.Now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg.Logger = discardLogger()
	b := site.NewBuilder(cfg)
	dag, bs := memDAG(t)
	cache := NewCache(bs)
	for i, post := range []string{"", "00005", "00005", "00012"} {
		if post != "" {
			p := filepath.Join(dir, "posts", post+".md")
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, append(data, fmt.Sprintf("\nEdit %d.\n", i)...), 0o644))
		}
		bundle, err := b.Build(context.Background())
		require.NoError(t, err)
		_, reads := requireSameAsFresh(t, dag, bundle.FS(), ".", Options{Cache: cache})
		if post != "" {
			reads = slices.DeleteFunc(reads, func(p string) bool { return strings.HasPrefix(p, "img/") })
			require.Contains(t, reads, "posts/"+post+"/index.html")
			require.NotContains(t, reads, "posts/00000/index.html")
			require.Less(t, len(reads), 12, "%v", reads)
		}
	}
}

// copyDir copies a directory tree into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	require.NoError(t, os.CopyFS(dst, os.DirFS(src)))
	return dst
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestCacheReused: an import with a cache names the import it started from
// and the subtrees it took from it unchanged, all of them part of that
// import's DAG, none on the path to what changed.
func TestCacheReused(t *testing.T) {
	v := newVersionedFS()
	for i := range 20 {
		v.put(fmt.Sprintf("site/posts/p%02d/index.html", i), []byte(fmt.Sprintf("<p>post %d</p>", i)), true)
	}
	v.put("site/index.html", []byte("<h1>home</h1>"), true)
	dag, bs := memDAG(t)
	opts := Options{Cache: NewCache(bs)}
	first, _ := requireSameAsFresh(t, dag, v.m, "site", opts)
	require.False(t, first.Prev.Defined(), "nothing before the first import")
	require.Empty(t, first.Reused)

	v.put("site/posts/p07/index.html", []byte("<p>post 7, edited</p>"), true)
	second, _ := requireSameAsFresh(t, dag, v.m, "site", opts)
	require.Equal(t, first.Root, second.Prev)
	old := dagBlocks(t, dag, first.Root)
	byPath := map[string]cid.Cid{}
	for _, e := range second.Entries {
		byPath[e.Path] = e.Cid
	}
	require.NotEmpty(t, second.Reused)
	for _, c := range second.Reused {
		require.True(t, old[c], "reused %s is part of the previous import", c)
	}
	for _, p := range []string{"site", "site/posts", "site/posts/p07", "site/posts/p07/index.html"} {
		require.NotContains(t, second.Reused, byPath[p], "%s changed", p)
	}
	require.Contains(t, second.Reused, byPath["site/posts/p08"])
}

// TestCacheReusedStreamed: a tree sent as a stream (no fs.FS paths, as the
// daemon receives a publish) still tells which directories came out as in
// the import before.
func TestCacheReusedStreamed(t *testing.T) {
	v := newVersionedFS()
	for i := range 10 {
		v.put(fmt.Sprintf("site/p%d/index.html", i), []byte(fmt.Sprint("page ", i)), false)
	}
	dag, bs := memDAG(t)
	cache := NewCache(bs)
	add := func() Result {
		t.Helper()
		nd, err := FSNode(v.m, "site")
		require.NoError(t, err)
		name, nd := viaMultipart(t, "site", nd)
		res, err := AddNode(context.Background(), dag, name, nd, Options{Cache: cache})
		require.NoError(t, err)
		return res
	}
	first := add()
	v.put("site/p3/index.html", []byte("page 3, edited"), false)
	second := add()
	require.Equal(t, first.Root, second.Prev)
	byPath := map[string]cid.Cid{}
	for _, e := range second.Entries {
		byPath[e.Path] = e.Cid
	}
	require.Contains(t, second.Reused, byPath["site/p4"])
	require.NotContains(t, second.Reused, byPath["site/p3"])
	require.NotContains(t, second.Reused, second.Root)
	require.Len(t, second.Reused, 9)
}

// nest makes a directory tree of nodes by slash-separated path.
func nest(nodes map[string]files.Node) files.Directory {
	top := map[string]files.Node{}
	subs := map[string]map[string]files.Node{}
	for p, nd := range nodes {
		first, rest, deeper := strings.Cut(p, "/")
		if !deeper {
			top[p] = nd
			continue
		}
		if subs[first] == nil {
			subs[first] = map[string]files.Node{}
		}
		subs[first][rest] = nd
	}
	for name, m := range subs {
		top[name] = nest(m)
	}
	return files.NewMapDirectory(top)
}

// TestKnownEntries: entries given as Known (files, whole directories, the
// children of a HAMT directory) give the root of importing their files
// again, are reported as reused, and one the store lacks is an error.
func TestKnownEntries(t *testing.T) {
	site := fstest.MapFS{}
	for i := range 40 {
		site[fmt.Sprintf("posts/p%02d/index.html", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("post %d", i))}
	}
	long := strings.Repeat("long-name-", 6)
	for i := range 3500 {
		site[fmt.Sprintf("big/%s%04d.html", long, i)] = &fstest.MapFile{Data: []byte(fmt.Sprint(i))}
	}
	site["index.html"] = &fstest.MapFile{Data: []byte("home")}
	site["big/huge.bin"] = &fstest.MapFile{Data: bytes.Repeat([]byte("x"), 3<<20)}
	ctx := context.Background()
	dag, _ := memDAG(t)
	base, err := AddFS(ctx, dag, site, ".", Options{})
	require.NoError(t, err)
	known := map[string]*Known{}
	for _, e := range base.Entries {
		known[strings.TrimPrefix(e.Path, "./")] = &Known{Cid: e.Cid, Tsize: e.Size}
	}
	bytesOf := func(p string) files.Node { return files.NewBytesFile(site[p].Data) }

	for _, tc := range []struct {
		name string
		tree map[string]files.Node // besides the edit: posts/p07/index.html now "edited"
		// known are the paths given as Known
		known []string
	}{
		{name: "files known", known: []string{"index.html", "posts/p00/index.html", "big/huge.bin"}},
		{name: "directories known", known: []string{"big", "posts/p01", "posts/p39"}},
		{name: "in a HAMT directory", known: []string{"big/" + long + "0001.html", "big/" + long + "3499.html", "big/huge.bin", "posts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := map[string]files.Node{}
			isKnown := func(p string) bool {
				for _, k := range tc.known {
					if p == k || strings.HasPrefix(p, k+"/") {
						return true
					}
				}
				return false
			}
			for p := range site {
				if !isKnown(p) {
					nodes[p] = bytesOf(p)
				}
			}
			for _, k := range tc.known {
				nodes[k] = known[k]
			}
			edited := "posts/p07/index.html"
			if _, ok := nodes[edited]; ok {
				nodes[edited] = files.NewBytesFile([]byte("edited"))
			}
			res, err := AddNode(ctx, dag, ".", nest(nodes), Options{Base: base.Root})
			require.NoError(t, err)

			want := maps.Clone(site)
			if _, ok := nodes[edited]; ok {
				want[edited] = &fstest.MapFile{Data: []byte("edited")}
			}
			fresh, _ := memDAG(t)
			full, err := AddFS(ctx, fresh, want, ".", Options{})
			require.NoError(t, err)
			require.Equal(t, full.Root, res.Root)
			require.Equal(t, base.Root, res.Prev)
			for _, k := range tc.known {
				require.Contains(t, res.Reused, known[k].Cid, k)
			}
		})
	}

	t.Run("not in the store", func(t *testing.T) {
		empty, _ := memDAG(t)
		_, err := AddNode(ctx, empty, ".", nest(map[string]files.Node{"index.html": known["index.html"], "a.html": files.NewBytesFile([]byte("a"))}), Options{Base: base.Root})
		require.ErrorContains(t, err, "is not in the repo")
	})
	t.Run("without a base", func(t *testing.T) {
		_, err := AddNode(ctx, dag, ".", nest(map[string]files.Node{"index.html": known["index.html"]}), Options{})
		require.ErrorContains(t, err, "without Options.Base")
	})
}
