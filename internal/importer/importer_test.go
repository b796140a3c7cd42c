package importer

import (
	"bufio"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	mdag "github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/testutil"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.CleanupCorpora()
	os.Exit(code)
}

// vectors reads the reference root CIDs computed by Kubo.
func vectors(t *testing.T) map[string]cid.Cid {
	t.Helper()
	f, err := os.Open(testutil.TestdataPath("vectors", "unixfs-v1-2025.tsv"))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	out := map[string]cid.Cid{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		require.Len(t, fields, 3, "vector line %q", line)
		c, err := cid.Decode(fields[2])
		require.NoError(t, err, "vector line %q", line)
		out[fields[0]] = c
	}
	require.NoError(t, sc.Err())
	require.Len(t, out, 4)
	return out
}

func memDAG(t testing.TB) (ipld.DAGService, blockstore.Blockstore) {
	t.Helper()
	bs := blockstore.NewBlockstore(dssync.MutexWrap(datastore.NewMapDatastore()))
	return mdag.NewDAGService(blockservice.New(bs, nil)), bs
}

// detStream is the deterministic 100 MiB input of the vectors: AES-128-CTR
// keystream (key 00..0f, IV zero) over zeros, i.e. `openssl enc -aes-128-ctr`
// of /dev/zero. It is generated while read, never held in memory.
func detStream(t testing.TB, n int64) io.Reader {
	t.Helper()
	key := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	stream := cipher.NewCTR(block, make([]byte, aes.BlockSize))
	return io.LimitReader(cipher.StreamReader{S: stream, R: zeros{}}, n)
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

func TestVectors(t *testing.T) {
	want := vectors(t)
	tests := []struct {
		name          string
		posts, images int
		slow          bool
	}{
		{"corpus-small", 20, 3, false},
		{"corpus-2000", 2000, 50, false},
		{"corpus-10k-hamt", 10000, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.slow && testing.Short() {
				t.Skip("10,000-post corpus skipped under -short")
			}
			dir := testutil.Corpus(t, tt.posts, tt.images)
			dag, _ := memDAG(t)
			res, err := AddPath(context.Background(), dag, dir, Options{})
			require.NoError(t, err)
			require.Equal(t, want[tt.name].String(), res.Root.String())
			last := res.Entries[len(res.Entries)-1]
			require.Equal(t, filepath.Base(dir), last.Path, "the root is printed last under the directory's name")
			require.Equal(t, res.Root, last.Cid)
			// one entry per post and image, plus posts/, static/, static/img/ and the root
			require.Len(t, res.Entries, tt.posts+tt.images+4)
		})
	}
	t.Run("det-100MiB-file", func(t *testing.T) {
		if testing.Short() {
			t.Skip("100 MiB file skipped under -short")
		}
		c, err := AddReader(context.Background(), NullDAG(), detStream(t, 100<<20))
		require.NoError(t, err)
		require.Equal(t, want["det-100MiB-file"].String(), c.String())
	})
}

func TestHAMTDirectoryIsSharded(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000-post corpus skipped under -short")
	}
	dir := testutil.Corpus(t, 10000, 0)
	dag, _ := memDAG(t)
	res, err := AddPath(context.Background(), dag, filepath.Join(dir, "posts"), Options{})
	require.NoError(t, err)
	nd, err := dag.Get(context.Background(), res.Root)
	require.NoError(t, err)
	pn, ok := nd.(*mdag.ProtoNode)
	require.True(t, ok)
	require.LessOrEqual(t, len(pn.Links()), profile.HAMTShardWidth, "a HAMT shard has at most fanout links")
	require.Less(t, len(pn.Links()), 10000)
}

// mapFSOf copies a directory on disk into a MapFS with the modes the site
// renderer uses for its in-memory bundle (files 0644, directories 0755).
func mapFSOf(t *testing.T, dir string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		rel, err := filepath.Rel(dir, p)
		require.NoError(t, err)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			m[rel] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
			return nil
		}
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		m[rel] = &fstest.MapFile{Data: data, Mode: 0o644}
		return nil
	})
	require.NoError(t, err)
	return m
}

func TestFSEqualsDisk(t *testing.T) {
	dir := testutil.Corpus(t, 20, 3)
	dag, _ := memDAG(t)
	disk, err := AddPath(context.Background(), dag, dir, Options{})
	require.NoError(t, err)

	mem, err := AddFS(context.Background(), dag, mapFSOf(t, dir), ".", Options{})
	require.NoError(t, err)
	require.Equal(t, disk.Root, mem.Root)
	require.Equal(t, len(disk.Entries), len(mem.Entries))
	require.Equal(t, ".", mem.Entries[len(mem.Entries)-1].Path)

	sub, err := AddFS(context.Background(), dag, mapFSOf(t, dir), "static", Options{})
	require.NoError(t, err)
	direct, err := AddPath(context.Background(), dag, filepath.Join(dir, "static"), Options{})
	require.NoError(t, err)
	require.Equal(t, direct.Root, sub.Root)
	require.Equal(t, "static/img/i000.png", sub.Entries[0].Path)
}

func TestHiddenFiles(t *testing.T) {
	base := fstest.MapFS{
		"site/index.html":       {Data: []byte("<h1>hi</h1>")},
		"site/about/index.html": {Data: []byte("about")},
	}
	withHidden := fstest.MapFS{}
	for k, v := range base {
		withHidden[k] = v
	}
	withHidden["site/.git/config"] = &fstest.MapFile{Data: []byte("[core]")}
	withHidden["site/.env"] = &fstest.MapFile{Data: []byte("SECRET=1")}

	dag, _ := memDAG(t)
	ctx := context.Background()
	plain, err := AddFS(ctx, dag, base, "site", Options{})
	require.NoError(t, err)
	skipped, err := AddFS(ctx, dag, withHidden, "site", Options{})
	require.NoError(t, err)
	require.Equal(t, plain.Root, skipped.Root, "hidden files are skipped by default")
	require.Len(t, skipped.Entries, 4)

	kept, err := AddFS(ctx, dag, withHidden, "site", Options{Hidden: true})
	require.NoError(t, err)
	require.NotEqual(t, plain.Root, kept.Root, "--hidden keeps them")
	var paths []string
	for _, e := range kept.Entries {
		paths = append(paths, e.Path)
	}
	require.Equal(t, []string{"site/.env", "site/.git/config", "site/.git", "site/about/index.html", "site/about", "site/index.html", "site"}, paths)
}

func TestFilesAndSymlinks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "empty"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello world\n"), 0o644))
	require.NoError(t, os.Symlink("hello.txt", filepath.Join(dir, "link")))
	dag, _ := memDAG(t)

	tests := []struct {
		name string
		want string
	}{
		// `ipfs add --cid-version=1 --raw-leaves` of "" and of "hello world\n"
		{"empty", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
		{"hello.txt", "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := AddPath(ctx, dag, filepath.Join(dir, tt.name), Options{})
			require.NoError(t, err)
			require.Equal(t, tt.want, res.Root.String())
			require.Equal(t, []Entry{{Path: tt.name, Cid: res.Root, Size: res.Entries[0].Size}}, res.Entries)
		})
	}

	t.Run("symlink is stored, not followed", func(t *testing.T) {
		res, err := AddPath(ctx, dag, filepath.Join(dir, "link"), Options{})
		require.NoError(t, err)
		require.Equal(t, uint64(cid.DagProtobuf), res.Root.Prefix().Codec)
		nd, err := dag.Get(ctx, res.Root)
		require.NoError(t, err)
		require.Contains(t, string(nd.RawData()), "hello.txt")
	})

	t.Run("missing path", func(t *testing.T) {
		_, err := AddPath(ctx, dag, filepath.Join(dir, "nope"), Options{})
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.Contains(t, err.Error(), "nope")
	})
}

func TestProgressCountsEveryByte(t *testing.T) {
	dir := testutil.Corpus(t, 20, 3)
	var total int64
	dag, _ := memDAG(t)
	_, err := AddPath(context.Background(), dag, dir, Options{Progress: func(n int64) { total += n }})
	require.NoError(t, err)
	var want int64
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			info, err := d.Info()
			require.NoError(t, err)
			want += info.Size()
		}
		return err
	}))
	require.Equal(t, want, total)
}

func TestAddReaderStoresEveryBlock(t *testing.T) {
	ctx := context.Background()
	dag, bs := memDAG(t)
	c, err := AddReader(ctx, dag, detStream(t, 3<<20+5))
	require.NoError(t, err)
	nd, err := dag.Get(ctx, c)
	require.NoError(t, err)
	require.Len(t, nd.Links(), 4, "3 MiB + 5 bytes is four 1 MiB chunks")
	for _, l := range nd.Links() {
		has, err := bs.Has(ctx, l.Cid)
		require.NoError(t, err)
		require.True(t, has)
		require.Equal(t, uint64(cid.Raw), l.Cid.Prefix().Codec, "raw leaves")
	}
}

func TestSpecialFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644))
	dag, _ := memDAG(t)
	_, err := AddPath(context.Background(), dag, dir, Options{})
	require.ErrorContains(t, err, "/pipe: cannot import a named pipe")
}
