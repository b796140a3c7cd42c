package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	routinghelpers "github.com/libp2p/go-libp2p-routing-helpers"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/miekg/dns"
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
// Config.NameSystem, or an offline one, under the DNSLink overrides.
func newNameSystem(cfg Config) (namesys.NameSystem, error) {
	ns := cfg.NameSystem
	if ns == nil {
		var err error
		ns, err = namesys.NewNameSystem(valueStoreOrNull(cfg.Routing),
			namesys.WithDNSResolverWithTTL(offlineLookupTXT),
			namesys.WithCache(nameCacheSize),
		)
		if err != nil {
			return nil, fmt.Errorf("gateway: name system: %w", err)
		}
	}
	if len(cfg.DNSLinkOverrides) == 0 {
		return ns, nil
	}
	o := &overrideNameSystem{NameSystem: ns, links: make(map[string]path.Path, len(cfg.DNSLinkOverrides))}
	for domain, value := range cfg.DNSLinkOverrides {
		if _, ok := dns.IsDomainName(domain); !ok || strings.Contains(domain, "/") {
			return nil, fmt.Errorf("gateway: DNSLink override %q: not a domain name", domain)
		}
		p, err := path.NewPath(value)
		if err != nil {
			return nil, fmt.Errorf("gateway: DNSLink override %s=%q: %w (want /ipfs/CID or /ipns/NAME)", domain, value, err)
		}
		o.links[strings.TrimSuffix(strings.ToLower(domain), ".")] = p
	}
	return o, nil
}

// offlineLookupTXT answers every DNS query with "no such record", so an
// offline gateway sends no DNS traffic and unknown DNSLink names are 404s.
func offlineLookupTXT(_ context.Context, name string) ([]string, time.Duration, error) {
	return nil, 0, &net.DNSError{Err: "offline: no DNS lookups", Name: name, IsNotFound: true}
}

// overrideNameSystem answers DNSLink names from a fixed table before asking
// the name system underneath, as IPFS_NS_MAP does, but set per gateway.
type overrideNameSystem struct {
	namesys.NameSystem
	links map[string]path.Path
}

// Resolve follows the name one step at a time, so that a chain may pass
// through both the overrides and the name system underneath (an
// IPFS_NS_MAP entry naming an overridden domain, say).
func (o *overrideNameSystem) Resolve(ctx context.Context, p path.Path, opts ...namesys.ResolveOption) (namesys.Result, error) {
	if _, ok := o.lookup(p); !ok && !p.Mutable() {
		return o.NameSystem.Resolve(ctx, p, opts...)
	}
	depth := namesys.ProcessResolveOptions(opts).Depth
	if depth == namesys.UnlimitedDepth {
		// An override may point at itself; bound the chain like boxo does.
		depth = namesys.DefaultDepthLimit
	}
	res := namesys.Result{Path: p}
	for step := uint(0); res.Path.Mutable(); step++ {
		if step == depth {
			return res, namesys.ErrResolveRecursion
		}
		if target, ok := o.lookup(res.Path); ok {
			res.Path, res.LastMod = target, time.Now()
			continue
		}
		next, err := o.NameSystem.Resolve(ctx, res.Path, append(opts, namesys.ResolveWithDepth(1))...)
		if err != nil && !errors.Is(err, namesys.ErrResolveRecursion) {
			return next, err
		}
		if next.TTL > 0 && (res.TTL == 0 || next.TTL < res.TTL) {
			res.TTL = next.TTL
		}
		res.Path, res.LastMod = next.Path, next.LastMod
	}
	return res, nil
}

func (o *overrideNameSystem) ResolveAsync(ctx context.Context, p path.Path, opts ...namesys.ResolveOption) <-chan namesys.AsyncResult {
	if _, ok := o.lookup(p); !ok {
		return o.NameSystem.ResolveAsync(ctx, p, opts...)
	}
	out := make(chan namesys.AsyncResult, 1)
	res, err := o.Resolve(ctx, p, opts...)
	out <- namesys.AsyncResult{Path: res.Path, TTL: res.TTL, LastMod: res.LastMod, Err: err}
	close(out)
	return out
}

// lookup returns the override for /ipns/DOMAIN/rest, joined with rest.
func (o *overrideNameSystem) lookup(p path.Path) (path.Path, bool) {
	if p.Namespace() != path.IPNSNamespace {
		return nil, false
	}
	segs := p.Segments()
	base, ok := o.links[strings.TrimSuffix(strings.ToLower(segs[1]), ".")]
	if !ok {
		return nil, false
	}
	joined, err := path.Join(base, segs[2:]...)
	if err != nil {
		return nil, false
	}
	return joined, true
}
