// Package core is island's application layer: API, one method per use case
// (add, publish, follow, …), and *Core, its in-process implementation over
// an open repo, the name system, the site history, the follow store and,
// unless offline, the node.
//
// Every rule that spans those parts lives here, once: content that is kept
// is held in the repo by someone (the user, a site, a follow, a pinning
// request) and then announced when a node runs (hold); a path resolves
// through names and UnixFS the same way for every operation (resolve); an
// error gets its Code and its operation's prefix at the method's boundary
// (fail). The command line and the daemon's HTTP API only translate.
//
// A Core is one of two kinds: a command's, opened for one command when no
// daemon runs (offline), or a daemon's, open for the daemon's life with the
// node, the follower and the republisher (Config.Daemon).
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	offlinert "github.com/ipfs/boxo/routing/offline"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/islandsite/island/internal/follow"
	"github.com/islandsite/island/internal/history"
	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/namesps"
	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/repo"
)

// Config says how to open a Core.
type Config struct {
	// RepoPath is the repo directory; Open opens (creating it on first use)
	// and locks it, Close closes it.
	RepoPath string
	// Mode says whether a node runs and on which network. A node's
	// Identity, Datastore, Blockstore, Stage and ProvideRoots come from the
	// repo; the rest from Node.
	Mode Mode
	Node node.Config
	// Names configures the name system; Routing and Datastore are filled in.
	// Its DNSLinkOverrides apply to every request (the process's
	// IPFS_NS_MAP); requests may add their own (Lookup).
	Names names.Config
	// StorageMax, if not 0, is the repo's quota for this Core's life
	// (--storage-max) instead of config.json's storageMax.
	StorageMax uint64
	// MaxFollows bounds how many names may be followed.
	MaxFollows int
	// Daemon says the Core lives as long as a daemon that runs its follower
	// and republisher: it words what it tells people accordingly.
	Daemon bool
	// Gateway reports the local gateway's base URL and whether it serves
	// now. Nil: the URL the last daemon wrote in $REPO/gateway, not serving.
	Gateway func() (url string, running bool)
	// NamePubSub, with a node, sends every record published to the name's
	// IPNS pubsub topic and listens on the topics of followed names (as
	// Kubo's --enable-namesys-pubsub does), so followers fetch a new
	// version at once (package namesps).
	NamePubSub bool
	// Registerer receives the node's metrics; nil disables them.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// DefaultConfig is an offline Core of a command.
func DefaultConfig() Config {
	return Config{Mode: ModeOffline, Node: node.DefaultConfig(), Names: names.DefaultConfig(), MaxFollows: 1024, NamePubSub: true}
}

// GatewayFile is where a daemon writes its gateway's base URL (docs/interface.md).
const GatewayFile = "gateway"

// DefaultGatewayURL is where `island daemon` serves the gateway unless told
// otherwise.
const DefaultGatewayURL = "http://127.0.0.1:8080"

// Core is API in this process.
type Core struct {
	cfg     Config
	log     *slog.Logger
	repo    *repo.Repo
	node    *node.Node // nil offline
	names   *names.System
	history *history.Store
	follows *follow.Store
	push    *namesps.Service // nil offline or without Config.NamePubSub
	remotes remoteServices

	// sites keeps, per site name, the importer's cache between publishes
	// of a long-lived Core, so a republish reads only changed files.
	sitesMu sync.Mutex
	sites   map[string]*importer.Cache
	// provided is, per site name, the last version this Core's node was
	// given to provide whole: the next version provides only what its
	// import did not take unchanged from it.
	provided map[string]cid.Cid

	// republish wakes a running republisher; republishing says one runs.
	republish    chan struct{}
	republishing atomic.Bool
	// following says a follower runs (RunFollower); followEvery is its
	// interval.
	following   atomic.Bool
	followEvery atomic.Int64
	// samples are RunSampler's, for NodeStats.
	samples samples

	closeOnce sync.Once
	// streams are the CAR streams still writing (dag export, history
	// export): Close ends them and waits before the repo closes, since a
	// reader may stop reading without closing.
	streamsMu sync.Mutex // orders a stream's start with Close
	streams   sync.WaitGroup
	closed    context.Context // done once Close begins
	closeAll  context.CancelFunc
	closeErr  error
}

var _ API = (*Core)(nil)

// Open opens the repo and builds a Core on it. If another process holds
// the repo, the error wraps *repo.LockedError.
func Open(ctx context.Context, cfg Config) (_ *Core, err error) {
	def := DefaultConfig()
	if cfg.Mode == "" {
		cfg.Mode = ModeOffline
	}
	if cfg.MaxFollows <= 0 {
		cfg.MaxFollows = def.MaxFollows
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	c := &Core{cfg: cfg, log: log.With("system", "core"), sites: map[string]*importer.Cache{}, provided: map[string]cid.Cid{}, republish: make(chan struct{}, 1)}
	c.closed, c.closeAll = context.WithCancel(context.Background())
	// ready is closed once Open is done: the node asks the repo for the
	// roots to announce from its own goroutine as soon as it starts, and
	// the history that registers some of them comes after the node.
	ready := make(chan struct{})
	defer func() {
		close(ready)
		if err != nil {
			c.Close()
		}
	}()
	rc := repo.DefaultConfig()
	rc.Path = cfg.RepoPath
	rc.StorageMax = cfg.StorageMax
	rc.Logger = log
	if c.repo, err = repo.Open(ctx, rc); err != nil {
		return nil, err
	}
	c.remotes.dir = c.repo.Path()
	// Every published version survives gc (and stays announced), also
	// versions published before each was held by its site.
	c.repo.RegisterRoots("site history", func(ctx context.Context) ([]cid.Cid, error) {
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if c.history == nil {
			return nil, errors.New("core: closed")
		}
		return c.history.Roots(ctx)
	})

	var rt routing.ValueStore
	if cfg.Mode != ModeOffline {
		nc := cfg.Node
		nc.Identity = c.repo.Identity()
		nc.Datastore = c.repo.Datastore()
		nc.Blockstore = c.repo.Blockstore()
		nc.ReadBlock = c.repo.ReadBlock
		nc.Stage = func(ctx context.Context) (node.Stage, error) {
			st, err := c.repo.BeginStage(ctx)
			if err != nil {
				return nil, err
			}
			return st, nil
		}
		nc.LoopbackOnLAN = nc.LoopbackOnLAN || cfg.Mode == ModeLAN
		// One root set: what gc keeps is what the node announces.
		nc.ProvideRoots = c.repo.ProvideRoots
		nc.Registerer = cfg.Registerer
		if nc.Logger == nil {
			nc.Logger = log
		}
		if c.node, err = node.New(ctx, nc); err != nil {
			return nil, fmt.Errorf("core: %w", err)
		}
		rt = c.node.Routing()
	} else {
		// Records are kept in the repo: `name publish` works offline, names
		// resolve from there (the gateway's too), and the daemon puts them
		// out when it next runs online.
		rt = offlinert.NewOfflineRouter(c.repo.Datastore(), record.NamespacedValidator{
			"ipns": ipns.Validator{},
			"pk":   record.PublicKeyValidator{},
		})
	}
	nc := cfg.Names
	nc.Routing = rt
	nc.Datastore = c.repo.Datastore()
	nc.Room = c.repo.Room
	if c.node != nil && cfg.NamePubSub {
		// c.push is set below, before Open returns and anything publishes.
		nc.Push = func(ctx context.Context, rec names.Record) error { return c.push.Publish(ctx, rec) }
	}
	if nc.Logger == nil {
		nc.Logger = log
	}
	// A command's Core ends with the command: a record held locally does
	// not answer for the network, whose lookup would be cut off unseen.
	nc.AnswerHeld = nc.AnswerHeld && cfg.Daemon && c.node != nil
	if c.names, err = names.New(ctx, nc); err != nil {
		return nil, fmt.Errorf("core: %w", err)
	}
	if c.history, err = history.New(history.Config{Datastore: c.repo.Datastore(), Names: c.names, Logger: log}); err != nil {
		return nil, fmt.Errorf("core: %w", err)
	}
	if c.follows, err = follow.New(ctx, follow.Config{Datastore: c.repo.Datastore(), Names: c.names, MaxFollows: cfg.MaxFollows, Logger: log}); err != nil {
		return nil, fmt.Errorf("core: %w", err)
	}
	if c.node != nil && cfg.NamePubSub {
		c.push, err = namesps.New(namesps.Config{Host: c.node.Host(), Routing: c.node.Routing(), Names: c.names, Logger: log,
			OnRecord: func(rec names.Record) { c.follows.Pushed(rec.Name.String()) }})
		if err != nil {
			return nil, fmt.Errorf("core: %w", err)
		}
	}
	if err := c.migrateHolders(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Close stops the follower, the node and the name system, then closes the
// repo. It is idempotent.
func (c *Core) Close() error {
	c.closeOnce.Do(func() {
		c.streamsMu.Lock()
		c.closeAll()
		c.streamsMu.Unlock()
		c.streams.Wait()
		var errs []error
		if c.follows != nil {
			errs = append(errs, c.follows.Close())
		}
		if c.push != nil {
			errs = append(errs, c.push.Close())
		}
		if c.names != nil {
			errs = append(errs, c.names.Close())
		}
		if c.node != nil {
			errs = append(errs, c.node.Close())
		}
		if c.repo != nil {
			errs = append(errs, c.repo.Close())
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// Mode is how the Core reaches the network.
func (c *Core) Mode() Mode { return c.cfg.Mode }

// Path is the repo directory.
func (c *Core) Path() string { return c.repo.Path() }

// BlockService reads from the repo and, with a node, from peers.
func (c *Core) BlockService() blockservice.BlockService {
	if c.node != nil {
		return c.node.BlockService()
	}
	return c.repo.BlockService()
}

// Blockstore is the repo's block store (within its quota).
func (c *Core) Blockstore() blockstore.Blockstore { return c.repo.Blockstore() }

// Room says whether the repo has room for n more bytes (a *repo.FullError
// if not).
func (c *Core) Room(ctx context.Context, n int) error { return c.repo.Room(ctx, n) }

// LocalBlockService reads from the repo only, never from peers.
func (c *Core) LocalBlockService() blockservice.BlockService { return c.repo.BlockService() }

func (c *Core) dag() ipld.DAGService {
	if c.node != nil {
		return c.node.DAG()
	}
	return c.repo.DAG()
}

// Node is the running node (nil offline), for the daemon's parts and for
// tests and diagnostics that need libp2p itself.
func (c *Core) Node() *node.Node { return c.node }

// Names is the name system, for the gateway's /ipns/ and ipns-record answers.
func (c *Core) Names() *names.System { return c.names }

// hold records h's hold on root (whose DAG is in the repo) and, with a
// node, announces root: every way content comes to be kept goes through
// here, so what is kept is what is announced.
func (c *Core) hold(ctx context.Context, root cid.Cid, h repo.Holder, mode repo.PinMode) error {
	if err := c.repo.Pin(ctx, root, h, mode); err != nil {
		return err
	}
	return c.announce(ctx, root)
}

// announce provides roots when a node runs; offline the node's next start
// announces every root of the repo anyway.
func (c *Core) announce(ctx context.Context, roots ...cid.Cid) error {
	if c.node == nil {
		return nil
	}
	if err := c.node.Provide(ctx, roots...); err != nil {
		return fmt.Errorf("provide: %w", err)
	}
	return nil
}

// parsePath reads a content path as people type it.
func parsePath(s string) (path.Path, error) {
	p, err := repo.ParsePath(s)
	if err != nil {
		return nil, &Error{Code: CodeInvalid, Message: err.Error(), Err: err}
	}
	return p, nil
}

// resolve turns a content path into the CID it names: /ipns/ names through
// the name system (with the request's DNSLink overrides), then UnixFS
// directories with blocks from the repo or, online, from peers.
func (c *Core) resolve(ctx context.Context, s string, l Lookup) (cid.Cid, error) {
	p, err := parsePath(s)
	if err != nil {
		return cid.Undef, err
	}
	ip, err := c.immutable(ctx, p, l)
	if err != nil {
		return cid.Undef, err
	}
	return repo.Resolve(ctx, c.BlockService(), ip)
}

// immutable resolves the /ipns/ part of p, if any.
func (c *Core) immutable(ctx context.Context, p path.Path, l Lookup) (path.ImmutablePath, error) {
	if ip, err := path.NewImmutablePath(p); err == nil {
		return ip, nil
	}
	res, err := c.names.Resolve(names.WithNSMap(ctx, l.NSMap), p.String())
	if err != nil {
		return path.ImmutablePath{}, err
	}
	ip, err := path.NewImmutablePath(res.Path)
	if err != nil {
		return path.ImmutablePath{}, fmt.Errorf("%s resolved to %s, which is not an /ipfs/ path: %w", p, res.Path, err)
	}
	return ip, nil
}

// fail gives the error of operation op its Code and the op's prefix, once,
// at the boundary of an API method: `defer c.fail(&err, "pin add")`.
func (c *Core) fail(err *error, op string) {
	if *err == nil {
		return
	}
	e := *err
	code := classify(e)
	msg := e.Error()
	if ipld.IsNotFound(e) && c.node == nil {
		// Without a node nothing is fetched from peers: say so once, here.
		msg += c.offlineHint(" (the repo does not have it: start 'island daemon' to fetch it from peers, or add it or dag import a CAR holding it)",
			" (the repo does not have it, and the daemon runs --offline)")
	}
	if errors.Is(e, names.ErrDNSDisabled) {
		msg += c.offlineHint(" (no daemon runs, and a command on its own asks no DNS server: start 'island daemon' to look it up)",
			" (the daemon runs with --dns-resolver none)")
	}
	*err = &Error{Code: code, Message: op + ": " + msg, Err: e}
}

// offlineHint picks what to tell a person about the missing node: a
// command's Core has none because no daemon runs, a daemon's because it
// runs --offline.
func (c *Core) offlineHint(command, daemon string) string {
	if c.cfg.Daemon {
		return daemon
	}
	return command
}

// classify is the one place that sorts the errors of island's packages
// into Codes.
func classify(err error) Code {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	switch {
	case errors.Is(err, repo.ErrRepoFull):
		// Before the record and CAR errors that may carry it.
		return CodeRepoFull
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return CodeUnavailable
	case errors.Is(err, repo.ErrBadKeyName):
		return CodeInvalid
	case ipld.IsNotFound(err),
		errors.Is(err, names.ErrNotFound),
		errors.Is(err, history.ErrNoHistory),
		errors.Is(err, repo.ErrNoSuchKey),
		errors.Is(err, repo.ErrNotPinned),
		errors.Is(err, follow.ErrNotFollowed):
		return CodeNotFound
	case errors.Is(err, repo.ErrKeyExists),
		errors.Is(err, repo.ErrPinnedRecursively),
		errors.Is(err, history.ErrHistoryConflict):
		return CodeConflict
	case errors.As(err, new(*names.RecordError)),
		errors.Is(err, history.ErrTamperedHistory),
		errors.As(err, new(*repo.CARError)),
		errors.As(err, new(*repo.MissingRootError)),
		errors.Is(err, follow.ErrTooManyFollows):
		return CodeRefused
	case errors.Is(err, names.ErrDNSDisabled),
		errors.As(err, new(*net.DNSError)),
		errors.Is(err, node.ErrNoProviders),
		errors.Is(err, node.ErrRelayOnly):
		return CodeUnavailable
	}
	return CodeInternal
}

// gatewayURL is the local gateway's base URL and whether it serves now.
func (c *Core) gatewayURL() (string, bool) {
	if c.cfg.Gateway != nil {
		if u, running := c.cfg.Gateway(); u != "" {
			return u, running
		}
		return DefaultGatewayURL, false
	}
	if b, err := os.ReadFile(filepath.Join(c.repo.Path(), GatewayFile)); err == nil {
		if u := strings.TrimSpace(string(b)); strings.HasPrefix(u, "http://") {
			return u, false
		}
	}
	return DefaultGatewayURL, false
}

// needNode is the error of an operation that only a running node can do.
func (c *Core) needNode(op string) error {
	if c.cfg.Daemon {
		return Errorf(CodeUnavailable, "%s: the daemon runs --offline: it joins no network", op)
	}
	return Errorf(CodeUnavailable, "%s: this needs the running node: start 'island daemon' (or 'island serve') first", op)
}
