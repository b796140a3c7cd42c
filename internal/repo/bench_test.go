package repo

import (
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	ds "github.com/ipfs/go-datastore"
	flatfs "github.com/ipfs/go-ds-flatfs"
	pebbleds "github.com/ipfs/go-ds-pebble"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/testutil"
)

// benchAdd adds path to a fresh repo per iteration, as `island add` does
// (one Import, commit, durable pin), and reports MB/s of input.
func benchAdd(b *testing.B, path string, size int64) {
	ctx := context.Background()
	b.SetBytes(size)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), strconv.Itoa(i))
		b.StartTimer()
		r, err := Open(ctx, Config{Path: dir})
		require.NoError(b, err)
		im, err := r.BeginImport(ctx)
		require.NoError(b, err)
		res, err := importer.AddPath(ctx, im, path, importer.Options{})
		require.NoError(b, err)
		require.NoError(b, im.Commit(ctx))
		require.NoError(b, r.Pin(ctx, res.Root, user, Recursive))
		require.NoError(b, im.Close())
		require.NoError(b, r.Close())
		b.StopTimer()
		require.NoError(b, os.RemoveAll(dir))
		b.StartTimer()
	}
}

// BenchmarkAdd512MiB: Kubo 0.42 takes 0.92-1.25 s on this machine
// (ANCHORS.md); the target is 1.5x faster, i.e. at least ~630 MB/s here.
func BenchmarkAdd512MiB(b *testing.B) {
	const size = 512 << 20
	p := filepath.Join(b.TempDir(), "rand512")
	f, err := os.Create(p)
	require.NoError(b, err)
	_, err = io.CopyN(f, rand.Reader, size)
	require.NoError(b, err)
	// Flushed now, or its write-back competes with the timed adds for the disk.
	require.NoError(b, f.Sync())
	require.NoError(b, f.Close())
	benchAdd(b, p, size)
}

// BenchmarkAddCorpus2000: Kubo takes ~1 s (0.65 s at best); the target is
// 0.5 s or less.
func BenchmarkAddCorpus2000(b *testing.B) {
	dir := testutil.Corpus(b, 2000, 50)
	var size int64
	require.NoError(b, filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			size += info.Size()
		}
		return err
	}))
	benchAdd(b, dir, size)
}

// BenchmarkBlockWrites writes blocks durably to each candidate store, in
// one batch as an import does: 256 blocks of 1 MiB (file chunks) and 2048 of
// 8 KiB (a site's pages). The measurement behind smallBlockMax.
func BenchmarkBlockWrites(b *testing.B) {
	ctx := context.Background()
	stores := []struct {
		name string
		open func(b *testing.B, dir string) (ds.Batching, func() error)
	}{
		{"flatfs", func(b *testing.B, dir string) (ds.Batching, func() error) {
			d, err := flatfs.CreateOrOpen(dir, flatfs.NextToLast(2), true)
			require.NoError(b, err)
			return d, d.Close
		}},
		{"pebble", func(b *testing.B, dir string) (ds.Batching, func() error) {
			d, err := pebbleds.NewDatastore(dir, pebbleds.WithPebbleOpts(&pebble.Options{}))
			require.NoError(b, err)
			// Durable means the log is fsynced; closing flushes the memtable
			// as a process that exits after an add does.
			return d, func() error {
				if err := d.Sync(ctx, ds.NewKey("/")); err != nil {
					return err
				}
				return d.Close()
			}
		}},
	}
	for _, shape := range []struct {
		name    string
		n, size int
	}{{"1MiB", 256, 1 << 20}, {"8KiB", 2048, 8 << 10}} {
		data := make([]byte, shape.n*shape.size)
		_, err := rand.Read(data)
		require.NoError(b, err)
		keys := make([]ds.Key, shape.n)
		for i := range keys {
			keys[i] = ds.NewKey("CIQ" + strconv.Itoa(100000+i) + "AAAA")
		}
		for _, s := range stores {
			b.Run(shape.name+"/"+s.name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for i := 0; b.Loop(); i++ {
					d, closeFn := s.open(b, filepath.Join(b.TempDir(), strconv.Itoa(i)))
					batch, err := d.Batch(ctx)
					require.NoError(b, err)
					for j, k := range keys {
						require.NoError(b, batch.Put(ctx, k, data[j*shape.size:(j+1)*shape.size]))
					}
					require.NoError(b, batch.Commit(ctx))
					require.NoError(b, closeFn())
				}
			})
		}
	}
}
