package node

import (
	"context"
	"io"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// SetWalkBounds lowers the bounds of a Fetch's walk (maxHeldLinks,
// maxSeen) until the returned function restores them.
func SetWalkBounds(held, seen int) (restore func()) {
	oldHeld, oldSeen := maxHeldLinks, maxSeen
	maxHeldLinks, maxSeen = held, seen
	return func() { maxHeldLinks, maxSeen = oldHeld, oldSeen }
}

// CARsServed is how many CARs the node's trustless gateway started to send.
func (n *Node) CARsServed() int64 { return n.carsServed.Load() }

// RequestCAR asks p's trustless gateway for root's DAG as a CAR.
func (n *Node) RequestCAR(ctx context.Context, p peer.ID, root cid.Cid) (io.ReadCloser, error) {
	return n.requestCAR(ctx, p, root)
}

// CARBuffers is how many block buffers CAR readers allocated so far.
func CARBuffers() int64 { return carBuffers.Load() }
