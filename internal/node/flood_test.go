package node_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/islandsite/island/internal/testutil/testnet"
	"github.com/libp2p/go-libp2p"
	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-msgio/pbio"
	"github.com/stretchr/testify/require"
)

// lanDHT is the protocol the flood uses: one the node serves to anyone, whose
// every request gets an answer, so each stream ends either answered (the
// node took it) or reset (the resource manager refused it).
const lanDHT = "/ipfs/lan/kad/1.0.0"

func TestResourceManagerRefusesStreamFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("floods a loopback node with 1,000 streams")
	}
	ctx := context.Background()
	nodes := testnet.NewNetwork(t, 2, testnet.WithTopology(testnet.Isolated))
	target, fetcher := nodes[0], nodes[1]
	root := testnet.AddRandomFile(t, target.DAG(), 3<<20, 5)

	// The attacker is a bare host with no limits of its own.
	mgr, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(rcmgr.InfiniteLimits))
	require.NoError(t, err)
	attacker, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.ResourceManager(mgr))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, attacker.Close()) })
	require.NoError(t, attacker.Connect(ctx, testnet.AddrInfo(target)))

	const flood = 1000
	var answered, refused atomic.Int32
	var done sync.WaitGroup
	release := make(chan struct{})
	for i := range flood {
		done.Go(func() {
			s, err := attacker.NewStream(ctx, target.ID(), lanDHT)
			if err != nil {
				refused.Add(1)
				return
			}
			// Every stream the node accepts stays open until all are tried,
			// so the limits are tested against 1,000 at once.
			defer func() {
				<-release
				s.Close()
			}()
			// Guards against a hang only; a refused stream is reset at once.
			_ = s.SetDeadline(time.Now().Add(time.Minute))
			req := pb.NewMessage(pb.Message_FIND_NODE, []byte{byte(i), byte(i >> 8)}, 0)
			if err := pbio.NewDelimitedWriter(s).WriteMsg(req); err != nil {
				refused.Add(1)
				return
			}
			var resp pb.Message
			if err := pbio.NewDelimitedReader(s, 1<<20).ReadMsg(&resp); err != nil {
				refused.Add(1)
				return
			}
			answered.Add(1)
		})
	}
	// Wait until every stream is answered or refused, the answered ones
	// still open.
	require.Eventually(t, func() bool { return answered.Load()+refused.Load() == flood }, time.Minute, 10*time.Millisecond)
	t.Logf("flood of %d streams: %d answered, %d refused", flood, answered.Load(), refused.Load())
	require.Positive(t, answered.Load(), "the limits must not shut the peer out entirely")
	require.Greater(t, refused.Load(), int32(flood/2), "most of the flood must be refused")

	// While the flood's streams are held open, the node still serves its
	// content to another peer.
	testnet.Connect(t, fetcher, target)
	fetchCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, fetcher.Fetch(fetchCtx, root, nil))
	requireHasDAG(t, fetcher, target, root)

	close(release)
	done.Wait()
}
