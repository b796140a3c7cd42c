package sim

import (
	"slices"
	"testing"
	"time"

	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

func TestSelect(t *testing.T) {
	for _, tc := range []struct {
		list string
		want []string
		err  string
	}{
		{list: "", want: []string{"publish-found", "cold-visit", "author-away", "many-sites"}},
		{list: "all", want: []string{"publish-found", "cold-visit", "author-away", "many-sites"}},
		{list: "cold-visit, many-sites", want: []string{"cold-visit", "many-sites"}},
		{list: "cold", err: `no scenario "cold"`},
	} {
		t.Run(tc.list, func(t *testing.T) {
			rs, err := Select(tc.list)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			var got []string
			for _, r := range rs {
				got = append(got, r.Name)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		err  string
	}{
		{"too small", func(c *Config) { c.N = 5 }, "N 5"},
		{"rtt order", func(c *Config) { c.RTT.Min = time.Second }, "RTT"},
		{"churn", func(c *Config) { c.ChurnPerHour = 1 }, "churn"},
		{"scale", func(c *Config) { c.TimeScale = 0.5 }, "time scale"},
		{"visits", func(c *Config) { c.Visits = 0 }, "visits 0"},
		{"behaviour", func(c *Config) { c.Behaviours = []string{"island", "ipfs"} }, `behaviours ["island" "ipfs"]`},
		{"no behaviour", func(c *Config) { c.Behaviours = nil }, "behaviours []"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			require.ErrorContains(t, c.validate(), tc.err)
		})
	}
	require.NoError(t, DefaultConfig().validate())
}

// TestChurn checks what churn means in the simulated network: a server
// taken off cannot be dialled and is in no live server's routing table; one
// brought back can be dialled again and is back in tables; the number of
// live servers stays what it was.
func TestChurn(t *testing.T) {
	ctx := t.Context()
	n := testNetwork(t, 40)
	cfg := n.cfg

	h, _, err := n.newPeer()
	require.NoError(t, err)
	n.setUp(h.ID())
	dial := func(s *server) error {
		return h.Connect(ctx, peer.AddrInfo{ID: s.host.ID(), Addrs: s.host.Addrs()})
	}
	inTables := func(s *server) int {
		k := 0
		for _, q := range n.servers {
			if q.dht.RoutingTable().Find(s.host.ID()) != "" {
				k++
			}
		}
		return k
	}

	n.TakeOffline(12)
	require.Len(t, n.servers, cfg.N-12)
	require.Len(t, n.offline, 12)
	for _, s := range n.offline {
		require.Error(t, dial(s), "an offline server answers a dial")
		require.Zero(t, inTables(s), "an offline server is still in live tables")
	}
	require.NoError(t, dial(n.servers[0]))

	away := slices.Clone(n.offline)
	k, err := n.Churn(ctx, 6)
	require.NoError(t, err)
	require.Equal(t, 6, k)
	require.Len(t, n.servers, cfg.N-12, "churn changed the number of live servers")
	back := 0
	for _, s := range n.servers {
		if slices.Contains(away, s) {
			back++
			require.NoError(t, dial(s), "a server that came back cannot be dialled")
			require.Positive(t, inTables(s), "a server that came back is in no table")
		}
	}
	require.Equal(t, 6, back, "churn did not bring back offline servers")
}

// TestWarmVisitor checks the author-away scenario's visitor: its routing
// table is full from the start, it makes no DHT request until it visits,
// and its visit of a published site succeeds.
func TestWarmVisitor(t *testing.T) {
	ctx := t.Context()
	n := testNetwork(t, 60)

	b := IslandBehaviour()
	a, _, err := author(ctx, n, b, 0, n.cfg.Seed)
	require.NoError(t, err)

	v, err := n.addWarmVisitor(ctx, b)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, n.dropIsland(v)) })
	require.GreaterOrEqual(t, v.Node.DHT().WAN.RoutingTable().Size(), bucketSize, "a warm visitor's table is not full")
	// A bootstrap runs in the background once the node is up: by now its
	// lookups would have sent over a hundred requests. A peer that
	// connects gets one (kad-dht's check of a new peer).
	sent := n.watch(v.Node.ID())
	time.Sleep(200 * time.Millisecond)
	require.Less(t, sent()[pb.Message_FIND_NODE], int64(5), "a warm visitor looked peers up before visiting")

	got, err := v.Visit(ctx, a.Name())
	require.NoError(t, err)
	require.Positive(t, got.Seq)
}

// testNetwork is a network of servers DHT servers a millisecond apart,
// closed when the test ends.
func testNetwork(t *testing.T, servers int) *Network {
	t.Helper()
	cfg := DefaultConfig()
	cfg.N = servers
	cfg.RTT = RTTDist{Median: time.Millisecond, Min: time.Millisecond, Max: time.Millisecond}
	n, err := NewNetwork(t.Context(), cfg, cfg.N)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, n.Close()) })
	return n
}
