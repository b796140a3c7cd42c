package repo

import (
	"context"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/stretchr/testify/require"
)

func TestDiff(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t, t.TempDir())
	tree := func(files map[string]string) cid.Cid {
		t.Helper()
		return importFS(t, r, files)
	}
	base := tree(map[string]string{"index.html": "home", "a/one.txt": "1", "a/two.txt": "22", "b": "file b"})
	for _, tc := range []struct {
		name  string
		from  cid.Cid
		to    map[string]string
		limit int
		want  DiffResult
	}{
		{"from nothing", cid.Undef, map[string]string{"index.html": "home", "x/y.htm": "yy"}, 10, DiffResult{
			Added: 2, BytesAdded: 6, Pages: map[string]int{Added: 2},
			Changes: []Change{{Path: "index.html", Kind: Added, Size: 4}, {Path: "x/y.htm", Kind: Added, Size: 2}}}},
		{"the same", base, map[string]string{"index.html": "home", "a/one.txt": "1", "a/two.txt": "22", "b": "file b"}, 10, DiffResult{
			Pages: map[string]int{}}},
		{"a file changed, a folder gone, a file became a folder", base, map[string]string{"index.html": "HOME!", "b/inner.txt": "in"}, 10, DiffResult{
			Added: 1, Changed: 1, Removed: 3, BytesAdded: 7, BytesRemoved: 4 + 1 + 2 + 6,
			Pages: map[string]int{Changed: 1},
			Changes: []Change{
				{Path: "b/inner.txt", Kind: Added, Size: 2},
				{Path: "index.html", Kind: Changed, Size: 5},
				{Path: "a/one.txt", Kind: Removed, Size: 1},
				{Path: "a/two.txt", Kind: Removed, Size: 2},
				{Path: "b", Kind: Removed, Size: 6},
			}}},
		{"more changes than listed", base, map[string]string{}, 2, DiffResult{
			Removed: 4, BytesRemoved: 13, Pages: map[string]int{Removed: 1}, Truncated: true,
			Changes: []Change{{Path: "a/one.txt", Kind: Removed, Size: 1}, {Path: "a/two.txt", Kind: Removed, Size: 2}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Diff(ctx, r.DAG(), tc.from, tree(tc.to), tc.limit, 1000)
			require.NoError(t, err)
			require.ElementsMatch(t, tc.want.Changes, got.Changes)
			tc.want.Changes, got.Changes = nil, nil
			require.Equal(t, tc.want, got)
		})
	}

	t.Run("bounded work", func(t *testing.T) {
		_, err := Diff(ctx, r.DAG(), cid.Undef, base, 10, 3)
		require.ErrorContains(t, err, "more entries changed than the 3 a diff reads")
	})
	t.Run("a block the repo lacks", func(t *testing.T) {
		missing, err := cid.Decode("bafybeie5nqv6kd3qnfjupgvz34woh3oksc3iau6abmyajn7qvtf6d2ho34")
		require.NoError(t, err)
		_, err = Diff(ctx, r.DAG(), base, missing, 10, 1000)
		require.Error(t, err)
	})
}
