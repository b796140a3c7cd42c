package node

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Stream is a read of one DAG in the order its reader asks for it (a file
// written out by `get`), from the blockstore where it holds a block and from
// peers for the rest, which it does not store: a block fetched only to be
// read once is the reader's, not the repo's. Storing it would cost its
// writes (and their fsyncs) and a read back, which together were most of
// what `get` spent; what `pin add` or a follow keeps comes through Fetch.
//
// When a connected peer serves the trustless gateway over libp2p
// (trustless.go), the Stream first reads the whole DAG from it as one CAR
// (carfetch.go): bitswap's message per block costs more than the transfer
// itself between fast peers. What the CAR does not bring, it reads over
// bitswap, as it does everything when no peer serves the gateway.
//
// A Stream gives up as Fetch does: when no block has arrived for
// Config.FetchTimeout while it waits (a *NoProvidersError), or when the
// holders are reachable only through a relay (a *RelayOnlyError, see
// GuardRelay). Its context then ends with that cause.
type Stream struct {
	ctx   context.Context
	dag   ipld.DAGService
	stop  func()
	guard func()

	root    cid.Cid
	timeout time.Duration
	cancel  context.CancelCauseFunc
	car     *carSource // nil when no peer serves the gateway

	mu      sync.Mutex
	waiting int // reads waiting for peers
	stall   *time.Timer
}

// Stream starts a Stream of the DAG under root. Read it with DAG and
// Context, then Close it.
func (n *Node) Stream(ctx context.Context, root cid.Cid) *Stream {
	s := &Stream{root: root, timeout: n.cfg.FetchTimeout}
	ctx, s.guard = n.GuardRelay(ctx)
	ctx, s.cancel = context.WithCancelCause(ctx)
	bs := blockservice.New(&streamStore{Blockstore: n.cfg.Blockstore, s: s}, &streamExchange{eagerExchange: n.eager, s: s})
	s.ctx = blockservice.ContextWithSession(ctx, bs)
	d := &streamDAG{DAGService: merkledag.NewDAGService(bs), s: s, ahead: map[cid.Cid]*aheadBlock{},
		viaCAR: map[cid.Cid]int{},
		get:    func(ctx context.Context, cs []cid.Cid) <-chan blocks.Block { return bs.GetBlocks(ctx, cs) }}
	s.dag = d
	if has, err := n.cfg.Blockstore.Has(ctx, root); err == nil && !has {
		s.car = n.startCAR(s.ctx, root, n.trustlessPeers(), s.arrived)
	}
	return s
}

// Context is the context to read DAG with; it ends with the reason the
// Stream gave up (context.Cause).
func (s *Stream) Context() context.Context { return s.ctx }

// DAG reads blocks from the blockstore, else from peers without storing them.
func (s *Stream) DAG() ipld.DAGService { return s.dag }

// Close ends the Stream's reads. It is idempotent.
func (s *Stream) Close() {
	s.cancel(nil)
	if s.car != nil {
		s.car.Close()
	}
	s.guard()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stall != nil {
		s.stall.Stop()
	}
}

// wait counts a read that asks peers, and arms the stall timer while any does.
func (s *Stream) wait() func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiting++
	if s.waiting == 1 {
		s.armLocked()
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.waiting--
		if s.waiting == 0 && s.stall != nil {
			s.stall.Stop()
		}
	}
}

// arrived restarts the stall timer: a block came.
func (s *Stream) arrived() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiting > 0 {
		s.armLocked()
	}
}

func (s *Stream) armLocked() {
	if s.stall == nil {
		s.stall = time.AfterFunc(s.timeout, func() {
			s.cancel(&NoProvidersError{Cid: s.root, After: s.timeout})
		})
		return
	}
	s.stall.Reset(s.timeout)
}

// streamStore reads through to the blockstore and keeps nothing written to
// it: the blockservice writes there each block it fetched.
type streamStore struct {
	blockstore.Blockstore
	s *Stream
}

func (b *streamStore) Put(context.Context, blocks.Block) error {
	b.s.arrived()
	return nil
}

func (b *streamStore) PutMany(_ context.Context, bs []blocks.Block) error {
	if len(bs) > 0 {
		b.s.arrived()
	}
	return nil
}

// streamExchange is the node's exchange, with the Stream's stall timer
// running while a read waits for peers. Peers hear of no block from it: the
// node does not hold what a Stream fetched.
type streamExchange struct {
	*eagerExchange
	s *Stream
}

func (e *streamExchange) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	return stallFetcher{e.eagerExchange, e.s}.GetBlock(ctx, c)
}

func (e *streamExchange) GetBlocks(ctx context.Context, cs []cid.Cid) (<-chan blocks.Block, error) {
	return stallFetcher{e.eagerExchange, e.s}.GetBlocks(ctx, cs)
}

func (e *streamExchange) NewSession(ctx context.Context) exchange.Fetcher {
	return stallFetcher{e.eagerExchange.NewSession(ctx), e.s}
}

func (e *streamExchange) NotifyNewBlocks(context.Context, ...blocks.Block) error { return nil }

// stallFetcher counts its reads as waiting for peers until they return.
type stallFetcher struct {
	f exchange.Fetcher
	s *Stream
}

func (f stallFetcher) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	defer f.s.wait()()
	return f.f.GetBlock(ctx, c)
}

func (f stallFetcher) GetBlocks(ctx context.Context, cs []cid.Cid) (<-chan blocks.Block, error) {
	done := f.s.wait()
	in, err := f.f.GetBlocks(ctx, cs)
	if err != nil {
		done()
		return nil, err
	}
	out := make(chan blocks.Block)
	go func() {
		defer close(out)
		defer done()
		for b := range in {
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// streamDAG reads through the Stream and answers a read that failed because
// the Stream gave up with the reason it did.
//
// It also reads ahead. A DAG reader asks for a few blocks at a time (boxo
// preloads 10 children), a window too narrow to keep even a loopback link
// busy; Fetch keeps up to maxFetchInFlight blocks asked for. streamDAG
// remembers the links of each node read, in the order read (a file's leaves
// in file order), and keeps up to streamAhead of them fetched or asked for
// ahead of the reader: at most streamAhead blocks held, and at most
// streamPlanned links remembered, whatever the DAG's size. A block read
// ahead is handed over once; read again, it is fetched again.
type streamDAG struct {
	ipld.DAGService
	s   *Stream
	get func(ctx context.Context, cs []cid.Cid) <-chan blocks.Block

	mu      sync.Mutex
	planned []cid.Cid // links not asked for yet, in reading order
	ahead   map[cid.Cid]*aheadBlock
	viaCAR  map[cid.Cid]int // read from the CAR while planned: not to ask for
}

// Bounds of a Stream's reading ahead (variables for tests).
var (
	streamAhead   = 64
	streamPlanned = 1 << 16
)

// aheadBlock is a block asked for ahead of the reader: done is closed when
// it came (b set) or will not (b nil).
type aheadBlock struct {
	b    blocks.Block
	done chan struct{}
}

func (d *streamDAG) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	nd, _, err := d.getNode(ctx, c)
	return nd, err
}

// getNode reads c as Get does; fromCAR says its block came from the CAR, whose
// bytes are the reader's alone (see Stream.Read).
func (d *streamDAG) getNode(ctx context.Context, c cid.Cid) (_ ipld.Node, fromCAR bool, _ error) {
	// Asked even once the CAR ended: blocks it brought ahead may be waiting.
	if car := d.s.car; car != nil {
		done := d.s.wait()
		b, fromCAR, ok := car.take(ctx, c)
		done()
		if ok {
			nd, err := decodeNode(ctx, b)
			if err != nil {
				return nil, false, err
			}
			d.readCAR(c, nd)
			return nd, fromCAR, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, false, d.s.why(context.Cause(ctx))
		}
		// The CAR ended short: bitswap brings the rest, starting with
		// what was planned and not read yet.
		d.mu.Lock()
		d.fillLocked()
		d.mu.Unlock()
	}
	if a := d.take(c); a != nil {
		select {
		case <-a.done:
		case <-ctx.Done():
			return nil, false, d.s.why(context.Cause(ctx))
		}
		if a.b != nil {
			nd, err := decodeNode(ctx, a.b)
			if err != nil {
				return nil, false, err
			}
			d.read(nd)
			return nd, false, nil
		}
	}
	nd, err := d.DAGService.Get(ctx, c)
	if err != nil {
		return nil, false, d.s.why(err)
	}
	d.read(nd)
	return nd, false, nil
}

// WriteFile writes the UnixFS file whose root node (read through the
// Stream) is root to w, as boxo's DAG reader does (each leaf's data, in
// order), reading each block through the Stream. A block the CAR brought
// is handed back once its bytes are written, and the CAR reads later
// blocks into it: a get of a large file allocates a few buffers, not one
// per block (which, with the collector's work on them, cost daemon B a
// tenth of its CPU). Nothing else holds such a block: it was read for this
// walk alone.
func (s *Stream) WriteFile(root ipld.Node, w io.Writer) (int64, error) {
	return s.writeNode(root, w)
}

func (s *Stream) writeNode(nd ipld.Node, w io.Writer) (int64, error) {
	links := nd.Links()
	if len(links) == 0 {
		data, err := unixfs.ReadUnixFSNodeData(nd)
		if err != nil {
			return 0, fmt.Errorf("node: %s: %w", nd.Cid(), err)
		}
		n, err := w.Write(data)
		return int64(n), err
	}
	d := s.dag.(*streamDAG)
	var total int64
	for _, l := range links {
		child, fromCAR, err := d.getNode(s.ctx, l.Cid)
		if err != nil {
			return total, err
		}
		n, err := s.writeNode(child, w)
		total += n
		if fromCAR {
			s.car.put(child.RawData())
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (d *streamDAG) GetMany(ctx context.Context, cs []cid.Cid) <-chan *ipld.NodeOption {
	out := make(chan *ipld.NodeOption, len(cs))
	go func() {
		defer close(out)
		for _, c := range cs {
			nd, err := d.Get(ctx, c)
			out <- &ipld.NodeOption{Node: nd, Err: err} // never blocks: out holds every answer
			if err != nil {
				return
			}
		}
	}()
	return out
}

// decodeNode decodes b as boxo's DAG service does: the UnixFS readers want
// merkledag's own node types.
func decodeNode(ctx context.Context, b blocks.Block) (ipld.Node, error) {
	switch b.Cid().Prefix().Codec {
	case cid.DagProtobuf:
		return merkledag.DecodeProtobufBlock(b)
	case cid.Raw:
		return merkledag.DecodeRawBlock(b)
	}
	return linkDecoder.DecodeNode(ctx, b)
}

// take hands over c if it was asked for ahead, and asks for more.
func (d *streamDAG) take(c cid.Cid) *aheadBlock {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.ahead[c]
	delete(d.ahead, c)
	d.fillLocked()
	return a
}

// read plans the links of a node the reader read.
func (d *streamDAG) read(nd ipld.Node) {
	links := nd.Links()
	if len(links) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range links {
		if len(d.planned) >= streamPlanned {
			break // read as the reader asks, past the bound
		}
		d.planned = append(d.planned, l.Cid)
	}
	d.fillLocked()
}

// readCAR plans the links of a node read from the CAR, and marks it read.
func (d *streamDAG) readCAR(c cid.Cid, nd ipld.Node) {
	d.read(nd)
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.viaCAR) < streamPlanned {
		d.viaCAR[c]++
	}
	// In the usual order (the CAR's) the front of planned is what was
	// just read: keep planned short.
	for len(d.planned) > 0 && d.skipLocked(d.planned[0]) {
		d.planned = d.planned[1:]
	}
}

// skipLocked says whether the planned link c was read from the CAR already.
func (d *streamDAG) skipLocked(c cid.Cid) bool {
	n, ok := d.viaCAR[c]
	if !ok {
		return false
	}
	if n == 1 {
		delete(d.viaCAR, c)
	} else {
		d.viaCAR[c] = n - 1
	}
	return true
}

// fillLocked asks for planned blocks until streamAhead are held or asked for;
// nothing while the CAR brings them.
func (d *streamDAG) fillLocked() {
	if d.s.car != nil && d.s.car.active() {
		return
	}
	var batch []cid.Cid
	var pending []*aheadBlock
	for len(d.ahead) < streamAhead && len(d.planned) > 0 {
		c := d.planned[0]
		d.planned = d.planned[1:]
		if d.skipLocked(c) {
			continue
		}
		if _, dup := d.ahead[c]; dup {
			continue
		}
		a := &aheadBlock{done: make(chan struct{})}
		d.ahead[c] = a
		batch = append(batch, c)
		pending = append(pending, a)
	}
	if len(d.planned) == 0 {
		d.planned = nil // let go of the array
	}
	if len(batch) == 0 {
		return
	}
	go func() {
		byCid := make(map[cid.Cid]*aheadBlock, len(batch))
		for i, c := range batch {
			byCid[c] = pending[i]
		}
		for b := range d.get(d.s.ctx, batch) {
			if a, ok := byCid[b.Cid()]; ok {
				a.b = b
				close(a.done)
				delete(byCid, b.Cid())
			}
		}
		for _, a := range byCid {
			close(a.done) // not come: the reader asks again, and learns why
		}
	}()
}

// why is err, or the reason the Stream gave up when that ended the read.
func (s *Stream) why(err error) error {
	if err == nil || s.ctx.Err() == nil {
		return err
	}
	if cause := context.Cause(s.ctx); cause != nil && cause != context.Canceled {
		return cause
	}
	return err
}
