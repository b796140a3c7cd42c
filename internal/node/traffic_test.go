package node

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTrafficCountsEachByteOnce: the swarm reports a stream's bytes to both
// the plain and the per-stream method; the totals count them once.
func TestTrafficCountsEachByteOnce(t *testing.T) {
	var tr traffic
	tr.LogSentMessage(10)
	tr.LogSentMessageStream(10, "/ipfs/bitswap/1.2.0", "")
	tr.LogRecvMessage(7)
	tr.LogRecvMessageStream(7, "/ipfs/bitswap/1.2.0", "")
	tr.LogRecvMessage(5)
	got := tr.GetBandwidthTotals()
	require.Equal(t, int64(12), got.TotalIn)
	require.Equal(t, int64(10), got.TotalOut)
	tr.Reset()
	require.Zero(t, tr.GetBandwidthTotals().TotalIn+tr.GetBandwidthTotals().TotalOut)
}
