package sim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/boxo/ipns"
	"golang.org/x/sync/errgroup"
)

const (
	// visitTimeout bounds one visit of the author-away scenario; a visit
	// that takes longer counts as failed.
	visitTimeout = 10 * time.Second
	// awayVisitors is how many visitors of the author-away scenario are
	// on the network at once.
	awayVisitors = 8
)

// AuthorAway publishes a site per follower count, lets the followers
// fetch it, takes the authors offline, and then, over a simulated month
// with churn, sends Config.Visits fresh visitors: the share of visits that succeed
// (resolve and home page) over time. With Kubo's behaviour nobody follows,
// so only the no-follower case exists, and its record lives 48 hours.
func AuthorAway(ctx context.Context, cfg Config) (Scenario, error) {
	sc := Scenario{Name: "author-away", XLabel: "days since the author left", YLabel: "share of visits that succeed"}
	residents := len(cfg.Followers)
	for _, f := range cfg.Followers {
		residents += f
	}
	type key struct {
		b         string
		followers int
	}
	ok, tried := map[key]int{}, map[key]int{}
	series := map[key]*Series{}
	var order []key
	usage, err := run(ctx, cfg, residents, true, func(ctx context.Context, n *Network, b Behaviour) error {
		counts := cfg.Followers
		if !b.Follow {
			counts = []int{0}
		}
		away := make([]ipns.Name, len(counts))
		authors := make([]*Island, len(counts))
		var g errgroup.Group
		for j, c := range counts {
			g.Go(func() error {
				a, _, err := author(ctx, n, b, c, n.cfg.Seed+uint64(j))
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
		for j, c := range counts {
			away[j] = authors[j].Name()
			k := key{b.Name, c}
			order = append(order, k)
			series[k] = &Series{Label: fmt.Sprintf("%s, %d followers", b.Name, c)}
			if err := n.dropIsland(authors[j]); err != nil {
				return err
			}
		}
		left := time.Now()
		month := n.cfg.scaled(cfg.Month)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel()
		churned := 0
		wg.Go(func() {
			// Churn comes in one batch per simulated hour: a lookup, which
			// takes real time, then sees the network of one hour rather
			// than a network churning TimeScale times faster than it looks.
			tick := n.cfg.scaled(time.Hour)
			share := cfg.ChurnPerHour
			t := time.NewTicker(tick)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					k, err := n.Churn(ctx, share)
					if err != nil {
						n.log.Warn("churn", "err", err)
					}
					churned += k
				}
			}
		})
		// Visits start on schedule, a few at a time, each a fresh visitor
		// visiting every away author: a thousand visits over a month that
		// runs in minutes overlap, as real visitors do.
		var (
			mu    sync.Mutex
			visit errgroup.Group
		)
		visit.SetLimit(awayVisitors)
		for p := range cfg.Visits {
			at := left.Add(month * time.Duration(p+1) / time.Duration(cfg.Visits))
			select {
			case <-ctx.Done():
				return errors.Join(ctx.Err(), visit.Wait())
			case <-time.After(time.Until(at)):
			}
			visit.Go(func() error {
				vs, err := visitors(ctx, n, b, 1)
				if err != nil {
					return err
				}
				day := time.Since(left).Hours() * n.cfg.TimeScale / 24
				for j, name := range away {
					k := key{b.Name, counts[j]}
					vctx, vcancel := context.WithTimeout(ctx, visitTimeout)
					_, verr := vs[0].Visit(vctx, name)
					vcancel()
					n.log.Info("visit", "behaviour", b.Name, "followers", counts[j], "day", day, "err", verr)
					mu.Lock()
					tried[k]++
					y := 0.0
					if verr == nil {
						ok[k]++
						y = 1
					}
					s := series[k]
					s.X = append(s.X, day)
					s.Y = append(s.Y, y)
					mu.Unlock()
				}
				return n.dropIsland(vs[0])
			})
		}
		if err := visit.Wait(); err != nil {
			return err
		}
		cancel()
		wg.Wait()
		n.log.Info("author away done", "behaviour", b.Name, "servers replaced", churned)
		return nil
	})
	if err != nil {
		return sc, err
	}
	sc.Usage = usage
	share := func(k key) float64 {
		if tried[k] == 0 {
			return nan
		}
		return 100 * float64(ok[k]) / float64(tried[k])
	}
	kubo := share(key{"kubo", 0})
	for _, c := range cfg.Followers {
		r := Row{Metric: fmt.Sprintf("author away a month, %d followers: visits that succeed", c),
			Island: share(key{"island", c}), Kubo: kubo, Unit: "%"}
		if c == 3 {
			r.Target = "≥ 99.9 %"
		}
		sc.Rows = append(sc.Rows, r)
	}
	for _, k := range order {
		sc.Series = append(sc.Series, rolling(*series[k]))
	}
	return sc, nil
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
