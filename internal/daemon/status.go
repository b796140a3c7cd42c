package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/boxo/ipns"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/islandsite/island/internal/gateway"
)

// Status is what the gateway's status page and /api/status show.
func (d *Daemon) Status(ctx context.Context) (gateway.Status, error) {
	st := gateway.Status{PeerID: d.repo.PeerID().String(), Follows: []gateway.Follow{}}
	n := d.core.Node
	for _, a := range n.Addrs() {
		st.Addrs = append(st.Addrs, a.String())
	}
	st.Peers = len(n.Peers())
	if ps, err := n.ProvideStat(ctx); err == nil {
		st.Provide = &gateway.ProvideState{
			Provided:      int(ps.WAN.Provided + ps.LAN.Provided),
			Queued:        int(ps.WAN.Queued + ps.LAN.Queued),
			LastReprovide: latest(ps.WAN.LastReprovide, ps.LAN.LastReprovide),
			NextReprovide: earliest(ps.WAN.NextReprovide, ps.LAN.NextReprovide),
		}
	}
	self := keyName(d.repo.Identity())
	if cur, err := d.core.History.Current(ctx, self); err == nil {
		st.Site = &gateway.Site{CID: cur.CID.String(), Name: self}
	}
	fs, err := d.core.Follows.List(ctx)
	if err != nil {
		return st, err
	}
	for _, f := range fs {
		gf := gateway.Follow{Name: f.Name}
		if f.LastCID.Defined() {
			gf.CID = f.LastCID.String()
		}
		st.Follows = append(st.Follows, gf)
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

// keyName is the IPNS name (k51…) of a key.
func keyName(k crypto.PrivKey) string {
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		return ""
	}
	return ipns.NameFromPeer(id).String()
}

// unpinCID removes a recursive or direct pin; not being pinned is fine.
func (d *Daemon) unpinCID(ctx context.Context, c cid.Cid) error {
	err := d.repo.Pinner().Unpin(ctx, c, true)
	if errors.Is(err, pin.ErrNotPinned) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("daemon: unpin %s: %w", c, err)
	}
	return d.repo.Pinner().Flush(ctx)
}
