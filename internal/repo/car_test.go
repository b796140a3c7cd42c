package repo

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"testing"

	"github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
	mh "github.com/multiformats/go-multihash"
	"github.com/stretchr/testify/require"
)

// snapshot is what must not change when an import fails.
type snapshot struct {
	Blocks []string
	Pins   []string
}

func snap(t testing.TB, r *Repo) snapshot {
	t.Helper()
	ctx := context.Background()
	var s snapshot
	ch, errFn, err := r.allKeys(ctx)
	require.NoError(t, err)
	for c := range ch {
		s.Blocks = append(s.Blocks, c.String())
	}
	require.NoError(t, errFn())
	pins, err := r.Pins(ctx)
	require.NoError(t, err)
	for _, p := range pins {
		s.Pins = append(s.Pins, fmt.Sprintf("%s %s %+v", p.CID, p.Mode, p.Holds))
	}
	sort.Strings(s.Blocks)
	sort.Strings(s.Pins)
	return s
}

// writeCAR builds a CARv1 holding exactly the given blocks.
func writeCAR(t testing.TB, roots []cid.Cid, blks ...blocks.Block) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := storage.NewWritable(&buf, roots, car.WriteAsCarV1(true), car.AllowDuplicatePuts(true))
	require.NoError(t, err)
	for _, b := range blks {
		require.NoError(t, w.Put(context.Background(), b.Cid().KeyString(), b.RawData()))
	}
	return buf.Bytes()
}

func rawBlock(t testing.TB, data string) blocks.Block {
	t.Helper()
	c, err := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: mh.SHA2_256, MhLength: -1}.Sum([]byte(data))
	require.NoError(t, err)
	b, err := blocks.NewBlockWithCid([]byte(data), c)
	require.NoError(t, err)
	return b
}

func exportCAR(t testing.TB, r *Repo, root cid.Cid) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, r.ExportCAR(context.Background(), &buf, root))
	return buf.Bytes()
}

func toV2(t testing.TB, v1 []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, car.WrapV1(bytes.NewReader(v1), &out))
	return out.Bytes()
}

func TestCARRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := openTestRepo(t, t.TempDir())
	big := make([]byte, 3<<20+17) // several chunks: a file node over raw leaves
	_, err := rand.Read(big)
	require.NoError(t, err)
	root := addFS(t, src, map[string]string{"index.html": "<h1>home</h1>", "posts/a.md": "a", "big.bin": string(big)})
	v1 := exportCAR(t, src, root)

	br, err := car.NewBlockReader(bytes.NewReader(v1))
	require.NoError(t, err)
	require.Equal(t, uint64(1), br.Version)
	require.Equal(t, []cid.Cid{root}, br.Roots)
	first, err := br.Next()
	require.NoError(t, err)
	require.Equal(t, root, first.Cid(), "depth-first: the root comes first")

	for name, data := range map[string][]byte{"v1": v1, "v2": toV2(t, v1)} {
		t.Run(name, func(t *testing.T) {
			dst := openTestRepo(t, t.TempDir())
			res, err := dst.ImportCAR(ctx, bytes.NewReader(data), true)
			require.NoError(t, err)
			require.Equal(t, []cid.Cid{root}, res.Roots)
			require.Equal(t, []Hold{{Holder: user, Mode: Recursive}}, holdsOf(t, dst, root), "roots are pinned for the user")
			require.Equal(t, snap(t, src).Blocks, snap(t, dst).Blocks)

			c, err := dst.Resolve(ctx, mustPath(t, "/ipfs/"+root.String()+"/big.bin"))
			require.NoError(t, err)
			rd, err := Cat(ctx, dst.DAG(), c)
			require.NoError(t, err)
			got, err := io.ReadAll(rd)
			require.NoError(t, err)
			require.Equal(t, big, got)

			// Importing again changes nothing and succeeds.
			before := snap(t, dst)
			_, err = dst.ImportCAR(ctx, bytes.NewReader(data), true)
			require.NoError(t, err)
			require.Equal(t, before, snap(t, dst))
		})
	}
}

func TestCARImportRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	src := openTestRepo(t, t.TempDir())
	root := addFS(t, src, map[string]string{"a.txt": "alpha", "sub/b.txt": "beta"})
	good := exportCAR(t, src, root)

	rootBlk, err := src.Blockstore().Get(ctx, root)
	require.NoError(t, err)
	leaf := rawBlock(t, "lonely leaf")
	unknown := rawBlock(t, "nobody has this").Cid()
	forged, err := blocks.NewBlockWithCid([]byte("not alpha"), leaf.Cid())
	require.NoError(t, err)

	flipped := bytes.Clone(good)
	flipped[len(flipped)-1] ^= 0xff // the last block's data

	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty file", nil, "not a CAR file"},
		{"not a CAR", []byte("<html>hello</html>"), "not a CAR file"},
		{"truncated header", good[:10], "truncated"},
		{"truncated in a block", good[:len(good)-3], "truncated"},
		{"truncated v2", toV2(t, good)[:car.PragmaSize+car.HeaderSize+len(good)-3], "truncated"},
		{"block does not match its CID", flipped, "mismatch in content integrity"},
		{"forged block", writeCAR(t, []cid.Cid{leaf.Cid()}, forged), "block #0"},
		{"unknown root", writeCAR(t, []cid.Cid{unknown}, leaf), "neither in the CAR nor in the repo"},
		{"incomplete DAG", writeCAR(t, []cid.Cid{root}, rootBlk), "neither in the CAR nor in the repo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := openTestRepo(t, t.TempDir())
			keep := addFS(t, dst, map[string]string{"mine.txt": "already here"})
			before := snap(t, dst)
			_, err := dst.ImportCAR(ctx, bytes.NewReader(tt.data), true)
			require.ErrorContains(t, err, tt.want)
			require.Equal(t, before, snap(t, dst), "nothing imported, nothing pinned")
			rep, err := dst.Verify(ctx)
			require.NoError(t, err)
			require.True(t, rep.OK())
			require.Equal(t, Recursive, pinMode(t, dst, keep))
		})
	}
}

func TestCARImportCompletesFromRepo(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	root := addFS(t, r, map[string]string{"a.txt": "alpha"})
	rootBlk, err := r.Blockstore().Get(ctx, root)
	require.NoError(t, err)
	// A CAR with only the root block is complete here: a.txt is in the repo.
	res, err := r.ImportCAR(ctx, bytes.NewReader(writeCAR(t, []cid.Cid{root}, rootBlk)), true)
	require.NoError(t, err)
	require.Equal(t, []cid.Cid{root}, res.Roots)
}

// Without pinning the roots (Kubo's --pin-roots=false) a CAR whose DAG is
// incomplete imports: every block checked, nothing pinned, gc's to take.
// A block that does not match its CID still fails the whole import.
func TestCARImportWithoutPinningRoots(t *testing.T) {
	ctx := context.Background()
	src := openTestRepo(t, t.TempDir())
	root := addFS(t, src, map[string]string{"a.txt": "alpha", "b.txt": "beta"})
	rootBlk, err := src.Blockstore().Get(ctx, root)
	require.NoError(t, err)
	a, err := src.Resolve(ctx, mustPath(t, "/ipfs/"+root.String()+"/a.txt"))
	require.NoError(t, err)
	aBlk, err := src.Blockstore().Get(ctx, a)
	require.NoError(t, err)
	data := writeCAR(t, []cid.Cid{root}, rootBlk, aBlk) // b.txt is missing

	r := openTestRepo(t, t.TempDir())
	_, err = r.ImportCAR(ctx, bytes.NewReader(data), true)
	require.ErrorContains(t, err, "neither in the CAR nor in the repo", "pinned, the DAG must be complete")
	res, err := r.ImportCAR(ctx, bytes.NewReader(data), false)
	require.NoError(t, err)
	require.Equal(t, []cid.Cid{root}, res.Roots)
	require.Equal(t, 2, res.Blocks)
	for _, c := range []cid.Cid{root, a} {
		ok, err := r.Blockstore().Has(ctx, c)
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.Empty(t, holdsOf(t, r, root), "nothing pinned")

	badBlk, err := blocks.NewBlockWithCid([]byte("tampered"), a)
	require.NoError(t, err)
	bad := writeCAR(t, []cid.Cid{root}, badBlk)
	_, err = r.ImportCAR(ctx, bytes.NewReader(bad), false)
	require.Error(t, err, "every hash is checked")
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestCARExportErrors(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	big := make([]byte, 2<<20)
	_, err := rand.Read(big)
	require.NoError(t, err)
	root := addFS(t, r, map[string]string{"big": string(big), "small": "x"})

	err = r.ExportCAR(ctx, &failingWriter{n: 1 << 20}, root)
	require.ErrorContains(t, err, "disk full")

	unknown := merkledag.NodeWithData([]byte("never stored")).Cid()
	err = r.ExportCAR(ctx, io.Discard, unknown)
	require.ErrorContains(t, err, "is not in the repo")
}

func FuzzCARImport(f *testing.F) {
	r, err := Open(context.Background(), Config{Path: f.TempDir()})
	require.NoError(f, err)
	f.Cleanup(func() { r.Close() })

	// seeds: a good CAR (v1 and v2) and the kinds of damage the test above covers
	src, err := Open(context.Background(), Config{Path: f.TempDir()})
	require.NoError(f, err)
	res := addFS(f, src, map[string]string{"a.txt": "alpha", "d/b.txt": "beta"})
	good := exportCAR(f, src, res)
	require.NoError(f, src.Close())
	f.Add(good)
	f.Add(toV2(f, good))
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	leaf := rawBlock(f, "leaf")
	f.Add(writeCAR(f, []cid.Cid{leaf.Cid()}, leaf))
	f.Add(writeCAR(f, nil))

	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		before := snap(t, r)
		res, err := r.ImportCAR(ctx, bytes.NewReader(data), true)
		if err != nil {
			require.Equal(t, before, snap(t, r), "a rejected CAR leaves no trace: %v", err)
			return
		}
		for _, c := range res.Roots {
			require.Equal(t, Recursive, pinMode(t, r, c))
		}
		rep, err := r.Verify(ctx)
		require.NoError(t, err)
		require.True(t, rep.OK(), "%+v", rep)
	})
}

// TestWriteCARFromReadBlock checks that the CAR written through the repo's
// ReadBlock (reused buffers) is the one written through Blockstore().Get,
// block for block, and that it does not allocate a buffer per block.
func TestWriteCARFromReadBlock(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	big := make([]byte, 32<<20+5) // 32 chunks in flatfs, a small tail in pebble
	_, err := rand.Read(big)
	require.NoError(t, err)
	// The same file twice: with dups its blocks come twice, buffers reused.
	root := addFS(t, r, map[string]string{"a/big.bin": string(big), "b/big.bin": string(big), "small.txt": "small"})

	for _, dups := range []bool{false, true} {
		t.Run(fmt.Sprintf("dups=%v", dups), func(t *testing.T) {
			var want, got bytes.Buffer
			require.NoError(t, WriteCAR(ctx, &want, r.Blockstore(), root, dups))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			require.NoError(t, WriteCARFrom(ctx, io.Discard, r.ReadBlock, root, dups))
			runtime.ReadMemStats(&after)
			require.NoError(t, WriteCARFrom(ctx, &got, r.ReadBlock, root, dups))
			require.True(t, bytes.Equal(want.Bytes(), got.Bytes()), "the CARs differ")
			copies := 1
			if dups {
				copies = 2
			}
			require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(copies*len(big)/2),
				"%d MiB allocated to write %d MiB of blocks", (after.TotalAlloc-before.TotalAlloc)>>20, copies*len(big)>>20)
		})
	}
}
