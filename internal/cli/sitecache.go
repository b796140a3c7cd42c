package cli

import (
	"sync"

	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/repo"
	"github.com/islandsite/island/internal/site"
)

// siteCache is what a long-running process (the daemon, serve) keeps
// between publishes of one content directory: the incremental builder and
// the importer's cache, so an edit re-renders and re-imports only what
// changed. A one-shot command has nothing to keep and builds from scratch.
type siteCache struct {
	builder *site.Builder
	imports *importer.Cache
}

// maxSiteCaches bounds the content directories one daemon remembers: each
// cache holds the rendered pages of a whole site.
const maxSiteCaches = 8

var siteCaches = struct {
	sync.Mutex
	m map[siteCacheKey]*siteCache
}{m: map[siteCacheKey]*siteCache{}}

type siteCacheKey struct{ repo, content string }

// cachedSite returns the cache for content published into r, creating it
// (and forgetting the others when there are too many).
func cachedSite(r *repo.Repo, content string) *siteCache {
	siteCaches.Lock()
	defer siteCaches.Unlock()
	k := siteCacheKey{r.Path(), content}
	if c, ok := siteCaches.m[k]; ok {
		return c
	}
	if len(siteCaches.m) >= maxSiteCaches {
		clear(siteCaches.m)
	}
	cfg := site.DefaultConfig()
	cfg.ContentDir = content
	c := &siteCache{builder: site.NewBuilder(cfg), imports: importer.NewCache(r.Blockstore())}
	siteCaches.m[k] = c
	return c
}
