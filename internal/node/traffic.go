package node

import (
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// traffic counts the bytes the host's streams carry, in total only: the
// dashboard charts totals over time. libp2p's BandwidthCounter would also
// keep a meter per peer and per protocol (memory that grows with the peers
// met) and runs a process-wide sweeper goroutine; two atomic counters need
// neither.
type traffic struct {
	in, out atomic.Int64
}

var _ metrics.Reporter = (*traffic)(nil)

// The swarm calls both the plain and the per-stream method for the same
// bytes: only the plain ones count.
func (t *traffic) LogSentMessage(n int64)                            { t.out.Add(n) }
func (t *traffic) LogRecvMessage(n int64)                            { t.in.Add(n) }
func (t *traffic) LogSentMessageStream(int64, protocol.ID, peer.ID)  {}
func (t *traffic) LogRecvMessageStream(int64, protocol.ID, peer.ID)  {}
func (t *traffic) GetBandwidthForPeer(peer.ID) metrics.Stats         { return metrics.Stats{} }
func (t *traffic) GetBandwidthForProtocol(protocol.ID) metrics.Stats { return metrics.Stats{} }
func (t *traffic) GetBandwidthByPeer() map[peer.ID]metrics.Stats     { return nil }
func (t *traffic) GetBandwidthByProtocol() map[protocol.ID]metrics.Stats {
	return nil
}
func (t *traffic) Reset()             { t.in.Store(0); t.out.Store(0) }
func (t *traffic) TrimIdle(time.Time) {}

func (t *traffic) GetBandwidthTotals() metrics.Stats {
	return metrics.Stats{TotalIn: t.in.Load(), TotalOut: t.out.Load()}
}
