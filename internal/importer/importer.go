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
// and the same tree on disk give the same CID.
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
	im := &importer{opts: opts, fsys: fsys, buf: ipld.NewBufferedDAG(ctx, dag, ipld.MaxSizeBatchOption(batchBytes))}
	st, err := fs.Lstat(fsys, root)
	if err != nil {
		return Result{}, fmt.Errorf("importer: %w", err)
	}
	nd, err := im.entry(ctx, root, display, st)
	if err != nil {
		return Result{}, err
	}
	// The blocks are only stored once the batch is committed: report the
	// root to nobody before that.
	if err := im.buf.Commit(); err != nil {
		return Result{}, fmt.Errorf("importer: store blocks: %w", err)
	}
	return Result{Root: nd.Cid(), Entries: im.entries}, nil
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
	buf     *ipld.BufferedDAG
	entries []Entry
}

// entry imports one file system entry; p is its path in fsys, display the
// path printed for it.
func (im *importer) entry(ctx context.Context, p, display string, st fs.FileInfo) (ipld.Node, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var (
		nd  ipld.Node
		err error
	)
	switch mode := st.Mode(); {
	case mode.IsDir():
		nd, err = im.dir(ctx, p, display)
	case mode.IsRegular():
		nd, err = im.file(p)
	case mode&fs.ModeSymlink != 0:
		nd, err = im.symlink(p)
	default:
		return nil, fmt.Errorf("importer: %s: cannot import a %s, only files, directories and symlinks; move it out of the way", display, kindOf(mode))
	}
	if err != nil {
		return nil, err
	}
	im.entries = append(im.entries, Entry{Path: display, Cid: nd.Cid(), Size: nodeSize(nd)})
	return nd, nil
}

func (im *importer) dir(ctx context.Context, p, display string) (ipld.Node, error) {
	ents, err := fs.ReadDir(im.fsys, p)
	if err != nil {
		return nil, fmt.Errorf("importer: %s: %w", display, err)
	}
	dir, err := NewDirectory(im.buf)
	if err != nil {
		return nil, fmt.Errorf("importer: %s: %w", display, err)
	}
	// fs.ReadDir sorts by name, the order `ipfs add -r` walks in.
	for _, e := range ents {
		if !im.opts.Hidden && strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("importer: %s: %w", path.Join(display, e.Name()), err)
		}
		child, err := im.entry(ctx, path.Join(p, e.Name()), path.Join(display, e.Name()), info)
		if err != nil {
			return nil, err
		}
		if err := dir.AddChild(ctx, e.Name(), child); err != nil {
			return nil, fmt.Errorf("importer: %s: add %s: %w", display, e.Name(), err)
		}
	}
	nd, err := dir.GetNode()
	if err != nil {
		return nil, fmt.Errorf("importer: %s: %w", display, err)
	}
	if err := im.buf.Add(ctx, nd); err != nil {
		return nil, fmt.Errorf("importer: %s: %w", display, err)
	}
	return nd, nil
}

func (im *importer) file(p string) (ipld.Node, error) {
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
