package gateway

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// statusWriter passes a response through and notes how it went.
type statusWriter struct {
	http.ResponseWriter
	code     int
	failed   bool // a write to the client failed
	hijacked bool // boxo's retrieval timeout took the connection to reset it
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	if err != nil {
		w.failed = true
	}
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack lets boxo's retrieval timeout reset a connection whose response
// stalled.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs every request at debug level, and server errors other
// than retrieval timeouts and parts not implemented (/routing/v1/) as
// warnings: those are bugs, not missing blocks.
func logRequests(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		level := slog.LevelDebug
		if sw.code >= 500 && sw.code != http.StatusGatewayTimeout && sw.code != http.StatusNotImplemented {
			level = slog.LevelWarn
		}
		if !logger.Enabled(r.Context(), level) {
			return
		}
		logger.LogAttrs(r.Context(), level, "gateway: request",
			slog.String("method", r.Method),
			slog.String("host", r.Host),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.code),
			slog.Duration("duration", time.Since(start)),
		)
	})
}
