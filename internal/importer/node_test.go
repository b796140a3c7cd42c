package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/testutil"
)

// source is one way of importing the entry at a path on disk.
type source struct {
	name string
	add  func(tb testing.TB, dag ipld.DAGService, p string, opts Options) (Result, error)
}

// sources are every way in: they must all agree.
var sources = []source{
	{"AddPath", func(_ testing.TB, dag ipld.DAGService, p string, opts Options) (Result, error) {
		return AddPath(context.Background(), dag, p, opts)
	}},
	{"AddFS", func(_ testing.TB, dag ipld.DAGService, p string, opts Options) (Result, error) {
		return AddFS(context.Background(), dag, os.DirFS(filepath.Dir(p)), filepath.Base(p), opts)
	}},
	{"AddNode(PathNode)", func(_ testing.TB, dag ipld.DAGService, p string, opts Options) (Result, error) {
		nd, err := PathNode(p, opts.Hidden)
		if err != nil {
			return Result{}, err
		}
		return AddNode(context.Background(), dag, filepath.Base(p), nd, opts)
	}},
	{"AddNode(FSNode)", func(_ testing.TB, dag ipld.DAGService, p string, opts Options) (Result, error) {
		nd, err := FSNode(os.DirFS(filepath.Dir(p)), filepath.Base(p))
		if err != nil {
			return Result{}, err
		}
		return AddNode(context.Background(), dag, filepath.Base(p), nd, opts)
	}},
	multipartSource,
}

// multipartSource is what a daemon does with what `island add` sends.
var multipartSource = source{"AddNode(multipart)", func(tb testing.TB, dag ipld.DAGService, p string, opts Options) (Result, error) {
	nd, err := PathNode(p, opts.Hidden)
	if err != nil {
		return Result{}, err
	}
	name, streamed := viaMultipart(tb, filepath.Base(p), nd)
	return AddNode(context.Background(), dag, name, streamed, opts)
}}

// viaMultipart sends nd, named name, as a client sends it to a daemon and
// returns what the daemon reads back: a multipart/mixed body, streamed
// through a pipe so that it is never whole in memory.
func viaMultipart(tb testing.TB, name string, nd files.Node) (string, files.Node) {
	tb.Helper()
	mfr := files.NewMultiFileReader(files.NewMapDirectory(map[string]files.Node{name: nd}), false, false)
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, mfr)
		pw.CloseWithError(err)
	}()
	// Stops the writer if the import gives up early.
	tb.Cleanup(func() { pr.CloseWithError(errors.New("test over")) })
	// NewFileFromPartReader takes no multipart/mixed: a daemon passes the
	// type of a directory part instead.
	top, err := files.NewFileFromPartReader(multipart.NewReader(pr, mfr.Boundary()), "application/x-directory")
	require.NoError(tb, err)
	it := top.Entries()
	require.True(tb, it.Next(), "no entry: %v", it.Err())
	return it.Name(), it.Node()
}

// genTree writes a tree with every kind of entry the importer handles and
// returns its directory, "tree".
func genTree(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tree")
	write := func(rel string, data []byte) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	mkdir := func(rel string) { require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.FromSlash(rel)), 0o755)) }
	link := func(target, rel string) {
		require.NoError(t, os.Symlink(target, filepath.Join(dir, filepath.FromSlash(rel))))
	}

	big, err := io.ReadAll(detStream(t, 1<<20+1)) // two chunks, the second of one byte
	require.NoError(t, err)
	write("big.bin", big)
	write("empty", nil)
	write("one", []byte("1"))
	write("a/b/c/deep.txt", []byte("deep\n"))
	write("a/.inner", []byte("hidden in a"))
	write(`weird %20 "name"+ü`, []byte("escaped on the way")) // as a multipart file name
	mkdir("a/empty-dir")
	mkdir("a/.hidden-empty")
	mkdir("empty-top")
	write(".hidden-file", []byte("secret"))
	write(".hidden-dir/x.txt", []byte("x"))
	write(".hidden-dir/sub/y", nil)
	link("one", "link-file")
	link("a", "link-dir")
	link("nowhere", "link-dangling")
	link("/etc/hostname", "link-abs")
	link("../one", "a/link-up")
	link("one", ".hidden-link")
	// Big enough to be a HAMT: 3,500 links of ~110 bytes exceed 256 KiB.
	name := strings.Repeat("long-name-", 6)
	for i := range 3500 {
		write(fmt.Sprintf("hamt/%s%04d", name, i), []byte(fmt.Sprint(i)))
	}
	return dir
}

// TestSourcesAgree: AddPath, AddFS, AddNode over PathNode and FSNode, and
// AddNode over a multipart round trip give the same root, entries and
// progress for the same tree, so a daemon computes what a local add does.
func TestSourcesAgree(t *testing.T) {
	dir := genTree(t)
	roots := []string{".", "a", "a/empty-dir", ".hidden-dir", "hamt", "big.bin", "empty", "one", "link-file", "link-dangling"}
	for _, hidden := range []bool{false, true} {
		for _, root := range roots {
			t.Run(fmt.Sprintf("%s/hidden=%v", root, hidden), func(t *testing.T) {
				p := filepath.Join(dir, root)
				var (
					want      Result
					wantBytes int64
					wantDAG   ipld.DAGService
				)
				for i, src := range sources {
					var n int64
					dag, _ := memDAG(t)
					res, err := src.add(t, dag, p, Options{Hidden: hidden, Progress: func(b int64) { n += b }})
					require.NoError(t, err, src.name)
					requireComplete(t, dag, res.Root)
					if i == 0 {
						want, wantBytes, wantDAG = res, n, dag
						continue
					}
					require.Equal(t, want.Root.String(), res.Root.String(), src.name)
					require.Equal(t, want.Entries, res.Entries, src.name)
					require.Equal(t, wantBytes, n, "%s: progress", src.name)
				}
				if root == "." {
					requireTree(t, wantDAG, want, hidden)
				}
			})
		}
	}
}

// requireTree checks the import of genTree's whole tree, dag holding it,
// for what all sources could agree on by all being wrong.
func requireTree(t *testing.T, dag ipld.DAGService, res Result, hidden bool) {
	t.Helper()
	paths := map[string]Entry{}
	for _, e := range res.Entries {
		paths[e.Path] = e
	}
	require.Equal(t, Entry{Path: "tree", Cid: res.Root, Size: paths["tree"].Size}, res.Entries[len(res.Entries)-1], "the root comes last")
	for _, p := range []string{"tree/a/b/c/deep.txt", "tree/a/empty-dir", "tree/empty", "tree/link-dangling", `tree/weird %20 "name"+ü`} {
		require.Contains(t, paths, p)
	}
	for _, p := range []string{"tree/.hidden-dir/sub/y", "tree/a/.hidden-empty", "tree/.hidden-link"} {
		_, ok := paths[p]
		require.Equal(t, hidden, ok, "%s is imported only with Hidden", p)
	}
	require.Len(t, res.Entries, map[bool]int{false: 3500 + 17, true: 3500 + 25}[hidden])
	require.Greater(t, paths["tree/big.bin"].Size, uint64(1<<20+1), "a file's Size counts its DAG's blocks")

	nd, err := dag.Get(context.Background(), paths["tree/hamt"].Cid)
	require.NoError(t, err)
	require.LessOrEqual(t, len(nd.Links()), profile.HAMTShardWidth, "hamt/ is sharded")
}

// TestVectorsThroughNodes: the Kubo vectors through the nodes a client
// sends and through the multipart stream a daemon reads.
func TestVectorsThroughNodes(t *testing.T) {
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
			for _, src := range sources[2:] {
				res, err := src.add(t, NullDAG(), dir, Options{})
				require.NoError(t, err, src.name)
				require.Equal(t, want[tt.name].String(), res.Root.String(), src.name)
				require.Len(t, res.Entries, tt.posts+tt.images+4, src.name)
			}
		})
	}
	t.Run("det-100MiB-file", func(t *testing.T) {
		if testing.Short() {
			t.Skip("100 MiB file skipped under -short")
		}
		p := filepath.Join(t.TempDir(), "det")
		f, err := os.Create(p)
		require.NoError(t, err)
		_, err = io.Copy(f, detStream(t, 100<<20))
		require.NoError(t, err)
		require.NoError(t, f.Close())
		for _, src := range []source{sources[2], multipartSource} {
			res, err := src.add(t, NullDAG(), p, Options{})
			require.NoError(t, err, src.name)
			require.Equal(t, want["det-100MiB-file"].String(), res.Root.String(), src.name)
		}
	})
}

// TestCacheThroughNodes: AddNode with a Cache skips the unchanged files of
// an FSNode as AddFS does, and reads again those whose blocks are gone;
// a multipart stream is imported whole and leaves the Cache knowing nothing.
func TestCacheThroughNodes(t *testing.T) {
	ctx := context.Background()
	v := newVersionedFS()
	for i := range 10 {
		v.put(fmt.Sprintf("site/p%d/index.html", i), []byte(fmt.Sprintf("page %d", i)), true)
	}
	v.put("site/index.html", []byte("home"), true)
	dag, bs := memDAG(t)
	cache := NewCache(bs)
	// add imports site through FSNode and returns the files it read.
	add := func(streamed bool) []string {
		t.Helper()
		c := counting(v.m)
		nd, err := FSNode(c, "site")
		require.NoError(t, err)
		name := "site"
		if streamed {
			name, nd = viaMultipart(t, name, nd)
		}
		got, err := AddNode(ctx, dag, name, nd, Options{Cache: cache})
		require.NoError(t, err)
		want, err := AddFS(ctx, NullDAG(), v.m, "site", Options{})
		require.NoError(t, err)
		require.Equal(t, want.Root, got.Root)
		require.Equal(t, want.Entries, got.Entries)
		requireComplete(t, dag, got.Root)
		return c.opened()
	}

	require.Len(t, add(false), 11)
	require.Empty(t, add(false))
	v.put("site/p3/index.html", []byte("page 3, edited"), true)
	require.Equal(t, []string{"site/p3/index.html"}, add(false))

	// As if collected: the files the cache vouches for are read again.
	removeAll(t, bs)
	v.put("site/p4/index.html", []byte("page 4, edited"), true)
	require.Len(t, add(false), 11)

	require.Len(t, add(true), 11, "a stream is read whole")
	require.Len(t, add(false), 11, "and the cache learned nothing from it")
	require.Empty(t, add(false))
}

// part is one part of a hand-made multipart body.
type part struct {
	name, typ, body string
}

const (
	dirType     = "application/x-directory"
	fileType    = "application/octet-stream"
	symlinkType = "application/symlink"
	// boundary is the fixed boundary of hand-made bodies and of the fuzz
	// inputs.
	boundary = "island-test-boundary"
)

// body writes parts as NewMultiFileReader does, but with names written
// as given (not escaped), so that any name can be sent.
func body(tb testing.TB, parts ...part) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	require.NoError(tb, w.SetBoundary(boundary))
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `attachment; filename="`+p.name+`"`)
		h.Set("Content-Type", p.typ)
		pw, err := w.CreatePart(h)
		require.NoError(tb, err)
		_, err = io.WriteString(pw, p.body)
		require.NoError(tb, err)
	}
	require.NoError(tb, w.Close())
	return buf.Bytes()
}

// readBody reads a multipart body back as a daemon does.
func readBody(tb testing.TB, b []byte) files.Directory {
	tb.Helper()
	d, err := files.NewFileFromPartReader(multipart.NewReader(bytes.NewReader(b), boundary), dirType)
	require.NoError(tb, err)
	return d
}

// addBody imports the first entry of a multipart body, as a daemon does.
func addBody(tb testing.TB, b []byte) (Result, error) {
	tb.Helper()
	it := readBody(tb, b).Entries()
	require.True(tb, it.Next(), "no entry: %v", it.Err())
	return AddNode(context.Background(), NullDAG(), it.Name(), it.Node(), Options{})
}

// nested returns the parts of a directory r holding n directories nested
// one in the other, the innermost holding a file.
func nested(n int) []part {
	return []part{{"r", dirType, ""}, {"r/" + strings.Repeat("a/", n) + "f", fileType, "deep"}}
}

// oddNode is a files.Node that is neither a file, a directory nor a
// symlink.
type oddNode struct{ mode fs.FileMode }

func (oddNode) Close() error                  { return nil }
func (n oddNode) Mode() os.FileMode           { return n.mode }
func (oddNode) ModTime() time.Time            { return time.Time{} }
func (oddNode) Size() (int64, error)          { return 0, nil }
func entries(es ...files.DirEntry) files.Node { return files.NewSliceDirectory(es) }
func file(s string) files.Node                { return files.NewBytesFile([]byte(s)) }

func TestAddNodeErrors(t *testing.T) {
	t.Run("multipart", func(t *testing.T) {
		tests := []struct {
			name  string
			parts []part
			err   string // "" for none
		}{
			{"a name twice", []part{{"r", dirType, ""}, {"r/a", fileType, "1"}, {"r/a", fileType, "2"}},
				`importer: r: entry "a" listed twice`},
			{"a name again out of order", []part{{"r/b", fileType, ""}, {"r/a", fileType, ""}, {"r/b", fileType, ""}},
				`importer: r: entry "b" listed twice`},
			{"a file and a directory of one name", []part{{"r/x", fileType, ""}, {"r/y", fileType, ""}, {"r/x/z", fileType, ""}},
				`importer: r: entry "x" listed twice`},
			{"the same directory twice", []part{{"r/d/a", fileType, ""}, {"r/e", fileType, ""}, {"r/d/b", fileType, ""}},
				`importer: r: entry "d" listed twice`},
			{"256 directories deep", nested(255), ""},
			{"257 directories deep", nested(256),
				"importer: r/" + strings.Repeat("a/", 255) + "a: directories nested more than 256 deep"},
			{"16,384 directories deep", nested(1 << 14), "directories nested more than 256 deep"},
			{"a name of 1 KiB", []part{{"r/" + strings.Repeat("n", 1024), fileType, ""}}, ""},
			{"a name of 1 KiB and a byte", []part{{"r/" + strings.Repeat("n", 1025), fileType, ""}},
				`importer: r: entry name "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"… longer than 1024 bytes`},
			{"a symlink", []part{{"r/l", symlinkType, "../x"}}, ""},
			{"a part cut short", nil, "importer: r: multipart: NextPart: EOF"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b := body(t, tt.parts...)
				if tt.parts == nil {
					b = body(t, part{"r/f", fileType, "cut"})
					b = b[:len(b)-len(boundary)-8]
				}
				_, err := addBody(t, b)
				if tt.err == "" {
					require.NoError(t, err)
					return
				}
				require.ErrorContains(t, err, tt.err)
			})
		}
	})

	t.Run("bad names", func(t *testing.T) {
		// A multipart name is cleaned into a path below its directory:
		// only at the top can it name nothing, as these do. A daemon
		// importing the whole body as one directory must refuse them.
		for _, name := range []string{"", "..", "../..", "%2E%2E", "/", "a/.."} {
			_, err := AddNode(context.Background(), NullDAG(), "body", readBody(t, body(t, part{name, fileType, "x"})), Options{})
			require.EqualError(t, err, `importer: body: invalid entry name ""`, "name %q", name)
		}
		// Other nodes can carry any name.
		for _, name := range []string{"", ".", "..", "a/b", "/"} {
			_, err := AddNode(context.Background(), NullDAG(), "d", entries(files.FileEntry(name, file("x"))), Options{})
			require.EqualError(t, err, fmt.Sprintf("importer: d: invalid entry name %q", name))
		}
		_, err := AddNode(context.Background(), NullDAG(), "d", entries(files.FileEntry("a", file("1")), files.FileEntry("a", file("2"))), Options{})
		require.EqualError(t, err, `importer: d: entry "a" listed twice`)
		_, err = AddNode(context.Background(), NullDAG(), "d", entries(files.FileEntry("p", oddNode{fs.ModeNamedPipe})), Options{})
		require.EqualError(t, err, "importer: d/p: cannot import a named pipe, only files, directories and symlinks; move it out of the way")
		_, err = AddNode(context.Background(), NullDAG(), "d", entries(files.FileEntry("o", oddNode{})), Options{})
		require.EqualError(t, err, "importer: d/o: cannot import a importer.oddNode, only files, directories and symlinks")
	})

	t.Run("special files", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644))
		for _, src := range sources {
			_, err := src.add(t, NullDAG(), dir, Options{})
			require.ErrorContains(t, err, filepath.Base(dir)+"/pipe: cannot import a named pipe", src.name)
		}

		// The client finds it as it sends the directory, or at once for
		// a root.
		nd, err := PathNode(dir, false)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, files.NewMultiFileReader(files.NewMapDirectory(map[string]files.Node{"d": nd}), false, false))
		require.EqualError(t, err, "importer: "+dir+"/pipe: cannot import a named pipe, only files, directories and symlinks; move it out of the way")
		_, err = PathNode(filepath.Join(dir, "pipe"), false)
		require.ErrorContains(t, err, "pipe: cannot import a named pipe")

		sock := filepath.Join(t.TempDir(), "sock")
		l, err := net.Listen("unix", sock)
		require.NoError(t, err)
		defer l.Close()
		_, err = AddPath(context.Background(), NullDAG(), filepath.Dir(sock), Options{})
		require.ErrorContains(t, err, "/sock: cannot import a socket")
		_, err = PathNode(sock, false)
		require.ErrorContains(t, err, "sock: cannot import a socket")
	})

	t.Run("deep on disk", func(t *testing.T) {
		// The limit is the walker's, whatever the source.
		dir := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(dir, strings.Repeat("a/", 256)), 0o755))
		_, err := AddPath(context.Background(), NullDAG(), filepath.Join(dir, "a"), Options{})
		require.NoError(t, err)
		_, err = AddPath(context.Background(), NullDAG(), dir, Options{})
		require.ErrorContains(t, err, "directories nested more than 256 deep")
	})
}

// FuzzAddMultipart feeds arbitrary bytes to AddNode as a multipart body
// read back as a daemon does: errors are fine, panics and hangs are not.
func FuzzAddMultipart(f *testing.F) {
	f.Add(body(f, part{"r", dirType, ""}, part{"r/a", fileType, "hello"}, part{"r/l", symlinkType, "a"}))
	f.Add(body(f, part{"r/b", fileType, ""}, part{"r/a", fileType, ""}, part{"r/b/c", fileType, ""}))
	f.Add(body(f, part{"..", fileType, "x"}, part{"a/../../b", dirType, ""}))
	f.Add(body(f, nested(300)...))
	// What a client sends for a small tree.
	nd := files.NewMapDirectory(map[string]files.Node{
		"site": files.NewMapDirectory(map[string]files.Node{
			"index.html": file("<h1>hi</h1>"),
			".hidden":    file("secret"),
			"empty":      files.NewMapDirectory(nil),
			"link":       files.NewLinkFile("index.html", nil),
		}),
	})
	mfr := files.NewMultiFileReader(nd, false, false)
	sent, err := io.ReadAll(mfr)
	require.NoError(f, err)
	f.Add(bytes.ReplaceAll(sent, []byte(mfr.Boundary()), []byte(boundary)))

	f.Fuzz(func(t *testing.T, b []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		top, err := files.NewFileFromPartReader(multipart.NewReader(bytes.NewReader(b), boundary), dirType)
		require.NoError(t, err)
		// The whole body as one directory, and each of its entries, as a
		// daemon might take either.
		_, _ = AddNode(ctx, NullDAG(), "body", top, Options{Hidden: true})
		top, err = files.NewFileFromPartReader(multipart.NewReader(bytes.NewReader(b), boundary), dirType)
		require.NoError(t, err)
		it := top.Entries()
		for it.Next() {
			if _, err := AddNode(ctx, NullDAG(), it.Name(), it.Node(), Options{}); err != nil {
				break
			}
		}
	})
}

// BenchmarkAddSources imports the 2,000-post corpus and a 64 MiB file
// into NullDAG every way in, to show what the multipart stream costs.
func BenchmarkAddSources(b *testing.B) {
	big := filepath.Join(b.TempDir(), "big")
	f, err := os.Create(big)
	require.NoError(b, err)
	_, err = io.Copy(f, detStream(b, 64<<20))
	require.NoError(b, err)
	require.NoError(b, f.Close())
	inputs := []struct {
		name string
		p    string
	}{
		{"corpus-2000", testutil.Corpus(b, 2000, 50)},
		{"64MiB", big},
	}
	for _, in := range inputs {
		var size int64
		require.NoError(b, filepath.WalkDir(in.p, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				info, err := d.Info()
				if err != nil {
					return err
				}
				size += info.Size()
			}
			return err
		}))
		for _, src := range sources {
			b.Run(in.name+"/"+src.name, func(b *testing.B) {
				b.SetBytes(size)
				b.ReportAllocs()
				for b.Loop() {
					_, err := src.add(b, NullDAG(), in.p, Options{})
					require.NoError(b, err)
				}
			})
		}
	}
}
