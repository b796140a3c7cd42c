package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/routing/http/server"
	"github.com/ipfs/boxo/routing/http/types"
	"github.com/ipfs/boxo/routing/http/types/iter"
	"github.com/ipfs/go-cid"
	kb "github.com/libp2p/go-libp2p-kbucket"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// routingPrefix is where the Delegated Routing V1 HTTP API answers.
const routingPrefix = "/routing/v1/"

// Router finds providers and peers for /routing/v1/: the node's DHT.
type Router interface {
	routing.ContentRouting
	routing.PeerRouting
}

// RecordStore keeps the IPNS records /routing/v1/ipns/ serves and takes:
// the node's name system.
type RecordStore interface {
	// GetRecord returns the signed bytes of the best valid record known for
	// name, held or found in routing; an error wrapping routing.ErrNotFound
	// when there is none.
	GetRecord(ctx context.Context, name ipns.Name) ([]byte, error)
	// PutRecord checks record (signed by name's key, not expired, not older
	// than the record held), keeps it and puts it to routing. An error
	// wrapping ErrRecordRefused means the record itself was refused and
	// nothing was stored.
	PutRecord(ctx context.Context, name ipns.Name, record []byte) error
}

// ErrRecordRefused marks a record a RecordStore refused: /routing/v1/ipns/
// answers such a PUT with 400, any other failure with 500.
var ErrRecordRefused = errors.New("gateway: IPNS record refused")

// newRoutingHandler serves the Delegated Routing V1 HTTP API with boxo's
// server over cfg.Router and cfg.Records, or returns nil when cfg has no
// Router. Around boxo it adds what the spec asks of a server reachable from
// web pages (CORS headers and preflights), bounds on what any page can make
// the node spend (requests in flight, IPNS puts per second, results per
// answer, time per lookup), 501 for the parts this node does not serve, and
// 400 for a refused record, which boxo can only answer with 500.
func newRoutingHandler(cfg Config, reg prometheus.Registerer) http.Handler {
	if cfg.Router == nil {
		return nil
	}
	def := DefaultConfig()
	if cfg.RoutingTimeout <= 0 {
		cfg.RoutingTimeout = def.RoutingTimeout
	}
	if cfg.RoutingResultsLimit <= 0 {
		cfg.RoutingResultsLimit = def.RoutingResultsLimit
	}
	if cfg.MaxRoutingRequests <= 0 {
		cfg.MaxRoutingRequests = def.MaxRoutingRequests
	}
	if cfg.RecordPutsPerSecond <= 0 {
		cfg.RecordPutsPerSecond = def.RecordPutsPerSecond
	}
	dr := &delegatedRouter{router: cfg.Router, records: cfg.Records}
	api := server.Handler(dr,
		server.WithRoutingTimeout(cfg.RoutingTimeout),
		server.WithRecordsLimit(cfg.RoutingResultsLimit),
		server.WithStreamingRecordsLimit(cfg.RoutingResultsLimit),
		server.WithPrometheusRegistry(reg),
	)
	inFlight := make(chan struct{}, cfg.MaxRoutingRequests)
	// Ten seconds' worth at once: a publisher putting a few names together
	// is never turned away.
	puts := rate.NewLimiter(rate.Limit(cfg.RecordPutsPerSecond), max(int(10*cfg.RecordPutsPerSecond), 1))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodOptions:
			// A CORS preflight (a PUT from another origin sends one).
			w.WriteHeader(http.StatusNoContent)
			return
		case strings.HasPrefix(r.URL.Path, routingPrefix+"dht/"),
			r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, routingPrefix+"providers"):
			http.Error(w, fmt.Sprintf("%s %s is not served by this node: it answers GET providers/{cid}, GET peers/{peer-id} and GET and PUT ipns/{name}", r.Method, r.URL.Path), http.StatusNotImplemented)
			return
		case strings.HasPrefix(r.URL.Path, routingPrefix+"ipns/") && r.Method == http.MethodPut:
			if cfg.Records == nil {
				http.Error(w, "this node takes no IPNS records", http.StatusNotImplemented)
				return
			}
			if !puts.Allow() {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "too many IPNS records put; retry in a second", http.StatusTooManyRequests)
				return
			}
			// The one body the gateway reads: a client that sends it
			// slowly must not hold a request slot for ever.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(cfg.RoutingTimeout))
		}
		select {
		case inFlight <- struct{}{}:
			defer func() { <-inFlight }()
		default:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many routing requests in flight; retry in a second", http.StatusTooManyRequests)
			return
		}
		refused := new(atomic.Bool)
		r = r.WithContext(context.WithValue(r.Context(), refusedKey{}, refused))
		api.ServeHTTP(&refusedWriter{ResponseWriter: w, refused: refused}, r)
	})
	// The spec's CORS headers: any page may query the API and read the
	// answers, and may PUT records (which are checked like any other).
	return gateway.NewHeaders(map[string][]string{
		"Access-Control-Allow-Methods": {http.MethodGet, http.MethodPut, http.MethodOptions},
	}).ApplyCors().Wrap(h)
}

// refusedKey carries a request's *atomic.Bool from the HTTP layer to
// delegatedRouter.PutIPNS, which sets it when the record was refused.
type refusedKey struct{}

// refusedWriter turns boxo's 500 for a failed PutIPNS into 400 when the
// record was refused, as the spec asks for an invalid record.
type refusedWriter struct {
	http.ResponseWriter
	refused *atomic.Bool
}

func (w *refusedWriter) WriteHeader(code int) {
	if code == http.StatusInternalServerError && w.refused.Load() {
		code = http.StatusBadRequest
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *refusedWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *refusedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// delegatedRouter is boxo's server.DelegatedRouter over the node's DHT and
// name system. boxo has already parsed and checked every name, CID and peer
// ID (400 otherwise) and bounds each call with its routing timeout.
type delegatedRouter struct {
	router  Router
	records RecordStore
}

// FindProviders streams the providers the DHT finds, as it finds them;
// boxo stops it (Close) once it has enough.
func (d *delegatedRouter) FindProviders(ctx context.Context, c cid.Cid, limit int) (iter.ResultIter[types.Record], error) {
	ctx, cancel := context.WithCancel(ctx)
	return iter.ToResultIter[types.Record](&providerIter{ch: d.router.FindProvidersAsync(ctx, c, limit), cancel: cancel}), nil
}

// ProvideBitswap is the deprecated write API, which the handler answers
// with 501 before it gets here.
func (d *delegatedRouter) ProvideBitswap(context.Context, *server.BitswapWriteProvideRequest) (time.Duration, error) {
	return 0, routing.ErrNotSupported
}

// FindPeers returns the peer's addresses as the DHT (or the peerstore)
// knows them: among them the WebTransport and WebRTC-direct addresses a
// browser dials.
func (d *delegatedRouter) FindPeers(ctx context.Context, p peer.ID, _ int) (iter.ResultIter[*types.PeerRecord], error) {
	ai, err := d.router.FindPeer(ctx, p)
	if err != nil {
		return nil, lookupErr(err)
	}
	return iter.ToResultIter(iter.FromSlice([]*types.PeerRecord{peerRecord(ai)})), nil
}

func (d *delegatedRouter) GetIPNS(ctx context.Context, name ipns.Name) (*ipns.Record, error) {
	if d.records == nil {
		return nil, routing.ErrNotFound
	}
	raw, err := d.records.GetRecord(ctx, name)
	if err != nil {
		return nil, lookupErr(err)
	}
	return ipns.UnmarshalRecord(raw)
}

// PutIPNS hands the record to the name system, which checks it again (boxo
// checked signature and expiry; only the name system knows the record it
// holds) and keeps it only if it is the newest.
func (d *delegatedRouter) PutIPNS(ctx context.Context, name ipns.Name, rec *ipns.Record) error {
	raw, err := ipns.MarshalRecord(rec)
	if err != nil {
		return err
	}
	err = d.records.PutRecord(ctx, name, raw)
	if errors.Is(err, ErrRecordRefused) {
		if refused, ok := ctx.Value(refusedKey{}).(*atomic.Bool); ok {
			refused.Store(true)
		}
	}
	return err
}

// GetClosestPeers is answered with 501 before it gets here.
func (d *delegatedRouter) GetClosestPeers(context.Context, cid.Cid) (iter.ResultIter[*types.PeerRecord], error) {
	return nil, routing.ErrNotSupported
}

// lookupErr is err as boxo should answer it: a lookup that ran out of
// time, or that had no peer to ask (a DHT with an empty routing table),
// found nothing: an empty answer, as for providers, not a failure of the
// server (500).
func lookupErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kb.ErrLookupFailure) {
		return fmt.Errorf("%w: %w", routing.ErrNotFound, err)
	}
	return err
}

// peerRecord is ai in the spec's peer schema.
func peerRecord(ai peer.AddrInfo) *types.PeerRecord {
	rec := &types.PeerRecord{Schema: types.SchemaPeer, ID: &ai.ID}
	for _, a := range ai.Addrs {
		rec.Addrs = append(rec.Addrs, types.Multiaddr{Multiaddr: a})
	}
	return rec
}

// providerIter reads providers from the DHT's channel; Close cancels the
// lookup.
type providerIter struct {
	ch     <-chan peer.AddrInfo
	cancel context.CancelFunc
	next   peer.AddrInfo
}

func (it *providerIter) Next() bool {
	ai, ok := <-it.ch
	it.next = ai
	return ok
}

func (it *providerIter) Val() types.Record { return peerRecord(it.next) }

func (it *providerIter) Close() error {
	it.cancel()
	return nil
}
