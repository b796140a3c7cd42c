package files

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// writerToFile is a file that writes itself out (as a UnixFS file does),
// counting the times it did.
type writerToFile struct {
	File
	data  []byte
	wrote *int
}

func (f writerToFile) WriteTo(w io.Writer) (int64, error) {
	*f.wrote++
	n, err := w.Write(f.data)
	return int64(n), err
}

// TestMultiFileReaderWriteTo checks that WriteTo writes the bytes Read
// gives, handing files that are io.WriterTo to the writer directly.
func TestMultiFileReaderWriteTo(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 40<<10) // larger than any buffer
	var wrote int
	tree := func() Directory {
		return NewMapDirectory(map[string]Node{
			"a.txt": NewBytesFile([]byte("plain file")),
			"big":   writerToFile{File: NewBytesFile(big), data: big, wrote: &wrote},
			"sub": NewMapDirectory(map[string]Node{
				"empty": NewBytesFile(nil),
				"b":     NewReaderFile(strings.NewReader("read through Read")),
			}),
		})
	}
	for _, tc := range []struct {
		name string
		dir  func() Directory
	}{
		{"a directory", tree},
		{"one file", func() Directory {
			return NewSliceDirectory([]DirEntry{FileEntry("only", writerToFile{File: NewBytesFile(big), data: big, wrote: &wrote})})
		}},
		{"nothing", func() Directory { return NewSliceDirectory(nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			read := NewMultiFileReader(tc.dir(), false, false)
			want, err := io.ReadAll(read)
			require.NoError(t, err)

			wrote = 0
			written := NewMultiFileReader(tc.dir(), false, false)
			var got bytes.Buffer
			n, err := written.WriteTo(&got)
			require.NoError(t, err)
			require.Equal(t, int64(got.Len()), n)
			// The boundaries are random: compare with each reader's own.
			require.Equal(t, string(want), strings.ReplaceAll(got.String(), written.Boundary(), read.Boundary()))
			if tc.name != "nothing" {
				require.Equal(t, 1, wrote, "the file that writes itself was not asked to")
			}
		})
	}
}

// TestMultiFileReaderWriteToFails checks that WriteTo stops at the
// writer's error.
func TestMultiFileReaderWriteToFails(t *testing.T) {
	mfr := NewMultiFileReader(NewMapDirectory(map[string]Node{"f": NewBytesFile(make([]byte, 1<<20))}), false, false)
	_, err := mfr.WriteTo(&failingWriter{left: 1000})
	require.ErrorIs(t, err, io.ErrShortWrite)
}

type failingWriter struct{ left int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.left {
		n := f.left
		f.left = 0
		return n, io.ErrShortWrite
	}
	f.left -= len(p)
	return len(p), nil
}
