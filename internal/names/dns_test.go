package names_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/names/namestest"
)

// DNSLink resolves through a real DNS server (one the test runs on
// 127.0.0.1), spoken to directly and over HTTPS; answers are cached for
// their TTL and not at all with a TTL of 0; overrides still come first.
func TestDNSLinkThroughDNS(t *testing.T) {
	ctx := context.Background()
	srv := namestest.DNSServer(t)
	r, _ := namestest.Routing(t)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)
	site := namestest.IPFSPath(t, "dns site")
	uncached := namestest.IPFSPath(t, "uncached")
	overridden := namestest.IPFSPath(t, "overridden")

	for _, kind := range []string{"udp", "doh"} {
		t.Run(kind, func(t *testing.T) {
			spec := srv.Addr
			if kind == "doh" {
				spec = srv.DoH
			}
			domain := kind + ".example.org"
			srv.Set(domain, site.String(), 300)
			srv.Set("ttl0."+domain, uncached.String(), 0)
			srv.Set("name."+domain, "/ipns/"+name.String(), 300)
			resolver, err := names.NewDNSResolver(spec)
			require.NoError(t, err)
			s := namestest.System(t, r, nil, func(c *names.Config) { c.DNSResolver = resolver })
			_, err = s.Publish(ctx, key, site)
			require.NoError(t, err)

			for range 3 {
				res, err := s.Resolve(ctx, "/ipns/"+domain+"/about")
				require.NoError(t, err)
				require.Equal(t, site.String()+"/about", res.Path.String())
			}
			require.Equal(t, 1, srv.Queries(domain), "cached for the answer's TTL")

			for range 2 {
				res, err := s.Resolve(ctx, "ttl0."+domain)
				require.NoError(t, err)
				require.Equal(t, uncached.String(), res.Path.String())
			}
			require.Equal(t, 2, srv.Queries("ttl0."+domain), "a TTL of 0 is not cached")

			res, err := s.Resolve(ctx, "name."+domain)
			require.NoError(t, err)
			require.Equal(t, site.String(), res.Path.String())
			require.True(t, res.Name.Equal(name))

			_, err = s.Resolve(ctx, "missing."+domain)
			require.ErrorIs(t, err, names.ErrNotFound)

			res, err = s.Resolve(names.WithNSMap(ctx, map[string]string{domain: overridden.String()}), domain)
			require.NoError(t, err)
			require.Equal(t, overridden.String(), res.Path.String(), "a request's override comes before DNS")
		})
	}
}

func TestNewDNSResolver(t *testing.T) {
	for _, tt := range []struct {
		spec    string
		none    bool
		wantErr string
	}{
		{spec: ""},
		{spec: "system"},
		{spec: "none", none: true},
		{spec: "127.0.0.1:53"},
		{spec: "udp://[::1]:53"},
		{spec: "https://dns.example/dns-query"},
		{spec: "http://dns.example/dns-query", wantErr: "insecure"},
		{spec: "dns.example", wantErr: "want system, none"},
		{spec: "https://", wantErr: "not a URL"},
	} {
		t.Run(tt.spec, func(t *testing.T) {
			r, err := names.NewDNSResolver(tt.spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.ErrorContains(t, err, tt.spec)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.none, r == nil)
		})
	}
}
