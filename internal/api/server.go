package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/httpserver"
)

// FileName is the file in the repo holding the running daemon's API URL.
const FileName = "api"

// TokenFile is the file in the repo holding the API's bearer token, when
// it requires one (0600).
const TokenFile = "api-token"

// Prefix is where the API's operations answer.
const Prefix = "/api/v1"

// Config configures a Server.
type Config struct {
	// ListenAddr is host:port. Beyond loopback a Token is required: the API
	// controls the repo and signs with the node's keys.
	ListenAddr string
	// API is what the routes call. Required.
	API core.API
	// Token, if set, must come with every API request as
	// "Authorization: Bearer TOKEN".
	Token string
	// Gatherer serves /debug/metrics/prometheus; nil serves nothing there.
	Gatherer prometheus.Gatherer
	// Profiling serves Go's profiles at /debug/pprof/ (same guards and
	// token as the API), to see where a command's time goes in the daemon.
	Profiling bool
	// Mounts are further handlers by path prefix (the pinning service),
	// behind the browser guard; they do their own authentication.
	Mounts map[string]http.Handler
	// MaxRequests bounds API requests in flight; more get 503.
	MaxRequests int
	// StyleSheet is the site theme's CSS, for the dashboard (which adds its
	// own layout after it); a small built-in sheet when nil.
	StyleSheet []byte
	Logger     *slog.Logger
}

// DefaultConfig listens on 127.0.0.1:5080, as docs/interface.md says.
func DefaultConfig() Config {
	return Config{ListenAddr: "127.0.0.1:5080", MaxRequests: 64}
}

// Server is the API on its bound listener.
type Server struct {
	cfg      Config
	log      *slog.Logger
	srv      *httpserver.Server
	sem      chan struct{}
	tokenSum [sha256.Size]byte
	css      template.CSS
	// local says the listener is on loopback, so the Host of a request
	// must be a loopback name too (anything else is DNS rebinding).
	local bool
}

// New checks cfg and binds the address at once, so a bad or busy address
// fails here and the real port is known before anyone is told about it.
func New(ctx context.Context, cfg Config) (*Server, error) {
	def := DefaultConfig()
	if cfg.API == nil {
		return nil, errors.New("api: no core.API to serve")
	}
	if cfg.MaxRequests <= 0 {
		cfg.MaxRequests = def.MaxRequests
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	host, _, err := net.SplitHostPort(cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("api: listen address %q: want host:port, e.g. 127.0.0.1:5080", cfg.ListenAddr)
	}
	s := &Server{cfg: cfg, log: log.With("system", "api"), sem: make(chan struct{}, cfg.MaxRequests), local: isLoopbackHost(host)}
	if !s.local && cfg.Token == "" {
		return nil, fmt.Errorf("api: listen address %q is not a loopback address: the API controls the repo, so beyond loopback it needs a token (island daemon --api-auth)", cfg.ListenAddr)
	}
	if cfg.Token != "" {
		s.tokenSum = sha256.Sum256([]byte(cfg.Token))
	}
	css := cfg.StyleSheet
	if css == nil {
		css = defaultCSS
	}
	css = append(append(append([]byte(nil), css...), '\n'), dashboardCSS...)
	// The sheet is ours, but it is still kept from closing the <style>.
	s.css = template.CSS(bytes.ReplaceAll(css, []byte("</"), []byte(`<\/`)))
	hc := httpserver.DefaultConfig()
	hc.Name, hc.Addr, hc.Handler, hc.Logger = "api", cfg.ListenAddr, s.Handler(), log
	if s.srv, err = httpserver.Listen(ctx, hc); err != nil {
		return nil, err
	}
	return s, nil
}

// URL is the base URL clients use, e.g. http://127.0.0.1:5080.
func (s *Server) URL() string { return s.srv.URL() }

// Serve serves until ctx ends (see httpserver.Server.Serve).
func (s *Server) Serve(ctx context.Context) error { return s.srv.Serve(ctx) }

// Close stops serving at once; it is idempotent.
func (s *Server) Close() error { return s.srv.Close() }

// Handler is the API's whole handler: operations, metrics and mounts,
// guarded against browsers' cross-site requests.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, op := range operations {
		// Bound per request, so a test's fake API needs only the methods
		// it is asked for.
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { op.serve(s, s.cfg.API)(w, r) })
		pattern := op.Path
		if pattern == "/" {
			pattern = "/{$}" // the page only, not a catch-all
		}
		mux.Handle(op.Method+" "+pattern, s.authorized(s.bounded(h)))
	}
	methods := map[string][]string{}
	for _, op := range operations {
		methods[op.Path] = append(methods[op.Path], op.Method)
	}
	mux.Handle(Prefix+"/", s.authorized(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ms, ok := methods[r.URL.Path]; ok {
			// Changes are POSTed: a GET (an <img>, a link) must not make one.
			w.Header().Set("Allow", strings.Join(ms, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{wireError{core.CodeInvalid,
				fmt.Sprintf("api: %s takes %s, not %s", r.URL.Path, strings.Join(ms, " or "), r.Method)}})
			return
		}
		writeError(w, core.Errorf(core.CodeNotFound, "api: no operation %s %s (see %s/openapi.yaml)", r.Method, r.URL.Path, Prefix))
	})))
	if s.cfg.Gatherer != nil {
		metrics := promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{MaxRequestsInFlight: 4})
		mux.Handle("GET /debug/metrics/prometheus", s.authorized(metrics))
	}
	if s.cfg.Profiling {
		mux.Handle("GET /debug/pprof/", s.authorized(http.HandlerFunc(pprof.Index)))
		mux.Handle("GET /debug/pprof/cmdline", s.authorized(http.HandlerFunc(pprof.Cmdline)))
		mux.Handle("GET /debug/pprof/profile", s.authorized(http.HandlerFunc(pprof.Profile)))
		mux.Handle("GET /debug/pprof/symbol", s.authorized(http.HandlerFunc(pprof.Symbol)))
		mux.Handle("GET /debug/pprof/trace", s.authorized(http.HandlerFunc(pprof.Trace)))
	}
	for prefix, h := range s.cfg.Mounts {
		mux.Handle(prefix, h)
	}
	return s.guard(mux)
}

// guard refuses requests that a web page, rather than a local program, sent.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		switch {
		case s.local && !isLoopbackHost(host):
			// A name other than localhost or a loopback IP means the page's
			// DNS name was rebound to 127.0.0.1.
			forbid(w, "the API only answers requests for a loopback host, not "+r.Host)
		case r.Header.Get("Origin") != "" && r.Header.Get("Origin") != "http://"+r.Host:
			forbid(w, "cross-origin requests to the API are refused (Origin "+r.Header.Get("Origin")+")")
		case !sameSite(r.Header.Get("Sec-Fetch-Site")):
			forbid(w, "cross-site requests to the API are refused")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func sameSite(v string) bool { return v == "" || v == "same-origin" || v == "none" }

func forbid(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusForbidden, errorBody{wireError{core.CodeUnauthorized, "api: " + msg}})
}

// authorized checks the bearer token, when the server has one.
func (s *Server) authorized(next http.Handler) http.Handler {
	if s.cfg.Token == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(tok))
		if !ok || subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="island"`)
			writeError(w, core.Errorf(core.CodeUnauthorized, "api: this daemon needs its API token (the repo's %s file) as a bearer token", TokenFile))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bounded keeps at most MaxRequests operations running.
func (s *Server) bounded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.sem <- struct{}{}:
			defer func() { <-s.sem }()
		default:
			writeError(w, core.Errorf(core.CodeUnavailable, "api: busy: %d requests are already running; try again", s.cfg.MaxRequests))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
