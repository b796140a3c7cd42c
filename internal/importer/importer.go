package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/files"
	mdag "github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	ipld "github.com/ipfs/go-ipld-format"
)

// profile is the import profile every CID this package computes follows.
// Its values are applied per call (builder parameters and directory options),
// never through boxo's process-wide globals, so nothing else in the process
// can change the CIDs.
var profile = uio.UnixFS_v1_2025

// batchBytes bounds the blocks buffered before they are handed to the
// DAGService (split over the commits in flight). Larger batches mean fewer,
// bigger datastore commits; this size keeps memory use flat whatever the
// input size.
const batchBytes = 16 << 20

// Options tunes an import.
type Options struct {
	// Hidden includes files and directories whose name starts with a dot;
	// like `ipfs add -r`, they are skipped by default. A hidden path named
	// explicitly as the root is always imported.
	Hidden bool
	// Progress, when set, is called with the number of file bytes just read.
	// It is called from the importing goroutine and must be cheap.
	Progress func(bytes int64)
	// Cache, when set, lets the import skip what it finds unchanged since
	// the last import with the same Cache, and remembers what this one
	// imported. The result is the same as without it.
	Cache *Cache
	// Base is the root the Known nodes of the tree come from, reported as
	// Result.Prev (Cache's root when there is a Cache).
	Base cid.Cid
}

// Known is an entry of a tree to import that is already stored: a file or
// a whole directory taken as it is from an earlier import (a version a
// site is edited from), by its CID and the cumulative size its parent's
// link records. It is linked from its directory as it is, without being
// read or listed below it: Result.Entries has it as one entry,
// Result.Reused has its CID. It must be part of Options.Base's DAG, which
// the store must hold (the import checks Base's root), and the import
// must have made it with this package's profile for the result to be the
// same as importing its files again.
type Known struct {
	Cid   cid.Cid
	Tsize uint64
}

func (*Known) Close() error           { return nil }
func (*Known) Mode() os.FileMode      { return 0 }
func (*Known) ModTime() time.Time     { return time.Time{} }
func (k *Known) Size() (int64, error) { return int64(k.Tsize), nil }

// Entry is one imported file, symlink or directory.
type Entry struct {
	// Path is the entry's slash-separated path, starting with the root's
	// base name (as `ipfs add -r` prints it).
	Path string
	Cid  cid.Cid
	// Size is the cumulative size of the entry's DAG (the Tsize a parent
	// link records), as `ipfs add` reports it.
	Size uint64
}

// Result is what an import produced: every entry, children before their
// directory, so the root comes last.
type Result struct {
	Root    cid.Cid
	Entries []Entry
	// Prev is the root of the import the Cache (Options.Cache) started
	// from, when it had one; Reused are the roots of the subtrees (files
	// and directories) this import took from it unchanged: everything of
	// the new DAG outside them is new since Prev.
	Prev   cid.Cid
	Reused []cid.Cid
}

// maxDepth bounds how deeply directories nest, counting the root. A
// multipart body describes a level for two bytes of a part's name
// ("a/a/a/…"): unbounded, one request could make the walker recurse
// millions of times (a fatal stack overflow), and boxo's iterator parses a
// part's name again at every level it descends.
const maxDepth = 256

// maxNameLen bounds an entry's name. No file system allows a longer one
// (255 characters of up to 4 bytes), and with it every block of a
// directory, a HAMT shard's 256 links included, stays well under the 1 MiB
// other peers accept: a name of megabytes from a stream would make a
// directory no one could fetch.
const maxNameLen = 1024

// AddPath imports the file, directory or symlink at path from disk. A
// symlink is stored as a UnixFS symlink, never followed, as Kubo does.
// It is AddNode of PathNode(p, opts.Hidden) under p's base name.
func AddPath(ctx context.Context, dag ipld.DAGService, p string, opts Options) (Result, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return Result{}, fmt.Errorf("importer: %w", err)
	}
	// Entries are reported under the base name, "site" rather than ".".
	name := filepath.Base(abs)
	nd, err := pathNode(p, name, opts.Hidden)
	if err != nil {
		return Result{}, err
	}
	return add(ctx, dag, name, nd, opts)
}

// AddFS imports root (a file, symlink or directory; "." for the whole FS)
// from fsys. Entries' paths start with root's base name. File modes and
// times are not recorded (the profile stores neither), so an in-memory tree
// and the same tree on disk give the same CID. With opts.Cache, importing
// the next version of the same tree reads only the files that changed
// (see Cache). It is AddNode of the FSNode of root under its base name.
func AddFS(ctx context.Context, dag ipld.DAGService, fsys fs.FS, root string, opts Options) (Result, error) {
	name := path.Base(root)
	nd, err := fsNode(fsys, root, name, opts.Hidden)
	if err != nil {
		return Result{}, err
	}
	return add(ctx, dag, name, nd, opts)
}

// AddNode imports nd, a files.File, files.Directory or *files.Symlink, as
// an entry called name: the entries' paths start with name. It gives the
// CIDs, entries and errors AddPath and AddFS give for the same tree, and
// it streams: every file is read once, in the order its directory lists
// it, and memory use does not grow with file sizes, so nd may be an entry
// of a multipart request body read back with files.NewFileFromPartReader
// (for a multipart/mixed body, pass it the media type
// "application/x-directory": it refuses multipart/mixed).
//
// Such a body is outside input, so entry names that no file system gives
// ("", ".", "..", any with a "/", any longer than 1 KiB) and a name listed
// twice in one directory are errors, and so are directories nested more
// than 256 deep, whatever the source. name itself is only what the paths
// start with and is not checked. Each directory's Entries is called once,
// and every node is closed once imported or skipped, nd included.
//
// opts.Cache skips unchanged files only for the nodes of PathNode and
// FSNode, which can be known by path and version and read again; with
// other nodes every file is read, and the Cache is left knowing nothing
// (it remembers the last import only).
func AddNode(ctx context.Context, dag ipld.DAGService, name string, nd files.Node, opts Options) (Result, error) {
	return add(ctx, dag, name, nd, opts)
}

// add is the walker behind AddPath, AddFS and AddNode.
func add(ctx context.Context, dag ipld.DAGService, name string, nd files.Node, opts Options) (Result, error) {
	if nd == nil {
		return Result{}, fmt.Errorf("importer: %s: no node to import", name)
	}
	// Closing a node is only releasing it (files are read, never written),
	// so there is nothing to report.
	defer nd.Close()
	// Cancelled on return, so that after an error no batch commit still in
	// flight keeps writing.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	im := &importer{opts: opts, dag: dag}
	to := dag
	if opts.Cache != nil {
		im.prev, im.next = opts.Cache.begin()
		if im.prev.root.Defined() {
			stored, err := opts.Cache.has(ctx, im.prev.root)
			if err != nil {
				return Result{}, err
			}
			im.prevStored = stored
		}
		if im.prevStored {
			// What the last import stored is there still: not written
			// (nor looked up by the store) again.
			to = skipStored{DAGService: dag, stored: im.prev.stored()}
		}
	}
	im.buf = ipld.NewBufferedDAG(ctx, to, ipld.MaxSizeBatchOption(batchBytes))
	ch, err := im.entry(ctx, name, nd, 0)
	if err != nil {
		return Result{}, err
	}
	if ch.nd == nil {
		// The root is a file the cache vouched for: make sure it is stored.
		if _, err := im.nodeOf(ctx, name, ch); err != nil {
			return Result{}, err
		}
	}
	// The blocks are only stored once the batch is committed: report the
	// root to nobody before that.
	if err := im.buf.Commit(); err != nil {
		return Result{}, fmt.Errorf("importer: store blocks: %w", err)
	}
	if opts.Cache != nil {
		opts.Cache.finish(im.next, ch.cid)
	}
	res := Result{Root: ch.cid, Entries: im.entries, Reused: im.reused, Prev: opts.Base}
	if im.prev != nil {
		res.Prev = im.prev.root
	}
	return res, nil
}

// AddReader imports the bytes of r as one UnixFS file and returns its CID.
// It streams: memory use does not depend on the size of r.
func AddReader(ctx context.Context, dag ipld.DAGService, r io.Reader) (cid.Cid, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	buf := ipld.NewBufferedDAG(ctx, dag, ipld.MaxSizeBatchOption(batchBytes))
	nd, err := importFile(buf, r)
	if err != nil {
		return cid.Undef, fmt.Errorf("importer: %w", err)
	}
	if err := buf.Commit(); err != nil {
		return cid.Undef, fmt.Errorf("importer: store blocks: %w", err)
	}
	return nd.Cid(), nil
}

type importer struct {
	opts    Options
	dag     ipld.DAGService // what buf writes to, read for nodes the cache vouched for
	buf     *ipld.BufferedDAG
	entries []Entry
	// prev is what the last import with opts.Cache learned, next what this
	// one learns; both nil without a cache.
	prev, next *cacheState
	// prevStored says the store still has prev's root, hence all of prev.
	prevStored bool
	// reused are the roots taken from prev unchanged (Result.Reused).
	reused []cid.Cid
	// baseChecked says Options.Base's root was found in the store.
	baseChecked bool
}

// checkBase makes sure, once, that the store holds Options.Base, the DAG
// Known entries come from.
func (im *importer) checkBase(ctx context.Context) error {
	if im.baseChecked {
		return nil
	}
	if !im.opts.Base.Defined() {
		return errors.New("a known entry without Options.Base, the stored version it comes from")
	}
	switch _, err := im.dag.Get(ctx, im.opts.Base); {
	case ipld.IsNotFound(err):
		return fmt.Errorf("the base %s of its known entries is not in the repo", im.opts.Base)
	case err != nil:
		return fmt.Errorf("read the base %s: %w", im.opts.Base, err)
	}
	im.baseChecked = true
	return nil
}

// linkNode stands for a Known entry in the directory it is added to:
// boxo's directories link a child by its CID and cumulative size alone
// (ipld.MakeLink), so its node need not be read. It embeds a nil Node so
// that any other use, which would need the node's bytes, fails loudly
// rather than write or link something else.
type linkNode struct {
	ipld.Node
	c    cid.Cid
	size uint64
}

func (n *linkNode) Cid() cid.Cid             { return n.c }
func (n *linkNode) Size() (uint64, error)    { return n.size, nil }
func (n *linkNode) String() string           { return n.c.String() }
func (n *linkNode) Loggable() map[string]any { return map[string]any{"node": n.c.String()} }

// skipLinkNodes is the DAG directories are built on: a HAMT shard writes
// each child it is given (hamt.Shard.Swap), and a linkNode's block is in
// the store already (checkBase), so it is not written again.
type skipLinkNodes struct{ ipld.DAGService }

func (d skipLinkNodes) Add(ctx context.Context, nd ipld.Node) error {
	if _, ok := nd.(*linkNode); ok {
		return nil
	}
	return d.DAGService.Add(ctx, nd)
}

func (d skipLinkNodes) AddMany(ctx context.Context, nds []ipld.Node) error {
	keep := make([]ipld.Node, 0, len(nds))
	for _, nd := range nds {
		if _, ok := nd.(*linkNode); !ok {
			keep = append(keep, nd)
		}
	}
	return d.DAGService.AddMany(ctx, keep)
}

// child is an imported entry: its node, or when the cache vouched for a
// file without it being read, only its CID and size.
type child struct {
	nd   ipld.Node
	cid  cid.Cid
	size uint64 // cumulative, as a parent's link records it
	// cached says the cache vouched for the entry: an unchanged file, or a
	// directory whose node was reused.
	cached bool
	// src is where a file the cache vouched for can be read again.
	src *fsEntry
}

func nodeChild(nd ipld.Node) child { return child{nd: nd, cid: nd.Cid(), size: nodeSize(nd)} }

// entry imports nd, a root or a directory's entry, as display (the path
// printed for it); depth counts the directories above it.
func (im *importer) entry(ctx context.Context, display string, nd files.Node, depth int) (child, error) {
	if err := ctx.Err(); err != nil {
		return child{}, err
	}
	var (
		ch  child
		err error
	)
	switch nd := nd.(type) {
	case *Known:
		if nd == nil || !nd.Cid.Defined() {
			return child{}, &entryError{display, errors.New("a known entry without a CID")}
		}
		if err := im.checkBase(ctx); err != nil {
			return child{}, &entryError{display, err}
		}
		// Linked by its CID and size (linkNode), never read: a directory of
		// thousands of entries, one of them changed, reads none of the rest.
		ch = child{nd: &linkNode{c: nd.Cid, size: nd.Tsize}, cid: nd.Cid, size: nd.Tsize, cached: true}
		im.reused = append(im.reused, nd.Cid)
	case *files.Symlink: // before File, which it implements (reading its target)
		ch, err = im.symlink(ctx, display, nd.Target)
	case files.Directory:
		ch, err = im.dir(ctx, display, nd, depth)
	case files.File:
		ch, err = im.file(display, nd)
	default:
		if nd == nil || nd.Mode().Type() == 0 {
			return child{}, &entryError{display, fmt.Errorf("cannot import a %T, only files, directories and symlinks", nd)}
		}
		return child{}, unsupported(display, nd.Mode())
	}
	if err != nil {
		return child{}, err
	}
	im.entries = append(im.entries, Entry{Path: display, Cid: ch.cid, Size: ch.size})
	return ch, nil
}

func (im *importer) dir(ctx context.Context, display string, d files.Directory, depth int) (child, error) {
	if depth >= maxDepth {
		return child{}, &entryError{display, fmt.Errorf("directories nested more than %d deep", maxDepth)}
	}
	// Only a directory of an fs.FS tree has a path the cache knows it by.
	src := sourceOf(d)
	var (
		dir   *dirBuilder // nil while the cached node may still do
		links []childLink
		held  []child // the children so far, while dir is nil
		err   error
	)
	// build starts the directory, adding the children held so far.
	build := func() error {
		dir = newDirBuilder(skipLinkNodes{im.buf})
		for i, h := range held {
			if err := im.addChild(ctx, dir, display, links[i].name, h); err != nil {
				return err
			}
		}
		held = nil
		return nil
	}
	if src == nil || im.prev == nil || im.prev.dirs[src.p] == nil {
		if err := build(); err != nil {
			return child{}, err
		}
	}
	// seen holds the names so far once they stop coming sorted: only then
	// can one come twice.
	var seen map[string]struct{}
	twice := func(name string) bool {
		if seen == nil {
			if len(links) == 0 || name > links[len(links)-1].name {
				return false
			}
			seen = make(map[string]struct{}, len(links))
			for _, l := range links {
				seen[l.name] = struct{}{}
			}
		}
		_, ok := seen[name]
		return ok
	}
	it := d.Entries()
	for it.Next() {
		name := it.Name()
		ch, ok, err := im.child(ctx, display, name, it.Node(), depth, twice)
		if err != nil {
			return child{}, err
		}
		if !ok {
			continue
		}
		links = append(links, childLink{name: name, cid: ch.cid, tsize: ch.size})
		if seen != nil {
			seen[name] = struct{}{}
		}
		if dir == nil && ch.cached {
			// Cheap to hold: a file's node is not read, a directory's is
			// in the cache anyway.
			held = append(held, ch)
			continue
		}
		if dir == nil {
			if err := build(); err != nil {
				return child{}, err
			}
		}
		if err := im.addChild(ctx, dir, display, name, ch); err != nil {
			return child{}, err
		}
	}
	if err := it.Err(); err != nil {
		return child{}, entryErr(display, err)
	}
	if dir == nil {
		nd, err := im.cachedDirAt(ctx, src.p, links)
		if err != nil {
			return child{}, err
		}
		if nd != nil {
			ch := nodeChild(nd)
			ch.cached = true
			return ch, nil
		}
		if err := build(); err != nil {
			return child{}, err
		}
	}
	nd, err := dir.GetNode(ctx)
	if err != nil {
		return child{}, entryErr(display, err)
	}
	if err := im.buf.Add(ctx, nd); err != nil {
		return child{}, entryErr(display, err)
	}
	// A directory from a stream has no path in an fs.FS: the cache knows it
	// by where the import put it, to tell which directories came out as
	// they were (Result.Reused).
	key := "\x00" + display // no fs.FS path holds a NUL
	if src != nil {
		key = src.p
	}
	if im.prev != nil {
		if d := im.prev.dirs[key]; d != nil && d.nd.Cid().Equals(nd.Cid()) {
			im.reused = append(im.reused, nd.Cid())
		}
	}
	im.rememberDir(key, links, nd)
	return nodeChild(nd), nil
}

// CheckName refuses an entry name no file system lists: "", ".", "..",
// one holding a "/" (from a stream, the entry's path would not lead back
// to it), one longer than 1 KiB.
func CheckName(name string) error {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return fmt.Errorf("invalid entry name %q", name)
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("entry name %.32q… longer than %d bytes", name, maxNameLen)
	}
	return nil
}

// child imports the entry name, nd, of the directory display (at depth),
// and closes nd. It skips a hidden entry unless asked for (ok false), and
// refuses a name no file system would list there.
func (im *importer) child(ctx context.Context, display, name string, nd files.Node, depth int, twice func(string) bool) (ch child, ok bool, err error) {
	if nd != nil {
		defer nd.Close()
	}
	if err := CheckName(name); err != nil {
		return child{}, false, &entryError{display, err}
	}
	if !im.opts.Hidden && isHidden(name) {
		return child{}, false, nil
	}
	if twice(name) {
		return child{}, false, &entryError{display, fmt.Errorf("entry %q listed twice", name)}
	}
	ch, err = im.entry(ctx, path.Join(display, name), nd, depth+1)
	return ch, err == nil, err
}

// addChild adds the entry name of the directory display, reading its node
// when the cache vouched for it without one.
func (im *importer) addChild(ctx context.Context, dir *dirBuilder, display, name string, ch child) error {
	nd := ch.nd
	if nd == nil {
		var err error
		if nd, err = im.nodeOf(ctx, path.Join(display, name), ch); err != nil {
			return err
		}
	}
	if err := dir.AddChild(ctx, name, nd); err != nil {
		return &entryError{display, fmt.Errorf("add %s: %w", name, err)}
	}
	return nil
}

// nodeOf reads the root node of the file (display) that the cache vouched
// for. If the store no longer has it, the file is imported again.
func (im *importer) nodeOf(ctx context.Context, display string, ch child) (ipld.Node, error) {
	nd, err := im.dag.Get(ctx, ch.cid)
	switch {
	case err == nil:
		return nd, nil
	case !ipld.IsNotFound(err):
		return nil, &entryError{display, fmt.Errorf("read %s: %w", ch.cid, err)}
	case ch.src == nil: // a Known entry
		return nil, &entryError{display, fmt.Errorf("%s is not in the repo", ch.cid)}
	}
	f, err := ch.src.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if nd, err = im.read(display, f); err != nil {
		return nil, err
	}
	if !nd.Cid().Equals(ch.cid) {
		return nil, fmt.Errorf("importer: %s changed while being imported; import again", display)
	}
	return nd, nil
}

// file imports a regular file, unless the cache has it.
func (im *importer) file(display string, f files.File) (child, error) {
	src := sourceOf(f)
	if src != nil {
		if ch, ok := im.cachedFileAt(src.p, src.info); ok {
			ch.cached = true
			ch.src = src
			return ch, nil
		}
	}
	nd, err := im.read(display, f)
	if err != nil {
		return child{}, err
	}
	ch := nodeChild(nd)
	if src != nil {
		im.rememberFile(src.p, src.info, ch)
	}
	return ch, nil
}

// read imports the bytes of r, the file display.
func (im *importer) read(display string, r io.Reader) (ipld.Node, error) {
	if im.opts.Progress != nil {
		r = &progressReader{r: r, report: im.opts.Progress}
	}
	nd, err := importFile(im.buf, r)
	if err != nil {
		return nil, entryErr(display, err)
	}
	return nd, nil
}

func (im *importer) symlink(ctx context.Context, display, target string) (child, error) {
	data, err := ft.SymlinkData(target)
	if err != nil {
		return child{}, entryErr(display, err)
	}
	nd := mdag.NodeWithData(data)
	if err := nd.SetCidBuilder(profile.CidBuilder()); err != nil {
		return child{}, entryErr(display, err)
	}
	if err := im.buf.Add(ctx, nd); err != nil {
		return child{}, entryErr(display, err)
	}
	return nodeChild(nd), nil
}

// entryError is an error about one entry, naming it by the path printed
// for it.
type entryError struct {
	path string
	err  error
}

func (e *entryError) Error() string { return "importer: " + e.path + ": " + e.err.Error() }
func (e *entryError) Unwrap() error { return e.err }

// entryErr names the entry p in err, unless err already names one: it
// comes from an entry below, or from a node of an fs.FS tree reading
// itself.
func entryErr(p string, err error) error {
	if _, ok := err.(*entryError); ok {
		return err
	}
	return &entryError{p, err}
}

// unsupported is the error for an entry UnixFS cannot hold.
func unsupported(display string, mode fs.FileMode) error {
	return &entryError{display, fmt.Errorf("cannot import a %s, only files, directories and symlinks; move it out of the way", kindOf(mode))}
}

// importFile chunks r and builds its balanced file DAG into dag.
func importFile(dag ipld.DAGService, r io.Reader) (ipld.Node, error) {
	spl, builder, stop := hashAhead(chunker.NewSizeSplitter(r, profile.ChunkSize), profile.ChunkSize, profile.CidBuilder())
	defer stop()
	params := helpers.DagBuilderParams{
		Maxlinks:   profile.FileDAGWidth,
		RawLeaves:  profile.RawLeaves,
		CidBuilder: builder,
		Dagserv:    dag,
	}
	db, err := params.New(spl)
	if err != nil {
		return nil, err
	}
	nd, err := balanced.Layout(db)
	if err != nil {
		return nil, err
	}
	return nd, nil
}

// NewDirectory returns an empty UnixFS directory that follows the profile: it
// becomes a HAMT once its block would exceed the profile's threshold. Other
// packages that build directories (e.g. to wrap a site) must use it so their
// CIDs match.
func NewDirectory(dag ipld.DAGService) (uio.Directory, error) {
	return uio.NewDirectory(dag,
		uio.WithCidBuilder(profile.CidBuilder()),
		uio.WithMaxLinks(0),
		uio.WithMaxHAMTFanout(profile.HAMTShardWidth),
		uio.WithSizeEstimationMode(profile.HAMTSizeEstimation),
		func(d uio.Directory) { d.SetHAMTShardingSize(profile.HAMTShardingSize) },
	)
}

// kindOf names a file type that UnixFS cannot hold.
func kindOf(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "named pipe"
	case mode&fs.ModeSocket != 0:
		return "socket"
	case mode&fs.ModeDevice != 0:
		return "device"
	default:
		return "special file (" + mode.Type().String() + ")"
	}
}

func nodeSize(nd ipld.Node) uint64 {
	s, err := nd.Size()
	if err != nil {
		// Only ProtoNodes with a broken encoding fail here, and those were
		// rejected when they were built.
		return uint64(len(nd.RawData()))
	}
	return s
}

type progressReader struct {
	r      io.Reader
	report func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.report(int64(n))
	}
	return n, err
}

// NullDAG returns a DAGService that keeps nothing: the
// importer still builds and hashes every node, so it is what `add
// --only-hash` imports into. Its memory use does not grow with the input.
func NullDAG() ipld.DAGService {
	return mdag.NewDAGService(blockservice.New(blockstore.NewBlockstore(dssync.MutexWrap(datastore.NewNullDatastore())), nil))
}
