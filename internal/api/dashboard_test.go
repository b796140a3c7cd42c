package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/api"
	"github.com/islandsite/island/internal/core"
)

// pageAPI is a core.API that answers the dashboard's reads from its fields;
// a report left nil is unavailable, as without a node.
type pageAPI struct {
	core.API
	status    func(context.Context) (core.Status, error)
	history   *core.History
	stats     *core.NodeStats
	provide   *core.ProvideStat
	identity  *core.Identity
	historyRq chan core.HistoryRequest
}

func (p pageAPI) Status(ctx context.Context) (core.Status, error) { return p.status(ctx) }

func (p pageAPI) History(_ context.Context, req core.HistoryRequest) (core.History, error) {
	if p.historyRq != nil {
		p.historyRq <- req
	}
	if p.history == nil {
		return core.History{}, core.Errorf(core.CodeNotFound, "no history here")
	}
	return *p.history, nil
}

func (p pageAPI) ID(context.Context) (core.Identity, error) {
	if p.identity == nil {
		return core.Identity{}, core.Errorf(core.CodeUnavailable, "no identity here")
	}
	return *p.identity, nil
}

func (p pageAPI) NodeStats(context.Context) (core.NodeStats, error) {
	if p.stats == nil {
		return core.NodeStats{}, core.Errorf(core.CodeUnavailable, "no samples here")
	}
	return *p.stats, nil
}

func (p pageAPI) ProvideStat(context.Context) (core.ProvideStat, error) {
	if p.provide == nil {
		return core.ProvideStat{}, core.Errorf(core.CodeUnavailable, "no provider here")
	}
	return *p.provide, nil
}

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

// TestDashboardPage: the dashboard is served on the API's origin, shows
// every report with links to the node's gateway, allows its own script by
// hash and nothing else, and sits behind the API's guards.
func TestDashboardPage(t *testing.T) {
	const (
		v0   = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
		v1   = "bafybeie5nqv6kd3qnfjupgvz34woh3oksc3iau6abmyajn7qvtf6d2ho34"
		name = "k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8"
		gw   = "http://127.0.0.1:8080"
		via  = "12D3KooWCheckerPeer"
		// The node holds a slot on relay, and last served visitor through it.
		relay     = "12D3KooWKjjgzRdKe6S2FQv9jGi6h681DSc4T9LEt64GhUzRxB55"
		visitor   = "12D3KooWK6FGtzVLvSX8iuzxyXaEa5f6qHvgibQepP4644xMX39N"
		relayAddr = "/ip6/3fff:0:1::1/tcp/4001/p2p/" + relay + "/p2p-circuit/p2p/12D3KooWQYV9dGMFoRzNStwpXztXaBUjtPqi6aU76ZgUriHhKust"
	)
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	seen := at.Add(-time.Hour)
	st := core.Status{
		PeerID: "12D3KooWQYV9dGMFoRzNStwpXztXaBUjtPqi6aU76ZgUriHhKust",
		Mode:   core.ModeLAN,
		Addrs:  []string{"/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWQYV9dGMFoRzNStwpXztXaBUjtPqi6aU76ZgUriHhKust"},
		Site: &core.SiteStatus{CID: v0, Name: name, Version: 2, Size: 3 << 20,
			URLs:  []string{"http://sub.ipfs.localhost:8080/", gw + "/ipfs/" + v0 + "/"},
			Check: &core.Retrievability{Checked: true, OK: true, Via: via, Took: "1.5s", CID: v0, At: at}},
		Peers: 7,
		Follows: []core.Follow{{Name: "example.org", LastCID: v1, LastSeq: 3, RecordSeq: 5, Size: 2048, MaxSize: 1 << 20,
			TooBig: v0, LastChange: &seen, LastError: "fetch failed: no provider"}},
		Gateway: gw,
		Repo:    core.RepoStat{UsedBytes: 5 << 20, MaxBytes: 10 << 30, GCWatermark: 90},
		Reachability: &core.Reachability{
			Status:       "private",
			RelayAddrs:   []string{relayAddr},
			HolePunching: true,
			LastServed:   &core.ServedPeer{Peer: visitor, Path: "relayed", Addr: "/ip6/3fff:0:1::1/tcp/4001/p2p/" + relay + "/p2p-circuit", At: at},
		},
	}
	hist := core.History{Name: name, Versions: []core.Version{
		{Version: 1, CID: v1, Time: at.Add(-2 * time.Hour), Changes: &core.Changes{Added: 4, PagesAdded: 2, BytesAdded: 4096, Files: []core.FileChange{{Path: "index.html", Kind: "added", Size: 100}}}},
		{Version: 2, CID: v0, Time: at.Add(-time.Hour), Current: true, Changes: &core.Changes{From: v1, Changed: 1, Removed: 2, PagesChanged: 1, BytesAdded: 10, BytesRemoved: 2000, Files: []core.FileChange{{Path: "posts/old.html", Kind: "removed", Size: 1000}}}},
	}}
	stats := core.NodeStats{Interval: core.Duration(10 * time.Second), Samples: []core.Sample{
		{Time: at, Peers: 1, BytesIn: 0, BytesOut: 0},
		{Time: at.Add(10 * time.Second), Peers: 3, BytesIn: 10240, BytesOut: 20480},
		{Time: at.Add(20 * time.Second), Peers: 7, BytesIn: 30720, BytesOut: 20480},
	}}
	provide := core.ProvideStat{Keys: 42, Interval: 22 * time.Hour,
		WAN: core.DHTProvideStat{Status: "offline"},
		LAN: core.DHTProvideStat{Status: "online", Provided: 40, Queued: 2, Regions: 3, Sweep: 0.25, NextReprovide: at.Add(5 * time.Hour)}}
	id := core.Identity{BrowserAddrs: []string{"/ip4/127.0.0.1/udp/1/quic-v1/webtransport/certhash/uEiX"}}
	rq := make(chan core.HistoryRequest, 1)
	s := serve(t, pageAPI{status: func(context.Context) (core.Status, error) { return st, nil },
		history: &hist, stats: &stats, provide: &provide, identity: &id, historyRq: rq}, func(c *api.Config) {
		c.StyleSheet = []byte("body { color: rebeccapurple } </style><script>alert(1)</script>")
	})

	code, h, html := getPage(t, s.URL()+"/")
	require.Equal(t, http.StatusOK, code, html)
	require.True(t, (<-rq).Changes, "the dashboard asks for each version's changes")
	for _, want := range []string{
		// Site: version, name, URLs, the check and which version it was of.
		`<strong id="site-version">2</strong>`, name, `href="http://sub.ipfs.localhost:8080/"`, "3.0 MiB",
		`data-check="ok">passed</span> via <code title="` + via + `">`, "version 2 (current), checked 2025-03-04 05:06:07 UTC",
		// Versions, newest first, with their changes and a rollback for the older.
		`data-version="2" data-cid="` + v0 + `"`, `data-k="removed">−2</span>`, "posts/old.html",
		`data-op="rollback" data-version="1"`, "island rollback 1",
		`href="http://` + v1 + `.ipfs.localhost:8080/" class="browse"`, // CIDv1 origin to browse a version
		`href="http://` + v1 + `.ipfs.localhost:8080/" class="browse"`,
		// Friends: newest version, seen, behind, size, problem, unfollow.
		`href="http://example-org.ipns.localhost:8080/"`, "2 record(s) behind", "2.0 KiB", "2025-03-04 04:06:07 UTC",
		"fetch failed: no provider", `data-op="unfollow" data-name="example.org"`, `data-op="follow"`,
		`data-k="cap" title="1048576 bytes">1.0 MiB</span>`, `aria-label="0%"`, `data-k="too-big"`,
		`data-k="repo-used" title="5242880 bytes">5.0 MiB</span>`, `data-k="repo-max" title="10737418240 bytes">10 GiB</span>`,
		"collected past 90%",
		"private (behind NAT)", relayAddr, visitor + "</code>, relayed",
		// Node: peers, traffic, charts, sweep, addresses.
		`<dd id="node-peers">7</dd>`, `data-k="rate-in">2.0 KiB/s</span>`, `data-k="rate-out">0 B/s</span>`,
		`id="chart-peers"`, `id="chart-traffic"`, "<polyline", `data-k="sweep">25%</span>`, "through 3 region(s)",
		id.BrowserAddrs[0], st.Addrs[0], `data-k="held-friends">2.0 KiB</span>`,
		"rebeccapurple",
	} {
		require.Contains(t, html, want)
	}
	require.Less(t, strings.Index(html, `data-version="2"`), strings.Index(html, `data-version="1"`), "newest version first")
	require.NotContains(t, html, `data-op="rollback" data-version="2"`, "no rollback to the current version")
	require.NotContains(t, html, "</style><script>", "the stylesheet cannot close its <style>")
	require.NotContains(t, html, "Not shown", "every report was read")
	require.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))
	require.Equal(t, "no-store", h.Get("Cache-Control"))
	require.Equal(t, "DENY", h.Get("X-Frame-Options"))
	require.Empty(t, h.Get("Access-Control-Allow-Origin"))

	// The page's one script runs by its hash; no other script, no other origin.
	body := html[strings.Index(html, "</head>"):]
	m := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(body, -1)
	require.Len(t, m, 1)
	sum := sha256.Sum256([]byte(m[0][1]))
	csp := h.Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"';")
	require.Contains(t, csp, "connect-src 'self'")
	require.Contains(t, csp, "form-action 'none'")
	require.Contains(t, csp, "default-src 'none'")

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
		{"samples from another origin", "/api/v1/node/stats", []string{"Origin: http://bafy.ipfs.localhost:8080", "Sec-Fetch-Site: same-site"}, http.StatusForbidden},
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

func TestDashboardWithoutGatewayOrNode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status func(context.Context) (core.Status, error)
		want   []string
		not    []string
	}{
		{"offline, no gateway", func(context.Context) (core.Status, error) {
			return core.Status{PeerID: "12D3KooWQYV9dGMFoRzNStwpXztXaBUjtPqi6aU76ZgUriHhKust", Mode: core.ModeOffline,
				Site:    &core.SiteStatus{CID: "bafybeie5nqv6kd3qnfjupgvz34woh3oksc3iau6abmyajn7qvtf6d2ho34", Name: "k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8", Version: 1},
				Follows: []core.Follow{{Name: "example.org", LastCID: "bafybeie5nqv6kd3qnfjupgvz34woh3oksc3iau6abmyajn7qvtf6d2ho34"}}}, nil
		}, []string{"not running", "Not running a node (offline)", `<strong id="site-version">1</strong>`},
			[]string{`id="chart-peers"`}},
		{"online, samples not yet read", func(context.Context) (core.Status, error) {
			return core.Status{PeerID: "12D3KooWQYV9dGMFoRzNStwpXztXaBUjtPqi6aU76ZgUriHhKust", Mode: core.ModeLAN, Follows: []core.Follow{}}, nil
		}, []string{"Not shown: peers and traffic: no samples here", "Not shown: providing: no provider here", `id="friends-none"`}, nil},
		{"node fails", func(context.Context) (core.Status, error) { return core.Status{}, errors.New("node is starting") },
			[]string{"Not shown: node status: node is starting"}, []string{`id="site"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := serve(t, pageAPI{status: tc.status}, nil)
			code, _, html := getPage(t, s.URL()+"/")
			require.Equal(t, http.StatusOK, code)
			for _, w := range tc.want {
				require.Contains(t, html, w)
			}
			for _, w := range tc.not {
				require.NotContains(t, html, w)
			}
			require.NotContains(t, html, "href=\"/ip", "no links to a gateway that does not run")
			require.NotContains(t, html, `href="#"`)
			require.Contains(t, html, "color-scheme", "the built-in stylesheet")
		})
	}
}
