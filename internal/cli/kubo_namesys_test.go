//go:build integration

package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestKuboNamesysPubsub is issue 15's interop try: a Kubo daemon started
// with --enable-namesys-pubsub resolves a name island publishes, and sees
// each new version as island pushes it. Kubo's routing is "none", so what
// it resolves can only have come over pubsub: the version published
// before it subscribed by asking island on joining the name's topic
// (/libp2p/fetch/0.0.1), the next one by gossip. It needs a Kubo binary
// named by ISLAND_KUBO; all on loopback.
func TestKuboNamesysPubsub(t *testing.T) {
	dir := t.TempDir()
	ipfs := startKubo(t, filepath.Join(dir, "kubo"), map[string]string{"Routing.Type": `"none"`}, "--enable-namesys-pubsub")
	b := startDaemonProc(t, "island", filepath.Join(dir, "island"), nil)

	published := regexp.MustCompile(`Published to (\S+): (/ipfs/\S+)`)
	publish := func(content string) (name, value string) {
		t.Helper()
		file := filepath.Join(dir, content)
		require.NoError(t, os.WriteFile(file, []byte(content), 0o644))
		c := strings.TrimSpace(b.ok(t, "add", "-q", file))
		m := published.FindStringSubmatch(b.ok(t, "name", "publish", "/ipfs/"+c))
		require.NotNil(t, m)
		return m[1], m[2]
	}
	resolvesTo := func(name, want string) {
		t.Helper()
		var out string
		require.Eventually(t, func() bool {
			var err error
			out, err = ipfs("name", "resolve", "--nocache", "--timeout=5s", "/ipns/"+name)
			return err == nil && strings.TrimSpace(out) == want
		}, netDeadline, 200*time.Millisecond, "kubo resolves %s to %q, not %s", name, out, want)
	}

	name, v1 := publish("version one")
	out, err := ipfs("swarm", "connect", b.addr)
	require.NoError(t, err, out)
	resolvesTo(name, v1)
	out, err = ipfs("name", "pubsub", "subs")
	require.NoError(t, err, out)
	require.Contains(t, out, "/ipns/"+name, "kubo is on the name's topic")

	_, v2 := publish("version two")
	resolvesTo(name, v2)

	// After a restart the daemon is on its name's topic again at once (its
	// republisher pushes), so a Kubo that comes later finds the record.
	b.stop(t)
	b = startDaemonProc(t, "island again", b.repo, nil)
	ipfs = startKubo(t, filepath.Join(dir, "kubo2"), map[string]string{"Routing.Type": `"none"`}, "--enable-namesys-pubsub")
	out, err = ipfs("swarm", "connect", b.addr)
	require.NoError(t, err, out)
	resolvesTo(name, v2)
}
