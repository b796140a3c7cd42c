package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/boxo/pinning/pinner/dspinner"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

var user = Holder{Kind: HolderUser}

// siteName is a fresh IPNS name (k51…).
func siteName(t testing.TB) string {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	id, err := peer.IDFromPrivateKey(k)
	require.NoError(t, err)
	return ipns.NameFromPeer(id).String()
}

// pinMode is c's pin mode, "" if nobody holds it.
func pinMode(t testing.TB, r *Repo, c cid.Cid) PinMode {
	t.Helper()
	p, ok, err := r.PinOf(context.Background(), c)
	require.NoError(t, err)
	if !ok {
		return ""
	}
	return p.Mode
}

// holdsOf is c's holds without their times, to compare.
func holdsOf(t testing.TB, r *Repo, c cid.Cid) []Hold {
	t.Helper()
	p, _, err := r.PinOf(context.Background(), c)
	require.NoError(t, err)
	for i := range p.Holds {
		require.False(t, p.Holds[i].Since.IsZero())
		p.Holds[i].Since = time.Time{}
	}
	return p.Holds
}

// catPath reads path p (/ipfs/…) from r's store.
func catPath(t *testing.T, r *Repo, p string) (string, error) {
	t.Helper()
	ctx := context.Background()
	c, err := r.Resolve(ctx, mustPath(t, p))
	if err != nil {
		return "", err
	}
	rd, err := Cat(ctx, r.DAG(), c)
	if err != nil {
		return "", err
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	return string(b), err
}

func TestHolderStringAndParse(t *testing.T) {
	k51 := siteName(t)
	good := []struct {
		s string
		h Holder
	}{
		{"user", Holder{Kind: HolderUser}},
		{"site:" + k51, Holder{Kind: HolderSite, ID: k51}},
		{"follow:example.org", Holder{Kind: HolderFollow, ID: "example.org"}},
		{"follow:" + k51, Holder{Kind: HolderFollow, ID: k51}},
		{"follow", Holder{Kind: HolderFollow}},
		{"pinsvc:9b1d-77/x", Holder{Kind: HolderPinService, ID: "9b1d-77/x"}},
		{"pinsvc", Holder{Kind: HolderPinService}},
		{"legacy:pinning service", Holder{Kind: HolderLegacy, ID: "pinning service"}},
		{"legacy:a:b", Holder{Kind: HolderLegacy, ID: "a:b"}},
	}
	for _, tt := range good {
		t.Run(tt.s, func(t *testing.T) {
			require.Equal(t, tt.s, tt.h.String())
			h, err := ParseHolder(tt.s)
			require.NoError(t, err)
			require.Equal(t, tt.h, h)
		})
	}
	pid, err := ipns.NameFromString(k51)
	require.NoError(t, err)
	bad := []struct{ s, want string }{
		{"", "unknown kind"},
		{"users", "unknown kind"},
		{"User", "unknown kind"},
		{"user:me", "user takes no ID"},
		{"user:", "without the colon"},
		{"site", "IPNS name"},
		{"site:example.org", "IPNS name"},
		{"site:" + pid.Peer().String(), "IPNS name"}, // 12D3Koo…: not the canonical spelling
		{"follow:", "without the colon"},
		{"follow:a b", "without spaces"},
		{"pinsvc:a\nb", "without spaces"},
		{"legacy", "non-empty"},
		{"legacy:a\x00b", "printable"},
		{"legacy:\xff", "printable"},
	}
	for _, tt := range bad {
		t.Run(fmt.Sprintf("%q", tt.s), func(t *testing.T) {
			_, err := ParseHolder(tt.s)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// Two holders keep one CID: the pin and its blocks live until the last
// hold goes.
func TestPinKeptUntilLastHolderLeaves(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	site := Holder{Kind: HolderSite, ID: siteName(t)}
	root := importFS(t, r, map[string]string{"index.html": "home", "post/a.md": "post"})
	require.NoError(t, r.Pin(ctx, root, user, Recursive))
	require.NoError(t, r.Pin(ctx, root, site, Recursive))
	all := storedBlocks(t, r)
	require.Len(t, all, 4)
	require.Equal(t, []Hold{{Holder: site, Mode: Recursive}, {Holder: user, Mode: Recursive}}, holdsOf(t, r, root),
		"holds sorted by holder string: site:… before user")

	require.NoError(t, r.Unpin(ctx, root, user))
	require.Equal(t, []Hold{{Holder: site, Mode: Recursive}}, holdsOf(t, r, root))
	res, err := r.GC(ctx)
	require.NoError(t, err)
	require.Zero(t, res.Removed)
	require.Equal(t, all, storedBlocks(t, r))

	require.NoError(t, r.Unpin(ctx, root, site))
	_, ok, err := r.PinOf(ctx, root)
	require.NoError(t, err)
	require.False(t, ok)
	res, err = r.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, res.Removed)
	require.Empty(t, storedBlocks(t, r))
}

// The bug holders fix: another holder's pin and unpin of a CID the user
// added must not take the user's file with it.
func TestOtherHolderLeavingKeepsUsersFile(t *testing.T) {
	for _, other := range []Holder{
		{Kind: HolderPinService, ID: "req-1"},
		{Kind: HolderPinService},
		{Kind: HolderFollow, ID: "example.org"},
		{Kind: HolderFollow},
		{Kind: HolderSite, ID: siteName(t)},
	} {
		t.Run(other.String(), func(t *testing.T) {
			ctx := context.Background()
			r := openTestRepo(t, t.TempDir())
			root := addFS(t, r, map[string]string{"notes.txt": "mine"})
			require.NoError(t, r.Pin(ctx, root, other, Recursive))
			require.NoError(t, r.Unpin(ctx, root, other))

			res, err := r.GC(ctx)
			require.NoError(t, err)
			require.Zero(t, res.Removed)
			got, err := catPath(t, r, "/ipfs/"+root.String()+"/notes.txt")
			require.NoError(t, err)
			require.Equal(t, "mine", got)
			require.Equal(t, []Hold{{Holder: user, Mode: Recursive}}, holdsOf(t, r, root))
		})
	}
}

func TestPinModes(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	root := importFS(t, r, map[string]string{"d/x.txt": "x", "d/y.txt": "y"})
	svc := Holder{Kind: HolderPinService, ID: "r1"}

	require.NoError(t, r.Pin(ctx, root, user, Direct))
	p, _, err := r.PinOf(ctx, root)
	require.NoError(t, err)
	since := p.Holds[0].Since
	require.NoError(t, r.Pin(ctx, root, user, Direct), "the same mode again is a no-op")
	p, _, err = r.PinOf(ctx, root)
	require.NoError(t, err)
	require.Equal(t, Direct, p.Mode)
	require.True(t, since.Equal(p.Holds[0].Since), "and keeps Since")

	require.NoError(t, r.Pin(ctx, root, user, Recursive), "recursive upgrades a direct hold")
	p, _, err = r.PinOf(ctx, root)
	require.NoError(t, err)
	require.Equal(t, Recursive, p.Mode)
	require.Equal(t, Recursive, p.Holds[0].Mode)
	require.True(t, since.Equal(p.Holds[0].Since), "held since the direct pin")

	err = r.Pin(ctx, root, user, Direct)
	require.ErrorIs(t, err, ErrPinnedRecursively)
	require.EqualError(t, err, "repo: "+root.String()+" is already pinned recursively by user; pin rm it first")
	require.Equal(t, Recursive, pinMode(t, r, root), "the refused pin changed nothing")

	// Another holder's direct hold sits beside a recursive one; the pin
	// is recursive while any hold is.
	require.NoError(t, r.Pin(ctx, root, svc, Direct))
	require.Equal(t, []Hold{{Holder: svc, Mode: Direct}, {Holder: user, Mode: Recursive}}, holdsOf(t, r, root))
	res, err := r.GC(ctx)
	require.NoError(t, err)
	require.Zero(t, res.Removed)

	// A direct hold alone keeps the block, not its DAG.
	require.NoError(t, r.Unpin(ctx, root, user))
	require.Equal(t, Direct, pinMode(t, r, root))
	res, err = r.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, res.Removed, "d/, x.txt and y.txt")
	require.Equal(t, []string{cid.NewCidV1(cid.Raw, root.Hash()).String()}, storedBlocks(t, r), "the store knows multihashes only")
	rep, err := r.Verify(ctx)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep)
}

func TestPinRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	root := importFS(t, r, map[string]string{"a": "a"})
	tests := []struct {
		name string
		c    cid.Cid
		h    Holder
		mode PinMode
		want string
	}{
		{"no CID", cid.Undef, user, Recursive, "no CID"},
		{"unknown kind", root, Holder{Kind: "friend"}, Recursive, "unknown kind"},
		{"user with ID", root, Holder{Kind: HolderUser, ID: "me"}, Recursive, "user takes no ID"},
		{"site without name", root, Holder{Kind: HolderSite}, Recursive, "IPNS name"},
		{"unknown mode", root, user, "indirect", `unknown mode "indirect"`},
		{"no mode", root, user, "", `unknown mode ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorContains(t, r.Pin(ctx, tt.c, tt.h, tt.mode), tt.want)
		})
	}
	pins, err := r.Pins(ctx)
	require.NoError(t, err)
	require.Empty(t, pins)
}

func TestUnpinNotHeld(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	root := importFS(t, r, map[string]string{"a": "a"})
	k51 := siteName(t)
	site := Holder{Kind: HolderSite, ID: k51}
	follow := Holder{Kind: HolderFollow, ID: "example.org"}

	err := r.Unpin(ctx, root, user)
	require.ErrorIs(t, err, ErrNotPinned)
	require.EqualError(t, err, "repo: "+root.String()+" is not pinned")

	require.NoError(t, r.Pin(ctx, root, follow, Recursive))
	require.NoError(t, r.Pin(ctx, root, site, Direct))
	err = r.Unpin(ctx, root, user)
	require.ErrorIs(t, err, ErrNotPinned)
	require.EqualError(t, err, "repo: "+root.String()+" is not pinned by user (held by follow:example.org, site:"+k51+")")
	var nh *NotHeldError
	require.ErrorAs(t, err, &nh)
	require.Equal(t, root, nh.CID)
	require.Equal(t, user, nh.Holder)
	require.Len(t, nh.Holds, 2)

	err = r.Unpin(ctx, root, Holder{Kind: HolderFollow, ID: "other.example"})
	require.ErrorIs(t, err, ErrNotPinned, "one follow does not release another's")
	require.Len(t, holdsOf(t, r, root), 2)
}

// Pins survive closing and reopening, and every ID, whatever its bytes,
// is one key segment.
func TestPinsPersistAndEscapeIDs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := openTestRepo(t, dir)
	a := importFS(t, r, map[string]string{"a": "a"})
	b := importFS(t, r, map[string]string{"b": "b"})
	holders := []Holder{
		user,
		{Kind: HolderPinService, ID: "../../x/%2F"},
		{Kind: HolderLegacy, ID: "pinning service"},
		{Kind: HolderLegacy, ID: "ünïcode ✓"},
		{Kind: HolderFollow, ID: "example.org"},
	}
	for _, h := range holders {
		require.NoError(t, r.Pin(ctx, a, h, Recursive))
	}
	require.NoError(t, r.Pin(ctx, b, user, Direct))
	before, err := r.Pins(ctx)
	require.NoError(t, err)
	require.NoError(t, r.Close())

	r = openTestRepo(t, dir)
	after, err := r.Pins(ctx)
	require.NoError(t, err)
	require.Equal(t, len(before), len(after))
	for i := range before {
		require.True(t, before[i].CID.Equals(after[i].CID))
		require.Equal(t, before[i].Mode, after[i].Mode)
		require.Len(t, after[i].Holds, len(before[i].Holds))
		for j, h := range before[i].Holds {
			require.Equal(t, h.Holder, after[i].Holds[j].Holder)
			require.True(t, h.Since.Equal(after[i].Holds[j].Since))
		}
	}
	require.Len(t, after, 2)
	require.Less(t, after[0].CID.String(), after[1].CID.String(), "sorted by CID")
	require.Len(t, after[0].Holds, 5)

	res, err := r.Datastore().Query(ctx, query.Query{Prefix: holdsRoot.String(), KeysOnly: true})
	require.NoError(t, err)
	entries, err := res.Rest()
	require.NoError(t, err)
	require.Len(t, entries, 6)
	for _, e := range entries {
		require.Len(t, ds.RawKey(e.Key).Namespaces(), 5, "%s: /island/pins/holds/<cid>/<holder>", e.Key)
	}
	for _, h := range holders {
		require.NoError(t, r.Unpin(ctx, a, h))
	}
	require.Equal(t, Direct, pinMode(t, r, b))
	require.Equal(t, PinMode(""), pinMode(t, r, a))
}

// A damaged record stops everything that needs the whole pin set, naming
// the key: gc must not sweep a DAG it can no longer tell is held.
func TestDamagedPinRecordIsReported(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	root := addFS(t, r, map[string]string{"a": "a"})
	garbage := importFS(t, r, map[string]string{"junk": "junk"})
	before := storedBlocks(t, r)

	tests := []struct {
		name  string
		key   ds.Key
		value string
	}{
		{"bad value", holdKey(root, Holder{Kind: HolderPinService, ID: "x"}), "{not json"},
		{"unknown mode", holdKey(root, Holder{Kind: HolderPinService, ID: "x"}), `{"mode":"indirect","since":"2024-01-01T00:00:00Z"}`},
		{"bad holder", holdsRoot.ChildString(root.String()).ChildString("friend"), `{"mode":"recursive","since":"2024-01-01T00:00:00Z"}`},
		{"bad CID", holdsRoot.ChildString("Qmnope").ChildString("user"), `{"mode":"recursive","since":"2024-01-01T00:00:00Z"}`},
		{"too deep", holdsRoot.ChildString(root.String()).ChildString("user").ChildString("x"), `{"mode":"recursive","since":"2024-01-01T00:00:00Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, r.Datastore().Put(ctx, tt.key, []byte(tt.value)))
			defer func() { require.NoError(t, r.Datastore().Delete(ctx, tt.key)) }()

			_, err := r.Pins(ctx)
			require.ErrorContains(t, err, "damaged pin record "+tt.key.String())
			_, err = r.GC(ctx)
			require.ErrorContains(t, err, tt.key.String())
			require.Equal(t, before, storedBlocks(t, r), "nothing was removed")
			_, err = r.Verify(ctx)
			require.ErrorContains(t, err, tt.key.String())
		})
	}
	res, err := r.GC(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, res.Removed)
	has, err := r.Blockstore().Has(ctx, garbage)
	require.NoError(t, err)
	require.False(t, has)
}

// Holders pinning and unpinning one CID at once never disturb each other.
func TestConcurrentHolders(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	root := addFS(t, r, map[string]string{"a": "a"})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			h := Holder{Kind: HolderPinService, ID: fmt.Sprintf("req-%d", i%4)}
			for range 10 {
				if err := r.Pin(ctx, root, h, Recursive); err != nil {
					errs <- err
					return
				}
				// Two goroutines share each holder: the other may have
				// unpinned it first.
				if err := r.Unpin(ctx, root, h); err != nil && !errors.Is(err, ErrNotPinned) {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, []Hold{{Holder: user, Mode: Recursive}}, holdsOf(t, r, root))
	require.Empty(t, r.holdLocks.m, "no lock entry outlives its users")
}

func TestCheckComplete(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	root := importFS(t, r, map[string]string{"sub/a.txt": "a", "sub/b.txt": "b", "c.txt": "c"})
	require.NoError(t, r.CheckComplete(ctx, root))

	b, err := r.Resolve(ctx, mustPath(t, root.String()+"/sub/b.txt"))
	require.NoError(t, err)
	require.NoError(t, r.Blockstore().DeleteBlock(ctx, b))
	err = r.CheckComplete(ctx, root)
	require.True(t, ipld.IsNotFound(err), "%v", err)
	require.ErrorContains(t, err, b.String(), "the missing raw leaf is named, though nothing reads raw leaves")

	sub, err := r.Resolve(ctx, mustPath(t, root.String()+"/sub"))
	require.NoError(t, err)
	require.NoError(t, r.Blockstore().DeleteBlock(ctx, sub))
	err = r.CheckComplete(ctx, root)
	require.True(t, ipld.IsNotFound(err), "%v", err)
	require.ErrorContains(t, err, sub.String())
}

func TestRootsAndProvideRoots(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	rec := addFS(t, r, map[string]string{"a": "a"})
	direct := importFS(t, r, map[string]string{"b": "b"})
	require.NoError(t, r.Pin(ctx, direct, user, Direct))
	hist := importFS(t, r, map[string]string{"index.html": "v1"})
	fol := importFS(t, r, map[string]string{"index.html": "theirs"})
	r.RegisterRoots("site history", func(context.Context) ([]cid.Cid, error) { return []cid.Cid{hist, rec}, nil })
	r.RegisterRoots("followed sites", func(context.Context) ([]cid.Cid, error) { return []cid.Cid{fol}, nil })

	sets, err := r.Roots(ctx)
	require.NoError(t, err)
	require.Equal(t, []RootSet{
		{Source: "pins", Roots: []cid.Cid{rec}, Recursive: true},
		{Source: "pins", Roots: []cid.Cid{direct}},
		{Source: "followed sites", Roots: []cid.Cid{fol}, Recursive: true},
		{Source: "site history", Roots: []cid.Cid{hist, rec}, Recursive: true},
	}, sets)

	roots, err := r.ProvideRoots(ctx)
	require.NoError(t, err)
	require.Equal(t, []cid.Cid{rec, direct, fol, hist}, roots, "each root once")

	r.RegisterRoots("broken", func(context.Context) ([]cid.Cid, error) { return nil, errors.New("boom") })
	_, err = r.ProvideRoots(ctx)
	require.EqualError(t, err, `repo: roots "broken": boom`)
}

// legacyPin is a pin as an earlier island made it with boxo's dspinner.
type legacyPin struct {
	c    cid.Cid
	mode pin.Mode
	name string
}

// writeLegacyPins turns r into a repo an earlier version left: the given
// pins in boxo's dspinner, and no pins version.
func writeLegacyPins(t *testing.T, r *Repo, pins []legacyPin) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, r.Datastore().Delete(ctx, pinsVersionKey))
	p, err := dspinner.New(ctx, r.Datastore(), r.DAG())
	require.NoError(t, err)
	for _, lp := range pins {
		require.NoError(t, p.PinWithMode(ctx, lp.c, lp.mode, lp.name))
	}
	require.NoError(t, p.Flush(ctx))
	require.NoError(t, p.Close())
}

// dspinnerPins lists what dspinner still holds in r.
func dspinnerPins(t *testing.T, r *Repo) []pin.Pinned {
	t.Helper()
	p, err := dspinner.New(context.Background(), r.Datastore(), r.DAG())
	require.NoError(t, err)
	defer p.Close()
	old, err := legacyPins(context.Background(), p)
	require.NoError(t, err)
	return old
}

// crashFunc does part of the migration by hand, as a process that died
// would have left it.
type crashFunc func(t *testing.T, r *Repo, p pin.Pinner, old []pin.Pinned)

// legacyRepo builds a closed repo in a new directory holding one dspinner
// pin of each kind of name, runs crash (if any) on it, and returns it with
// the holds the migration must give each CID.
func legacyRepo(t *testing.T, crash crashFunc) (string, map[cid.Cid][]Hold) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	r := openTestRepo(t, dir)
	k51 := siteName(t)
	blk := rawBlock(t, "a directly pinned block")
	require.NoError(t, r.Blockstore().Put(ctx, blk))
	tests := []struct {
		files map[string]string
		mode  pin.Mode
		name  string
		want  Holder
	}{
		{map[string]string{"a": "added"}, pin.Recursive, "", user},
		{map[string]string{"index.html": "published"}, pin.Recursive, "site " + k51, Holder{Kind: HolderSite, ID: k51}},
		{map[string]string{"index.html": "followed"}, pin.Recursive, "follow", Holder{Kind: HolderLegacy, ID: "follow"}},
		{map[string]string{"x": "requested"}, pin.Recursive, "pinning service", Holder{Kind: HolderLegacy, ID: "pinning service"}},
		{map[string]string{"x": "odd site"}, pin.Recursive, "site blog", Holder{Kind: HolderLegacy, ID: "site blog"}},
		{map[string]string{"x": "odd name"}, pin.Recursive, "tab\there\xff", Holder{Kind: HolderLegacy, ID: "tab\uFFFDhere\uFFFD"}},
		{nil, pin.Direct, "", user},
	}
	var pins []legacyPin
	want := map[cid.Cid][]Hold{}
	for _, tt := range tests {
		c, mode := blk.Cid(), Direct
		if tt.files != nil {
			c, mode = importFS(t, r, tt.files), Recursive
		}
		pins = append(pins, legacyPin{c, tt.mode, tt.name})
		want[c] = []Hold{{Holder: tt.want, Mode: mode}}
	}
	writeLegacyPins(t, r, pins)
	require.Len(t, dspinnerPins(t, r), len(pins))
	pinned, err := r.Pins(ctx)
	require.NoError(t, err)
	require.Empty(t, pinned, "not migrated yet")
	if crash != nil {
		p, err := dspinner.New(ctx, r.Datastore(), r.DAG())
		require.NoError(t, err)
		old, err := legacyPins(ctx, p)
		require.NoError(t, err)
		require.Len(t, old, len(pins))
		crash(t, r, p, old)
		require.NoError(t, p.Close())
		requireHeldSomewhere(t, r, want)
	}
	require.NoError(t, r.Close())
	return dir, want
}

// requireMigrated checks that r holds exactly want, dspinner nothing, and
// that gc keeps every block.
func requireMigrated(t *testing.T, r *Repo, want map[cid.Cid][]Hold) {
	t.Helper()
	ctx := context.Background()
	pins, err := r.Pins(ctx)
	require.NoError(t, err)
	require.Len(t, pins, len(want))
	for c, holds := range want {
		require.Equal(t, holds, holdsOf(t, r, c), c)
	}
	require.Empty(t, dspinnerPins(t, r))
	v, err := r.Datastore().Get(ctx, pinsVersionKey)
	require.NoError(t, err)
	require.Equal(t, pinsVersion, string(v))

	before := storedBlocks(t, r)
	res, err := r.GC(ctx)
	require.NoError(t, err)
	require.Zero(t, res.Removed)
	require.Equal(t, before, storedBlocks(t, r))
}

func TestMigrateLegacyPins(t *testing.T) {
	ctx := context.Background()
	dir, want := legacyRepo(t, nil)
	r := openTestRepo(t, dir)
	requireMigrated(t, r, want)
	first, err := r.Pins(ctx)
	require.NoError(t, err)
	require.NoError(t, r.Close())

	r = openTestRepo(t, dir)
	again, err := r.Pins(ctx)
	require.NoError(t, err)
	require.Equal(t, first, again, "reopening changes nothing")
}

// A crash before the version key is written leaves every pin held, in
// dspinner or as a hold, and the next Open finishes the job.
func TestMigrateResumesAfterCrash(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		crash crashFunc
	}{
		{"nothing done", func(*testing.T, *Repo, pin.Pinner, []pin.Pinned) {}},
		{"some holds written", func(t *testing.T, r *Repo, _ pin.Pinner, old []pin.Pinned) {
			require.NoError(t, r.holdLegacyPins(ctx, old[:3]))
		}},
		{"all holds written", func(t *testing.T, r *Repo, _ pin.Pinner, old []pin.Pinned) {
			require.NoError(t, r.holdLegacyPins(ctx, old))
		}},
		{"some old pins removed", func(t *testing.T, r *Repo, p pin.Pinner, old []pin.Pinned) {
			require.NoError(t, r.holdLegacyPins(ctx, old))
			require.NoError(t, dropLegacyPins(ctx, p, old[:4]))
		}},
		{"all old pins removed", func(t *testing.T, r *Repo, p pin.Pinner, old []pin.Pinned) {
			require.NoError(t, r.holdLegacyPins(ctx, old))
			require.NoError(t, dropLegacyPins(ctx, p, old))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, want := legacyRepo(t, tt.crash)
			requireMigrated(t, openTestRepo(t, dir), want)
		})
	}
}

// requireHeldSomewhere checks that each CID of want is held or still in
// dspinner.
func requireHeldSomewhere(t *testing.T, r *Repo, want map[cid.Cid][]Hold) {
	t.Helper()
	inOld := map[cid.Cid]bool{}
	for _, lp := range dspinnerPins(t, r) {
		inOld[lp.Key] = true
	}
	for c := range want {
		require.True(t, inOld[c] || pinMode(t, r, c) != "", "%s is held nowhere", c)
	}
}

func TestOpenRefusesNewerPinsVersion(t *testing.T) {
	dir := t.TempDir()
	r := openTestRepo(t, dir)
	require.NoError(t, r.Datastore().Put(context.Background(), pinsVersionKey, []byte("2")))
	require.NoError(t, r.Close())
	_, err := Open(context.Background(), Config{Path: dir})
	require.ErrorContains(t, err, `pins are at version "2"`)
}

func FuzzParseHolder(f *testing.F) {
	for _, s := range []string{"user", "site:k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8", "follow:example.org",
		"follow", "pinsvc:REQ", "legacy:pinning service", "user:x", "", ":", "follow:", "legacy:a/b%2F", "legacy:\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seg := escapeSegment(s)
		require.NotContains(t, seg, "/")
		back, err := unescapeSegment(seg)
		require.NoError(t, err)
		require.Equal(t, s, back, "escaping round-trips any bytes")

		h, err := ParseHolder(s)
		if err != nil {
			return
		}
		require.Equal(t, s, h.String(), "one spelling per holder")
		require.NoError(t, h.validate())
		c := cid.NewCidV1(cid.Raw, mustHash(t, "x"))
		got, hold, err := parseHold(holdKey(c, h).String(), []byte(`{"mode":"direct","since":"2024-01-01T00:00:00Z"}`))
		require.NoError(t, err)
		require.Equal(t, c, got)
		require.Equal(t, h, hold.Holder)
	})
}

// FuzzParseHold feeds the stored-record parser arbitrary keys and values:
// it must never panic, and whatever it accepts must be what the writer
// would have written under that key.
func FuzzParseHold(f *testing.F) {
	c := cid.NewCidV1(cid.Raw, mustHash(f, "x"))
	f.Add(holdKey(c, user).String(), []byte(`{"mode":"recursive","since":"2024-01-01T00:00:00Z"}`))
	f.Add(holdKey(c, Holder{Kind: HolderLegacy, ID: "a b/c"}).String(), []byte(`{"mode":"direct","since":"2024-01-01T00:00:00.5+02:00"}`))
	f.Add("/island/pins/holds/x/user", []byte(`{}`))
	f.Add("/island/pins/holds/"+c.String()+"/legacy:%2", []byte(`null`))
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		c, h, err := parseHold(key, value)
		if err != nil {
			return
		}
		require.Equal(t, key, holdKey(c, h.Holder).String())
		require.True(t, h.Mode.valid())
		require.False(t, h.Since.IsZero())
	})
}

func mustHash(t testing.TB, s string) []byte {
	t.Helper()
	c, err := cid.V1Builder{Codec: cid.Raw, MhType: 0x12}.Sum([]byte(s))
	require.NoError(t, err)
	return c.Hash()
}
