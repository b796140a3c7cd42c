package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/repo"
	"github.com/islandsite/island/internal/testutil"
)

// corpusSmallRoot is the Kubo root CID of gen-corpus.py OUT 20 3
// (testdata/vectors/unixfs-v1-2025.tsv).
const corpusSmallRoot = "bafybeihmb6x4fmamq4ndyw567bhfaxpp26qyl4umntmd3psktjx5ckvwqm"

// mustRun runs a command line that must succeed and returns its stdout.
func mustRun(t *testing.T, env *Env, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(t, env, args...)
	require.Equal(t, exitOK, code, "island %s: %s", strings.Join(args, " "), errOut)
	return out
}

func repoOf(t *testing.T, env *Env) string {
	t.Helper()
	return env.Getenv("ISLAND_PATH")
}

func TestAddCatLs(t *testing.T) {
	env := testEnv(t)
	dir := testutil.Corpus(t, 20, 3)

	out := mustRun(t, env, "add", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 20+3+4)
	require.Equal(t, "added "+corpusSmallRoot+" "+filepath.Base(dir), lines[len(lines)-1], "the root comes last")
	require.Contains(t, lines, "added bafkreiehaqvb7jdr55syduiyeuqjsf67nyrlejcmt4w4mxxikxxwflu4dm "+filepath.Base(dir)+"/static/img/i000.png")

	require.Equal(t, corpusSmallRoot+"\n", mustRun(t, env, "add", "-q", dir), "-q prints the root alone")
	var entries []core.AddedEntry
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "add", "--json", dir)), &entries))
	require.Equal(t, corpusSmallRoot, entries[len(entries)-1].CID)

	require.Equal(t, corpusSmallRoot+"\n"+corpusSmallRoot+"\n", mustRun(t, env, "add", "-q", dir, dir), "one root per PATH")

	want, err := os.ReadFile(filepath.Join(dir, "posts", "00007.md"))
	require.NoError(t, err)
	for _, p := range []string{corpusSmallRoot + "/posts/00007.md", "/ipfs/" + corpusSmallRoot + "/posts/00007.md"} {
		require.Equal(t, string(want), mustRun(t, env, "cat", p))
	}

	ls := mustRun(t, env, "ls", corpusSmallRoot)
	require.Regexp(t, `(?m)^bafy\S+ +- +posts/$`, ls)
	require.Regexp(t, `(?m)^bafy\S+ +- +static/$`, ls)
	ls = mustRun(t, env, "ls", "/ipfs/"+corpusSmallRoot+"/static/img")
	require.Regexp(t, `(?m)^bafkreiehaqvb7jdr55syduiyeuqjsf67nyrlejcmt4w4mxxikxxwflu4dm +204800 +i000.png$`, ls)
	var listed []core.LsEntry
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "ls", "--json", corpusSmallRoot+"/posts")), &listed))
	require.Len(t, listed, 20)
	require.Equal(t, core.LsEntry{Name: "00007.md", CID: listed[7].CID, Type: "file", Size: uint64(len(want))}, listed[7])
}

func TestAddOnlyHashTouchesNoRepo(t *testing.T) {
	env := testEnv(t)
	dir := testutil.Corpus(t, 20, 3)
	require.Equal(t, corpusSmallRoot+"\n", mustRun(t, env, "add", "-q", "--only-hash", dir))
	ents, err := os.ReadDir(repoOf(t, env))
	require.NoError(t, err)
	require.Empty(t, ents, "--only-hash creates no repo")
}

func TestNodeCommandsTouchNoRepo(t *testing.T) {
	env := testEnv(t)
	fresh := filepath.Join(env.Cwd, "fresh")
	for _, args := range [][]string{{"peers"}, {"provide", "stat"}} {
		code, _, errOut := runCLI(t, env, append([]string{"--repo", "fresh"}, args...)...)
		require.Equal(t, exitFailure, code, errOut)
		require.Contains(t, errOut, "island: "+strings.Join(args, " ")+": this needs the running node: start 'island daemon' (or 'island serve') first")
		require.NoDirExists(t, fresh, "island %s without a daemon creates no repo", strings.Join(args, " "))
	}
}

func TestAddHidden(t *testing.T) {
	env := testEnv(t)
	dir := filepath.Join(env.Cwd, "site")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".git"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("hi"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".git", "HEAD"), []byte("ref"), 0o644))

	plain := mustRun(t, env, "add", "site") // relative to the command's directory
	require.NotContains(t, plain, ".git")
	hidden := mustRun(t, env, "add", "--hidden", "site")
	require.Contains(t, hidden, "site/.git/HEAD")
	require.NotEqual(t, lastCid(plain), lastCid(hidden))
}

func lastCid(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.Fields(lines[len(lines)-1])[1]
}

func TestRepoInUse(t *testing.T) {
	env := testEnv(t)
	r, err := repo.Open(context.Background(), repo.Config{Path: repoOf(t, env)})
	require.NoError(t, err)
	defer r.Close()
	for _, args := range [][]string{{"add", env.Cwd}, {"pin", "ls"}, {"gc"}, {"repo", "verify"}} {
		code, _, errOut := runCLI(t, env, args...)
		require.Equal(t, exitFailure, code)
		require.Contains(t, errOut, "is in use by pid "+strconv.Itoa(os.Getpid())+" (a daemon? stop it or use its API)")
	}
}

func TestRepoFlagAndEnv(t *testing.T) {
	env := testEnv(t)
	dir := testutil.Corpus(t, 20, 3)
	mustRun(t, env, "--repo", "elsewhere", "add", "-q", dir)
	_, err := os.Stat(filepath.Join(env.Cwd, "elsewhere", "config.json"))
	require.NoError(t, err, "--repo wins over $ISLAND_PATH, relative to the working directory")
	_, err = os.Stat(filepath.Join(repoOf(t, env), "config.json"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestPinAndGC(t *testing.T) {
	env := testEnv(t)
	dir := testutil.Corpus(t, 20, 3)
	mustRun(t, env, "add", "-q", dir)
	require.Equal(t, corpusSmallRoot+" recursive user\n", mustRun(t, env, "pin", "ls"))

	post := corpusSmallRoot + "/posts/00001.md"
	out := mustRun(t, env, "pin", "add", "--recursive=false", post)
	require.Regexp(t, `^pinned bafk\S+ directly\n$`, out)
	var pins []core.Pin
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "pin", "ls", "--json")), &pins))
	require.Len(t, pins, 2)
	require.Equal(t, "direct", pins[0].Type)
	require.Equal(t, corpusSmallRoot+"\n", mustRun(t, env, "pin", "ls", "-q", "--type", "recursive"))

	require.Equal(t, "unpinned "+corpusSmallRoot+"\n", mustRun(t, env, "pin", "rm", corpusSmallRoot))
	code, _, errOut := runCLI(t, env, "pin", "rm", corpusSmallRoot)
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "is not pinned")

	var res core.GCResult
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "gc", "--json")), &res))
	require.Equal(t, 1, res.Kept, "only the directly pinned post is left")
	require.Equal(t, 20+3+4-1, res.Removed)
	require.NotEmpty(t, mustRun(t, env, "cat", strings.TrimSpace(strings.Fields(out)[1])))

	code, _, errOut = runCLI(t, env, "cat", post)
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "the repo does not have it")
	code, _, errOut = runCLI(t, env, "pin", "add", corpusSmallRoot)
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "could not find "+corpusSmallRoot)
}

func TestDagExportImport(t *testing.T) {
	src := testEnv(t)
	dir := testutil.Corpus(t, 20, 3)
	mustRun(t, src, "add", "-q", dir)
	carData := mustRun(t, src, "dag", "export", corpusSmallRoot)
	carFile := filepath.Join(src.Cwd, "site.car")
	require.NoError(t, os.WriteFile(carFile, []byte(carData), 0o644))

	dst := testEnv(t)
	dst.Cwd = src.Cwd
	require.Equal(t, "pinned root "+corpusSmallRoot+"\n", mustRun(t, dst, "dag", "import", "site.car"))
	require.Equal(t, mustRun(t, src, "cat", corpusSmallRoot+"/posts/00003.md"), mustRun(t, dst, "cat", corpusSmallRoot+"/posts/00003.md"))
	require.Contains(t, mustRun(t, dst, "repo", "verify"), "all good")

	// A cut-off copy imports nothing, says which file, and leaves the repo as it was.
	cut := filepath.Join(src.Cwd, "cut.car")
	require.NoError(t, os.WriteFile(cut, []byte(carData[:len(carData)/2]), 0o644))
	fresh := testEnv(t)
	fresh.Cwd = src.Cwd
	code, _, errOut := runCLI(t, fresh, "dag", "import", "cut.car")
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "dag import: cut.car: repo: bad CAR: block #")
	require.Contains(t, errOut, "truncated")
	require.Empty(t, mustRun(t, fresh, "pin", "ls"))
	require.Contains(t, mustRun(t, fresh, "repo", "verify"), "verified 0 blocks")

	code, _, errOut = runCLI(t, fresh, "dag", "import", "nope.car")
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "no such file")

	// Kubo's --pin-roots=false: the blocks of an incomplete DAG, each hash
	// checked, stored and held by nobody.
	part := partialCAR(t, []byte(carData))
	require.NoError(t, os.WriteFile(filepath.Join(src.Cwd, "part.car"), part, 0o644))
	code, _, errOut = runCLI(t, fresh, "dag", "import", "part.car")
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "neither in the CAR nor in the repo")
	out := mustRun(t, fresh, "dag", "import", "--pin-roots=false", "part.car")
	require.Regexp(t, `^imported root `+corpusSmallRoot+` \(not pinned\)\nimported \d+ blocks from part.car; nothing holds them, so gc removes them\n$`, out)
	require.Empty(t, mustRun(t, fresh, "pin", "ls"))
	require.Contains(t, mustRun(t, fresh, "gc"), "removed")
}

// partialCAR is car with every other block left out: a DAG that is not
// complete, each block still matching its CID.
func partialCAR(t *testing.T, data []byte) []byte {
	t.Helper()
	br, err := carv2.NewBlockReader(bytes.NewReader(data))
	require.NoError(t, err)
	var buf bytes.Buffer
	w, err := storage.NewWritable(&buf, br.Roots, carv2.WriteAsCarV1(true))
	require.NoError(t, err)
	for i := 0; ; i++ {
		b, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if i%2 == 0 {
			require.NoError(t, w.Put(context.Background(), b.Cid().KeyString(), b.RawData()))
		}
	}
	return buf.Bytes()
}

func TestRepoVerifyFindsDamage(t *testing.T) {
	env := testEnv(t)
	dir := filepath.Join(env.Cwd, "site")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	big := make([]byte, 3<<20) // three 1 MiB chunks: files in blocks/
	_, err := rand.Read(big)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("hi"), 0o644))
	root := lastCid(mustRun(t, env, "add", dir))
	// root dir, index.html, big.bin's node and its 3 chunks
	require.Contains(t, mustRun(t, env, "repo", "verify"), "verified 6 blocks: all good")

	// Damage one chunk file on disk, the way a bad sector would, and lose another.
	files, err := filepath.Glob(filepath.Join(repoOf(t, env), "blocks", "*", "*.data"))
	require.NoError(t, err)
	require.Len(t, files, 3)
	require.NoError(t, os.WriteFile(files[0], []byte("rot"), 0o644))
	require.NoError(t, os.Remove(files[1]))

	code, out, errOut := runCLI(t, env, "repo", "verify")
	require.Equal(t, exitFailure, code)
	require.Contains(t, out, "corrupt ")
	require.Contains(t, out, "missing ")
	require.Contains(t, errOut, "1 corrupt and 1 missing blocks")

	var rep core.VerifyReport
	code, out, _ = runCLI(t, env, "repo", "verify", "--json")
	require.Equal(t, exitFailure, code)
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, 5, rep.Blocks)
	require.Len(t, rep.Corrupt, 1)
	require.Len(t, rep.Missing, 1)
	require.Equal(t, root, rep.Missing[0].Pin)
}

func TestStorageUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"add"}, "at least 1 argument"},
		{[]string{"cat"}, "takes 1 argument"},
		{[]string{"cat", "not-a-cid"}, "is not a content path"},
		{[]string{"ls", "/ipns"}, "is not a content path"},
		{[]string{"pin", "ls", "--type", "sideways"}, "--type"},
		{[]string{"dag", "export"}, "takes 1 argument"},
		{[]string{"gc", "extra"}, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errOut := runCLI(t, testEnv(t), tt.args...)
			require.Equal(t, exitUsage, code, errOut)
			require.Contains(t, errOut, tt.want)
		})
	}
}

func TestAddProgressOnlyOnATerminal(t *testing.T) {
	env := testEnv(t)
	p := filepath.Join(env.Cwd, "big.bin")
	f, err := os.Create(p)
	require.NoError(t, err)
	_, err = io.CopyN(f, rand.Reader, progressMinBytes+1)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	code, _, errOut := runCLI(t, env, "add", "-q", p)
	require.Equal(t, exitOK, code, errOut)
	require.Empty(t, errOut, "no bar when stderr is not a terminal")

	env.StderrTTY = true
	code, out, errOut := runCLI(t, env, "add", "-q", p)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, errOut, "adding")
	require.Contains(t, errOut, "%")
	require.Regexp(t, `^bafy\S+\n$`, out, "the bar never mixes with stdout")

	small := filepath.Join(env.Cwd, "small.txt")
	require.NoError(t, os.WriteFile(small, []byte("tiny"), 0o644))
	code, _, errOut = runCLI(t, env, "add", "-q", small)
	require.Equal(t, exitOK, code, errOut)
	require.Empty(t, errOut, "no bar for a small add")
}

// With a daemon holding the repo, a command goes to it: the repo is not
// opened a second time (it could not be: the daemon holds its lock).
func TestCommandsUseTheDaemonsRepo(t *testing.T) {
	env := testEnv(t)
	startDaemon(t, env, nil)
	dir := testutil.Corpus(t, 20, 3)
	require.Equal(t, corpusSmallRoot+"\n", mustRun(t, env, "add", "-q", dir))
	require.Equal(t, corpusSmallRoot+" recursive user\n", mustRun(t, env, "pin", "ls"))
	_, err := core.Open(context.Background(), core.Config{RepoPath: repoOf(t, env)})
	require.ErrorContains(t, err, "in use by pid")
}

func mustCid(t *testing.T, s string) cid.Cid {
	t.Helper()
	c, err := cid.Decode(s)
	require.NoError(t, err)
	return c
}
