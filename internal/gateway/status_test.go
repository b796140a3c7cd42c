package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/stretchr/testify/require"
)

func TestStatusPage(t *testing.T) {
	f := newFixture(t)
	v0 := cid.NewCidV0(f.site.Hash()).String()
	reprovided := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	st := Status{
		PeerID:  "12D3KooWQYV9dGMFoRzNStwpXztXaBUjtPqi6aU76ZgUriHhKust",
		Addrs:   []string{"/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWQYV9dGMFoRzNStwpXztXaBUjtPqi6aU76ZgUriHhKust"},
		Site:    &Site{CID: v0, Name: f.name.String()},
		Peers:   7,
		Provide: &ProvideState{Provided: 42, Queued: 3, LastReprovide: reprovided, NextReprovide: reprovided.Add(22 * time.Hour)},
		Follows: []Follow{{Name: "example.org", CID: f.site.String()}},
	}
	cfg := f.config(t)
	cfg.Status = func(context.Context) (Status, error) { return st, nil }
	cfg.StyleSheet = []byte("body { color: rebeccapurple } </style><script>alert(1)</script>")
	g := startGateway(t, cfg)
	u, err := url.Parse(g.URL())
	require.NoError(t, err)
	port := u.Port()

	page := fetch(t, g.URL(), "GET", "/", "")
	require.Equal(t, http.StatusOK, page.status)
	html := string(page.body)
	for _, want := range []string{
		st.PeerID, st.Addrs[0], ">7<", ">42<", ">3<", "2025-03-04 05:06:07 UTC",
		`href="/ipfs/` + v0 + `/"`,
		`href="http://` + f.site.String() + `.ipfs.localhost:` + port + `/"`, // CIDv0 shown as a CIDv1 origin
		`href="/ipns/` + f.name.String() + `/"`,
		`href="http://` + f.name.String() + `.ipns.localhost:` + port + `/"`,
		`href="/ipns/example.org/"`,
		`href="http://example-org.ipns.localhost:` + port + `/"`,
		"rebeccapurple",
	} {
		require.Contains(t, html, want)
	}
	require.NotContains(t, html, "</style><script>", "the stylesheet cannot close its <style>")
	require.Equal(t, "no-store", page.header.Get("Cache-Control"))

	// Every link on the page leads somewhere that answers 200.
	for _, link := range []string{"/ipfs/" + v0 + "/", "/ipns/" + f.name.String() + "/", "/ipns/example.org/"} {
		require.Equal(t, http.StatusOK, fetch(t, g.URL(), "GET", link, "").status, link)
	}
	for _, host := range []string{f.site.String() + ".ipfs.localhost:" + port, f.name.String() + ".ipns.localhost:" + port, "example-org.ipns.localhost:" + port} {
		require.Equal(t, http.StatusOK, fetch(t, g.URL(), "GET", "/", host).status, host)
	}

	api := fetch(t, g.URL(), "GET", "/api/status", "")
	require.Equal(t, http.StatusOK, api.status)
	var got Status
	require.NoError(t, json.Unmarshal(api.body, &got))
	want := st
	want.Gateway = g.URL()
	require.Equal(t, want, got)
}

func TestStatusPageWithoutNode(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    func(context.Context) (Status, error)
		page      string
		apiStatus int
	}{
		{"no status func", nil, "this gateway runs without a node", http.StatusOK},
		{"node fails", func(context.Context) (Status, error) { return Status{}, errors.New("node is starting") }, "node is starting", http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, bserv := newTestStore(t)
			cfg := DefaultConfig()
			cfg.BlockService = bserv
			cfg.Status = tc.status
			g := startGateway(t, cfg)
			page := fetch(t, g.URL(), "GET", "/", "")
			require.Equal(t, http.StatusOK, page.status)
			require.Contains(t, string(page.body), tc.page)
			require.Contains(t, string(page.body), "color-scheme", "the built-in stylesheet")
			api := fetch(t, g.URL(), "GET", "/api/status", "")
			require.Equal(t, tc.apiStatus, api.status)
			require.True(t, json.Valid(api.body), "%s", api.body)
		})
	}
}
