package repo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/importer"
)

// addBytes imports n random bytes as one file, held by the user if pin.
func addBytes(t *testing.T, r *Repo, n int, pin bool) error {
	t.Helper()
	ctx := context.Background()
	im, err := r.BeginImport(ctx)
	require.NoError(t, err)
	defer im.Close()
	c, err := importer.AddReader(ctx, im, io.LimitReader(rand.Reader, int64(n)))
	if err == nil {
		err = im.Commit(ctx)
	}
	if err == nil && pin {
		err = r.Pin(ctx, c, user, Recursive)
	}
	return err
}

// A repo with a quota collects the garbage past its watermark; once what
// it holds fills the quota, adds, CAR imports, fetches and single blocks
// fail with a *FullError, and nothing of them is left.
func TestStorageMax(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	base, err := r.Usage(ctx)
	require.NoError(t, err)
	require.Positive(t, base.MaxBytes, "a repo always has a quota")
	require.Equal(t, DefaultGCWatermark, base.GCWatermark)
	t.Logf("an empty repo uses %d bytes", base.UsedBytes)

	require.NoError(t, addBytes(t, r, 5<<20, true))
	require.NoError(t, addBytes(t, r, 2<<20, false), "unheld: a cache gc may take")
	u, err := r.Usage(ctx)
	require.NoError(t, err)
	require.Greater(t, u.UsedBytes, base.UsedBytes+7<<20)
	// Past the watermark, with room for half a MiB more.
	r.SetStorageMax(u.UsedBytes + 512<<10)
	held := u.UsedBytes - 2<<20

	res, err := r.MakeRoom(ctx, 0)
	require.NoError(t, err)
	require.NotNil(t, res, "past the watermark: a collection ran")
	require.Positive(t, res.Removed)
	u, err = r.Usage(ctx)
	require.NoError(t, err)
	require.LessOrEqual(t, u.UsedBytes, held+64<<10, "the unheld blocks are gone")
	res, err = r.MakeRoom(ctx, 0)
	require.NoError(t, err)
	require.Nil(t, res, "below the watermark: no collection")

	before := snap(t, r)
	err = addBytes(t, r, 4<<20, true)
	require.ErrorIs(t, err, ErrRepoFull)
	var full *FullError
	require.ErrorAs(t, err, &full)
	require.Contains(t, err.Error(), "--storage-max")
	require.Equal(t, before, snap(t, r), "nothing of the add is left")

	src := openTestRepo(t, t.TempDir())
	big := make([]byte, 4<<20)
	_, err = rand.Read(big)
	require.NoError(t, err)
	bigRoot := addFS(t, src, map[string]string{"big.bin": string(big)})
	_, err = r.ImportCAR(ctx, bytes.NewReader(exportCAR(t, src, bigRoot)), true)
	require.ErrorIs(t, err, ErrRepoFull)
	require.Equal(t, before, snap(t, r), "nothing of the CAR is left")

	st, err := r.BeginStage(ctx)
	require.NoError(t, err)
	for _, b := range randomBlocks(t, 4, 1<<20) {
		if err = st.Put(ctx, b); err != nil {
			break
		}
	}
	require.ErrorIs(t, err, ErrRepoFull)
	require.ErrorIs(t, st.Err(), ErrRepoFull, "the fetch reports it")
	require.NoError(t, st.Close())
	require.Equal(t, before, snap(t, r), "nothing of the fetch is left")

	for _, b := range randomBlocks(t, 4, 1<<20) {
		if err = r.Blockstore().Put(ctx, b); err != nil {
			break
		}
	}
	require.ErrorIs(t, err, ErrRepoFull, "single blocks (the gateway's) too")

	// Raising the quota makes room.
	r.SetStorageMax(base.UsedBytes + 64<<20)
	require.NoError(t, addBytes(t, r, 4<<20, true))
}

// The quota is recorded in config.json when a repo is created, as Kubo
// records StorageMax, and kept; Config.StorageMax overrides it for a run
// only; a malformed one names the file.
func TestStorageMaxInConfig(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := openTestRepo(t, dir)
	u, err := r.Usage(ctx)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	var fc fileConfig
	b, err := os.ReadFile(filepath.Join(dir, configFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &fc))
	recorded, err := ParseSize(fc.StorageMax)
	require.NoError(t, err)
	require.Equal(t, u.MaxBytes, recorded)

	r, err = Open(ctx, Config{Path: dir, StorageMax: 1 << 30})
	require.NoError(t, err)
	u, err = r.Usage(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1<<30), u.MaxBytes)
	require.NoError(t, r.Close())
	b2, err := os.ReadFile(filepath.Join(dir, configFile))
	require.NoError(t, err)
	require.Equal(t, string(b), string(b2), "a run's quota is not written")

	for _, tc := range []struct{ max, want string }{
		{"lots", "storageMax"},
		{"0", "storageMax"},
	} {
		fc.StorageMax = tc.max
		require.NoError(t, writeConfig(dir, fc))
		_, err = Open(ctx, Config{Path: dir})
		require.ErrorContains(t, err, tc.want)
		require.ErrorContains(t, err, configFile)
	}
	fc.StorageMax, fc.StorageGCWatermark = "1GB", 101
	require.NoError(t, writeConfig(dir, fc))
	_, err = Open(ctx, Config{Path: dir})
	require.ErrorContains(t, err, "storageGCWatermark")
}
