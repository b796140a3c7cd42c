package node

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/verifcid"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car/v2"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2phttp "github.com/libp2p/go-libp2p/p2p/http"
)

// Bounds of a CAR fetch (variables for tests).
var (
	// carHeaderWait bounds a peer's answer up to its headers: the well-known
	// mapping, then the CAR's status line.
	carHeaderWait = 5 * time.Second
	// carStall ends a CAR that brought no block for this long; bitswap
	// takes over.
	carStall = 10 * time.Second
	// carPending bounds the blocks a CAR may bring before the reader asks
	// for them (an honest peer sends them in the order they are read).
	carPending = 32 << 20
	// carPeers is how many peers speaking the gateway are asked at once.
	carPeers = 3
)

// carBuffered is how many verified blocks wait between the CAR's reader and
// the Stream's: enough to keep the pipe busy while OUT is written.
const carBuffered = 16

// maxBlockSection bounds one CAR section (CID and block): bitswap's largest
// block (2 MiB) and a CID.
const maxBlockSection = 2<<20 + 128

// wellKnownPeers is how many peers' well-known mappings are remembered.
const wellKnownPeers = 256

// wellKnownLimit bounds the well-known mapping read from a peer.
const wellKnownLimit = 8 << 10

// carSource is the DAG under a root as one CAR from a peer's trustless
// gateway (trustless.go), read ahead of a Stream's reader. Every block is
// checked against its CID before it is handed over, and handed over only to
// a read of that very CID; whatever the peer does wrong (a wrong block, an
// unasked one, a stall, a cut) only ends the CAR, and the Stream reads the
// rest over bitswap.
type carSource struct {
	blocks chan blocks.Block // verified, in the peer's order; closed at the end
	stop   context.CancelFunc
	done   chan struct{}
	err    error // why the CAR ended early (after done); nil when whole

	mu      sync.Mutex  // one reader at a time takes from blocks
	over    atomic.Bool // no more blocks come (written under mu)
	pending map[cid.Cid]blocks.Block
	bytes   int

	// free holds the buffers of blocks their reader gave back (put): the
	// next blocks are read into them instead of new ones.
	free chan []byte
}

// carFree is how many given-back buffers a CAR keeps for its next blocks.
const carFree = 8

// trustlessPeers are the connected peers whose identify listed HTTP over
// libp2p on a connection that is not limited (a relay could not carry a
// CAR), at most carPeers.
func (n *Node) trustlessPeers() []peer.ID {
	var out []peer.ID
	for _, p := range n.host.Network().Peers() {
		if len(out) == carPeers {
			break
		}
		if ok, _ := n.host.Peerstore().SupportsProtocols(p, HTTPProtocol); len(ok) == 0 {
			continue
		}
		for _, c := range n.host.Network().ConnsToPeer(p) {
			if !c.Stat().Limited {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// startCAR asks the given peers, at once, for the CAR of root's DAG; nil
// when there is no one to ask. arrived is called for each block received.
func (n *Node) startCAR(ctx context.Context, root cid.Cid, peers []peer.ID, arrived func()) *carSource {
	if len(peers) == 0 {
		return nil
	}
	ctx, stop := context.WithCancel(ctx)
	s := &carSource{blocks: make(chan blocks.Block, carBuffered), stop: stop, done: make(chan struct{}),
		pending: map[cid.Cid]blocks.Block{}, free: make(chan []byte, carFree)}
	go func() {
		defer close(s.done)
		defer close(s.blocks)
		p, body, err := n.firstCAR(ctx, root, peers)
		if err == nil {
			err = readCAR(ctx, body, root, s.blocks, s.free, arrived)
			body.Close()
			if err != nil {
				err = fmt.Errorf("%s: %w", p, err)
			}
		}
		if s.err = err; err != nil && ctx.Err() == nil {
			n.log.Debug("trustless CAR ended; bitswap takes over", "root", root, "err", err)
		}
	}()
	return s
}

// firstCAR asks every peer at once and keeps the first CAR answered: most
// connected peers may not hold root, and asking them in turn would delay
// the first block by their round trips.
func (n *Node) firstCAR(ctx context.Context, root cid.Cid, peers []peer.ID) (peer.ID, io.ReadCloser, error) {
	type answer struct {
		p    peer.ID
		body io.ReadCloser
		err  error
	}
	answers := make(chan answer, len(peers))
	for _, p := range peers {
		go func() {
			body, err := n.requestCAR(ctx, p, root)
			answers <- answer{p, body, err}
		}()
	}
	var errs []error
	for i := range peers {
		a := <-answers
		if a.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.p, a.err))
			continue
		}
		// Close the others' CARs as they come (within carHeaderWait).
		go func(left int) {
			for range left {
				if b := <-answers; b.body != nil {
					b.body.Close()
				}
			}
		}(len(peers) - i - 1)
		return a.p, a.body, nil
	}
	return "", nil, errors.Join(errs...)
}

// put gives back the bytes of a block take handed over, once nothing reads
// them any more: the CAR's next blocks may be read into them.
func (s *carSource) put(data []byte) {
	select {
	case s.free <- data[:0]:
	default: // enough kept
	}
}

// take hands over the block c when the CAR brought it or brings it next;
// false when it will not (the reader then asks bitswap). The block is the
// reader's; fromCAR says it came from the CAR (and its bytes may be given
// back with put).
func (s *carSource) take(ctx context.Context, c cid.Cid) (b blocks.Block, fromCAR, ok bool) {
	if b, ok := knownBlock(c); ok {
		return b, false, true // a CAR does not carry what the CID holds
	}
	b, ok = s.takeCAR(ctx, c)
	return b, ok, ok
}

func (s *carSource) takeCAR(ctx context.Context, c cid.Cid) (blocks.Block, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.pending[c]; ok {
		delete(s.pending, c)
		s.bytes -= len(b.RawData())
		return b, true
	}
	for !s.over.Load() {
		select {
		case b, ok := <-s.blocks:
			if !ok {
				s.over.Store(true)
				break
			}
			if b.Cid().Equals(c) {
				return b, true
			}
			// Not what the reader reads next: keep it for later, within
			// carPending, then give up on the CAR.
			if s.bytes+len(b.RawData()) > carPending {
				s.close()
				return nil, false
			}
			s.pending[b.Cid()] = b
			s.bytes += len(b.RawData())
		case <-ctx.Done():
			return nil, false
		}
	}
	return nil, false
}

// active says whether the CAR may still bring blocks.
func (s *carSource) active() bool { return !s.over.Load() }

// close ends the CAR and waits for its reader; s.mu is held.
func (s *carSource) close() {
	s.stop()
	for range s.blocks {
	}
	<-s.done
	s.over.Store(true)
}

// Close ends the CAR and waits for its reader. It is idempotent.
func (s *carSource) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.close()
	s.pending = nil
}

// requestCAR opens a libp2p stream to p and asks its trustless gateway for
// root's whole DAG as a CAR, in depth-first order with duplicates (the order
// a reader of the DAG reads it in); it returns the CAR once the peer
// answered 200. The stream is reset when ctx ends.
func (n *Node) requestCAR(ctx context.Context, p peer.ID, root cid.Cid) (io.ReadCloser, error) {
	prefix, err := n.gatewayPath(ctx, p)
	if err != nil {
		return nil, err
	}
	u := &url.URL{Path: prefix + "ipfs/" + root.String(), RawQuery: "format=car&dag-scope=all"}
	h := http.Header{"Accept": {carType + "; version=1; order=dfs; dups=y"}}
	resp, st, err := n.roundTrip(ctx, p, u, h)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		st.Reset()
		return nil, fmt.Errorf("trustless gateway answered %s", resp.Status)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != carType {
		st.Reset()
		return nil, fmt.Errorf("trustless gateway answered %q, not a CAR", resp.Header.Get("Content-Type"))
	}
	return &stallBody{ReadCloser: resp.Body, st: st}, nil
}

// stallBody reads a CAR, each read within carStall, and resets its stream
// when closed before the end.
type stallBody struct {
	io.ReadCloser
	st network.Stream
}

func (b *stallBody) Read(p []byte) (int, error) {
	_ = b.st.SetReadDeadline(time.Now().Add(carStall))
	return b.ReadCloser.Read(p)
}

// Close releases the stream; a CAR read to its end or cut short alike.
func (b *stallBody) Close() error {
	_ = b.st.Reset()
	_ = b.ReadCloser.Close() // the body's read error, if any, was the reader's
	return nil
}

// gatewayPath is where p mounts the trustless gateway, from its
// /.well-known/libp2p/protocols (remembered per peer).
func (n *Node) gatewayPath(ctx context.Context, p peer.ID) (string, error) {
	meta, ok := n.wellKnown.Get(p)
	if !ok {
		resp, st, err := n.roundTrip(ctx, p, &url.URL{Path: libp2phttp.WellKnownProtocols}, http.Header{"Accept": {"application/json"}})
		if err != nil {
			return "", err
		}
		defer st.Reset()
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s answered %s", libp2phttp.WellKnownProtocols, resp.Status)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, wellKnownLimit+1))
		if err != nil {
			return "", fmt.Errorf("read %s: %w", libp2phttp.WellKnownProtocols, err)
		}
		if meta, err = parseWellKnown(body); err != nil {
			return "", err
		}
		n.wellKnown.Add(p, meta)
	}
	return gatewayMount(meta)
}

// parseWellKnown reads a peer's well-known protocol mapping
// ({"/ipfs/gateway": {"path": "/"}, …}).
func parseWellKnown(body []byte) (libp2phttp.PeerMeta, error) {
	if len(body) > wellKnownLimit {
		return nil, fmt.Errorf("%s larger than %d bytes", libp2phttp.WellKnownProtocols, wellKnownLimit)
	}
	var meta libp2phttp.PeerMeta
	if err := json.Unmarshal(body, &meta); err != nil {
		return nil, fmt.Errorf("%s: %w", libp2phttp.WellKnownProtocols, err)
	}
	return meta, nil
}

// gatewayMount is the path prefix, ending in "/", of the trustless gateway
// in a peer's mapping.
func gatewayMount(meta libp2phttp.PeerMeta) (string, error) {
	m, ok := meta[GatewayProtocol]
	if !ok {
		return "", fmt.Errorf("no %s in the peer's %s", GatewayProtocol, libp2phttp.WellKnownProtocols)
	}
	u, err := url.Parse(m.Path)
	if err != nil || !strings.HasPrefix(m.Path, "/") || u.Path != m.Path || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s mounted at %q: want an absolute path", GatewayProtocol, m.Path)
	}
	if !strings.HasSuffix(m.Path, "/") {
		return m.Path + "/", nil
	}
	return m.Path, nil
}

// roundTrip sends a GET for u to p on a new /http/1.1 stream and reads the
// answer's headers within carHeaderWait. The caller resets the stream (or
// closes the answer's body through stallBody).
func (n *Node) roundTrip(ctx context.Context, p peer.ID, u *url.URL, h http.Header) (*http.Response, network.Stream, error) {
	hctx, cancel := context.WithTimeout(ctx, carHeaderWait)
	defer cancel()
	st, err := n.host.NewStream(hctx, p, HTTPProtocol)
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	req := (&http.Request{Method: http.MethodGet, URL: u, Host: p.String(), Header: h, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}).WithContext(ctx)
	req.Close = true // one request per stream, as libp2phttp does
	_ = st.SetDeadline(time.Now().Add(carHeaderWait))
	if err := req.Write(st); err != nil {
		st.Reset()
		stop()
		return nil, nil, err
	}
	if err := st.CloseWrite(); err != nil {
		st.Reset()
		stop()
		return nil, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(st, 64<<10), req)
	if err != nil {
		st.Reset()
		stop()
		return nil, nil, err
	}
	_ = st.SetDeadline(time.Time{})
	return resp, &resetOnce{Stream: st, stop: stop}, nil
}

// resetOnce also stops the context's reset of the stream.
type resetOnce struct {
	network.Stream
	stop func() bool
}

func (r *resetOnce) Reset() error {
	r.stop()
	return r.Stream.Reset()
}

// readCAR reads a CARv1 of root's DAG from r into out, each block checked
// against its CID, until the CAR ends, ctx does or a block is wrong. A
// block's bytes are read into a buffer from free when one is large enough.
func readCAR(ctx context.Context, r io.Reader, root cid.Cid, out chan<- blocks.Block, free <-chan []byte, arrived func()) error {
	br, err := car.NewBlockReader(bufio.NewReaderSize(r, 64<<10),
		car.MaxAllowedHeaderSize(4<<10), car.MaxAllowedSectionSize(maxBlockSection))
	if err != nil {
		return fmt.Errorf("read CAR header: %w", err)
	}
	if br.Version != 1 {
		return fmt.Errorf("CAR version %d, want 1", br.Version)
	}
	if len(br.Roots) == 0 || !br.Roots[0].Equals(root) {
		return fmt.Errorf("CAR roots %v, want %s", br.Roots, root)
	}
	for {
		c, section, size, err := br.NextReader()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read CAR: %w", err)
		}
		if err := verifcid.ValidateCid(verifcid.DefaultAllowlist, c); err != nil {
			return fmt.Errorf("CAR block %s: %w", c, err)
		}
		if size > maxBlockSection {
			return fmt.Errorf("CAR block %s: %d bytes, more than a block may hold", c, size)
		}
		data := reuse(free, int(size))
		if _, err := io.ReadFull(section, data); err != nil {
			return fmt.Errorf("read CAR: block %s: %w", c, err)
		}
		// The CAR is not trusted: the bytes must be the CID's.
		if got, err := c.Prefix().Sum(data); err != nil || !got.Equals(c) {
			return fmt.Errorf("CAR block %s: its bytes are another block's", c)
		}
		b, err := blocks.NewBlockWithCid(data, c)
		if err != nil {
			return fmt.Errorf("CAR block %s: %w", c, err)
		}
		select {
		case out <- b:
			if arrived != nil {
				arrived()
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// reuse is a buffer of n bytes: one from free if it is large enough.
func reuse(free <-chan []byte, n int) []byte {
	select {
	case b := <-free:
		if cap(b) >= n {
			return b[:n]
		}
	default:
	}
	carBuffers.Add(1)
	return make([]byte, n)
}

// carBuffers counts the block buffers CAR readers allocated, so tests can
// tell reuse from the allocator handing back a freed address.
var carBuffers atomic.Int64
