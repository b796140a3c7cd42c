// Package coretest is the one test suite every implementation of core.API
// must pass: the in-process Core (internal/core) and the daemon's HTTP
// client (internal/api) run it alike, which is how "through the daemon or
// not, the result is the same" is checked rather than assumed. It covers
// what works without a network; the multi-node behaviour is tested with real
// daemons in internal/cli and internal/daemon.
package coretest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"
)

// Open returns a fresh API over a new, empty repo, closed by the test.
type Open func(t *testing.T) core.API

// OpenCore opens an offline Core on a fresh repo, closed by the test, and
// returns it with the repo's directory.
func OpenCore(t *testing.T) (*core.Core, string) {
	t.Helper()
	cfg := core.DefaultConfig()
	cfg.RepoPath = t.TempDir()
	c, err := core.Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c, cfg.RepoPath
}

// Run runs the suite against the API open returns; each test gets its own.
func Run(t *testing.T, open Open) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, core.API)
	}{
		{"content", testContent},
		{"errors", testErrors},
		{"pins have holders", testHolders},
		{"dag export and import", testDag},
		{"site", testSite},
		{"site changed against a base", testSiteChange},
		{"names", testNames},
		{"routing", testRouting},
		{"keys", testKeys},
		{"follows", testFollows},
		{"remote services", testRemoteServices},
		{"node", testNode},
		{"repo stat", testRepoStat},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open(t)) })
	}
}

// tree is a small directory to add: two files and a subdirectory.
func tree() map[string]string {
	return map[string]string{
		"hello.txt":     "hello, island\n",
		"sub/deep.txt":  strings.Repeat("deep ", 1000),
		"sub/empty.txt": "",
	}
}

// dir builds a files.Directory of files (slash paths to content).
func dir(fs map[string]string) files.Directory {
	type node = map[string]any
	top := node{}
	for p, content := range fs {
		parts := strings.Split(p, "/")
		cur := top
		for _, d := range parts[:len(parts)-1] {
			sub, ok := cur[d].(node)
			if !ok {
				sub = node{}
				cur[d] = sub
			}
			cur = sub
		}
		cur[parts[len(parts)-1]] = content
	}
	var build func(node) files.Directory
	build = func(n node) files.Directory {
		m := map[string]files.Node{}
		for k, v := range n {
			switch v := v.(type) {
			case node:
				m[k] = build(v)
			case string:
				m[k] = files.NewBytesFile([]byte(v))
			}
		}
		return files.NewMapDirectory(m)
	}
	return build(top)
}

// toDir is a directory of the given nodes.
func toDir(m map[string]files.Node) files.Directory { return files.NewMapDirectory(m) }

// roots wraps entries as an AddRequest's top-level roots.
func roots(entries map[string]files.Node) files.Directory {
	return files.NewMapDirectory(entries)
}

func requireCode(t *testing.T, want core.Code, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, core.ErrorCode(err), "error: %v", err)
}

func add(t *testing.T, a core.API, name string, nd files.Node) core.AddedRoot {
	t.Helper()
	res, err := a.Add(context.Background(), core.AddRequest{Files: roots(map[string]files.Node{name: nd})})
	require.NoError(t, err)
	require.Len(t, res.Roots, 1)
	return res.Roots[0]
}

func cat(t *testing.T, a core.API, p string) (string, error) {
	t.Helper()
	rc, err := a.Cat(context.Background(), core.PathRequest{Path: p})
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

func testContent(t *testing.T, a core.API) {
	ctx := context.Background()
	want, err := core.Hash(ctx, core.AddRequest{Files: roots(map[string]files.Node{"site": dir(tree())})})
	require.NoError(t, err)
	root := add(t, a, "site", dir(tree()))
	require.Equal(t, want.Roots[0], root, "Add stores what Hash computes")
	require.Equal(t, "site", root.Entries[len(root.Entries)-1].Path, "the root comes last")

	got, err := cat(t, a, root.CID+"/hello.txt")
	require.NoError(t, err)
	require.Equal(t, "hello, island\n", got)
	got, err = cat(t, a, "/ipfs/"+root.CID+"/sub/deep.txt")
	require.NoError(t, err)
	require.Equal(t, tree()["sub/deep.txt"], got)

	ls, err := a.Ls(ctx, core.PathRequest{Path: root.CID})
	require.NoError(t, err)
	require.Len(t, ls, 2)
	require.Equal(t, "hello.txt", ls[0].Name)
	require.Equal(t, "file", ls[0].Type)
	require.Equal(t, uint64(len("hello, island\n")), ls[0].Size)
	require.Equal(t, "sub", ls[1].Name)
	require.Equal(t, "directory", ls[1].Type)

	f, err := a.Fetch(ctx, core.FetchRequest{Path: root.CID + "/sub"})
	require.NoError(t, err)
	require.Equal(t, ls[1].CID, f.CID)

	tr, err := a.Get(ctx, core.PathRequest{Path: root.CID})
	require.NoError(t, err)
	require.Equal(t, root.CID, tr.CID)
	out := filepath.Join(t.TempDir(), "out")
	require.NoError(t, files.WriteTo(tr.Node, out))
	require.NoError(t, tr.Node.Close())
	for p, content := range tree() {
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(p)))
		require.NoError(t, err)
		require.Equal(t, content, string(b), p)
	}

	var progressed int64
	res, err := a.Add(ctx, core.AddRequest{
		Files:    roots(map[string]files.Node{"big.bin": files.NewBytesFile(bytes.Repeat([]byte{7}, 3<<20))}),
		Progress: func(n int64) { progressed += n },
	})
	require.NoError(t, err)
	require.Len(t, res.Roots, 1)
	require.Equal(t, int64(3<<20), progressed, "progress counts every byte read")

	hidden := roots(map[string]files.Node{"h": toDir(map[string]files.Node{".secret": files.NewBytesFile([]byte("x")), "shown": files.NewBytesFile([]byte("y"))})})
	res, err = a.Add(ctx, core.AddRequest{Files: hidden})
	require.NoError(t, err)
	ls, err = a.Ls(ctx, core.PathRequest{Path: res.Roots[0].CID})
	require.NoError(t, err)
	require.Len(t, ls, 1, "hidden files are skipped unless asked for")
	hidden = roots(map[string]files.Node{"h": toDir(map[string]files.Node{".secret": files.NewBytesFile([]byte("x")), "shown": files.NewBytesFile([]byte("y"))})})
	res, err = a.Add(ctx, core.AddRequest{Files: hidden, Hidden: true})
	require.NoError(t, err)
	ls, err = a.Ls(ctx, core.PathRequest{Path: res.Roots[0].CID})
	require.NoError(t, err)
	require.Len(t, ls, 2)
}

func testErrors(t *testing.T, a core.API) {
	ctx := context.Background()
	_, err := a.Cat(ctx, core.PathRequest{Path: "not-a-cid"})
	requireCode(t, core.CodeInvalid, err)
	require.Contains(t, err.Error(), "cat: ")
	unknown := "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
	_, err = cat(t, a, unknown)
	requireCode(t, core.CodeNotFound, err)
	_, err = a.Ls(ctx, core.PathRequest{Path: "/ipns/no.such.domain.example"})
	require.Error(t, err)
	_, err = a.PinRm(ctx, core.PathRequest{Path: unknown})
	requireCode(t, core.CodeNotFound, err)
	_, err = a.PinLs(ctx, core.PinLsRequest{Type: "sideways"})
	requireCode(t, core.CodeInvalid, err)
	_, err = a.Add(ctx, core.AddRequest{Files: roots(map[string]files.Node{})})
	requireCode(t, core.CodeInvalid, err)
	_, err = a.DagImport(ctx, core.DagImportRequest{CAR: strings.NewReader("not a CAR")})
	requireCode(t, core.CodeRefused, err)
	_, err = a.Rollback(ctx, core.RollbackRequest{})
	requireCode(t, core.CodeNotFound, err)
}

func pinOf(t *testing.T, a core.API, c string) *core.Pin {
	t.Helper()
	pins, err := a.PinLs(context.Background(), core.PinLsRequest{})
	require.NoError(t, err)
	for _, p := range pins {
		if p.CID == c {
			return &p
		}
	}
	return nil
}

func testHolders(t *testing.T, a core.API) {
	ctx := context.Background()
	site := map[string]string{"index.html": "<h1>hi</h1>\n"}
	pub, err := a.Publish(ctx, core.PublishRequest{Site: dir(site)})
	require.NoError(t, err)
	// The user adds the very same tree: one CID, two holders.
	root := add(t, a, "whatever", dir(site))
	require.Equal(t, pub.CID, root.CID)
	p := pinOf(t, a, root.CID)
	require.NotNil(t, p)
	require.Equal(t, "recursive", p.Type)
	var kinds []string
	for _, h := range p.Holders {
		kinds = append(kinds, h.Kind)
		if h.Kind == "site" {
			require.Equal(t, pub.Name, h.ID)
		}
	}
	require.ElementsMatch(t, []string{"site", "user"}, kinds)

	rm, err := a.PinRm(ctx, core.PathRequest{Path: root.CID})
	require.NoError(t, err)
	require.False(t, rm.Removed, "the site still holds it")
	require.Len(t, rm.HeldBy, 1)
	require.Equal(t, "site", rm.HeldBy[0].Kind)
	_, err = a.GC(ctx)
	require.NoError(t, err)
	got, err := cat(t, a, root.CID+"/index.html")
	require.NoError(t, err, "what the site holds survives the user's pin rm and gc")
	require.Equal(t, site["index.html"], got)
	_, err = a.PinRm(ctx, core.PathRequest{Path: root.CID})
	requireCode(t, core.CodeNotFound, err)
	require.Contains(t, err.Error(), "the site "+pub.Name)

	// Only the user's own content goes when the user lets go of it.
	mine := add(t, a, "mine.txt", files.NewBytesFile([]byte("mine\n")))
	pinned, err := a.PinAdd(ctx, core.PinAddRequest{Path: mine.CID, Recursive: true})
	require.NoError(t, err, "pinning again is fine")
	require.Equal(t, core.PinAdded{CID: mine.CID, Type: "recursive"}, pinned)
	rm, err = a.PinRm(ctx, core.PathRequest{Path: mine.CID})
	require.NoError(t, err)
	require.True(t, rm.Removed)
	gc, err := a.GC(ctx)
	require.NoError(t, err)
	require.Positive(t, gc.Removed)
	_, err = cat(t, a, mine.CID)
	requireCode(t, core.CodeNotFound, err)

	rep, err := a.RepoVerify(ctx)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep)
	require.Positive(t, rep.Blocks)
}

func testDag(t *testing.T, a core.API) {
	ctx := context.Background()
	root := add(t, a, "site", dir(tree()))
	rc, err := a.DagExport(ctx, core.PathRequest{Path: root.CID})
	require.NoError(t, err)
	car, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	_, err = a.PinRm(ctx, core.PathRequest{Path: root.CID})
	require.NoError(t, err)
	_, err = a.GC(ctx)
	require.NoError(t, err)
	_, err = cat(t, a, root.CID+"/hello.txt")
	requireCode(t, core.CodeNotFound, err)

	imp, err := a.DagImport(ctx, core.DagImportRequest{CAR: bytes.NewReader(car)})
	require.NoError(t, err)
	require.Equal(t, []string{root.CID}, imp.Roots)
	got, err := cat(t, a, root.CID+"/hello.txt")
	require.NoError(t, err)
	require.Equal(t, "hello, island\n", got)
	p := pinOf(t, a, root.CID)
	require.NotNil(t, p, "dag import pins its roots")
	require.Equal(t, "user", p.Holders[0].Kind)
}

func testSite(t *testing.T, a core.API) {
	ctx := context.Background()
	v1, err := a.Publish(ctx, core.PublishRequest{Site: dir(map[string]string{"index.html": "one"})})
	require.NoError(t, err)
	require.Equal(t, 1, v1.Version)
	require.False(t, v1.Unchanged)
	require.True(t, strings.HasPrefix(v1.Name, "k51"), v1.Name)
	require.Contains(t, v1.URLs, "http://127.0.0.1:8080/ipfs/"+v1.CID+"/")
	require.False(t, v1.Retrievable.Checked)

	same, err := a.Publish(ctx, core.PublishRequest{Site: dir(map[string]string{"index.html": "one"})})
	require.NoError(t, err)
	require.True(t, same.Unchanged)
	require.Equal(t, v1.CID, same.CID)
	require.Equal(t, 1, same.Version)

	v2, err := a.Publish(ctx, core.PublishRequest{Site: dir(map[string]string{"index.html": "two", "about/index.html": "about"}), Check: true})
	require.NoError(t, err)
	require.Equal(t, 2, v2.Version)
	require.Greater(t, v2.Seq, v1.Seq)
	require.False(t, v2.Retrievable.Checked, "offline nothing is checked")
	require.NotEmpty(t, v2.Retrievable.Reason)

	h, err := a.History(ctx, core.HistoryRequest{})
	require.NoError(t, err)
	require.Equal(t, v1.Name, h.Name)
	require.Len(t, h.Versions, 2)
	require.Equal(t, v1.CID, h.Versions[0].CID)
	require.Equal(t, v1.CID, h.Versions[1].Prev)
	require.True(t, h.Versions[1].Current)
	require.Nil(t, h.Versions[1].Changes, "changes only when asked")

	rb, err := a.Rollback(ctx, core.RollbackRequest{})
	require.NoError(t, err)
	require.Equal(t, 1, rb.From)
	require.Equal(t, 3, rb.Current.Version)
	require.Equal(t, v1.CID, rb.Current.CID)
	res, err := a.NameResolve(ctx, core.NameResolveRequest{Name: v1.Name})
	require.NoError(t, err)
	require.Equal(t, "/ipfs/"+v1.CID, res.Path, "the name points at the restored version")

	// Each version says what changed from the one before.
	h, err = a.History(ctx, core.HistoryRequest{Changes: true})
	require.NoError(t, err)
	require.Len(t, h.Versions, 3)
	want := []core.Changes{
		{Added: 1, PagesAdded: 1, BytesAdded: 3, Files: []core.FileChange{{Path: "index.html", Kind: "added", Size: 3}}},
		{From: v1.CID, Added: 1, Changed: 1, PagesAdded: 1, PagesChanged: 1, BytesAdded: 8, BytesRemoved: 3,
			Files: []core.FileChange{{Path: "about/index.html", Kind: "added", Size: 5}, {Path: "index.html", Kind: "changed", Size: 3}}},
		{From: v2.CID, Changed: 1, Removed: 1, PagesChanged: 1, PagesRemoved: 1, BytesAdded: 3, BytesRemoved: 8,
			Files: []core.FileChange{{Path: "index.html", Kind: "changed", Size: 3}, {Path: "about/index.html", Kind: "removed", Size: 5}}},
	}
	for i, v := range h.Versions {
		require.NotNil(t, v.Changes, "version %d", v.Version)
		require.Equal(t, want[i], *v.Changes, "version %d", v.Version)
	}

	_, err = a.Rollback(ctx, core.RollbackRequest{Version: 9})
	require.Error(t, err)
	_, err = a.History(ctx, core.HistoryRequest{Key: "nope"})
	requireCode(t, core.CodeNotFound, err)
	_, err = a.Publish(ctx, core.PublishRequest{Site: dir(map[string]string{"a": "b"}), Key: "nope"})
	requireCode(t, core.CodeNotFound, err)
}

// testSiteChange publishes versions as changes to the current one (Base,
// Remove): each is the CID of the whole site added, and a base that is
// not current, or a change that does not fit the base, is refused.
func testSiteChange(t *testing.T, a core.API) {
	ctx := context.Background()
	site := map[string]string{"index.html": "home", "posts/a/index.html": "a", "posts/b/index.html": "b",
		"img/x.png": "png", "tags/t/index.html": "t", "css/site.css": "body{}"}
	for i := range 300 {
		site[fmt.Sprintf("posts/p%03d/index.html", i)] = strings.Repeat(fmt.Sprint(i), 100)
	}
	v1, err := a.Publish(ctx, core.PublishRequest{Site: dir(site)})
	require.NoError(t, err)

	steps := []struct {
		name    string
		changed map[string]string
		remove  []string
	}{
		{"a page changed, one added, one removed", map[string]string{"index.html": "new home", "posts/c/index.html": "c"}, []string{"posts/b/index.html"}},
		{"a directory emptied", nil, []string{"tags/t/index.html"}},
		{"a file where a directory was", map[string]string{"tags": "now a file"}, nil},
		{"deep and new", map[string]string{"a/b/c/d.html": "d", "posts/p150/index.html": "edited"}, nil},
	}
	base := v1
	for _, st := range steps {
		for p := range site {
			for _, r := range st.remove {
				if p == r {
					delete(site, p)
				}
			}
			if _, ok := st.changed["tags"]; ok && strings.HasPrefix(p, "tags/") {
				delete(site, p)
			}
		}
		maps.Copy(site, st.changed)
		v, err := a.Publish(ctx, core.PublishRequest{Site: dir(st.changed), Base: base.CID, Remove: st.remove})
		require.NoError(t, err, st.name)
		require.Equal(t, base.Version+1, v.Version, st.name)
		whole := add(t, a, "site", dir(site))
		require.Equal(t, whole.CID, v.CID, "%s: the CID of the whole site", st.name)
		base = v
	}

	for _, tc := range []struct {
		name string
		req  core.PublishRequest
		code core.Code
	}{
		{"a base that is not current", core.PublishRequest{Site: dir(map[string]string{"x.html": "x"}), Base: v1.CID}, core.CodeConflict},
		{"a base that is no CID", core.PublishRequest{Site: dir(nil), Base: "nope"}, core.CodeInvalid},
		{"a removed path the base lacks", core.PublishRequest{Site: dir(nil), Base: base.CID, Remove: []string{"nothing/here.html"}}, core.CodeInvalid},
		{"a removed path that is no path", core.PublishRequest{Site: dir(nil), Base: base.CID, Remove: []string{"../up"}}, core.CodeInvalid},
		{"removes without a base", core.PublishRequest{Site: dir(nil), Remove: []string{"index.html"}}, core.CodeInvalid},
		{"a file changed and removed", core.PublishRequest{Site: dir(map[string]string{"index.html": "x"}), Base: base.CID, Remove: []string{"index.html"}}, core.CodeInvalid},
		{"too many removes", core.PublishRequest{Site: dir(nil), Base: base.CID, Remove: make([]string, core.MaxPatchRemoves+1)}, core.CodeInvalid},
	} {
		_, err := a.Publish(ctx, tc.req)
		requireCode(t, tc.code, err)
	}
	cur, err := a.History(ctx, core.HistoryRequest{})
	require.NoError(t, err)
	require.Equal(t, base.CID, cur.Versions[len(cur.Versions)-1].CID, "a refused change leaves the current version")
}

func testNames(t *testing.T, a core.API) {
	ctx := context.Background()
	root := add(t, a, "site", dir(tree()))
	k, err := a.KeyGen(ctx, core.KeyRequest{Name: "blog"})
	require.NoError(t, err)
	pub, err := a.NamePublish(ctx, core.NamePublishRequest{Key: "blog", Path: "/ipfs/" + root.CID, Resolve: true, TTL: core.Duration(time.Minute)})
	require.NoError(t, err)
	require.Equal(t, k.ID, pub.Record.Name)
	require.Equal(t, "/ipfs/"+root.CID, pub.Record.Value)
	require.Equal(t, uint64(1), pub.Record.Seq)
	require.Equal(t, "1m0s", pub.Record.TTL)

	res, err := a.NameResolve(ctx, core.NameResolveRequest{Name: "/ipns/" + k.ID + "/sub"})
	require.NoError(t, err)
	require.Equal(t, "/ipfs/"+root.CID+"/sub", res.Path)
	require.Equal(t, k.ID, res.Name)
	got, err := cat(t, a, "/ipns/"+k.ID+"/hello.txt")
	require.NoError(t, err, "content paths resolve names too")
	require.Equal(t, "hello, island\n", got)

	// The caller's DNSLink overrides travel with the request.
	l := core.Lookup{NSMap: map[string]string{"example.org": "/ipns/" + k.ID}}
	res, err = a.NameResolve(ctx, core.NameResolveRequest{Name: "example.org", Lookup: l})
	require.NoError(t, err)
	require.Equal(t, "/ipfs/"+root.CID, res.Path)
	ls, err := a.Ls(ctx, core.PathRequest{Path: "/ipns/example.org/sub", Lookup: l})
	require.NoError(t, err)
	require.Len(t, ls, 2)
	_, err = a.NameResolve(ctx, core.NameResolveRequest{Name: "example.org"})
	require.Error(t, err, "without the override, no DNS is asked")

	_, err = a.NamePublish(ctx, core.NamePublishRequest{Path: "/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy", Resolve: true})
	requireCode(t, core.CodeNotFound, err)
	_, err = a.NamePublish(ctx, core.NamePublishRequest{Path: "///"})
	requireCode(t, core.CodeInvalid, err)
}

// record signs an IPNS record for a fresh key.
func record(t *testing.T, value string, seq uint64) (string, []byte) {
	t.Helper()
	sk, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	pid, err := peer.IDFromPrivateKey(sk)
	require.NoError(t, err)
	rec, err := ipns.NewRecord(sk, mustPath(t, value), seq, time.Now().Add(time.Hour), time.Minute)
	require.NoError(t, err)
	raw, err := ipns.MarshalRecord(rec)
	require.NoError(t, err)
	return "/ipns/" + ipns.NameFromPeer(pid).String(), raw
}

func testRouting(t *testing.T, a core.API) {
	ctx := context.Background()
	root := add(t, a, "x.txt", files.NewBytesFile([]byte("x")))
	name, raw := record(t, root.CID, 7)
	st, err := a.RoutingPut(ctx, core.RoutingPutRequest{Name: name, Record: raw})
	require.NoError(t, err)
	require.Equal(t, uint64(7), st.Record.Seq)
	require.Equal(t, "/ipfs/"+root.CID, st.Record.Value)
	got, err := a.RoutingGet(ctx, core.RoutingGetRequest{Name: name})
	require.NoError(t, err)
	require.Equal(t, raw, got, "the bytes are kept unchanged")

	other, _ := record(t, root.CID, 1)
	_, err = a.RoutingPut(ctx, core.RoutingPutRequest{Name: other, Record: raw})
	requireCode(t, core.CodeRefused, err)
	_, err = a.RoutingPut(ctx, core.RoutingPutRequest{Name: "/pk/x", Record: raw})
	requireCode(t, core.CodeInvalid, err)
	_, err = a.RoutingGet(ctx, core.RoutingGetRequest{Name: other})
	requireCode(t, core.CodeNotFound, err)
}

func testKeys(t *testing.T, a core.API) {
	ctx := context.Background()
	keys, err := a.KeyLs(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Equal(t, "self", keys[0].Name)
	k, err := a.KeyGen(ctx, core.KeyRequest{Name: "blog"})
	require.NoError(t, err)
	_, err = a.KeyGen(ctx, core.KeyRequest{Name: "blog"})
	requireCode(t, core.CodeConflict, err)
	_, err = a.KeyGen(ctx, core.KeyRequest{Name: "../escape"})
	requireCode(t, core.CodeInvalid, err)
	keys, err = a.KeyLs(ctx)
	require.NoError(t, err)
	require.Equal(t, []core.Key{keys[0], k}, keys)
	_, err = a.KeyRm(ctx, core.KeyRequest{Name: "self"})
	requireCode(t, core.CodeRefused, err)
	rm, err := a.KeyRm(ctx, core.KeyRequest{Name: "blog"})
	require.NoError(t, err)
	require.Equal(t, k, rm)
	_, err = a.KeyRm(ctx, core.KeyRequest{Name: "blog"})
	requireCode(t, core.CodeNotFound, err)
}

func testFollows(t *testing.T, a core.API) {
	ctx := context.Background()
	name, _ := record(t, "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy", 1)
	f, err := a.Follow(ctx, core.FollowRequest{Name: name})
	require.NoError(t, err)
	require.Equal(t, strings.TrimPrefix(name, "/ipns/"), f.Follow.Name)
	_, err = a.Follow(ctx, core.FollowRequest{Name: "Example.ORG"})
	require.NoError(t, err)
	fs, err := a.FollowLs(ctx)
	require.NoError(t, err)
	require.Len(t, fs, 2)
	require.Equal(t, "example.org", fs[0].Name, "domains are lower-cased, names sorted")
	require.Empty(t, fs[0].Kept)
	u, err := a.Unfollow(ctx, core.FollowRequest{Name: "example.org"})
	require.NoError(t, err)
	require.Equal(t, "example.org", u.Name)
	_, err = a.Unfollow(ctx, core.FollowRequest{Name: "example.org"})
	requireCode(t, core.CodeNotFound, err)
	_, err = a.Follow(ctx, core.FollowRequest{Name: "not a name"})
	requireCode(t, core.CodeInvalid, err)
}

func testRemoteServices(t *testing.T, a core.API) {
	ctx := context.Background()
	_, err := a.RemoteServiceAdd(ctx, core.RemoteService{Name: "friend", Endpoint: "http://127.0.0.1:1/pinning/v1", Key: "secret"})
	require.NoError(t, err)
	w, err := a.RemoteServiceAdd(ctx, core.RemoteService{Name: "far", Endpoint: "http://192.0.2.1/psa", Key: "secret"})
	require.NoError(t, err)
	require.Contains(t, w.Warning, "unencrypted")
	_, err = a.RemoteServiceAdd(ctx, core.RemoteService{Name: "friend", Endpoint: "http://127.0.0.1:1/x", Key: "k"})
	requireCode(t, core.CodeConflict, err)
	_, err = a.RemoteServiceAdd(ctx, core.RemoteService{Name: "bad", Endpoint: "ftp://x", Key: "k"})
	requireCode(t, core.CodeInvalid, err)
	svcs, err := a.RemoteServiceLs(ctx)
	require.NoError(t, err)
	require.Equal(t, []core.RemoteService{{Name: "far", Endpoint: "http://192.0.2.1/psa"}, {Name: "friend", Endpoint: "http://127.0.0.1:1/pinning/v1"}}, svcs, "tokens are never returned")
	require.NoError(t, a.RemoteServiceRm(ctx, core.RemoteServiceRmRequest{Name: "far"}))
	requireCode(t, core.CodeNotFound, a.RemoteServiceRm(ctx, core.RemoteServiceRmRequest{Name: "far"}))
	_, err = a.RemotePinLs(ctx, core.RemotePinLsRequest{Service: "nope"})
	requireCode(t, core.CodeNotFound, err)
	_, err = a.RemotePinLs(ctx, core.RemotePinLsRequest{Service: "friend", Statuses: []string{"sleeping"}})
	requireCode(t, core.CodeInvalid, err)
}

func testNode(t *testing.T, a core.API) {
	ctx := context.Background()
	id, err := a.ID(ctx)
	require.NoError(t, err)
	_, err = peer.Decode(id.ID)
	require.NoError(t, err)
	require.Equal(t, core.ModeOffline, id.Mode)
	require.Empty(t, id.Addrs)
	_, err = a.Peers(ctx)
	requireCode(t, core.CodeUnavailable, err)
	_, err = a.ProvideStat(ctx)
	requireCode(t, core.CodeUnavailable, err)
	_, err = a.NodeStats(ctx)
	requireCode(t, core.CodeUnavailable, err)

	st, err := a.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, id.ID, st.PeerID)
	require.Nil(t, st.Site)
	pub, err := a.Publish(ctx, core.PublishRequest{Site: dir(map[string]string{"index.html": "x"})})
	require.NoError(t, err)
	st, err = a.Status(ctx)
	require.NoError(t, err)
	require.Positive(t, st.Site.Size)
	require.Equal(t, &core.SiteStatus{CID: pub.CID, Name: pub.Name, Version: 1, URLs: pub.URLs, Size: st.Site.Size}, st.Site)
}

func mustPath(t *testing.T, s string) path.Path {
	t.Helper()
	p, err := path.NewPath("/ipfs/" + s)
	require.NoError(t, err)
	return p
}

// testRepoStat: the repo's usage and quota, on their own and in the status
// (the dashboard shows one against the other); an add grows the usage.
func testRepoStat(t *testing.T, a core.API) {
	ctx := context.Background()
	before, err := a.RepoStat(ctx)
	require.NoError(t, err)
	require.Positive(t, before.UsedBytes)
	require.Greater(t, before.MaxBytes, before.UsedBytes)
	require.Equal(t, 90, before.GCWatermark)
	_, err = a.Add(ctx, core.AddRequest{Files: roots(map[string]files.Node{"big.bin": files.NewBytesFile(bytes.Repeat([]byte("island "), 1<<18))})})
	require.NoError(t, err)
	after, err := a.RepoStat(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, after.UsedBytes, before.UsedBytes+1<<20)
	require.Equal(t, before.MaxBytes, after.MaxBytes)
	st, err := a.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, after.MaxBytes, st.Repo.MaxBytes)
	require.GreaterOrEqual(t, st.Repo.UsedBytes, after.UsedBytes)
}
