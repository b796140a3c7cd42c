package sim

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"
)

// Config is one simulation run.
type Config struct {
	// N is how many nodes the network has: Amino DHT servers plus the
	// resident island nodes (publishers and followers). Visitors come and
	// go on top of it.
	N int
	// Seed makes the network (identities, latencies, who churns) and the
	// scenarios' random choices repeatable.
	Seed uint64
	// RTT is the distribution round-trip times between two nodes are drawn
	// from.
	RTT RTTDist
	// BandwidthMbps is the median upload bandwidth of a node in Mbit/s;
	// each node's is drawn between a third and three times that, and a link
	// runs at the slower end's.
	BandwidthMbps float64
	// ChurnPerHour is the share of DHT servers that leave per simulated
	// hour, and as many come on (0.2: 20 %/hour; Network.Churn).
	ChurnPerHour float64
	// TimeScale divides the long intervals (record lifetimes, republish and
	// reprovide periods, DHT record expiry): 720 makes a simulated month
	// an hour of real time.
	TimeScale float64
	// Samples is how many measurements a latency scenario takes.
	Samples int
	// Month is the simulated time the author-away scenario spans.
	Month time.Duration
	// Visits is how many fresh visitors the author-away scenario sends
	// over the month, each visiting every away author: a share of 99.9 %
	// needs a thousand of them to mean anything.
	Visits int
	// Sites and BlocksPerSite size the many-sites scenario.
	Sites, BlocksPerSite int
	// Followers are the follower counts the author-away scenario tries.
	Followers []int
	// Behaviours names the behaviours the latency and author-away
	// scenarios run, "island" and "kubo" (both by default: every figure is
	// then a ratio; one alone halves a run's time while working on it).
	Behaviours []string
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// RTTDist is a log-normal distribution of round-trip times, clamped to
// [Min, Max]: public measurements of the Internet's RTTs are skewed that
// way, a long tail above a median.
type RTTDist struct {
	Median, Min, Max time.Duration
	// Sigma is the log-normal's shape: 0.6 puts the 90th percentile near
	// twice the median.
	Sigma float64
}

// Draw returns one RTT from d using r.
func (d RTTDist) Draw(r *rand.Rand) time.Duration {
	v := float64(d.Median) * math.Exp(d.Sigma*r.NormFloat64())
	return time.Duration(min(max(v, float64(d.Min)), float64(d.Max)))
}

// DefaultConfig is the network of issue 15: 1,000 nodes, RTTs of
// 20–300 ms with a 100 ms median, 20 Mbit/s, 20 %/hour churn, and a
// simulated month that TimeScale 7,200 runs in six minutes (a simulated
// hour is half a second, about a DHT lookup's time).
func DefaultConfig() Config {
	return Config{
		N:             1000,
		Seed:          1,
		RTT:           RTTDist{Median: 100 * time.Millisecond, Min: 20 * time.Millisecond, Max: 300 * time.Millisecond, Sigma: 0.6},
		BandwidthMbps: 20,
		ChurnPerHour:  0.2,
		TimeScale:     7200,
		Samples:       20,
		Month:         30 * 24 * time.Hour,
		Visits:        1000,
		Sites:         100,
		BlocksPerSite: 2000,
		Followers:     []int{0, 1, 3},
		Behaviours:    []string{"island", "kubo"},
	}
}

// minN is the smallest network a scenario can run on: the DHT's 20
// closest peers plus the island nodes.
const minN = 24

func (c Config) validate() error {
	var errs []error
	if c.N < minN {
		errs = append(errs, fmt.Errorf("N %d: want at least %d", c.N, minN))
	}
	if c.RTT.Min <= 0 || c.RTT.Median < c.RTT.Min || c.RTT.Max < c.RTT.Median || c.RTT.Sigma < 0 {
		errs = append(errs, fmt.Errorf("RTT %+v: want 0 < min <= median <= max and sigma >= 0", c.RTT))
	}
	if c.BandwidthMbps <= 0 {
		errs = append(errs, fmt.Errorf("bandwidth %g Mbit/s: want more than 0", c.BandwidthMbps))
	}
	if c.ChurnPerHour < 0 || c.ChurnPerHour >= 1 {
		errs = append(errs, fmt.Errorf("churn %g per hour: want 0 <= churn < 1", c.ChurnPerHour))
	}
	if c.TimeScale < 1 {
		errs = append(errs, fmt.Errorf("time scale %g: want 1 or more", c.TimeScale))
	}
	if c.Samples < 1 {
		errs = append(errs, fmt.Errorf("samples %d: want 1 or more", c.Samples))
	}
	if c.Visits < 1 {
		errs = append(errs, fmt.Errorf("visits %d: want 1 or more", c.Visits))
	}
	if c.Sites < 1 || c.BlocksPerSite < 1 {
		errs = append(errs, fmt.Errorf("sites %d × blocks %d: want 1 or more of each", c.Sites, c.BlocksPerSite))
	}
	if _, err := c.behaviours(); err != nil || len(c.Behaviours) == 0 {
		errs = append(errs, fmt.Errorf("behaviours %q: want island, kubo or both", c.Behaviours))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sim: config: %w", err)
	}
	return nil
}

// scaled is a simulated duration in real time.
func (c Config) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.TimeScale)
}

// Behaviour is how the island nodes of a run behave.
type Behaviour struct {
	Name string
	// RecordCount is how many records a resolve gathers (names.Config).
	RecordCount int
	// Follow says followers follow the author (island's follower).
	Follow bool
	// Push says new records go out over IPNS pubsub too.
	Push bool
	// Lifetime is how long a published record stays valid.
	Lifetime time.Duration
	// AnswerHeld says a valid record held locally answers a resolve at
	// once, routing being asked in the background (names.Config).
	AnswerHeld bool
}

// behaviours are the behaviours Config.Behaviours names, in its order.
func (c Config) behaviours() ([]Behaviour, error) {
	var out []Behaviour
	for _, name := range c.Behaviours {
		switch name {
		case "island":
			out = append(out, IslandBehaviour())
		case "kubo":
			out = append(out, KuboBehaviour())
		default:
			return nil, fmt.Errorf("no behaviour %q", name)
		}
	}
	return out, nil
}
