package repo

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"testing/fstest"

	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	crypto_pb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/testutil"
)

func openTestRepo(t *testing.T, dir string) *Repo {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Path = dir
	r, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}

// addFS imports a small tree into r, pins it for the user, and returns
// its root.
func addFS(t testing.TB, r *Repo, files map[string]string) cid.Cid {
	t.Helper()
	root := importFS(t, r, files)
	require.NoError(t, r.Pin(context.Background(), root, user, Recursive))
	return root
}

// importFS imports a small tree into r, unpinned, and returns its root.
func importFS(t testing.TB, r *Repo, files map[string]string) cid.Cid {
	t.Helper()
	ctx := context.Background()
	m := fstest.MapFS{}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data), Mode: 0o644}
	}
	im, err := r.BeginImport(ctx)
	require.NoError(t, err)
	defer im.Close()
	res, err := importer.AddFS(ctx, im, m, ".", importer.Options{})
	require.NoError(t, err)
	require.NoError(t, im.Commit(ctx))
	return res.Root
}

// storedBlocks lists every block in r, sorted.
func storedBlocks(t *testing.T, r *Repo) []string {
	t.Helper()
	ch, errFn, err := r.allKeys(context.Background())
	require.NoError(t, err)
	var out []string
	for c := range ch {
		out = append(out, c.String())
	}
	require.NoError(t, errFn())
	sort.Strings(out)
	return out
}

func TestOpenCreatesRepo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "island")
	cfg := Config{Path: dir}
	r, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	id := r.PeerID()
	require.Equal(t, crypto_pb.KeyType_Ed25519, r.Identity().Type())
	require.Equal(t, dir, r.Path())
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close is idempotent")

	mode := func(p string) fs.FileMode {
		st, err := os.Stat(p)
		require.NoError(t, err)
		return st.Mode().Perm()
	}
	require.Equal(t, fs.FileMode(0o700), mode(dir))
	require.Equal(t, fs.FileMode(0o700), mode(filepath.Join(dir, "keystore")))
	require.Equal(t, fs.FileMode(0o600), mode(filepath.Join(dir, "keystore", SelfKey)))
	require.Equal(t, fs.FileMode(0o600), mode(filepath.Join(dir, "config.json")))

	var fc fileConfig
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &fc))
	require.NotEmpty(t, fc.StorageMax, "the quota is recorded")
	require.Equal(t, fileConfig{Version: 1, PeerID: id.String(), Datastore: KindFlatfs, StorageMax: fc.StorageMax}, fc)

	// Reopening keeps the identity.
	r2, err := Open(context.Background(), Config{Path: dir})
	require.NoError(t, err)
	defer r2.Close()
	require.Equal(t, id, r2.PeerID())
}

func TestLockKeepsSecondOpenerOut(t *testing.T) {
	dir := t.TempDir()
	r := openTestRepo(t, dir)
	_, err := Open(context.Background(), Config{Path: dir})
	var le *LockedError
	require.ErrorAs(t, err, &le)
	require.Equal(t, os.Getpid(), le.PID)
	require.EqualError(t, err, "repo: "+dir+" is in use by pid "+itoa(os.Getpid())+" (a daemon? stop it or use its API)")

	require.NoError(t, r.Close())
	r2, err := Open(context.Background(), Config{Path: dir})
	require.NoError(t, err, "the lock is released on Close")
	require.NoError(t, r2.Close())
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestOpenRefusesOtherDirectories(t *testing.T) {
	tests := []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"foreign files", func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "thesis.tex"), []byte("x"), 0o644))
		}, `not an island repo (it holds "thesis.tex"`},
		{"broken config", func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte("{"), 0o600))
		}, "config.json is not valid JSON"},
		{"future version", func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"version":7,"datastore":"flatfs"}`), 0o600))
		}, "has version 7"},
		{"lost identity", func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"version":1,"peerID":"x","datastore":"flatfs"}`), 0o600))
		}, "has no identity key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(dir)
			_, err := Open(context.Background(), Config{Path: dir})
			require.ErrorContains(t, err, tt.want)
			// and the lock was released on the way out
			lf, err := lock(dir)
			require.NoError(t, err)
			require.NoError(t, unlock(lf))
		})
	}
}

func TestResolvePath(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvPath {
				return v
			}
			return ""
		}
	}
	home, err := os.UserHomeDir()
	require.NoError(t, err)
	tests := []struct {
		flag, env, want string
	}{
		{"/flag", "/env", "/flag"},
		{"", "/env", "/env"},
		{"", "", filepath.Join(home, ".island")},
	}
	for _, tt := range tests {
		got, err := ResolvePath(tt.flag, env(tt.env))
		require.NoError(t, err)
		require.Equal(t, tt.want, got)
	}
}

func TestKeystore(t *testing.T) {
	r := openTestRepo(t, t.TempDir())
	ks := r.Keys()
	k, err := ks.Generate("blog")
	require.NoError(t, err)
	got, err := ks.Get("blog")
	require.NoError(t, err)
	require.True(t, k.Equals(got))
	require.Equal(t, crypto_pb.KeyType_Ed25519, got.Type())

	_, err = ks.Generate("blog")
	require.ErrorIs(t, err, ErrKeyExists, "keys are never overwritten")
	_, err = ks.Get("nope")
	require.ErrorIs(t, err, ErrNoSuchKey)
	for _, bad := range []string{"", ".hidden", "../escape", "a/b", "-flag"} {
		_, err := ks.Generate(bad)
		require.ErrorContains(t, err, "key name", bad)
	}
	names, err := ks.List()
	require.NoError(t, err)
	require.Equal(t, []string{"blog", SelfKey}, names)

	st, err := os.Stat(filepath.Join(r.Path(), "keystore", "blog"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), st.Mode().Perm())

	require.ErrorContains(t, ks.Delete(SelfKey), "identity")
	require.NoError(t, ks.Delete("blog"))
	require.ErrorIs(t, ks.Delete("blog"), ErrNoSuchKey)
	has, err := ks.Has("blog")
	require.NoError(t, err)
	require.False(t, has)
}

func TestGC(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	kept := addFS(t, r, map[string]string{"a.txt": "kept", "shared.txt": "shared"})
	gone := addFS(t, r, map[string]string{"b.txt": "garbage", "shared.txt": "shared"})
	site := addFS(t, r, map[string]string{"index.html": "current site"})
	direct := addFS(t, r, map[string]string{"d/x.txt": "only the root block stays"})
	for _, c := range []cid.Cid{gone, site, direct} {
		require.NoError(t, r.Unpin(ctx, c, user))
	}
	require.NoError(t, r.Pin(ctx, direct, user, Direct))
	// A directly pinned block inside a registered root's DAG: its children
	// must still be kept through the root.
	followed := addFS(t, r, map[string]string{"blog/post.md": "followed"})
	require.NoError(t, r.Unpin(ctx, followed, user))
	blog, err := r.Resolve(ctx, mustPath(t, followed.String()+"/blog"))
	require.NoError(t, err)
	require.NoError(t, r.Pin(ctx, blog, user, Direct))
	r.RegisterRoots("site", func(context.Context) ([]cid.Cid, error) { return []cid.Cid{site}, nil })
	r.RegisterRoots("follows", func(context.Context) ([]cid.Cid, error) { return []cid.Cid{followed}, nil })

	before := len(storedBlocks(t, r))
	res, err := r.GC(ctx)
	require.NoError(t, err)
	// gone's root and b.txt; d/ and d/x.txt under the direct pin
	require.Equal(t, 4, res.Removed)
	require.Equal(t, before-4, res.Kept)
	require.Positive(t, res.FreedBytes)

	has := func(p string) bool {
		c, err := r.Resolve(ctx, mustPath(t, p))
		if err != nil {
			return false
		}
		ok, err := r.Blockstore().Has(ctx, c)
		require.NoError(t, err)
		return ok
	}
	require.True(t, has(kept.String()+"/a.txt"))
	require.True(t, has(kept.String()+"/shared.txt"))
	require.True(t, has(site.String()+"/index.html"), "registered roots are kept")
	require.True(t, has(followed.String()+"/blog/post.md"), "a direct pin does not cut a root's DAG short")
	ok, err := r.Blockstore().Has(ctx, gone)
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = r.Blockstore().Has(ctx, direct)
	require.NoError(t, err)
	require.True(t, ok, "a direct pin keeps its block")

	res, err = r.GC(ctx)
	require.NoError(t, err)
	require.Zero(t, res.Removed, "a second run finds nothing")
	rep, err := r.Verify(ctx)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep)
}

func mustPath(t *testing.T, s string) path.Path {
	t.Helper()
	p, err := ParsePath(s)
	require.NoError(t, err)
	return p
}

func TestGCStopsOnIncompletePinnedDAG(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	root := addFS(t, r, map[string]string{"sub/a.txt": "a", "sub/b.txt": "b"})
	garbage := addFS(t, r, map[string]string{"junk": "junk"})
	require.NoError(t, r.Unpin(ctx, garbage, user))
	sub, err := r.Resolve(ctx, mustPath(t, root.String()+"/sub"))
	require.NoError(t, err)
	require.NoError(t, r.Blockstore().DeleteBlock(ctx, sub))
	before := storedBlocks(t, r)

	_, err = r.GC(ctx)
	var me *MissingRootError
	require.ErrorAs(t, err, &me)
	require.Equal(t, root, me.Root)
	require.ErrorContains(t, err, "nothing was removed")
	require.Equal(t, before, storedBlocks(t, r), "a.txt and b.txt are only reachable through the missing block: they must stay")

	r.RegisterRoots("broken", func(context.Context) ([]cid.Cid, error) { return nil, errors.New("boom") })
	require.NoError(t, r.Unpin(ctx, root, user))
	_, err = r.GC(ctx)
	require.ErrorContains(t, err, `roots "broken": boom`)
	require.Equal(t, before, storedBlocks(t, r))
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	root := addFS(t, r, map[string]string{"a.txt": "alpha", "b.txt": "beta", "c.txt": "gamma"})
	rep, err := r.Verify(ctx)
	require.NoError(t, err)
	require.True(t, rep.OK())
	require.Equal(t, 4, rep.Blocks)

	a, err := r.Resolve(ctx, mustPath(t, root.String()+"/a.txt"))
	require.NoError(t, err)
	b, err := r.Resolve(ctx, mustPath(t, root.String()+"/b.txt"))
	require.NoError(t, err)
	// Damage a behind the blockstore's back, lose b.
	require.NoError(t, r.Datastore().Put(ctx, blockKey(a), []byte("tampered")))
	require.NoError(t, r.Blockstore().DeleteBlock(ctx, b))

	rep, err = r.Verify(ctx)
	require.NoError(t, err)
	require.False(t, rep.OK())
	require.Equal(t, 3, rep.Blocks)
	require.Len(t, rep.Corrupt, 1)
	require.Equal(t, a.Hash(), rep.Corrupt[0].Hash())
	require.Equal(t, []MissingBlock{{Pin: root, Block: b}}, rep.Missing)
}

func TestHashOnRead(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := openTestRepo(t, dir)
	root := addFS(t, r, map[string]string{"a.txt": "alpha"})
	a, err := r.Resolve(ctx, mustPath(t, root.String()+"/a.txt"))
	require.NoError(t, err)
	require.NoError(t, r.Datastore().Put(ctx, blockKey(a), []byte("tampered")))
	require.NoError(t, r.Close())

	r2, err := Open(ctx, Config{Path: dir, HashOnRead: true})
	require.NoError(t, err)
	defer r2.Close()
	_, err = r2.Blockstore().Get(ctx, a)
	require.Error(t, err)
	require.ErrorContains(t, err, "different hash")
}

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.CleanupCorpora()
	os.Exit(code)
}

// A fetch in flight Protects its root: gc keeps what has arrived of the
// DAG, missing blocks and all, without failing, and sweeps it once the
// fetch lets go unpinned.
func TestGCKeepsAProtectedPartialDAG(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	root := addFS(t, r, map[string]string{"a.txt": "arrived", "b.txt": "still on the way"})
	require.NoError(t, r.Unpin(ctx, root, user))
	a, err := r.Resolve(ctx, mustPath(t, root.String()+"/a.txt"))
	require.NoError(t, err)
	b, err := r.Resolve(ctx, mustPath(t, root.String()+"/b.txt"))
	require.NoError(t, err)
	require.NoError(t, r.Blockstore().DeleteBlock(ctx, b))

	release := r.Protect(root)
	res, err := r.GC(ctx)
	require.NoError(t, err, "a protected DAG may be incomplete")
	require.Zero(t, res.Removed)
	for _, c := range []cid.Cid{root, a} {
		ok, err := r.Blockstore().Has(ctx, c)
		require.NoError(t, err)
		require.True(t, ok, "%s arrived and is kept", c)
	}
	release()
	release() // idempotent
	res, err = r.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, res.Removed, "released and held by nobody")
}
