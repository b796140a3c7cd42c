package assets

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	if n := templatesBuilt.Load(); n != 0 {
		fmt.Fprintf(os.Stderr, "assets: %d templates were parsed while the package initialised\n", n)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestTemplatesOnFirstUse: each template is parsed once, on its first use,
// and renders its page.
func TestTemplatesOnFirstUse(t *testing.T) {
	global := GlobalData{GatewayURL: "http://127.0.0.1:8080"}
	for _, tc := range []struct {
		name string
		exec func(*bytes.Buffer) error
		want string
	}{
		{"directory", func(b *bytes.Buffer) error {
			return DirectoryTemplate().Execute(b, DirectoryTemplateData{GlobalData: global, Path: "/ipfs/bafy/dir",
				Listing: []DirectoryItem{{Name: "a-file.txt", Path: "/ipfs/bafy/dir/a-file.txt", Size: "1 B"}}})
		}, "a-file.txt"},
		{"dag", func(b *bytes.Buffer) error {
			return DagTemplate().Execute(b, DagTemplateData{GlobalData: global, Path: "/ipfs/bafy", CID: "bafy", CodecName: "dag-cbor"})
		}, "dag-cbor"},
		{"error", func(b *bytes.Buffer) error {
			return ErrorTemplate().Execute(b, ErrorTemplateData{GlobalData: global, StatusCode: 504, StatusText: "Gateway Timeout", Error: "no providers"})
		}, "no providers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := templatesBuilt.Load()
			for range 2 {
				var b bytes.Buffer
				require.NoError(t, tc.exec(&b))
				require.Contains(t, b.String(), tc.want)
			}
			require.Equal(t, before+1, templatesBuilt.Load())
		})
	}
}
