package cli

// Multi-process tests: they build the island binary once per test binary and
// run it as a child process, killing it with SIGKILL at random moments.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/testutil"
	"github.com/islandsite/island/internal/testutil/browsercheck"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.CleanupCorpora()
	browsercheck.Cleanup()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// islandBinary builds cmd/island once per test binary and returns its path.
func islandBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		binDir, buildErr = os.MkdirTemp("", "island-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "island")
		cmd := exec.Command(goTool, "build", "-o", binPath, "./cmd/island")
		cmd.Dir = testutil.ModuleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/island: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// island runs the binary on repo and returns stdout, stderr and the exit status.
func island(t *testing.T, repoDir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := testutil.DieWithTest(exec.Command(islandBinary(t), append([]string{"--repo", repoDir}, args...)...))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return out.String(), errOut.String(), code
}

func islandOK(t *testing.T, repoDir string, args ...string) string {
	t.Helper()
	out, errOut, code := island(t, repoDir, args...)
	require.Zero(t, code, "island %s: %s", strings.Join(args, " "), errOut)
	return out
}

// killed runs the binary and SIGKILLs it after delay; it returns what the
// child printed before dying (or finishing, if it was faster).
func killed(t *testing.T, delay time.Duration, repoDir string, args ...string) (stdout string, finished bool) {
	t.Helper()
	cmd := testutil.DieWithTest(exec.Command(islandBinary(t), append([]string{"--repo", repoDir}, args...)...))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "island %s: %s", strings.Join(args, " "), errOut.String())
		return out.String(), true
	case <-time.After(delay):
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	err := <-done
	if ee, ok := err.(*exec.ExitError); ok && ee.Sys().(syscall.WaitStatus).Signaled() {
		return out.String(), false
	}
	// It finished between the timer and the signal.
	require.NoError(t, err, "island %s: %s", strings.Join(args, " "), errOut.String())
	return out.String(), true
}

// crashInput writes a directory worth killing an add over: a 24 MiB random
// file (24 chunks, each fsynced) and 300 small files.
func crashInput(t *testing.T) (dir string, bigSum [32]byte) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "input")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "small"), 0o755))
	big := make([]byte, 24<<20)
	_, err := rand.Read(big)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644))
	for i := range 300 {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "small", fmt.Sprintf("%03d.txt", i)), []byte(strings.Repeat(fmt.Sprint(i), 100)), 0o644))
	}
	return dir, sha256.Sum256(big)
}

// checkRepo asserts what must hold after any crash: the repo opens, verify
// passes, and the acknowledged DAG is pinned and readable.
func checkRepo(t *testing.T, repoDir, ackRoot string, ackData string) {
	t.Helper()
	out, errOut, code := island(t, repoDir, "repo", "verify")
	require.Zero(t, code, "repo verify after a crash: %s%s", out, errOut)
	require.Contains(t, islandOK(t, repoDir, "pin", "ls", "-q"), ackRoot)
	require.Equal(t, ackData, islandOK(t, repoDir, "cat", ackRoot+"/ack.txt"))
}

// crashHistory is the site's history after a crash: it must verify (every
// entry signed, the chain whole), and after a gc every version must still
// be readable.
func crashHistory(t *testing.T, repoDir string) (string, []core.Version) {
	t.Helper()
	name, _, _ := strings.Cut(strings.TrimPrefix(islandOK(t, repoDir, "history"), "/ipns/"), "\n")
	var versions []core.Version
	require.NoError(t, json.Unmarshal([]byte(islandOK(t, repoDir, "history", "--json")), &versions))
	islandOK(t, repoDir, "gc")
	for _, v := range versions {
		islandOK(t, repoDir, "ls", v.CID)
	}
	return name, versions
}

func catSum(t *testing.T, repoDir, p string) [32]byte {
	t.Helper()
	return sha256.Sum256([]byte(islandOK(t, repoDir, "cat", p)))
}

// TestCrashSafety kills add, pin add and gc with SIGKILL at random moments
// and checks the repo afterwards.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real processes for seconds; make test runs it")
	}
	input, bigSum := crashInput(t)
	ackDir := filepath.Join(t.TempDir(), "ack")
	require.NoError(t, os.MkdirAll(ackDir, 0o755))
	const ackData = "acknowledged before the crash"
	require.NoError(t, os.WriteFile(filepath.Join(ackDir, "ack.txt"), []byte(ackData), 0o644))

	const rounds = 4
	seed := uint64(time.Now().UnixNano())
	t.Logf("delays seeded with %d", seed)
	rng := mrand.New(mrand.NewPCG(seed, seed))

	// fresh returns a repo holding the acknowledged DAG, and its root.
	fresh := func(t *testing.T) (string, string) {
		repoDir := filepath.Join(t.TempDir(), "repo")
		ack := strings.TrimSpace(islandOK(t, repoDir, "add", "-q", ackDir))
		return repoDir, ack
	}

	type op struct {
		name  string
		setup func(t *testing.T, repoDir string) []string // returns the command to kill
		after func(t *testing.T, repoDir, out string, finished bool)
	}
	var inputRoot string // set by the pin setup
	ops := []op{
		{
			name:  "add",
			setup: func(t *testing.T, repoDir string) []string { return []string{"add", "-q", input} },
			after: func(t *testing.T, repoDir, out string, finished bool) {
				if root := strings.TrimSpace(out); root != "" {
					// add printed its root: it was acknowledged, so it must be whole.
					require.Contains(t, islandOK(t, repoDir, "pin", "ls", "-q"), root)
					require.Equal(t, bigSum, catSum(t, repoDir, root+"/big.bin"))
				}
				require.True(t, !finished || out != "")
				// What a killed add staged is gone once the repo was opened again.
				staged, err := filepath.Glob(filepath.Join(repoDir, "blocks", ".temp", "*"))
				require.NoError(t, err)
				require.Empty(t, staged)
			},
		},
		{
			name: "pin",
			setup: func(t *testing.T, repoDir string) []string {
				inputRoot = strings.TrimSpace(islandOK(t, repoDir, "add", "-q", input))
				islandOK(t, repoDir, "pin", "rm", inputRoot)
				return []string{"pin", "add", inputRoot}
			},
			after: func(t *testing.T, repoDir, out string, finished bool) {
				if strings.HasPrefix(out, "pinned ") {
					require.Contains(t, islandOK(t, repoDir, "pin", "ls", "-q"), inputRoot)
					// A GC now must keep all of it.
					islandOK(t, repoDir, "gc")
					require.Equal(t, bigSum, catSum(t, repoDir, inputRoot+"/big.bin"))
				}
			},
		},
		{
			name: "publish",
			setup: func(t *testing.T, repoDir string) []string {
				islandOK(t, repoDir, "publish", "--no-check", "--dir", ackDir)
				return []string{"publish", "--no-check", "--dir", input}
			},
			after: func(t *testing.T, repoDir, out string, finished bool) {
				name, versions := crashHistory(t, repoDir)
				if m := regexp.MustCompile(`published (\S+) \(version 2\)`).FindStringSubmatch(out); m != nil {
					// Acknowledged: the version, its record and its content are kept.
					require.Len(t, versions, 2)
					require.Equal(t, m[1], versions[1].CID)
					require.True(t, versions[1].Current)
					require.Equal(t, "/ipfs/"+m[1]+"\n", islandOK(t, repoDir, "name", "resolve", name))
					require.Equal(t, bigSum, catSum(t, repoDir, m[1]+"/big.bin"))
				}
				require.True(t, !finished || len(versions) == 2)
			},
		},
		{
			name: "rollback",
			setup: func(t *testing.T, repoDir string) []string {
				islandOK(t, repoDir, "publish", "--no-check", "--dir", ackDir)
				islandOK(t, repoDir, "publish", "--no-check", "--dir", input)
				return []string{"rollback"}
			},
			after: func(t *testing.T, repoDir, out string, finished bool) {
				name, versions := crashHistory(t, repoDir)
				require.GreaterOrEqual(t, len(versions), 2, "what was published before stays")
				if strings.HasPrefix(out, "rolled back") {
					require.Len(t, versions, 3)
					require.True(t, versions[2].Current)
					require.Equal(t, versions[0].CID, versions[2].CID)
					require.Equal(t, "/ipfs/"+versions[0].CID+"\n", islandOK(t, repoDir, "name", "resolve", name))
				}
				require.True(t, !finished || len(versions) == 3)
				require.Equal(t, bigSum, catSum(t, repoDir, versions[1].CID+"/big.bin"))
			},
		},
		{
			name: "gc",
			setup: func(t *testing.T, repoDir string) []string {
				root := strings.TrimSpace(islandOK(t, repoDir, "add", "-q", input))
				islandOK(t, repoDir, "pin", "rm", root)
				return []string{"gc"}
			},
			after: func(t *testing.T, repoDir, out string, finished bool) {
				// The sweep resumes where it stopped and leaves only the acknowledged DAG.
				require.Contains(t, islandOK(t, repoDir, "gc"), "kept 2")
			},
		},
	}
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			// One uninterrupted run, to know how long the command takes.
			repoDir, ack := fresh(t)
			args := o.setup(t, repoDir)
			start := time.Now()
			out := islandOK(t, repoDir, args...)
			full := time.Since(start)
			checkRepo(t, repoDir, ack, ackData)
			o.after(t, repoDir, out, true)

			kills := 0
			for i := range rounds {
				repoDir, ack := fresh(t)
				args := o.setup(t, repoDir)
				// Process start-up is part of full; kill anywhere in 10-100% of it.
				delay := time.Duration(float64(full) * (0.1 + 0.9*rng.Float64()))
				out, finished := killed(t, delay, repoDir, args...)
				if !finished {
					kills++
				}
				t.Logf("round %d: killed after %v of ~%v: finished=%v", i, delay, full, finished)
				checkRepo(t, repoDir, ack, ackData)
				o.after(t, repoDir, out, finished)
			}
			t.Logf("%d of %d rounds were killed before %s finished", kills, rounds, o.name)
		})
	}
}
