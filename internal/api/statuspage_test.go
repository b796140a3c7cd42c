package api_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/api"
	"github.com/islandsite/island/internal/core"
)

// statusOnly is a core.API that answers Status alone.
type statusOnly struct {
	core.API
	status func(context.Context) (core.Status, error)
}

func (s statusOnly) Status(ctx context.Context) (core.Status, error) { return s.status(ctx) }

func getPage(t *testing.T, url string, headers ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

// TestStatusPage: the status page is served on the API's origin, with links
// to the node's gateway, behind the API's guards.
func TestStatusPage(t *testing.T) {
	const (
		v0   = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
		v1   = "bafybeie5nqv6kd3qnfjupgvz34woh3oksc3iau6abmyajn7qvtf6d2ho34"
		name = "k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8"
		gw   = "http://127.0.0.1:8080"
		// The node holds a slot on relay, and last served visitor through it.
		relay     = "12D3KooWKjjgzRdKe6S2FQv9jGi6h681DSc4T9LEt64GhUzRxB55"
		visitor   = "12D3KooWK6FGtzVLvSX8iuzxyXaEa5f6qHvgibQepP4644xMX39N"
		relayAddr = "/ip6/3fff:0:1::1/tcp/4001/p2p/" + relay + "/p2p-circuit/p2p/12D3KooWQYV9dGMFoRzNStwpXztXaBUjtPqi6aU76ZgUriHhKust"
	)
	reprovided := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	st := core.Status{
		PeerID:  "12D3KooWQYV9dGMFoRzNStwpXztXaBUjtPqi6aU76ZgUriHhKust",
		Addrs:   []string{"/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWQYV9dGMFoRzNStwpXztXaBUjtPqi6aU76ZgUriHhKust"},
		Site:    &core.SiteStatus{CID: v0, Name: name},
		Peers:   7,
		Provide: &core.ProvideState{Provided: 42, Queued: 3, LastReprovide: reprovided, NextReprovide: reprovided.Add(22 * time.Hour)},
		Follows: []core.Follow{{Name: "example.org", LastCID: v1}},
		Gateway: gw,
		Reachability: &core.Reachability{
			Status:       "private",
			RelayAddrs:   []string{relayAddr},
			HolePunching: true,
			LastServed:   &core.ServedPeer{Peer: visitor, Path: "relayed", Addr: "/ip6/3fff:0:1::1/tcp/4001/p2p/" + relay + "/p2p-circuit", At: reprovided},
		},
	}
	s := serve(t, statusOnly{status: func(context.Context) (core.Status, error) { return st, nil }}, func(c *api.Config) {
		c.StyleSheet = []byte("body { color: rebeccapurple } </style><script>alert(1)</script>")
	})

	code, h, html := getPage(t, s.URL()+"/")
	require.Equal(t, http.StatusOK, code, html)
	for _, want := range []string{
		st.PeerID, st.Addrs[0], ">7<", ">42<", ">3<", "2025-03-04 05:06:07 UTC", gw,
		`href="` + gw + `/ipfs/` + v0 + `/"`,
		`href="http://` + v1 + `.ipfs.localhost:8080/"`, // CIDv0 shown as a CIDv1 origin
		`href="` + gw + `/ipns/` + name + `/"`,
		`href="http://` + name + `.ipns.localhost:8080/"`,
		`href="` + gw + `/ipns/example.org/"`,
		`href="http://example-org.ipns.localhost:8080/"`,
		`href="` + gw + `/ipfs/` + v1 + `/"`,
		"rebeccapurple",
		"private (behind NAT)", relayAddr, visitor + "</code>, relayed",
	} {
		require.Contains(t, html, want)
	}
	require.NotContains(t, html, "</style><script>", "the stylesheet cannot close its <style>")
	require.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))
	require.Equal(t, "no-store", h.Get("Cache-Control"))
	require.Equal(t, "DENY", h.Get("X-Frame-Options"))
	require.Empty(t, h.Get("Access-Control-Allow-Origin"))

	for _, tc := range []struct {
		name    string
		path    string
		headers []string
		code    int
	}{
		{"typed into the address bar", "/", []string{"Sec-Fetch-Site: none"}, http.StatusOK},
		{"another origin", "/", []string{"Origin: http://127.0.0.1:8080"}, http.StatusForbidden},
		{"a page of the gateway", "/", []string{"Sec-Fetch-Site: same-site"}, http.StatusForbidden},
		{"a rebound DNS name", "/", []string{"Host: rebound.example"}, http.StatusForbidden},
		{"JSON from another origin", "/api/v1/status", []string{"Origin: http://bafy.ipfs.localhost:8080", "Sec-Fetch-Site: same-site"}, http.StatusForbidden},
		{"only the page at /", "/nope", nil, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hs []string
			host := ""
			for _, h := range tc.headers {
				if v, ok := strings.CutPrefix(h, "Host: "); ok {
					host = v
					continue
				}
				hs = append(hs, h)
			}
			req, err := http.NewRequest(http.MethodGet, s.URL()+tc.path, nil)
			require.NoError(t, err)
			if host != "" {
				req.Host = host
			}
			for _, h := range hs {
				k, v, _ := strings.Cut(h, ": ")
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, tc.code, resp.StatusCode)
		})
	}
}

func TestStatusPageWithoutGatewayOrNode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status func(context.Context) (core.Status, error)
		want   []string
	}{
		{"no gateway", func(context.Context) (core.Status, error) {
			return core.Status{PeerID: "12D3KooWQYV9dGMFoRzNStwpXztXaBUjtPqi6aU76ZgUriHhKust", Follows: []core.Follow{{Name: "example.org"}}}, nil
		}, []string{"not running", "<code>/ipns/example.org/</code>"}},
		{"node fails", func(context.Context) (core.Status, error) { return core.Status{}, errors.New("node is starting") }, []string{"node is starting"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := serve(t, statusOnly{status: tc.status}, nil)
			code, _, html := getPage(t, s.URL()+"/")
			require.Equal(t, http.StatusOK, code)
			for _, w := range tc.want {
				require.Contains(t, html, w)
			}
			require.NotContains(t, html, "href=\"/ipns/", "no links to a gateway that does not run")
			require.Contains(t, html, "color-scheme", "the built-in stylesheet")
		})
	}
}
