package gateway

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/islandsite/island/internal/testutil/testnet"
)

// FuzzGatewayPath sends arbitrary paths, hosts, queries and headers to the
// whole handler over an all-local block store (so nothing can time out): no
// request may panic or answer 5xx, since every failure here is bad input
// or missing content.
func FuzzGatewayPath(f *testing.F) {
	fx := newFixture(f)
	cfg := fx.config(f)
	cfg.ListenAddr = "127.0.0.1:0"
	g := startGateway(f, cfg)
	h := g.Handler()
	expand := strings.NewReplacer("{site}", fx.site.String(), "{name}", fx.name.String(), "{v0}", "QmWATWQ7fVPP2EFGu71UkfnqhYXDYH566qy47CnJDgvs8u")

	for _, seed := range []struct {
		method, path, query, host, accept, rng string
	}{
		{"GET", "/ipfs/{site}/", "", "", "", ""},
		{"GET", "/ipfs/{site}/big.bin", "", "", "", "bytes=0-10,20-30"},
		{"GET", "/ipfs/{site}/big.bin", "", "", "", "bytes=-0"},
		{"GET", "/ipfs/{site}/big.bin", "format=car&dag-scope=entity&entity-bytes=-10:*", "", "", ""},
		{"GET", "/ipfs/{site}", "format=car&car-version=2&car-order=unk&car-dups=y", "", "", ""},
		{"GET", "/ipfs/{site}", "", "", "application/vnd.ipld.car; version=1; order=dfs; dups=y; dag-scope=all", ""},
		{"GET", "/ipfs/{site}", "format=raw", "", "application/vnd.ipld.dag-json", ""},
		{"GET", "/ipfs/{site}/style.css", "format=dag-cbor", "", "", ""},
		{"GET", "/ipfs/{site}/files/", "format=tar", "", "", ""},
		{"GET", "/ipfs/{site}/files", "format=json", "", "application/json", ""},
		{"GET", "/ipfs/{v0}/a/../b", "filename=x&download=true", "", "text/html", ""},
		{"GET", "/ipfs/bafkqaaa", "", "", "", ""},
		{"GET", "/ipfs/bafkqaaa/x", "format=ipns-record", "", "", ""},
		{"GET", "/ipns/{name}/", "format=ipns-record", "", "", ""},
		{"GET", "/ipns/{name}/", "", "", "application/vnd.ipfs.ipns-record", ""},
		{"GET", "/ipns/example.org/about/", "", "", "", ""},
		{"GET", "/ipns/{site}/", "", "", "", ""},
		{"GET", "/ipns/", "", "", "", ""},
		{"GET", "/ipfs/", "uri=ipfs://{site}", "", "", ""},
		{"GET", "/", "uri=ipns%3A%2F%2Fexample.org", "localhost:8080", "", ""},
		{"GET", "/gone", "", "{site}.ipfs.localhost:8080", "text/html", ""},
		{"GET", "/", "", "{name}.ipns.localhost", "", ""},
		{"GET", "/", "", "example-org.ipns.localhost", "", ""},
		{"GET", "/ipfs/{site}/", "", "localhost", "", ""},
		{"GET", "/x", "", "{v0}.ipfs.localhost", "", ""},
		{"GET", "/", "", "bafkqaaa.ipns.localhost", "", ""},
		{"GET", "/", "", "a.b.c.ipfs.localhost", "", ""},
		{"GET", "/api/status", "", "localhost", "", ""},
		{"HEAD", "/ipfs/{site}/img/island.png", "", "", "", "bytes=5-"},
		{"POST", "/ipfs/{site}/", "", "", "", ""},
		{"OPTIONS", "/ipns/{name}", "", "", "", ""},
	} {
		f.Add(seed.method, seed.path, seed.query, seed.host, seed.accept, seed.rng)
	}

	f.Fuzz(func(t *testing.T, method, p, query, host, accept, rng string) {
		switch method {
		case "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH":
		default:
			method = "GET"
		}
		target := expand.Replace(p)
		if query != "" {
			target += "?" + expand.Replace(query)
		}
		// What a server would refuse to parse never reaches the handler.
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(target, "/") {
			return
		}
		host = expand.Replace(host)
		for _, v := range []string{host, accept, rng} {
			if strings.ContainsAny(v, "\r\n\x00") {
				return
			}
		}
		if host == "" {
			host = "127.0.0.1:8080"
		}
		req := &http.Request{
			Method:     method,
			URL:        u,
			Host:       host,
			RequestURI: target,
			Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{},
		}
		req = req.WithContext(t.Context())
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s (Host %q, Accept %q, Range %q): %d %s", method, target, host, accept, rng, w.Code, w.Body.String())
		}
	})
}

// FuzzRoutingV1 sends arbitrary requests to /routing/v1/ of a gateway over
// a real node with no peers (so every lookup ends at once): no request may
// panic or answer 5xx but 501, since every failure here is bad input or
// nothing found.
func FuzzRoutingV1(f *testing.F) {
	n := testnet.StartNode(f, testnet.NodeConfig(f, testnet.NewStore(f), testnet.NewKey(f)))
	cfg := DefaultConfig()
	cfg.BlockService = n.BlockService()
	cfg.Router = n.Routing()
	g := startGateway(f, cfg)
	h := g.Handler()
	expand := strings.NewReplacer("{peer}", n.ID().String(), "{cid}", "bafkqaaa",
		"{name}", "k51qzi5uqu5dhlbegona8wfyei6jnjuhrulz3t8femxtfmak9134qpqncw3poc")
	for _, seed := range []struct{ method, path, accept, body string }{
		{"GET", "/routing/v1/providers/{cid}", "application/x-ndjson", ""},
		{"GET", "/routing/v1/providers/{cid}?filter-addrs=webtransport,!ip6&filter-protocols=unknown", "application/json", ""},
		{"GET", "/routing/v1/providers/QmWATWQ7fVPP2EFGu71UkfnqhYXDYH566qy47CnJDgvs8u", "text/html, */*;q=0.1", ""},
		{"GET", "/routing/v1/peers/{peer}", "", ""},
		{"GET", "/routing/v1/peers/bafzaajaiaejca", "application/x-ndjson", ""},
		{"GET", "/routing/v1/ipns/{name}", "application/vnd.ipfs.ipns-record", ""},
		{"PUT", "/routing/v1/ipns/{name}", "", "\x0a\x00"},
		{"PUT", "/routing/v1/providers", "", `{"Providers":[{"Schema":"bitswap"}]}`},
		{"GET", "/routing/v1/dht/closest/peers/{peer}", "", ""},
		{"OPTIONS", "/routing/v1/ipns/{name}", "", ""},
		{"GET", "/routing/v1/", "", ""},
		{"DELETE", "/routing/v1/providers/{cid}", "", ""},
	} {
		f.Add(seed.method, seed.path, seed.accept, seed.body)
	}
	f.Fuzz(func(t *testing.T, method, p, accept, body string) {
		switch method {
		case "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS":
		default:
			method = "GET"
		}
		target := expand.Replace(p)
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(target, "/") || strings.ContainsAny(accept, "\r\n\x00") {
			return
		}
		req := httptest.NewRequestWithContext(t.Context(), method, "http://127.0.0.1:8080/", strings.NewReader(body))
		req.URL, req.RequestURI = u, target
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if method == "PUT" {
			req.Header.Set("Content-Type", "application/vnd.ipfs.ipns-record")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 && w.Code != http.StatusNotImplemented {
			t.Fatalf("%s %s (Accept %q): %d %s", method, target, accept, w.Code, w.Body.String())
		}
	})
}
