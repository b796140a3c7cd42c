package cli

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"
)

func TestKeyCommands(t *testing.T) {
	env := testEnv(t)
	blog := strings.TrimSpace(mustRun(t, env, "key", "gen", "blog"))
	require.Regexp(t, `^k51[0-9a-z]+$`, blog)
	var alt core.Key
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "key", "gen", "--json", "alt")), &alt))
	require.Equal(t, "alt", alt.Name)

	var keys []core.Key
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "key", "ls", "--json")), &keys))
	require.Len(t, keys, 3)
	require.Equal(t, "self", keys[0].Name, "self comes first")
	require.Equal(t, []core.Key{{Name: "alt", ID: alt.ID}, {Name: "blog", ID: blog}}, keys[1:])
	require.Regexp(t, `^k51[0-9a-z]+$`, keys[0].ID)
	require.Equal(t, keys[0].ID+"  self\n"+alt.ID+"  alt\n"+blog+"  blog\n", mustRun(t, env, "key", "ls"))

	// Private keys: files 0600 in a 0700 directory.
	ks := filepath.Join(repoOf(t, env), "keystore")
	fi, err := os.Stat(ks)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o700), fi.Mode().Perm())
	for _, name := range []string{"self", "blog", "alt"} {
		fi, err := os.Stat(filepath.Join(ks, name))
		require.NoError(t, err)
		require.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), name)
	}

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"gen existing", []string{"key", "gen", "blog"}, exitFailure, `a key named "blog" already exists`},
		{"gen self", []string{"key", "gen", "self"}, exitFailure, "already exists"},
		{"gen bad name", []string{"key", "gen", "../evil"}, exitUsage, `key name "../evil"`},
		{"gen no name", []string{"key", "gen"}, exitUsage, "takes 1 argument"},
		{"rm self", []string{"key", "rm", "self"}, exitFailure, "node's identity"},
		{"rm unknown", []string{"key", "rm", "nope"}, exitFailure, `no key named "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, env, tt.args...)
			require.Equal(t, tt.code, code, stderr)
			require.Contains(t, stderr, tt.stderr)
		})
	}

	require.Equal(t, blog+"\tblog\n", mustRun(t, env, "key", "rm", "blog"))
	_, err = os.Stat(filepath.Join(ks, "blog"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "key", "ls", "--json")), &keys))
	require.Equal(t, []string{"self", "alt"}, []string{keys[0].Name, keys[1].Name})
	require.Len(t, keys, 2)
}

// A site's key moves to another machine: exported (mode 0600, never over
// another file) in Kubo's format, imported into another repo under a name,
// it signs the same IPNS name there.
func TestKeyExportImport(t *testing.T) {
	a, b := testEnv(t), testEnv(t)
	b.Cwd = a.Cwd
	site := strings.TrimSpace(mustRun(t, a, "key", "gen", "site"))
	require.Equal(t, "wrote key site to site.key\n", mustRun(t, a, "key", "export", "site"))
	fi, err := os.Stat(filepath.Join(a.Cwd, "site.key"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	code, _, stderr := runCLI(t, a, "key", "export", "site")
	require.Equal(t, exitFailure, code)
	require.Contains(t, stderr, "file exists (choose another file with -o)")
	mustRun(t, a, "key", "export", "-o", "self.key", "self")

	require.Equal(t, site+"\n", mustRun(t, b, "key", "import", "moved", "site.key"))
	c := addText(t, b, "published from the new laptop")
	out := mustRun(t, b, "name", "publish", "--key", "moved", c)
	require.Contains(t, out, site, "the imported key signs the same name")
	require.Equal(t, "/ipfs/"+c+"\n", mustRun(t, b, "name", "resolve", site))

	garbage := filepath.Join(a.Cwd, "garbage.key")
	require.NoError(t, os.WriteFile(garbage, []byte("not a key"), 0o600))
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"as self", []string{"key", "import", "self", "self.key"}, exitFailure, "node's own identity"},
		{"twice", []string{"key", "import", "again", "site.key"}, exitFailure, `this key is here already, as "moved"`},
		{"taken name", []string{"key", "import", "moved", "self.key"}, exitFailure, `a key named "moved" already exists`},
		{"not a key", []string{"key", "import", "x", "garbage.key"}, exitUsage, "key import: garbage.key: not a private key"},
		{"no file", []string{"key", "import", "x", "nope.key"}, exitFailure, "no such file"},
		{"export unknown", []string{"key", "export", "nope"}, exitFailure, `no key named "nope"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, b, tt.args...)
			require.Equal(t, tt.code, code, stderr)
			require.Contains(t, stderr, tt.stderr)
		})
	}
}

// A key Kubo exported (testdata/kubo) imports and signs the very name Kubo
// derives from it.
func TestKeyImportFromKubo(t *testing.T) {
	const kuboName = "k51qzi5uqu5dmjrq1za4ih4ajjgtvq34g7eaxihw7nyvfae7yvmfyk8wgplmfl"
	env := testEnv(t)
	key, err := filepath.Abs(filepath.Join("..", "..", "testdata", "kubo", "kubosite.key"))
	require.NoError(t, err)
	require.Equal(t, kuboName+"\n", mustRun(t, env, "key", "import", "fromkubo", key))
	c := addText(t, env, "signed with Kubo's key")
	require.Contains(t, mustRun(t, env, "name", "publish", "--key", "fromkubo", c), kuboName)
	require.Equal(t, "/ipfs/"+c+"\n", mustRun(t, env, "name", "resolve", kuboName))
	var keys []core.Key
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "key", "ls", "--json")), &keys))
	require.Equal(t, "fromkubo", keys[1].Name)
}
