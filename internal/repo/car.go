package repo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/boxo/blockstore"
	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	"github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	ipld "github.com/ipfs/go-ipld-format"
	legacy "github.com/ipfs/go-ipld-legacy"
	car "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
	dagpb "github.com/ipld/go-codec-dagpb"
	_ "github.com/ipld/go-ipld-prime/codec/dagcbor" // CARs may hold dag-cbor and dag-json DAGs;
	_ "github.com/ipld/go-ipld-prime/codec/dagjson" // register their codecs for link decoding.
	"github.com/ipld/go-ipld-prime/node/basicnode"
	"github.com/multiformats/go-multihash"
)

// linkDecoder decodes blocks exactly as the DAG service does (boxo's
// merkledag registers the same two codecs and falls back to ipld-prime's
// registry for the rest), so the links ImportCAR checks are the links a
// later pin walk or GC mark follows.
var linkDecoder = func() *legacy.Decoder {
	d := legacy.NewDecoder()
	d.RegisterCodec(cid.DagProtobuf, dagpb.Type.PBNode, merkledag.ProtoNodeConverter)
	d.RegisterCodec(cid.Raw, basicnode.Prototype.Bytes, merkledag.RawNodeConverter)
	return d
}()

// CARError says what is wrong with a CAR file and where.
type CARError struct {
	// Block is the index of the block at fault (0 = first), -1 for the header.
	Block int
	Err   error
}

func (e *CARError) Error() string {
	if e.Block < 0 {
		return fmt.Sprintf("repo: not a CAR file, or a damaged one (bad header: %v)", e.Err)
	}
	return fmt.Sprintf("repo: bad CAR: block #%d: %v", e.Block, e.Err)
}

func (e *CARError) Unwrap() error { return e.Err }

// CARImport is what ImportCAR stored.
type CARImport struct {
	Roots []cid.Cid
	// Blocks counts the distinct blocks of the CAR.
	Blocks int
}

// ImportCAR imports a CAR (v1 or v2) and, with pinRoots, pins its roots
// recursively for the user.
//
// All or nothing: every block is checked against its CID and, with
// pinRoots, every root's DAG must be complete (each block in the CAR or
// already in the repo) before anything becomes visible; the blocks are
// staged in an Import. Without pinRoots an incomplete DAG is fine (Kubo's
// --pin-roots=false): the blocks are stored, held by nobody.
func (r *Repo) ImportCAR(ctx context.Context, in io.Reader, pinRoots bool) (CARImport, error) {
	br, err := car.NewBlockReader(bufio.NewReaderSize(in, 1<<20))
	if err != nil {
		return CARImport{}, &CARError{Block: -1, Err: carCause(err)}
	}
	im, err := r.BeginImport(ctx)
	if err != nil {
		return CARImport{}, err
	}
	defer im.Close()

	// links of every block in the CAR, by multihash
	inCAR := map[string][]cid.Cid{}
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return CARImport{}, err
		}
		blk, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return CARImport{}, &CARError{Block: i, Err: carCause(err)}
		}
		k := string(blk.Cid().Hash())
		if _, dup := inCAR[k]; dup {
			continue
		}
		links, err := blockLinks(ctx, blk)
		if err != nil {
			return CARImport{}, &CARError{Block: i, Err: fmt.Errorf("%s: %w", blk.Cid(), err)}
		}
		inCAR[k] = links
		if err := im.Put(ctx, blk); err != nil {
			return CARImport{}, fmt.Errorf("repo: block #%d: %w", i, err)
		}
	}
	for _, root := range br.Roots {
		if !pinRoots {
			break
		}
		missing, err := r.firstMissing(ctx, root, inCAR)
		if err != nil {
			return CARImport{}, fmt.Errorf("repo: %w", err)
		}
		if missing.Defined() {
			return CARImport{}, fmt.Errorf("repo: the DAG of root %s needs block %s, which is neither in the CAR nor in the repo; nothing was imported", root, missing)
		}
	}
	if err := im.Commit(ctx); err != nil {
		return CARImport{}, fmt.Errorf("repo: %w", err)
	}
	for _, root := range br.Roots {
		if !pinRoots {
			break
		}
		if err := r.Pin(ctx, root, Holder{Kind: HolderUser}, Recursive); err != nil {
			return CARImport{}, err
		}
	}
	return CARImport{Roots: br.Roots, Blocks: len(inCAR)}, nil
}

// carCause turns go-car's errors for a cut-off file into one a person reads.
func carCause(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("file is truncated (%w)", err)
	}
	return err
}

// blockLinks decodes blk and returns its links; raw blocks have none.
func blockLinks(ctx context.Context, blk blocks.Block) ([]cid.Cid, error) {
	if blk.Cid().Prefix().Codec == cid.Raw {
		return nil, nil
	}
	nd, err := linkDecoder.DecodeNode(ctx, blk)
	if err != nil {
		return nil, fmt.Errorf("cannot decode: %w", err)
	}
	links := nd.Links()
	out := make([]cid.Cid, len(links))
	for i, l := range links {
		out[i] = l.Cid
	}
	return out, nil
}

// firstMissing walks root's DAG through pending (the links of blocks not
// yet in the store, by multihash; may be nil) and the store, and returns
// the first block found in neither, or cid.Undef if the DAG is complete.
func (r *Repo) firstMissing(ctx context.Context, root cid.Cid, pending map[string][]cid.Cid) (cid.Cid, error) {
	seen := map[string]bool{}
	stack := []cid.Cid{root}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return cid.Undef, err
		}
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		k := string(c.Hash())
		if seen[k] {
			continue
		}
		seen[k] = true
		if links, ok := pending[k]; ok {
			stack = append(stack, links...)
			continue
		}
		var links []*ipld.Link
		var err error
		if c.Prefix().Codec == cid.Raw { // no links: only check it is here
			var has bool
			if has, err = r.bstore.Has(ctx, c); err == nil && !has {
				err = ipld.ErrNotFound{Cid: c}
			}
		} else {
			links, err = r.linksOf(ctx, c)
		}
		if ipld.IsNotFound(err) {
			return c, nil
		}
		if err != nil {
			return cid.Undef, fmt.Errorf("%s: %w", c, err)
		}
		for _, l := range links {
			stack = append(stack, l.Cid)
		}
	}
	return cid.Undef, nil
}

// ExportCAR writes root's whole DAG to w as a CARv1 with root as its only
// root, blocks in depth-first order, each once. A missing block is an
// error; what was written before it is then an incomplete CAR. Blocks in
// extra are written as given, whether the repo holds them or not.
func (r *Repo) ExportCAR(ctx context.Context, w io.Writer, root cid.Cid, extra ...blocks.Block) error {
	return WriteCARFrom(ctx, w, r.ReadBlock, root, false, extra...)
}

// A BlockReader reads block c's bytes, into buf when they fit (else into a
// new slice): a CAR writer reuses a few buffers for every block instead of
// allocating and clearing one per block. The bytes are the caller's.
type BlockReader func(ctx context.Context, c cid.Cid, buf []byte) ([]byte, error)

// ReadBlock is the repo's BlockReader: Blockstore().Get's bytes (identity
// CIDs included, checked when Config.HashOnRead), big blocks read into buf.
func (r *Repo) ReadBlock(ctx context.Context, c cid.Cid, buf []byte) ([]byte, error) {
	if c.Prefix().MhType == multihash.IDENTITY {
		b, err := r.bstore.Get(ctx, c)
		if err != nil {
			return nil, err
		}
		return b.RawData(), nil
	}
	data, err := r.stores.blocks.getInto(ctx, dshelp.MultihashToDsKey(c.Hash()), buf)
	if errors.Is(err, ds.ErrNotFound) {
		return nil, ipld.ErrNotFound{Cid: c}
	}
	if err != nil {
		return nil, err
	}
	if r.hashOnRead {
		if got, err := c.Prefix().Sum(data); err != nil || !got.Equals(c) {
			return nil, blockstore.ErrHashMismatch
		}
	}
	return data, nil
}

// GetBlocks is a BlockReader reading bs's blocks with Get, without buffers.
func GetBlocks(bs blockstore.Blockstore) BlockReader {
	return func(ctx context.Context, c cid.Cid, _ []byte) ([]byte, error) {
		b, err := bs.Get(ctx, c)
		if err != nil {
			return nil, err
		}
		return b.RawData(), nil
	}
}

// WriteCAR writes root's whole DAG from bs to w as WriteCARFrom does.
func WriteCAR(ctx context.Context, w io.Writer, bs blockstore.Blockstore, root cid.Cid, dups bool, extra ...blocks.Block) error {
	return WriteCARFrom(ctx, w, GetBlocks(bs), root, dups, extra...)
}

// WriteCARFrom writes root's whole DAG, its blocks read with read, to w as a
// CARv1 with root as its only root, blocks in depth-first order: each once,
// or with dups as often as the DAG links it (the trustless gateway's
// dups=y, the order a reader of the DAG reads it in). A missing block is an
// error; what was written before it is then an incomplete CAR. Blocks in
// extra are written as given, whether the store holds them or not.
// Identity CIDs are not written (their CID holds them).
func WriteCARFrom(ctx context.Context, w io.Writer, read BlockReader, root cid.Cid, dups bool, extra ...blocks.Block) error {
	// No buffer of its own: a block is one large write, and the callers'
	// writers (a bufio, an HTTP answer) gather the small ones.
	cw, err := storage.NewWritable(w, []cid.Cid{root}, car.WriteAsCarV1(true), car.AllowDuplicatePuts(dups))
	if err != nil {
		return fmt.Errorf("repo: %w", err)
	}
	// The walk reads blocks ahead of the writes, so reading the store and
	// writing to a slow w (a peer) overlap; the buffers go round between
	// them (a write copies what it is given before it returns).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan walked, carReadAhead)
	free := make(chan []byte, carReadAhead+1)
	for range carReadAhead + 1 {
		free <- nil // allocated by the first reads, as large as the blocks
	}
	var walkErr error
	go func() {
		defer close(next)
		walkErr = walkDAG(ctx, read, root, dups, extra, free, next)
	}()
	for b := range next {
		if err := cw.Put(ctx, b.c.KeyString(), b.data); err != nil {
			cancel()
			for range next { // let the walk end
			}
			return fmt.Errorf("repo: write: %w", err)
		}
		if b.pooled {
			free <- b.buf
		}
	}
	return walkErr
}

// carReadAhead is how many blocks WriteCAR's walk reads ahead of its writes.
const carReadAhead = 8

// walked is a block the walk read: its bytes, and the buffer to hand back
// once they are written (none for a block given in extra).
type walked struct {
	c      cid.Cid
	data   []byte
	buf    []byte
	pooled bool
}

// walkDAG sends root's DAG (read with read into buffers from free, or from
// extra) to out, depth-first, each block once or with dups as often as it
// is linked.
func walkDAG(ctx context.Context, read BlockReader, root cid.Cid, dups bool, extra []blocks.Block, free chan []byte, out chan<- walked) error {
	given := make(map[string]blocks.Block, len(extra))
	for _, b := range extra {
		given[string(b.Cid().Hash())] = b
	}
	seen := map[string]bool{}
	stack := []cid.Cid{root}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !dups {
			if seen[c.KeyString()] {
				continue
			}
			seen[c.KeyString()] = true
		}
		b := walked{c: c}
		if blk, ok := given[string(c.Hash())]; ok {
			b.data = blk.RawData()
		} else {
			var buf []byte
			select {
			case buf = <-free:
			case <-ctx.Done():
				return ctx.Err()
			}
			data, err := read(ctx, c, buf)
			if err != nil {
				if ipld.IsNotFound(err) {
					return fmt.Errorf("repo: block %s of %s is not in the repo", c, root)
				}
				return fmt.Errorf("repo: %s: %w", c, err)
			}
			b.data, b.buf, b.pooled = data, buf, true
			if cap(data) > cap(buf) {
				b.buf = data // read into a new slice: keep the larger
			}
		}
		var links []cid.Cid
		if c.Prefix().Codec != cid.Raw {
			blk, err := blocks.NewBlockWithCid(b.data, c)
			if err == nil {
				links, err = blockLinks(ctx, blk)
			}
			if err != nil {
				return fmt.Errorf("repo: %s: %w", c, err)
			}
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		for i := len(links) - 1; i >= 0; i-- {
			stack = append(stack, links[i])
		}
	}
	return nil
}
