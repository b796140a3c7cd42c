// Package httpserver owns how island serves HTTP: the gateway, the local API
// and the pinning service's own listener all go through it, so they share
// one lifecycle and one set of limits.
//
// The lifecycle is the one every island server follows: Listen binds the
// address at once, so a bad or busy address fails before anything is
// announced and the real port (for port 0) is known; Serve serves until its
// context ends, then lets requests in flight finish for a grace period and
// cuts the rest; an error from serving is returned, so the daemon's errgroup
// stops the whole daemon with it; Close stops at once and may be called any
// number of times, before, during or after Serve.
//
// The limits bound what a slow or hostile client can hold: the time to send
// headers, their size, idle keep-alive connections, and optionally the time
// to send a whole request. Local servers have no write timeout: files, CARs
// and event streams may flow for as long as they make progress; the handlers
// bound stalls themselves (the gateway's retrieval timeout). The server
// peers reach over libp2p streams (Listener) bounds whole responses too
// (WriteTimeout).
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Config is one server.
type Config struct {
	// Name says which server this is in errors and logs ("gateway", "api").
	Name string
	// Addr is host:port; port 0 picks a free port (URL reports it).
	Addr string
	// Listener, if set, is served instead of a TCP listener on Addr (which
	// is then ignored): libp2p streams (gostream) for HTTP between peers.
	// The Server owns it from then on and closes it.
	Listener net.Listener
	// Handler answers every request.
	Handler http.Handler
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included; 0 leaves
	// bodies unbounded in time (uploads of any size to the local API).
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a whole response; 0 leaves responses
	// unbounded in time (see the package doc). Servers for peers set it.
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes int
	// ShutdownGrace bounds how long Serve waits, once its context ends, for
	// responses in flight (a long CAR, say) before cutting them.
	ShutdownGrace time.Duration
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig is the hardening every island listener gets; the caller
// sets Name, Addr and Handler.
func DefaultConfig() Config {
	return Config{
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ShutdownGrace:     5 * time.Second,
	}
}

// Server is a bound listener and the HTTP server that will serve it.
type Server struct {
	cfg Config
	log *slog.Logger
	ln  net.Listener
	srv *http.Server
	url string

	closeOnce sync.Once
	closeErr  error
}

// Listen checks cfg and binds cfg.Addr; nothing is served until Serve.
func Listen(ctx context.Context, cfg Config) (*Server, error) {
	def := DefaultConfig()
	if cfg.Name == "" {
		cfg.Name = "http"
	}
	if cfg.Handler == nil {
		return nil, fmt.Errorf("%s: no handler", cfg.Name)
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = def.ReadHeaderTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = def.IdleTimeout
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = def.MaxHeaderBytes
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = def.ShutdownGrace
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("system", cfg.Name)
	ln := cfg.Listener
	if ln == nil {
		if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
			return nil, fmt.Errorf("%s: listen address %q: want host:port, e.g. 127.0.0.1:8080 (port 0 picks a free one)", cfg.Name, cfg.Addr)
		}
		var lc net.ListenConfig
		var err error
		if ln, err = lc.Listen(ctx, "tcp", cfg.Addr); err != nil {
			return nil, fmt.Errorf("%s: listen on %s: %w (choose another address; port 0 picks a free one)", cfg.Name, cfg.Addr, err)
		}
	}
	s := &Server{cfg: cfg, log: log, ln: ln, url: BaseURL(ln.Addr())}
	s.srv = &http.Server{
		Handler:           cfg.Handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		// Client mistakes (bad TLS hellos, broken connections) are
		// debugging matter, not warnings.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// URL is the base URL clients use, e.g. http://127.0.0.1:8080, with the
// port actually bound; a wildcard address is reported as 127.0.0.1.
func (s *Server) URL() string { return s.url }

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve serves until ctx ends or Close is called, then returns nil once
// requests in flight finished (or were cut after ShutdownGrace). If serving
// itself fails, it returns that error.
func (s *Server) Serve(ctx context.Context) error {
	s.log.Info("listening", "url", s.url)
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("%s: serve %s: %w", s.cfg.Name, s.url, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownGrace)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.log.Warn("responses still running at shutdown; cutting them", "err", err)
		_ = s.srv.Close()
	}
	<-errc
	return nil
}

// Close stops serving at once, cutting requests in flight. It is safe to
// call more than once, and without Serve.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err := s.srv.Close()
		// Serve may never have run: the listener is ours to close then.
		if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
			err = lerr
		}
		if err != nil {
			s.closeErr = fmt.Errorf("%s: close: %w", s.cfg.Name, err)
		}
	})
	return s.closeErr
}

// BaseURL names a listener as a browser on this machine reaches it: a
// wildcard address (":8080", "0.0.0.0:8080", "[::]:8080", all of which take
// IPv4 connections on Linux) becomes 127.0.0.1.
func BaseURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}
