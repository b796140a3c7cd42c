package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/boxo/bitswap"
	bsmsg "github.com/ipfs/boxo/bitswap/message"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	legacy "github.com/ipfs/go-ipld-legacy"
	_ "github.com/ipld/go-ipld-prime/codec/dagcbor" // registers dag-cbor for link decoding
	_ "github.com/ipld/go-ipld-prime/codec/dagjson" // registers dag-json for link decoding
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"
)

// ErrNoProviders is what a NoProvidersError matches with errors.Is.
var ErrNoProviders = errors.New("no providers found")

// NoProvidersError says that no block of a fetch arrived for After: nobody
// reachable has Cid. Cid is the root when nothing at all arrived.
type NoProvidersError struct {
	Cid   cid.Cid
	After time.Duration
}

func (e *NoProvidersError) Error() string {
	return fmt.Sprintf("no providers found for %s after %s", e.Cid, e.After)
}

func (e *NoProvidersError) Is(target error) bool { return target == ErrNoProviders }

// ErrRelayOnly is what a RelayOnlyError matches with errors.Is.
var ErrRelayOnly = errors.New("reachable only through a relay")

// RelayOnlyError says a fetch cannot go on: the peers that have Cid are
// reachable only through relays, whose limits the rest of the fetch
// exceeds, and no direct connection came in time.
type RelayOnlyError struct {
	Cid   cid.Cid
	Peers []peer.ID
	// HolePunch is the last hole punch with Peers[0], if there was one.
	HolePunch *HolePunch
	// NoPublicAddr says the fetching node takes no part in hole punching:
	// no peer has observed a public address of it that holds (behind a
	// symmetric NAT none ever does).
	NoPublicAddr bool
}

func (e *RelayOnlyError) Error() string {
	why := "no hole punch was tried"
	if e.NoPublicAddr {
		why += ": this node knows no public address of its own to punch from (a symmetric NAT gives none)"
	}
	if hp := e.HolePunch; hp != nil && !hp.OK {
		why = "hole punching failed"
		if reason := holePunchReason(hp.Err); reason != "" {
			why += ": " + reason
		}
	}
	who := e.Peers[0].String()
	if len(e.Peers) > 1 {
		who = fmt.Sprintf("%s (and %d other peer(s))", who, len(e.Peers)-1)
	}
	return fmt.Sprintf("%s is held by %s, reachable only through a relay, and no direct connection came (%s): "+
		"a relay carries about 128 KiB per connection, enough for a small page, not for this; "+
		"try again later, or from a peer that is not behind NAT (one that follows the site)", e.Cid, who, why)
}

func (e *RelayOnlyError) Is(target error) bool { return target == ErrRelayOnly }

// holePunchReason is the gist of a hole punching error: libp2p's repeats
// "failed to dial" and lists every address tried, one per line.
func holePunchReason(err string) string {
	err, _, _ = strings.Cut(err, "\n")
	for {
		rest, ok := strings.CutPrefix(err, "failed to dial")
		if !ok {
			break
		}
		rest = strings.TrimPrefix(rest, ":")
		// "failed to dial <peer ID>: …"
		if id, after, found := strings.Cut(strings.TrimSpace(rest), ": "); found && !strings.Contains(id, " ") {
			rest = after
		}
		err = strings.TrimSpace(rest)
	}
	return strings.TrimSuffix(strings.TrimSpace(err), ":")
}

// A Fetch whose blocks stop coming while the peers that sent it blocks or
// HAVEs are reachable only through relays ends with a RelayOnlyError once
// the far end has stopped waiting for a direct connection too
// (Config.HolePunchWait, plus relayGrace for its last message to arrive), rather
// than after FetchTimeout with no reason.
const (
	relayGrace = 2 * time.Second
	// relayCheck is how often a Fetch looks, and relayStall how long no
	// block must have come first.
	relayCheck = time.Second
	relayStall = 2 * time.Second
)

// FetchProgress is reported after every block of a Fetch.
type FetchProgress struct {
	// Blocks and Bytes count the DAG's blocks now in the blockstore, whether
	// they were fetched or already there.
	Blocks int
	Bytes  int64
	// Fetched counts the blocks that came from peers.
	Fetched int
	// Peers counts the peers that sent at least one block.
	Peers int
	// Pending counts blocks known to be needed and not yet received.
	Pending int
}

// maxFetchInFlight bounds the blocks one Fetch wants at once. Bitswap spreads
// them over the session's peers; 256 one-MiB blocks keep a fast link busy
// without letting one fetch queue the whole of a huge DAG in memory.
const maxFetchInFlight = 256

// errStalled is the cancellation cause when nothing arrived for FetchTimeout.
var errStalled = errors.New("fetch stalled")

// Fetch makes the whole DAG under root local: it walks the DAG depth first
// (dagWalk: memory bounded whatever the DAG's width), asking bitswap for up
// to maxFetchInFlight blocks at a time within one session, so the blocks of
// a wide node are fetched in parallel and new links are requested as soon
// as their parent arrives. Blocks already in the
// blockstore are read, not fetched. If no block arrives for FetchTimeout (or
// ctx's deadline passes) it returns a *NoProvidersError naming a missing
// block. progress, if not nil, is called from Fetch's goroutine after every
// block.
func (n *Node) Fetch(ctx context.Context, root cid.Cid, progress func(FetchProgress)) (err error) {
	start := time.Now()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timeout := n.cfg.FetchTimeout
	stall := time.AfterFunc(timeout, func() { cancel(errStalled) })
	defer stall.Stop()

	w := &fetchWatch{pending: map[cid.Cid]int{}, peers: map[peer.ID]struct{}{}}
	n.watches.add(w)
	defer n.watches.remove(w)

	bserv := n.bserv
	var st *fetchStage
	if n.cfg.Stage != nil {
		stage, serr := n.cfg.Stage(ctx)
		if serr != nil {
			return fmt.Errorf("node: fetch %s: %w", root, serr)
		}
		st = &fetchStage{Stage: stage, server: n.bswap}
		// Runs after batches.Wait, when nothing writes to the Stage any more.
		// A failed or canceled fetch flushes too: what arrived is verified,
		// and a retry need not fetch it again.
		defer func() {
			ferr := st.flush(context.WithoutCancel(ctx))
			if err == nil && ferr != nil {
				err = fmt.Errorf("node: fetch %s: %w", root, ferr)
			}
			stage.Close()
		}()
		bserv = blockservice.New(stage, stagedExchange{n.eager})
	}
	ses := blockservice.NewSession(ctx, bserv)
	results := make(chan blocks.Block)
	// short receives a block the blockservice gave up on without ctx ending
	// (the Stage refused a write, say).
	short := make(chan cid.Cid, 1)
	var batches sync.WaitGroup
	defer batches.Wait()
	defer cancel(nil) // runs before batches.Wait: stops the batch goroutines

	check := time.NewTicker(relayCheck)
	defer check.Stop()
	lastBlock := start
	walk := newDAGWalk(root)
	var (
		inFlight int
		seq      int
		p        FetchProgress
	)
	for !walk.done() || inFlight > 0 {
		if walk.needsLinks() {
			// The links of the block on top were let go to bound memory:
			// read it back (it is staged or stored) and decode them again.
			b, err := ses.GetBlock(ctx, walk.top())
			if err == nil {
				err = walk.expand(ctx, b)
			}
			if err != nil {
				return fmt.Errorf("node: fetch %s: %w", root, err)
			}
			continue
		}
		if batch := walk.next(maxFetchInFlight - inFlight); len(batch) > 0 {
			for _, c := range batch {
				w.want(c, seq)
				seq++
			}
			inFlight += len(batch)
			batches.Go(func() {
				got := make(map[cid.Cid]bool, len(batch))
				for b := range ses.GetBlocks(ctx, batch) {
					got[b.Cid()] = true
					select {
					case results <- b:
					case <-ctx.Done():
						return
					}
				}
				for _, c := range batch {
					if !got[c] && ctx.Err() == nil {
						select {
						case short <- c:
						default:
						}
						return
					}
				}
			})
		}
		if walk.needsLinks() || inFlight == 0 {
			continue // the walk has more to give before anything to wait for
		}
		select {
		case b := <-results:
			stall.Reset(timeout)
			lastBlock = time.Now()
			inFlight--
			fetched := w.got(b.Cid())
			if err := walk.received(ctx, b); err != nil {
				return fmt.Errorf("node: fetch %s: %w", root, err)
			}
			p.Blocks++
			p.Bytes += int64(len(b.RawData()))
			if fetched {
				p.Fetched++
				if err := st.received(ctx, len(b.RawData())); err != nil {
					return fmt.Errorf("node: fetch %s: %w", root, err)
				}
			}
			p.Peers, p.Pending = w.counts()
			p.Pending += walk.held
			if progress != nil {
				progress(p)
			}
		case <-check.C:
			if time.Since(lastBlock) < relayStall {
				continue
			}
			if err := n.relayOnly(w); err != nil {
				return fmt.Errorf("node: fetch %s: %w", root, err)
			}
		case c := <-short:
			if err := st.err(); err != nil {
				return fmt.Errorf("node: fetch %s: %w", root, err)
			}
			return &NoProvidersError{Cid: c, After: time.Since(start).Round(time.Millisecond)}
		case <-ctx.Done():
			missing := w.oldest()
			if !missing.Defined() {
				missing = root
			}
			switch cause := context.Cause(ctx); {
			case errors.Is(cause, errStalled):
				return &NoProvidersError{Cid: missing, After: timeout}
			case errors.Is(cause, context.DeadlineExceeded):
				return &NoProvidersError{Cid: missing, After: time.Since(start).Round(time.Millisecond)}
			default:
				return fmt.Errorf("node: fetch %s: %w", root, cause)
			}
		}
	}
	return nil
}

// Bounds on what one Fetch keeps in memory about the DAG it walks, whatever
// its width: a node may link to tens of thousands of blocks, and a DAG to
// millions. Variables so that tests can lower them.
var (
	// maxHeldLinks bounds the links the walk holds decoded and not yet asked
	// for (one block's links may overshoot it); past it, a block's links
	// are read back from the block when their turn comes.
	maxHeldLinks = 1 << 16
	// maxSeen bounds the CIDs the walk remembers having asked for, so a
	// block linked from many places is asked for once. Past it the oldest
	// are forgotten: a block linked again after that is asked for again,
	// which costs reading it from the repo, not the network.
	maxSeen = 1 << 16
)

// dagWalk is the order in which Fetch asks for a DAG's blocks: depth
// first, so that what it holds grows with the DAG's depth and not its width
// (a breadth-first queue holds every link of a level at once). Each block
// received with links becomes a cursor on a stack, and the blocks asked for
// next are the links of the newest cursor. Past maxHeldLinks decoded links,
// the oldest cursors let go of theirs and keep only their block's CID and
// how far they got; a cursor's links are decoded again (expand) when it
// reaches the top. Memory is then about maxHeldLinks + maxSeen CIDs, plus a
// few words per cursor: one per block received whose links are not all
// asked for yet, at most the blocks in flight per level of depth.
type dagWalk struct {
	stack []walkCursor
	// held counts the decoded links on the stack not yet asked for.
	held int
	// trimmed is how far from the bottom of the stack every cursor has
	// let go of its links.
	trimmed int
	seen    recentSet
}

type walkCursor struct {
	block cid.Cid
	links []cid.Cid // nil while let go of: see expand
	next  int
	// decoded says links are at hand (a block may have none).
	decoded bool
}

func newDAGWalk(root cid.Cid) *dagWalk {
	w := &dagWalk{seen: newRecentSet(maxSeen)}
	w.stack = append(w.stack, walkCursor{links: []cid.Cid{root}, decoded: true})
	w.held = 1
	return w
}

// done says every link was asked for.
func (w *dagWalk) done() bool { return len(w.stack) == 0 }

// needsLinks says the cursor on top must be expanded before next can give more.
func (w *dagWalk) needsLinks() bool {
	return len(w.stack) > 0 && !w.stack[len(w.stack)-1].decoded
}

// top is the block of the cursor on top.
func (w *dagWalk) top() cid.Cid { return w.stack[len(w.stack)-1].block }

// received records a block that arrived: its links are asked for next.
func (w *dagWalk) received(ctx context.Context, b blocks.Block) error {
	if b.Cid().Prefix().Codec == cid.Raw {
		return nil // a leaf: the common case, and no decoding
	}
	links, err := blockLinks(ctx, b)
	if err != nil {
		return err
	}
	if len(links) == 0 {
		return nil
	}
	w.stack = append(w.stack, walkCursor{block: b.Cid(), links: links, decoded: true})
	w.held += len(links)
	w.trim()
	return nil
}

// trim lets the oldest cursors go of their links until the walk holds at
// most maxHeldLinks, or only the top cursor's.
func (w *dagWalk) trim() {
	w.trimmed = min(w.trimmed, len(w.stack))
	for ; w.held > maxHeldLinks && w.trimmed < len(w.stack)-1; w.trimmed++ {
		c := &w.stack[w.trimmed]
		if c.decoded {
			w.held -= len(c.links) - c.next
			c.links, c.decoded = nil, false
		}
	}
}

// expand decodes again the links of the cursor on top from its block b.
func (w *dagWalk) expand(ctx context.Context, b blocks.Block) error {
	links, err := blockLinks(ctx, b)
	if err != nil {
		return err
	}
	top := &w.stack[len(w.stack)-1]
	if top.next > len(links) {
		return fmt.Errorf("block %s has fewer links than when it arrived", b.Cid())
	}
	top.links, top.decoded = links, true
	w.held += len(links) - top.next
	// Let go of them again first, should the walk need to.
	w.trimmed = min(w.trimmed, len(w.stack)-1)
	w.trim()
	return nil
}

// next hands out up to k links not asked for yet, from the cursor on top.
// It returns fewer when that cursor must be expanded first.
func (w *dagWalk) next(k int) []cid.Cid {
	var out []cid.Cid
	for len(w.stack) > 0 {
		top := &w.stack[len(w.stack)-1]
		if !top.decoded {
			break
		}
		if top.next == len(top.links) {
			w.stack = w.stack[:len(w.stack)-1]
			continue
		}
		if len(out) == k {
			break
		}
		l := top.links[top.next]
		top.next++
		w.held--
		if l.Prefix().MhType == mh.IDENTITY {
			continue // the data is in the CID itself
		}
		if w.seen.visit(l) {
			out = append(out, l)
		}
	}
	return out
}

// recentSet remembers up to max CIDs, forgetting the oldest first.
type recentSet struct {
	set  map[string]struct{}
	ring []string
	max  int
	pos  int
}

func newRecentSet(max int) recentSet {
	return recentSet{set: make(map[string]struct{}), max: max}
}

// visit adds c and says whether it was new.
func (s *recentSet) visit(c cid.Cid) bool {
	k := c.KeyString()
	if _, ok := s.set[k]; ok {
		return false
	}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, k)
	} else {
		delete(s.set, s.ring[s.pos])
		s.ring[s.pos] = k
		s.pos = (s.pos + 1) % s.max
	}
	s.set[k] = struct{}{}
	return true
}

// stageFlushBytes is how much a Fetch lets pile up in its Stage before it
// flushes it: the memory a fetch holds, and what a crash can cost it. Each
// flush syncs the store's directories once, so much smaller values slow a
// fetch down again (BenchmarkTransfer).
const stageFlushBytes = 32 << 20

// fetchStage is one Fetch's Stage. A nil *fetchStage is a Fetch writing
// straight into the blockstore.
type fetchStage struct {
	Stage
	server  *bitswap.Bitswap
	pending int // bytes received since the last flush
}

// received counts a block that came from a peer and flushes the Stage past
// stageFlushBytes.
func (f *fetchStage) received(ctx context.Context, size int) error {
	if f == nil {
		return nil
	}
	f.pending += size
	if f.pending < stageFlushBytes {
		return nil
	}
	return f.flush(ctx)
}

// flush moves what is staged into the blockstore, then tells bitswap's
// server: a peer that asked for one of these blocks while it was staged gets
// it now (the server had no block to send it before).
func (f *fetchStage) flush(ctx context.Context) error {
	if f == nil {
		return nil
	}
	f.pending = 0
	moved, err := f.Flush(ctx)
	if err != nil {
		return err
	}
	if len(moved) > 0 {
		return f.server.Server.NotifyNewBlocks(ctx, moved...)
	}
	return nil
}

func (f *fetchStage) err() error {
	if f == nil {
		return nil
	}
	return f.Err()
}

// stagedExchange is the exchange of a staged Fetch's blockservice: when a
// block arrives, only bitswap's client hears of it at once (its sessions
// want it); the server hears after the flush, once it can read the block.
type stagedExchange struct {
	*eagerExchange
}

func (e stagedExchange) NotifyNewBlocks(ctx context.Context, bs ...blocks.Block) error {
	return e.Bitswap.Client.NotifyNewBlocks(ctx, bs...)
}

var linkDecoder = legacy.NewDecoder()

// blockLinks lists the CIDs a block links to.
func blockLinks(ctx context.Context, b blocks.Block) ([]cid.Cid, error) {
	var nd ipld.Node
	var err error
	switch b.Cid().Prefix().Codec {
	case cid.Raw:
		return nil, nil
	case cid.DagProtobuf:
		nd, err = merkledag.DecodeProtobufBlock(b)
	default:
		nd, err = linkDecoder.DecodeNode(ctx, b)
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", b.Cid(), err)
	}
	links := nd.Links()
	out := make([]cid.Cid, len(links))
	for i, l := range links {
		out[i] = l.Cid
	}
	return out, nil
}

// relayOnly returns a RelayOnlyError when every peer that sent w blocks or
// HAVEs is reachable only through a relay whose connection is older than
// the wait for a direct one.
func (n *Node) relayOnly(w *fetchWatch) error {
	peers := w.sources()
	if len(peers) == 0 {
		return nil
	}
	for _, p := range peers {
		direct, relayed := route(n.host, p)
		if direct != nil || relayed == nil || time.Since(relayed.Stat().Opened) < n.cfg.HolePunchWait+relayGrace {
			return nil
		}
	}
	missing := w.oldest()
	if !missing.Defined() {
		return nil
	}
	e := &RelayOnlyError{Cid: missing, Peers: peers, NoPublicAddr: !n.Reachability().HolePunching}
	if hp, ok := n.holePunches.last(peers[0]); ok {
		e.HolePunch = &hp
	}
	return e
}

// fetchWatch follows one Fetch: which blocks it still waits for (with the
// order it asked for them), which peers sent it blocks and which said they
// have one it waits for.
type fetchWatch struct {
	mu      sync.Mutex
	pending map[cid.Cid]int
	peers   map[peer.ID]struct{}
	haves   map[peer.ID]struct{}
	// fromNet records blocks a peer sent while they were pending.
	fromNet map[cid.Cid]struct{}
	// A relay guard's watch (guard set) counts a block received as got:
	// no Fetch loop does; last is when one last came, seq numbers wants.
	guard bool
	last  time.Time
	seq   int
}

func (w *fetchWatch) want(c cid.Cid, seq int) {
	w.mu.Lock()
	w.pending[c] = seq
	w.mu.Unlock()
}

// got marks c received and says whether a peer sent it.
func (w *fetchWatch) got(c cid.Cid) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.pending, c)
	_, net := w.fromNet[c]
	delete(w.fromNet, c)
	return net
}

func (w *fetchWatch) received(p peer.ID, c cid.Cid) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.pending[c]; !ok {
		return
	}
	w.peers[p] = struct{}{}
	if w.guard {
		delete(w.pending, c)
		w.last = time.Now()
		return
	}
	if w.fromNet == nil {
		w.fromNet = map[cid.Cid]struct{}{}
	}
	w.fromNet[c] = struct{}{}
}

// have records that p has c, when c is pending.
func (w *fetchWatch) have(p peer.ID, c cid.Cid) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.pending[c]; !ok {
		return
	}
	if w.haves == nil {
		w.haves = map[peer.ID]struct{}{}
	}
	w.haves[p] = struct{}{}
}

// sources are the peers that sent blocks or HAVEs, sorted.
func (w *fetchWatch) sources() []peer.ID {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]peer.ID, 0, len(w.peers)+len(w.haves))
	for p := range w.peers {
		out = append(out, p)
	}
	for p := range w.haves {
		if _, ok := w.peers[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func (w *fetchWatch) counts() (peers, pending int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.peers), len(w.pending)
}

// oldest is the pending block asked for first, undefined if none.
func (w *fetchWatch) oldest() cid.Cid {
	w.mu.Lock()
	defer w.mu.Unlock()
	var c cid.Cid
	best := -1
	for k, s := range w.pending {
		if best < 0 || s < best {
			c, best = k, s
		}
	}
	return c
}

// fetchWatches is the set of running fetches; bitswap's tracer tells each
// which peer sent which block.
type fetchWatches struct {
	mu sync.Mutex
	ws map[*fetchWatch]struct{}
}

func (f *fetchWatches) add(w *fetchWatch) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ws == nil {
		f.ws = map[*fetchWatch]struct{}{}
	}
	f.ws[w] = struct{}{}
}

func (f *fetchWatches) remove(w *fetchWatch) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ws, w)
}

// MessageReceived implements bitswap's tracer.Tracer.
func (f *fetchWatches) MessageReceived(p peer.ID, msg bsmsg.BitSwapMessage) {
	bs, haves := msg.Blocks(), msg.Haves()
	if len(bs) == 0 && len(haves) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for w := range f.ws {
		for _, b := range bs {
			w.received(p, b.Cid())
		}
		for _, c := range haves {
			w.have(p, c)
		}
	}
}

// MessageSent implements bitswap's tracer.Tracer.
func (f *fetchWatches) MessageSent(peer.ID, bsmsg.BitSwapMessage) {}

// Reads of a DAG outside Fetch (cat, a DAG reader) ask bitswap for a few
// blocks at a time; behind a relay, one that does not fit would be waited
// for as long as the reader lives. A relay guard ends such reads with a
// RelayOnlyError instead, as Fetch ends itself.

type relayGuardKey struct{}

// GuardRelay returns a context for reading blocks through the node's
// exchange: once the reads under it wait, and every peer that answered them
// is reachable only through a relay whose connection is past
// Config.HolePunchWait with no direct one made, it is canceled with a
// *RelayOnlyError as its cause (see RelayOnlyCause). The guard ends with
// ctx, or with stop, which cancels the returned context.
func (n *Node) GuardRelay(ctx context.Context) (_ context.Context, stop func()) {
	w := &fetchWatch{pending: map[cid.Cid]int{}, peers: map[peer.ID]struct{}{}, guard: true, last: time.Now()}
	n.watches.add(w)
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		defer n.watches.remove(w)
		t := time.NewTicker(relayCheck)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if !w.waiting() {
					continue
				}
				if err := n.relayOnly(w); err != nil {
					cancel(err)
					return
				}
			}
		}
	}()
	return context.WithValue(ctx, relayGuardKey{}, w), func() { cancel(nil) }
}

// RelayOnlyCause is the *RelayOnlyError a GuardRelay context ended with,
// nil if it did not.
func RelayOnlyCause(ctx context.Context) error {
	var e *RelayOnlyError
	if errors.As(context.Cause(ctx), &e) {
		return e
	}
	return nil
}

// guardWants tells the relay guard of ctx, if any, that cids are wanted.
func guardWants(ctx context.Context, cids ...cid.Cid) {
	w, ok := ctx.Value(relayGuardKey{}).(*fetchWatch)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		// The reads were idle until now: the stall counts from here.
		w.last = time.Now()
	}
	for _, c := range cids {
		if _, ok := w.pending[c]; !ok {
			w.pending[c] = w.seq
			w.seq++
		}
	}
}

// waiting says the guarded reads wait for blocks and none came for
// relayStall.
func (w *fetchWatch) waiting() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending) > 0 && time.Since(w.last) >= relayStall
}
