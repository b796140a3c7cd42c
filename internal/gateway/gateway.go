package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/namesys"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/islandsite/island/internal/httpserver"
)

// DefaultListenAddr is where the gateway listens unless told otherwise:
// loopback only, so nothing on the network can browse the node's blocks.
const DefaultListenAddr = "127.0.0.1:8080"

// shutdownGrace bounds how long Close waits for responses in flight (a big
// CAR stream, say) before cutting their connections.
const shutdownGrace = 5 * time.Second

// Config is everything the gateway needs; the node, the repo and the
// renderer hand in their parts here rather than being imported.
type Config struct {
	// ListenAddr is host:port. Port 0 picks a free port; URL reports it.
	ListenAddr string

	// BlockService serves the blocks: in the daemon the repo's blockstore
	// first and bitswap second. Required.
	BlockService blockservice.BlockService

	// NameSystem resolves /ipns/ names and DNSLink. When nil the gateway is
	// offline for names: it builds boxo's name system over Routing (IPNS
	// records held there), which answers DNSLink only from IPFS_NS_MAP and
	// never sends a DNS query.
	NameSystem namesys.NameSystem

	// Routing holds IPNS records for ?format=ipns-record responses (and for
	// resolution when NameSystem is nil). Optional: without it such requests
	// answer 404.
	Routing routing.ValueStore

	// SubdomainHosts are more hostnames served like localhost, as subdomain
	// gateways (CID.ipfs.HOST), for a gateway behind a proxy with a
	// wildcard DNS name. Optional.
	SubdomainHosts []string

	// StatusURL is where the node's status page lives: the local API's
	// origin, never the gateway's, whose every page (any site, a friend's
	// included) could read a page on its own origin. The gateway's own "/"
	// redirects there. Optional: without it "/" says what is served here.
	StatusURL string

	// Registerer receives the gateway's metrics. Optional: a private registry
	// is used when nil, so nothing is registered globally.
	Registerer prometheus.Registerer

	// Logger gets the gateway's logs. Optional: slog.Default() when nil.
	Logger *slog.Logger

	// Guard, when set, wraps the context of each request for content. A
	// context it cancels with a cause of its own (the node's relay guard:
	// the content's holders are reachable only through a relay that cannot
	// carry it) ends the request at once with 503 and that cause as the
	// reason, rather than 504 once RetrievalTimeout has passed. Optional.
	Guard func(context.Context) context.Context

	// RetrievalTimeout bounds the wait for the first byte of a response and
	// between writes; a request that runs out answers 504. 0 disables it.
	RetrievalTimeout time.Duration

	// MaxConcurrentRequests bounds requests in flight; more answer 429.
	// 0 disables the limit.
	MaxConcurrentRequests int

	// ResponseCacheBytes bounds the memory kept for whole responses of small
	// immutable /ipfs/ files, which are then served without resolving the
	// path again. 0 disables the cache.
	ResponseCacheBytes int64

	// Router answers the Delegated Routing V1 HTTP API at /routing/v1/
	// (providers and peers): the node's DHT. Optional: without it
	// /routing/v1/ is not served.
	Router Router
	// Records serves and takes IPNS records at /routing/v1/ipns/: the
	// node's name system. Optional: without it no record is found and PUT
	// answers 501.
	Records RecordStore
	// RoutingTimeout bounds one /routing/v1/ lookup; what was found by then
	// is the answer.
	RoutingTimeout time.Duration
	// RoutingResultsLimit bounds the providers or peers of one answer, JSON
	// or streamed.
	RoutingResultsLimit int
	// MaxRoutingRequests bounds /routing/v1/ requests in flight (each may
	// be a DHT lookup); more answer 429.
	MaxRoutingRequests int
	// RecordPutsPerSecond bounds IPNS records taken by PUT
	// /routing/v1/ipns/, which any web page may send; more answer 429.
	RecordPutsPerSecond float64
}

// DefaultConfig returns the settings of `island daemon`; the caller fills
// in BlockService (and NameSystem, Routing, Status when it has them).
func DefaultConfig() Config {
	return Config{
		ListenAddr: DefaultListenAddr,
		// Long enough for bitswap to find a provider through the DHT,
		// short enough that a browser tab does not hang on a dead CID.
		RetrievalTimeout: 30 * time.Second,
		// A local gateway serves one person's browser; this bounds the
		// goroutines and block fetches a runaway page can cause.
		MaxConcurrentRequests: 1024,
		// Enough for every page, stylesheet and thumbnail of a large site.
		ResponseCacheBytes: 32 << 20,
		// boxo's (and Kubo's) lookup time; the spec's cap on a JSON answer.
		RoutingTimeout:      30 * time.Second,
		RoutingResultsLimit: 100,
		// A browser resolving a site makes a handful of lookups at once.
		MaxRoutingRequests: 64,
		// A publisher puts one record per version; this only slows a page
		// that would fill the repo with records.
		RecordPutsPerSecond: 2,
	}
}

// Gateway is the HTTP gateway on its bound listener: New listens, Serve
// serves until its context ends, Close stops at once (internal/httpserver).
type Gateway struct {
	log     *slog.Logger
	handler http.Handler
	srv     *httpserver.Server
}

// New builds the handler and binds cfg.ListenAddr, so a bad or busy address
// fails here and the real port is known; nothing is served until Serve.
func New(ctx context.Context, cfg Config) (*Gateway, error) {
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = DefaultListenAddr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	logger := cfg.Logger.With("system", "gateway")
	handler, err := newHandler(cfg, logger)
	if err != nil {
		return nil, err
	}
	hc := httpserver.DefaultConfig()
	hc.Name, hc.Addr, hc.Handler, hc.Logger = "gateway", cfg.ListenAddr, handler, cfg.Logger
	// No read timeout: the gateway takes no bodies but IPNS records at
	// /routing/v1/ipns/, whose reading routing.go bounds; RetrievalTimeout
	// cuts stalled responses.
	hc.ShutdownGrace = shutdownGrace
	srv, err := httpserver.Listen(ctx, hc)
	if err != nil {
		return nil, err
	}
	return &Gateway{log: logger, handler: handler, srv: srv}, nil
}

// URL is the gateway's base URL, e.g. http://127.0.0.1:8080, with the port
// actually bound. A wildcard listen address is reported as loopback.
func (g *Gateway) URL() string { return g.srv.URL() }

// Handler is the gateway's whole HTTP handler (status page included), for
// serving it elsewhere or from httptest.
func (g *Gateway) Handler() http.Handler { return g.handler }

// Serve serves until ctx ends, then lets responses in flight finish for a
// few seconds and cuts the rest. An error means serving failed.
func (g *Gateway) Serve(ctx context.Context) error { return g.srv.Serve(ctx) }

// Close stops serving at once. It is safe to call more than once.
func (g *Gateway) Close() error { return g.srv.Close() }
