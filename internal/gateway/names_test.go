package gateway

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOfflineNames runs the gateway without a name system, as
// `island daemon --offline` may: IPNS names resolve from Routing, DNSLink
// from IPFS_NS_MAP and the overrides, and nothing else.
func TestOfflineNames(t *testing.T) {
	f := newFixture(t)
	t.Setenv("IPFS_NS_MAP", "env.example:/ipfs/"+f.site.String()+",chain.example:/ipns/example.org")
	cfg := DefaultConfig()
	cfg.BlockService = f.bserv
	cfg.Routing = f.routing
	cfg.DNSLinkOverrides = map[string]string{
		"example.org":         "/ipfs/" + f.site.String(),
		"Loop.Example.":       "/ipns/loop.example",
		"name.example":        "/ipns/" + f.name.String(),
		"sub.example":         "/ipfs/" + f.site.String() + "/about",
		"to-override.example": "/ipns/example.org/posts",
	}
	g := startGateway(t, cfg)
	index := readFile(t, f.siteDir, "index.html")
	about := readFile(t, f.siteDir, "about", "index.html")
	first := readFile(t, f.siteDir, "posts", "first-post", "index.html")

	for _, tc := range []struct {
		url    string
		status int
		body   []byte
	}{
		{"/ipns/" + f.name.String() + "/", http.StatusOK, index},
		{"/ipns/env.example/", http.StatusOK, index},
		{"/ipns/chain.example/about/", http.StatusOK, about},
		{"/ipns/example.org/", http.StatusOK, index},
		{"/ipns/EXAMPLE.ORG/about/", http.StatusOK, about},
		{"/ipns/name.example/about/", http.StatusOK, about},
		{"/ipns/sub.example/", http.StatusOK, about},
		{"/ipns/to-override.example/first-post/", http.StatusOK, first},
		{"/ipns/loop.example/", http.StatusNotFound, nil},
		{"/ipns/ipfs.tech/", http.StatusNotFound, nil}, // no DNS lookups offline
		{"/ipns/" + f.name.String() + "?format=ipns-record", http.StatusOK, f.record},
	} {
		t.Run(tc.url, func(t *testing.T) {
			r := fetch(t, g.URL(), "GET", tc.url, "")
			require.Equal(t, tc.status, r.status, "%s", r.body)
			if tc.body != nil {
				sameBytes(t, tc.body, r.body, tc.url)
			}
		})
	}
}
