package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"

	"github.com/islandsite/island/internal/testutil/testnet"
)

func followed(t *testing.T, env *Env) []core.Follow {
	t.Helper()
	var out []core.Follow
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "follow", "ls", "--json")), &out))
	return out
}

func TestFollowOffline(t *testing.T) {
	env := testEnv(t)
	_, name := newEd25519(t)
	k51 := name.String()
	require.Empty(t, followed(t, env))

	code, out, stderr := runCLI(t, env, "follow", "/ipns/"+k51)
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "following "+k51+"\n", out, "any form of the name is stored as k51…")
	require.Contains(t, stderr, "'island daemon' fetches "+k51+" when it starts")
	mustRun(t, env, "follow", k51) // idempotent
	mustRun(t, env, "follow", "Example.ORG.")

	fs := followed(t, env)
	require.Len(t, fs, 2)
	require.Equal(t, "example.org", fs[0].Name)
	require.Equal(t, k51, fs[1].Name)
	require.Empty(t, fs[1].LastCID)
	require.Nil(t, fs[1].LastCheck, "never checked without a daemon")
	require.Empty(t, fs[1].Kept)
	require.WithinDuration(t, time.Now(), fs[1].Added, time.Minute)
	require.Equal(t, uint64(1<<30), fs[1].MaxSize, "1 GiB unless told")
	mustRun(t, env, "follow", "--max-size", "5MiB", k51)
	require.Equal(t, uint64(5<<20), followed(t, env)[1].MaxSize)
	mustRun(t, env, "follow", k51)
	require.Equal(t, uint64(5<<20), followed(t, env)[1].MaxSize, "kept when not given again")
	ls := mustRun(t, env, "follow", "ls")
	require.Regexp(t, `^NAME +LAST CID +SEQ +LAST CHECK +KEPT +ERROR\n`, ls)
	require.Regexp(t, `(?m)^`+k51+` +- +- +never +0 +-$`, ls)

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"follow a path", []string{"follow", "/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"}, exitUsage, "cannot follow"},
		{"follow a word", []string{"follow", "nope"}, exitUsage, `cannot follow "nope"`},
		{"follow nothing", []string{"follow"}, exitUsage, "takes 1 argument"},
		{"follow too small", []string{"follow", "--max-size", "0", k51}, exitUsage, "--max-size"},
		{"follow no size", []string{"follow", "--max-size", "big", k51}, exitUsage, "--max-size"},
		{"rm not followed", []string{"follow", "rm", "other.example"}, exitFailure, "not followed: other.example (see 'island follow ls')"},
		{"rm bad name", []string{"follow", "rm", "nope"}, exitUsage, "cannot follow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, env, tt.args...)
			require.Equal(t, tt.code, code, stderr)
			require.Contains(t, stderr, tt.stderr)
		})
	}

	require.Equal(t, "unfollowed "+k51+"\n", mustRun(t, env, "follow", "rm", "/ipns/"+k51))
	fs = followed(t, env)
	require.Len(t, fs, 1)
	require.Equal(t, "example.org", fs[0].Name)
	code, _, stderr = runCLI(t, env, "follow", "rm", k51)
	require.Equal(t, exitFailure, code)
	require.Contains(t, stderr, "not followed")
	require.False(t, strings.Contains(mustRun(t, env, "follow", "ls"), k51))
}

// TestFollowThroughDaemon: B follows A's name through B's daemon; the
// follower fetches the first version at once (the check interval is 5 min).
func TestFollowThroughDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two daemons")
	}
	envA, envB := testEnv(t), testEnv(t)
	b := startDaemon(t, envB, nil)
	a := startDaemon(t, envA, bootstrapTo(b))
	testnet.AwaitDHTNeighbours(t, a.Core().Node(), b.Core().Node().ID())
	c := addText(t, envA, "site, version 1")
	mustRun(t, envA, "name", "publish", c)
	selfA := keyID(t, envA, "self")

	code, out, stderr := runCLI(t, envB, "follow", selfA)
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "following "+selfA+"\n", out)
	require.Empty(t, stderr, "a daemon runs: no note")
	var f core.Follow
	require.Eventually(t, func() bool {
		fs := followed(t, envB)
		require.Len(t, fs, 1)
		f = fs[0]
		return f.LastCID != ""
	}, 30*time.Second, 20*time.Millisecond, "the follower never fetched %s", selfA)
	require.Equal(t, c, f.LastCID)
	require.Equal(t, uint64(1), f.LastSeq)
	require.Equal(t, []string{c}, f.Kept)
	require.Empty(t, f.LastError)
	require.NotNil(t, f.LastCheck)
	require.Regexp(t, `(?m)^`+selfA+` +`+c+` +1 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +1 +-$`, mustRun(t, envB, "follow", "ls"))

	// B has the content itself now: it stays readable with A gone.
	a.stop()
	require.Equal(t, "site, version 1", mustRun(t, envB, "cat", c))

	require.Equal(t, "unfollowed "+selfA+"\n", mustRun(t, envB, "follow", "rm", selfA))
	require.Empty(t, followed(t, envB))
}
