package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// RunRequest is one command line sent to the daemon.
type RunRequest struct {
	Args []string `json:"args"`
	// Cwd is the client's working directory, so relative paths mean what the user meant.
	Cwd string `json:"cwd"`
	// TTY says whether the client's stderr is a terminal (progress bars).
	TTY bool `json:"tty"`
}

// Runner runs one command line inside the daemon and returns its exit status.
type Runner func(ctx context.Context, req RunRequest, stdout, stderr io.Writer) int

// Config configures the API server.
type Config struct {
	// ListenAddr is host:port; the host must be a loopback address, because
	// the API can change the repo.
	ListenAddr string
	Run        Runner
	// Gatherer serves /debug/metrics/prometheus; nil serves nothing there.
	Gatherer prometheus.Gatherer
	// Mounts are further handlers by path prefix (e.g. the pinning service),
	// behind the same guard; they do their own authentication.
	Mounts map[string]http.Handler
	// MaxCommands bounds commands running at once; more get 503.
	MaxCommands int
	// ShutdownTimeout bounds how long Run waits for commands when its context ends.
	ShutdownTimeout time.Duration
	Logger          *slog.Logger
}

// DefaultConfig listens on 127.0.0.1:5080, like INTERFACE.md says.
func DefaultConfig() Config {
	return Config{
		ListenAddr:      "127.0.0.1:5080",
		MaxCommands:     64,
		ShutdownTimeout: 3 * time.Second,
	}
}

// maxRequestBody bounds a run request: a command line, not a file upload.
const maxRequestBody = 1 << 20

// Server is a listening API server.
type Server struct {
	cfg   Config
	ln    net.Listener
	srv   *http.Server
	sem   chan struct{}
	log   *slog.Logger
	close sync.Once
}

// New checks cfg and listens at once, so that a bad or busy address fails
// here and the real port is known before anyone is told about it.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Run == nil {
		return nil, errors.New("api: no command runner configured")
	}
	if cfg.MaxCommands <= 0 {
		cfg.MaxCommands = DefaultConfig().MaxCommands
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultConfig().ShutdownTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	host, _, err := net.SplitHostPort(cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("api: listen address %q: %w (want host:port, e.g. 127.0.0.1:5080)", cfg.ListenAddr, err)
	}
	if !isLoopbackHost(host) {
		return nil, fmt.Errorf("api: listen address %q is not a loopback address: the API controls the repo, keep it on 127.0.0.1", cfg.ListenAddr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("api: listen on %s: %w", cfg.ListenAddr, err)
	}
	s := &Server{
		cfg: cfg,
		ln:  ln,
		sem: make(chan struct{}, cfg.MaxCommands),
		log: log.With("system", "api"),
	}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// URL is the base URL clients use, e.g. http://127.0.0.1:5080.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Run serves until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	if err := ServeUntil(ctx, s.srv, s.ln, s.cfg.ShutdownTimeout); err != nil {
		return fmt.Errorf("api: %w", err)
	}
	return nil
}

// ServeUntil serves srv on ln until ctx ends, then lets requests in flight
// finish for up to grace before returning.
func ServeUntil(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Close stops the server at once; it is safe to call more than once and after Run.
func (s *Server) Close() error {
	var err error
	s.close.Do(func() {
		err = s.srv.Close()
		s.ln.Close()
	})
	return err
}

// Handler is the API's HTTP handler, guarded against browsers' cross-site requests.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v0/run", s.handleRun)
	if s.cfg.Gatherer != nil {
		metrics := promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{MaxRequestsInFlight: 4})
		mux.Handle("/debug/metrics/prometheus", readOnly(metrics))
	}
	for prefix, h := range s.cfg.Mounts {
		mux.Handle(prefix, h)
	}
	return guard(mux)
}

// guard refuses requests that a web page, rather than a local program, sent.
func guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		if !isLoopbackHost(host) {
			// A name other than localhost or a loopback IP means the page's
			// DNS name was rebound to 127.0.0.1.
			http.Error(w, "403 forbidden: the API only answers requests for a loopback host, not "+r.Host, http.StatusForbidden)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && origin != "http://"+r.Host {
			http.Error(w, "403 forbidden: cross-origin requests to the API are refused (Origin "+origin+")", http.StatusForbidden)
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			http.Error(w, "403 forbidden: cross-site requests to the API are refused", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func readOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
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

const streamContentType = "application/vnd.island.run-stream"

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		// Commands can change the repo; GET would let an <img> tag run them.
		w.Header().Set("Allow", "POST")
		http.Error(w, "405 method not allowed: commands are sent with POST", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		// A page can POST text/plain or form data without a preflight, never JSON.
		http.Error(w, "415 unsupported media type: send application/json", http.StatusUnsupportedMediaType)
		return
	}
	var req RunRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "400 bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	default:
		http.Error(w, fmt.Sprintf("503 busy: %d commands are already running", s.cfg.MaxCommands), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", streamContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	fw := &frameWriter{w: w, flush: func() { _ = rc.Flush() }}
	s.log.Debug("run", "args", req.Args)
	code := s.cfg.Run(r.Context(), req, stream{fw, frameStdout}, stream{fw, frameStderr})
	if err := fw.exit(code); err != nil {
		s.log.Debug("run: client gone", "args", req.Args, "err", err)
	}
}
