package core

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/ipfs/boxo/files"
	unixfile "github.com/ipfs/boxo/ipld/unixfs/file"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/repo"
)

var userHolder = repo.Holder{Kind: repo.HolderUser}

// Add imports every root in one all-or-nothing import, holds each for the
// user and announces it.
func (c *Core) Add(ctx context.Context, req AddRequest) (_ Added, err error) {
	defer c.fail(&err, "add")
	if req.Files == nil {
		return Added{}, Errorf(CodeInvalid, "nothing to add")
	}
	c.makeRoom(ctx)
	im, err := c.repo.BeginImport(ctx)
	if err != nil {
		return Added{}, err
	}
	// Close lets gc run again: only after the roots are held.
	defer im.Close()
	out, err := importAll(ctx, im, req)
	if err != nil {
		return Added{}, err
	}
	if err := im.Commit(ctx); err != nil {
		return Added{}, err
	}
	for _, r := range out.Roots {
		root, _ := cid.Decode(r.CID)
		if err := c.hold(ctx, root, userHolder, repo.Recursive); err != nil {
			return Added{}, err
		}
	}
	return out, nil
}

// Hash computes what Add would store, storing nothing: `add --only-hash`,
// which needs no repo (and so works while a daemon holds it).
func Hash(ctx context.Context, req AddRequest) (_ Added, err error) {
	defer func() {
		if err != nil {
			err = &Error{Code: classify(err), Message: "add: " + err.Error(), Err: err}
		}
	}()
	if req.Files == nil {
		return Added{}, Errorf(CodeInvalid, "nothing to add")
	}
	return importAll(ctx, importer.NullDAG(), req)
}

func importAll(ctx context.Context, dag ipld.DAGService, req AddRequest) (Added, error) {
	opts := importer.Options{Hidden: req.Hidden, Progress: req.Progress}
	out := Added{Roots: []AddedRoot{}}
	it := req.Files.Entries()
	for it.Next() {
		res, err := importer.AddNode(ctx, dag, it.Name(), it.Node(), opts)
		if err != nil {
			return Added{}, err
		}
		root := AddedRoot{CID: res.Root.String(), Entries: make([]AddedEntry, 0, len(res.Entries))}
		for _, e := range res.Entries {
			root.Entries = append(root.Entries, AddedEntry{Path: e.Path, CID: e.Cid.String(), Size: e.Size})
		}
		out.Roots = append(out.Roots, root)
	}
	if err := it.Err(); err != nil {
		return Added{}, Errorf(CodeInvalid, "read the files to add: %w", err)
	}
	if len(out.Roots) == 0 {
		return Added{}, Errorf(CodeInvalid, "nothing to add")
	}
	return out, nil
}

// Cat opens the file at the path; its first block is read before Cat
// returns, so a missing or wrong path is an error here, not mid-stream.
// With a node, the reads end with a *node.RelayOnlyError rather than wait
// for ever when the file's holders are reachable only through a relay that
// cannot carry it.
func (c *Core) Cat(ctx context.Context, req PathRequest) (_ io.ReadCloser, err error) {
	defer c.fail(&err, "cat")
	stop := func() {}
	if c.node != nil {
		ctx, stop = c.node.GuardRelay(ctx)
	}
	defer func() {
		if err != nil {
			err = relayCause(ctx, err)
			stop()
		}
	}()
	root, err := c.resolve(ctx, req.Path, req.Lookup)
	if err != nil {
		return nil, err
	}
	rd, err := repo.Cat(ctx, c.dag(), root)
	if err != nil {
		return nil, err
	}
	return &guardedReader{ReadCloser: rd, ctx: ctx, stop: stop}, nil
}

// relayCause is err, or the relay guard's reason when the guard of ctx is
// what ended the reads.
func relayCause(ctx context.Context, err error) error {
	if cause := node.RelayOnlyCause(ctx); cause != nil {
		return cause
	}
	return err
}

// guardedReader reads a file under a relay guard (node.GuardRelay), and
// stops the guard when closed.
type guardedReader struct {
	io.ReadCloser
	ctx  context.Context
	stop func()
}

func (r *guardedReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	return n, r.why(err)
}

// WriteTo keeps the DAG reader's own WriteTo for io.Copy.
func (r *guardedReader) WriteTo(w io.Writer) (int64, error) {
	if wt, ok := r.ReadCloser.(io.WriterTo); ok {
		n, err := wt.WriteTo(w)
		return n, r.why(err)
	}
	return io.Copy(w, struct{ io.Reader }{r})
}

// why replaces a read error the relay guard caused with its reason.
func (r *guardedReader) why(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if cause := node.RelayOnlyCause(r.ctx); cause != nil {
		return &Error{Code: CodeUnavailable, Message: cause.Error(), Err: cause}
	}
	return err
}

func (r *guardedReader) Close() error {
	defer r.stop()
	return r.ReadCloser.Close()
}

// Ls lists the directory at the path.
func (c *Core) Ls(ctx context.Context, req PathRequest) (_ []LsEntry, err error) {
	defer c.fail(&err, "ls")
	root, err := c.resolve(ctx, req.Path, req.Lookup)
	if err != nil {
		return nil, err
	}
	entries, err := repo.List(ctx, c.dag(), root)
	if err != nil {
		return nil, err
	}
	out := make([]LsEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, LsEntry{Name: e.Name, CID: e.Cid.String(), Type: e.Type, Size: e.Size})
	}
	return out, nil
}

// Fetch brings the DAG at the path into the repo, from peers.
func (c *Core) Fetch(ctx context.Context, req FetchRequest) (_ Fetched, err error) {
	defer c.fail(&err, "fetch")
	if req.Timeout < 0 {
		return Fetched{}, Errorf(CodeInvalid, "timeout %s: want a positive duration, or 0 for none", req.Timeout)
	}
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, req.Timeout.Std(), fmt.Errorf("gave up after %s (timeout)", req.Timeout.Std()))
		defer cancel()
	}
	root, err := c.resolve(ctx, req.Path, req.Lookup)
	if err != nil {
		return Fetched{}, err
	}
	if err := c.fetch(ctx, root, req.Progress); err != nil {
		return Fetched{}, err
	}
	return Fetched{CID: root.String()}, nil
}

// fetch brings root's whole DAG in from peers; without a node there is
// nowhere to fetch from and what is missing shows when it is read.
func (c *Core) fetch(ctx context.Context, root cid.Cid, progress func(FetchProgress)) error {
	if c.node == nil {
		return nil
	}
	c.makeRoom(ctx)
	var report func(node.FetchProgress)
	if progress != nil {
		report = func(p node.FetchProgress) {
			progress(FetchProgress{Blocks: p.Blocks, Bytes: p.Bytes, Peers: p.Peers, Pending: p.Pending})
		}
	}
	if err := c.node.Fetch(ctx, root, report); err != nil {
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			return fmt.Errorf("%w: %w", cause, err)
		}
		return err
	}
	return nil
}

// Get returns the UnixFS tree at the path. Offline its whole DAG is checked
// to be in the repo first, so what is missing is this method's error and
// not a broken stream. Online, a DAG the repo does not hold whole is read
// from peers as the tree is read, and not stored (node.Stream): `get`
// writes it out while it arrives, and what a peer cannot give ends the
// tree's reads with the reason.
func (c *Core) Get(ctx context.Context, req PathRequest) (_ Tree, err error) {
	defer c.fail(&err, "get")
	root, err := c.resolve(ctx, req.Path, req.Lookup)
	if err != nil {
		return Tree{}, err
	}
	// Checking is cheap: a raw leaf is only looked up, not read.
	if err = c.repo.CheckComplete(ctx, root); err != nil && c.node != nil && ipld.IsNotFound(err) {
		return c.streamTree(ctx, root)
	}
	if err != nil {
		return Tree{}, err
	}
	dag := c.dag()
	nd, err := dag.Get(ctx, root)
	if err != nil {
		return Tree{}, err
	}
	f, err := unixfile.NewUnixfsFile(ctx, dag, nd)
	if err != nil {
		return Tree{}, err
	}
	return Tree{CID: root.String(), Node: f}, nil
}

// streamTree is the tree at root read through a node.Stream. A file's Close
// ends the Stream; a directory's cannot (boxo's multipart writer closes a
// directory as soon as it starts on its entries), so the Stream of a
// directory ends with ctx.
func (c *Core) streamTree(ctx context.Context, root cid.Cid) (Tree, error) {
	s := c.node.Stream(ctx, root)
	context.AfterFunc(ctx, s.Close)
	nd, err := s.DAG().Get(s.Context(), root)
	var f files.Node
	if err == nil {
		f, err = unixfile.NewUnixfsFile(s.Context(), s.DAG(), nd)
	}
	if err != nil {
		s.Close()
		return Tree{}, err
	}
	switch f := f.(type) {
	case files.File:
		return Tree{CID: root.String(), Node: &streamedFile{File: f, s: s, root: nd}}, nil
	case files.Directory:
		return Tree{CID: root.String(), Node: f}, nil
	default: // a symlink: read whole already
		s.Close()
		return Tree{CID: root.String(), Node: f}, nil
	}
}

// streamedFile ends its node.Stream when closed.
type streamedFile struct {
	files.File
	s    *node.Stream
	root ipld.Node
	// moved: Read was called, WriteTo goes on from where it left.
	moved bool
}

func (f *streamedFile) Close() error {
	defer f.s.Close()
	return f.File.Close()
}

func (f *streamedFile) Read(p []byte) (int, error) {
	f.moved = true
	return f.File.Read(p)
}

// WriteTo hands each block's bytes to w as they are, without a copy into
// a reader's buffer (the API writes a file to its client so): from the
// start through the Stream, which reuses the CAR's buffers
// (node.Stream.WriteFile); else through the DAG reader's WriteTo.
func (f *streamedFile) WriteTo(w io.Writer) (int64, error) {
	if !f.moved {
		f.moved = true
		return f.s.WriteFile(f.root, w)
	}
	if wt, ok := f.File.(io.WriterTo); ok {
		return wt.WriteTo(w)
	}
	return io.Copy(w, f.File)
}

// DagImport stores a CAR, all or nothing, holds its roots for the user and
// announces them.
func (c *Core) DagImport(ctx context.Context, req DagImportRequest) (_ DagImported, err error) {
	defer c.fail(&err, "dag import")
	if req.CAR == nil {
		return DagImported{}, Errorf(CodeInvalid, "no CAR to import")
	}
	c.makeRoom(ctx)
	res, err := c.repo.ImportCAR(ctx, bufio.NewReaderSize(req.CAR, 1<<20), !req.NoPin)
	if err != nil {
		return DagImported{}, err
	}
	roots := res.Roots
	out := DagImported{Roots: make([]string, 0, len(roots)), Blocks: res.Blocks, Pinned: !req.NoPin}
	for _, r := range roots {
		out.Roots = append(out.Roots, r.String())
	}
	if err := c.announce(ctx, roots...); err != nil {
		return out, err
	}
	return out, nil
}

// DagExport streams the DAG at the path as a CARv1; the root block is read
// before it returns.
func (c *Core) DagExport(ctx context.Context, req PathRequest) (_ io.ReadCloser, err error) {
	defer c.fail(&err, "dag export")
	root, err := c.resolve(ctx, req.Path, req.Lookup)
	if err != nil {
		return nil, err
	}
	if _, err := c.BlockService().GetBlock(ctx, root); err != nil {
		return nil, err
	}
	return c.streamCAR(ctx, "dag export", root), nil
}

// streamCAR streams root's DAG as a CARv1 (blocks in extra as given, see
// repo.ExportCAR); an error on the way ends the stream as operation op's.
func (c *Core) streamCAR(ctx context.Context, op string, root cid.Cid, extra ...blocks.Block) io.ReadCloser {
	pr, pw := io.Pipe()
	c.streamsMu.Lock()
	if c.closed.Err() != nil {
		c.streamsMu.Unlock()
		pw.CloseWithError(Errorf(CodeUnavailable, "%s: the repo is closing", op))
		return pr
	}
	c.streams.Add(1)
	c.streamsMu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	stopOnClose := context.AfterFunc(c.closed, cancel)
	go func() {
		defer c.streams.Done()
		defer cancel()
		defer stopOnClose()
		stop := context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) })
		defer stop()
		w := bufio.NewWriterSize(pw, 1<<20)
		err := c.repo.ExportCAR(ctx, w, root, extra...)
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			err = &Error{Code: classify(err), Message: op + ": " + err.Error(), Err: err}
		}
		pw.CloseWithError(err)
	}()
	return pr
}
