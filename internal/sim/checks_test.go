package sim

import (
	"bytes"
	"context"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// smallConfig is every scenario small enough for a quick try: the point is
// that the simulator runs island's code end to end, both behaviours, and
// that what island is built for shows (followers keep a site up, push
// reaches them, the sweep saves lookups); the figures need `make sim`'s N
// and RTTs. Round trips are a tenth of the Internet's, since most of a
// scenario's time is waiting for them, and the month is a day.
func smallConfig() Config {
	c := DefaultConfig()
	c.N = 50
	c.RTT = RTTDist{Median: 10 * time.Millisecond, Min: 2 * time.Millisecond, Max: 30 * time.Millisecond, Sigma: 0.6}
	c.Samples = 2
	c.Visits = 4
	c.Month = 24 * time.Hour
	c.TimeScale = 14400
	c.Sites, c.BlocksPerSite = 2, 40
	c.Followers = []int{0, 3}
	return c
}

// checkScenarios runs every scenario on cfg side by side (each on its own
// network: they wait on simulated round trips far more than they compute)
// and checks the report.
func checkScenarios(t *testing.T, cfg Config, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	scs := make([]Scenario, len(Scenarios))
	t.Run("each", func(t *testing.T) {
		for i, r := range Scenarios {
			t.Run(r.Name, func(t *testing.T) {
				t.Parallel()
				var err error
				scs[i], err = r.Run(ctx, cfg)
				require.NoError(t, err)
			})
		}
	})
	if t.Failed() {
		return
	}
	var out bytes.Buffer
	require.NoError(t, WriteTable(&out, cfg, scs))
	t.Log(out.String())
	paths, err := WritePlots(t.TempDir(), scs)
	require.NoError(t, err)

	rows := map[string]Row{}
	for _, sc := range scs {
		require.NotEmpty(t, sc.Usage, sc.Name)
		for _, u := range sc.Usage {
			require.Positive(t, u.CPU, sc.Name)
			require.Positive(t, u.Goroutines, sc.Name)
		}
		for _, r := range sc.Rows {
			rows[r.Metric] = r
		}
	}
	// Every latency figure was measured with both behaviours; push only
	// exists with island's.
	for _, m := range []string{"publish → found p95", "cold visit: resolve + home page p50"} {
		require.Contains(t, rows, m)
		require.False(t, math.IsNaN(rows[m].Island) || math.IsNaN(rows[m].Kubo), m)
		require.Positive(t, rows[m].Island, m)
	}
	push := rows["publish → every follower holds it p95"]
	require.Positive(t, push.Island)
	require.True(t, math.IsNaN(push.Kubo))
	// A resolve that stops at 3 records asks fewer servers for the record
	// than one that waits for 16. (A visit's requests in all are not
	// compared: at this N the provider lookups that follow reach most
	// servers either way, and vary more than the record lookup saves.)
	reqs := rows["cold visit: of which record requests (GET_VALUE) p50"]
	require.Positive(t, reqs.Island)
	require.Less(t, reqs.Island, reqs.Kubo)
	require.GreaterOrEqual(t, reqs.Kubo, 16.0)
	// With the author away, followers keep the site up; without any (and
	// with Kubo's behaviour) nobody holds the content.
	alone := rowPrefixed(t, rows, "author away a month, 0 followers: visits that succeed")
	three := rowPrefixed(t, rows, "author away a month, 3 followers: visits that succeed")
	require.Zero(t, alone.Island)
	require.Zero(t, alone.Kubo)
	require.Greater(t, three.Island, alone.Island)
	// The churn asked for is the churn run (a batch that ends late makes
	// the next one larger), with both behaviours.
	churn := rowPrefixed(t, rows, "author away: DHT servers that left per simulated hour")
	require.InDelta(t, 100*cfg.ChurnPerHour, churn.Island, 100*cfg.ChurnPerHour/5)
	require.InDelta(t, 100*cfg.ChurnPerHour, churn.Kubo, 100*cfg.ChurnPerHour/5)
	// The sweeping provider needs fewer lookups per key than one by one.
	lookups := rows["many sites: of which lookups (FIND_NODE) per key"]
	require.Less(t, lookups.Island, lookups.Kubo)

	require.Contains(t, out.String(), "kubo/island")
	require.Len(t, paths, 3) // many-sites has no plot
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		require.True(t, strings.Contains(string(b), "<svg"), p)
	}
}

// rowPrefixed is the one row whose metric starts with prefix (the rest
// of such a metric carries counts).
func rowPrefixed(t *testing.T, rows map[string]Row, prefix string) Row {
	t.Helper()
	var found []Row
	for m, r := range rows {
		if strings.HasPrefix(m, prefix) {
			found = append(found, r)
		}
	}
	require.Len(t, found, 1, prefix)
	return found[0]
}
