package gateway

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

type nameCase struct {
	url    string
	status int
	body   []byte
}

func checkNames(t *testing.T, g *Gateway, cases []nameCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			r := fetch(t, g.URL(), "GET", tc.url, "")
			require.Equal(t, tc.status, r.status, "%s", r.body)
			if tc.body != nil {
				sameBytes(t, tc.body, r.body, tc.url)
			}
		})
	}
}

// TestOfflineNames runs the gateway without a name system, as
// `island daemon --offline` may: IPNS names resolve from Routing, DNSLink
// from IPFS_NS_MAP, and nothing else.
func TestOfflineNames(t *testing.T) {
	f := newFixture(t)
	site := "/ipfs/" + f.site.String()
	t.Setenv("IPFS_NS_MAP", "env.example:"+site+",example.org:"+site+
		",chain.example:/ipns/example.org,loop.example:/ipns/loop.example")
	cfg := DefaultConfig()
	cfg.BlockService = f.bserv
	cfg.Routing = f.routing
	g := startGateway(t, cfg)
	index := readFile(t, f.siteDir, "index.html")
	about := readFile(t, f.siteDir, "about", "index.html")

	checkNames(t, g, []nameCase{
		{"/ipns/" + f.name.String() + "/", http.StatusOK, index},
		{"/ipns/env.example/", http.StatusOK, index},
		{"/ipns/chain.example/about/", http.StatusOK, about},
		{"/ipns/loop.example/", http.StatusNotFound, nil},
		{"/ipns/ipfs.tech/", http.StatusNotFound, nil}, // no DNS lookups offline
		{"/ipns/" + f.name.String() + "?format=ipns-record", http.StatusOK, f.record},
	})
}

// DNSLink records are found whatever the case of the name, may carry a
// sub-path, point at an IPNS name or another DNSLink name, and a loop is
// not found rather than an error.
func TestDNSLinkNames(t *testing.T) {
	f := newFixture(t)
	site := "/ipfs/" + f.site.String()
	ns, err := namesysWith(f, map[string]string{
		"example.org":      site,
		"loop.example":     "/ipns/loop.example",
		"name.example":     "/ipns/" + f.name.String(),
		"sub.example":      site + "/about",
		"to-other.example": "/ipns/example.org/posts",
	})
	require.NoError(t, err)
	cfg := f.config(t)
	cfg.NameSystem = ns
	g := startGateway(t, cfg)
	index := readFile(t, f.siteDir, "index.html")
	about := readFile(t, f.siteDir, "about", "index.html")
	first := readFile(t, f.siteDir, "posts", "first-post", "index.html")

	checkNames(t, g, []nameCase{
		{"/ipns/example.org/", http.StatusOK, index},
		{"/ipns/EXAMPLE.ORG/about/", http.StatusOK, about},
		{"/ipns/name.example/about/", http.StatusOK, about},
		{"/ipns/sub.example/", http.StatusOK, about},
		{"/ipns/to-other.example/first-post/", http.StatusOK, first},
		{"/ipns/loop.example/", http.StatusNotFound, nil},
		{"/ipns/unknown.example/", http.StatusNotFound, nil},
	})
}
