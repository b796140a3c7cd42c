package gateway

import (
	"context"
	"slices"

	"github.com/hashicorp/golang-lru/v2"
	"github.com/ipfs/boxo/blockservice"
	bsfetcher "github.com/ipfs/boxo/fetcher/impl/blockservice"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/boxo/path/resolver"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-unixfsnode"
	dagpb "github.com/ipld/go-codec-dagpb"
)

// resolvedPathCacheSize bounds the cached path resolutions; an entry is a
// path, a CID and a few strings, so a few hundred bytes.
const resolvedPathCacheSize = 4096

// pathCache remembers where immutable paths lead. boxo resolves every
// prefix of a request's path from the root block down (/ipfs/CID/a, then
// /ipfs/CID/a/b, …), reading each directory block again for every request;
// /ipfs/ paths never change their target, so each is walked once.
type pathCache struct {
	resolver.Resolver
	resolved *lru.Cache[string, resolvedPath]
}

type resolvedPath struct {
	last      cid.Cid
	remainder []string
}

// newPathResolver is the resolver boxo's blocks backend would make for
// itself, behind the cache.
func newPathResolver(bserv blockservice.BlockService) *pathCache {
	cfg := bsfetcher.NewFetcherConfig(bserv)
	cfg.PrototypeChooser = dagpb.AddSupportToChooser(bsfetcher.DefaultPrototypeChooser)
	resolved, err := lru.New[string, resolvedPath](resolvedPathCacheSize)
	if err != nil {
		panic(err) // only for a size ≤ 0
	}
	return &pathCache{
		Resolver: resolver.NewBasicResolver(cfg.WithReifier(unixfsnode.Reify)),
		resolved: resolved,
	}
}

// ResolveToLastNode is the call boxo makes for every path prefix. Only
// successes are kept: a block that could not be fetched in time may come
// later.
func (c *pathCache) ResolveToLastNode(ctx context.Context, p path.ImmutablePath) (cid.Cid, []string, error) {
	key := p.String()
	if r, ok := c.resolved.Get(key); ok {
		return r.last, slices.Clone(r.remainder), nil
	}
	last, remainder, err := c.Resolver.ResolveToLastNode(ctx, p)
	if err == nil {
		c.resolved.Add(key, resolvedPath{last: last, remainder: slices.Clone(remainder)})
	}
	return last, remainder, err
}
