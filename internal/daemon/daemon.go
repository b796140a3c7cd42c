// Package daemon owns a running island node: the Core (repo, node, names),
// the gateway, the local API, the pinning service, the follower and the
// republisher, all started by New and owned by one errgroup in Run. It also
// writes $REPO/api and $REPO/gateway once everything answers and removes them
// when it stops, so commands and scripts find it (INTERFACE.md).
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/islandsite/island/internal/api"
	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/follow"
	"github.com/islandsite/island/internal/gateway"
	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/pinsvc"
	"github.com/islandsite/island/internal/repo"
)

// Files the daemon writes in the repo once it is ready.
const (
	GatewayFile = "gateway"
	TokenFile   = "pinning-token"
	// PinningPrefix is where the Pinning Service API answers on the API listener.
	PinningPrefix = "/pinning/v1"
)

// Config configures a daemon.
type Config struct {
	// Core.Online is ignored: a daemon always runs a node (Node.Offline
	// keeps it off the network).
	Core core.Config
	// Ready, if set, is called once the daemon answers and $REPO/api (and
	// $REPO/gateway) say where: whoever waits for it may use them at once.
	Ready func()
	// Gateway runs no gateway when its ListenAddr is empty.
	Gateway gateway.Config
	API     api.Config
	// PinningAddr, if set, serves the Pinning Service API (and nothing
	// else) on a listener of its own, so friends on other machines can
	// `pin remote add` to this node; the bearer token guards it. The local
	// API, which controls the repo, stays on loopback whatever this says.
	PinningAddr string
	// Follow configures the follower; Fetch, Unpin and Provide are filled in.
	Follow follow.RunConfig
	// RepublishInterval is how often our own names' records are re-put
	// (and re-signed when half their lifetime has passed).
	RepublishInterval time.Duration
	// RepublishRetry is how soon a republish round in which a put failed is
	// tried again (doubling on each failure, up to RepublishInterval).
	RepublishRetry time.Duration
	// StyleSheet is the site theme's CSS for the status page.
	StyleSheet []byte
	Logger     *slog.Logger
}

// DefaultConfig is a daemon on the public network with the gateway and API
// on their default loopback ports.
func DefaultConfig() Config {
	return Config{
		Core:              core.DefaultConfig(),
		Gateway:           gateway.DefaultConfig(),
		API:               api.DefaultConfig(),
		Follow:            follow.DefaultRunConfig(),
		RepublishInterval: 4 * time.Hour,
		RepublishRetry:    time.Minute,
	}
}

// Daemon is a running node with its servers.
type Daemon struct {
	cfg  Config
	repo *repo.Repo
	core *core.Core
	gw   *gateway.Gateway
	api  *api.Server
	pins *pinsvc.Server
	// pinSrv is the pinning service's own listener (Config.PinningAddr).
	pinSrv *pinningServer
	reg    *prometheus.Registry
	log    *slog.Logger
	// republish wakes the republisher (RepublishSoon); capacity 1 so that
	// wake-ups coalesce and senders never block.
	republish chan struct{}
	// services are run by Run next to the daemon's own parts (Go).
	services []func(context.Context) error

	closeOnce sync.Once
	closeErr  error
}

// New starts every part on r, which must stay open until Close. Nothing is
// announced (files in the repo) until Run.
func New(ctx context.Context, r *repo.Repo, cfg Config) (_ *Daemon, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	d := &Daemon{cfg: cfg, repo: r, reg: prometheus.NewRegistry(), log: log.With("system", "daemon"), republish: make(chan struct{}, 1)}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	cc := cfg.Core
	// The daemon is the node: what it runs (bitswap for the gateway,
	// providing, the follower) needs one, even --offline.
	cc.Online = true
	cc.Node.Registerer = d.reg
	if cc.Logger == nil {
		cc.Logger = log
	}
	if d.core, err = core.Open(ctx, r, cc); err != nil {
		return nil, err
	}

	token, err := pinsvc.LoadOrCreateToken(filepath.Join(r.Path(), TokenFile))
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if d.pins, err = pinsvc.New(ctx, pinsvc.Config{
		Token:     token,
		Datastore: r.Datastore(),
		Pin:       d.fetchAndPin,
		Unpin:     d.unpinRequest,
		Delegates: d.delegates,
		Logger:    log,
	}); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}

	ac := cfg.API
	ac.Gatherer = d.reg
	pinning := http.StripPrefix(PinningPrefix, d.pins)
	ac.Mounts = map[string]http.Handler{PinningPrefix + "/": pinning}
	if cfg.PinningAddr != "" {
		mux := http.NewServeMux()
		mux.Handle(PinningPrefix+"/", pinning)
		if d.pinSrv, err = newPinningServer(ctx, cfg.PinningAddr, mux, log); err != nil {
			return nil, err
		}
	}
	if ac.Logger == nil {
		ac.Logger = log
	}
	if d.api, err = api.New(ctx, ac); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}

	if cfg.Gateway.ListenAddr != "" {
		gc := cfg.Gateway
		gc.BlockService = d.core.BlockService()
		gc.NameSystem = d.core.Names.NameSystem()
		// Records for ?format=ipns-record come from where /ipns/ resolves
		// them, which under --offline is the repo, not the node's routing.
		gc.Routing = d.core.Names.ValueStore()
		gc.Status = d.Status
		gc.StyleSheet = cfg.StyleSheet
		gc.Registerer = d.reg
		if gc.Logger == nil {
			gc.Logger = log
		}
		if d.gw, err = gateway.New(ctx, gc); err != nil {
			return nil, fmt.Errorf("daemon: %w", err)
		}
	}
	return d, nil
}

// Core is the daemon's repo, node and names, for commands run through the API.
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

// Go adds f to what Run runs, with Run's context: f must return once that
// context ends, and Run waits for it before closing the Core, so f may use
// the Core until then. An error from f stops the daemon. Call Go before Run.
func (d *Daemon) Go(f func(ctx context.Context) error) {
	d.services = append(d.services, f)
}

// Run serves until ctx ends, then stops everything. The repo files that
// announce the daemon exist exactly while it answers.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.api.Run(ctx) })
	if d.pinSrv != nil {
		g.Go(func() error { return d.pinSrv.run(ctx) })
	}
	fc := d.cfg.Follow
	fc.Fetch = d.fetchFollowed
	fc.Unpin = d.unpinFollowed
	fc.Provide = func(ctx context.Context, c cid.Cid) error { return d.core.Node.Provide(ctx, c) }
	g.Go(func() error { return d.core.Follows.Run(ctx, fc) })
	if d.core.Node.DHT() != nil {
		// An --offline node has no routing to put records to.
		g.Go(func() error { return d.republishLoop(ctx) })
	}
	for _, f := range d.services {
		g.Go(func() error { return f(ctx) })
	}
	aerr := d.announce()
	if aerr == nil {
		if d.cfg.Ready != nil {
			d.cfg.Ready()
		}
		<-ctx.Done()
		d.log.Info("stopping")
	}
	// Whatever announce wrote goes first, whether it failed half-way or the
	// daemon is stopping: a client must not find a daemon that will not answer.
	d.unannounce()
	cancel()
	if d.gw != nil {
		d.gw.Close()
	}
	err := g.Wait()
	return errors.Join(aerr, err, d.Close())
}

// announce writes $REPO/api and $REPO/gateway.
func (d *Daemon) announce() error {
	if err := writeFile(filepath.Join(d.repo.Path(), api.FileName), d.api.URL()+"\n"); err != nil {
		return err
	}
	if d.gw != nil {
		if err := writeFile(filepath.Join(d.repo.Path(), GatewayFile), d.gw.URL()+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func (d *Daemon) unannounce() {
	for _, f := range []string{api.FileName, GatewayFile} {
		if err := os.Remove(filepath.Join(d.repo.Path(), f)); err != nil && !errors.Is(err, os.ErrNotExist) {
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

// followPinName names the pins the follower makes. A CID has one recursive
// pin whoever asked for it, so the follower removes only pins of this name.
const followPinName = "follow"

// fetchFollowed brings a followed version's whole DAG into the repo and pins
// it before gc may run again: the follower records the version as kept only
// after providing it and re-putting the author's record, which takes a while.
// Pins do not record who holds them yet, so the followed name is not kept.
func (d *Daemon) fetchFollowed(ctx context.Context, _ string, c cid.Cid) error {
	unlock := d.repo.PinLock(ctx)
	defer unlock.Unlock(ctx)
	if err := d.core.Node.Fetch(ctx, c, nil); err != nil {
		return err
	}
	if _, ok, err := d.recursivePin(ctx, c); err != nil || ok {
		// Pinned already (`pin add`, a publish, the pinning service): taking
		// that pin over would let the follower drop it later.
		return err
	}
	return d.repo.PinRecursive(ctx, c, followPinName)
}

// unpinFollowed releases a version the follower pinned, leaving any pin
// someone else made on the same CID.
func (d *Daemon) unpinFollowed(ctx context.Context, _ string, c cid.Cid) error {
	name, ok, err := d.recursivePin(ctx, c)
	if err != nil || !ok || name != followPinName {
		return err
	}
	return d.unpinCID(ctx, c)
}

// recursivePin reports whether c is pinned recursively, and the pin's name.
func (d *Daemon) recursivePin(ctx context.Context, c cid.Cid) (name string, ok bool, err error) {
	ps, err := d.repo.Pinner().CheckIfPinnedWithType(ctx, pin.Recursive, true, c)
	if err != nil {
		return "", false, fmt.Errorf("daemon: check pin of %s: %w", c, err)
	}
	for _, p := range ps {
		if p.Key.Equals(c) && p.Mode == pin.Recursive {
			return p.Name, true, nil
		}
	}
	return "", false, nil
}

// fetchAndPin serves the pinning service: fetch (origins first) and pin.
// Pins do not record who holds them yet, so the request is not kept.
func (d *Daemon) fetchAndPin(ctx context.Context, _ string, c cid.Cid, origins []multiaddr.Multiaddr) error {
	unlock := d.repo.PinLock(ctx)
	defer unlock.Unlock(ctx)
	// The request's origins have the data: the fetch need not wait for the DHT.
	d.core.Node.ConnectAll(ctx, origins)
	if err := d.core.Node.Fetch(ctx, c, nil); err != nil {
		return err
	}
	if err := d.repo.PinRecursive(ctx, c, "pinning service"); err != nil {
		return err
	}
	return d.core.Node.Provide(ctx, c)
}

// unpinRequest drops a pinning service request's pin; the pinning service
// keeps pins other requests still hold.
func (d *Daemon) unpinRequest(ctx context.Context, _ string, c cid.Cid) error {
	return d.unpinCID(ctx, c)
}

func (d *Daemon) delegates() []string {
	var out []string
	for _, a := range d.core.Node.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// RepublishSoon asks the republisher for a round now, e.g. after a publish
// whose put to the DHT failed; a failed round is retried after
// RepublishRetry. It never blocks.
func (d *Daemon) RepublishSoon() {
	select {
	case d.republish <- struct{}{}:
	default:
	}
}

// republishLoop keeps our own names resolvable: every own key for which
// the repo holds a record (from `island publish`, or `name publish` with or
// without a daemon) is re-put at start, every RepublishInterval and when
// RepublishSoon asks. After a round in which a put failed (typically the
// first, before the DHT has peers) the next comes after RepublishRetry,
// doubling up to the interval.
func (d *Daemon) republishLoop(ctx context.Context) error {
	def := DefaultConfig()
	interval := d.cfg.RepublishInterval
	if interval <= 0 {
		interval = def.RepublishInterval
	}
	retry := d.cfg.RepublishRetry
	if retry <= 0 {
		retry = def.RepublishRetry
	}
	backoff := retry
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-d.republish:
			// Since Go 1.23 Stop also drops a pending tick: no drain.
			t.Stop()
		}
		failed := false
		for _, k := range d.ownKeys() {
			_, err := d.core.Names.Republish(ctx, k)
			switch {
			case err == nil, errors.Is(err, names.ErrNotFound):
				// Not found: never published under this key.
			case ctx.Err() != nil:
				return nil
			default:
				failed = true
				d.log.Warn("republish", "name", keyName(k), "err", err, "retry", backoff)
			}
		}
		if !failed {
			backoff = retry
			t.Reset(interval)
			continue
		}
		t.Reset(min(backoff, interval))
		backoff = min(2*backoff, interval)
	}
}

func (d *Daemon) ownKeys() []crypto.PrivKey {
	keys := []crypto.PrivKey{d.repo.Identity()}
	names, err := d.repo.Keys().List()
	if err != nil {
		d.log.Warn("list keys", "err", err)
		return keys
	}
	for _, n := range names {
		if n == repo.SelfKey {
			continue
		}
		if k, err := d.repo.Keys().Get(n); err == nil {
			keys = append(keys, k)
		}
	}
	return keys
}

// Close stops every part; safe to call more than once. The repo stays open.
func (d *Daemon) Close() error {
	d.closeOnce.Do(func() {
		var errs []error
		if d.gw != nil {
			errs = append(errs, d.gw.Close())
		}
		if d.api != nil {
			errs = append(errs, d.api.Close())
		}
		if d.pinSrv != nil {
			errs = append(errs, d.pinSrv.srv.Close())
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
