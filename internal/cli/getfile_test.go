package cli

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriteNewFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"shorter than a block", 100},
		{"one block", outAlign},
		{"a block and a byte", outAlign + 1},
		{"one piece", outPiece},
		{"pieces and a tail", 3*outPiece + outAlign + 7},
		{"more pieces than buffers", (outPieces+2)*outPiece + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := randomBytes(t, tc.size)
			path := filepath.Join(t.TempDir(), "out")
			// A reader handing out odd sizes: pieces are filled whole anyway.
			require.NoError(t, writeNewFile(path, &oddReader{r: bytes.NewReader(want)}))
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			require.True(t, bytes.Equal(want, got), "OUT differs from what was read (%d bytes, want %d)", len(got), len(want))
		})
	}
}

func TestWriteNewFileFails(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	require.NoError(t, os.WriteFile(existing, []byte("mine"), 0o600))
	require.Error(t, writeNewFile(existing, bytes.NewReader([]byte("theirs"))), "an existing OUT is never written over")
	got, err := os.ReadFile(existing)
	require.NoError(t, err)
	require.Equal(t, "mine", string(got))

	// The reader's error is the write's, after what came before it.
	cut := errors.New("daemon: block bafy… is wrong")
	err = writeNewFile(filepath.Join(dir, "cut"), io.MultiReader(bytes.NewReader(randomBytes(t, 2*outPiece+5)), errReader{cut}))
	require.ErrorIs(t, err, cut)
}

// oddReader reads at most 1000 bytes at a time.
type oddReader struct{ r io.Reader }

func (o *oddReader) Read(p []byte) (int, error) { return o.r.Read(p[:min(len(p), 1000)]) }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}
