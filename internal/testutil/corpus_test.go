package testutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	code := m.Run()
	CleanupCorpora()
	os.Exit(code)
}

func TestCorpusIsDeterministicAndShared(t *testing.T) {
	a := Corpus(t, 3, 1)
	require.Equal(t, a, Corpus(t, 3, 1), "the same corpus is made once")
	posts, err := filepath.Glob(filepath.Join(a, "posts", "*.md"))
	require.NoError(t, err)
	require.Len(t, posts, 3)
	img, err := os.Stat(filepath.Join(a, "static", "img", "i000.png"))
	require.NoError(t, err)
	require.EqualValues(t, 200*1024, img.Size())
}
