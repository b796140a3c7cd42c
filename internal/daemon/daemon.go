// Package daemon owns a running island node: its Core (repo, node, names)
// and everything that serves it, the gateway, the local API, the pinning
// service, the follower, the republisher and, for `island serve`, the site
// watcher. New opens the Core and binds every listener, so a bad address
// fails before anything starts; Run serves them all under one errgroup, in
// which any part that fails stops the daemon with its error, and writes
// $REPO/api and $REPO/gateway exactly while the daemon answers
// (docs/interface.md). What the daemon does that a person may want to see is
// reported as typed Events; printing them is the CLI's business.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/ipns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/islandsite/island/internal/api"
	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/follow"
	"github.com/islandsite/island/internal/gateway"
	"github.com/islandsite/island/internal/httpserver"
	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/pinsvc"
	"github.com/islandsite/island/internal/repo"
)

// Files the daemon keeps in the repo.
const (
	// PinningTokenFile holds the pinning service's bearer token (0600).
	PinningTokenFile = "pinning-token"
	// PinningPrefix is where the Pinning Service API answers.
	PinningPrefix = "/pinning/v1"
)

// Config configures a daemon.
type Config struct {
	// Core is the node's configuration; Daemon, Gateway and Registerer are
	// set by the daemon.
	Core core.Config
	// Gateway runs no gateway when its ListenAddr is empty.
	Gateway gateway.Config
	// GatewayNoFetch serves on the gateway only what the repo holds, as
	// Kubo's Gateway.NoFetch: no page can make the node fetch from peers.
	GatewayNoFetch bool
	// GatewayMaxRetrievals bounds the gateway's retrievals from peers
	// running at once (0: gateway.DefaultMaxRemoteRetrievals).
	GatewayMaxRetrievals int
	// API is the local API's listener; API and Token are set by the daemon.
	API api.Config
	// APIAuth requires the bearer token in $REPO/api-token (created when
	// missing) for every API request. Always on when API.ListenAddr is not
	// a loopback address.
	APIAuth bool
	// PinningAddr, if set, serves the Pinning Service API (and nothing else)
	// on a listener of its own, so friends on other machines can
	// `pin remote add` to this node; its bearer token guards it.
	PinningAddr string
	// PinningQuota bounds the bytes the pinning token's pins hold (0:
	// pinsvc.DefaultMaxBytes).
	PinningQuota uint64
	// Follow times the follower; its callbacks are the Core's.
	Follow follow.RunConfig
	// RepublishInterval is how often our own names' records are re-put,
	// RepublishRetry how soon after a failed round (doubling up to the
	// interval).
	RepublishInterval, RepublishRetry time.Duration
	// StatsInterval is how often the node's peers and traffic are sampled
	// for the dashboard (core.DefaultSampleInterval when 0).
	StatsInterval time.Duration
	// AutoGCInterval is how often the repo is checked against its gc
	// watermark (Core.RunAutoGC).
	AutoGCInterval time.Duration
	// Site, if set, is published at start and again after every change.
	Site *SiteConfig
	// StyleSheet is the site theme's CSS for the dashboard (on the API).
	StyleSheet []byte
	// Events, if set, is told what the daemon does, one event at a time.
	Events func(Event)
	// Ready, if set, is called once the daemon answers and $REPO/api (and
	// $REPO/gateway) say where: whoever waits for it may use them at once.
	Ready  func()
	Logger *slog.Logger
}

// DefaultConfig is a daemon on the public network with the gateway and the
// API on their default loopback ports.
func DefaultConfig() Config {
	cc := core.DefaultConfig()
	cc.Mode = core.ModeOnline
	return Config{
		Core:              cc,
		Gateway:           gateway.DefaultConfig(),
		API:               api.DefaultConfig(),
		Follow:            follow.DefaultRunConfig(),
		RepublishInterval: 4 * time.Hour,
		RepublishRetry:    time.Minute,
		AutoGCInterval:    time.Minute,
	}
}

// Daemon is an open Core with its bound listeners.
type Daemon struct {
	cfg    Config
	log    *slog.Logger
	core   *core.Core
	reg    *prometheus.Registry
	gw     *gateway.Gateway
	api    *api.Server
	pins   *pinsvc.Server
	pinSrv *httpserver.Server // the pinning service's own listener
	site   *watcher
	// parts are run by Run next to the daemon's own (Go).
	parts []func(context.Context) error
	// events serialises Config.Events across the daemon's goroutines.
	eventsMu sync.Mutex

	closeOnce sync.Once
	closeErr  error
}

// New opens the Core and binds every listener. Nothing is served, and
// nothing announced in the repo, until Run.
func New(ctx context.Context, cfg Config) (_ *Daemon, err error) {
	def := DefaultConfig()
	if cfg.RepublishInterval <= 0 {
		cfg.RepublishInterval = def.RepublishInterval
	}
	if cfg.RepublishRetry <= 0 {
		cfg.RepublishRetry = def.RepublishRetry
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	d := &Daemon{cfg: cfg, log: log.With("system", "daemon"), reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	cc := cfg.Core
	cc.Daemon = true
	cc.Registerer = d.reg
	cc.Gateway = d.gatewayURL
	if cc.Logger == nil {
		cc.Logger = log
	}
	if d.core, err = core.Open(ctx, cc); err != nil {
		return nil, err
	}

	token, err := pinsvc.LoadOrCreateToken(filepath.Join(d.core.Path(), PinningTokenFile))
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if d.pins, err = d.core.PinningService(ctx, pinsvc.Config{Token: token, MaxBytes: cfg.PinningQuota, Logger: log}); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	pinning := http.StripPrefix(PinningPrefix, d.pins)
	if cfg.PinningAddr != "" {
		mux := http.NewServeMux()
		mux.Handle(PinningPrefix+"/", pinning)
		hc := httpserver.DefaultConfig()
		// Peers on the network reach this listener: bound the time a slow
		// or hostile client can take to send a request.
		hc.Name, hc.Addr, hc.Handler, hc.Logger, hc.ReadTimeout = "pinning service", cfg.PinningAddr, mux, log, time.Minute
		if d.pinSrv, err = httpserver.Listen(ctx, hc); err != nil {
			return nil, err
		}
	}

	ac := cfg.API
	ac.API = d.core
	ac.Gatherer = d.reg
	ac.Mounts = map[string]http.Handler{PinningPrefix + "/": pinning}
	ac.StyleSheet = cfg.StyleSheet
	if ac.Logger == nil {
		ac.Logger = log
	}
	if cfg.APIAuth || !loopbackAddr(ac.ListenAddr) {
		if ac.Token, err = pinsvc.LoadOrCreateToken(filepath.Join(d.core.Path(), api.TokenFile)); err != nil {
			return nil, fmt.Errorf("daemon: api token: %w", err)
		}
	}
	if d.api, err = api.New(ctx, ac); err != nil {
		return nil, err
	}

	if cfg.Gateway.ListenAddr != "" {
		gc := cfg.Gateway
		gc.BlockService = d.core.LocalBlockService()
		if n := d.core.Node(); n != nil && !cfg.GatewayNoFetch {
			// What a web page makes the gateway fetch from peers is
			// bounded in retrievals at once and by the repo's quota.
			if ex, ok := n.Exchange().(exchange.SessionExchange); ok {
				gc.BlockService = gateway.BoundedBlockService(d.core.Blockstore(), ex, cfg.GatewayMaxRetrievals, d.core.Room)
			} else {
				gc.BlockService = d.core.BlockService()
			}
		}
		gc.NameSystem = d.core.Names().NameSystem()
		// Records for ?format=ipns-record come from where /ipns/ resolves
		// them, which under --offline is the repo, not the node's routing.
		gc.Routing = d.core.Names().ValueStore()
		// /routing/v1/: the node's DHT finds providers and peers; records
		// come from and go through the name system, which checks each.
		if n := d.core.Node(); n != nil {
			gc.Router = n.Routing()
			if !cfg.GatewayNoFetch {
				// A page whose holders are reachable only through a relay
				// that cannot carry it answers 503 with that reason at
				// once. The guard ends with the request's context.
				gc.Guard = func(ctx context.Context) context.Context {
					ctx, _ = n.GuardRelay(ctx)
					return ctx
				}
			}
		}
		gc.Records = nameRecords{d.core.Names()}
		// The status page is the API's, on its own origin: no page the
		// gateway serves can read it.
		gc.StatusURL = d.api.URL()
		gc.Registerer = d.reg
		if gc.Logger == nil {
			gc.Logger = log
		}
		if d.gw, err = gateway.New(ctx, gc); err != nil {
			return nil, err
		}
	}
	if cfg.Site != nil {
		if d.site, err = newWatcher(d, *cfg.Site); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func loopbackAddr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Core is the daemon's application layer.
func (d *Daemon) Core() *core.Core { return d.core }

// APIURL is the local API's base URL.
func (d *Daemon) APIURL() string { return d.api.URL() }

// GatewayURL is the gateway's base URL, or "" without a gateway.
func (d *Daemon) GatewayURL() string {
	if d.gw == nil {
		return ""
	}
	return d.gw.URL()
}

// gatewayURL is the gateway for the Core's published URLs: the daemon's
// own, serving; or, with none, where a gateway would answer by default.
func (d *Daemon) gatewayURL() (string, bool) {
	if d.gw == nil {
		return core.DefaultGatewayURL, false
	}
	return d.gw.URL(), true
}

// PinningURL is where friends reach the pinning service: its own listener
// when PinningAddr is set, else the local API.
func (d *Daemon) PinningURL() string {
	if d.pinSrv != nil {
		return d.pinSrv.URL() + PinningPrefix
	}
	return d.api.URL() + PinningPrefix
}

// Go adds f to what Run runs, with Run's context: f must return once that
// context ends, and Run waits for it before closing the Core. An error
// from f stops the daemon with it. Call Go before Run.
func (d *Daemon) Go(f func(ctx context.Context) error) {
	d.parts = append(d.parts, f)
}

// emit reports ev to Config.Events, one at a time.
func (d *Daemon) emit(ev Event) {
	if d.cfg.Events == nil {
		return
	}
	d.eventsMu.Lock()
	defer d.eventsMu.Unlock()
	d.cfg.Events(ev)
}

// Run serves until ctx ends or a part fails, then stops everything and
// closes the Core. The files that announce the daemon exist exactly while
// it answers.
func (d *Daemon) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.api.Serve(gctx) })
	if d.cfg.AutoGCInterval > 0 {
		g.Go(func() error { return d.core.RunAutoGC(gctx, d.cfg.AutoGCInterval) })
	}
	if d.gw != nil {
		g.Go(func() error { return d.gw.Serve(gctx) })
	}
	if d.pinSrv != nil {
		g.Go(func() error { return d.pinSrv.Serve(gctx) })
	}
	if d.core.Mode() != core.ModeOffline {
		g.Go(func() error { return d.core.RunFollower(gctx, d.cfg.Follow) })
		g.Go(func() error { return d.core.RunRepublisher(gctx, d.cfg.RepublishInterval, d.cfg.RepublishRetry) })
		g.Go(func() error { return d.core.RunSampler(gctx, d.cfg.StatsInterval) })
	}
	for _, f := range d.parts {
		g.Go(func() error { return f(gctx) })
	}
	var err error
	if d.site != nil {
		// Published before the daemon is announced, as `island serve`
		// prints the site's URLs before "Daemon is ready".
		if err = d.site.first(gctx); err == nil {
			g.Go(func() error { return d.site.run(gctx) })
		}
	}
	if err == nil {
		if err = d.announce(); err == nil {
			if d.cfg.Ready != nil {
				d.cfg.Ready()
			}
			<-gctx.Done()
			d.log.Info("stopping")
		}
	}
	// Whatever announce wrote goes first, whether it failed half-way or the
	// daemon is stopping: a client must not find a daemon that will not answer.
	d.unannounce()
	g.Go(func() error { return errCanceled })
	werr := g.Wait()
	if errors.Is(werr, errCanceled) {
		werr = nil
	}
	return errors.Join(err, werr, d.Close())
}

// errCanceled stops the errgroup when the daemon stops for a reason of its
// own (ctx, a failed start): it is not an error of any part.
var errCanceled = errors.New("daemon: stopping")

// announce writes $REPO/api and $REPO/gateway.
func (d *Daemon) announce() error {
	if err := writeFile(filepath.Join(d.core.Path(), api.FileName), d.api.URL()+"\n"); err != nil {
		return err
	}
	if d.gw != nil {
		if err := writeFile(filepath.Join(d.core.Path(), core.GatewayFile), d.gw.URL()+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func (d *Daemon) unannounce() {
	for _, f := range []string{api.FileName, core.GatewayFile} {
		if err := os.Remove(filepath.Join(d.core.Path(), f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			d.log.Warn("remove announcement file", "file", f, "err", err)
		}
	}
}

func writeFile(p, s string) error {
	if err := repo.WriteFileAtomic(p, []byte(s), 0o600); err != nil {
		return fmt.Errorf("daemon: write %s: %w", p, err)
	}
	return nil
}

// nameRecords is the name system as the gateway's /routing/v1/ipns/ uses
// it: every record put is checked and kept by names.System.PutRecord.
type nameRecords struct{ names *names.System }

func (r nameRecords) GetRecord(ctx context.Context, name ipns.Name) ([]byte, error) {
	return r.names.ValueStore().GetValue(ctx, string(name.RoutingKey()))
}

func (r nameRecords) PutRecord(ctx context.Context, name ipns.Name, record []byte) error {
	_, err := r.names.PutPeerRecord(ctx, name.String(), record)
	if errors.As(err, new(*names.RecordError)) {
		return fmt.Errorf("%w: %w", gateway.ErrRecordRefused, err)
	}
	return err
}

// Close stops every part and closes the Core; safe to call more than once.
func (d *Daemon) Close() error {
	d.closeOnce.Do(func() {
		var errs []error
		if d.site != nil {
			d.site.close()
		}
		if d.gw != nil {
			errs = append(errs, d.gw.Close())
		}
		if d.api != nil {
			errs = append(errs, d.api.Close())
		}
		if d.pinSrv != nil {
			errs = append(errs, d.pinSrv.Close())
		}
		if d.pins != nil {
			errs = append(errs, d.pins.Close())
		}
		if d.core != nil {
			errs = append(errs, d.core.Close())
		}
		d.closeErr = errors.Join(errs...)
	})
	return d.closeErr
}
