package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing/fstest"
	"time"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/islandsite/island/internal/follow"
	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/namesps"
	"github.com/islandsite/island/internal/node"
)

// homePage is the file a visit fetches.
const homePage = "index.html"

// Island is one island node in the simulation: island's node, names and
// follow packages on a mocknet host, with in-memory stores.
type Island struct {
	net     *Network
	b       Behaviour
	Key     crypto.PrivKey
	Node    *node.Node
	Names   *names.System
	Follows *follow.Store
	// Push is IPNS over pubsub, with a behaviour that pushes.
	Push *namesps.Service

	bs        blockstore.Blockstore
	stop      context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// AddIsland starts an island node behaving as b, DHT server or client,
// and waits until its bootstrap has filled its routing table.
func (n *Network) AddIsland(ctx context.Context, b Behaviour, server bool) (*Island, error) {
	return n.addIsland(ctx, b, server, false)
}

// addWarmVisitor starts an island DHT client whose routing table is filled
// at once as a long-running node's is (wireClient), with no bootstrap
// lookups: a visit through a node or gateway that was already running.
// The cold-visit scenario measures a fresh node's bootstrap; the
// author-away scenario measures whether a site can be found, and with
// fresh nodes most of its CPU went to their bootstraps, which made the
// churn asked for fall behind at N = 1,000.
func (n *Network) addWarmVisitor(ctx context.Context, b Behaviour) (*Island, error) {
	return n.addIsland(ctx, b, false, true)
}

func (n *Network) addIsland(ctx context.Context, b Behaviour, server, warm bool) (*Island, error) {
	h, key, err := n.newPeer()
	if err != nil {
		return nil, err
	}
	n.setUp(h.ID())
	ds := dssync.MutexWrap(datastore.NewMapDatastore())
	bs := blockstore.NewBlockstore(ds)
	ndc := n.nodeConfig(h, key, ds, bs, server)
	ndc.KeptRoutingTable = warm
	nd, err := node.New(ctx, ndc)
	if err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("sim: island node: %w", err)
	}
	i := &Island{net: n, b: b, Key: key, Node: nd, bs: bs}
	nc := names.DefaultConfig()
	nc.Routing = nd.Routing()
	nc.Datastore = ds
	nc.RecordCount = b.RecordCount
	nc.RecordLifetime = b.Lifetime
	nc.AnswerHeld = b.AnswerHeld
	nc.Logger = n.log
	if b.Push {
		nc.Push = func(ctx context.Context, rec names.Record) error { return i.Push.Publish(ctx, rec) }
	}
	if i.Names, err = names.New(ctx, nc); err != nil {
		return nil, errors.Join(err, nd.Close())
	}
	if i.Follows, err = follow.New(ctx, follow.Config{Datastore: ds, Names: i.Names, Logger: n.log}); err != nil {
		return nil, errors.Join(err, nd.Close())
	}
	if b.Push {
		i.Push, err = namesps.New(namesps.Config{Host: h, Routing: nd.Routing(), Names: i.Names, Logger: n.log,
			OnRecord: func(rec names.Record) { i.Follows.Pushed(rec.Name.String()) }})
		if err != nil {
			return nil, errors.Join(err, i.Follows.Close(), nd.Close())
		}
	}
	n.mu.Lock()
	n.islands[nd.ID()] = i
	n.mu.Unlock()
	if warm {
		n.wireClient(i)
		return i, nil
	}
	if err := i.awaitRouting(ctx); err != nil {
		return nil, errors.Join(err, n.dropIsland(i))
	}
	return i, nil
}

// routingWait bounds how long a new island node waits for its routing table.
const routingWait = 30 * time.Second

// awaitRouting waits for the node's bootstrap to fill its WAN routing
// table with half a bucket's worth of peers (fewer under churn, when some
// it learnt of are gone before it dials them).
func (i *Island) awaitRouting(ctx context.Context) error {
	i.net.mu.Lock()
	want := min(10, len(i.net.servers))
	i.net.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, routingWait)
	defer cancel()
	refresh := time.NewTicker(time.Second)
	defer refresh.Stop()
	for i.Node.DHT().WAN.RoutingTable().Size() < want {
		select {
		case <-refresh.C:
			// Under churn the bootstrap peers and those the first refresh
			// found may be gone: dial live ones, as a node would dial the
			// (long-lived) Amino bootstrappers again, and refresh.
			for _, pi := range i.net.bootstrapFor(i.Node.ID()) {
				_ = i.Node.Host().Connect(ctx, pi)
			}
			i.Node.DHT().WAN.RefreshRoutingTable()
		case <-ctx.Done():
			// Under heavy churn a table may not fill; a few peers still
			// route, none does not.
			if size := i.Node.DHT().WAN.RoutingTable().Size(); size == 0 {
				return fmt.Errorf("sim: island %s has no DHT peers after %s", i.Node.ID(), routingWait)
			}
			return nil
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// Close stops the island node; its stores go with it.
func (i *Island) Close() error {
	i.closeOnce.Do(func() {
		if i.stop != nil {
			i.stop()
		}
		errs := []error{i.Follows.Close()}
		i.wg.Wait()
		if i.Push != nil {
			errs = append(errs, i.Push.Close())
		}
		errs = append(errs, i.Names.Close())
		errs = append(errs, i.Node.Close())
		i.closeErr = errors.Join(errs...)
	})
	return i.closeErr
}

// dropIsland closes i and takes it off the network (an author going away,
// a visitor leaving).
func (n *Network) dropIsland(i *Island) error {
	n.mu.Lock()
	delete(n.islands, i.Node.ID())
	n.mu.Unlock()
	return n.remove(i.Node.ID(), i.Close)
}

// Name is the island's IPNS name.
func (i *Island) Name() ipns.Name {
	id, _ := peer.IDFromPrivateKey(i.Key) // an Ed25519 key always has an ID
	return ipns.NameFromPeer(id)
}

// AddSite imports a site of pages pages (the home page and others, about
// pageBytes each, drawn from seed) and provides it.
func (i *Island) AddSite(ctx context.Context, seed uint64, pages, pageBytes int) (cid.Cid, error) {
	r := rand.New(rand.NewPCG(seed, 0x517e))
	fsys := fstest.MapFS{}
	for p := range pages {
		name := homePage
		if p > 0 {
			name = fmt.Sprintf("page-%d.html", p)
		}
		data := make([]byte, pageBytes)
		for j := range data {
			data[j] = byte('a' + r.IntN(26))
		}
		fsys[name] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	res, err := importer.AddFS(ctx, i.Node.DAG(), fsys, ".", importer.Options{})
	if err != nil {
		return cid.Undef, fmt.Errorf("sim: import site: %w", err)
	}
	if err := i.Node.Provide(ctx, res.Root); err != nil {
		return cid.Undef, fmt.Errorf("sim: provide site: %w", err)
	}
	return res.Root, nil
}

// Publish points the island's name at root.
func (i *Island) Publish(ctx context.Context, root cid.Cid) (names.Record, error) {
	return i.Names.Publish(ctx, i.Key, path.FromCid(root), names.WithLifetime(i.net.cfg.scaled(i.b.Lifetime)))
}

// Follow makes the island follow name and starts its follower, with
// intervals scaled: it fetches, provides and re-puts what it follows.
func (i *Island) Follow(ctx context.Context, name ipns.Name) error {
	if _, err := i.Follows.Follow(ctx, name.String(), 0); err != nil {
		return err
	}
	if i.Push != nil {
		if err := i.Push.Subscribe(name); err != nil {
			return err
		}
	}
	if i.stop != nil {
		return nil
	}
	def := follow.DefaultRunConfig()
	rc := def
	rc.RepublishInterval = i.net.cfg.scaled(def.RepublishInterval)
	// Checks at least twice per republish period, so re-puts keep to it.
	rc.Interval = max(min(i.net.cfg.scaled(def.Interval), rc.RepublishInterval/2), followMinInterval)
	rc.FetchTimeout = 20 * time.Second
	rc.Fetch = func(ctx context.Context, _ string, c cid.Cid, _ uint64) error { return i.Node.Fetch(ctx, c, nil) }
	// The stores are in memory and never collected: nothing to unpin.
	rc.Unpin = func(context.Context, string, cid.Cid) error { return nil }
	rc.Provide = func(ctx context.Context, c cid.Cid) error { return i.Node.Provide(ctx, c) }
	rc.Reannounce = func(ctx context.Context, c cid.Cid) error { return i.Node.Reannounce(ctx, c) }
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	i.stop = stop
	i.wg.Go(func() {
		if err := i.Follows.Run(rctx, rc); err != nil {
			i.net.log.Warn("follower stopped", "err", err)
		}
	})
	return nil
}

// followMinInterval keeps a scaled follower from checking much more often
// than a DHT lookup takes.
const followMinInterval = 500 * time.Millisecond

// Holds reports whether the island holds a record of name with sequence
// seq or later and the blocks of root.
func (i *Island) Holds(ctx context.Context, name ipns.Name, seq uint64, root cid.Cid) (bool, error) {
	rec, err := i.Names.Held(ctx, name)
	if err != nil || rec.Seq < seq {
		return false, nil
	}
	return i.bs.Has(ctx, root)
}

// Visit is a visitor's view of one visit.
type Visit struct {
	Seq     uint64
	Resolve time.Duration // name to CID
	Total   time.Duration // and the home page fetched
}

// Visit resolves name and fetches its home page.
func (i *Island) Visit(ctx context.Context, name ipns.Name) (Visit, error) {
	start := time.Now()
	res, err := i.Names.Resolve(ctx, name.String())
	if err != nil {
		return Visit{}, err
	}
	v := Visit{Seq: res.Seq, Resolve: time.Since(start)}
	ip, err := path.NewImmutablePath(res.Path)
	if err != nil {
		return v, err
	}
	root, err := i.Node.DAG().Get(ctx, ip.RootCid())
	if err != nil {
		return v, fmt.Errorf("sim: fetch site root: %w", err)
	}
	pn, ok := root.(*merkledag.ProtoNode)
	if !ok {
		return v, fmt.Errorf("sim: site root %s is not a directory", ip.RootCid())
	}
	l, err := pn.GetNodeLink(homePage)
	if err != nil {
		return v, fmt.Errorf("sim: site root: %w", err)
	}
	if err := i.Node.Fetch(ctx, l.Cid, nil); err != nil {
		return v, fmt.Errorf("sim: fetch home page: %w", err)
	}
	v.Total = time.Since(start)
	return v, nil
}

// Resolve is only the name lookup, fresh (a visitor that holds no record).
func (i *Island) Resolve(ctx context.Context, name ipns.Name) (uint64, error) {
	res, err := i.Names.ResolveFresh(ctx, name.String())
	return res.Seq, err
}
