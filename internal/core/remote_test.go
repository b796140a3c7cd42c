package core

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzRemoteServicesFile: whatever the services file holds, loading it
// either fails saying it is damaged or gives services that save and load
// back the same.
func FuzzRemoteServicesFile(f *testing.F) {
	f.Add([]byte(`{"services":{"a":{"endpoint":"https://pin.example/psa","key":"t"}}}`))
	f.Add([]byte(`{"services":null}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{`))
	f.Add([]byte(`{"services":{"":{"endpoint":"\u0000","key":"\n"}},"extra":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &remoteServices{dir: t.TempDir()}
		require.NoError(t, os.WriteFile(filepath.Join(s.dir, RemoteServicesFile), data, 0o600))
		svcs, err := s.load()
		if err != nil {
			require.Contains(t, err.Error(), "is damaged")
			return
		}
		require.NotNil(t, svcs)
		require.NoError(t, s.edit(func(map[string]storedService) error { return nil }))
		again, err := s.load()
		require.NoError(t, err)
		require.Equal(t, svcs, again)
	})
}
