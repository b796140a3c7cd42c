package flatfs_test

import (
	"bytes"
	"testing"

	"github.com/ipfs/go-datastore"

	flatfs "github.com/ipfs/go-ds-flatfs"
)

// TestGetInto checks that GetInto gives Get's bytes, in the buffer given
// when they fit and in a new slice when they do not.
func TestGetInto(t *testing.T) {
	ctx := t.Context()
	fs, err := flatfs.CreateOrOpen(t.TempDir(), flatfs.NextToLast(2), false)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	value := bytes.Repeat([]byte("0123456789"), 1000)
	if err := fs.Put(ctx, datastore.NewKey("QUUX"), value); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		buf     []byte
		inPlace bool
	}{
		{"no buffer", nil, false},
		{"too small", make([]byte, 100), false},
		{"just fits", make([]byte, len(value)), true},
		{"larger", make([]byte, 3*len(value)), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fs.GetInto(ctx, datastore.NewKey("QUUX"), tc.buf)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, value) {
				t.Fatalf("GetInto gave %d bytes, not the %d put", len(got), len(value))
			}
			if inPlace := cap(tc.buf) > 0 && &got[0] == &tc.buf[0]; inPlace != tc.inPlace {
				t.Fatalf("read into the buffer given: %v, want %v", inPlace, tc.inPlace)
			}
		})
	}
	if _, err := fs.GetInto(ctx, datastore.NewKey("NOPE"), make([]byte, 10)); err != datastore.ErrNotFound {
		t.Fatalf("GetInto of a missing key: %v, want ErrNotFound", err)
	}
}
