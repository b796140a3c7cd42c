//go:build integration

package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/testutil/netns"
)

// TestNATSymmetric is check 4 of a home node behind NAT: with symmetric
// NATs on both sides no hole punch can succeed; the home page still
// arrives through the relay, and a file larger than a relay carries fails
// with an error that says so, before the fetch timeout (a minute) would
// have ended it.
func TestNATSymmetric(t *testing.T) {
	w := newNATWorld(t)
	author := w.author(t, netns.NATSymmetric)
	visitor := startNATNode(t, w.net.Home("visitor", netns.NATSymmetric), "visitor", w.pub)

	first, total := w.homePage(t, visitor, author)
	t.Logf("timing: home page through the relay behind symmetric NATs, visitor's gateway: first byte %s, all %s", first.Round(time.Millisecond), total.Round(time.Millisecond))

	out := filepath.Join(t.TempDir(), "photo.bin")
	_, _, total, errOut, code := visitor.timed(t, "get", "/ipns/"+w.name+"/photo.bin", "-o", out)
	require.Equal(t, 1, code, "a file larger than the relay carries cannot arrive: %s", errOut)
	require.Contains(t, errOut, "reachable only through a relay")
	require.Contains(t, errOut, author.id)
	require.Less(t, total, time.Minute, "the relay's limit, not the fetch timeout, must end the fetch")
	t.Logf("timing: large file behind symmetric NATs failed after %s: %s", total.Round(time.Millisecond), strings.TrimSpace(errOut))

	// cat streams the file: it ends the same way, not after a timeout.
	_, _, total, errOut, code = visitor.timed(t, "cat", "/ipns/"+w.name+"/photo.bin")
	require.Equal(t, 1, code, "cat of a file larger than the relay carries: %s", errOut)
	require.Contains(t, errOut, "reachable only through a relay")
	require.Less(t, total, time.Minute, "the relay's limit, not a timeout, must end cat")
	t.Logf("timing: cat of the large file behind symmetric NATs failed after %s: %s", total.Round(time.Millisecond), strings.TrimSpace(errOut))

	// A browser: the gateway answers 503 with the reason, not 504 after
	// its retrieval timeout.
	status, body, _, total := visitor.httpGet(t, "/ipns/"+w.name+"/photo.bin")
	require.Equal(t, 503, status, "%s", body)
	require.Contains(t, string(body), "reachable only through a relay")
	require.Less(t, total, time.Minute, "the relay's limit, not a timeout, must end the request")
	t.Logf("timing: the gateway answered 503 for the large file after %s", total.Round(time.Millisecond))

	c := visitor.connection(t, author)
	require.Contains(t, c, "/p2p-circuit", "symmetric NATs on both sides: no direct connection")
}

// TestNATFollowerKeepsSiteUp is check 5: a follower behind a NAT of its
// own fetches the author's site; with the author offline, a visitor behind
// a third NAT still resolves the name and gets the whole site, from the
// follower.
func TestNATFollowerKeepsSiteUp(t *testing.T) {
	w := newNATWorld(t)
	author := w.author(t, netns.NATPreserving)
	follower := startNATNode(t, w.net.Home("follower", netns.NATPreserving), "follower", w.pub, "--follow-interval", "5s")
	for _, n := range []*natNode{author, follower} {
		n.await(t, "got ready for hole punching", func(id natIdentity) bool { return id.Reachability.HolePunching })
	}
	follower.await(t, "got a relay address", func(id natIdentity) bool {
		return id.Reachability.Status == "private" && len(id.Reachability.RelayAddrs) > 0
	})

	follower.ok(t, "follow", w.name)
	var cid string
	require.Eventually(t, func() bool {
		var fs []struct {
			Name    string `json:"name"`
			LastCID string `json:"lastCid"`
		}
		out := follower.ok(t, "follow", "ls", "--json")
		require.NoError(t, json.Unmarshal([]byte(out), &fs), out)
		for _, f := range fs {
			if f.Name == w.name && f.LastCID != "" {
				cid = f.LastCID
				return true
			}
		}
		return false
	}, natDeadline, 250*time.Millisecond, "the follower never fetched the site")
	author.stop(t)

	visitor := startNATNode(t, w.net.Home("visitor", netns.NATPreserving), "visitor", w.pub)
	visitor.await(t, "got ready for hole punching", func(id natIdentity) bool { return id.Reachability.HolePunching })
	require.Equal(t, "/ipfs/"+cid, strings.TrimSpace(visitor.ok(t, "name", "resolve", w.name)))
	got := filepath.Join(t.TempDir(), "got")
	status, page, first, total := visitor.httpGet(t, "/ipns/"+w.name+"/")
	require.Equal(t, 200, status, "%s", page)
	t.Logf("timing: home page from the follower with the author offline, visitor's gateway: first byte %s, all %s", first.Round(time.Millisecond), total.Round(time.Millisecond))
	_, _, total, errOut, code := visitor.timed(t, "get", "/ipns/"+w.name, "-o", got)
	require.Zero(t, code, errOut)
	requireSameTree(t, w.site, got)
	served := follower.identity(t).Reachability.LastServed
	require.NotNil(t, served, "the follower served nothing")
	require.Equal(t, visitor.id, served.Peer)
	t.Logf("timing: whole site (%s) from the follower with the author offline, island get, last block %s: %s",
		treeSize(t, got), served.Path, total.Round(time.Millisecond))
}
