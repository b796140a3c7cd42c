package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"golang.org/x/sync/errgroup"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/names"
)

// IslandBehaviour is what island ships: its resolver's record count, the
// follower, push over IPNS pubsub, and a site's record lifetime.
func IslandBehaviour() Behaviour {
	return Behaviour{Name: "island", RecordCount: names.DefaultConfig().RecordCount, Follow: true, Push: true,
		AnswerHeld: true, Lifetime: core.DefaultSiteLifetime}
}

// KuboBehaviour is what Kubo ships: a resolve waits for 16 records (also
// when a record is at hand), nobody follows, nothing is pushed, records
// live 48 hours.
func KuboBehaviour() Behaviour {
	return Behaviour{Name: "kubo", RecordCount: 16, Lifetime: ipns.DefaultRecordLifetime}
}

// Scenario is one scenario's outcome under both behaviours.
type Scenario struct {
	Name string
	Rows []Row
	// Series are plotted, one plot per scenario.
	Series []Series
	// XLabel and YLabel name the plot's axes.
	XLabel, YLabel string
	Usage          []Usage
}

// Row is one figure, measured with both behaviours.
type Row struct {
	Metric       string
	Island, Kubo float64
	Unit         string
	// Target is the goal for island's figure, for the table.
	Target string
}

// Series is one line of a plot.
type Series struct {
	Label string
	X, Y  []float64
}

const (
	sitePages     = 4
	sitePageBytes = 8 << 10
	// residentFollowers is how many followers a followed site has in the
	// latency scenarios.
	residentFollowers = 3
	// lookupTimeout bounds one visitor's search for a version.
	lookupTimeout = 30 * time.Second
)

// run builds a fresh network of the same seed for each behaviour and runs
// f on it. Unless scaled, the network runs in real time (TimeScale 1): a
// latency scenario lasts minutes, and scaled record expiry would only get
// in its way.
func run(ctx context.Context, cfg Config, residents int, scaled bool, f func(ctx context.Context, n *Network, b Behaviour) error) ([]Usage, error) {
	if !scaled {
		cfg.TimeScale = 1
	}
	var usage []Usage
	bs, err := cfg.behaviours()
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	for _, b := range bs {
		before := measure()
		n, err := NewNetwork(ctx, cfg, cfg.N-residents)
		if err != nil {
			return nil, err
		}
		err = f(ctx, n, b)
		u := measure().since(before, b.Name, cfg.N)
		usage = append(usage, u)
		if cerr := n.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("sim: %s: %w", b.Name, err)
		}
	}
	return usage, nil
}

// author starts a publisher with followers (when b follows) that hold its
// first version.
func author(ctx context.Context, n *Network, b Behaviour, followers int, site uint64) (*Island, []*Island, error) {
	t0 := time.Now()
	a, err := n.AddIsland(ctx, b, false)
	if err != nil {
		return nil, nil, err
	}
	if !b.Follow {
		followers = 0
	}
	fs := make([]*Island, followers)
	for j := range fs {
		if fs[j], err = n.AddIsland(ctx, b, true); err != nil {
			return nil, nil, err
		}
	}
	if err := n.wirePush(ctx, b, a, fs); err != nil {
		return nil, nil, err
	}
	n.log.Info("author and followers up", "took", time.Since(t0))
	root, err := a.AddSite(ctx, site, sitePages, sitePageBytes)
	if err != nil {
		return nil, nil, err
	}
	n.log.Info("site added", "took", time.Since(t0))
	rec, err := a.Publish(ctx, root)
	if err != nil {
		return nil, nil, err
	}
	n.log.Info("site published", "took", time.Since(t0))
	// Followers find the site through the author's provider records.
	if err := awaitProvided(ctx, n, a); err != nil {
		return nil, nil, err
	}
	n.log.Info("site provided", "took", time.Since(t0))
	for _, f := range fs {
		if err := f.Follow(ctx, a.Name()); err != nil {
			return nil, nil, err
		}
	}
	if err := awaitFollowers(ctx, fs, a.Name(), rec.Seq, root, time.Minute); err != nil {
		return nil, nil, err
	}
	n.log.Info("followers hold the site", "took", time.Since(t0))
	if err := awaitMesh(ctx, a, fs); err != nil {
		return nil, nil, err
	}
	n.log.Info("followers meshed", "took", time.Since(t0))
	return a, fs, nil
}

// awaitFollowers waits until every follower holds record seq and has
// fetched root.
func awaitFollowers(ctx context.Context, fs []*Island, name ipns.Name, seq uint64, root cid.Cid, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, f := range fs {
		for {
			ok, err := f.Holds(ctx, name, seq, root)
			if err != nil {
				return err
			}
			if ok {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("sim: a follower lacks seq %d of %s: %w", seq, name, ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return nil
}

// visitors starts k fresh visitors (DHT clients holding nothing), a few at
// a time.
func visitors(ctx context.Context, n *Network, b Behaviour, k int) ([]*Island, error) {
	out := make([]*Island, k)
	var g errgroup.Group
	g.SetLimit(4)
	for j := range out {
		g.Go(func() error {
			var err error
			out[j], err = n.AddIsland(ctx, b, false)
			return err
		})
	}
	return out, g.Wait()
}

// PublishFound measures, after a publish, how long until a fresh visitor
// resolves the new version (it starts looking when the publish starts and
// looks again until it sees it), and with island's behaviour how long
// until every follower has fetched it.
func PublishFound(ctx context.Context, cfg Config) (Scenario, error) {
	sc := Scenario{Name: "publish-found", XLabel: "sample", YLabel: "seconds"}
	found := map[string][]float64{}
	missed := map[string]int{}
	var pushed []float64
	usage, err := run(ctx, cfg, 1+residentFollowers, false, func(ctx context.Context, n *Network, b Behaviour) error {
		a, fs, err := author(ctx, n, b, residentFollowers, n.cfg.Seed)
		if err != nil {
			return err
		}
		vs, err := visitors(ctx, n, b, cfg.Samples)
		if err != nil {
			return err
		}
		for s, v := range vs {
			root, err := a.AddSite(ctx, cfg.Seed+uint64(s)+1, sitePages, sitePageBytes)
			if err != nil {
				return err
			}
			var (
				wg          sync.WaitGroup
				seq         uint64
				ready       = make(chan struct{})
				found1, all time.Duration
				ferr, perr  error
			)
			start := time.Now()
			wg.Go(func() {
				<-ready
				found1, ferr = seek(ctx, v, a.Name(), seq, start)
			})
			if len(fs) > 0 {
				wg.Go(func() {
					<-ready
					perr = awaitFollowers(ctx, fs, a.Name(), seq, root, lookupTimeout)
					all = time.Since(start)
				})
			}
			h, _ := a.Names.Held(ctx, a.Name())
			seq = h.Seq + 1
			close(ready)
			_, err = a.Publish(ctx, root)
			wg.Wait()
			// A sample that did not see the version within lookupTimeout
			// counts at lookupTimeout (a lower bound) and as missed: one
			// slow sample on a loaded machine must not void the run.
			if errors.Is(ferr, errNotSeen) {
				n.log.Warn("sample missed", "behaviour", b.Name, "err", ferr)
				missed[b.Name]++
				found1, ferr = lookupTimeout, nil
			}
			if errors.Is(perr, context.DeadlineExceeded) && ctx.Err() == nil {
				n.log.Warn("followers missed a version", "err", perr)
				missed["island followers"]++
				all, perr = lookupTimeout, nil
			}
			if err := errors.Join(err, ferr, perr); err != nil {
				return err
			}
			found[b.Name] = append(found[b.Name], found1.Seconds())
			if len(fs) > 0 {
				pushed = append(pushed, all.Seconds())
			}
			if err := n.dropIsland(v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return sc, err
	}
	sc.Usage = usage
	sc.Rows = []Row{
		pctRow("publish → found p50", found, 50, "s", ""),
		pctRow("publish → found p95", found, 95, "s", "< 2 s"),
		{Metric: "publish → every follower holds it p95", Island: pct(pushed, 95), Kubo: nan, Unit: "s", Target: "< 1 s"},
		{Metric: fmt.Sprintf("publish → found: samples not found within %s", lookupTimeout),
			Island: float64(missed["island"]), Kubo: float64(missed["kubo"]), Unit: "samples"},
	}
	sc.Series = []Series{cdf("island: found", found["island"]), cdf("kubo: found", found["kubo"]), cdf("island: all followers hold it", pushed)}
	sc.XLabel, sc.YLabel = "seconds after publish", "share of samples"
	return sc, nil
}

// errNotSeen is a visitor not seeing a version within lookupTimeout.
var errNotSeen = errors.New("sim: visitor never saw the version")

// seek resolves name on v, fresh each time, until it sees seq or later,
// and returns the time since start.
func seek(ctx context.Context, v *Island, name ipns.Name, seq uint64, start time.Time) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	for {
		got, err := v.Resolve(ctx, name)
		if err == nil && got >= seq {
			return time.Since(start), nil
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("%w: seq %d of %s (last %d, %v)", errNotSeen, seq, name, got, err)
		}
	}
}

// ColdVisit measures a fresh visitor resolving the name and fetching the
// home page.
func ColdVisit(ctx context.Context, cfg Config) (Scenario, error) {
	sc := Scenario{Name: "cold-visit", XLabel: "seconds", YLabel: "share of visits"}
	resolve := map[string][]float64{}
	total := map[string][]float64{}
	// requests are the DHT requests servers receive from the visitor
	// during its visit (not the background traffic of other nodes), and
	// records those of the name lookup (GET_VALUE).
	requests, records := map[string][]float64{}, map[string][]float64{}
	usage, err := run(ctx, cfg, 1+residentFollowers, false, func(ctx context.Context, n *Network, b Behaviour) error {
		a, _, err := author(ctx, n, b, residentFollowers, n.cfg.Seed)
		if err != nil {
			return err
		}
		if err := awaitProvided(ctx, n, a); err != nil {
			return err
		}
		vs, err := visitors(ctx, n, b, cfg.Samples)
		if err != nil {
			return err
		}
		for _, v := range vs {
			sent := n.watch(v.Node.ID())
			vctx, cancel := context.WithTimeout(ctx, lookupTimeout)
			got, err := v.Visit(vctx, a.Name())
			cancel()
			reqs := sent()
			if err != nil {
				return err
			}
			requests[b.Name] = append(requests[b.Name], float64(reqs.total()))
			records[b.Name] = append(records[b.Name], float64(reqs[pb.Message_GET_VALUE]))
			resolve[b.Name] = append(resolve[b.Name], got.Resolve.Seconds())
			total[b.Name] = append(total[b.Name], got.Total.Seconds())
			if err := n.dropIsland(v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return sc, err
	}
	sc.Usage = usage
	sc.Rows = []Row{
		pctRow("cold visit: resolve p50", resolve, 50, "s", ""),
		pctRow("cold visit: resolve + home page p50", total, 50, "s", "< 1 s"),
		pctRow("cold visit: resolve + home page p95", total, 95, "s", ""),
		pctRow("cold visit: DHT requests the visitor sends p50", requests, 50, "req", ""),
		pctRow("cold visit: of which record requests (GET_VALUE) p50", records, 50, "req", ""),
	}
	sc.Series = []Series{cdf("island", total["island"]), cdf("kubo", total["kubo"])}
	return sc, nil
}

// awaitProvided waits until the author's provider has announced what it
// holds, so a visit measures finding the site, not the provider's queue.
func awaitProvided(ctx context.Context, n *Network, a *Island) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		st, err := a.Node.ProvideStat(ctx)
		if err == nil && st.WAN.Queued == 0 && st.WAN.Provided > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sim: author's provider still has work queued: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pctRow is the p-th percentile of each behaviour's samples.
func pctRow(metric string, samples map[string][]float64, p float64, unit, target string) Row {
	return Row{Metric: metric, Island: pct(samples["island"], p), Kubo: pct(samples["kubo"], p), Unit: unit, Target: target}
}

// pct is the p-th percentile of xs (nearest rank), NaN for none.
func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return nan
	}
	s := slices.Sorted(slices.Values(xs))
	k := int(p/100*float64(len(s)) + 0.5)
	return s[min(max(k-1, 0), len(s)-1)]
}

// cdf is xs as an empirical distribution: x sorted, y the share at or below.
func cdf(label string, xs []float64) Series {
	s := slices.Sorted(slices.Values(xs))
	out := Series{Label: label}
	for j, x := range s {
		out.X = append(out.X, x)
		out.Y = append(out.Y, float64(j+1)/float64(len(s)))
	}
	return out
}
