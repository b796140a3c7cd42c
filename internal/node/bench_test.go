package node_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/repo"
	"github.com/islandsite/island/internal/testutil"
	"github.com/islandsite/island/internal/testutil/testnet"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// transferSize is the file BenchmarkTransfer moves; the Kubo reference moved
// 512 MiB between two daemons over loopback TCP in 7.1 s (~72 MiB/s).
const transferSize = 512 << 20

// BenchmarkTransfer fetches a 512 MiB file between two nodes connected over
// loopback TCP. Each iteration fetches into a fresh node and store, so every
// block crosses the wire. It runs on the real repo (as the daemon and the
// tests use it) and on a memory store, which shows what the node itself can
// move when the disk is not the limit. Reports MiB/s.
func BenchmarkTransfer(b *testing.B) {
	for _, store := range []struct {
		name string
		open func(testing.TB) *testnet.Store
	}{
		{"store=repo", testnet.NewStore},
		{"store=memory", testnet.NewMemStore},
	} {
		b.Run(store.name, func(b *testing.B) {
			benchmarkTransfer(b, store.open)
		})
	}
}

func benchmarkTransfer(b *testing.B, open func(testing.TB) *testnet.Store) {
	ctx := context.Background()
	server := testnet.StartNode(b, testnet.NodeConfig(b, open(b), testnet.NewKey(b)))
	root := testnet.AddRandomFile(b, server.DAG(), transferSize, 42)
	b.SetBytes(transferSize)
	var total time.Duration
	n := 0
	for b.Loop() {
		n++
		b.StopTimer()
		st := open(b)
		client, err := node.New(ctx, testnet.NodeConfig(b, st, testnet.NewKey(b)))
		require.NoError(b, err)
		testnet.Connect(b, client, server)
		b.StartTimer()
		start := time.Now()
		require.NoError(b, client.Fetch(ctx, root, nil))
		total += time.Since(start)
		b.StopTimer()
		require.NoError(b, client.Close())
		require.NoError(b, st.Close())
		if st.Dir != "" {
			require.NoError(b, os.RemoveAll(st.Dir))
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(transferSize)/(1<<20)*float64(n)/total.Seconds(), "MiB/s")
}

// BenchmarkColdFetch20 fetches a fresh small page (a directory with an 8 KiB
// index.html) in a 20-node loopback network: a new fetcher bootstrapped to one
// node that is not the provider finds the provider through the DHT, dials it
// and fetches. Reports the median and 95th percentile of the fetch times.
func BenchmarkColdFetch20(b *testing.B) {
	ctx := context.Background()
	nodes := testnet.NewNetwork(b, 19, testnet.WithTopology(testnet.Star))
	rng := rand.New(rand.NewPCG(1, 2))
	var times []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		provider := nodes[1+rng.IntN(len(nodes)-1)]
		var entry *node.Node
		for entry == nil || entry == provider {
			entry = nodes[1+rng.IntN(len(nodes)-1)]
		}
		root := testnet.AddDir(b, provider.DAG(), map[string][]byte{
			"index.html": testutil.RandomBytes(8<<10, uint64(1000+i)),
		})
		require.NoError(b, provider.Provide(ctx, root))
		waitForProvider(b, entry, root, provider.ID())

		st := testnet.NewStore(b)
		cfg := testnet.NodeConfig(b, st, testnet.NewKey(b))
		cfg.Bootstrap = []peer.AddrInfo{testnet.AddrInfo(entry)}
		fetcher, err := node.New(ctx, cfg)
		require.NoError(b, err)
		testnet.AwaitDHTNeighbours(b, fetcher, entry.ID())
		b.StartTimer()

		start := time.Now()
		require.NoError(b, fetcher.Fetch(ctx, root, nil))
		times = append(times, time.Since(start))

		b.StopTimer()
		require.NoError(b, fetcher.Close())
		require.NoError(b, st.Close())
		b.StartTimer()
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(times[(len(times)*95+99)/100-1].Microseconds())/1000, "ms-p95")
}

// idleRSSChild is set in the environment of the process that
// BenchmarkIdleRSS starts: TestMain then runs one idle node and prints its
// resident memory instead of running tests.
const idleRSSChild = "ISLAND_NODE_IDLE_RSS_CHILD"

// BenchmarkIdleRSS measures the resident memory of a process running one
// node on loopback with no bootstrap peers, 5 s after start, after a garbage
// collection. It runs the node in a fresh process (this test binary, see
// runIdleRSSChild) so nothing else this binary did counts.
func BenchmarkIdleRSS(b *testing.B) {
	var mib float64
	for range b.N {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), idleRSSChild+"="+b.TempDir())
		out, err := cmd.CombinedOutput()
		require.NoError(b, err, "%s", out)
		var kib int
		_, err = fmt.Sscanf(lastLine(string(out)), "VmRSS: %d kB", &kib)
		require.NoError(b, err, "%s", out)
		mib = float64(kib) / 1024
	}
	b.ReportMetric(mib, "MiB-rss")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// vmRSS reads this process's resident set size line from /proc.
func vmRSS() (string, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmRSS:") {
			return strings.Join(strings.Fields(sc.Text()), " "), nil
		}
	}
	return "", fmt.Errorf("no VmRSS in /proc/self/status")
}

// runIdleRSSChild is the child process of BenchmarkIdleRSS.
func runIdleRSSChild(dir string) error {
	r, err := repo.Open(context.Background(), repo.Config{Path: dir})
	if err != nil {
		return err
	}
	defer r.Close()
	cfg := node.DefaultConfig()
	cfg.Identity = r.Identity()
	cfg.Datastore = r.Datastore()
	cfg.Blockstore = r.Blockstore()
	cfg.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	cfg.LoopbackOnLAN = true
	cfg.Registerer = prometheus.NewRegistry()
	n, err := node.New(context.Background(), cfg)
	if err != nil {
		return err
	}
	defer n.Close()
	time.Sleep(5 * time.Second)
	runtime.GC()
	debug.FreeOSMemory()
	rss, err := vmRSS()
	if err != nil {
		return err
	}
	fmt.Println(rss)
	return nil
}
