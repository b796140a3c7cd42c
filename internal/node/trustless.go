package node

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/protocol"
	libp2phttp "github.com/libp2p/go-libp2p/p2p/http"
	"github.com/libp2p/go-libp2p/p2p/net/gostream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/islandsite/island/internal/httpserver"
	"github.com/islandsite/island/internal/repo"
)

// The trustless gateway over libp2p (IPFS "libp2p Transport Gateway"
// spec): HTTP/1.1 on libp2p streams of protocol /http/1.1, the gateway
// mounted at "/" under the name /ipfs/gateway in /.well-known/libp2p/protocols,
// serving only trustless answers (application/vnd.ipld.car and
// application/vnd.ipld.raw) of the blocks the node holds: what bitswap would
// give the same peer, block by block, in one stream instead. A peer fetching a
// large DAG reads it as one CAR instead of a bitswap message per block.
const (
	// GatewayProtocol names the trustless gateway in the well-known mapping.
	GatewayProtocol protocol.ID = "/ipfs/gateway"
	// HTTPProtocol is the libp2p protocol HTTP/1.1 runs on.
	HTTPProtocol protocol.ID = libp2phttp.ProtocolIDForMultistreamSelect
)

// TrustlessLimits bound what peers can make the trustless gateway spend.
// Zero values take DefaultTrustlessLimits'.
type TrustlessLimits struct {
	// Requests is how many answers are written at once, all peers together;
	// more get 429 Too Many Requests (and fetch over bitswap instead).
	Requests int
	// PerPeer is how many of them one peer may hold.
	PerPeer int
	// Duration bounds one answer from its request to its last byte.
	Duration time.Duration
	// Stall ends an answer that wrote nothing for this long.
	Stall time.Duration
	// Bytes bounds one answer's body; the client fetches the rest over
	// bitswap.
	Bytes int64
}

// DefaultTrustlessLimits suit a personal node: a few friends fetching whole
// sites at once, none holding the node for more than a few minutes.
func DefaultTrustlessLimits() TrustlessLimits {
	return TrustlessLimits{
		Requests: 8,
		PerPeer:  2,
		Duration: 10 * time.Minute,
		Stall:    30 * time.Second,
		Bytes:    4 << 30,
	}
}

func (l TrustlessLimits) withDefaults() TrustlessLimits {
	d := DefaultTrustlessLimits()
	if l.Requests <= 0 {
		l.Requests = d.Requests
	}
	if l.PerPeer <= 0 {
		l.PerPeer = d.PerPeer
	}
	if l.Duration <= 0 {
		l.Duration = d.Duration
	}
	if l.Stall <= 0 {
		l.Stall = d.Stall
	}
	if l.Bytes <= 0 {
		l.Bytes = d.Bytes
	}
	return l
}

// serveTrustless starts the gateway on the node's host; it is served until
// the node closes.
func (n *Node) serveTrustless() error {
	h, err := newTrustlessHandler(n.cfg.Blockstore, n.cfg.ReadBlock, n.cfg.Trustless, &n.carsServed)
	if err != nil {
		return err
	}
	ln, err := gostream.Listen(n.host, HTTPProtocol, gostream.IgnoreEOF())
	if err != nil {
		return fmt.Errorf("node: trustless gateway: %w", err)
	}
	lim := n.cfg.Trustless.withDefaults()
	cfg := httpserver.DefaultConfig()
	cfg.Name = "trustless gateway"
	cfg.Listener = ln
	cfg.Handler = h
	cfg.MaxHeaderBytes = 8 << 10
	cfg.WriteTimeout = lim.Duration
	cfg.IdleTimeout = lim.Stall
	cfg.Logger = n.cfg.Logger
	srv, err := httpserver.Listen(n.ctx, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	if !n.goBG(func() error { return srv.Serve(n.ctx) }) {
		return srv.Close()
	}
	return nil
}

// newTrustlessHandler answers /.well-known/libp2p/protocols and the
// trustless /ipfs/ paths from bs alone (never from peers), within lim.
func newTrustlessHandler(bs blockstore.Blockstore, read repo.BlockReader, lim TrustlessLimits, served *atomic.Int64) (http.Handler, error) {
	lim = lim.withDefaults()
	if read == nil {
		read = repo.GetBlocks(bs)
	}
	backend, err := gateway.NewBlocksBackend(blockservice.New(bs, nil),
		// Only /ipfs/ reaches boxo here; were a name ever resolved, it
		// would resolve to nothing rather than look anything up.
		gateway.WithNameSystem(noNames{}))
	if err != nil {
		return nil, fmt.Errorf("node: trustless gateway: %w", err)
	}
	conf := gateway.Config{
		DeserializedResponses: false,
		NoDNSLink:             true,
		DisableHTMLErrors:     true,
		RetrievalTimeout:      lim.Stall,
		MaxRequestDuration:    lim.Duration,
		MaxConcurrentRequests: lim.Requests,
		MetricsRegistry:       prometheus.NewRegistry(),
	}
	var wk libp2phttp.WellKnownHandler
	wk.AddProtocolMeta(GatewayProtocol, libp2phttp.ProtocolMeta{Path: "/"})
	mux := http.NewServeMux()
	mux.Handle(libp2phttp.WellKnownProtocols, &wk)
	boxo := gateway.NewHandler(conf, backend)
	mux.Handle("/ipfs/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if root, dups, ok := parseCARRequest(r); ok {
			serveCAR(w, r, bs, read, root, dups, served)
			return
		}
		boxo.ServeHTTP(w, r)
	}))
	return &trustlessBounds{next: mux, lim: lim, perPeer: map[string]int{}}, nil
}

// parseCARRequest recognises the request peers make of a whole DAG: GET or
// HEAD /ipfs/CID with format=car (or Accept: application/vnd.ipld.car),
// dag-scope all, no entity-bytes, order dfs or unknown, CAR version 1.
// Every other request is boxo's.
func parseCARRequest(r *http.Request) (root cid.Cid, dups, ok bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return cid.Undef, false, false
	}
	rest, found := strings.CutPrefix(r.URL.Path, "/ipfs/")
	if !found || strings.Contains(rest, "/") {
		return cid.Undef, false, false
	}
	root, err := cid.Decode(rest)
	if err != nil {
		return cid.Undef, false, false
	}
	q := r.URL.Query()
	for k := range q {
		if k != "format" && k != "dag-scope" {
			return cid.Undef, false, false
		}
	}
	if s := q.Get("dag-scope"); s != "" && s != "all" {
		return cid.Undef, false, false
	}
	params := map[string]string{}
	if accept := r.Header.Values("Accept"); len(accept) > 0 {
		if len(accept) > 1 || strings.Contains(accept[0], ",") {
			return cid.Undef, false, false
		}
		mt, p, err := mime.ParseMediaType(accept[0])
		if err != nil || mt != carType && (q.Get("format") != "car" || mt != "*/*") {
			return cid.Undef, false, false
		}
		params = p
	} else if q.Get("format") != "car" {
		return cid.Undef, false, false
	}
	if f := q.Get("format"); f != "" && f != "car" {
		return cid.Undef, false, false
	}
	for k, v := range params {
		switch {
		case k == "version" && v == "1", k == "order" && (v == "dfs" || v == "unk"):
		case k == "dups" && (v == "y" || v == "n"):
			dups = v == "y"
		default:
			return cid.Undef, false, false
		}
	}
	return root, dups, true
}

const carType = "application/vnd.ipld.car"

// serveCAR writes root's DAG as held in bs, depth-first, as trustless
// gateways do (IPIP-412): the blocks as stored, which bitswap serves as they
// are too. boxo's own CAR path decodes and hashes every block again on the
// way out, and costs more than the transfer. A block missing here ends the
// CAR early; the client fetches what is missing elsewhere.
func serveCAR(w http.ResponseWriter, r *http.Request, bs blockstore.Blockstore, read repo.BlockReader, root cid.Cid, dups bool, served *atomic.Int64) {
	if has, err := bs.Has(r.Context(), root); err != nil || !has {
		http.Error(w, fmt.Sprintf("%s is not held here", root), http.StatusNotFound)
		return
	}
	d := "n"
	if dups {
		d = "y"
	}
	h := w.Header()
	h.Set("Content-Type", carType+"; version=1; order=dfs; dups="+d)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=29030400, immutable")
	h.Set("Etag", `"`+root.String()+".car.dfs."+d+`"`)
	h.Set("Vary", "Accept")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	served.Add(1)
	if err := repo.WriteCARFrom(r.Context(), w, read, root, dups); err != nil {
		// Cut the stream rather than end the CAR cleanly: the client must
		// not take a cut CAR for a whole one.
		panic(http.ErrAbortHandler)
	}
}

// trustlessBounds holds each peer to lim.PerPeer answers at once and every
// answer to lim.Bytes. The total and the time are boxo's (Config above) and
// the server's (WriteTimeout).
type trustlessBounds struct {
	next http.Handler
	lim  TrustlessLimits

	mu      sync.Mutex
	perPeer map[string]int
}

func (b *trustlessBounds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Over gostream the remote address is the peer ID.
	p := r.RemoteAddr
	b.mu.Lock()
	if b.perPeer[p] >= b.lim.PerPeer {
		b.mu.Unlock()
		w.Header().Set("Retry-After", "10")
		http.Error(w, "too many requests from this peer at once", http.StatusTooManyRequests)
		return
	}
	b.perPeer[p]++
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.perPeer[p]--; b.perPeer[p] == 0 {
			delete(b.perPeer, p)
		}
	}()
	b.next.ServeHTTP(&cappedWriter{ResponseWriter: w, left: b.lim.Bytes}, r)
}

// errAnswerTooLarge ends an answer past TrustlessLimits.Bytes.
var errAnswerTooLarge = errors.New("answer larger than this node serves at once")

// cappedWriter writes up to left bytes of body, then fails.
type cappedWriter struct {
	http.ResponseWriter
	left int64
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		n, _ := c.ResponseWriter.Write(p[:c.left])
		c.left = 0
		return n, errAnswerTooLarge
	}
	n, err := c.ResponseWriter.Write(p)
	c.left -= int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (boxo flushes).
func (c *cappedWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *cappedWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// noNames is a name system without names: the trustless gateway serves
// /ipfs/ only, and must never start a lookup for a peer.
type noNames struct{}

var errNoNames = errors.New("no names here: ask for /ipfs/ paths")

func (noNames) Resolve(context.Context, path.Path, ...namesys.ResolveOption) (namesys.Result, error) {
	return namesys.Result{}, errNoNames
}

func (noNames) ResolveAsync(context.Context, path.Path, ...namesys.ResolveOption) <-chan namesys.AsyncResult {
	out := make(chan namesys.AsyncResult, 1)
	out <- namesys.AsyncResult{Err: errNoNames}
	close(out)
	return out
}

func (noNames) Publish(context.Context, crypto.PrivKey, path.Path, ...namesys.PublishOption) error {
	return errNoNames
}
