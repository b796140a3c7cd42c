package core

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSamplesAreBounded: the ring keeps the newest MaxSamples samples,
// oldest first, however many are taken.
func TestSamplesAreBounded(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{0, 1, MaxSamples - 1, MaxSamples, MaxSamples + 1, 3*MaxSamples + 7} {
		var s samples
		s.interval = time.Second
		for i := range n {
			s.add(Sample{Time: start.Add(time.Duration(i) * time.Second), Peers: i})
		}
		got := s.list()
		require.Equal(t, Duration(time.Second), got.Interval)
		require.Len(t, got.Samples, min(n, MaxSamples), "%d taken", n)
		for i, v := range got.Samples {
			require.Equal(t, n-len(got.Samples)+i, v.Peers, "%d taken: oldest first, the newest kept", n)
		}
	}
}
