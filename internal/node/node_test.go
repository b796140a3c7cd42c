package node_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/testutil/testnet"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(idleRSSChild); dir != "" {
		if err := runIdleRSSChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m,
		// Started once per process by libraries, never stopped.
		goleak.IgnoreAnyFunction("github.com/ipfs/go-log/v2/writer.(*MirrorWriter).logRoutine"),
		goleak.IgnoreTopFunction("github.com/libp2p/go-libp2p/p2p/transport/webrtc/udpmux.(*UDPMux).startReadLoop.func1"),
	)
}

// waitForProvider polls the DHT from n until p shows up as a provider of c.
func waitForProvider(t testing.TB, n *node.Node, c cid.Cid, p peer.ID) {
	t.Helper()
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		provs, err := n.FindProviders(ctx, c, 10)
		if err != nil {
			return false
		}
		for _, pi := range provs {
			if pi.ID == p {
				return true
			}
		}
		return false
	}, 60*time.Second, 100*time.Millisecond, "%s never found %s as a provider of %s", n.ID(), p, c)
}

func TestProvideThenFindProviders(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a loopback network")
	}
	nodes := testnet.NewNetwork(t, 3, testnet.WithTopology(testnet.Star))
	a := nodes[1]
	root := testnet.AddRandomFile(t, a.DAG(), 3<<20, 1)
	require.NoError(t, a.Provide(context.Background(), root))
	waitForProvider(t, nodes[2], root, a.ID())

	st, err := a.ProvideStat(context.Background())
	require.NoError(t, err)
	require.Equal(t, 4, st.Keys, "the root and its three leaves")

	// A node must not advertise what it cannot serve.
	hash, err := mh.Sum([]byte("not here"), mh.SHA2_256, -1)
	require.NoError(t, err)
	err = a.Provide(context.Background(), cid.NewCidV1(cid.Raw, hash))
	require.ErrorContains(t, err, "not in the blockstore")
}
