package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/daemon"
	"github.com/islandsite/island/internal/testutil"
)

// TestSameWithOrWithoutDaemon runs every command of docs/interface.md (docs/
// interface.md) on two copies of one repo: on one the command opens the
// repo itself, on the other a daemon holds it and the command goes through
// its API. Both repos start identical (same identity, same content), so
// every command must print the same and exit the same way, step after
// step. Times are the only thing allowed to differ.
func TestSameWithOrWithoutDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon")
	}
	local, remote := testEnv(t), testEnv(t)
	// One repo, copied: the same peer ID and keys on both sides.
	c, err := core.Open(context.Background(), core.Config{RepoPath: repoOf(t, local)})
	require.NoError(t, err)
	require.NoError(t, c.Close())
	// Keys are random: made once, before the copy.
	mustRun(t, local, "key", "gen", "blog")
	require.NoError(t, os.RemoveAll(repoOf(t, remote)))
	require.NoError(t, exec.Command("cp", "-a", repoOf(t, local), repoOf(t, remote)).Run())

	// The same input files in each command's working directory.
	_, fname := newEd25519(t)
	other, otherName := newEd25519(t)
	for _, env := range []*Env{local, remote} {
		writeContent(t, env, smallSite("First words."))
		files := map[string]string{
			"hello.txt":              "hello, island\n",
			"dir/a.txt":              "a\n",
			"dir/sub/b.txt":          "b\n",
			"dir/.hidden":            "hidden\n",
			"token":                  "a-token\n",
			"empty/placeholder":      "",
			"pinning/v1/ignored":     "",
			"built/index.html":       `<!doctype html><link rel="stylesheet" href="/site.css"><a href="about/">about</a>`,
			"built/about/index.html": `<!doctype html><a href="../">home</a>`,
			"built/.hidden":          "not published",
		}
		for p, s := range files {
			f := filepath.Join(env.Cwd, filepath.FromSlash(p))
			require.NoError(t, os.MkdirAll(filepath.Dir(f), 0o755))
			require.NoError(t, os.WriteFile(f, []byte(s), 0o644))
		}
	}
	// A CAR of an incomplete DAG, for dag import --pin-roots=false.
	corpus := testEnv(t)
	mustRun(t, corpus, "add", "-q", testutil.Corpus(t, 20, 3))
	part := partialCAR(t, []byte(mustRun(t, corpus, "dag", "export", corpusSmallRoot)))
	for _, env := range []*Env{local, remote} {
		require.NoError(t, os.WriteFile(filepath.Join(env.Cwd, "part.car"), part, 0o644))
	}
	startDaemon(t, remote, func(cfg *daemon.Config) {
		// Offline, like the command without a daemon: no network to differ by.
		cfg.Core.Mode = core.ModeOffline
		cfg.Gateway.ListenAddr = ""
	})

	hello := strings.TrimSpace(mustRun(t, local, "add", "--only-hash", "-q", "hello.txt"))
	dir := "" // filled in from add's output
	record := writeTemp(t, "r.ipns-record", signedRecord(t, other, "/ipfs/"+hello, 3, time.Now().Add(time.Hour)))
	nsMap := withVar(local, "IPFS_NS_MAP", "example.org:/ipfs/"+hello)
	nsMapRemote := withVar(remote, "IPFS_NS_MAP", "example.org:/ipfs/"+hello)

	type step struct {
		args []string
		// stderr says the error output must match too (a failure's message);
		// notes about the missing node differ by design.
		stderr bool
		// nsMap runs the command with IPFS_NS_MAP set, as the issue's
		// user did.
		nsMap bool
		// fails says the command fails on both sides (stderr ones too).
		fails bool
	}
	steps := []step{
		{args: []string{"id"}},
		{args: []string{"id", "--json"}},
		{args: []string{"key", "ls"}},
		{args: []string{"key", "gen", "blog"}, stderr: true},
		{args: []string{"key", "ls", "--json"}},
		{args: []string{"add", "hello.txt"}},
		{args: []string{"add", "-q", "dir"}},
		{args: []string{"add", "--hidden", "--json", "dir"}},
		{args: []string{"add", "--only-hash", "-q", "hello.txt", "dir"}},
		{args: []string{"add", "nowhere"}, stderr: true},
		{args: []string{"cat", hello}},
		{args: []string{"cat", "/ipfs/" + hello}},
		{args: []string{"cat", "not-a-cid"}, stderr: true},
		{args: []string{"cat", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"}, fails: true},
		{args: []string{"ls", "DIR"}},
		{args: []string{"ls", "--json", "DIR/sub"}},
		{args: []string{"get", "-o", "out", "DIR"}},
		{args: []string{"get", "-o", "out", "DIR"}, stderr: true},
		{args: []string{"cat", "/ipns/example.org"}, nsMap: true},
		{args: []string{"name", "resolve", "example.org"}, nsMap: true},
		{args: []string{"name", "resolve", "example.org"}, fails: true},
		{args: []string{"pin", "ls"}},
		{args: []string{"pin", "add", "--recursive=false", "DIR/a.txt"}},
		{args: []string{"pin", "ls", "--json"}},
		{args: []string{"pin", "rm", "DIR/a.txt"}},
		{args: []string{"pin", "rm", "DIR/a.txt"}, stderr: true},
		{args: []string{"dag", "export", "DIR"}},
		{args: []string{"dag", "import", "part.car"}, stderr: true},
		{args: []string{"dag", "import", "--pin-roots=false", "part.car"}},
		{args: []string{"dag", "import", "--pin-roots=false", "--json", "part.car"}},
		{args: []string{"publish", "--no-check"}},
		{args: []string{"publish", "--no-check", "--json"}},
		{args: []string{"publish", "--no-check", "--lifetime", "40d"}},
		{args: []string{"publish", "--no-check", "--lifetime", "1m"}, stderr: true},
		{args: []string{"history"}},
		{args: []string{"history", "--json"}},
		{args: []string{"history", "export", "-o", "self.history.car"}},
		{args: []string{"history", "export", "-o", "self.history.car"}, stderr: true},
		{args: []string{"history", "import", "self.history.car"}},
		{args: []string{"history", "import", "--json", "part.car"}, stderr: true},
		{args: []string{"rollback"}, stderr: true},
		{args: []string{"publish", "--no-check", "--dir", "built"}},
		{args: []string{"publish", "--no-check", "--dir", "built", "--json"}},
		{args: []string{"publish", "--dir", "nowhere"}, stderr: true},
		{args: []string{"history", "--json"}},
		{args: []string{"pin", "ls", "-q"}},
		{args: []string{"pin", "rm", hello}},
		{args: []string{"gc"}},
		{args: []string{"gc", "--json"}},
		{args: []string{"cat", hello}, fails: true},
		{args: []string{"repo", "verify"}},
		{args: []string{"follow", "--max-size", "2MiB", "example.org"}},
		{args: []string{"repo", "stat"}},
		{args: []string{"repo", "stat", "--json"}},
		{args: []string{"repo", "verify", "--json"}},
		{args: []string{"name", "publish", "--key", "blog", "DIR"}},
		{args: []string{"name", "publish", "--key", "nope", "DIR"}, stderr: true},
		{args: []string{"name", "resolve", "--json", "SELF"}},
		{args: []string{"routing", "put", "/ipns/" + otherName.String(), record}},
		{args: []string{"routing", "put", "/ipns/" + fname.String(), record}, stderr: true},
		{args: []string{"routing", "get", "/ipns/" + otherName.String()}},
		{args: []string{"follow", "/ipns/" + otherName.String()}},
		{args: []string{"follow", "example.net"}},
		{args: []string{"follow", "ls"}},
		{args: []string{"follow", "ls", "--json"}},
		{args: []string{"follow", "rm", "example.net"}},
		{args: []string{"follow", "rm", "example.net"}, stderr: true},
		{args: []string{"pin", "remote", "service", "add", "friend", "http://127.0.0.1:1/pinning/v1", "@token"}},
		{args: []string{"pin", "remote", "service", "ls", "--json"}},
		{args: []string{"pin", "remote", "service", "rm", "friend"}},
		{args: []string{"key", "export", "-o", "blog.key", "blog"}},
		{args: []string{"key", "rm", "blog"}},
		{args: []string{"key", "import", "blog", "blog.key"}},
		{args: []string{"key", "import", "self", "blog.key"}, stderr: true},
		{args: []string{"key", "rm", "blog"}},
		{args: []string{"status", "--json"}},
		{args: []string{"peers"}, fails: true},
		{args: []string{"provide", "stat"}, fails: true},
		{args: []string{"build", "--out", "public"}},
		{args: []string{"version"}},
	}
	times := regexp.MustCompile(`\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?`)
	// What the stores take on disk differs by what each side wrote for
	// itself (a daemon's logs of the DHT, pebble's compactions).
	usage := regexp.MustCompile(`"used_bytes": \d+|used \S+ \S+ of`)
	for i, st := range steps {
		args := slicesReplace(st.args, "DIR", dir)
		args = slicesReplace(args, "SELF", keyID(t, local, "self"))
		envL, envR := local, remote
		if st.nsMap {
			envL, envR = nsMap, nsMapRemote
		}
		codeL, outL, errL := runCLI(t, envL, args...)
		codeR, outR, errR := runCLI(t, envR, args...)
		norm := func(s string, env *Env) string {
			s = strings.ReplaceAll(s, env.Cwd, "<cwd>")
			s = strings.ReplaceAll(s, repoOf(t, env), "<repo>")
			s = usage.ReplaceAllString(s, "<used>")
			return times.ReplaceAllString(s, "<time>")
		}
		name := strings.Join(args, " ")
		require.Equal(t, st.fails || st.stderr, codeL != 0, "step %d, island %s: exit %d: %s", i, name, codeL, errL)
		require.Equal(t, codeL, codeR, "step %d, island %s: exit status without a daemon (%s) and with one (%s)", i, name, errL, errR)
		if args[0] == "routing" && args[1] == "get" {
			// The record's bytes are the ones put, on both sides.
			require.Equal(t, outL, outR, "island %s", name)
		} else {
			require.Equal(t, norm(outL, local), norm(outR, remote), "step %d, island %s: output without and with a daemon", i, name)
		}
		if st.nsMap && args[0] == "cat" {
			require.Equal(t, "hello, island\n", outR, "the daemon resolved with the command's IPFS_NS_MAP")
		}
		if st.stderr {
			require.NotEmpty(t, errL, "island %s is meant to fail", name)
			require.Equal(t, norm(errL, local), norm(errR, remote), "step %d, island %s: error without and with a daemon", i, name)
		}
		if args[0] == "add" && args[1] == "-q" {
			dir = strings.TrimSpace(outL)
		}
	}
	// The IPFS_NS_MAP of the command, not the daemon's, decided above: the
	// daemon's own environment never had one.
	require.Equal(t, "", remote.Getenv("IPFS_NS_MAP"))
}

func slicesReplace(ss []string, from, to string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ReplaceAll(s, from, to)
	}
	return out
}
