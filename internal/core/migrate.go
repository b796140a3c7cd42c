package core

import (
	"context"
	"fmt"

	"github.com/islandsite/island/internal/pinsvc"
	"github.com/islandsite/island/internal/repo"
)

// Names boxo's pinner gave the pins an earlier island made for the follower
// and the pinning service.
const (
	legacyFollowPin  = "follow"
	legacyServicePin = "pinning service"
)

// migrateHolders gives the pins an earlier island made before pins had
// holders (repo.HolderLegacy) their real holders: the followed names that
// keep the version, the pinning-service requests that asked for it. A pin
// nobody can be found for becomes the user's, who can then remove it: no
// pin is dropped, and none is left that nobody can remove.
func (c *Core) migrateHolders(ctx context.Context) error {
	pins, err := c.repo.Pins(ctx)
	if err != nil {
		return fmt.Errorf("core: migrate pins: %w", err)
	}
	var kept, requested map[string][]string
	for _, p := range pins {
		for _, h := range p.Holds {
			if h.Kind != repo.HolderLegacy {
				continue
			}
			if kept == nil {
				if kept, requested, err = c.legacyOwners(ctx); err != nil {
					return err
				}
			}
			var owners []repo.Holder
			switch h.ID {
			case legacyFollowPin:
				for _, n := range kept[p.CID.String()] {
					owners = append(owners, repo.Holder{Kind: repo.HolderFollow, ID: n})
				}
			case legacyServicePin:
				for _, id := range requested[p.CID.String()] {
					owners = append(owners, repo.Holder{Kind: repo.HolderPinService, ID: id})
				}
			}
			if len(owners) == 0 {
				owners = []repo.Holder{userHolder}
			}
			for _, o := range owners {
				if err := c.repo.Pin(ctx, p.CID, o, h.Mode); err != nil {
					return fmt.Errorf("core: migrate pin %s: %w", p.CID, err)
				}
			}
			if err := c.repo.Unpin(ctx, p.CID, h.Holder); err != nil {
				return fmt.Errorf("core: migrate pin %s: %w", p.CID, err)
			}
			c.log.Info("pin given its holders", "cid", p.CID.String(), "was", h.ID, "holders", fmt.Sprint(owners))
		}
	}
	return nil
}

// legacyOwners reads who may own legacy pins: per CID, the followed names
// keeping it and the pinning requests that pinned it.
func (c *Core) legacyOwners(ctx context.Context) (kept, requested map[string][]string, err error) {
	kept, requested = map[string][]string{}, map[string][]string{}
	byCID, err := c.follows.KeptBy(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("core: migrate pins: %w", err)
	}
	for v, ns := range byCID {
		kept[v.String()] = ns
	}
	reqs, err := pinsvc.PinnedRequests(ctx, c.repo.Datastore())
	if err != nil {
		return nil, nil, fmt.Errorf("core: migrate pins: %w", err)
	}
	for v, ids := range reqs {
		requested[v.String()] = ids
	}
	return kept, requested, nil
}
