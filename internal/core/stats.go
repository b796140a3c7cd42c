package core

import (
	"context"
	"sync"
	"time"
)

// DefaultSampleInterval is how often a daemon samples its node for
// NodeStats: MaxSamples of them cover an hour.
const DefaultSampleInterval = 10 * time.Second

// samples is a fixed ring of the newest MaxSamples samples: memory stays
// the same however long the daemon runs.
type samples struct {
	mu       sync.Mutex
	interval time.Duration
	ring     [MaxSamples]Sample
	next, n  int
}

func (s *samples) add(v Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ring[s.next] = v
	s.next = (s.next + 1) % len(s.ring)
	s.n = min(s.n+1, len(s.ring))
}

// list is the samples, oldest first.
func (s *samples) list() NodeStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := NodeStats{Interval: Duration(s.interval), Samples: make([]Sample, 0, s.n)}
	start := (s.next - s.n + len(s.ring)) % len(s.ring)
	for i := range s.n {
		out.Samples = append(out.Samples, s.ring[(start+i)%len(s.ring)])
	}
	return out
}

// RunSampler samples the node's connected peers and traffic at once and
// then every interval (DefaultSampleInterval when 0), until ctx ends. It
// needs a node.
func (c *Core) RunSampler(ctx context.Context, interval time.Duration) error {
	if c.node == nil {
		return c.needNode("sample")
	}
	if interval <= 0 {
		interval = DefaultSampleInterval
	}
	c.samples.mu.Lock()
	c.samples.interval = interval
	c.samples.mu.Unlock()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		in, out := c.node.Traffic()
		c.samples.add(Sample{Time: time.Now().UTC(), Peers: len(c.node.Peers()), BytesIn: in, BytesOut: out})
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// NodeStats is the samples RunSampler took, oldest first.
func (c *Core) NodeStats(ctx context.Context) (NodeStats, error) {
	if c.node == nil {
		return NodeStats{}, c.needNode("node stats")
	}
	return c.samples.list(), nil
}
