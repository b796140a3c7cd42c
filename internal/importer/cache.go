package importer

import (
	"context"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"sync"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Versioned is implemented by the fs.FileInfo.Sys of files a Cache can
// recognise without reading them, such as the files of a site.Bundle.
type Versioned interface {
	// FileVersion returns a comparable value, equal (==) for two files at
	// the same path only if they hold the same bytes; nil when unknown.
	FileVersion() any
}

// BlockChecker says whether a store holds a block; a blockstore.Blockstore
// is one.
type BlockChecker interface {
	Has(ctx context.Context, c cid.Cid) (bool, error)
}

// Cache makes importing the same tree again cheap when little of it
// changed, as when a site is published after every edit. It remembers, from
// the last import that used it, the CID of every file by path and version
// (see Versioned) and every directory node by path and children. The next
// import with it does not read or hash a file whose version is unchanged,
// and reuses a directory whose children are all unchanged instead of
// rebuilding it. Everything else is imported as without a cache, so the
// root CID and the entries are exactly those of an import without one.
//
// A Cache is for one tree imported again and again into one store. So that
// it never hands out a CID whose blocks are gone (removed by garbage
// collection, or staged by an import that was never committed), it asks the
// store it was made with whether it still has the last import's root: if
// so, garbage collection, which keeps or removes whole DAGs, left
// everything the cache remembers. If not, it asks for every directory it
// reuses instead. It reads a reused file's root block through the DAG
// whenever a directory holding it is rebuilt. Whatever is missing is
// imported again.
//
// Its methods are safe for concurrent use. Imports using one Cache may run
// at the same time; the last one to finish is what the next one starts from.
type Cache struct {
	store BlockChecker

	mu    sync.Mutex
	state *cacheState // of the last import that finished; nil before
}

// NewCache returns an empty Cache for imports into a DAG whose blocks
// store has; store may be nil only if no block imported with the cache is
// ever removed or discarded (NullDAG, which keeps nothing, is fine too:
// every file whose node is needed is imported again).
func NewCache(store BlockChecker) *Cache {
	return &Cache{store: store}
}

// cacheState is what one import learned. It is never modified once the
// import that made it finished.
type cacheState struct {
	files map[string]cachedFile // by path in the fs.FS
	dirs  map[string]*cachedDir // by path in the fs.FS
	// root is the import's root: every node above is in its DAG.
	root cid.Cid
}

type cachedFile struct {
	version any
	size    int64
	cid     cid.Cid
	tsize   uint64
}

type cachedDir struct {
	children []childLink
	nd       ipld.Node
}

// childLink is one link of a directory: what its node depends on.
type childLink struct {
	name  string
	cid   cid.Cid
	tsize uint64
}

// stored is every CID the state's import stored that it remembers: its
// directories and their children (the roots of its files).
func (s *cacheState) stored() *cid.Set {
	out := cid.NewSet()
	for _, d := range s.dirs {
		out.Add(d.nd.Cid())
		for _, l := range d.children {
			out.Add(l.cid)
		}
	}
	for _, f := range s.files {
		out.Add(f.cid)
	}
	return out
}

// skipStored is a DAGService that does not add nodes known to be stored
// already, sparing the store a lookup (or a write) per unchanged file.
type skipStored struct {
	ipld.DAGService
	stored *cid.Set
}

func (s skipStored) Add(ctx context.Context, nd ipld.Node) error {
	if s.stored.Has(nd.Cid()) {
		return nil
	}
	return s.DAGService.Add(ctx, nd)
}

func (s skipStored) AddMany(ctx context.Context, nds []ipld.Node) error {
	rest := make([]ipld.Node, 0, len(nds))
	for _, nd := range nds {
		if !s.stored.Has(nd.Cid()) {
			rest = append(rest, nd)
		}
	}
	return s.DAGService.AddMany(ctx, rest)
}

func newCacheState() *cacheState {
	return &cacheState{files: map[string]cachedFile{}, dirs: map[string]*cachedDir{}}
}

// begin returns what the last finished import learned (never nil) and an
// empty state for this import to fill.
func (c *Cache) begin() (prev, next *cacheState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	prev = c.state
	if prev == nil {
		prev = newCacheState()
	}
	return prev, newCacheState()
}

// finish makes next, the state of the import of root, what the following
// import starts from. Paths the import did not see are forgotten with the
// rest of prev.
func (c *Cache) finish(next *cacheState, root cid.Cid) {
	next.root = root
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = next
}

// has reports whether the store holds c; without a store, it trusts the
// cache.
func (c *Cache) has(ctx context.Context, id cid.Cid) (bool, error) {
	if c.store == nil {
		return true, nil
	}
	ok, err := c.store.Has(ctx, id)
	if err != nil {
		return false, fmt.Errorf("importer: cache: check %s: %w", id, err)
	}
	return ok, nil
}

// versionOf is a file's comparable version, or nil.
func versionOf(st fs.FileInfo) any {
	v, ok := st.Sys().(Versioned)
	if !ok {
		return nil
	}
	ver := v.FileVersion()
	if ver == nil || !reflect.ValueOf(ver).Comparable() {
		return nil // == on it would panic
	}
	return ver
}

// cachedFileAt returns the file at p as last imported, if unchanged since.
func (im *importer) cachedFileAt(p string, st fs.FileInfo) (child, bool) {
	if im.prev == nil {
		return child{}, false
	}
	ver := versionOf(st)
	if ver == nil {
		return child{}, false
	}
	f, ok := im.prev.files[p]
	if !ok || f.version != ver || f.size != st.Size() {
		return child{}, false
	}
	im.next.files[p] = f
	im.reused = append(im.reused, f.cid)
	return child{cid: f.cid, size: f.tsize}, true
}

// rememberFile records a file just imported.
func (im *importer) rememberFile(p string, st fs.FileInfo, ch child) {
	if im.next == nil {
		return
	}
	if ver := versionOf(st); ver != nil {
		im.next.files[p] = cachedFile{version: ver, size: st.Size(), cid: ch.cid, tsize: ch.size}
	}
}

// cachedDirAt returns the directory node at p as last imported, if it had
// the same children and the store still holds it.
func (im *importer) cachedDirAt(ctx context.Context, p string, links []childLink) (ipld.Node, error) {
	if im.prev == nil {
		return nil, nil
	}
	d := im.prev.dirs[p]
	if d == nil || !slices.Equal(d.children, links) {
		return nil, nil
	}
	// A directory's block stays only with all that it links to (garbage
	// collection keeps or drops whole DAGs), so its presence vouches for
	// the files below it that were not read; the last root's presence
	// vouches for all.
	if !im.prevStored {
		ok, err := im.opts.Cache.has(ctx, d.nd.Cid())
		if err != nil || !ok {
			return nil, err
		}
	}
	im.next.dirs[p] = d
	im.reused = append(im.reused, d.nd.Cid())
	return d.nd, nil
}

// rememberDir records a directory just built.
func (im *importer) rememberDir(p string, links []childLink, nd ipld.Node) {
	if im.next != nil {
		im.next.dirs[p] = &cachedDir{children: links, nd: nd}
	}
}
