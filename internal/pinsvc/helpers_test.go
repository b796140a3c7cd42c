package pinsvc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/exchange/offline"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	pebbleds "github.com/ipfs/go-ds-pebble"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// node is the real storage a pinning service pins into: a pebble
// datastore holding blocks and the service's requests, as a repo does, with
// pins that record their holders (the requests), as the repo's do.
type node struct {
	ds  *pebbleds.Datastore
	dag ipld.DAGService

	mu      sync.Mutex
	holders map[cid.Cid]map[string]bool // the requests holding each CID
	pinBy   map[cid.Cid]string          // the request each Pin call was for, last one wins
	unpins  []release                   // every Unpin call, in order
}

func mustNode(t testing.TB, dir string) *node {
	t.Helper()
	ds, err := pebbleds.NewDatastore(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ds.Close() })
	bs := blockstore.NewBlockstore(ds)
	// Offline: in these tests "fetching" can only find blocks already here.
	dag := merkledag.NewDAGService(blockservice.New(bs, offline.Exchange(bs)))
	return &node{ds: ds, dag: dag, holders: map[cid.Cid]map[string]bool{}, pinBy: map[cid.Cid]string{}}
}

func (n *node) pin(ctx context.Context, requestID string, c cid.Cid, _ []multiaddr.Multiaddr, maxBytes uint64) (uint64, error) {
	// The whole DAG must be here, as a real pin walks it.
	var size uint64
	seen := cid.NewSet()
	var walk func(c cid.Cid) error
	walk = func(c cid.Cid) error {
		if !seen.Visit(c) {
			return nil
		}
		nd, err := n.dag.Get(ctx, c)
		if err != nil {
			return err
		}
		size += uint64(len(nd.RawData()))
		for _, l := range nd.Links() {
			if err := walk(l.Cid); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(c); err != nil {
		return 0, err
	}
	if size > maxBytes {
		// As the node's Pin does when its fetch passes maxBytes.
		return 0, fmt.Errorf("%w: %s is %d bytes, over %d", ErrOverQuota, c, size, maxBytes)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.pinBy[c] = requestID
	if n.holders[c] == nil {
		n.holders[c] = map[string]bool{}
	}
	n.holders[c][requestID] = true
	return size, nil
}

func (n *node) unpin(_ context.Context, requestID string, c cid.Cid) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.unpins = append(n.unpins, release{RequestID: requestID, CID: c})
	delete(n.holders[c], requestID)
	return nil
}

// pinnedFor is the request the last Pin of c was for.
func (n *node) pinnedFor(c cid.Cid) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pinBy[c]
}

// unpinned lists the Unpin calls so far.
func (n *node) unpinned() []release {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.unpins)
}

func (n *node) isPinned(t testing.TB, c cid.Cid) bool {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.holders[c]) > 0
}

// addDAG stores a two-block DAG (a dag-pb root linking a raw leaf) and
// returns the root; withLeaf=false leaves the leaf out, so pinning fails.
func (n *node) addDAG(t testing.TB, text string, withLeaf bool) cid.Cid {
	t.Helper()
	ctx := context.Background()
	leaf := merkledag.NewRawNode([]byte(text))
	root := merkledag.NodeWithData([]byte("root of " + text))
	require.NoError(t, root.AddNodeLink("leaf", leaf))
	nodes := []ipld.Node{root}
	if withLeaf {
		nodes = append(nodes, leaf)
	}
	require.NoError(t, n.dag.AddMany(ctx, nodes))
	return root.Cid()
}

const testToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// mustServer runs a Server over n on a loopback httptest server.
func mustServer(t testing.TB, n *node, edit func(*Config)) (*Server, *httptest.Server) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Token = testToken
	cfg.Datastore = n.ds
	cfg.Pin = n.pin
	cfg.Unpin = n.unpin
	cfg.Delegates = func() []string {
		return []string{"/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf"}
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(context.Background(), cfg)
	require.NoError(t, err)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.Close()
		require.NoError(t, s.Close())
	})
	return s, ts
}

func tempDir(t testing.TB) string { return filepath.Join(t.TempDir(), "repo") }

// call sends a raw request, for what the client library cannot express.
func call(t testing.TB, method, url, token string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

func failureReason(t testing.TB, body []byte) string {
	t.Helper()
	var f failureWire
	require.NoError(t, json.Unmarshal(body, &f), string(body))
	return f.Error.Reason
}

// serve puts h on a loopback test server and returns its URL.
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}
