package names

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	"github.com/miekg/dns"
)

// ResolveResult is what a name resolved to.
type ResolveResult struct {
	// Path is immutable (/ipfs/…), with any sub-path of the input appended.
	Path path.Path
	// Name, Seq, EOL and Record describe the last IPNS record on the way;
	// Record is nil when the chain had none (a DNSLink straight to /ipfs).
	Name   ipns.Name
	Seq    uint64
	EOL    time.Time
	Record []byte
	// TTL is the shortest cache hint along the chain (0: unknown).
	TTL time.Duration
}

// Resolve resolves "/ipns/<key>[/sub]", "<key>", a DNSLink domain (with or
// without /ipns/) or an /ipfs/ path to an immutable path. IPNS records come
// from the local store and routing, whichever valid one has the highest
// sequence; results are cached for the record's TTL.
func (s *System) Resolve(ctx context.Context, name string) (ResolveResult, error) {
	return s.resolve(ctx, name, false)
}

// ResolveFresh is Resolve without the cache: every IPNS record on the way
// is looked up locally and in routing, for a caller that polls a name for
// changes (the follower) and must not wait out a record's TTL.
func (s *System) ResolveFresh(ctx context.Context, name string) (ResolveResult, error) {
	return s.resolve(ctx, name, true)
}

func (s *System) resolve(ctx context.Context, name string, fresh bool) (ResolveResult, error) {
	p, err := namePath(name)
	if err != nil {
		return ResolveResult{}, err
	}
	return s.resolvePath(ctx, p, name, fresh)
}

// resolvePath is resolve of a path already parsed (the gateway's, once per
// request); name is what errors call it.
func (s *System) resolvePath(ctx context.Context, p path.Path, name string, fresh bool) (ResolveResult, error) {
	var err error
	var res ResolveResult
	for hop := 0; p.Mutable(); hop++ {
		if hop == maxResolveDepth {
			return ResolveResult{}, fmt.Errorf("names: resolve %s: more than %d names in a chain", name, maxResolveDepth)
		}
		segs := p.Segments()
		head, rest := segs[1], segs[2:]
		var target path.Path
		var ttl time.Duration
		if n, nerr := s.parseName(head); nerr == nil {
			rec, err := s.bestRecord(ctx, n, fresh)
			if err != nil {
				return ResolveResult{}, err
			}
			target, ttl = rec.Value, min(rec.TTL, time.Until(rec.EOL))
			res.Name, res.Seq, res.EOL, res.Record = n, rec.Seq, rec.EOL, rec.Raw
		} else if _, ok := dns.IsDomainName(head); ok && strings.Contains(head, ".") {
			if target, ttl, err = s.dnslink(ctx, head); err != nil {
				return ResolveResult{}, err
			}
		} else {
			return ResolveResult{}, fmt.Errorf("names: %q is neither an IPNS key nor a DNSLink domain", head)
		}
		if p, err = path.Join(target, rest...); err != nil {
			return ResolveResult{}, fmt.Errorf("names: resolve %s: %w", name, err)
		}
		res.TTL = minNonZero(res.TTL, ttl)
	}
	res.Path = p
	return res, nil
}

// parseName is ipns.NameFromString, remembered: decoding base36 is most
// of what resolving a cached name costs, and the gateway resolves the same
// few names on every request.
func (s *System) parseName(text string) (ipns.Name, error) {
	if n, ok := s.parsed.Get(text); ok {
		return n, nil
	}
	n, err := ipns.NameFromString(text)
	if err == nil {
		s.parsed.Add(text, n)
	}
	return n, err
}

// namePath turns what a user typed into a path: /ipns/… and /ipfs/… as
// they are, anything else is taken as an IPNS key or domain.
func namePath(name string) (path.Path, error) {
	s := strings.TrimSpace(name)
	if !strings.HasPrefix(s, "/") {
		s = ipns.NamespacePrefix + s
	}
	p, err := path.NewPath(s)
	if err != nil {
		return nil, fmt.Errorf("names: %q is not a name or path: %w", name, err)
	}
	return p, nil
}

// dnslink resolves one DNSLink step of domain.
func (s *System) dnslink(ctx context.Context, domain string) (path.Path, time.Duration, error) {
	if o, ok := requestOverride(ctx, NormalizeDomain(domain)); ok && o.err != nil {
		// Reported as it is: boxo's wrapping would only repeat the domain.
		return nil, 0, o.err
	}
	p, err := path.NewPath(ipns.NamespacePrefix + domain)
	if err != nil {
		return nil, 0, fmt.Errorf("names: DNSLink %s: %w", domain, err)
	}
	res, err := s.dns.Resolve(ctx, p, namesys.ResolveWithDepth(1))
	switch {
	case err == nil, errors.Is(err, namesys.ErrResolveRecursion) && res.Path != nil:
		// Depth 1 stops after one step, also when it points at another name.
		return res.Path, res.TTL, nil
	case errors.Is(err, ErrDNSDisabled):
		return nil, 0, fmt.Errorf("%w: cannot look up the DNSLink of %s; set IPFS_NS_MAP=%s:/ipfs/CID to override it",
			ErrDNSDisabled, domain, domain)
	case errors.Is(err, namesys.ErrResolveFailed):
		return nil, 0, fmt.Errorf("%w: DNSLink of %s: %w", ErrNotFound, domain, err)
	}
	return nil, 0, fmt.Errorf("names: DNSLink of %s: %w", domain, err)
}

func minNonZero(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return max(b, 0)
	case b <= 0:
		return a
	}
	return min(a, b)
}
