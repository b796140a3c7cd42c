package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"golang.org/x/sync/errgroup"
)

const (
	// sampleKeys is how many keys the one-by-one provider announces; its
	// cost per key is the same for every key (a lookup and a put to the
	// closest peers), so a sample gives the cycle's cost.
	sampleKeys = 100
	// siteBlockBytes is the size of each of a many-sites site's blocks.
	siteBlockBytes = 256
)

// ManySites has Sites publishers of BlocksPerSite blocks each announce
// everything they hold, once with island's sweeping provider (one lookup
// per keyspace region, then every key of the region to its closest peers)
// and once one by one as Kubo's classic provider does (a lookup per key):
// how many DHT requests the servers receive per reprovide cycle, per
// server.
func ManySites(ctx context.Context, cfg Config) (Scenario, error) {
	sc := Scenario{Name: "many-sites"}
	cfg.TimeScale = 1
	start := measure()
	n, err := NewNetwork(ctx, cfg, cfg.N-cfg.Sites)
	if err != nil {
		return sc, err
	}
	defer n.Close()
	servers := float64(cfg.N - cfg.Sites)
	pubs := make([]*Island, cfg.Sites)
	var g errgroup.Group
	g.SetLimit(4)
	for j := range pubs {
		g.Go(func() error {
			var err error
			pubs[j], err = n.AddIsland(ctx, IslandBehaviour(), false)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return sc, err
	}
	before := n.requestCounts()
	t0 := time.Now()
	roots := make([]cid.Cid, len(pubs))
	for j, p := range pubs {
		g.Go(func() error {
			var err error
			roots[j], err = p.AddSite(ctx, cfg.Seed+uint64(j), cfg.BlocksPerSite-1, siteBlockBytes)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return sc, err
	}
	keys := 0
	for _, p := range pubs {
		if err := awaitAllProvided(ctx, p); err != nil {
			return sc, err
		}
		st, err := p.Node.ProvideStat(ctx)
		if err != nil {
			return sc, err
		}
		keys += st.Keys
	}
	sweepTime := time.Since(t0)
	sweep := n.requestCounts().minus(before)

	// One by one: a sample of the first site's keys, straight through the
	// WAN DHT's Provide, as Kubo's classic provider announces each key.
	sample, err := siteKeys(ctx, pubs[0], roots[0], sampleKeys)
	if err != nil {
		return sc, err
	}
	before = n.requestCounts()
	t1 := time.Now()
	g.SetLimit(8)
	for _, c := range sample {
		g.Go(func() error { return pubs[0].Node.DHT().WAN.Provide(ctx, c, true) })
	}
	if err := g.Wait(); err != nil {
		return sc, fmt.Errorf("sim: provide one by one: %w", err)
	}
	oneTime := time.Since(t1)
	one := n.requestCounts().minus(before)
	perKey := float64(one.total()) / float64(len(sample))

	sc.Rows = []Row{
		{Metric: fmt.Sprintf("many sites (%d × %d blocks, %d keys): DHT requests per reprovide cycle per server", cfg.Sites, cfg.BlocksPerSite, keys),
			Island: float64(sweep.total()) / servers, Kubo: perKey * float64(keys) / servers, Unit: "req"},
		{Metric: "many sites: DHT requests per key announced", Island: float64(sweep.total()) / float64(keys), Kubo: perKey, Unit: "req"},
		{Metric: "many sites: of which lookups (FIND_NODE) per key", Island: float64(sweep[pb.Message_FIND_NODE]) / float64(keys),
			Kubo: float64(one[pb.Message_FIND_NODE]) / float64(len(sample)), Unit: "req"},
		{Metric: "many sites: publisher time to announce every key", Island: sweepTime.Seconds(),
			Kubo: oneTime.Seconds() / float64(len(sample)) * float64(keys) / float64(cfg.Sites), Unit: "s"},
	}
	u := measure().since(start, "sweep + one-by-one", cfg.N)
	sc.Usage = []Usage{u}
	return sc, nil
}

// counts are DHT requests by type.
type counts [pb.Message_PING + 1]int64

func (n *Network) requestCounts() counts {
	var c counts
	for t := range c {
		c[t] = n.requests[t].Load()
	}
	return c
}

func (c counts) minus(o counts) counts {
	for t := range c {
		c[t] -= o[t]
	}
	return c
}

func (c counts) total() int64 {
	var s int64
	for _, v := range c {
		s += v
	}
	return s
}

// awaitAllProvided waits until p's WAN provider has announced every key.
func awaitAllProvided(ctx context.Context, p *Island) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	for {
		st, err := p.Node.ProvideStat(ctx)
		if err == nil && st.Keys > 0 && st.WAN.Queued == 0 && st.WAN.Provided >= int64(st.Keys) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sim: provider of %s still busy (%+v): %w", p.Node.ID(), st.WAN, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// siteKeys lists up to k blocks of the DAG under root, from p's store.
func siteKeys(ctx context.Context, p *Island, root cid.Cid, k int) ([]cid.Cid, error) {
	nd, err := p.Node.DAG().Get(ctx, root)
	if err != nil {
		return nil, err
	}
	out := []cid.Cid{root}
	for _, l := range nd.Links() {
		if len(out) == k {
			break
		}
		out = append(out, l.Cid)
	}
	return out, nil
}
