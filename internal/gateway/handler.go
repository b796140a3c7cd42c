package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/gateway/assets"
	"github.com/ipfs/go-cid"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// emptyIdentityCID is the empty raw block as an identity CID, which any
// blockstore wrapped by blockstore.NewIdStore holds without storing it.
var emptyIdentityCID = cid.MustParse("bafkqaaa")

// subdomainHost is the one hostname served as a subdomain gateway:
// browsers resolve every *.localhost name to loopback, so each CID and
// name gets its own origin without any DNS setup.
const subdomainHost = "localhost"

// newHandler assembles the gateway's handler chain, outermost first:
// response cache → request log → on the gateway's own host "/" (a redirect
// to the status page on the API's origin) and the Delegated Routing V1 API
// (routing.go); or else CORS headers → boxo's hostname handler → /ipfs/ and
// /ipns/ (boxo's handler).
func newHandler(cfg Config, logger *slog.Logger) (http.Handler, error) {
	if cfg.BlockService == nil {
		return nil, errors.New("gateway: config: BlockService is required")
	}
	reg := cfg.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	ns, err := newNameSystem(cfg)
	if err != nil {
		return nil, err
	}
	blocks, err := gateway.NewBlocksBackend(cfg.BlockService,
		gateway.WithResolver(newPathResolver(cfg.BlockService)),
		gateway.WithNameSystem(onceNameSystem{ns}),
		gateway.WithValueStore(valueStoreOrNull(cfg.Routing)),
	)
	if err != nil {
		return nil, fmt.Errorf("gateway: blocks backend: %w", err)
	}
	backend := &statusBackend{IPFSBackend: blocks, blocks: cfg.BlockService, guard: cfg.Guard}
	if has, _ := cfg.BlockService.Blockstore().Has(context.Background(), emptyIdentityCID); !has {
		logger.Warn("gateway: the blockstore does not answer identity CIDs (such as the empty file bafkqaaa); wrap it with blockstore.NewIdStore")
	}

	subdomains := map[string]*gateway.PublicGateway{}
	for _, host := range append([]string{subdomainHost}, cfg.SubdomainHosts...) {
		if _, ok := dns.IsDomainName(host); !ok || net.ParseIP(host) != nil || strings.ContainsAny(host, "/:*") {
			return nil, fmt.Errorf("gateway: subdomain host %q: want a DNS name such as example.net, without port", host)
		}
		subdomains[strings.ToLower(host)] = &gateway.PublicGateway{
			Paths:                 []string{"/ipfs", "/ipns"},
			UseSubdomains:         true,
			DeserializedResponses: true,
			// One DNS label per DNSLink site (my-site-org.ipns.localhost)
			// keeps one origin per site and works with wildcard TLS
			// certificates when the gateway sits behind a proxy.
			InlineDNSLink: true,
		}
	}
	conf := gateway.Config{
		DeserializedResponses: true,
		PublicGateways:        subdomains,
		// IPIP-0548 deprecates X-Ipfs-Path for Ipfs-Uri, but the
		// conformance suite and older clients still read it.
		DeprecatedXIpfsPath:   true,
		RetrievalTimeout:      cfg.RetrievalTimeout,
		MaxConcurrentRequests: cfg.MaxConcurrentRequests,
		MetricsRegistry:       reg,
		// No "inspect retrievability" button: it would send the user's
		// CIDs to a third-party service.
		DiagnosticServiceURL: "",
	}
	ipfs := gateway.NewHandler(conf, backend)
	content := http.NewServeMux()
	content.Handle("/ipfs/", ipfs)
	content.Handle("/ipns/", ipfs)
	content.HandleFunc("/", serveNotFound)
	// CORS is for content only: any web page may fetch /ipfs/ data, but
	// none may read the node's status (its peer ID would unmask the user).
	public := gateway.NewHeaders(nil).WithDeprecatedXIpfsPath().ApplyCors().Wrap(
		gateway.NewHostnameHandler(conf, backend, content))

	routingV1 := newRoutingHandler(cfg, reg)
	home := homeHandler(cfg.StatusURL)

	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A browser or client using the gateway as an HTTP proxy for
		// CID.ipfs.localhost opens a tunnel first; the requests that follow
		// on the same connection are served here (subdomain gateway spec).
		if r.Method == http.MethodConnect {
			w.WriteHeader(http.StatusOK)
			return
		}
		if isHomeRequest(r, subdomains) {
			home.ServeHTTP(w, r)
			return
		}
		if routingV1 != nil && strings.HasPrefix(r.URL.Path, routingPrefix) && isOwnHost(r, subdomains) {
			routingV1.ServeHTTP(w, r)
			return
		}
		public.ServeHTTP(w, r)
	})
	h = logRequests(h, logger)
	if cfg.ResponseCacheBytes > 0 {
		h = newResponseCache(cfg.ResponseCacheBytes, reg, nameRoot(ns)).wrap(h)
	}
	return h, nil
}

// isHomeRequest reports a request for "/" on the gateway's own host: an
// IP address (127.0.0.1:PORT) or a subdomain gateway's parent
// (localhost:PORT, not CID.ipfs.localhost). Only the Host header counts,
// not X-Forwarded-Host.
func isHomeRequest(r *http.Request, subdomains map[string]*gateway.PublicGateway) bool {
	if r.URL.Path != "/" || r.URL.Query().Has("uri") {
		return false // ?uri=ipfs://… is boxo's protocol-handler redirect
	}
	return isOwnHost(r, subdomains)
}

// isOwnHost reports a request to the gateway's own host, not to a site's
// origin: an IP address (127.0.0.1:PORT) or a subdomain gateway's parent
// (localhost:PORT, not CID.ipfs.localhost), where a site's own paths (a
// folder named routing, say) can never be shadowed.
func isOwnHost(r *http.Request, subdomains map[string]*gateway.PublicGateway) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if net.ParseIP(host) != nil {
		return true
	}
	_, ok := subdomains[strings.ToLower(host)]
	return ok
}

// homeHandler answers the gateway's "/": a redirect to the status page on
// the API's origin, which no page of the gateway's can read, or with none
// a note of what is served here.
func homeHandler(statusURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: the gateway is read-only")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if statusURL != "" {
			http.Redirect(w, r, strings.TrimSuffix(statusURL, "/")+"/", http.StatusSeeOther)
			return
		}
		writeError(w, r, http.StatusNotFound, "this is an IPFS gateway: content lives under /ipfs/CID/ and /ipns/NAME/")
	})
}

// serveNotFound answers paths that are neither content nor the home.
func serveNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, http.StatusNotFound, fmt.Sprintf("%s is not served here: content lives under /ipfs/CID/ and /ipns/NAME/", r.URL.Path))
}

// writeError answers like boxo's own errors: an HTML page for browsers,
// plain text for scripts.
func writeError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Error(w, msg, code)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = assets.ErrorTemplate().Execute(w, assets.ErrorTemplateData{
		StatusCode: code,
		StatusText: http.StatusText(code),
		Error:      msg,
	})
}
