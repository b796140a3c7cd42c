package pinsvc

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadOrCreateToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo", "secrets")
	path := filepath.Join(dir, "pinning-token")

	token, err := LoadOrCreateToken(path)
	require.NoError(t, err)
	require.Len(t, token, 2*tokenBytes)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), di.Mode().Perm())

	again, err := LoadOrCreateToken(path)
	require.NoError(t, err)
	require.Equal(t, token, again)

	other, err := LoadOrCreateToken(filepath.Join(dir, "other"))
	require.NoError(t, err)
	require.NotEqual(t, token, other)

	for _, tt := range []struct {
		name    string
		mode    os.FileMode
		content string
		want    string
	}{
		{"readable by others", 0o644, token, "chmod 600"},
		{"writable by group", 0o620, token, "chmod 600"},
		{"not hex", 0o600, "password", "delete it to make a new one"},
		{"too short", 0o600, "abcd", "delete it to make a new one"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "token")
			require.NoError(t, os.WriteFile(p, []byte(tt.content), 0o600))
			require.NoError(t, os.Chmod(p, tt.mode))
			_, err := LoadOrCreateToken(p)
			require.ErrorContains(t, err, tt.want)
			// The refused file is left as it was.
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			require.Equal(t, tt.content, string(b))
		})
	}
}
