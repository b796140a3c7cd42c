package repo

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/stretchr/testify/require"
)

// randomBlocks makes n raw blocks of size bytes each.
func randomBlocks(t testing.TB, n, size int) []blocks.Block {
	t.Helper()
	out := make([]blocks.Block, n)
	for i := range out {
		data := make([]byte, size)
		_, err := rand.Read(data)
		require.NoError(t, err)
		out[i] = rawBlockBytes(t, data)
	}
	return out
}

func rawBlockBytes(t testing.TB, data []byte) blocks.Block {
	t.Helper()
	c, err := cid.V1Builder{Codec: cid.Raw, MhType: 0x12}.Sum(data)
	require.NoError(t, err)
	b, err := blocks.NewBlockWithCid(data, c)
	require.NoError(t, err)
	return b
}

func requireHas(t *testing.T, bs interface {
	Has(context.Context, cid.Cid) (bool, error)
}, want bool, blks ...blocks.Block) {
	t.Helper()
	for _, b := range blks {
		has, err := bs.Has(context.Background(), b.Cid())
		require.NoError(t, err)
		require.Equal(t, want, has, "has %s", b.Cid())
	}
}

func TestStageWritesBehind(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := openTestRepo(t, dir)
	before := snap(t, r)
	// Big blocks go to files, small ones to memory: both must behave alike.
	first := append(randomBlocks(t, 3, 1<<20), randomBlocks(t, 5, 4<<10)...)
	second := randomBlocks(t, 2, 1<<20)

	st, err := r.BeginStage(ctx)
	require.NoError(t, err)
	require.NoError(t, st.PutMany(ctx, first))
	require.NoError(t, st.Put(ctx, first[0]), "a duplicate put is a no-op")
	requireHas(t, st, true, first...)
	for _, b := range first {
		got, err := st.Get(ctx, b.Cid())
		require.NoError(t, err)
		require.Equal(t, b.RawData(), got.RawData())
		n, err := st.GetSize(ctx, b.Cid())
		require.NoError(t, err)
		require.Equal(t, len(b.RawData()), n)
	}
	requireHas(t, r.Blockstore(), false, first...)
	require.Equal(t, before, snap(t, r), "nothing staged is in the store before Flush")

	moved, err := st.Flush(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, first, moved)
	requireHas(t, r.Blockstore(), true, first...)
	requireHas(t, st, true, first...)

	moved, err = st.Flush(ctx)
	require.NoError(t, err)
	require.Empty(t, moved, "a second Flush has nothing to move")

	// Close drops what was staged since the last Flush, and only that.
	require.NoError(t, st.PutMany(ctx, append([]blocks.Block{first[1]}, second...)))
	require.NoError(t, st.Close())
	require.NoError(t, st.Close(), "Close is idempotent")
	requireHas(t, r.Blockstore(), false, second...)
	requireHas(t, r.Blockstore(), true, first...)
	_, err = st.Flush(ctx)
	require.ErrorIs(t, err, ErrStageClosed)
	require.ErrorIs(t, st.Put(ctx, second[0]), ErrStageClosed)

	rep, err := r.Verify(ctx)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep)
	entries, err := os.ReadDir(filepath.Join(dir, "blocks", ".temp"))
	if err == nil {
		require.Empty(t, entries, "Close removes the staged files")
	}
}

// TestStageCrash kills a process that has flushed some blocks and staged
// others: the next Open finds the flushed ones whole, none of the others,
// and no leftovers.
func TestStageCrash(t *testing.T) {
	if dir := os.Getenv("ISLAND_STAGE_CRASH_DIR"); dir != "" {
		stageThenDie(t, dir)
		return
	}
	dir := t.TempDir()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run", "^TestStageCrash$")
	cmd.Env = append(os.Environ(), "ISLAND_STAGE_CRASH_DIR="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the child must die: %s", out.String())
	require.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal(), out.String())

	flushed := strings.Fields(readFile(t, filepath.Join(dir, "flushed")))
	staged := strings.Fields(readFile(t, filepath.Join(dir, "staged")))
	require.Len(t, flushed, 4)
	require.Len(t, staged, 4)

	r := openTestRepo(t, filepath.Join(dir, "repo"))
	for _, s := range flushed {
		c, err := cid.Decode(s)
		require.NoError(t, err)
		has, err := r.Blockstore().Has(context.Background(), c)
		require.NoError(t, err)
		require.True(t, has, "flushed %s survives", c)
	}
	for _, s := range staged {
		c, err := cid.Decode(s)
		require.NoError(t, err)
		has, err := r.Blockstore().Has(context.Background(), c)
		require.NoError(t, err)
		require.False(t, has, "unflushed %s is not in the store", c)
	}
	rep, err := r.Verify(context.Background())
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep)
	entries, err := os.ReadDir(filepath.Join(dir, "repo", "blocks", ".temp"))
	if err == nil {
		require.Empty(t, entries, "Open removes what the stage left")
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}

// stageThenDie is TestStageCrash's child.
func stageThenDie(t *testing.T, dir string) {
	ctx := context.Background()
	r, err := Open(ctx, Config{Path: filepath.Join(dir, "repo")})
	require.NoError(t, err)
	st, err := r.BeginStage(ctx)
	require.NoError(t, err)
	cids := func(bs []blocks.Block) string {
		var s []string
		for _, b := range bs {
			s = append(s, b.Cid().String())
		}
		return strings.Join(s, "\n")
	}
	flushed := append(randomBlocks(t, 2, 1<<20), randomBlocks(t, 2, 1<<10)...)
	require.NoError(t, st.PutMany(ctx, flushed))
	_, err = st.Flush(ctx)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "flushed"), []byte(cids(flushed)), 0o644))
	staged := append(randomBlocks(t, 2, 1<<20), randomBlocks(t, 2, 1<<10)...)
	require.NoError(t, st.PutMany(ctx, staged))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "staged"), []byte(cids(staged)), 0o644))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGKILL))
	select {} // SIGKILL ends the process here
}

// TestStageKeepsBlocksPutAfterCancel: a block that arrives as its fetch is
// canceled is still staged, and the Stage stays usable, so the flush that
// follows keeps it (node.TestFetchCanceledKeepsWhatArrived through a fetch).
func TestStageKeepsBlocksPutAfterCancel(t *testing.T) {
	r := openTestRepo(t, t.TempDir())
	st, err := r.BeginStage(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	// More big blocks than flatfs's batch has write slots, so a Put waits
	// for one with the canceled context.
	bs := append(randomBlocks(t, 64, 1<<20), randomBlocks(t, 4, 4<<10)...)
	for _, b := range bs {
		require.NoError(t, st.Put(canceled, b))
	}
	require.NoError(t, st.Err())
	moved, err := st.Flush(context.Background())
	require.NoError(t, err)
	require.Len(t, moved, len(bs))
	requireHas(t, r.Blockstore(), true, bs...)
}
