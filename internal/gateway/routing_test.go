package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/multiformats/go-multihash"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/testutil/testnet"
)

// browserListenAddrs are loopback addresses on every transport the node
// has, the browser ones among them.
var browserListenAddrs = []string{
	"/ip4/127.0.0.1/tcp/0",
	"/ip4/127.0.0.1/udp/0/quic-v1",
	"/ip4/127.0.0.1/udp/0/quic-v1/webtransport",
	"/ip4/127.0.0.1/udp/0/webrtc-direct",
}

// routingNet is two real nodes on loopback, the first providing a file,
// and a gateway on the second serving /routing/v1/ from its DHT.
type routingNet struct {
	provider, router *node.Node
	file             cid.Cid
	gw               *Gateway
}

func newRoutingNet(t *testing.T, edit func(*Config)) routingNet {
	t.Helper()
	nodes := testnet.NewNetwork(t, 2, testnet.WithConfig(func(_ int, cfg *node.Config) {
		cfg.ListenAddrs = browserListenAddrs
	}))
	rn := routingNet{provider: nodes[0], router: nodes[1]}
	rn.file = testnet.AddRandomFile(t, rn.provider.DAG(), 300<<10, 1)
	require.NoError(t, rn.provider.Provide(context.Background(), rn.file))
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		provs, _ := rn.router.FindProviders(ctx, rn.file, 1)
		return len(provs) > 0
	}, 30*time.Second, 50*time.Millisecond, "the router's DHT never found the provider")

	cfg := DefaultConfig()
	cfg.BlockService = rn.router.BlockService()
	cfg.Router = rn.router.Routing()
	if edit != nil {
		edit(&cfg)
	}
	rn.gw = startGateway(t, cfg)
	return rn
}

// providersJSON is the JSON answer of /routing/v1/providers and /peers.
type providersJSON struct {
	Providers []peerJSON
	Peers     []peerJSON
}

type peerJSON struct {
	Schema string
	ID     string
	Addrs  []string
}

func TestRoutingV1(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a network of two nodes")
	}
	rn := newRoutingNet(t, nil)
	base := rn.gw.URL()
	missing := rawCID(t, "a block nobody has")

	t.Run("providers as JSON", func(t *testing.T) {
		r := fetch(t, base, "GET", "/routing/v1/providers/"+rn.file.String(), "", "Accept: application/json")
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
		var got providersJSON
		require.NoError(t, json.Unmarshal(r.body, &got))
		require.Len(t, got.Providers, 1, "%s", r.body)
		require.Equal(t, "peer", got.Providers[0].Schema)
		require.Equal(t, rn.provider.ID().String(), got.Providers[0].ID)
	})
	t.Run("providers streamed", func(t *testing.T) {
		r := fetch(t, base, "GET", "/routing/v1/providers/"+rn.file.String(), "", "Accept: application/x-ndjson")
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.Equal(t, "application/x-ndjson", r.header.Get("Content-Type"))
		var ids []string
		sc := bufio.NewScanner(bytes.NewReader(r.body))
		for sc.Scan() {
			var p peerJSON
			require.NoError(t, json.Unmarshal(sc.Bytes(), &p), "line %q", sc.Text())
			ids = append(ids, p.ID)
		}
		require.Equal(t, []string{rn.provider.ID().String()}, ids)
	})
	t.Run("peer with its browser addresses", func(t *testing.T) {
		r := fetch(t, base, "GET", "/routing/v1/peers/"+peer.ToCid(rn.provider.ID()).String(), "")
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		var got providersJSON
		require.NoError(t, json.Unmarshal(r.body, &got))
		require.Len(t, got.Peers, 1, "%s", r.body)
		var browser []string
		for _, a := range got.Peers[0].Addrs {
			if strings.Contains(a, "/webtransport/certhash/") || strings.Contains(a, "/webrtc-direct/certhash/") {
				browser = append(browser, a)
			}
		}
		require.Len(t, browser, 2, "one WebTransport and one WebRTC-direct address with certhashes in %v", got.Peers[0].Addrs)
	})
	t.Run("nothing found is an empty answer", func(t *testing.T) {
		// IPIP-0513: 200 with no records, not 404, so browsers log no error.
		r := fetch(t, base, "GET", "/routing/v1/providers/"+missing.String(), "")
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.JSONEq(t, `{"Providers":[]}`, string(r.body))
		r = fetch(t, base, "GET", "/routing/v1/providers/"+missing.String(), "", "Accept: application/x-ndjson")
		require.Equal(t, http.StatusOK, r.status)
		require.Empty(t, r.body)
	})
	t.Run("bad input is 400", func(t *testing.T) {
		for _, p := range []string{
			"/routing/v1/providers/not-a-cid",
			"/routing/v1/providers/bafy",
			"/routing/v1/peers/12D3KooWnot-a-peer",
			"/routing/v1/peers/" + rn.file.String() + "x",
			"/routing/v1/ipns/not-a-name",
			"/routing/v1/ipns/" + rn.file.String(), // a CID, but not a libp2p key
		} {
			accept := "application/json"
			if strings.Contains(p, "/ipns/") {
				accept = "application/vnd.ipfs.ipns-record"
			}
			r := fetch(t, base, "GET", p, "", "Accept: "+accept)
			require.Equal(t, http.StatusBadRequest, r.status, "%s: %s", p, r.body)
		}
	})
	t.Run("any page may ask", func(t *testing.T) {
		r := fetch(t, base, "GET", "/routing/v1/providers/"+rn.file.String(), "", "Origin: https://example.net")
		require.Equal(t, "*", r.header.Get("Access-Control-Allow-Origin"))
		r = fetch(t, base, "OPTIONS", "/routing/v1/ipns/k51qzi5uqu5dhlbegona8wfyei6jnjuhrulz3t8femxtfmak9134qpqncw3poc", "",
			"Origin: https://example.net", "Access-Control-Request-Method: PUT", "Access-Control-Request-Headers: content-type")
		require.Equal(t, http.StatusNoContent, r.status)
		require.Equal(t, "*", r.header.Get("Access-Control-Allow-Origin"))
		methods := r.header.Values("Access-Control-Allow-Methods")
		for _, m := range []string{"GET", "PUT", "OPTIONS"} {
			require.Contains(t, methods, m)
		}
		require.Contains(t, r.header.Values("Access-Control-Allow-Headers"), "Content-Type")
	})
	t.Run("what is not served is 501", func(t *testing.T) {
		r := fetch(t, base, "GET", "/routing/v1/dht/closest/peers/"+rn.provider.ID().String(), "")
		require.Equal(t, http.StatusNotImplemented, r.status)
		r = fetch(t, base, "PUT", "/routing/v1/providers", "")
		require.Equal(t, http.StatusNotImplemented, r.status)
		// No RecordStore in this gateway: records are neither found nor taken.
		r = fetch(t, base, "PUT", "/routing/v1/ipns/k51qzi5uqu5dhlbegona8wfyei6jnjuhrulz3t8femxtfmak9134qpqncw3poc", "",
			"Content-Type: application/vnd.ipfs.ipns-record")
		require.Equal(t, http.StatusNotImplemented, r.status)
	})
	t.Run("a site's own paths are never shadowed", func(t *testing.T) {
		// On a site's origin /routing/v1/… is a path inside the site.
		r := fetch(t, base, "GET", "/routing/v1/providers/"+rn.file.String(), rn.file.String()+".ipfs.localhost")
		require.Equal(t, http.StatusNotFound, r.status, "%s", r.body)
		require.NotContains(t, string(r.body), "Providers")
	})
}

// rawCID is the CID of data as a raw block.
func rawCID(t *testing.T, data string) cid.Cid {
	t.Helper()
	mh, err := multihash.Sum([]byte(data), multihash.SHA2_256, -1)
	require.NoError(t, err)
	return cid.NewCidV1(cid.Raw, mh)
}

// stuckRouter is a DHT that does not answer: each lookup waits until its
// context ends, as a lookup in a network that does not respond would, or
// until release is closed, and then finds nothing. started gets a value
// as each lookup starts.
type stuckRouter struct {
	started chan struct{}
	release chan struct{}
}

func newStuckRouter() *stuckRouter {
	return &stuckRouter{started: make(chan struct{}, 16), release: make(chan struct{})}
}

func (s *stuckRouter) wait(ctx context.Context) {
	s.started <- struct{}{}
	select {
	case <-ctx.Done():
	case <-s.release:
	}
}

func (s *stuckRouter) FindProvidersAsync(ctx context.Context, _ cid.Cid, _ int) <-chan peer.AddrInfo {
	ch := make(chan peer.AddrInfo)
	go func() {
		s.wait(ctx)
		close(ch)
	}()
	return ch
}

func (s *stuckRouter) FindPeer(ctx context.Context, _ peer.ID) (peer.AddrInfo, error) {
	s.wait(ctx)
	if err := ctx.Err(); err != nil {
		return peer.AddrInfo{}, err
	}
	return peer.AddrInfo{}, routing.ErrNotFound
}

func (s *stuckRouter) Provide(context.Context, cid.Cid, bool) error { return nil }

const somePeer = "12D3KooWGzBRMr4WKGYKsKsvGZJbgTLWojsbFFMi4B5Vf3XbVREB"

// Every lookup ends within RoutingTimeout, whatever the DHT does: what
// was found by then (nothing) is the answer.
func TestRoutingV1LookupsEnd(t *testing.T) {
	_, bserv := newTestStore(t)
	cfg := DefaultConfig()
	cfg.BlockService = bserv
	cfg.Router = newStuckRouter()
	cfg.RoutingTimeout = 300 * time.Millisecond
	g := startGateway(t, cfg)

	r := fetch(t, g.URL(), "GET", "/routing/v1/providers/"+rawCID(t, "x").String(), "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.JSONEq(t, `{"Providers":[]}`, string(r.body))
	r = fetch(t, g.URL(), "GET", "/routing/v1/peers/"+somePeer, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.JSONEq(t, `{"Peers":[]}`, string(r.body))
}

// What pages can keep in flight at once is bounded: one more is turned
// away at once, not queued.
func TestRoutingV1RequestLimit(t *testing.T) {
	_, bserv := newTestStore(t)
	stuck := newStuckRouter()
	cfg := DefaultConfig()
	cfg.BlockService = bserv
	cfg.Router = stuck
	cfg.MaxRoutingRequests = 2
	g := startGateway(t, cfg)

	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = fetch(t, g.URL(), "GET", "/routing/v1/peers/"+somePeer, "").status
		})
	}
	<-stuck.started
	<-stuck.started
	r := fetch(t, g.URL(), "GET", "/routing/v1/providers/"+rawCID(t, "x").String(), "")
	require.Equal(t, http.StatusTooManyRequests, r.status, "%s", r.body)
	require.NotEmpty(t, r.header.Get("Retry-After"))
	close(stuck.release)
	wg.Wait()
	require.Equal(t, []int{http.StatusOK, http.StatusOK}, statuses)
}

// A record sent too slowly cannot hold a request slot: its reading ends
// with RoutingTimeout.
func TestRoutingV1SlowPut(t *testing.T) {
	_, bserv := newTestStore(t)
	cfg := DefaultConfig()
	cfg.BlockService = bserv
	cfg.Router = newStuckRouter()
	cfg.Records = refusingRecords{}
	cfg.RoutingTimeout = 300 * time.Millisecond
	cfg.MaxRoutingRequests = 1
	g := startGateway(t, cfg)

	conn, err := net.Dial("tcp", strings.TrimPrefix(g.URL(), "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "PUT /routing/v1/ipns/k51qzi5uqu5dhlbegona8wfyei6jnjuhrulz3t8femxtfmak9134qpqncw3poc HTTP/1.1\r\n"+
		"Host: 127.0.0.1\r\nContent-Type: application/vnd.ipfs.ipns-record\r\nContent-Length: 1000\r\n\r\nonly a little")
	require.NoError(t, err)
	// The server gives up on the body and lets go of the slot: the
	// connection ends, and another request gets through.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	_, err = io.Copy(io.Discard, conn)
	require.NoError(t, err, "the server closed the connection")
	r := fetch(t, g.URL(), "GET", "/routing/v1/ipns/k51qzi5uqu5dhlbegona8wfyei6jnjuhrulz3t8femxtfmak9134qpqncw3poc", "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
}

// refusingRecords holds no record and refuses every one put.
type refusingRecords struct{}

func (refusingRecords) GetRecord(context.Context, ipns.Name) ([]byte, error) {
	return nil, routing.ErrNotFound
}

func (refusingRecords) PutRecord(context.Context, ipns.Name, []byte) error {
	return ErrRecordRefused
}

// Records any page may put are bounded per second; a refused record is
// 400, the router's failure (500) turned into the client's.
func TestRoutingV1PutLimit(t *testing.T) {
	_, bserv := newTestStore(t)
	cfg := DefaultConfig()
	cfg.BlockService = bserv
	cfg.Router = newStuckRouter()
	cfg.Records = refusingRecords{}
	cfg.RecordPutsPerSecond = 0.1 // one at once, then one in ten seconds
	g := startGateway(t, cfg)

	sk, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	pid, err := peer.IDFromPrivateKey(sk)
	require.NoError(t, err)
	rec, err := ipns.NewRecord(sk, path.FromCid(rawCID(t, "v1")), 1, time.Now().Add(time.Hour), time.Minute)
	require.NoError(t, err)
	raw, err := ipns.MarshalRecord(rec)
	require.NoError(t, err)
	put := func() response {
		req, err := http.NewRequest("PUT", g.URL()+"/routing/v1/ipns/"+ipns.NameFromPeer(pid).String(), bytes.NewReader(raw))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/vnd.ipfs.ipns-record")
		resp, err := noRedirects.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return response{status: resp.StatusCode, header: resp.Header, body: body}
	}
	r := put()
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
	require.Contains(t, string(r.body), ErrRecordRefused.Error())
	r = put()
	require.Equal(t, http.StatusTooManyRequests, r.status, "%s", r.body)
	require.NotEmpty(t, r.header.Get("Retry-After"))
}
