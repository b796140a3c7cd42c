package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"

	"github.com/islandsite/island/internal/daemon"
	"github.com/islandsite/island/internal/names/namestest"
	"github.com/islandsite/island/internal/testutil/testnet"
)

// withVar is env with one more environment variable set.
func withVar(env *Env, key, value string) *Env {
	e := *env
	get := env.Getenv
	e.Getenv = func(k string) string {
		if k == key {
			return value
		}
		return get(k)
	}
	return &e
}

// keyID is the IPNS name of the key called name in env's repo.
func keyID(t *testing.T, env *Env, name string) string {
	t.Helper()
	var keys []core.Key
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "key", "ls", "--json")), &keys))
	for _, k := range keys {
		if k.Name == name {
			return k.ID
		}
	}
	t.Fatalf("no key %q in %v", name, keys)
	return ""
}

// addText adds a file holding s and returns its CID.
func addText(t *testing.T, env *Env, s string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "f.txt")
	require.NoError(t, os.WriteFile(f, []byte(s), 0o644))
	return strings.TrimSpace(mustRun(t, env, "add", "-q", f))
}

func TestNamePublishResolveOffline(t *testing.T) {
	env := testEnv(t)
	c := addText(t, env, "hello, names")
	self := keyID(t, env, "self")

	code, out, stderr := runCLI(t, env, "name", "publish", c)
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "Published to "+self+": /ipfs/"+c+"\n", out)
	require.Contains(t, stderr, "'island daemon' puts it to the DHT when it starts")
	for _, arg := range []string{self, "/ipns/" + self} {
		require.Equal(t, "/ipfs/"+c+"\n", mustRun(t, env, "name", "resolve", arg), arg)
	}

	// Another key, by name or by IPNS name, with its own TTL and lifetime.
	blog := strings.TrimSpace(mustRun(t, env, "key", "gen", "blog"))
	before := time.Now()
	var rec core.Record
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "name", "publish", "--key", "blog", "--ttl", "1m", "--lifetime", "2h", "--json", "/ipfs/"+c)), &rec))
	require.Equal(t, blog, rec.Name)
	require.Equal(t, "/ipfs/"+c, rec.Value)
	require.Equal(t, uint64(1), rec.Seq)
	require.Equal(t, "1m0s", rec.TTL)
	require.WithinRange(t, rec.EOL, before.Add(2*time.Hour), time.Now().Add(2*time.Hour))
	var res core.Resolved
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "name", "resolve", "--json", "/ipns/"+blog)), &res))
	require.Equal(t, core.Resolved{Path: "/ipfs/" + c, Name: blog, Seq: 1, TTL: "1m0s", EOL: &rec.EOL}, res)
	require.Equal(t, blog+"\n", mustRun(t, env, "name", "publish", "-Q", "--key", blog, c), "--key takes an IPNS name too")
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "name", "resolve", "--json", blog)), &res))
	require.Equal(t, uint64(2), res.Seq, "every publish supersedes the last")

	// DNSLink through IPFS_NS_MAP, pointing at a name.
	mapped := withVar(env, "IPFS_NS_MAP", "example.org:/ipns/"+self)
	require.Equal(t, "/ipfs/"+c+"\n", mustRun(t, mapped, "name", "resolve", "example.org"))
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, mapped, "name", "resolve", "--json", "/ipns/example.org")), &res))
	require.Equal(t, "/ipfs/"+c, res.Path)
	require.Equal(t, self, res.Name)

	missing := "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"publish a CID the repo lacks", []string{"name", "publish", missing}, exitFailure, "does not resolve (--resolve=false publishes it anyway)"},
		{"publish a path that does not resolve", []string{"name", "publish", c + "/nope"}, exitFailure, "does not resolve"},
		{"publish not a path", []string{"name", "publish", "/nfs/x"}, exitUsage, "is not a content path"},
		{"publish unknown key", []string{"name", "publish", "--key", "nope", c}, exitFailure, `no key named "nope"`},
		{"publish bad ttl", []string{"name", "publish", "--ttl", "-1s", c}, exitUsage, "--ttl -1s"},
		{"publish bad lifetime", []string{"name", "publish", "--lifetime", "0s", c}, exitUsage, "--lifetime 0s"},
		{"resolve unknown name", []string{"name", "resolve", "k51qzi5uqu5dl5r7cgevfx290ssl3y3u0mv3of4evdc9jyjpkrnufhevqzdh95"}, exitFailure, "not found: no record for k51qzi5uqu5dl5r7cgevfx290ssl3y3u0mv3of4evdc9jyjpkrnufhevqzdh95 locally or in routing (no node is running"},
		{"resolve neither key nor domain", []string{"name", "resolve", "nope"}, exitFailure, `"nope" is neither an IPNS key nor a DNSLink domain`},
		{"resolve domain without DNS", []string{"name", "resolve", "example.com"}, exitFailure, "set IPFS_NS_MAP=example.com:/ipfs/CID"},
		{"resolve without name", []string{"name", "resolve"}, exitUsage, "takes 1 argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, env, tt.args...)
			require.Equal(t, tt.code, code, stderr)
			require.Contains(t, stderr, tt.stderr)
		})
	}
	require.Equal(t, "Published to "+self+": /ipfs/"+missing+"\n", mustRun(t, env, "name", "publish", "--resolve=false", missing))
	require.Equal(t, "/ipfs/"+missing+"\n", mustRun(t, env, "name", "resolve", self))
}

func TestNameResolveExpired(t *testing.T) {
	env := testEnv(t)
	c := addText(t, env, "short-lived")
	short := strings.TrimSpace(mustRun(t, env, "key", "gen", "short"))
	mustRun(t, env, "name", "publish", "--key", "short", "--lifetime", "1s", c)
	var stderr string
	require.Eventually(t, func() bool {
		var code int
		code, _, stderr = runCLI(t, env, "name", "resolve", short)
		return code == exitFailure
	}, 20*time.Second, 50*time.Millisecond)
	require.Contains(t, stderr, "island: name resolve: names: record for "+short+" expired at ")
}

// TestNamesReachDHT: a name published without a daemon reaches the DHT when
// the daemon starts; online, name publish and routing put reach it at once;
// commands are forwarded to the daemon holding the repo.
func TestNamesReachDHT(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two daemons")
	}
	envA, envB := testEnv(t), testEnv(t)
	c1 := addText(t, envA, "published offline")
	mustRun(t, envA, "name", "publish", c1)
	selfA := keyID(t, envA, "self")
	offline := []byte(mustRun(t, envA, "routing", "get", "/ipns/"+selfA))

	b := startDaemon(t, envB, nil)
	a := startDaemon(t, envA, func(cfg *daemon.Config) {
		bootstrapTo(b)(cfg)
		// The first round runs before A knows B; the retry must not take a minute.
		cfg.RepublishRetry = 20 * time.Millisecond
	})
	testnet.AwaitDHTNeighbours(t, a.Core().Node(), b.Core().Node().ID())
	require.Eventually(t, func() bool { return dhtHolds(t, b, selfA, offline) }, 30*time.Second, 20*time.Millisecond,
		"A's republisher never put the record published offline to B")

	// routing put through A's daemon: stored and put to B.
	key, name := newEd25519(t)
	fixture := signedRecord(t, key, "/ipfs/"+c1, 1, time.Now().Add(time.Hour))
	code, _, stderr := runCLI(t, envA, "routing", "put", "/ipns/"+name.String(), writeTemp(t, "f.ipns-record", fixture))
	require.Equal(t, exitOK, code, stderr)
	require.NotContains(t, stderr, "warning")
	require.True(t, dhtHolds(t, b, name.String(), fixture), "routing put returns once the record is put to peers")

	// name publish through A's daemon: online, no note about a missing node.
	c2 := addText(t, envA, "published online")
	code, out, stderr := runCLI(t, envA, "name", "publish", c2)
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "Published to "+selfA+": /ipfs/"+c2+"\n", out)
	require.Empty(t, stderr)
	online := []byte(mustRun(t, envA, "routing", "get", "/ipns/"+selfA))
	require.True(t, dhtHolds(t, b, selfA, online))

	// With A gone, B (through its daemon) still resolves both names.
	a.stop()
	require.Equal(t, "/ipfs/"+c2+"\n", mustRun(t, envB, "name", "resolve", selfA))
	var res core.Resolved
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, envB, "name", "resolve", "--json", "/ipns/"+name.String())), &res))
	require.Equal(t, "/ipfs/"+c1, res.Path)
	require.Equal(t, uint64(1), res.Seq)
	require.Equal(t, string(online), mustRun(t, envB, "routing", "get", "/ipns/"+selfA))
}

// TestNamePublishRetriedByDaemon: a name published through a daemon that
// has no peers yet is stored, and the daemon keeps putting it until a peer
// takes it. Key commands go through the daemon too.
func TestNamePublishRetriedByDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two daemons")
	}
	envA, envB := testEnv(t), testEnv(t)
	a := startDaemon(t, envA, func(cfg *daemon.Config) { cfg.RepublishRetry = 20 * time.Millisecond })
	blog := strings.TrimSpace(mustRun(t, envA, "key", "gen", "blog"))
	require.Equal(t, blog, keyID(t, envA, "blog"))
	c := addText(t, envA, "published alone")
	code, out, stderr := runCLI(t, envA, "name", "publish", "--key", "blog", c)
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "Published to "+blog+": /ipfs/"+c+"\n", out)
	require.Contains(t, stderr, "island: warning: the record is stored in the repo, but names: put to routing failed")
	require.Contains(t, stderr, "the daemon keeps trying until it gets there")
	rec := []byte(mustRun(t, envA, "routing", "get", "/ipns/"+blog))

	b := startDaemon(t, envB, nil)
	ctx := context.Background()
	require.NoError(t, a.Core().Node().Host().Connect(ctx, testnet.AddrInfo(b.Core().Node())))
	require.Eventually(t, func() bool { return dhtHolds(t, b, blog, rec) }, 30*time.Second, 20*time.Millisecond,
		"A's daemon never put the record once it had a peer")
	require.Equal(t, blog+"\tblog\n", mustRun(t, envA, "key", "rm", "blog"))
}

// TestDNSLinkThroughDaemon: with --dns-resolver naming a DNS server (the
// test's own, on 127.0.0.1), a DNSLink domain resolves, is followed and is
// served on the gateway's /ipns/ path; a bad --dns-resolver is a usage error.
func TestDNSLinkThroughDaemon(t *testing.T) {
	env := testEnv(t)
	srv := namestest.DNSServer(t)
	c := addText(t, env, "a site behind DNSLink")
	srv.Set("example.org", "/ipfs/"+c, 60)

	d := startCLI(t, env, "daemon", "--bootstrap", "none", "--listen", "/ip4/127.0.0.1/tcp/0",
		"--api", "127.0.0.1:0", "--gateway", "127.0.0.1:0", "--dns-resolver", srv.Addr)
	d.waitOutput(t, "Daemon is ready")

	require.Equal(t, "/ipfs/"+c+"\n", mustRun(t, env, "name", "resolve", "example.org"))
	gw, err := os.ReadFile(filepath.Join(repoOf(t, env), "gateway"))
	require.NoError(t, err)
	require.Equal(t, "a site behind DNSLink", httpGet(t, strings.TrimSpace(string(gw))+"/ipns/example.org"))

	mustRun(t, env, "follow", "example.org")
	require.Eventually(t, func() bool {
		fs := followed(t, env)
		return len(fs) == 1 && fs[0].LastCID == c
	}, 30*time.Second, 20*time.Millisecond, "the follower never resolved example.org: %+v", followed(t, env))
	require.Equal(t, 0, d.stop(t))

	code, _, stderr := runCLI(t, env, "daemon", "--dns-resolver", "dns.example")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, `--dns-resolver: names: DNS resolver "dns.example": want system, none`)
}
