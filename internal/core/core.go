// Package core owns what every repo command works with: the open repo, the
// name system, the site history, the followed names and, when the node
// runs, the node. The daemon keeps one Core
// for its whole life and runs every API command on it; a command run without
// a daemon opens an offline Core for itself. Either way commands see the same
// interface, which is how "through the daemon or not, the result is the same"
// holds by construction.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	offlinert "github.com/ipfs/boxo/routing/offline"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/routing"

	"github.com/islandsite/island/internal/follow"
	"github.com/islandsite/island/internal/history"
	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/repo"
)

// Config says how to open a Core.
type Config struct {
	// Online starts a node with Node's settings; Identity, Datastore,
	// Blockstore and ProvideRoots are taken from the repo and the Core.
	Online bool
	Node   node.Config
	// Names configures the name system; Routing and Datastore are filled in.
	Names names.Config
	// Follow configures the followed names; Datastore and Names are filled in.
	Follow follow.Config
	Logger *slog.Logger
}

// DefaultConfig is an offline Core.
func DefaultConfig() Config {
	return Config{Node: node.DefaultConfig(), Names: names.DefaultConfig(), Follow: follow.DefaultConfig()}
}

// Core is an open repo with its name system, site history and followed
// names and, online, its node.
type Core struct {
	Repo    *repo.Repo
	Node    *node.Node // nil when offline
	Names   *names.System
	History *history.Store
	Follows *follow.Store

	// ready is closed once Open has set every field: the node asks for
	// Roots from its own goroutine as soon as it starts, before the stores
	// exist.
	ready chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Open builds a Core on an open repo. The repo stays the caller's: Close
// does not close it.
func Open(ctx context.Context, r *repo.Repo, cfg Config) (_ *Core, err error) {
	c := &Core{Repo: r, ready: make(chan struct{})}
	defer func() {
		close(c.ready)
		if err != nil {
			c.Close()
		}
	}()
	var rt routing.ValueStore
	if cfg.Online {
		nc := cfg.Node
		nc.Identity = r.Identity()
		nc.Datastore = r.Datastore()
		nc.Blockstore = r.Blockstore()
		nc.Stage = func(ctx context.Context) (node.Stage, error) {
			st, err := r.BeginStage(ctx)
			if err != nil {
				return nil, err
			}
			return st, nil
		}
		nc.ProvideRoots = c.Roots
		if nc.Logger == nil {
			nc.Logger = cfg.Logger
		}
		if c.Node, err = node.New(ctx, nc); err != nil {
			return nil, fmt.Errorf("core: %w", err)
		}
	}
	if c.Networked() {
		rt = c.Node.Routing()
	} else {
		// Without a node, or with one that joins no network (daemon
		// --offline), records are kept in the repo: `name publish` works
		// offline, names resolve from there (the gateway's too) and the
		// daemon puts the records out when it next runs online.
		rt = offlinert.NewOfflineRouter(r.Datastore(), record.NamespacedValidator{
			"ipns": ipns.Validator{},
			"pk":   record.PublicKeyValidator{},
		})
	}
	nc := cfg.Names
	nc.Routing = rt
	nc.Datastore = r.Datastore()
	if nc.Logger == nil {
		nc.Logger = cfg.Logger
	}
	if c.Names, err = names.New(ctx, nc); err != nil {
		return nil, fmt.Errorf("core: %w", err)
	}
	if c.History, err = history.New(history.Config{Datastore: r.Datastore(), Names: c.Names, Logger: nc.Logger}); err != nil {
		return nil, fmt.Errorf("core: %w", err)
	}
	fc := cfg.Follow
	fc.Datastore = r.Datastore()
	fc.Names = c.Names
	if fc.Logger == nil {
		fc.Logger = cfg.Logger
	}
	if c.Follows, err = follow.New(ctx, fc); err != nil {
		return nil, fmt.Errorf("core: %w", err)
	}
	// Every published version and every followed site survives gc, with or
	// without a daemon.
	r.RegisterRoots("site history", c.History.Roots)
	r.RegisterRoots("followed sites", c.Follows.Roots)
	return c, nil
}

// Online reports whether blocks can come from peers.
func (c *Core) Online() bool { return c.Node != nil }

// Networked reports whether the node is on a network: a daemon started
// with --offline has a node that joins none.
func (c *Core) Networked() bool { return c.Node != nil && c.Node.DHT() != nil }

// BlockService reads from the repo and, online, from peers.
func (c *Core) BlockService() blockservice.BlockService {
	if c.Node != nil {
		return c.Node.BlockService()
	}
	return c.Repo.BlockService()
}

// DAG is the DAG service over BlockService.
func (c *Core) DAG() ipld.DAGService {
	if c.Node != nil {
		return c.Node.DAG()
	}
	return c.Repo.DAG()
}

// Resolve turns a content path (CID[/…], /ipfs/…, /ipns/NAME[/…]) into the
// CID it names, resolving names through the name system and walking UnixFS
// directories with blocks from BlockService.
func (c *Core) Resolve(ctx context.Context, p path.Path) (cid.Cid, error) {
	ip, err := c.Immutable(ctx, p)
	if err != nil {
		return cid.Undef, err
	}
	return repo.Resolve(ctx, c.BlockService(), ip)
}

// Immutable resolves the /ipns/ part of p, if any.
func (c *Core) Immutable(ctx context.Context, p path.Path) (path.ImmutablePath, error) {
	if ip, err := path.NewImmutablePath(p); err == nil {
		return ip, nil
	}
	res, err := c.Names.Resolve(ctx, p.String())
	if err != nil {
		return path.ImmutablePath{}, err
	}
	ip, err := path.NewImmutablePath(res.Path)
	if err != nil {
		return path.ImmutablePath{}, fmt.Errorf("core: %s resolved to %s, which is not an /ipfs/ path: %w", p, res.Path, err)
	}
	return ip, nil
}

// Roots is everything the node keeps provided and gc keeps: pins, published
// versions and followed sites.
func (c *Core) Roots(ctx context.Context) ([]cid.Cid, error) {
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var out []cid.Cid
	for sp := range c.Repo.Pinner().RecursiveKeys(ctx, false) {
		if sp.Err != nil {
			return nil, fmt.Errorf("core: list pins: %w", sp.Err)
		}
		out = append(out, sp.Pin.Key)
	}
	if c.Follows == nil {
		return out, nil
	}
	hist, err := c.History.Roots(ctx)
	if err != nil {
		return nil, err
	}
	fol, err := c.Follows.Roots(ctx)
	if err != nil {
		return nil, err
	}
	return dedupe(append(append(out, hist...), fol...)), nil
}

func dedupe(cs []cid.Cid) []cid.Cid {
	seen := make(map[cid.Cid]struct{}, len(cs))
	out := cs[:0]
	for _, c := range cs {
		if _, ok := seen[c]; !ok {
			seen[c] = struct{}{}
			out = append(out, c)
		}
	}
	return out
}

// Close stops the follower and the node; it leaves the repo open.
func (c *Core) Close() error {
	c.closeOnce.Do(func() {
		var errs []error
		if c.Follows != nil {
			errs = append(errs, c.Follows.Close())
		}
		if c.Node != nil {
			errs = append(errs, c.Node.Close())
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}
