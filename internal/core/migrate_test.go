package core

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/repo"
)

// A repo of an island before pins had holders: its follower and pinning
// service pins come back as repo.HolderLegacy. Opening a Core gives them
// their real holders, so each can let go of its own, and no pin is lost.
func TestMigrateLegacyHolders(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := repo.Open(ctx, repo.Config{Path: dir})
	require.NoError(t, err)
	add := func(s string) cid.Cid {
		c, err := importer.AddReader(ctx, r.DAG(), strings.NewReader(s))
		require.NoError(t, err)
		return c
	}
	followed, requested, orphan := add("a followed version"), add("a friend's file"), add("nobody's")
	legacy := func(name string) repo.Holder { return repo.Holder{Kind: repo.HolderLegacy, ID: name} }
	require.NoError(t, r.Pin(ctx, followed, legacy(legacyFollowPin), repo.Recursive))
	require.NoError(t, r.Pin(ctx, requested, legacy(legacyServicePin), repo.Recursive))
	require.NoError(t, r.Pin(ctx, orphan, legacy(legacyFollowPin), repo.Recursive))
	// What the follow store and the pinning service recorded back then.
	ds := r.Datastore()
	require.NoError(t, ds.Put(ctx, datastore.NewKey("/island/follow/example.org"),
		fmt.Appendf(nil, `{"name":"example.org","added":"2026-01-02T03:04:05Z","lastCheck":"0001-01-01T00:00:00Z","lastChange":"0001-01-01T00:00:00Z","lastPut":"0001-01-01T00:00:00Z","kept":[%q]}`, followed)))
	require.NoError(t, ds.Put(ctx, datastore.NewKey("/island/pinsvc/requests/req1"),
		fmt.Appendf(nil, `{"requestid":"req1","status":"pinned","created":"2026-01-02T03:04:05Z","pin":{"cid":%q},"delegates":[],"info":{}}`, requested)))
	require.NoError(t, r.Close())

	for range 2 { // the second open finds nothing left to do
		c, err := Open(ctx, Config{RepoPath: dir})
		require.NoError(t, err)
		pins, err := c.PinLs(ctx, PinLsRequest{})
		require.NoError(t, err)
		got := map[string][]Holder{}
		for _, p := range pins {
			got[p.CID] = p.Holders
		}
		kinds := func(c cid.Cid) []string {
			var out []string
			for _, h := range got[c.String()] {
				out = append(out, h.Kind+":"+h.ID)
			}
			return out
		}
		require.Equal(t, []string{"follow:example.org"}, kinds(followed))
		require.Equal(t, []string{"pinsvc:req1"}, kinds(requested))
		require.Equal(t, []string{"user:"}, kinds(orphan), "a pin nobody claims becomes the user's, who can remove it")
		require.NoError(t, c.Close())
	}
}
