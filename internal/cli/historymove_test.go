package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A site moves to another machine with its name and its versions: key
// export and history export on the old repo, key import and history import
// on the new one, which then lists the same signed versions, serves them,
// keeps them through gc and publishes the next version above them. An
// export changed on the way, an older history, or two histories gone
// different ways are refused.
func TestHistoryExportImport(t *testing.T) {
	old, moved := testEnv(t), testEnv(t)
	moved.Cwd = old.Cwd
	site := strings.TrimSpace(mustRun(t, old, "key", "gen", "site"))
	writeContent(t, old, smallSite("First words."))
	publishJSON(t, old, "--key", "site", "--no-check")
	writeContent(t, old, map[string]string{"posts/hello.md": "---\ntitle: Hello\ndate: 2024-01-02\n---\nSecond words.\n"})
	publishJSON(t, old, "--key", "site", "--no-check")
	want := historyOf(t, old, "--key", "site")
	require.Len(t, want, 2)

	mustRun(t, old, "key", "export", "site")
	require.Equal(t, "wrote the history of site to site.history.car\n", mustRun(t, old, "history", "export", "--key", "site"))
	code, _, stderr := runCLI(t, old, "history", "export", "--key", "site")
	require.Equal(t, exitFailure, code)
	require.Contains(t, stderr, "choose another file with -o")

	mustRun(t, moved, "key", "import", "site", "site.key")
	require.Equal(t, "imported 2 versions of /ipns/"+site+" (2 new)\n", mustRun(t, moved, "history", "import", "site.history.car"))
	require.Equal(t, want, historyOf(t, moved, "--key", "site"), "the same signed versions")
	mustRun(t, moved, "gc")
	require.Contains(t, mustRun(t, moved, "cat", want[0].CID+"/posts/hello/index.html"), "First words.", "every version came along and gc keeps it")
	require.Contains(t, mustRun(t, moved, "cat", "/ipns/"+site+"/posts/hello/index.html"), "Second words.", "and the name's record")
	require.Equal(t, "imported 2 versions of /ipns/"+site+" (0 new)\n", mustRun(t, moved, "history", "import", "site.history.car"))

	writeContent(t, moved, map[string]string{"posts/hello.md": "---\ntitle: Hello\ndate: 2024-01-02\n---\nFrom the new laptop.\n"})
	v3 := publishJSON(t, moved, "--key", "site", "--no-check")
	require.Equal(t, 3, v3.Version)
	require.Greater(t, v3.Seq, want[1].Seq)
	code, _, stderr = runCLI(t, moved, "history", "import", "site.history.car")
	require.Equal(t, exitFailure, code, stderr)
	require.Contains(t, stderr, "it is older than this one")

	// The old laptop publishes its own third version: the histories differ.
	writeContent(t, old, map[string]string{"posts/hello.md": "---\ntitle: Hello\ndate: 2024-01-02\n---\nFrom the old laptop.\n"})
	publishJSON(t, old, "--key", "site", "--no-check")
	mustRun(t, old, "history", "export", "--key", "site", "-o", "diverged.car")
	code, _, stderr = runCLI(t, moved, "history", "import", "diverged.car")
	require.Equal(t, exitFailure, code, stderr)
	require.Contains(t, stderr, "version 3 of "+site+" is")

	// An export changed on the way fails its hash check; nothing is kept.
	b, err := os.ReadFile(filepath.Join(old.Cwd, "site.history.car"))
	require.NoError(t, err)
	i := bytes.Index(b, []byte(`"entry"`))
	require.Positive(t, i)
	b[i+40] ^= 1
	require.NoError(t, os.WriteFile(filepath.Join(old.Cwd, "tampered.car"), b, 0o644))
	fresh := testEnv(t)
	fresh.Cwd = old.Cwd
	code, _, stderr = runCLI(t, fresh, "history", "import", "tampered.car")
	require.Equal(t, exitFailure, code, stderr)
	require.Empty(t, historyOf(t, fresh, "--key", "self"))
}
