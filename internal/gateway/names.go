package gateway

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	routinghelpers "github.com/libp2p/go-libp2p-routing-helpers"
	"github.com/libp2p/go-libp2p/core/routing"
)

// nameCacheSize bounds the resolved names kept by the gateway's own name
// system (when Config.NameSystem is nil); each entry is a few hundred bytes.
const nameCacheSize = 512

func valueStoreOrNull(vs routing.ValueStore) routing.ValueStore {
	if vs == nil {
		return routinghelpers.Null{}
	}
	return vs
}

// newNameSystem returns the name system the gateway resolves with:
// Config.NameSystem, or an offline one over Config.Routing.
func newNameSystem(cfg Config) (namesys.NameSystem, error) {
	if cfg.NameSystem != nil {
		return cfg.NameSystem, nil
	}
	ns, err := namesys.NewNameSystem(valueStoreOrNull(cfg.Routing),
		namesys.WithDNSResolverWithTTL(offlineLookupTXT),
		namesys.WithCache(nameCacheSize),
	)
	if err != nil {
		return nil, fmt.Errorf("gateway: name system: %w", err)
	}
	return ns, nil
}

// offlineLookupTXT answers every DNS query with "no such record", so an
// offline gateway sends no DNS traffic and unknown DNSLink names are 404s.
func offlineLookupTXT(_ context.Context, name string) ([]string, time.Duration, error) {
	return nil, 0, &net.DNSError{Err: "offline: no DNS lookups", Name: name, IsNotFound: true}
}

// nameRoot resolves an IPNS name to the CID it points at now, for the
// response cache's key; false when the name does not resolve.
func nameRoot(ns namesys.NameSystem) func(context.Context, ipns.Name) (string, bool) {
	return func(ctx context.Context, name ipns.Name) (string, bool) {
		res, err := ns.Resolve(ctx, name.AsPath())
		if err != nil {
			return "", false
		}
		segs := res.Path.Segments()
		if res.Path.Namespace() != path.IPFSNamespace || len(segs) < 2 {
			return "", false
		}
		return segs[1], true
	}
}
