package names

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	doh "github.com/libp2p/go-doh-resolver"
	"github.com/miekg/dns"
	madns "github.com/multiformats/go-multiaddr-dns"
)

// Values of NewDNSResolver's spec besides URLs and addresses.
const (
	// DNSSystem is the system's resolver, the default.
	DNSSystem = "system"
	// DNSNone makes no DNS lookups: only DNSLink overrides resolve.
	DNSNone = "none"
)

// resolvConf is where the system's nameservers are listed.
const resolvConf = "/etc/resolv.conf"

// dnsTimeout bounds one query to one server.
const dnsTimeout = 5 * time.Second

// NewDNSResolver returns the resolver spec names, for Config.DNSResolver:
//
//   - "system" (or ""): the nameservers of /etc/resolv.conf, asked
//     directly so each answer's TTL is known; where that file cannot be
//     read, Go's own resolver, whose answers carry no TTL.
//   - "none": nil, no lookups at all.
//   - "https://HOST/PATH": DNS over HTTPS (RFC 8484), as Kubo's
//     DNS.Resolvers; plain http:// only to a loopback address.
//   - "HOST:PORT" or "udp://HOST:PORT": that DNS server, over UDP (TCP when
//     an answer is truncated).
//
// System caches what any of them answers for the answer's TTL.
func NewDNSResolver(spec string) (madns.BasicResolver, error) {
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "" || spec == DNSSystem:
		cfg, err := dns.ClientConfigFromFile(resolvConf)
		if err != nil || len(cfg.Servers) == 0 {
			return madns.DefaultResolver, nil
		}
		servers := make([]string, len(cfg.Servers))
		for i, s := range cfg.Servers {
			servers[i] = net.JoinHostPort(s, cfg.Port)
		}
		return &serverResolver{servers: servers}, nil
	case spec == DNSNone:
		return nil, nil
	case strings.HasPrefix(spec, "https://"), strings.HasPrefix(spec, "http://"):
		u, err := url.Parse(spec)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("names: DNS resolver %q: not a URL: want https://HOST/dns-query", spec)
		}
		r, err := doh.NewResolver(spec)
		if err != nil {
			return nil, fmt.Errorf("names: DNS resolver %q: %w", spec, err)
		}
		return r, nil
	}
	addr := strings.TrimPrefix(spec, "udp://")
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("names: DNS resolver %q: want system, none, https://HOST/PATH or HOST:PORT", spec)
	}
	return &serverResolver{servers: []string{addr}}, nil
}

// serverResolver asks DNS servers directly (in order, until one answers),
// which, unlike Go's resolver, tells the TTL of each answer.
type serverResolver struct {
	servers []string
}

var _ madns.TXTWithTTLResolver = (*serverResolver)(nil)

func (r *serverResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	return net.DefaultResolver.LookupIPAddr(ctx, host)
}

func (r *serverResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	txt, _, err := r.LookupTXTWithTTL(ctx, name)
	return txt, err
}

// LookupTXTWithTTL returns name's TXT records and the smallest TTL among
// them. No such name, or no TXT records, is a *net.DNSError with
// IsNotFound, which boxo reports as a missing DNSLink.
func (r *serverResolver) LookupTXTWithTTL(ctx context.Context, name string) ([]string, time.Duration, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	var errs []error
	for _, server := range r.servers {
		in, err := exchange(ctx, q, server)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch in.Rcode {
		case dns.RcodeSuccess:
		case dns.RcodeNameError:
			return nil, 0, &net.DNSError{Err: "no such host", Name: name, Server: server, IsNotFound: true}
		default:
			errs = append(errs, fmt.Errorf("%s answered %s", server, dns.RcodeToString[in.Rcode]))
			continue
		}
		var txt []string
		var ttl uint32
		for _, rr := range in.Answer {
			t, ok := rr.(*dns.TXT)
			if !ok {
				continue
			}
			if len(txt) == 0 || t.Hdr.Ttl < ttl {
				ttl = t.Hdr.Ttl
			}
			txt = append(txt, strings.Join(t.Txt, ""))
		}
		if len(txt) == 0 {
			return nil, 0, &net.DNSError{Err: "no TXT records", Name: name, Server: server, IsNotFound: true}
		}
		return txt, time.Duration(ttl) * time.Second, nil
	}
	return nil, 0, &net.DNSError{Err: errors.Join(errs...).Error(), Name: name, IsTemporary: true}
}

// exchange sends q to server over UDP, again over TCP if the answer did
// not fit.
func exchange(ctx context.Context, q *dns.Msg, server string) (*dns.Msg, error) {
	c := &dns.Client{Timeout: dnsTimeout}
	in, _, err := c.ExchangeContext(ctx, q, server)
	if err == nil && in.Truncated {
		c.Net = "tcp"
		in, _, err = c.ExchangeContext(ctx, q, server)
	}
	return in, err
}

// dnsEntry is a cached DNS answer.
type dnsEntry struct {
	txt   []string
	until time.Time
}

// lookupDNS asks the configured resolver for name's TXT records, from the
// cache while an earlier answer's TTL lasts. An answer without a TTL (Go's
// resolver) is kept for boxo's default of a minute. Overrides never reach
// here, so the cache holds only what DNS said, the same for every request.
func (s *System) lookupDNS(ctx context.Context, name string) ([]string, time.Duration, error) {
	key := NormalizeDomain(name)
	if e, ok := s.dnsCache.Get(key); ok {
		if left := time.Until(e.until); left > 0 {
			return e.txt, left, nil
		}
		s.dnsCache.Remove(key)
	}
	var (
		txt []string
		ttl time.Duration
		err error
	)
	switch r := s.cfg.DNSResolver.(type) {
	case madns.TXTWithTTLResolver:
		// A TTL of 0 here means "do not cache".
		txt, ttl, err = r.LookupTXTWithTTL(ctx, name)
	default:
		txt, err = r.LookupTXT(ctx, name)
		ttl = defaultDNSTTL
	}
	if err != nil {
		return nil, 0, err
	}
	if ttl > 0 {
		s.dnsCache.Add(key, dnsEntry{txt: txt, until: time.Now().Add(ttl)})
	}
	return txt, ttl, nil
}

// defaultDNSTTL is how long an answer without a TTL is cached: boxo's
// namesys.DefaultResolverCacheTTL.
const defaultDNSTTL = time.Minute
