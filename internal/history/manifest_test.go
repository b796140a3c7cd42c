package history

import (
	"context"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/names/namestest"
)

// A manifest reads back as written; one whose links disagree with its
// entries, or that is not a manifest, is refused; Import checks the chain
// and refuses a history that went another way.
func TestManifestAndImport(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	s, _ := mustStore(t, r, nil)
	key := namestest.Key(t)
	n := namestest.NameOf(t, key)
	a, b := namestest.CID(t, "a"), namestest.CID(t, "b")
	_, err := s.PublishVersion(ctx, key, a)
	require.NoError(t, err)
	_, err = s.PublishVersion(ctx, key, b)
	require.NoError(t, err)
	entries, err := s.History(ctx, n.String())
	require.NoError(t, err)

	m, err := Manifest(n, entries, []byte("record"))
	require.NoError(t, err)
	gotName, got, rec, err := ReadManifest(m)
	require.NoError(t, err)
	require.True(t, gotName.Equal(n))
	require.Equal(t, []byte("record"), rec)
	require.Len(t, got, 2)
	require.True(t, got[1].CID.Equals(b))
	require.NoError(t, got[1].Verify())

	other, _ := mustStore(t, r, nil)
	added, err := other.Import(ctx, n, got)
	require.NoError(t, err)
	require.Equal(t, 2, added)
	added, err = other.Import(ctx, n, got[:1])
	require.ErrorIs(t, err, ErrHistoryConflict, "older than the one held")
	require.Zero(t, added)
	_, err = other.Import(ctx, n, []Entry{got[1]})
	require.ErrorIs(t, err, ErrTamperedHistory, "not a chain from version 1")

	forged := got[1]
	forged.CID = a
	_, err = other.Import(ctx, n, []Entry{got[0], forged})
	require.ErrorIs(t, err, ErrTamperedHistory, "a changed entry does not verify")

	raw := blocks.NewBlock([]byte("not a manifest"))
	_, _, _, err = ReadManifest(raw)
	require.ErrorIs(t, err, ErrBadManifest)
}

// FuzzReadManifest: whatever a history export's root holds, reading it
// fails cleanly or gives entries whose links match.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(`{"format":"island-history/v1","name":"k51qzi5uqu5dj2juw3urh7uopgfdpcggdh0v6lyxq8x9w41pr0348nk67ksewa","versions":[]}`))
	f.Add([]byte(`{"format":"island-history/v1","versions":[{"entry":"{}","content":{"/":"bafkqaaa"}}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := cid.Prefix{Version: 1, Codec: cid.DagJSON, MhType: mh.SHA2_256, MhLength: -1}.Sum(data)
		require.NoError(t, err)
		b, err := blocks.NewBlockWithCid(data, c)
		require.NoError(t, err)
		_, entries, _, err := ReadManifest(b)
		if err != nil {
			require.ErrorIs(t, err, ErrBadManifest)
			return
		}
		for _, e := range entries {
			require.True(t, e.CID.Defined())
		}
	})
}
