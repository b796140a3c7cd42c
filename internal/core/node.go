package core

import (
	"context"
	"errors"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/pinsvc"
	"github.com/islandsite/island/internal/repo"
)

// ID is the node's peer ID, mode and, with a node, dialable addresses.
func (c *Core) ID(ctx context.Context) (Identity, error) {
	out := Identity{ID: c.repo.PeerID().String(), Addrs: []string{}, Mode: c.cfg.Mode}
	if c.node != nil {
		for _, a := range c.node.Addrs() {
			out.Addrs = append(out.Addrs, a.String())
		}
	}
	return out, nil
}

// Peers lists the connected peers.
func (c *Core) Peers(ctx context.Context) ([]Peer, error) {
	if c.node == nil {
		return nil, c.needNode("peers")
	}
	ps := c.node.Peers()
	out := make([]Peer, 0, len(ps))
	for _, p := range ps {
		pi := Peer{ID: p.ID.String(), Direction: p.Direction, Latency: p.Latency, Agent: p.Agent}
		if p.Addr != nil {
			pi.Addr = p.Addr.String()
		}
		out = append(out, pi)
	}
	return out, nil
}

// ProvideStat says what the node announces.
func (c *Core) ProvideStat(ctx context.Context) (_ ProvideStat, err error) {
	if c.node == nil {
		return ProvideStat{}, c.needNode("provide stat")
	}
	defer c.fail(&err, "provide stat")
	return c.node.ProvideStat(ctx)
}

// Status is the node at a glance.
func (c *Core) Status(ctx context.Context) (_ Status, err error) {
	defer c.fail(&err, "status")
	id, _ := c.ID(ctx)
	st := Status{PeerID: id.ID, Mode: id.Mode, Addrs: id.Addrs, Follows: []Follow{}}
	if u, running := c.gatewayURL(); running {
		st.Gateway = u
	}
	if c.node != nil {
		st.Peers = len(c.node.Peers())
		if ps, err := c.node.ProvideStat(ctx); err == nil {
			st.Provide = &ProvideState{
				Provided:      int(ps.WAN.Provided + ps.LAN.Provided),
				Queued:        int(ps.WAN.Queued + ps.LAN.Queued),
				LastReprovide: latest(ps.WAN.LastReprovide, ps.LAN.LastReprovide),
				NextReprovide: earliest(ps.WAN.NextReprovide, ps.LAN.NextReprovide),
			}
		}
	}
	self, err := ipnsName(c.repo.Identity())
	if err != nil {
		return st, err
	}
	if cur, err := c.history.Current(ctx, self); err == nil {
		st.Site = &SiteStatus{CID: cur.CID.String(), Name: self}
	}
	if st.Follows, err = c.FollowLs(ctx); err != nil {
		return st, err
	}
	return st, nil
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// RepublishSoon asks a running republisher for a round now (after a
// publish whose put to the DHT failed). It never blocks.
func (c *Core) RepublishSoon() {
	select {
	case c.republish <- struct{}{}:
	default:
	}
}

// RunRepublisher keeps our own names resolvable until ctx ends: every own
// key for which the repo holds a record is re-put at start, every interval
// and when RepublishSoon asks. After a round in which a put failed
// (typically the first, before the DHT has peers) the next comes after
// retry, doubling up to interval. It needs a node.
func (c *Core) RunRepublisher(ctx context.Context, interval, retry time.Duration) error {
	if c.node == nil {
		return c.needNode("republish")
	}
	c.republishing.Store(true)
	defer c.republishing.Store(false)
	backoff := retry
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-c.republish:
			// Since Go 1.23 Stop also drops a pending tick: no drain.
			t.Stop()
		}
		failed := false
		for _, k := range c.ownKeys() {
			_, err := c.names.Republish(ctx, k)
			switch {
			case err == nil, errors.Is(err, names.ErrNotFound):
				// Not found: never published under this key.
			case ctx.Err() != nil:
				return nil
			default:
				failed = true
				n, _ := ipnsName(k)
				c.log.Warn("republish", "name", n, "err", err, "retry", backoff)
			}
		}
		if !failed {
			backoff = retry
			t.Reset(interval)
			continue
		}
		t.Reset(min(backoff, interval))
		backoff = min(2*backoff, interval)
	}
}

func (c *Core) ownKeys() []crypto.PrivKey {
	keys := []crypto.PrivKey{c.repo.Identity()}
	ns, err := c.repo.Keys().List()
	if err != nil {
		c.log.Warn("list keys", "err", err)
		return keys
	}
	for _, n := range ns {
		if n == repo.SelfKey {
			continue
		}
		if k, err := c.repo.Keys().Get(n); err == nil {
			keys = append(keys, k)
		}
	}
	return keys
}

// PinningService builds the Pinning Service API on this Core: a request
// fetches (origins first) and holds its CID for the request, and removing
// it drops that hold only.
func (c *Core) PinningService(ctx context.Context, cfg pinsvc.Config) (*pinsvc.Server, error) {
	cfg.Datastore = c.repo.Datastore()
	cfg.Pin = func(ctx context.Context, id string, v cid.Cid, origins []ma.Multiaddr) error {
		return c.fetchAndHold(ctx, v, repo.Holder{Kind: repo.HolderPinService, ID: id}, repo.Recursive, origins, nil)
	}
	cfg.Unpin = func(ctx context.Context, id string, v cid.Cid) error {
		return c.release(ctx, v, repo.Holder{Kind: repo.HolderPinService, ID: id})
	}
	cfg.Delegates = func() []string {
		if c.node == nil {
			return nil
		}
		var out []string
		for _, a := range c.node.Addrs() {
			out = append(out, a.String())
		}
		return out
	}
	return pinsvc.New(ctx, cfg)
}

// AwaitPeers waits until the node's DHT knows at least one peer, or ctx
// ends, and says whether one came.
func (c *Core) AwaitPeers(ctx context.Context) bool {
	if c.node == nil || c.node.DHT() == nil {
		return false
	}
	d := c.node.DHT()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for d.WAN.RoutingTable().Size()+d.LAN.RoutingTable().Size() == 0 {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}
