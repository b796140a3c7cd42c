package names

import (
	"context"
	"fmt"
	"strings"

	"github.com/ipfs/boxo/path"
)

// ParseNSMap parses Kubo's IPFS_NS_MAP format,
// "example.com:/ipfs/CID,other.net:/ipns/NAME", into DNSLink overrides.
func ParseNSMap(s string) (map[string]string, error) {
	out := make(map[string]string)
	for pair := range strings.SplitSeq(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		domain, value, ok := strings.Cut(pair, ":")
		if !ok || domain == "" || strings.Contains(domain, "/") {
			return nil, fmt.Errorf("names: IPFS_NS_MAP entry %q: want domain:/ipfs/CID or domain:/ipns/NAME", pair)
		}
		if _, err := path.NewPath(value); err != nil {
			return nil, fmt.Errorf("names: IPFS_NS_MAP entry %q: %q is not a content path: %w", pair, value, err)
		}
		out[NormalizeDomain(domain)] = value
	}
	return out, nil
}

// NormalizeDomain is the form DNSLink overrides are keyed by: lower case,
// without the trailing dot of a fully qualified name.
func NormalizeDomain(d string) string { return strings.ToLower(strings.TrimSuffix(d, ".")) }

// WithNSMap returns a context under which DNSLink resolution consults m
// (domain → /ipfs/… or /ipns/…, as ParseNSMap returns) before the System's
// DNSLinkOverrides: how the daemon honours the IPFS_NS_MAP a client sends
// with its request. m replaces any map ctx already carries and is copied,
// so the caller may change it afterwards. A value that is not a content path
// makes resolving its domain fail with an error naming the domain; other
// domains resolve as usual. DNSLink results are never cached, so one
// request's overrides are never seen by another.
func WithNSMap(ctx context.Context, m map[string]string) context.Context {
	o := make(map[string]override, len(m))
	for domain, value := range m {
		p, err := path.NewPath(value)
		if err != nil {
			err = fmt.Errorf("names: DNSLink override for %s: %q is not a content path: %w", domain, value, err)
		}
		o[NormalizeDomain(domain)] = override{path: p, err: err}
	}
	return context.WithValue(ctx, nsMapKey{}, o)
}

type nsMapKey struct{}

// override is one WithNSMap entry, checked once when the context is made.
type override struct {
	path path.Path
	err  error
}

// requestOverride is the WithNSMap entry for a normalised domain, if any.
func requestOverride(ctx context.Context, domain string) (override, bool) {
	m, _ := ctx.Value(nsMapKey{}).(map[string]override)
	o, ok := m[domain]
	return o, ok
}
