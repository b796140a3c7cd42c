package cli

// Multi-process network tests: several `island daemon` processes on
// loopback, each with its own repo, driven by the island binary as a user
// would drive it.

import (
	"encoding/json"
	"fmt"
	"io/fs"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/testutil"
)

// netDeadline bounds every wait on the network: generous, since the
// machine may be small and busy with -race tests.
const netDeadline = 90 * time.Second

// daemonProc is an `island daemon` child process.
type daemonProc struct {
	name   string
	repo   string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	exited chan struct{}
	err    error // set when exited is closed
	id     string
	addr   string // a loopback TCP multiaddr ending in /p2p/<id>
}

// startDaemonProc starts a daemon process on repo listening on loopback only, with
// bootstrap peers boot (none when empty) and extra flags, and waits until
// it is ready. It is killed at cleanup if the test did not stop it.
func startDaemonProc(t *testing.T, name, repo string, boot []*daemonProc, extra ...string) *daemonProc {
	t.Helper()
	args := []string{"--repo", repo, "daemon",
		"--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0", "--gateway", "127.0.0.1:0"}
	if len(boot) == 0 {
		args = append(args, "--bootstrap", "none")
	}
	for _, b := range boot {
		args = append(args, "--bootstrap", b.addr)
	}
	args = append(args, extra...)
	d := &daemonProc{name: name, repo: repo, stdout: newSyncBuffer(), stderr: newSyncBuffer(), exited: make(chan struct{})}
	d.cmd = testutil.DieWithTest(exec.Command(islandBinary(t), args...))
	d.cmd.Stdout, d.cmd.Stderr = d.stdout, d.stderr
	require.NoError(t, d.cmd.Start())
	go func() {
		d.err = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			_ = d.cmd.Process.Signal(syscall.SIGKILL)
			<-d.exited
		}
		if t.Failed() {
			t.Logf("daemon %s stdout:\n%s\nstderr:\n%s", d.name, d.stdout, d.stderr)
		}
	})
	require.Eventually(t, func() bool {
		select {
		case <-d.exited:
			return true
		default:
		}
		return strings.Contains(d.stdout.String(), "Daemon is ready")
	}, netDeadline, 20*time.Millisecond)
	select {
	case <-d.exited:
		t.Fatalf("daemon %s exited at start (%v): %s", name, d.err, d.stderr)
	default:
	}

	var id idJSON
	require.NoError(t, json.Unmarshal([]byte(d.ok(t, "id", "--json")), &id))
	d.id = id.ID
	for _, a := range id.Addrs {
		if strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") {
			d.addr = a
		}
	}
	require.NotEmpty(t, d.addr, "daemon %s has no loopback TCP address: %v", name, id.Addrs)
	return d
}

// run runs an island command on the daemon's repo (so, through its API).
func (d *daemonProc) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return island(t, d.repo, args...)
}

func (d *daemonProc) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := d.run(t, args...)
	require.Zero(t, code, "%s: island %s: %s", d.name, strings.Join(args, " "), errOut)
	return out
}

// stop interrupts the daemon as Ctrl-C does; it must be gone, with its
// announcement files, within 5 seconds.
func (d *daemonProc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGINT))
	select {
	case <-d.exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("daemon %s still runs 5s after SIGINT", d.name)
	}
	require.NoError(t, d.err, "daemon %s: %s", d.name, d.stderr)
	require.NoFileExists(t, filepath.Join(d.repo, "api"))
	require.NoFileExists(t, filepath.Join(d.repo, "gateway"))
}

// eventually retries an island command until its output satisfies ok.
func (d *daemonProc) eventually(t *testing.T, ok func(out string) bool, args ...string) string {
	t.Helper()
	var out, errOut string
	require.Eventually(t, func() bool {
		var code int
		out, errOut, code = d.run(t, args...)
		return code == 0 && ok(out)
	}, netDeadline, 200*time.Millisecond, "%s: island %s never gave what was expected; last: %s%s",
		d.name, strings.Join(args, " "), out, errOut)
	return out
}

// writeSite writes a small content directory with one post.
func writeSite(t *testing.T, dir, post string) {
	t.Helper()
	for name, data := range smallSite(post) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
}

// requireSameTree asserts that two directories hold the same files with
// the same bytes.
func requireSameTree(t *testing.T, want, got string) {
	t.Helper()
	read := func(root string) map[string]string {
		files := map[string]string{}
		require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			files[filepath.ToSlash(rel)] = string(b)
			return err
		}))
		return files
	}
	w, g := read(want), read(got)
	require.NotEmpty(t, w)
	require.Equal(t, w, g)
}

// builtSite renders content with `island build` into a new directory.
func builtSite(t *testing.T, content string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "public")
	islandOK(t, t.TempDir(), "build", "--content", content, "--out", out)
	return out
}

// TestNetworkGetThroughAPeer is issue 5's network test: A adds a site, B
// knows A, C knows only B, and C gets A's site by CID, byte for byte.
func TestNetworkGetThroughAPeer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three daemons")
	}
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	writeSite(t, content, "Words for the network.")
	site := builtSite(t, content)
	require.NoError(t, os.WriteFile(filepath.Join(site, "big.bin"), testutil.RandomBytes(3<<20, 5), 0o644))

	a := startDaemonProc(t, "A", filepath.Join(dir, "a"), nil)
	b := startDaemonProc(t, "B", filepath.Join(dir, "b"), []*daemonProc{a})
	// C may meet A through B's DHT; it is only ever told of B.
	c := startDaemonProc(t, "C", filepath.Join(dir, "c"), []*daemonProc{b})

	root := strings.TrimSpace(a.ok(t, "add", "-q", site))
	out := filepath.Join(dir, "got")
	c.ok(t, "get", root, "-o", out, "--timeout", "60s")
	requireSameTree(t, site, out)
}

// TestNetworkPublishFollow is issue 7's network test: A publishes, B follows
// A's name, C (knowing only B) resolves it and gets the site; with A gone,
// C still gets it from B and a newcomer knowing only B still resolves the
// name; A comes back and publishes a change, and B pins it on its own.
func TestNetworkPublishFollow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four daemons")
	}
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	writeSite(t, content, "The first version.")
	first := builtSite(t, content)

	a := startDaemonProc(t, "A", filepath.Join(dir, "a"), nil)
	b := startDaemonProc(t, "B", filepath.Join(dir, "b"), []*daemonProc{a}, "--follow-interval", "1s")
	c := startDaemonProc(t, "C", filepath.Join(dir, "c"), []*daemonProc{b})

	// A publishes, and another peer can fetch what it published.
	var v1 siteVersionOut
	require.NoError(t, json.Unmarshal([]byte(a.ok(t, "publish", "--content", content, "--json", "--check-timeout", "60s")), &v1))
	require.Equal(t, 1, v1.Version)
	require.True(t, v1.Retrievable.OK, "retrievability check: %+v", v1.Retrievable)
	name := "/ipns/" + v1.Name

	// C resolves the name through B and gets the site.
	got := filepath.Join(dir, "c-got-1")
	c.ok(t, "get", name, "-o", got, "--timeout", "60s")
	requireSameTree(t, first, got)
	// get keeps none of what it streamed (docs/contracts.md): gc finds nothing.
	require.Regexp(t, `^removed 0 blocks`, c.ok(t, "gc"))

	// B follows A's name.
	b.ok(t, "follow", v1.Name)
	b.eventually(t, func(out string) bool { return strings.Contains(out, v1.CID) }, "follow", "ls", "--json")

	// Without A, C still resolves the name and gets the site, from B.
	a.stop(t)
	got = filepath.Join(dir, "c-got-2")
	c.ok(t, "get", name, "-o", got, "--timeout", "60s")
	requireSameTree(t, first, got)
	// A newcomer that knows only B resolves the name too: B keeps A's record alive.
	d := startDaemonProc(t, "D", filepath.Join(dir, "d"), []*daemonProc{b})
	require.Contains(t, d.ok(t, "cat", name+"/posts/hello/index.html"), "The first version.")

	// A comes back, edits the post and publishes; B pins the new version
	// within a few follow intervals.
	a = startDaemonProc(t, "A again", a.repo, []*daemonProc{b})
	writeSite(t, content, "The second version.")
	var v2 siteVersionOut
	require.NoError(t, json.Unmarshal([]byte(a.ok(t, "publish", "--content", content, "--json", "--no-check")), &v2))
	require.Equal(t, 2, v2.Version)
	require.Greater(t, v2.Seq, v1.Seq)
	b.eventually(t, func(out string) bool { return strings.Contains(out, v2.CID) }, "follow", "ls", "--json")
}

// TestNetworkServe runs serve on a network of two: each version it
// publishes is checked to be retrievable by another peer.
func TestNetworkServe(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon")
	}
	b := startDaemonProc(t, "B", filepath.Join(t.TempDir(), "b"), nil)
	env := testEnv(t)
	writeContent(t, env, smallSite("Served words."))
	srv := startCLI(t, env, "serve", "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0", "--gateway", "127.0.0.1:0",
		"--bootstrap", b.addr, "--debounce", "50ms", "--check-timeout", "60s")
	srv.waitOutput(t, "Daemon is ready")
	srv.waitOutput(t, "retrievable (version 1): yes")
	name := regexp.MustCompile(`name: /ipns/(k51\w+)`).FindStringSubmatch(srv.stdout.String())
	require.NotNil(t, name, srv.stdout.String())
	require.Contains(t, b.ok(t, "cat", "/ipns/"+name[1]+"/posts/hello/index.html"), "Served words.", "B resolves the name serve published at start")
	writeContent(t, env, map[string]string{"posts/hello.md": "---\ntitle: Hello\n---\nChanged words.\n"})
	srv.waitOutput(t, "retrievable (version 2): yes")
	v2 := waitVersions(t, env, 2)[1]
	require.Contains(t, b.ok(t, "cat", v2.CID+"/posts/hello/index.html"), "Changed words.", "B fetches the new version from serve")
	require.Equal(t, exitOK, srv.stop(t), srv.stderr.String())
}

// TestCrashDuringFollowAndPin kills a daemon with SIGKILL at random moments
// while its follower fetches a followed site and its pinning service pins a
// friend's request: after each crash the repo verifies, the follow and the
// request it acknowledged are still there, what it recorded as kept is
// whole; started again, it finishes both.
func TestCrashDuringFollowAndPin(t *testing.T) {
	if testing.Short() {
		t.Skip("kills daemons for seconds; make test runs it")
	}
	dir := t.TempDir()
	input, bigSum := crashInput(t)
	a := startDaemonProc(t, "A", filepath.Join(dir, "a"), nil)
	root := strings.TrimSpace(a.ok(t, "add", "-q", input))
	var pub struct {
		Name string `json:"name"`
	}
	require.NoError(t, json.Unmarshal([]byte(a.ok(t, "name", "publish", "--json", root)), &pub))
	require.NotEmpty(t, pub.Name)

	seed := uint64(time.Now().UnixNano())
	t.Logf("delays seeded with %d", seed)
	rng := mrand.New(mrand.NewPCG(seed, seed))
	for round := range 2 {
		repoB := filepath.Join(dir, fmt.Sprintf("b%d", round))
		b := startDaemonProc(t, "B", repoB, []*daemonProc{a}, "--follow-interval", "1s")
		b.ok(t, "follow", pub.Name)
		friend := filepath.Join(dir, fmt.Sprintf("friend%d", round))
		apiURL, err := os.ReadFile(filepath.Join(repoB, "api"))
		require.NoError(t, err)
		islandOK(t, friend, "pin", "remote", "service", "add", "b", strings.TrimSpace(string(apiURL))+"/pinning/v1", "@"+filepath.Join(repoB, "pinning-token"))
		islandOK(t, friend, "pin", "remote", "add", "--service", "b", "--background", root)

		// The fetch of 24 MiB over loopback takes a few hundred ms.
		delay := time.Duration(rng.Int64N(int64(400 * time.Millisecond)))
		time.Sleep(delay)
		require.NoError(t, b.cmd.Process.Signal(syscall.SIGKILL))
		<-b.exited

		// What the killed daemon acknowledged is all there.
		out, errOut, code := island(t, repoB, "repo", "verify")
		require.Zero(t, code, "repo verify after a crash: %s%s", out, errOut)
		var follows []core.Follow
		require.NoError(t, json.Unmarshal([]byte(islandOK(t, repoB, "follow", "ls", "--json")), &follows))
		require.Len(t, follows, 1, "the acknowledged follow")
		pins := islandOK(t, repoB, "pin", "ls")
		kept := follows[0].LastCID == root || strings.Contains(pins, root)
		if kept {
			require.Equal(t, bigSum, catSum(t, repoB, root+"/big.bin"), "what is recorded as kept is whole")
		}
		t.Logf("round %d: killed after %v; kept=%v", round, delay, kept)

		// Started again, it finishes the follow and the friend's request.
		b = startDaemonProc(t, "B again", repoB, []*daemonProc{a}, "--follow-interval", "1s")
		b.eventually(t, func(out string) bool { return strings.Contains(out, root) }, "follow", "ls", "--json")
		b.eventually(t, func(out string) bool {
			return regexp.MustCompile(`(?m)^` + root + ` recursive .*pinsvc:`).MatchString(out)
		}, "pin", "ls")
		b.stop(t)
		require.Equal(t, bigSum, catSum(t, repoB, root+"/big.bin"))
	}
}
