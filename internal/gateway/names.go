package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
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

// statusBackend gives errors the status they deserve where boxo's blocks
// backend does not: it answers 500 for any failure to resolve /ipns/NAME,
// but a malformed name is the client's error (400) and a name nobody
// published is not found (404); and it starts a CAR response before it has
// the first block, so a missing root ends as a reset connection, not 504.
type statusBackend struct {
	gateway.IPFSBackend
	blocks blockservice.BlockService
}

// GetCAR waits for the CAR's root block before boxo sends the status line,
// so a root that cannot be found in time answers 504.
func (b *statusBackend) GetCAR(ctx context.Context, p path.ImmutablePath, params gateway.CarParams) (gateway.ContentPathMetadata, io.ReadCloser, error) {
	md, car, err := b.IPFSBackend.GetCAR(ctx, p, params)
	if err != nil || !md.LastSegment.RootCid().Defined() {
		return md, car, err
	}
	if _, err := b.blocks.GetBlock(ctx, md.LastSegment.RootCid()); err != nil {
		car.Close()
		return md, nil, err
	}
	return md, car, nil
}

// WrapContextForRequest keeps boxo's per-request blockservice session (one
// bitswap session per page load), which embedding alone would hide.
func (b *statusBackend) WrapContextForRequest(ctx context.Context) context.Context {
	if w, ok := b.IPFSBackend.(gateway.WithContextHint); ok {
		return w.WrapContextForRequest(ctx)
	}
	return ctx
}

func (b *statusBackend) ResolveMutable(ctx context.Context, p path.Path) (path.ImmutablePath, time.Duration, time.Time, error) {
	if p.Namespace() == path.IPNSNamespace {
		if err := checkName(p.Segments()[1]); err != nil {
			return path.ImmutablePath{}, 0, time.Time{}, err
		}
	}
	ip, ttl, lastMod, err := b.IPFSBackend.ResolveMutable(ctx, p)
	return ip, ttl, lastMod, nameError(err)
}

func (b *statusBackend) GetIPNSRecord(ctx context.Context, c cid.Cid) ([]byte, error) {
	rec, err := b.IPFSBackend.GetIPNSRecord(ctx, c)
	return rec, nameError(err)
}

// checkName accepts what boxo's name system can resolve: an IPNS name or
// a domain name for DNSLink.
func checkName(name string) error {
	if _, err := ipns.NameFromString(name); err == nil {
		return nil
	}
	if _, ok := dns.IsDomainName(name); ok && !strings.ContainsAny(name, " \t\\") {
		if c, err := cid.Decode(name); err == nil && c.Type() != cid.Libp2pKey {
			return gateway.NewErrorStatusCode(fmt.Errorf("%s is a CID, not a name: IPNS names are libp2p-key CIDs (browse content at /ipfs/%s)", name, name), http.StatusBadRequest)
		}
		return nil
	}
	return gateway.NewErrorStatusCode(fmt.Errorf("%q is neither an IPNS name (k51…) nor a DNSLink domain", name), http.StatusBadRequest)
}

// nameError maps a resolution failure to an HTTP status. Timeouts keep
// their type, which boxo turns into 504.
func nameError(err error) error {
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, namesys.ErrResolveFailed), errors.Is(err, namesys.ErrResolveRecursion),
		errors.Is(err, routing.ErrNotFound), errors.Is(err, ipns.ErrExpiredRecord):
		return gateway.NewErrorStatusCode(err, http.StatusNotFound)
	case errors.Is(err, ipns.ErrInvalidName), errors.Is(err, ipns.ErrInvalidPath):
		return gateway.NewErrorStatusCode(err, http.StatusBadRequest)
	case errors.As(err, &dnsErr):
		// The DNS server failed us (not "no such name"): an upstream error.
		return gateway.NewErrorStatusCode(err, http.StatusBadGateway)
	}
	return err
}
