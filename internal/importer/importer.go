package importer

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	chunker "github.com/ipfs/boxo/chunker"
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
}

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
}

// AddPath imports the file, directory or symlink at path from disk. A
// symlink is stored as a UnixFS symlink, never followed, as Kubo does.
func AddPath(ctx context.Context, dag ipld.DAGService, p string, opts Options) (Result, error) {
	st, err := os.Lstat(p)
	if err != nil {
		return Result{}, fmt.Errorf("importer: %w", err)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return Result{}, fmt.Errorf("importer: %w", err)
	}
	name := filepath.Base(abs)
	if st.IsDir() {
		// Entries are reported under the directory's own name, not ".".
		return addFS(ctx, dag, os.DirFS(abs), ".", name, opts)
	}
	// A single file or symlink goes through the FS of its directory so that
	// one code path handles every kind of entry.
	return addFS(ctx, dag, os.DirFS(filepath.Dir(abs)), name, name, opts)
}

// AddFS imports root (a file, symlink or directory; "." for the whole FS)
// from fsys. Entries' paths start with root's base name. File modes and
// times are not recorded (the profile stores neither), so an in-memory tree
// and the same tree on disk give the same CID. With opts.Cache, importing
// the next version of the same tree reads only the files that changed
// (see Cache).
func AddFS(ctx context.Context, dag ipld.DAGService, fsys fs.FS, root string, opts Options) (Result, error) {
	return addFS(ctx, dag, fsys, root, path.Base(root), opts)
}

func addFS(ctx context.Context, dag ipld.DAGService, fsys fs.FS, root, display string, opts Options) (Result, error) {
	if !fs.ValidPath(root) {
		return Result{}, fmt.Errorf("importer: %q is not a valid fs.FS path", root)
	}
	// Cancelled on return, so that after an error no batch commit still in
	// flight keeps writing.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	im := &importer{opts: opts, fsys: fsys, dag: dag, buf: ipld.NewBufferedDAG(ctx, dag, ipld.MaxSizeBatchOption(batchBytes))}
	if opts.Cache != nil {
		im.prev, im.next = opts.Cache.begin()
		if im.prev.root.Defined() {
			stored, err := opts.Cache.has(ctx, im.prev.root)
			if err != nil {
				return Result{}, err
			}
			im.prevStored = stored
		}
	}
	st, err := fs.Lstat(fsys, root)
	if err != nil {
		return Result{}, fmt.Errorf("importer: %w", err)
	}
	ch, err := im.entry(ctx, root, display, st)
	if err != nil {
		return Result{}, err
	}
	if ch.nd == nil {
		// The root is a file the cache vouched for: make sure it is stored.
		if _, err := im.nodeOf(ctx, root, display, ch); err != nil {
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
	return Result{Root: ch.cid, Entries: im.entries}, nil
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
	fsys    fs.FS
	dag     ipld.DAGService // what buf writes to, read for nodes the cache vouched for
	buf     *ipld.BufferedDAG
	entries []Entry
	// prev is what the last import with opts.Cache learned, next what this
	// one learns; both nil without a cache.
	prev, next *cacheState
	// prevStored says the store still has prev's root, hence all of prev.
	prevStored bool
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
}

func nodeChild(nd ipld.Node) child { return child{nd: nd, cid: nd.Cid(), size: nodeSize(nd)} }

// entry imports one file system entry; p is its path in fsys, display the
// path printed for it.
func (im *importer) entry(ctx context.Context, p, display string, st fs.FileInfo) (child, error) {
	if err := ctx.Err(); err != nil {
		return child{}, err
	}
	var (
		ch  child
		err error
	)
	switch mode := st.Mode(); {
	case mode.IsDir():
		ch, err = im.dir(ctx, p, display)
	case mode.IsRegular():
		ch, err = im.file(p, st)
	case mode&fs.ModeSymlink != 0:
		var nd ipld.Node
		if nd, err = im.symlink(p); err == nil {
			ch = nodeChild(nd)
		}
	default:
		return child{}, fmt.Errorf("importer: %s: cannot import a %s, only files, directories and symlinks; move it out of the way", display, kindOf(mode))
	}
	if err != nil {
		return child{}, err
	}
	im.entries = append(im.entries, Entry{Path: display, Cid: ch.cid, Size: ch.size})
	return ch, nil
}

func (im *importer) dir(ctx context.Context, p, display string) (child, error) {
	ents, err := fs.ReadDir(im.fsys, p)
	if err != nil {
		return child{}, fmt.Errorf("importer: %s: %w", display, err)
	}
	var (
		dir   uio.Directory // nil while the cached node may still do
		links []childLink
		held  []child // the children so far, while dir is nil
	)
	// build starts the directory, adding the children held so far.
	build := func() error {
		if dir, err = NewDirectory(im.buf); err != nil {
			return fmt.Errorf("importer: %s: %w", display, err)
		}
		for i, h := range held {
			if err := im.addChild(ctx, dir, p, display, links[i].name, h); err != nil {
				return err
			}
		}
		held = nil
		return nil
	}
	if im.prev == nil || im.prev.dirs[p] == nil {
		if err := build(); err != nil {
			return child{}, err
		}
	}
	// fs.ReadDir sorts by name, the order `ipfs add -r` walks in.
	for _, e := range ents {
		if !im.opts.Hidden && strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return child{}, fmt.Errorf("importer: %s: %w", path.Join(display, e.Name()), err)
		}
		ch, err := im.entry(ctx, path.Join(p, e.Name()), path.Join(display, e.Name()), info)
		if err != nil {
			return child{}, err
		}
		links = append(links, childLink{name: e.Name(), cid: ch.cid, tsize: ch.size})
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
		if err := im.addChild(ctx, dir, p, display, e.Name(), ch); err != nil {
			return child{}, err
		}
	}
	if dir == nil {
		nd, err := im.cachedDirAt(ctx, p, links)
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
	nd, err := dir.GetNode()
	if err != nil {
		return child{}, fmt.Errorf("importer: %s: %w", display, err)
	}
	if err := im.buf.Add(ctx, nd); err != nil {
		return child{}, fmt.Errorf("importer: %s: %w", display, err)
	}
	im.rememberDir(p, links, nd)
	return nodeChild(nd), nil
}

// addChild adds the entry name of the directory at p (display), reading
// its node when the cache vouched for it without one.
func (im *importer) addChild(ctx context.Context, dir uio.Directory, p, display, name string, ch child) error {
	nd := ch.nd
	if nd == nil {
		var err error
		if nd, err = im.nodeOf(ctx, path.Join(p, name), path.Join(display, name), ch); err != nil {
			return err
		}
	}
	if err := dir.AddChild(ctx, name, nd); err != nil {
		return fmt.Errorf("importer: %s: add %s: %w", display, name, err)
	}
	return nil
}

// nodeOf reads the root node of the file at p (display) that the cache
// vouched for. If the store no longer has it, the file is imported again.
func (im *importer) nodeOf(ctx context.Context, p, display string, ch child) (ipld.Node, error) {
	nd, err := im.dag.Get(ctx, ch.cid)
	switch {
	case err == nil:
		return nd, nil
	case !ipld.IsNotFound(err):
		return nil, fmt.Errorf("importer: %s: read %s: %w", display, ch.cid, err)
	}
	if nd, err = im.readFile(p); err != nil {
		return nil, err
	}
	if !nd.Cid().Equals(ch.cid) {
		return nil, fmt.Errorf("importer: %s changed while being imported; import again", display)
	}
	return nd, nil
}

// file imports a regular file, unless the cache has it.
func (im *importer) file(p string, st fs.FileInfo) (child, error) {
	if ch, ok := im.cachedFileAt(p, st); ok {
		ch.cached = true
		return ch, nil
	}
	nd, err := im.readFile(p)
	if err != nil {
		return child{}, err
	}
	ch := nodeChild(nd)
	im.rememberFile(p, st, ch)
	return ch, nil
}

func (im *importer) readFile(p string) (ipld.Node, error) {
	f, err := im.fsys.Open(p)
	if err != nil {
		return nil, fmt.Errorf("importer: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if im.opts.Progress != nil {
		r = &progressReader{r: f, report: im.opts.Progress}
	}
	nd, err := importFile(im.buf, r)
	if err != nil {
		return nil, fmt.Errorf("importer: %s: %w", p, err)
	}
	return nd, nil
}

func (im *importer) symlink(p string) (ipld.Node, error) {
	target, err := fs.ReadLink(im.fsys, p)
	if err != nil {
		return nil, fmt.Errorf("importer: %w", err)
	}
	data, err := ft.SymlinkData(target)
	if err != nil {
		return nil, fmt.Errorf("importer: %s: %w", p, err)
	}
	nd := mdag.NodeWithData(data)
	if err := nd.SetCidBuilder(profile.CidBuilder()); err != nil {
		return nil, fmt.Errorf("importer: %s: %w", p, err)
	}
	if err := im.buf.Add(context.Background(), nd); err != nil {
		return nil, fmt.Errorf("importer: %s: %w", p, err)
	}
	return nd, nil
}

// importFile chunks r and builds its balanced file DAG into dag.
func importFile(dag ipld.DAGService, r io.Reader) (ipld.Node, error) {
	params := helpers.DagBuilderParams{
		Maxlinks:   profile.FileDAGWidth,
		RawLeaves:  profile.RawLeaves,
		CidBuilder: profile.CidBuilder(),
		Dagserv:    dag,
	}
	db, err := params.New(chunker.NewSizeSplitter(r, profile.ChunkSize))
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
