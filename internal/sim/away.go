package sim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/ipns"
	"golang.org/x/sync/errgroup"
)

const (
	// visitTimeout bounds one visit of the author-away scenario; a visit
	// that takes longer counts as failed.
	visitTimeout = 10 * time.Second
	// awayVisitors is how many visitors of the author-away scenario are
	// on the network at once. A visit of a site nobody holds waits out
	// visitTimeout; the default thousand visits in a month that runs in six
	// minutes then need about thirty at once to keep their schedule.
	awayVisitors = 32
)

// AuthorAway publishes a site per behaviour and follower count, lets the
// followers fetch it, takes the authors offline, and then, over a
// simulated month with churn, sends Config.Visits visitors: the share of
// visits that succeed (resolve and home page) over time. With Kubo's
// behaviour nobody follows, so only the no-follower case exists, and its
// record lives 48 hours.
//
// Both behaviours' sites live side by side on one network through one
// month: they see the same servers leave and come back, and the month's
// churn, most of what the scenario costs, is paid once.
func AuthorAway(ctx context.Context, cfg Config) (Scenario, error) {
	sc := Scenario{Name: "author-away", XLabel: "days since the author left", YLabel: "share of visits that succeed"}
	bs, err := cfg.behaviours()
	if err != nil {
		return sc, fmt.Errorf("sim: %w", err)
	}
	var lines []awayLine
	residents := 0
	for _, b := range bs {
		counts := cfg.Followers
		if !b.Follow {
			counts = []int{0}
		}
		for _, c := range counts {
			lines = append(lines, awayLine{b: b, followers: c})
			residents += 1 + c
		}
	}
	t := newTally()
	before := measure()
	n, err := NewNetwork(ctx, cfg, cfg.N-residents)
	if err != nil {
		return sc, err
	}
	err = awayMonth(ctx, cfg, n, lines, residents, t)
	u := measure().since(before, strings.Join(cfg.Behaviours, " + "), cfg.N)
	if cerr := n.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return sc, err
	}
	sc.Usage = []Usage{u}
	kubo := t.share(awayKey{"kubo", 0})
	for _, c := range cfg.Followers {
		k := awayKey{"island", c}
		r := Row{Metric: fmt.Sprintf("author away a month, %d followers: visits that succeed (%d of %d)", c, t.ok[k], t.tried[k]),
			Island: t.share(k), Kubo: kubo, Unit: "%"}
		if c == 3 {
			r.Target = "≥ 99.9 %"
		}
		sc.Rows = append(sc.Rows, r)
	}
	sc.Rows = append(sc.Rows, Row{Metric: fmt.Sprintf("author away: DHT servers that left per simulated hour (asked: %g %%)", 100*cfg.ChurnPerHour),
		Island: t.churnOf("island"), Kubo: t.churnOf("kubo"), Unit: "%"})
	sc.Rows = append(sc.Rows, Row{Metric: fmt.Sprintf("author away: visits not made before the month's end (of %d)", cfg.Visits),
		Island: float64(t.notMade["island"]), Kubo: float64(t.notMade["kubo"]), Unit: "visits"})
	for _, l := range lines {
		sc.Series = append(sc.Series, rolling(*t.series[l.key()]))
	}
	return sc, nil
}

// awayLine is one line of the author-away scenario: a site published with
// a behaviour and followed by that many followers.
type awayLine struct {
	b         Behaviour
	followers int
	name      ipns.Name // the away author's, once published
}

func (l awayLine) key() awayKey { return awayKey{l.b.Name, l.followers} }

// awayMonth is the author-away scenario on network n: the sites of lines
// published and followed, the authors gone, then the month of churn and
// visits, whose outcomes go to t.
func awayMonth(ctx context.Context, cfg Config, n *Network, lines []awayLine, residents int, t *tally) error {
	// Three batches' worth of servers more than N while the sites are
	// published and followed, offline once the authors leave: churn
	// brings back servers that were online before, holding what was
	// stored then, as most of the Amino network's churn is.
	spare := 3 * int(math.Ceil(cfg.ChurnPerHour*float64(cfg.N-residents)))
	if err := n.AddServers(spare); err != nil {
		return err
	}
	authors := make([]*Island, len(lines))
	var g errgroup.Group
	for j, l := range lines {
		g.Go(func() error {
			a, _, err := author(ctx, n, l.b, l.followers, n.cfg.Seed+uint64(j))
			if err != nil {
				return err
			}
			authors[j] = a
			return awaitProvided(ctx, n, a)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for j := range lines {
		lines[j].name = authors[j].Name()
		t.series[lines[j].key()] = &Series{Label: fmt.Sprintf("%s, %d followers", lines[j].b.Name, lines[j].followers)}
		if err := n.dropIsland(authors[j]); err != nil {
			return err
		}
	}
	n.TakeOffline(spare)
	left := time.Now()
	month := n.cfg.scaled(cfg.Month)
	end := left.Add(month)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	// churned servers left from the authors' leaving until churnedTo (the
	// start of the last batch, which made up for every hour before it):
	// the table's rate is over that time, not over the wait for the
	// month's last visits to end.
	var churned, churnedTo atomic.Int64
	churnedTo.Store(left.UnixNano())
	wg.Go(func() {
		// Churn comes in one batch per simulated hour: a lookup, which
		// takes real time, then sees the network of one hour rather
		// than a network churning TimeScale times faster than it looks.
		// A batch that ends late makes the next one larger, so the rate
		// asked for is the rate run, whatever the batches cost.
		hour := n.cfg.scaled(time.Hour)
		last := time.Now()
		owed := 0.0
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(last.Add(hour))):
			}
			now := time.Now()
			if now.After(end) {
				return
			}
			// A batch is at most half the servers: a slow batch must not
			// take the whole network off at once. What is owed carries
			// over, and the table reports the rate that was run.
			n.mu.Lock()
			owed += cfg.ChurnPerHour * float64(len(n.servers)) * float64(now.Sub(last)) / float64(hour)
			k := min(int(owed), len(n.servers)/2)
			n.mu.Unlock()
			last = now
			owed -= float64(k)
			got, err := n.Churn(ctx, k)
			if err != nil {
				n.log.Warn("churn", "err", err)
			}
			n.log.Info("churn batch", "servers", got, "took", time.Since(now))
			churned.Add(int64(got))
			churnedTo.Store(now.UnixNano())
		}
	})
	// Visits start on schedule, a few visitors at a time, each visiting
	// every away author of its behaviour at once: a thousand visits over
	// a month that runs in minutes overlap, as real visitors do.
	var visit errgroup.Group
	visit.SetLimit(awayVisitors)
	for p := range cfg.Visits {
		at := left.Add(month * time.Duration(p+1) / time.Duration(cfg.Visits))
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), visit.Wait())
		case <-time.After(time.Until(at)):
		}
		// Visits that could only start after the month's end (every
		// visitor slot busy) would measure a longer absence than
		// asked for: they are not made, and the table says how many.
		if !goBefore(ctx, &visit, end, func() error { return visitAll(ctx, n, lines, left, t) }) {
			for _, b := range cfg.Behaviours {
				t.unmade(b, cfg.Visits-p)
			}
			n.log.Warn("month over before every visit was made", "made", p, "of", cfg.Visits)
			break
		}
	}
	if err := visit.Wait(); err != nil {
		return err
	}
	cancel()
	wg.Wait()
	hours := time.Unix(0, churnedTo.Load()).Sub(left).Hours() * n.cfg.TimeScale
	for _, b := range cfg.Behaviours {
		t.churn(b, float64(churned.Load())/hours/float64(cfg.N-residents))
	}
	n.log.Info("author away done", "servers replaced", churned.Load())
	return nil
}

// rolling turns a series of 0/1 outcomes into the share of successes so
// far, which reads better than points at 0 and 1. Overlapping visits end
// out of order: it sorts them by X first.
func rolling(s Series) Series {
	idx := make([]int, len(s.X))
	for j := range idx {
		idx[j] = j
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(s.X[a], s.X[b]) })
	out := Series{Label: s.Label}
	sum := 0.0
	for j, k := range idx {
		sum += s.Y[k]
		out.X = append(out.X, s.X[k])
		out.Y = append(out.Y, sum/float64(j+1))
	}
	return out
}

// awayKey is one line of the author-away scenario: a behaviour and a
// follower count.
type awayKey struct {
	b         string
	followers int
}

// tally is the author-away scenario's outcomes, written by visits running
// side by side.
type tally struct {
	mu        sync.Mutex
	ok, tried map[awayKey]int
	series    map[awayKey]*Series
	notMade   map[string]int
	churned   map[string]float64 // % of servers that left per simulated hour
}

func newTally() *tally {
	return &tally{ok: map[awayKey]int{}, tried: map[awayKey]int{}, series: map[awayKey]*Series{}, notMade: map[string]int{}, churned: map[string]float64{}}
}

func (t *tally) record(k awayKey, day float64, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tried[k]++
	y := 0.0
	if err == nil {
		t.ok[k]++
		y = 1
	}
	s := t.series[k]
	s.X = append(s.X, day)
	s.Y = append(s.Y, y)
}

func (t *tally) churn(b string, share float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.churned[b] = 100 * share
}

// churnOf is the churn run with behaviour b, NaN if b did not run.
func (t *tally) churnOf(b string) float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.churned[b]; ok {
		return v
	}
	return nan
}

func (t *tally) unmade(b string, k int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.notMade[b] += k
}

// share is the percentage of k's visits that succeeded, NaN for none.
func (t *tally) share(k awayKey) float64 {
	if t.tried[k] == 0 {
		return nan
	}
	return 100 * float64(t.ok[k]) / float64(t.tried[k])
}

// goBefore runs f in g as soon as g has room, unless that is after end
// (or ctx ends first); it reports whether f was started.
func goBefore(ctx context.Context, g *errgroup.Group, end time.Time, f func() error) bool {
	for {
		if g.TryGo(f) {
			return true
		}
		if time.Now().After(end) || ctx.Err() != nil {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// visitAll starts, per behaviour, a visitor that holds nothing yet, on a
// node whose routing table is warm (addWarmVisitor); each visits every
// away author of its behaviour at once (one visit per site), and the
// outcomes are recorded.
func visitAll(ctx context.Context, n *Network, lines []awayLine, left time.Time, t *tally) error {
	var g errgroup.Group
	for j, l := range lines {
		if slices.IndexFunc(lines[:j], func(o awayLine) bool { return o.b.Name == l.b.Name }) >= 0 {
			continue // this behaviour's visitor is already on its way
		}
		g.Go(func() error {
			v, err := n.addWarmVisitor(ctx, l.b)
			if err != nil {
				return err
			}
			day := time.Since(left).Hours() * n.cfg.TimeScale / 24
			var wg sync.WaitGroup
			for _, o := range lines {
				if o.b.Name != l.b.Name {
					continue
				}
				wg.Go(func() {
					vctx, cancel := context.WithTimeout(ctx, visitTimeout)
					defer cancel()
					start := time.Now()
					got, err := v.Visit(vctx, o.name)
					n.log.Info("visit", "behaviour", o.b.Name, "followers", o.followers, "day", day, "took", time.Since(start),
						"resolve", got.Resolve, "err", err)
					t.record(o.key(), day, err)
				})
			}
			wg.Wait()
			return n.dropIsland(v)
		})
	}
	return g.Wait()
}
