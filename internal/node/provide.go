package node

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/namespace"
	"github.com/ipfs/go-datastore/query"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p-kad-dht/dual"
	kadprovider "github.com/libp2p/go-libp2p-kad-dht/provider"
	"github.com/libp2p/go-libp2p-kad-dht/provider/buffered"
	ddhtprovider "github.com/libp2p/go-libp2p-kad-dht/provider/dual"
	"github.com/libp2p/go-libp2p-kad-dht/provider/keystore"
	"github.com/libp2p/go-libp2p-kad-dht/provider/stats"
	mh "github.com/multiformats/go-multihash"
)

const (
	// provideBatch is how many multihashes go to the provider per call, so
	// a huge DAG never sits in one slice.
	provideBatch = 1 << 14
	// maxReprovideDelay is how late a region's reprovide may run when the
	// network reshapes regions (Kubo's value), never more than the interval.
	maxReprovideDelay = time.Hour
	// statsTimeout bounds ProvideStat's wait on the keystore worker.
	statsTimeout = 10 * time.Second
)

// newKeystore opens the provider's keystore: the set of multihashes that are
// reprovided every interval, persisted under /node/provider/keystore. It is
// resettable so the set can be replaced wholesale with what is pinned now.
func newKeystore(ds datastore.Batching) (*keystore.ResettableKeystore, error) {
	ks, err := keystore.NewResettableKeystore(
		namespace.Wrap(ds, providerKey.Child(keystoreSubKey)),
		keystore.KeystoreOption(keystore.WithPrefixBits(16)),
	)
	if err != nil {
		return nil, fmt.Errorf("node: provider keystore: %w", err)
	}
	return ks, nil
}

// newProvider builds the sweeping provider of both DHTs: keys are grouped by
// keyspace region and each region is (re)provided to its closest peers in
// one sweep, instead of one DHT lookup per key. Its schedule and queue live
// under /node/provider; the buffered wrapper (as in Kubo) queues calls in
// the datastore so Provide returns at once and nothing queued is lost on a
// restart.
func newProvider(d *dual.DHT, ks keystore.Keystore, ds datastore.Batching, interval time.Duration) (*buffered.SweepingProvider, *ddhtprovider.SweepingProvider, error) {
	pds := namespace.Wrap(ds, providerKey)
	prov, err := ddhtprovider.New(d,
		ddhtprovider.WithKeystore(ks),
		ddhtprovider.WithDatastore(pds),
		ddhtprovider.WithReprovideInterval(interval),
		ddhtprovider.WithMaxReprovideDelay(min(maxReprovideDelay, interval)),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("node: DHT provider: %w", err)
	}
	return buffered.New(prov, pds), prov, nil
}

// providers are the node's sweeping providers, started by New, or at their
// first use on a node whose routing table is kept (Config.KeptRoutingTable):
// a provider's start probes the network with five lookups, which a node
// that has been running a while did long ago, and a visitor that never
// provides never needs.
type providers struct {
	start func() (*buffered.SweepingProvider, *ddhtprovider.SweepingProvider, error)
	once  sync.Once
	buf   *buffered.SweepingProvider
	sweep *ddhtprovider.SweepingProvider
	err   error
}

// errProviderClosed is the use of a provider after the node closed.
var errProviderClosed = errors.New("node: provider: closed")

func (p *providers) get() (*buffered.SweepingProvider, *ddhtprovider.SweepingProvider, error) {
	p.once.Do(func() { p.buf, p.sweep, p.err = p.start() })
	return p.buf, p.sweep, p.err
}

// close closes the providers if they started, and keeps them from
// starting after.
func (p *providers) close() error {
	p.once.Do(func() { p.err = errProviderClosed })
	if p.buf == nil {
		return nil
	}
	return p.buf.Close()
}

// Provide starts announcing roots and every block of their DAGs found in the
// blockstore, and keeps reannouncing them every ReprovideInterval. Keys
// already being provided are left to their schedule. It returns once the
// keys are queued; the announcements go out in the background. A root
// missing from the blockstore is an error: the node would advertise what it
// cannot serve.
func (n *Node) Provide(ctx context.Context, roots ...cid.Cid) error {
	return n.provide(ctx, nil, false, roots)
}

// ProvideExcept is Provide for one root whose DAG shares the subtrees
// rooted at done with a DAG provided before: those are not walked again.
// A site's new version after an edit is mostly such subtrees, so this
// announces what the edit made without reading every directory of the site.
func (n *Node) ProvideExcept(ctx context.Context, root cid.Cid, done []cid.Cid) error {
	skip := cid.NewSet()
	for _, c := range done {
		skip.Add(c)
	}
	return n.provide(ctx, skip, false, []cid.Cid{root})
}

// Reannounce is Provide that announces again at once keys already being
// provided, instead of leaving them to their reprovide schedule: a
// follower keeping an absent author's site does so with each re-put of
// the record, as churn replaces the peers closest to its keys long before
// the next cycle (docs/scale.md).
func (n *Node) Reannounce(ctx context.Context, roots ...cid.Cid) error {
	return n.provide(ctx, nil, true, roots)
}

// provide is Provide, skipping the subtrees rooted at skip (nil: none);
// force announces keys already being provided again at once.
func (n *Node) provide(ctx context.Context, skip *cid.Set, force bool, roots []cid.Cid) error {
	var batch []mh.Multihash
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		prov, _, err := n.prov.get()
		if err == nil {
			err = prov.StartProviding(force, batch...)
		}
		batch = batch[:0]
		return err
	}
	for _, root := range roots {
		has, err := n.cfg.Blockstore.Has(ctx, root)
		if err != nil {
			return fmt.Errorf("node: provide %s: %w", root, err)
		}
		if !has {
			return fmt.Errorf("node: provide %s: not in the blockstore; add or fetch it first", root)
		}
		err = n.walkLocal(ctx, root, skip, func(c cid.Cid) error {
			batch = append(batch, c.Hash())
			if len(batch) >= provideBatch {
				return flush()
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("node: provide %s: %w", root, err)
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("node: provide: %w", err)
	}
	return nil
}

// walkLocal calls visit for root and every block of its DAG that is in the
// blockstore, each once. Missing blocks (and what only they link to) are
// skipped: a partial DAG is still worth providing for the part that is here.
// So are the subtrees rooted at a CID of skip (nil: none).
func (n *Node) walkLocal(ctx context.Context, root cid.Cid, skip *cid.Set, visit func(cid.Cid) error) error {
	bs := n.cfg.Blockstore
	direct := merkledag.GetLinksDirect(merkledag.NewDAGService(blockservice.New(bs, nil)))
	getLinks := func(ctx context.Context, c cid.Cid) ([]*ipld.Link, error) {
		if c.Prefix().Codec == cid.Raw {
			return nil, nil // a leaf: no need to read a MiB to learn that
		}
		return direct(ctx, c)
	}
	var verr error
	seen := cid.NewSet()
	err := merkledag.Walk(ctx, getLinks, root, func(c cid.Cid) bool {
		if verr != nil || !seen.Visit(c) || skip != nil && skip.Has(c) {
			return false
		}
		var has bool
		if has, verr = bs.Has(ctx, c); verr != nil || !has {
			return false
		}
		verr = visit(c)
		return verr == nil
	}, merkledag.IgnoreMissing())
	return errors.Join(verr, err)
}

// syncKeystore replaces the keystore's content with ProvideRoots and the
// local blocks of their DAGs, then has the provider schedule any region that
// gained keys. This is how unpinned content stops being announced.
func (n *Node) syncKeystore(ctx context.Context) error {
	roots, err := n.cfg.ProvideRoots(ctx)
	if err != nil {
		return fmt.Errorf("node: list roots to provide: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	keys := make(chan cid.Cid, 1024)
	walked := make(chan error, 1)
	go func() {
		defer close(keys)
		var err error
		for _, r := range roots {
			err = n.walkLocal(ctx, r, nil, func(c cid.Cid) error {
				select {
				case keys <- c:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			if err != nil {
				break
			}
		}
		walked <- err
	}()
	// ResetCids is never cancelled: kad-dht v0.42.2's keystore keeps its
	// alternate-store token when a reset is cancelled while it starts, and
	// its Close then waits for that token for ever. Ending the walk (which
	// closes keys) is what stops a reset early; the keystore is synced again
	// at the next start.
	err = n.keys.ResetCids(context.WithoutCancel(ctx), keys)
	cancel() // unblocks the walker if ResetCids stopped reading
	if werr := <-walked; err == nil && werr != nil && !errors.Is(werr, context.Canceled) {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("node: reset provider keystore: %w", err)
	}
	prov, _, err := n.prov.get()
	if err != nil {
		return err
	}
	if err := prov.RefreshSchedule(); err != nil {
		// The provider has no peers yet (or lost them): it rebuilds its
		// schedule from the keystore once it is connected again.
		n.log.Debug("refresh provide schedule", "err", err)
	}
	return nil
}

// keystoreLoop syncs the keystore at start and then every interval.
func (n *Node) keystoreLoop(ctx context.Context) error {
	t := time.NewTicker(n.cfg.ReprovideInterval)
	defer t.Stop()
	for {
		if err := n.syncKeystore(ctx); err != nil {
			if ctx.Err() != nil || errors.Is(err, keystore.ErrClosed) {
				return nil
			}
			n.log.Error("provider keystore sync failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// ProvideStat describes what the node announces.
type ProvideStat struct {
	// Keys is the number of multihashes reprovided every Interval.
	Keys int `json:"keys"`
	// Interval is the reprovide interval.
	Interval time.Duration `json:"interval"`
	// LAN and WAN are each DHT's provider state.
	LAN DHTProvideStat `json:"lan"`
	WAN DHTProvideStat `json:"wan"`
}

// DHTProvideStat is one DHT provider's state.
type DHTProvideStat struct {
	// Status is "online", "disconnected" (recently lost its peers) or
	// "offline".
	Status string `json:"status"`
	// Provided and Failed count keys announced (or not) since start.
	Provided int64 `json:"provided"`
	Failed   int64 `json:"failed"`
	// Queued counts keys waiting for their first announcement, and
	// QueuedRegions the keyspace regions waiting to be reprovided.
	Queued        int64 `json:"queued"`
	QueuedRegions int64 `json:"queued_regions"`
	// LastReprovide is when a region was last reprovided (zero: never, even
	// across restarts); NextReprovide when the next one is due.
	LastReprovide time.Time `json:"last_reprovide,omitzero"`
	NextReprovide time.Time `json:"next_reprovide,omitzero"`
	// Regions counts the keyspace regions the reprovide sweep visits, one
	// after the other, every interval; Sweep is how far through the
	// keyspace the current sweep is (0 to 1: the time since CycleStart over
	// the interval, as regions are reprovided in keyspace order at even
	// pace); Reproviding counts regions being reprovided now.
	Regions     int64     `json:"regions"`
	Sweep       float64   `json:"sweep"`
	CycleStart  time.Time `json:"cycle_start,omitzero"`
	Reproviding int       `json:"reproviding"`
}

// ProvideStat reports what is provided, queued, and when reprovides ran and
// run next.
func (n *Node) ProvideStat(ctx context.Context) (ProvideStat, error) {
	return n.provideStat(ctx, true)
}

// provideStat is ProvideStat; without history it leaves LastReprovide zero
// and spares the datastore scan that finds it (metrics do not export it).
func (n *Node) provideStat(ctx context.Context, history bool) (ProvideStat, error) {
	ctx, cancel := context.WithTimeout(ctx, statsTimeout)
	defer cancel()
	keys, err := n.keys.Size(ctx)
	if err != nil {
		return ProvideStat{}, fmt.Errorf("node: provide stat: %w", err)
	}
	_, sweep, err := n.prov.get()
	if err != nil {
		return ProvideStat{}, fmt.Errorf("node: provide stat: %w", err)
	}
	st := ProvideStat{Keys: keys, Interval: n.cfg.ReprovideInterval}
	for _, d := range []struct {
		p    *kadprovider.SweepingProvider
		name string
		out  *DHTProvideStat
	}{{sweep.LAN, "lan", &st.LAN}, {sweep.WAN, "wan", &st.WAN}} {
		s, err := d.p.Stats(ctx)
		if err != nil {
			return ProvideStat{}, fmt.Errorf("node: provide stat %s: %w", d.name, err)
		}
		*d.out = dhtProvideStat(s)
		if !history {
			continue
		}
		if d.out.LastReprovide, err = n.lastReprovide(ctx, d.name); err != nil {
			return ProvideStat{}, fmt.Errorf("node: provide stat %s: %w", d.name, err)
		}
	}
	return st, nil
}

func dhtProvideStat(s stats.Stats) DHTProvideStat {
	return DHTProvideStat{
		Status:        s.Connectivity.Status,
		Provided:      s.Operations.Past.KeysProvided,
		Failed:        s.Operations.Past.KeysFailed,
		Queued:        s.Queues.PendingKeyProvides,
		QueuedRegions: s.Queues.PendingRegionReprovides,
		NextReprovide: s.Schedule.NextReprovideAt,
		Regions:       s.Schedule.Regions,
		Sweep:         sweepProgress(s.Timing),
		CycleStart:    s.Timing.CycleStart,
		Reproviding:   s.Operations.Ongoing.RegionReprovides,
	}
}

// sweepProgress is how far through its cycle the sweep is, from 0 to 1.
func sweepProgress(t stats.Timing) float64 {
	if t.ReprovidesInterval <= 0 || t.CurrentTimeOffset < 0 {
		return 0
	}
	return min(float64(t.CurrentTimeOffset)/float64(t.ReprovidesInterval), 1)
}

// lastReprovide reads the newest entry of the provider's reprovide history,
// which it persists as /history/<unix seconds in hex>/<region> under its
// datastore (one per DHT: /lan, /wan). Reading it here keeps the time across
// restarts, which the provider's in-memory stats do not.
func (n *Node) lastReprovide(ctx context.Context, dhtName string) (time.Time, error) {
	prefix := providerKey.ChildString(dhtName).ChildString("history").String()
	res, err := n.cfg.Datastore.Query(ctx, query.Query{Prefix: prefix, KeysOnly: true})
	if err != nil {
		return time.Time{}, err
	}
	defer res.Close()
	var last time.Time
	for r := range res.Next() {
		if r.Error != nil {
			return time.Time{}, r.Error
		}
		rest := strings.TrimPrefix(r.Key, prefix+"/")
		hex, _, _ := strings.Cut(rest, "/")
		secs, err := strconv.ParseInt(hex, 16, 64)
		if err != nil {
			continue
		}
		if t := time.Unix(secs, 0); t.After(last) {
			last = t
		}
	}
	return last, nil
}
