package cli

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/daemon"
)

// writeRandom writes n random bytes to name in env's working directory.
func writeRandom(t *testing.T, env *Env, name string, n int64) {
	t.Helper()
	f, err := os.Create(filepath.Join(env.Cwd, name))
	require.NoError(t, err)
	_, err = io.CopyN(f, rand.Reader, n)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func repoStat(t *testing.T, env *Env) core.RepoStat {
	t.Helper()
	var st core.RepoStat
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "repo", "stat", "--json")), &st))
	return st
}

// setStorageMax writes the quota into the repo's config.json, as a person
// would edit it.
func setStorageMax(t *testing.T, env *Env, n uint64) {
	t.Helper()
	p := filepath.Join(repoOf(t, env), "config.json")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	var fc map[string]any
	require.NoError(t, json.Unmarshal(b, &fc))
	fc["storageMax"] = strconv.FormatUint(n, 10)
	b, err = json.Marshal(fc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, b, 0o600))
}

// A repo whose quota is taken by what it holds refuses an add, with or
// without a daemon, saying "repo full" and what to do, exit status 1;
// nothing of it is left. repo stat (and the status) show the usage against
// the quota; --storage-max sets it for a daemon's run.
func TestRepoFull(t *testing.T) {
	env := testEnv(t)
	mustRun(t, env, "id") // creates the repo
	st := repoStat(t, env)
	require.Positive(t, st.MaxBytes, "a quota from the start")
	require.Positive(t, st.UsedBytes)
	require.Equal(t, 90, st.GCWatermark)

	setStorageMax(t, env, st.UsedBytes+3<<20)
	writeRandom(t, env, "small.bin", 1<<20)
	writeRandom(t, env, "big.bin", 4<<20)
	mustRun(t, env, "add", "-q", "small.bin")
	pins := mustRun(t, env, "pin", "ls")

	code, _, errOut := runCLI(t, env, "add", "-q", "big.bin")
	require.Equal(t, exitFailure, code, errOut)
	require.Contains(t, errOut, "repo full")
	require.Contains(t, errOut, "--storage-max")
	require.Equal(t, pins, mustRun(t, env, "pin", "ls"), "nothing of the add is held")
	mustRun(t, env, "repo", "verify")
	st = repoStat(t, env)
	require.Less(t, st.UsedBytes, st.MaxBytes)

	// Through a daemon: the same error, carried by the API's 507.
	startDaemon(t, env, func(cfg *daemon.Config) {
		cfg.Core.Mode = core.ModeOffline
		cfg.Gateway.ListenAddr = ""
	})
	code, _, errOut = runCLI(t, env, "add", "-q", "big.bin")
	require.Equal(t, exitFailure, code, errOut)
	require.Contains(t, errOut, "repo full")
	require.Equal(t, pins, mustRun(t, env, "pin", "ls"))
	require.Equal(t, st.MaxBytes, repoStat(t, env).MaxBytes)
}

// --storage-max sets the quota of a daemon's run (config.json keeps its
// own); repo stat shows it.
func TestStorageMaxFlag(t *testing.T) {
	env := testEnv(t)
	mustRun(t, env, "id")
	st := repoStat(t, env)
	setStorageMax(t, env, st.UsedBytes+1<<20)
	writeRandom(t, env, "big.bin", 4<<20)
	code, _, errOut := runCLI(t, env, "add", "-q", "big.bin")
	require.Equal(t, exitFailure, code, errOut)

	o := daemonOptions{api: "127.0.0.1:0", storageMax: "1GiB"}
	cfg, err := o.config(env, &globalOptions{})
	require.NoError(t, err)
	require.Equal(t, uint64(1<<30), cfg.Core.StorageMax)
	o.storageMax = "lots"
	_, err = o.config(env, &globalOptions{})
	require.Equal(t, exitUsage, exitCode(err))
	require.ErrorContains(t, err, "--storage-max")

	startDaemon(t, env, func(cfg *daemon.Config) {
		cfg.Core.Mode = core.ModeOffline
		cfg.Gateway.ListenAddr = ""
		cfg.Core.StorageMax = 1 << 30
	})
	mustRun(t, env, "add", "-q", "big.bin")
	st = repoStat(t, env)
	require.Equal(t, uint64(1<<30), st.MaxBytes)
	require.Greater(t, st.UsedBytes, uint64(4<<20))
	require.Regexp(t, `^used [0-9.]+ MiB of 1\.0 GiB \(0%\); blocks nothing holds are collected past 90%\n$`, mustRun(t, env, "repo", "stat"))
}
