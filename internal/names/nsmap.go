package names

import (
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
