package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNetworkPushToFollower: a follower whose periodic check is an hour
// away still gets a new version, because the author's daemon pushes the
// record over IPNS pubsub and the follower fetches it at once.
func TestNetworkPushToFollower(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two daemons")
	}
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	writeSite(t, content, "The first version.")

	a := startDaemonProc(t, "A", filepath.Join(dir, "a"), nil)
	b := startDaemonProc(t, "B", filepath.Join(dir, "b"), []*daemonProc{a}, "--follow-interval", "1h")

	var v1 siteVersionOut
	require.NoError(t, json.Unmarshal([]byte(a.ok(t, "publish", "--content", content, "--json", "--no-check")), &v1))
	// Following checks the name once at once; the next round is an hour off.
	b.ok(t, "follow", v1.Name)
	b.eventually(t, func(out string) bool { return strings.Contains(out, v1.CID) }, "follow", "ls", "--json")

	writeSite(t, content, "The second version.")
	var v2 siteVersionOut
	require.NoError(t, json.Unmarshal([]byte(a.ok(t, "publish", "--content", content, "--json", "--no-check")), &v2))
	require.NotEqual(t, v1.CID, v2.CID)
	b.eventually(t, func(out string) bool { return strings.Contains(out, v2.CID) }, "follow", "ls", "--json")
	require.Contains(t, b.ok(t, "cat", "/ipfs/"+v2.CID+"/posts/hello/index.html"), "The second version.")
}
