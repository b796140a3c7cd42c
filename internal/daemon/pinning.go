package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/islandsite/island/internal/api"
)

// pinningServer serves the Pinning Service API on an address of its own.
type pinningServer struct {
	ln  net.Listener
	srv *http.Server
}

func newPinningServer(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (*pinningServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("daemon: pinning service: listen on %s: %w", addr, err)
	}
	return &pinningServer{ln: ln, srv: &http.Server{
		Handler: h,
		// Peers on the network reach this listener: bound the time and
		// memory a slow or hostile client can hold.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}, nil
}

// URL is the service's base URL, as clients configure it.
func (p *pinningServer) URL() string { return "http://" + p.ln.Addr().String() + PinningPrefix }

func (p *pinningServer) run(ctx context.Context) error {
	if err := api.ServeUntil(ctx, p.srv, p.ln, 3*time.Second); err != nil {
		return fmt.Errorf("daemon: pinning service: %w", err)
	}
	return nil
}

// PinningURL is where friends reach the pinning service: its own listener
// when PinningAddr is set, else the local API.
func (d *Daemon) PinningURL() string {
	if d.pinSrv != nil {
		return d.pinSrv.URL()
	}
	return d.api.URL() + PinningPrefix
}
