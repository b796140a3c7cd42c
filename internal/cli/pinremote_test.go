package cli

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"

	"github.com/islandsite/island/internal/daemon"
	"github.com/islandsite/island/internal/testutil"
	"github.com/islandsite/island/internal/testutil/testnet"
)

func TestPinRemoteServices(t *testing.T) {
	env := testEnv(t)
	file := filepath.Join(repoOf(t, env), core.RemoteServicesFile)
	require.Equal(t, "[]\n", mustRun(t, env, "pin", "remote", "service", "ls", "--json"))
	_, err := os.Stat(file)
	require.ErrorIs(t, err, fs.ErrNotExist, "listing creates nothing")

	require.Equal(t, "added remote pinning service friend at http://127.0.0.1:5080/pinning/v1\n",
		mustRun(t, env, "pin", "remote", "service", "add", "friend", "http://127.0.0.1:5080/pinning/v1/", "secret-token"))
	tokenFile := filepath.Join(env.Cwd, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("file-token\n"), 0o600))
	mustRun(t, env, "pin", "remote", "service", "add", "alpha", "https://pin.example/psa", "@token")
	code, _, stderr := runCLI(t, env, "pin", "remote", "service", "add", "clear", "http://pin.example/psa", "t")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stderr, "plain http to another machine")

	fi, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "the file holds tokens")
	type service struct {
		Endpoint string `json:"endpoint"`
		Key      string `json:"key"`
	}
	var stored struct {
		Services map[string]service `json:"services"`
	}
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &stored))
	require.Equal(t, map[string]service{
		"friend": {Endpoint: "http://127.0.0.1:5080/pinning/v1", Key: "secret-token"},
		"alpha":  {Endpoint: "https://pin.example/psa", Key: "file-token"},
		"clear":  {Endpoint: "http://pin.example/psa", Key: "t"},
	}, stored.Services)

	require.Equal(t, "alpha   https://pin.example/psa\nclear   http://pin.example/psa\nfriend  http://127.0.0.1:5080/pinning/v1\n",
		mustRun(t, env, "pin", "remote", "service", "ls"), "sorted, tokens never printed")
	var listed []core.RemoteService
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "pin", "remote", "service", "ls", "--json")), &listed))
	require.Equal(t, core.RemoteService{Name: "alpha", Endpoint: "https://pin.example/psa"}, listed[0])

	require.NoError(t, os.WriteFile(filepath.Join(env.Cwd, "empty"), nil, 0o600))
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"add existing", []string{"pin", "remote", "service", "add", "friend", "http://127.0.0.1:1", "x"}, exitFailure, `a service named "friend" exists`},
		{"add bad name chars", []string{"pin", "remote", "service", "add", "a/b", "http://127.0.0.1:1", "x"}, exitUsage, `service name "a/b"`},
		{"add not a URL", []string{"pin", "remote", "service", "add", "x", "ftp://host/x", "x"}, exitUsage, "want an http(s) URL"},
		{"add URL ending in /pins", []string{"pin", "remote", "service", "add", "x", "https://host/psa/pins", "x"}, exitUsage, "without /pins"},
		{"add missing token file", []string{"pin", "remote", "service", "add", "x", "https://host/psa", "@nope"}, exitFailure, "read token"},
		{"add empty token file", []string{"pin", "remote", "service", "add", "x", "https://host/psa", "@empty"}, exitFailure, "is empty"},
		{"add two-word token", []string{"pin", "remote", "service", "add", "x", "https://host/psa", "a b"}, exitUsage, "one word"},
		{"add too few", []string{"pin", "remote", "service", "add", "x", "https://host/psa"}, exitUsage, "takes 3 argument(s)"},
		{"rm unknown", []string{"pin", "remote", "service", "rm", "nope"}, exitFailure, `no service named "nope"`},
		{"add to unknown service", []string{"pin", "remote", "add", "--service", "nope", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"}, exitFailure, `no remote pinning service named "nope"`},
		{"add without service", []string{"pin", "remote", "add", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"}, exitUsage, "--service NAME is required"},
		{"ls bad status", []string{"pin", "remote", "ls", "--service", "friend", "--status", "done"}, exitUsage, `unknown status "done"`},
		{"ls bad cid", []string{"pin", "remote", "ls", "--service", "friend", "--cid", "nope"}, exitUsage, `cid "nope": not a CID`},
		{"rm without ids", []string{"pin", "remote", "rm", "--service", "friend"}, exitUsage, "needs at least 1 argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, env, tt.args...)
			require.Equal(t, tt.code, code, stderr)
			require.Contains(t, stderr, tt.stderr)
		})
	}

	require.Equal(t, "removed remote pinning service clear\n", mustRun(t, env, "pin", "remote", "service", "rm", "clear"))
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "pin", "remote", "service", "ls", "--json")), &listed))
	require.Len(t, listed, 2)

	// A file others can read is refused, not used.
	require.NoError(t, os.Chmod(file, 0o644))
	code, _, stderr = runCLI(t, env, "pin", "remote", "service", "ls")
	require.Equal(t, exitFailure, code)
	require.Contains(t, stderr, "has mode 0644, open to group or others")
	require.NoError(t, os.Chmod(file, 0o600))
	require.NoError(t, os.WriteFile(file, []byte("{"), 0o600))
	code, _, stderr = runCLI(t, env, "pin", "remote", "service", "add", "y", "https://host/psa", "t")
	require.Equal(t, exitFailure, code)
	require.Contains(t, stderr, "is damaged")
	b, err = os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, "{", string(b), "a damaged file is left for the user to fix, not overwritten")
}

// TestPinRemoteBetweenDaemons: A asks B's pinning service (B's API URL +
// /pinning/v1, B's token) to pin content only A has. A and B are not
// connected beforehand: B reaches A through the origins A sends.
func TestPinRemoteBetweenDaemons(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two daemons")
	}
	envA, envB := testEnv(t), testEnv(t)
	b := startDaemon(t, envB, nil)
	startDaemon(t, envA, nil)
	require.Empty(t, b.Core().Node().Peers())

	file := filepath.Join(t.TempDir(), "site.bin")
	require.NoError(t, os.WriteFile(file, testutil.RandomBytes(3<<20+123, 7), 0o644))
	root := strings.TrimSpace(mustRun(t, envA, "add", "-q", file))
	c, err := cid.Decode(root)
	require.NoError(t, err)

	url := b.APIURL() + daemon.PinningPrefix
	token := filepath.Join(repoOf(t, envB), daemon.PinningTokenFile)
	mustRun(t, envA, "pin", "remote", "service", "add", "b", url, "@"+token)
	out := mustRun(t, envA, "pin", "remote", "add", "--service", "b", "--name", "site", root)
	require.Regexp(t, `^CID:\t`+root+`\nName:\tsite\nStatus:\tpinned\nRequest:\t\S+\n$`, out)

	// B pinned the whole DAG, fetched from A: it holds it for the request
	// and has every block, so it stays readable without A.
	pins := mustRun(t, envB, "pin", "ls")
	require.Regexp(t, `(?m)^`+root+` recursive pinsvc:\S+$`, pins)
	require.Len(t, testnet.DAGBlocks(t, b.Core().Node().DAG(), c), 5, "root and four 1 MiB leaves, all in B's repo")

	ls := mustRun(t, envA, "pin", "remote", "ls", "--service", "b")
	m := regexp.MustCompile(`^(\S+)  ` + root + `  pinned  site\n$`).FindStringSubmatch(ls)
	require.NotNil(t, m, ls)
	id := m[1]
	var listed []core.RemotePin
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, envA, "pin", "remote", "ls", "--service", "b", "--json", "--cid", root)), &listed))
	require.Len(t, listed, 1)
	require.Equal(t, id, listed[0].RequestID)
	require.Equal(t, "site", listed[0].Name)
	require.NotEmpty(t, listed[0].Delegates, "B names its addresses")
	require.Equal(t, "", mustRun(t, envA, "pin", "remote", "ls", "--service", "b", "--status", "queued,pinning,failed"))

	require.Equal(t, "removed "+id+"\n", mustRun(t, envA, "pin", "remote", "rm", "--service", "b", id))
	require.Eventually(t, func() bool {
		return !strings.Contains(mustRun(t, envB, "pin", "ls"), root)
	}, 30*time.Second, 20*time.Millisecond, "B kept the pin of a removed request")
	code, _, stderr := runCLI(t, envA, "pin", "remote", "rm", "--service", "b", id)
	require.Equal(t, exitFailure, code)
	require.Contains(t, stderr, `service "b" has no request `+id)

	// --background returns once the request is accepted.
	out = mustRun(t, envA, "pin", "remote", "add", "--service", "b", "--background", "--json", root)
	var ps core.RemotePin
	require.NoError(t, json.Unmarshal([]byte(out), &ps))
	require.Equal(t, root, ps.CID)
	require.Contains(t, []string{"queued", "pinning", "pinned"}, ps.Status)

	// A wrong token is refused with a cause the user can act on.
	mustRun(t, envA, "pin", "remote", "service", "add", "wrong", url, strings.Repeat("0", 64))
	for _, args := range [][]string{
		{"pin", "remote", "add", "--service", "wrong", root},
		{"pin", "remote", "ls", "--service", "wrong"},
	} {
		code, _, stderr := runCLI(t, envA, args...)
		require.Equal(t, exitFailure, code, stderr)
		require.Contains(t, stderr, `service "wrong" refused the access token (401 unauthorized)`)
	}
}
