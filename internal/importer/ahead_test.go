package importer

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	"github.com/ipfs/go-cid"
	"github.com/stretchr/testify/require"
)

// plainFile is importFile without hashing ahead: boxo's own path.
func plainFile(t *testing.T, r io.Reader) cid.Cid {
	t.Helper()
	dag, _ := memDAG(t)
	params := helpers.DagBuilderParams{
		Maxlinks:   profile.FileDAGWidth,
		RawLeaves:  profile.RawLeaves,
		CidBuilder: profile.CidBuilder(),
		Dagserv:    dag,
	}
	db, err := params.New(chunker.NewSizeSplitter(r, profile.ChunkSize))
	require.NoError(t, err)
	nd, err := balanced.Layout(db)
	require.NoError(t, err)
	return nd.Cid()
}

// The 100 MiB vector (TestVectors) covers a longer file.
func TestHashAheadSameCIDs(t *testing.T) {
	chunk := int64(profile.ChunkSize)
	for _, size := range []int64{0, 1, chunk, chunk + 1, 3*chunk + 5} {
		data, err := io.ReadAll(detStream(t, size))
		require.NoError(t, err)
		want := plainFile(t, bytes.NewReader(data))
		dag, bs := memDAG(t)
		nd, err := importFile(dag, bytes.NewReader(data))
		require.NoError(t, err, "size %d", size)
		require.Equal(t, want, nd.Cid(), "size %d", size)
		// Every leaf stored is the block of its bytes.
		keys, err := bs.AllKeysChan(t.Context())
		require.NoError(t, err)
		for c := range keys {
			b, err := bs.Get(t.Context(), c)
			require.NoError(t, err)
			got, err := c.Prefix().Sum(b.RawData())
			require.NoError(t, err)
			require.Equal(t, c, got, "size %d: block %s holds other bytes", size, c)
		}
	}
}

// A chunk the builder is asked about that is not the one handed out last
// (same bytes elsewhere in memory, or another codec) is hashed afresh.
func TestHashAheadBuilderChecksTheChunk(t *testing.T) {
	data, err := io.ReadAll(detStream(t, 2*int64(profile.ChunkSize)))
	require.NoError(t, err)
	spl, b, stop := hashAhead(chunker.NewSizeSplitter(bytes.NewReader(data), profile.ChunkSize), profile.ChunkSize, profile.CidBuilder())
	defer stop()
	first, err := spl.NextBytes()
	require.NoError(t, err)
	second, err := spl.NextBytes()
	require.NoError(t, err)
	raw := b.WithCodec(cid.Raw)
	for _, tc := range []struct {
		name    string
		builder cid.Builder
		data    []byte
	}{
		{"the chunk just handed out", raw, second},
		{"an earlier chunk", raw, first},
		{"a copy of the chunk", raw, bytes.Clone(second)},
		{"a prefix of the chunk", raw, second[:10]},
		{"another codec", b, second},
	} {
		want, err := tc.builder.(aheadBuilder).Builder.Sum(tc.data)
		require.NoError(t, err, tc.name)
		got, err := tc.builder.Sum(tc.data)
		require.NoError(t, err, tc.name)
		require.Equal(t, want, got, tc.name)
	}
}

func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

type failingReader struct {
	r     io.Reader
	after int
}

var errDisk = errors.New("disk on fire")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errDisk
	}
	p = p[:min(len(p), f.after)]
	n, err := f.r.Read(p)
	f.after -= n
	return n, err
}

func TestHashAheadReadErrorAndStop(t *testing.T) {
	before := runtime.NumGoroutine()
	dag, _ := memDAG(t)
	_, err := importFile(dag, &failingReader{r: detStream(t, 100<<20), after: int(5*profile.ChunkSize + 3)})
	require.ErrorIs(t, err, errDisk)

	// A layout that stops early (an error of its own) stops the reading
	// ahead, which was blocked on a full queue.
	spl, _, stop := hashAhead(chunker.NewSizeSplitter(detStream(t, 100<<20), profile.ChunkSize), profile.ChunkSize, profile.CidBuilder())
	_, err = spl.NextBytes()
	require.NoError(t, err)
	stop()
	stop() // idempotent
	// Not require.Eventually: it checks from a goroutine of its own.
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines left behind: %s", stacks())
}
