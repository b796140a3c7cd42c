//go:build integration

package cli

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/testutil"
)

// TestKuboPinRemote is issue 13's try as a new user would make it: Kubo's
// `ipfs pin remote add` against island's pinning service, all on loopback.
// A Kubo node adds a file, names island's service with the token from
// $REPO/pinning-token and asks it to pin: island fetches the file from
// Kubo (the request's origins) and holds it for the request; `pin remote
// rm` lets go of it; a file past the token's quota fails, and the friend
// can read why. It needs a Kubo binary (v0.42.0 was tried) named by
// ISLAND_KUBO.
func TestKuboPinRemote(t *testing.T) {
	dir := t.TempDir()
	ipfs := startKubo(t, filepath.Join(dir, "kubo"), nil)
	b := startDaemonProc(t, "island", filepath.Join(dir, "island"), nil, "--pinning-quota", "4MiB")

	file := filepath.Join(dir, "friend.bin")
	require.NoError(t, os.WriteFile(file, testutil.RandomBytes(3<<20, 13), 0o644))
	out, err := ipfs("add", "-q", "--cid-version=1", file)
	require.NoError(t, err, out)
	root := strings.TrimSpace(out)

	api, err := os.ReadFile(filepath.Join(b.repo, "api"))
	require.NoError(t, err)
	endpoint := strings.TrimSpace(string(api)) + "/pinning/v1"
	token, err := os.ReadFile(filepath.Join(b.repo, "pinning-token"))
	require.NoError(t, err)
	out, err = ipfs("pin", "remote", "service", "add", "island", endpoint, strings.TrimSpace(string(token)))
	require.NoError(t, err, out)
	out, err = ipfs("pin", "remote", "add", "--service=island", "--name=friend", root)
	require.NoError(t, err, out)
	require.Contains(t, out, "Status: pinned")
	require.Regexp(t, `(?m)^`+root+` recursive pinsvc:\S+$`, b.ok(t, "pin", "ls"))
	require.Equal(t, catSum(t, b.repo, root), catSumFile(t, file), "island holds the whole file, fetched from Kubo")
	out, err = ipfs("pin", "remote", "ls", "--service=island")
	require.NoError(t, err, out)
	require.Contains(t, out, root+"\tpinned\tfriend")

	// Past the token's 4 MiB: Kubo reports the failure, the status says why.
	big := filepath.Join(dir, "big.bin")
	require.NoError(t, os.WriteFile(big, testutil.RandomBytes(3<<20, 14), 0o644))
	out, err = ipfs("add", "-q", "--cid-version=1", big)
	require.NoError(t, err, out)
	bigRoot := strings.TrimSpace(out)
	out, err = ipfs("pin", "remote", "add", "--service=island", "--name=big", bigRoot)
	require.Error(t, err, out)
	require.Contains(t, out, "remote service failed to pin")
	req, err := http.NewRequest(http.MethodGet, endpoint+"/pins?status=failed", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var failed struct {
		Results []struct {
			Info map[string]string `json:"info"`
		} `json:"results"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&failed))
	require.Len(t, failed.Results, 1)
	require.Contains(t, failed.Results[0].Info["status_details"], "does not fit in what is left of this token's 4.0 MiB")

	out, err = ipfs("pin", "remote", "rm", "--service=island", "--name=friend", "--force")
	require.NoError(t, err, out)
	b.eventually(t, func(out string) bool { return !strings.Contains(out, root) }, "pin", "ls")
}

// startKubo starts a Kubo daemon on loopback with its repo in dir, made by
// `ipfs init --profile=test` (no bootstrap peers, no mDNS, random ports),
// after setting each config key to its JSON value; daemonArgs go to
// `ipfs daemon`. ipfs runs a Kubo command against it. The test is skipped
// without a Kubo binary named by ISLAND_KUBO (v0.42.0 was tried).
func startKubo(t *testing.T, dir string, config map[string]string, daemonArgs ...string) (ipfs func(args ...string) (string, error)) {
	t.Helper()
	kubo := os.Getenv("ISLAND_KUBO")
	if kubo == "" {
		t.Skip("set ISLAND_KUBO to a Kubo `ipfs` binary to try Kubo against island")
	}
	env := append(os.Environ(), "IPFS_PATH="+dir, "IPFS_TELEMETRY=off")
	ipfs = func(args ...string) (string, error) {
		cmd := exec.Command(kubo, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := ipfs("init", "--profile=test")
	require.NoError(t, err, out)
	for k, v := range config {
		out, err := ipfs("config", "--json", k, v)
		require.NoError(t, err, out)
	}
	daemon := testutil.DieWithTest(exec.Command(kubo, append([]string{"daemon"}, daemonArgs...)...))
	daemon.Env = env
	daemonOut := newSyncBuffer()
	daemon.Stdout, daemon.Stderr = daemonOut, daemonOut
	require.NoError(t, daemon.Start())
	t.Cleanup(func() {
		_ = daemon.Process.Signal(syscall.SIGINT)
		_ = daemon.Wait()
		if t.Failed() {
			t.Logf("kubo daemon:\n%s", daemonOut)
		}
	})
	require.Eventually(t, func() bool { return strings.Contains(daemonOut.String(), "Daemon is ready") }, netDeadline, 50*time.Millisecond, "%s", daemonOut)
	return ipfs
}

func catSumFile(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return sha256.Sum256(b)
}
