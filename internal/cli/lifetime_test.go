package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"
)

// recordEOL is when the record that NAME resolves with ends.
func recordEOL(t *testing.T, env *Env, name string) time.Time {
	t.Helper()
	var r core.Resolved
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "name", "resolve", "--json", name)), &r))
	require.NotNil(t, r.EOL)
	return *r.EOL
}

// A site's records outlive a month's absence by default; site.toml's
// lifetime and publish --lifetime change it, and it stays the name's.
func TestPublishLifetime(t *testing.T) {
	env := testEnv(t)
	writeContent(t, env, smallSite("First words."))
	v := publishJSON(t, env)
	require.WithinDuration(t, time.Now().Add(core.DefaultSiteLifetime), recordEOL(t, env, v.Name), time.Hour,
		"35 days by default, not boxo's 48 h")

	writeContent(t, env, map[string]string{"site.toml": "title = \"Mine\"\nlifetime = \"10d\"\n"})
	v = publishJSON(t, env)
	require.WithinDuration(t, time.Now().Add(10*24*time.Hour), recordEOL(t, env, v.Name), time.Hour, "site.toml's lifetime")

	writeContent(t, env, map[string]string{"index.md": "---\ntitle: Home\n---\n\nChanged.\n"})
	v = publishJSON(t, env, "--lifetime", "60d")
	require.WithinDuration(t, time.Now().Add(60*24*time.Hour), recordEOL(t, env, v.Name), time.Hour, "--lifetime wins")

	code, _, errOut := runCLI(t, env, "publish", "--lifetime", "5m")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, "--lifetime: lifetime 5m0s: want 1h or more")
}

// follow ls warns when a followed name's record nears its end: followers
// keep it alive only until then.
func TestFollowLsWarnsOfExpiry(t *testing.T) {
	env := testEnv(t)
	soon, soonName := newEd25519(t)
	later, laterName := newEd25519(t)
	c := addText(t, env, "a friend's site")
	for _, r := range []struct {
		name string
		rec  []byte
	}{
		{soonName.String(), signedRecord(t, soon, "/ipfs/"+c, 1, time.Now().Add(2*24*time.Hour))},
		{laterName.String(), signedRecord(t, later, "/ipfs/"+c, 1, time.Now().Add(30*24*time.Hour))},
	} {
		f := filepath.Join(t.TempDir(), "r.ipns-record")
		require.NoError(t, os.WriteFile(f, r.rec, 0o600))
		mustRun(t, env, "routing", "put", "/ipns/"+r.name, f)
		mustRun(t, env, "follow", r.name)
	}
	code, _, errOut := runCLI(t, env, "follow", "ls")
	require.Equal(t, exitOK, code)
	require.Regexp(t, `warning: the record of `+soonName.String()+` expires at \S+ \(in 4\dh0m0s\): unless its author publishes again by then, the name stops resolving`, errOut)
	require.NotContains(t, errOut, laterName.String())
	for _, f := range followed(t, env) {
		require.NotNil(t, f.EOL, f.Name)
	}
}
