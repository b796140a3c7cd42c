package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// serve sends one request to h in memory.
func serve(h http.Handler, method, target, host string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	if host != "" {
		req.Host = host
	}
	for _, hd := range headers {
		k, v, _ := strings.Cut(hd, ": ")
		req.Header.Add(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// countingNames counts the resolutions of a name system.
type countingNames struct {
	namesys.NameSystem
	n atomic.Int64
}

func (c *countingNames) Resolve(ctx context.Context, p path.Path, opts ...namesys.ResolveOption) (namesys.Result, error) {
	c.n.Add(1)
	return c.NameSystem.Resolve(ctx, p, opts...)
}

// TestNameResolvedOncePerRequest: the response cache resolves /ipns/NAME
// to key the request, and boxo then uses that resolution (the same root,
// no second lookup), for pages kept or not, found or not.
func TestNameResolvedOncePerRequest(t *testing.T) {
	f := newFixture(t)
	cfg := f.config(t)
	names := &countingNames{NameSystem: cfg.NameSystem}
	cfg.NameSystem = names
	cfg.ResponseCacheBytes = 1 << 20
	h := startGateway(t, cfg).Handler()
	for _, tc := range []struct {
		target string
		status int
	}{
		{"/ipns/" + f.name.String() + "/about/", http.StatusOK},
		{"/ipns/" + f.name.String() + "/about/", http.StatusOK}, // kept
		{"/ipns/" + f.name.String() + "/big.bin", http.StatusOK},
		{"/ipns/" + f.name.String() + "/nope", http.StatusNotFound},
		{"/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8/", http.StatusNotFound},
	} {
		before := names.n.Load()
		// On the gateway's own host, which is no DNSLink name to resolve.
		require.Equal(t, tc.status, serve(h, "GET", tc.target, "127.0.0.1:8080").Code, tc.target)
		require.Equal(t, before+1, names.n.Load(), tc.target)
	}
}

// TestResponseCache checks that a response served from memory is the one
// boxo gave, and that what must reach boxo still does.
func TestResponseCache(t *testing.T) {
	f := newFixture(t)
	reg := prometheus.NewRegistry()
	cfg := f.config(t)
	cfg.Registerer = reg
	cfg.ResponseCacheBytes = 1 << 20
	g := startGateway(t, cfg)
	h := g.Handler()
	site := "/ipfs/" + f.site.String()
	count := func(result string) float64 {
		t.Helper()
		families, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range families {
			if mf.GetName() != "island_gateway_response_cache_lookups_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
		return 0
	}

	for _, tc := range []struct {
		name    string
		target  string
		host    string
		headers []string
	}{
		{"page", site + "/", "", nil},
		{"stylesheet", site + "/style.css", "", nil},
		{"raw block", site + "?format=raw", "", nil},
		{"raw block by Accept", site, "", []string{"Accept: application/vnd.ipld.raw"}},
		{"CAR", site + "/about/?format=car", "", nil},
		{"subdomain page", "/about/", f.site.String() + ".ipfs.localhost:8080", nil},
		{"browser page", site + "/posts/first-post/", "", []string{"Accept: text/html,application/xhtml+xml", "Accept-Encoding: gzip"}},
		{"page by name", "/ipns/" + f.name.String() + "/", "", nil},
		{"file by name", "/ipns/" + f.name.String() + "/style.css", "", nil},
		{"subdomain page by name", "/about/", f.name.String() + ".ipns.localhost:8080", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := count("hit")
			first := serve(h, "GET", tc.target, tc.host, tc.headers...)
			require.Equal(t, http.StatusOK, first.Code)
			require.Equal(t, hits, count("hit"), "the first answer comes from boxo")
			second := serve(h, "GET", tc.target, tc.host, tc.headers...)
			require.Equal(t, hits+1, count("hit"), "the second answer comes from memory")
			require.Equal(t, first.Code, second.Code)
			require.Equal(t, first.Body.Bytes(), second.Body.Bytes())
			// A kept response always says its length, which a streamed one
			// (a CAR) may not have.
			if first.Header().Get("Content-Length") == "" {
				require.Equal(t, fmt.Sprint(first.Body.Len()), second.Header().Get("Content-Length"))
				second.Header().Del("Content-Length")
			}
			require.Equal(t, first.Header(), second.Header())
		})
	}

	t.Run("distinct keys", func(t *testing.T) {
		html := serve(h, "GET", site+"/", "")
		raw := serve(h, "GET", site+"/", "", "Accept: application/vnd.ipld.raw")
		require.NotEqual(t, html.Header().Get("Content-Type"), raw.Header().Get("Content-Type"))
		other := serve(h, "GET", "/", f.site.String()+".ipfs.localhost:9")
		require.Equal(t, http.StatusOK, other.Code)
	})

	t.Run("bypassed and never stored", func(t *testing.T) {
		serve(h, "GET", site+"/big.bin", "") // too large to keep
		for _, tc := range []struct {
			name    string
			method  string
			target  string
			host    string
			headers []string
			status  int
		}{
			{"range", "GET", site + "/style.css", "", []string{"Range: bytes=0-9"}, http.StatusPartialContent},
			{"conditional", "GET", site + "/style.css", "", []string{"If-None-Match: " + serve(h, "GET", site+"/style.css", "").Header().Get("Etag")}, http.StatusNotModified},
			{"only-if-cached", "GET", site + "/style.css", "", []string{"Cache-Control: only-if-cached"}, http.StatusOK},
			{"HEAD", "HEAD", site + "/style.css", "", nil, http.StatusOK},
			{"dnslink path", "GET", "/ipns/example.org/", "", nil, http.StatusOK},
			{"name not found", "GET", "/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8/", "", nil, http.StatusNotFound},
			{"dnslink", "GET", "/", "example.org", nil, http.StatusOK},
			{"redirect", "GET", site + "/about", "", nil, http.StatusMovedPermanently},
			{"error", "GET", site + "/nope", "", nil, http.StatusNotFound},
			{"too large", "GET", site + "/big.bin", "", nil, http.StatusOK},
		} {
			hits := count("hit")
			for range 2 {
				w := serve(h, tc.method, tc.target, tc.host, tc.headers...)
				require.Equal(t, tc.status, w.Code, tc.name)
			}
			require.Equal(t, hits, count("hit"), tc.name)
		}
	})

	t.Run("a new version by name at once", func(t *testing.T) {
		page := "/ipns/" + f.name.String() + "/"
		serve(h, "GET", page, "")
		require.Equal(t, readFile(t, f.siteDir, "index.html"), serve(h, "GET", page, "").Body.Bytes())
		hits := count("hit")
		about := f.child(t, "about")
		f.publish(t, about, 2)
		w := serve(h, "GET", page, "")
		require.Equal(t, http.StatusOK, w.Code)
		require.Equal(t, hits, count("hit"), "the new version comes from boxo")
		require.Equal(t, readFile(t, f.siteDir, "about", "index.html"), w.Body.Bytes())
		require.Equal(t, about.String(), strings.Split(w.Header().Get("X-Ipfs-Roots"), ",")[0])
		require.Equal(t, w.Body.Bytes(), serve(h, "GET", page, "").Body.Bytes())
		require.Equal(t, hits+1, count("hit"), "and is kept in turn")
	})

	t.Run("a response by name is kept only for the root it was served from", func(t *testing.T) {
		for _, tc := range []struct {
			roots string
			kept  bool
		}{
			{"bafyroot,bafypage", true},
			{"bafyroot", true},
			{"bafyother,bafypage", false}, // a publish came between the resolve and boxo's
			{"", false},
		} {
			rec := &recorder{statusWriter: statusWriter{ResponseWriter: httptest.NewRecorder()}, limit: 1 << 10}
			if tc.roots != "" {
				rec.Header().Set("X-Ipfs-Roots", tc.roots)
			}
			rec.WriteHeader(http.StatusOK)
			_, _ = rec.Write([]byte("page"))
			require.Equal(t, tc.kept, rec.entry("key\x00bafyroot", "bafyroot") != nil, tc.roots)
		}
	})

	t.Run("bounded", func(t *testing.T) {
		c := newResponseCache(4096, prometheus.NewRegistry(), nil)
		for i := range 100 {
			c.add(&cachedResponse{key: strings.Repeat("k", i+1), body: make([]byte, 100), header: http.Header{}})
			require.LessOrEqual(t, c.bytes, int64(4096))
		}
		require.Equal(t, len(c.items), c.order.Len())
		require.NotNil(t, c.get(strings.Repeat("k", 100)), "the newest entry stays")
		require.Nil(t, c.get("k"), "the oldest entry went")
	})
}
