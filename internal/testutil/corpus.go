package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// ModuleRoot is the directory holding go.mod, found from this source file so
// that tests in any package can reach the shared testdata/.
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// TestdataPath names a file under the module's top-level testdata/.
func TestdataPath(elem ...string) string {
	return filepath.Join(append([]string{ModuleRoot(), "testdata"}, elem...)...)
}

var (
	corpusMu    sync.Mutex
	corpusCache = map[string]string{}
)

// Corpus writes the deterministic synthetic site of testdata/gen-corpus.py
// (posts Markdown files under posts/, images under static/img/) and returns its
// directory. The generator is the one the reference CIDs in
// testdata/vectors were computed from, so it is run rather than re-implemented.
// A corpus is made once per test binary and shared: callers must not modify it.
func Corpus(tb testing.TB, posts, images int) string {
	tb.Helper()
	key := strconv.Itoa(posts) + "/" + strconv.Itoa(images)
	corpusMu.Lock()
	defer corpusMu.Unlock()
	if dir, ok := corpusCache[key]; ok {
		return dir
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		tb.Skip("python3 is not installed; it is needed to generate the test corpus (apt-get install python3)")
	}
	base, err := os.MkdirTemp("", "island-corpus-")
	require.NoError(tb, err)
	dir := filepath.Join(base, "corpus-"+strconv.Itoa(posts)+"-"+strconv.Itoa(images))
	out, err := exec.Command(python, TestdataPath("gen-corpus.py"), dir, strconv.Itoa(posts), strconv.Itoa(images)).CombinedOutput()
	require.NoError(tb, err, "gen-corpus.py: %s", out)
	corpusCache[key] = dir
	return dir
}

// CleanupCorpora removes every corpus made by this test binary; call it from TestMain.
func CleanupCorpora() {
	corpusMu.Lock()
	defer corpusMu.Unlock()
	for k, dir := range corpusCache {
		os.RemoveAll(filepath.Dir(dir))
		delete(corpusCache, k)
	}
}
