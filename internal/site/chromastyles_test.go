package site

import (
	"bytes"
	"testing"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/stretchr/testify/require"
)

// TestChromaStylesAreChromas holds island's copies of the styles to
// chroma's own: after a chroma upgrade that changes them, copy the new
// files from its styles/ into chroma/.
func TestChromaStylesAreChromas(t *testing.T) {
	for _, tc := range []struct {
		name string
		ours func() *chroma.Style
	}{
		{"github", githubStyle},
		{"github-dark", githubDarkStyle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			theirs, ok := styles.Registry[tc.name]
			require.True(t, ok, "chroma has no style %s", tc.name)
			f := chromahtml.New(chromahtml.WithClasses(true))
			var want, got bytes.Buffer
			require.NoError(t, f.WriteCSS(&want, theirs))
			ours := tc.ours()
			require.Equal(t, theirs.Name, ours.Name)
			require.NoError(t, f.WriteCSS(&got, ours))
			require.Equal(t, want.String(), got.String())
		})
	}
}
