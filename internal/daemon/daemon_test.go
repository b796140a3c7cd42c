package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/islandsite/island/internal/api"
	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/repo"
	"github.com/islandsite/island/internal/testutil/testnet"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Started once per process by libraries, never stopped.
		goleak.IgnoreAnyFunction("github.com/ipfs/go-log/v2/writer.(*MirrorWriter).logRoutine"),
		goleak.IgnoreTopFunction("github.com/libp2p/go-libp2p/p2p/transport/webrtc/udpmux.(*UDPMux).startReadLoop.func1"),
	)
}

// loopbackConfig is a daemon on a fresh repo that listens only on
// 127.0.0.1, on ports the kernel picks, and dials no one.
func loopbackConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Core.RepoPath = t.TempDir()
	cfg.Core.Mode = core.ModeLAN
	cfg.Core.Node.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Core.Node.Bootstrap = nil
	cfg.API.ListenAddr = "127.0.0.1:0"
	cfg.Gateway.ListenAddr = "127.0.0.1:0"
	return cfg
}

// start runs a daemon until the test ends and returns once it is ready.
func start(t *testing.T, cfg Config) *Daemon {
	t.Helper()
	ready := make(chan struct{})
	cfg.Ready = func() { close(ready) }
	d, err := New(context.Background(), cfg)
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-done)
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run ended before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon did not get ready within 30 s")
	}
	return d
}

func TestDaemonLifecycle(t *testing.T) {
	ctx := context.Background()
	cfg := loopbackConfig(t)
	ready := make(chan struct{})
	cfg.Ready = func() { close(ready) }
	d, err := New(ctx, cfg)
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run ended before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon did not get ready within 30 s")
	}

	// Ready means announced: the files are there when it is called.
	dir := cfg.Core.RepoPath
	apiFile := filepath.Join(dir, api.FileName)
	gwFile := filepath.Join(dir, core.GatewayFile)
	b, err := os.ReadFile(apiFile)
	require.NoError(t, err)
	require.Equal(t, d.APIURL()+"\n", string(b))
	b, err = os.ReadFile(gwFile)
	require.NoError(t, err)
	require.Equal(t, d.GatewayURL()+"\n", string(b))

	// The typed API answers through the client a CLI uses.
	c, err := api.Dial(ctx, dir)
	require.NoError(t, err)
	id, err := c.ID(ctx)
	require.NoError(t, err)
	require.Equal(t, core.ModeLAN, id.Mode)
	require.NotEmpty(t, id.Addrs)

	// Metrics of every part on one injected registry.
	resp, err := http.Get(d.APIURL() + "/debug/metrics/prometheus")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for _, m := range []string{"go_goroutines", "libp2p_", "island_bitswap_", "island_provide_"} {
		require.Contains(t, string(metrics), m)
	}

	// The status page knows the node; it is on the API's origin, where the
	// gateway's "/" leads, and names the gateway.
	resp, err = http.Get(d.GatewayURL() + "/")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, d.APIURL()+"/", resp.Request.URL.String(), "the gateway's / redirects to the API's")
	require.Contains(t, string(page), id.ID)
	require.Contains(t, string(page), d.GatewayURL())
	resp, err = http.Get(d.APIURL() + "/api/v1/status")
	require.NoError(t, err)
	var st core.Status
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	resp.Body.Close()
	require.Equal(t, id.ID, st.PeerID)
	require.NotEmpty(t, st.Addrs)
	require.Equal(t, d.GatewayURL(), st.Gateway)

	stop()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon did not stop within 10 s")
	}
	require.NoFileExists(t, apiFile, "a stopped daemon removes its API file")
	require.NoFileExists(t, gwFile)
	require.NoError(t, d.Close(), "Close after Run is a no-op")
	_, err = api.Dial(ctx, dir)
	require.ErrorIs(t, err, api.ErrNoDaemon)
}

// Every listener binds in New: a bad or busy address fails there, with
// the listener's name and the address, and nothing is left running (goleak).
func TestNewRefusesBusyAddresses(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"gateway", func(c *Config) { c.Gateway.ListenAddr = busy.Addr().String() }, "gateway: listen on " + busy.Addr().String()},
		{"api", func(c *Config) { c.API.ListenAddr = busy.Addr().String() }, "api: listen on " + busy.Addr().String()},
		{"pinning", func(c *Config) { c.PinningAddr = busy.Addr().String() }, "pinning service: listen on " + busy.Addr().String()},
		{"gateway, no port", func(c *Config) { c.Gateway.ListenAddr = "localhost" }, `gateway: listen address "localhost"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loopbackConfig(t)
			tc.edit(&cfg)
			d, err := New(context.Background(), cfg)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, d)
			// The repo was closed again: another opener gets it.
			c, err := core.Open(context.Background(), core.Config{RepoPath: cfg.Core.RepoPath})
			require.NoError(t, err)
			require.NoError(t, c.Close())
		})
	}
}

// A part of the daemon that fails stops the whole daemon with its error,
// and the announcement goes with it.
func TestFailingPartStopsTheDaemon(t *testing.T) {
	cfg := loopbackConfig(t)
	ready := make(chan struct{})
	cfg.Ready = func() { close(ready) }
	d, err := New(context.Background(), cfg)
	require.NoError(t, err)
	fail := make(chan struct{})
	d.Go(func(ctx context.Context) error {
		select {
		case <-fail:
			return errors.New("the part broke")
		case <-ctx.Done():
			return nil
		}
	})
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background()) }()
	<-ready
	require.FileExists(t, filepath.Join(cfg.Core.RepoPath, api.FileName))
	close(fail)
	select {
	case err := <-done:
		require.ErrorContains(t, err, "the part broke")
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon kept running without one of its parts")
	}
	require.NoFileExists(t, filepath.Join(cfg.Core.RepoPath, api.FileName))
}

// A site that cannot be published for another reason than its content
// (here: no such key) stops `serve` at once, saying why.
func TestServeStopsOnAStartFailure(t *testing.T) {
	cfg := loopbackConfig(t)
	content := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(content, "index.md"), []byte("# hi\n"), 0o644))
	sc := DefaultSiteConfig()
	sc.Content, sc.Key = content, "nope"
	cfg.Site = &sc
	d, err := New(context.Background(), cfg)
	require.NoError(t, err)
	err = d.Run(context.Background())
	require.ErrorContains(t, err, `no key named "nope"`)
	require.NoFileExists(t, filepath.Join(cfg.Core.RepoPath, api.FileName))
}

// A daemon that cannot announce itself stops everything it started and
// leaves no announcement behind.
func TestRunFailsToAnnounce(t *testing.T) {
	cfg := loopbackConfig(t)
	cfg.Core.Mode = core.ModeOffline
	// Nothing can be renamed over a directory that holds a file.
	gwFile := filepath.Join(cfg.Core.RepoPath, core.GatewayFile)
	require.NoError(t, os.MkdirAll(filepath.Join(gwFile, "x"), 0o700))
	d, err := New(context.Background(), cfg)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background()) }()
	select {
	case err := <-done:
		require.ErrorContains(t, err, "daemon: write "+gwFile)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after failing to announce")
	}
	require.NoFileExists(t, filepath.Join(cfg.Core.RepoPath, api.FileName))
}

// A friend's node on another machine reaches the pinning service on its own
// listener, with the token and without the local API's loopback guard.
func TestPinningListener(t *testing.T) {
	cfg := loopbackConfig(t)
	cfg.PinningAddr = "127.0.0.1:0"
	d := start(t, cfg)
	tokenFile := filepath.Join(cfg.Core.RepoPath, PinningTokenFile)
	token, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	info, err := os.Stat(tokenFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	require.NotEqual(t, d.APIURL()+PinningPrefix, d.PinningURL())

	tests := []struct {
		name  string
		token string
		host  string
		want  int
	}{
		{"no token", "", "", http.StatusUnauthorized},
		{"wrong token", "nope", "", http.StatusUnauthorized},
		{"token", strings.TrimSpace(string(token)), "", http.StatusOK},
		{"token, another machine's name", strings.TrimSpace(string(token)), "island.friend.example:5081", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, d.PinningURL()+"/pins", nil)
			require.NoError(t, err)
			if tt.host != "" {
				req.Host = tt.host
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, tt.want, resp.StatusCode)
		})
	}
	// The repo-controlling API is not on that listener.
	resp, err := http.Get(strings.TrimSuffix(d.PinningURL(), PinningPrefix) + "/api/v1/id")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// An API that listens beyond loopback needs the token, which the daemon
// creates 0600 in the repo; the CLI's client reads it from there.
func TestAPIAuth(t *testing.T) {
	cfg := loopbackConfig(t)
	cfg.APIAuth = true
	d := start(t, cfg)
	tokenFile := filepath.Join(cfg.Core.RepoPath, api.TokenFile)
	info, err := os.Stat(tokenFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	_, err = api.NewClient(d.APIURL(), "").ID(context.Background())
	require.Equal(t, core.CodeUnauthorized, core.ErrorCode(err))
	c, err := api.Dial(context.Background(), cfg.Core.RepoPath)
	require.NoError(t, err)
	_, err = c.ID(context.Background())
	require.NoError(t, err)
}

// apiOf is the typed API of a running daemon, as the CLI reaches it.
func apiOf(t *testing.T, d *Daemon) core.API {
	t.Helper()
	c, err := api.Dial(context.Background(), d.Core().Path())
	require.NoError(t, err)
	return c
}

func addText(t *testing.T, a core.API, name, text string) string {
	t.Helper()
	res, err := a.Add(context.Background(), core.AddRequest{Files: files.NewMapDirectory(map[string]files.Node{name: files.NewBytesFile([]byte(text))})})
	require.NoError(t, err)
	return res.Roots[0].CID
}

// catText reads a file; a block the repo lacks is looked for on the
// network, which here (no peers) gives up after a few seconds.
func catText(t *testing.T, a core.API, c string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rc, err := a.Cat(ctx, core.PathRequest{Path: c})
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

func holdersOf(t *testing.T, a core.API, c string) []string {
	t.Helper()
	pins, err := a.PinLs(context.Background(), core.PinLsRequest{})
	require.NoError(t, err)
	var out []string
	for _, p := range pins {
		if p.CID == c {
			for _, h := range p.Holders {
				out = append(out, h.Kind)
			}
		}
	}
	return out
}

// pinRequest asks the daemon's pinning service, as a friend would, to pin
// c, waits until it is pinned and returns the request ID.
func pinRequest(t *testing.T, d *Daemon, c string) string {
	t.Helper()
	id := askPin(t, d, c)
	require.Eventually(t, func() bool { return pinStatus(t, d, id) == "pinned" }, 20*time.Second, 20*time.Millisecond)
	return id
}

// pinningDo sends one request to the daemon's pinning service.
func pinningDo(t *testing.T, d *Daemon, method, url, body string) *http.Response {
	t.Helper()
	token, err := os.ReadFile(filepath.Join(d.Core().Path(), PinningTokenFile))
	require.NoError(t, err)
	req, err := http.NewRequest(method, d.PinningURL()+url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

// askPin asks the pinning service to pin c and returns the request ID.
func askPin(t *testing.T, d *Daemon, c string) string {
	t.Helper()
	resp := pinningDo(t, d, http.MethodPost, "/pins", `{"cid":"`+c+`"}`)
	defer resp.Body.Close()
	var st struct {
		RequestID string `json:"requestid"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st.RequestID
}

// pinStatus is the status of a pinning request.
func pinStatus(t *testing.T, d *Daemon, id string) string {
	t.Helper()
	resp := pinningDo(t, d, http.MethodGet, "/pins/"+id, "")
	defer resp.Body.Close()
	var st struct {
		Status string `json:"status"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st.Status
}

// A friend's pinning request for a CID nobody has waits on the network for
// the node's whole fetch timeout; a gc and an add meanwhile neither wait for
// it nor for each other (issue 13: the fetch held the lock gc waits for,
// and a waiting gc held up every add and publish).
func TestGCNeverWaitsOnAFetch(t *testing.T) {
	cfg := loopbackConfig(t)
	cfg.Core.Node.FetchTimeout = 10 * time.Minute // longer than the test
	d := start(t, cfg)
	a := apiOf(t, d)
	ctx := context.Background()
	kept := addText(t, a, "kept.txt", "held by the user\n")
	nobodyHas := cid.NewCidV1(cid.Raw, mustHash(t, "a block nobody has")).String()
	id := askPin(t, d, nobodyHas)
	require.Eventually(t, func() bool { return pinStatus(t, d, id) == "pinning" }, 20*time.Second, 10*time.Millisecond)

	gcDone, addDone := make(chan error, 1), make(chan string, 1)
	go func() {
		_, err := a.GC(ctx)
		gcDone <- err
	}()
	go func() {
		added, err := a.Add(ctx, core.AddRequest{Files: files.NewMapDirectory(map[string]files.Node{
			"small.txt": files.NewBytesFile([]byte("added while a fetch waits\n")),
		})})
		if err != nil {
			addDone <- "error: " + err.Error()
			return
		}
		addDone <- added.Roots[0].CID
	}()
	for range 2 {
		select {
		case err := <-gcDone:
			require.NoError(t, err)
		case c := <-addDone:
			require.NotContains(t, c, "error")
		case <-time.After(time.Minute):
			t.Fatal("gc or add waited on the pinning request's fetch")
		}
	}
	require.Equal(t, "pinning", pinStatus(t, d, id), "the fetch was still waiting all along")
	got, err := catText(t, a, kept)
	require.NoError(t, err)
	require.Equal(t, "held by the user\n", got)
}

func removeRequest(t *testing.T, d *Daemon, id string) {
	t.Helper()
	resp := pinningDo(t, d, http.MethodDelete, "/pins/"+id, "")
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
}

// The data loss issue 12 found, as a user met it: the owner adds a file, a
// friend holding the pinning token pins the same CID and later deletes the
// request; after gc the owner's file must still be there.
func TestPinningServiceNeverTakesTheOwnersPin(t *testing.T) {
	d := start(t, loopbackConfig(t))
	a := apiOf(t, d)
	ctx := context.Background()
	precious := addText(t, a, "precious.txt", "the owner's file\n")

	id := pinRequest(t, d, precious)
	require.ElementsMatch(t, []string{"user", "pinsvc"}, holdersOf(t, a, precious))
	removeRequest(t, d, id)
	require.Equal(t, []string{"user"}, holdersOf(t, a, precious))
	_, err := a.GC(ctx)
	require.NoError(t, err)
	got, err := catText(t, a, precious)
	require.NoError(t, err, "the owner's file survives gc")
	require.Equal(t, "the owner's file\n", got)

	// And the other way round: the user's pin rm leaves the friend's pin.
	theirs := addText(t, a, "theirs.txt", "a friend's file\n")
	id = pinRequest(t, d, theirs)
	rm, err := a.PinRm(ctx, core.PathRequest{Path: theirs})
	require.NoError(t, err)
	require.False(t, rm.Removed)
	_, err = a.GC(ctx)
	require.NoError(t, err)
	_, err = catText(t, a, theirs)
	require.NoError(t, err, "the friend's request still holds it")
	removeRequest(t, d, id)
	_, err = a.GC(ctx)
	require.NoError(t, err)
	_, err = catText(t, a, theirs)
	require.Error(t, err, "once nobody holds it, gc removes it")
}

// publishRecord signs a record for a fresh key pointing at c (as the
// followed author's node would) and stores it in the daemon's repo.
func publishRecord(t *testing.T, a core.API, c string) string {
	t.Helper()
	sk, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	pid, err := peer.IDFromPrivateKey(sk)
	require.NoError(t, err)
	p, err := path.NewPath("/ipfs/" + c)
	require.NoError(t, err)
	rec, err := ipns.NewRecord(sk, p, 1, time.Now().Add(time.Hour), time.Minute)
	require.NoError(t, err)
	raw, err := ipns.MarshalRecord(rec)
	require.NoError(t, err)
	name := ipns.NameFromPeer(pid).String()
	_, err = a.RoutingPut(context.Background(), core.RoutingPutRequest{Name: "/ipns/" + name, Record: raw})
	require.NoError(t, err)
	return name
}

// A follow's pin and the user's pin on the same CID are two holds: either
// can go without taking the other.
func TestFollowAndUserHoldTheSameVersion(t *testing.T) {
	d := start(t, loopbackConfig(t))
	a := apiOf(t, d)
	ctx := context.Background()
	for _, userFirst := range []bool{true, false} {
		text := "version kept twice " + map[bool]string{true: "(user first)", false: "(follow first)"}[userFirst]
		v := addText(t, a, "site.txt", text)
		name := publishRecord(t, a, v)
		_, err := a.Follow(ctx, core.FollowRequest{Name: name})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			return len(holdersOf(t, a, v)) == 2
		}, 20*time.Second, 20*time.Millisecond, "the follower holds the version too")

		if userFirst {
			_, err = a.PinRm(ctx, core.PathRequest{Path: v})
			require.NoError(t, err)
			require.Equal(t, []string{"follow"}, holdersOf(t, a, v))
		} else {
			_, err = a.Unfollow(ctx, core.FollowRequest{Name: name})
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				return len(holdersOf(t, a, v)) == 1
			}, 20*time.Second, 20*time.Millisecond, "the follower lets go of its hold")
			require.Equal(t, []string{"user"}, holdersOf(t, a, v))
		}
		_, err = a.GC(ctx)
		require.NoError(t, err)
		got, err := catText(t, a, v)
		require.NoError(t, err)
		require.Equal(t, text, got)
	}
}

// Under --offline /ipns/NAME resolves from the repo; its record must be
// served from there too.
func mustHash(t *testing.T, s string) multihash.Multihash {
	t.Helper()
	h, err := multihash.Sum([]byte(s), multihash.SHA2_256, -1)
	require.NoError(t, err)
	return h
}

func TestOfflineGatewayServesIPNSRecord(t *testing.T) {
	cfg := loopbackConfig(t)
	cfg.Core.Mode = core.ModeOffline
	d := start(t, cfg)
	a := apiOf(t, d)
	name := publishRecord(t, a, addText(t, a, "site.txt", "site"))
	raw, err := a.RoutingGet(context.Background(), core.RoutingGetRequest{Name: "/ipns/" + name})
	require.NoError(t, err)
	resp, err := http.Get(d.GatewayURL() + "/ipns/" + name + "?format=ipns-record")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.True(t, bytes.Equal(raw, body))

	other, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	pid, err := peer.IDFromPrivateKey(other)
	require.NoError(t, err)
	resp, err = http.Get(d.GatewayURL() + "/ipns/" + ipns.NameFromPeer(pid).String() + "?format=ipns-record")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "a name nobody published")
}

// signRecord signs an IPNS record for sk's name pointing at /ipfs/c.
func signRecord(t *testing.T, sk crypto.PrivKey, c string, seq uint64, eol time.Time) []byte {
	t.Helper()
	p, err := path.NewPath("/ipfs/" + c)
	require.NoError(t, err)
	rec, err := ipns.NewRecord(sk, p, seq, eol, time.Minute)
	require.NoError(t, err)
	raw, err := ipns.MarshalRecord(rec)
	require.NoError(t, err)
	return raw
}

// routingV1 sends one request to the daemon's /routing/v1/ipns/NAME.
func routingV1(t *testing.T, d *Daemon, method, name string, body []byte) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, d.GatewayURL()+"/routing/v1/ipns/"+name, bytes.NewReader(body))
	require.NoError(t, err)
	if method == http.MethodPut {
		req.Header.Set("Content-Type", "application/vnd.ipfs.ipns-record")
	} else {
		req.Header.Set("Accept", "application/vnd.ipfs.ipns-record")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// Records put through the gateway's /routing/v1/ipns/ go through the name
// system: a good one is kept, served and put to the DHT, where another node
// finds it; a forged, expired or older one is refused with 400 and changes
// nothing.
func TestRoutingV1IPNS(t *testing.T) {
	d := start(t, loopbackConfig(t))
	n := d.Core().Node()
	cfg := loopbackConfig(t)
	cfg.Core.Node.Bootstrap = []peer.AddrInfo{{ID: n.ID(), Addrs: n.Host().Addrs()}}
	other := start(t, cfg)
	testnet.AwaitDHTNeighbours(t, other.Core().Node(), n.ID())
	a := apiOf(t, d)
	ctx := context.Background()
	c := addText(t, a, "site.txt", "the site")
	author, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	pid, err := peer.IDFromPrivateKey(author)
	require.NoError(t, err)
	name := ipns.NameFromPeer(pid).String()
	forger, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	held := func() []byte {
		raw, err := a.RoutingGet(ctx, core.RoutingGetRequest{Name: "/ipns/" + name})
		if err != nil {
			return nil
		}
		return raw
	}

	status, ctype, body := routingV1(t, d, http.MethodGet, name, nil)
	require.Equal(t, http.StatusOK, status, "IPIP-0513: no record is 200 without a record")
	require.NotEqual(t, "application/vnd.ipfs.ipns-record", ctype, "%s", body)

	for _, tc := range []struct {
		what   string
		record []byte
	}{
		{"forged", signRecord(t, forger, c, 9, time.Now().Add(time.Hour))},
		{"expired", signRecord(t, author, c, 9, time.Now().Add(-time.Minute))},
		{"not a record", []byte("hello")},
	} {
		status, _, body := routingV1(t, d, http.MethodPut, name, tc.record)
		require.Equal(t, http.StatusBadRequest, status, "%s: %s", tc.what, body)
		require.Nil(t, held(), "%s: nothing is stored", tc.what)
	}

	good := signRecord(t, author, c, 5, time.Now().Add(time.Hour))
	status, _, body = routingV1(t, d, http.MethodPut, name, good)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Equal(t, good, held())
	status, ctype, body = routingV1(t, d, http.MethodGet, name, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "application/vnd.ipfs.ipns-record", ctype)
	require.Equal(t, good, body)
	status, ctype, body = routingV1(t, other, http.MethodGet, name, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "application/vnd.ipfs.ipns-record", ctype, "the other node found the record in the DHT: %s", body)
	require.Equal(t, good, body)

	older := signRecord(t, author, c, 4, time.Now().Add(2*time.Hour))
	status, _, body = routingV1(t, d, http.MethodPut, name, older)
	require.Equal(t, http.StatusBadRequest, status, "%s", body)
	require.Contains(t, string(body), "lower than the 5 already held")
	require.Equal(t, good, held(), "the newer record stays")
}

// The addresses a browser can dial are marked in `island id` and are in
// the signed peer record other nodes get from identify (and so hand on
// through the DHT).
func TestBrowserAddrs(t *testing.T) {
	cfg := loopbackConfig(t)
	cfg.Core.Node.ListenAddrs = []string{
		"/ip4/127.0.0.1/tcp/0",
		"/ip4/127.0.0.1/udp/0/quic-v1",
		"/ip4/127.0.0.1/udp/0/quic-v1/webtransport",
		"/ip4/127.0.0.1/udp/0/webrtc-direct",
	}
	d := start(t, cfg)
	id, err := apiOf(t, d).ID(context.Background())
	require.NoError(t, err)
	require.Len(t, id.BrowserAddrs, 2, "%v", id.Addrs)
	var kinds []string
	for _, a := range id.BrowserAddrs {
		require.Contains(t, id.Addrs, a)
		require.Contains(t, a, "/certhash/")
		for _, k := range []string{"/webtransport/", "/webrtc-direct/"} {
			if strings.Contains(a, k) {
				kinds = append(kinds, k)
			}
		}
	}
	require.ElementsMatch(t, []string{"/webtransport/", "/webrtc-direct/"}, kinds)

	n := d.Core().Node()
	peerCfg := loopbackConfig(t)
	peerCfg.Core.Node.Bootstrap = []peer.AddrInfo{{ID: n.ID(), Addrs: n.Host().Addrs()}}
	other := start(t, peerCfg)
	// Identify delivers the node's signed peer record; the other node keeps
	// its addresses.
	require.Eventually(t, func() bool {
		var known []string
		for _, a := range other.Core().Node().Host().Peerstore().Addrs(n.ID()) {
			known = append(known, a.String()+"/p2p/"+n.ID().String())
		}
		for _, a := range id.BrowserAddrs {
			if !slices.Contains(known, a) {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond, "the other node never learnt the browser addresses")
}

// A removal of a pinning request that a crash cut short between forgetting
// the request and unpinning leaves a pin no request accounts for; the next
// start lets it go, so gc can take what nobody holds.
func TestOrphanedRequestPinReleasedAtStart(t *testing.T) {
	cfg := loopbackConfig(t)
	ready := make(chan struct{})
	first := cfg
	first.Ready = func() { close(ready) }
	d, err := New(context.Background(), first)
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	<-ready
	a := apiOf(t, d)
	c := addText(t, a, "friend.txt", "held for a friend\n")
	id := pinRequest(t, d, c)
	_, err = a.PinRm(context.Background(), core.PathRequest{Path: c})
	require.NoError(t, err)
	require.Equal(t, []string{"pinsvc"}, holdersOf(t, a, c))
	stop()
	require.NoError(t, <-done)

	// The crash: the request's record is gone, its pin is not.
	r, err := repo.Open(context.Background(), repo.Config{Path: cfg.Core.RepoPath})
	require.NoError(t, err)
	require.NoError(t, r.Datastore().Delete(context.Background(), datastore.NewKey("/island/pinsvc/requests/"+id)))
	require.NoError(t, r.Close())

	d = start(t, cfg)
	a = apiOf(t, d)
	require.Empty(t, holdersOf(t, a, c), "the orphaned pin is released")
}

// With GatewayNoFetch (--gateway-no-fetch) the gateway serves only what the
// repo holds: a CID a connected peer has is not fetched for a web page,
// while the API still fetches it for the user.
func TestGatewayNoFetch(t *testing.T) {
	a := start(t, loopbackConfig(t))
	c := addText(t, apiOf(t, a), "on the other node", "on the other node\n")
	cfg := loopbackConfig(t)
	cfg.Core.Node.Bootstrap = []peer.AddrInfo{testnet.AddrInfo(a.Core().Node())}
	cfg.GatewayNoFetch = true
	b := start(t, cfg)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(b.GatewayURL() + "/ipfs/" + c)
	require.NoError(t, err)
	resp.Body.Close()
	require.NotEqual(t, http.StatusOK, resp.StatusCode, "the gateway fetched from a peer")

	got, err := catText(t, apiOf(t, b), c)
	require.NoError(t, err, "the API still fetches for the user")
	require.Equal(t, "on the other node\n", got)
	resp, err = client.Get(b.GatewayURL() + "/ipfs/" + c)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "on the other node\n", string(body), "what the repo holds is served")
}

// The pinning token's pins hold at most --pinning-quota: the node's fetch
// stops once the DAG passes the room left, the friend reads why, and the
// DAG is not held for the request.
func TestPinningQuota(t *testing.T) {
	cfg := loopbackConfig(t)
	cfg.PinningQuota = 1 << 20
	d := start(t, cfg)
	a := apiOf(t, d)
	small := addText(t, a, "small.txt", "fits\n")
	big := addText(t, a, "big.txt", strings.Repeat("does not fit ", 200_000))
	pinRequest(t, d, small)

	id := askPin(t, d, big)
	require.Eventually(t, func() bool { return pinStatus(t, d, id) == "failed" }, 20*time.Second, 20*time.Millisecond)
	resp := pinningDo(t, d, http.MethodGet, "/pins/"+id, "")
	defer resp.Body.Close()
	var st struct {
		Info map[string]string `json:"info"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	require.Contains(t, st.Info["status_details"], big+" does not fit in what is left of this token's 1.0 MiB")
	require.Equal(t, []string{"user"}, holdersOf(t, a, big), "not held for the request")
	require.ElementsMatch(t, []string{"user", "pinsvc"}, holdersOf(t, a, small))
}
