package gateway

import (
	"context"
	"testing"

	"github.com/ipfs/boxo/path"
	"github.com/stretchr/testify/require"
)

func TestPathCacheKeepsResolutions(t *testing.T) {
	store, bserv := newTestStore(t)
	site := store.addTree(t, "testdata/site")
	ctx := context.Background()
	resolve := newPathResolver(bserv)
	p, err := path.Join(path.FromCid(site), "posts", "first-post", "index.html")
	require.NoError(t, err)
	ip, err := path.NewImmutablePath(p)
	require.NoError(t, err)

	first, rest, err := resolve.ResolveToLastNode(ctx, ip)
	require.NoError(t, err)
	require.Empty(t, rest)

	// With the directories gone, only the cache can still answer.
	posts, err := path.Join(path.FromCid(site), "posts")
	require.NoError(t, err)
	postsIP, err := path.NewImmutablePath(posts)
	require.NoError(t, err)
	postsCid, _, err := resolve.ResolveToLastNode(ctx, postsIP)
	require.NoError(t, err)
	require.NoError(t, store.blocks.DeleteBlock(ctx, site))
	require.NoError(t, store.blocks.DeleteBlock(ctx, postsCid))
	again, _, err := resolve.ResolveToLastNode(ctx, ip)
	require.NoError(t, err)
	require.Equal(t, first, again)

	// Failures are not kept.
	missing, err := path.Join(path.FromCid(site), "posts", "third-post")
	require.NoError(t, err)
	missingIP, err := path.NewImmutablePath(missing)
	require.NoError(t, err)
	_, _, err = resolve.ResolveToLastNode(ctx, missingIP)
	require.Error(t, err)
	require.Equal(t, 2, resolve.resolved.Len(), "the file, /posts and nothing for the failure")
}
