package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/crypto"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/pinsvc"
	"github.com/islandsite/island/internal/repo"
)

// ID is the node's peer ID, mode and, with a node, dialable addresses,
// those a browser can dial marked.
func (c *Core) ID(ctx context.Context) (Identity, error) {
	out := Identity{ID: c.repo.PeerID().String(), Addrs: []string{}, BrowserAddrs: []string{}, Mode: c.cfg.Mode}
	if c.node != nil {
		for _, a := range c.node.Addrs() {
			out.Addrs = append(out.Addrs, a.String())
			if node.BrowserDialable(a) {
				out.BrowserAddrs = append(out.BrowserAddrs, a.String())
			}
		}
		out.Reachability = reachability(c.node.Reachability())
	}
	return out, nil
}

func reachability(r node.Reachability) *Reachability {
	out := &Reachability{Status: r.Status, RelayAddrs: []string{}, RelayService: r.RelayService, HolePunching: r.HolePunching}
	for _, a := range r.RelayAddrs {
		out.RelayAddrs = append(out.RelayAddrs, a.String())
	}
	if s := r.LastServed; s != nil {
		out.LastServed = &ServedPeer{Peer: s.Peer.String(), Path: "direct", At: s.At}
		if s.Relayed {
			out.LastServed.Path = "relayed"
		}
		if s.Addr != nil {
			out.LastServed.Addr = s.Addr.String()
		}
	}
	return out
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
	st := Status{PeerID: id.ID, Mode: id.Mode, Addrs: id.Addrs, Reachability: id.Reachability, Follows: []Follow{}}
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
		st.Site = &SiteStatus{CID: cur.CID.String(), Name: self, Version: cur.Version, Check: c.lastCheck(ctx)}
		st.Site.URLs, _ = c.siteURLs(cur.CID, self)
		st.Site.Size = c.dagSize(ctx, cur.CID)
	}
	if st.Follows, err = c.FollowLs(ctx); err != nil {
		return st, err
	}
	if st.Repo, err = c.RepoStat(ctx); err != nil {
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
			rec, err := c.names.Republish(ctx, k)
			if rec.Raw != nil && c.push != nil {
				// Also when routing refused it: on its topic from the
				// start, the author answers the peers joining it (a
				// follower back, a Kubo resolving by pubsub) with the
				// record, and subscribers that missed a push get it again.
				if perr := c.push.Publish(ctx, rec); perr != nil {
					c.log.Debug("push on republish", "name", rec.Name.String(), "err", perr)
				}
			}
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
// fetches (from the origins it names that the node would dial anyway,
// first) and holds its CID for the request, and removing it drops that hold
// only. What a friend reads of a failure is said here, never an error's
// text, which may name the node's files; a CID nobody provides now is tried
// again later. Pins whose request a crash cut short in its removal are
// released.
func (c *Core) PinningService(ctx context.Context, cfg pinsvc.Config) (*pinsvc.Server, error) {
	cfg.Datastore = c.repo.Datastore()
	cfg.Pin = func(ctx context.Context, id string, v cid.Cid, origins []ma.Multiaddr, maxBytes uint64) (uint64, error) {
		h := repo.Holder{Kind: repo.HolderPinService, ID: id}
		lim := sizeLimit{max: maxBytes, what: "the pinning token's quota (daemon --pinning-quota)"}
		if err := c.fetchAndHold(ctx, v, h, repo.Recursive, c.dialableOrigins(origins), nil, lim); err != nil {
			return 0, pinError(v, err)
		}
		size, err := c.repo.DAGSize(ctx, v)
		if err != nil {
			return 0, errors.Join(err, c.release(ctx, v, h))
		}
		return size, nil
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
	s, err := pinsvc.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c.releaseOrphanedRequests(ctx, s)
	return s, nil
}

// releaseOrphanedRequests lets go of pins held for pinning requests the
// service no longer has: a removal that crashed between forgetting the
// request and unpinning.
func (c *Core) releaseOrphanedRequests(ctx context.Context, s *pinsvc.Server) {
	pins, err := c.repo.Pins(ctx)
	if err != nil {
		c.log.Warn("list pins for the pinning service", "err", err)
		return
	}
	for _, p := range pins {
		for _, h := range p.Holds {
			if h.Holder.Kind != repo.HolderPinService || s.Accounts(h.Holder.ID) {
				continue
			}
			if err := c.release(ctx, p.CID, h.Holder); err != nil {
				c.log.Warn("release an orphaned pinning-service pin", "cid", p.CID.String(), "request", h.Holder.ID, "err", err)
			}
		}
	}
}

// pinError says to a friend why a pin of v failed, in words fit for
// another machine: no provider answered (tried again later), or nothing
// more.
func pinError(v cid.Cid, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, repo.ErrTooBig):
		return fmt.Errorf("%w: %w", pinsvc.ErrOverQuota, err)
	case errors.Is(err, repo.ErrRepoFull):
		return &pinsvc.PinError{Err: err, Details: "the pinning node's disk quota is full"}
	case errors.Is(err, node.ErrNoProviders), ipld.IsNotFound(err), errors.Is(err, context.DeadlineExceeded):
		return &pinsvc.PinError{Retry: true, Err: err,
			Details: fmt.Sprintf("no provider of %s answered: the content is not reachable from this node now", v)}
	}
	return err
}

// dialableOrigins keeps the origins of a pinning request that the node
// would dial anyway, as its DHTs filter peers' addresses: public ones, and
// loopback and private ones only when the node itself runs on a LAN. A
// request from anyone with the token must not make the node dial into the
// owner's own network (a router's admin page, a printer) or resolve names.
func (c *Core) dialableOrigins(origins []ma.Multiaddr) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, a := range origins {
		if dialableOrigin(a, c.cfg.Mode == ModeLAN) {
			out = append(out, a)
		} else {
			c.log.Debug("pinning request origin not dialed", "addr", a.String())
		}
	}
	return out
}

func dialableOrigin(a ma.Multiaddr, lan bool) bool {
	if len(a) == 0 {
		return false
	}
	switch a[0].Code() {
	case ma.P_IP4, ma.P_IP6:
	default:
		return false // names resolve to anything, /unix is local
	}
	ip, err := manet.ToIP(a)
	if err != nil || ip.IsUnspecified() || ip.IsMulticast() || ip.IsLinkLocalUnicast() {
		return false
	}
	if manet.IsPublicAddr(a) {
		return true
	}
	return lan && (manet.IsIPLoopback(a) || manet.IsPrivateAddr(a))
}

// AwaitPeers waits until the node's DHT knows at least one peer, or ctx
// ends, and says whether one came.
func (c *Core) AwaitPeers(ctx context.Context) bool {
	if c.node == nil {
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
