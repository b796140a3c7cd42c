package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"
)

// syncBuffer is an output buffer a test may read while a command writes.
type syncBuffer struct {
	lockedWriter
	b bytes.Buffer
}

func newSyncBuffer() *syncBuffer {
	s := &syncBuffer{}
	s.w = &s.b
	return s
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a command running in-process in the background.
type running struct {
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan int
}

// startCLI runs a long-lived command line (serve, daemon) in a goroutine;
// stop it with stop. Cleanup stops it too, should the test fail first.
func startCLI(t *testing.T, env *Env, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: newSyncBuffer(), stderr: newSyncBuffer(), cancel: cancel, done: make(chan int, 1)}
	e := *env
	e.Stdout, e.Stderr, e.Stdin = r.stdout, r.stderr, bytes.NewReader(nil)
	go func() { r.done <- Run(ctx, args, &e) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not stop", strings.Join(args, " "))
		}
	})
	return r
}

// waitOutput waits until the command printed want on stdout.
func (r *running) waitOutput(t *testing.T, want string) {
	t.Helper()
	require.Eventually(t, func() bool {
		select {
		case code := <-r.done:
			r.done <- code
			return true // fail below with the output
		default:
		}
		return strings.Contains(r.stdout.String(), want)
	}, 60*time.Second, 20*time.Millisecond)
	require.Contains(t, r.stdout.String(), want, "stderr: %s", r.stderr.String())
}

// stop cancels the command as SIGINT would and returns its exit status.
func (r *running) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.done:
		r.done <- code
		return code
	case <-time.After(30 * time.Second):
		t.Fatal("the command did not stop within 30s of its context ending")
		return -1
	}
}

func httpGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", u, b)
	return string(b)
}

// waitVersions waits until the site history has n versions and returns it.
func waitVersions(t *testing.T, env *Env, n int) []core.Version {
	t.Helper()
	var hist []core.Version
	require.Eventually(t, func() bool {
		hist = historyOf(t, env)
		return len(hist) >= n
	}, 60*time.Second, 50*time.Millisecond, "waiting for version %d", n)
	require.Len(t, hist, n)
	return hist
}

func TestServe(t *testing.T) {
	env := testEnv(t)
	writeContent(t, env, smallSite("First words."))
	srv := startCLI(t, env, "serve", "--offline", "--gateway", "127.0.0.1:0", "--api", "127.0.0.1:0", "--debounce", "50ms")
	srv.waitOutput(t, "Daemon is ready")
	out := srv.stdout.String()
	require.Contains(t, out, "(version 1)")
	require.Contains(t, out, "retrievable: not checked (the daemon runs --offline)")

	gw, err := os.ReadFile(filepath.Join(repoOf(t, env), "gateway"))
	require.NoError(t, err)
	base := strings.TrimSpace(string(gw))
	require.Contains(t, out, base+"/ipfs/", "the URLs are the running gateway's")
	// Commands go through the daemon's API meanwhile.
	hist := historyOf(t, env)
	require.Len(t, hist, 1)
	name := publishJSON(t, env).Name
	require.Contains(t, httpGet(t, base+"/ipns/"+name+"/posts/hello/"), "First words.")

	// An edit makes version 2, served under the name at once.
	writeContent(t, env, map[string]string{"posts/hello.md": "---\ntitle: Hello\ndate: 2024-01-02\n---\nSecond words.\n"})
	hist = waitVersions(t, env, 2)
	require.Equal(t, hist[0].CID, hist[1].Prev)
	require.Contains(t, httpGet(t, base+"/ipns/"+name+"/posts/hello/"), "Second words.")

	// A new directory is watched: first its creation republishes, then a
	// change inside it does.
	writeContent(t, env, map[string]string{"static/sub/a.txt": "one"})
	hist = waitVersions(t, env, 3)
	require.Equal(t, "one", mustRun(t, env, "cat", hist[2].CID+"/sub/a.txt"))
	writeContent(t, env, map[string]string{"static/sub/a.txt": "two"})
	hist = waitVersions(t, env, 4)
	require.Equal(t, "two", mustRun(t, env, "cat", hist[3].CID+"/sub/a.txt"))

	// A change that does not build is reported; version 4 stays current.
	writeContent(t, env, map[string]string{"posts/broken.md": "---\ntitle: Broken\n---\n[x](../nowhere/)\n"})
	require.Eventually(t, func() bool {
		return strings.Contains(srv.stderr.String(), filepath.Join("content", "posts", "broken.md")+":")
	}, 60*time.Second, 20*time.Millisecond, "the build error is reported: %s", srv.stderr.String())
	require.Contains(t, srv.stderr.String(), "the published version stays as it was")
	require.Len(t, historyOf(t, env), 4)
	// Fixing it gives version 4's content again: no new version.
	require.NoError(t, os.Remove(filepath.Join(env.Cwd, "content", "posts", "broken.md")))
	srv.waitOutput(t, "unchanged: "+hist[3].CID+" is still version 4")

	require.Equal(t, exitOK, srv.stop(t), srv.stderr.String())
	require.NoFileExists(t, filepath.Join(repoOf(t, env), "api"))
	require.NoFileExists(t, filepath.Join(repoOf(t, env), "gateway"))
	require.Len(t, historyOf(t, env), 4)
}

func TestServeBrokenAtStart(t *testing.T) {
	env := testEnv(t)
	writeContent(t, env, map[string]string{"index.md": "[x](missing.md)\n"})
	srv := startCLI(t, env, "serve", "--offline", "--gateway", "", "--api", "127.0.0.1:0", "--debounce", "50ms")
	srv.waitOutput(t, "Daemon is ready")
	require.Contains(t, srv.stdout.String(), "nothing published yet")
	require.Contains(t, srv.stderr.String(), "index.md:1:")
	writeContent(t, env, map[string]string{"index.md": "fixed\n"})
	srv.waitOutput(t, "(version 1)")
	require.Equal(t, exitOK, srv.stop(t), srv.stderr.String())
}

func TestServeUsage(t *testing.T) {
	env := testEnv(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no content", []string{"serve", "--offline", "--content", "nope"}, exitFailure, "content directory nope not found"},
		{"bad debounce", []string{"serve", "--offline", "--debounce", "0s"}, exitUsage, "--debounce"},
		{"extra argument", []string{"serve", "x"}, exitUsage, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, env, tt.args...)
			require.Equal(t, tt.code, code, errOut)
			require.Contains(t, errOut, tt.stderr)
		})
	}
}
