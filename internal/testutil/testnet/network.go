package testnet

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/islandsite/island/internal/node"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// quietLogger keeps test output to what matters: warnings and errors, or
// what ISLAND_TEST_LOG_LEVEL (debug, info, warn, error) asks for.
var quietLogger = func() *slog.Logger {
	var level slog.Level = slog.LevelWarn
	if s := os.Getenv("ISLAND_TEST_LOG_LEVEL"); s != "" {
		_ = level.UnmarshalText([]byte(s)) // a typo keeps warn
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}()

// NodeConfig is a loopback-only node config on st: TCP on 127.0.0.1 port 0,
// loopback addresses kept in the LAN DHT, no bootstrap peers, metrics on a
// private registry.
func NodeConfig(tb testing.TB, st *Store, key crypto.PrivKey) node.Config {
	tb.Helper()
	cfg := node.DefaultConfig()
	cfg.Identity = key
	cfg.Datastore = st.Datastore
	cfg.Blockstore = st.Blockstore
	if st.Repo != nil {
		cfg.Stage = func(ctx context.Context) (node.Stage, error) {
			s, err := st.Repo.BeginStage(ctx)
			if err != nil {
				return nil, err
			}
			return s, nil
		}
	}
	cfg.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.LoopbackOnLAN = true
	cfg.Registerer = prometheus.NewRegistry()
	cfg.Logger = quietLogger
	cfg.FetchTimeout = 30 * time.Second
	return cfg
}

// StartNode builds a node from cfg and closes it in tb.Cleanup.
func StartNode(tb testing.TB, cfg node.Config) *node.Node {
	tb.Helper()
	n, err := node.New(context.Background(), cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, n.Close()) })
	return n
}

// AddrInfo is how other nodes dial n.
func AddrInfo(n *node.Node) peer.AddrInfo {
	return peer.AddrInfo{ID: n.ID(), Addrs: n.Host().Addrs()}
}

// Topology says which nodes of a network bootstrap to which.
type Topology int

const (
	// Chain: node i bootstraps to node i-1 only.
	Chain Topology = iota
	// Star: every node bootstraps to node 0 only.
	Star
	// Isolated: nobody bootstraps to anyone.
	Isolated
)

type networkOptions struct {
	topology  Topology
	configure func(i int, cfg *node.Config)
}

// NetworkOption changes how NewNetwork builds its nodes.
type NetworkOption func(*networkOptions)

// WithTopology picks who bootstraps to whom (default Chain).
func WithTopology(t Topology) NetworkOption {
	return func(o *networkOptions) { o.topology = t }
}

// WithConfig edits node i's config before it starts.
func WithConfig(f func(i int, cfg *node.Config)) NetworkOption {
	return func(o *networkOptions) { o.configure = f }
}

// NewNetwork starts n real nodes on 127.0.0.1, each with its own on-disk
// store in a temporary directory, bootstrapped to each other as the topology
// says. It returns once every node is connected to its bootstrap peers and
// has them in its LAN DHT routing table. Everything closes in tb.Cleanup.
func NewNetwork(tb testing.TB, n int, opts ...NetworkOption) []*node.Node {
	tb.Helper()
	o := networkOptions{topology: Chain}
	for _, opt := range opts {
		opt(&o)
	}
	nodes := make([]*node.Node, n)
	for i := range nodes {
		st := NewStore(tb)
		cfg := NodeConfig(tb, st, st.Identity)
		switch {
		case i == 0 || o.topology == Isolated:
		case o.topology == Chain:
			cfg.Bootstrap = []peer.AddrInfo{AddrInfo(nodes[i-1])}
		case o.topology == Star:
			cfg.Bootstrap = []peer.AddrInfo{AddrInfo(nodes[0])}
		}
		if o.configure != nil {
			o.configure(i, &cfg)
		}
		nodes[i] = StartNode(tb, cfg)
		for _, b := range cfg.Bootstrap {
			AwaitDHTNeighbours(tb, nodes[i], b.ID)
		}
	}
	return nodes
}

// AwaitDHTNeighbours waits until a is connected to every peer in ps and has
// them in its LAN DHT routing table.
func AwaitDHTNeighbours(tb testing.TB, a *node.Node, ps ...peer.ID) {
	tb.Helper()
	require.Eventually(tb, func() bool {
		lan := a.DHT().LAN.RoutingTable().ListPeers()
		for _, p := range ps {
			if !slices.Contains(lan, p) {
				return false
			}
		}
		return true
	}, 30*time.Second, 20*time.Millisecond, "%s never had %v in its LAN routing table", a.ID(), ps)
}

// Connect dials b from a and waits until each has the other in its LAN DHT
// routing table.
func Connect(tb testing.TB, a, b *node.Node) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(tb, a.Host().Connect(ctx, AddrInfo(b)))
	AwaitDHTNeighbours(tb, a, b.ID())
	AwaitDHTNeighbours(tb, b, a.ID())
}
