package sim

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// wirePush subscribes the author to its own name's topic, as Kubo's
// publisher does, so that followers' routing discovery finds it.
func (n *Network) wirePush(_ context.Context, b Behaviour, a *Island, _ []*Island) error {
	if !b.Push {
		return nil
	}
	return a.Push.Subscribe(a.Name())
}

// awaitMesh waits until every follower has found the author on the name's
// topic (routing discovery, then the gossipsub handshake).
func awaitMesh(ctx context.Context, a *Island, fs []*Island) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, f := range fs {
		if f.Push == nil {
			continue
		}
		for !slices.Contains(f.Push.Peers(a.Name()), a.Node.ID()) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("sim: follower %s never found the author on the name's topic: %w", f.Node.ID(), ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}
