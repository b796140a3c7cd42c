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

// resolvedName is a name's resolution made for one request before boxo
// ran, carried in the request's context so that boxo's own resolve of the
// same name returns it: one lookup per request, and boxo serves the very
// root the response cache keyed the request by.
type resolvedName struct {
	name string // as the request spells it
	res  namesys.Result
	err  error
}

type resolvedNameKey struct{}

// nameRoot resolves an IPNS key (as the request spells it) to the CID it
// points at now, for the response cache's key; false when it is no key or
// does not resolve. The returned context carries the resolution, outcome
// and error alike, to boxo (through onceNameSystem).
func nameRoot(ns namesys.NameSystem) func(context.Context, string) (context.Context, string, bool) {
	return func(ctx context.Context, name string) (context.Context, string, bool) {
		p, err := path.NewPath(ipns.NamespacePrefix + name)
		if err != nil {
			return ctx, "", false
		}
		res, err := ns.Resolve(ctx, p)
		ctx = context.WithValue(ctx, resolvedNameKey{}, &resolvedName{name: name, res: res, err: err})
		if err != nil {
			return ctx, "", false
		}
		segs := res.Path.Segments()
		if res.Path.Namespace() != path.IPFSNamespace || len(segs) < 2 {
			return ctx, "", false
		}
		return ctx, segs[1], true
	}
}

// onceNameSystem is the name system boxo resolves with: a name already
// resolved for the request (nameRoot) is answered from the context.
type onceNameSystem struct{ namesys.NameSystem }

func (o onceNameSystem) Resolve(ctx context.Context, p path.Path, opts ...namesys.ResolveOption) (namesys.Result, error) {
	r, ok := ctx.Value(resolvedNameKey{}).(*resolvedName)
	segs := p.Segments()
	if !ok || len(opts) > 0 || p.Namespace() != path.IPNSNamespace || segs[1] != r.name {
		return o.NameSystem.Resolve(ctx, p, opts...)
	}
	if r.err != nil || len(segs) == 2 {
		return r.res, r.err
	}
	res := r.res
	joined, err := path.Join(res.Path, segs[2:]...)
	if err != nil {
		return namesys.Result{}, err
	}
	res.Path = joined
	return res, nil
}
