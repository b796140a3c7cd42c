package cli

// NAT tests: island daemons on real NATs, built from Linux network
// namespaces by testutil/netns: a public node (bootstrap and relay) and a
// second public one on an "Internet" that reaches nowhere else, and homes
// behind routers that masquerade them. Each check is a user's story; the
// checks 4 and 5 run with -tags integration (nat_integration_test.go).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/testutil"
	"github.com/islandsite/island/internal/testutil/netns"
)

// natDeadline bounds each wait in a NAT test: AutoNAT's first probe and a
// relay reservation take about 20 seconds.
const natDeadline = 90 * time.Second

// natNode is an island daemon in a namespace.
type natNode struct {
	name string
	host *netns.Host
	repo string
	proc *netns.Process
	id   string
}

// startNATNode runs `island daemon` on h, listening on TCP and QUIC on all
// of h's addresses, bootstrapped to boot (none if nil), with extra flags.
func startNATNode(t *testing.T, h *netns.Host, name string, boot *natNode, extra ...string) *natNode {
	t.Helper()
	n := &natNode{name: name, host: h, repo: filepath.Join(t.TempDir(), name)}
	args := []string{"--repo", n.repo, "daemon",
		"--listen", "/ip6/::/tcp/4001", "--listen", "/ip6/::/udp/4001/quic-v1",
		"--api", "127.0.0.1:0", "--gateway", "127.0.0.1:0"}
	if boot == nil {
		args = append(args, "--bootstrap", "none")
	} else {
		args = append(args, "--bootstrap", boot.addr())
	}
	n.proc = h.Start(islandBinary(t), append(args, extra...)...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daemon %s stdout:\n%s\nstderr:\n%s", name, n.proc.Stdout, n.proc.Stderr)
		}
	})
	require.Eventually(t, func() bool {
		select {
		case <-n.proc.Done():
			return true
		default:
		}
		return strings.Contains(n.proc.Stdout.String(), "Daemon is ready")
	}, natDeadline, 20*time.Millisecond)
	select {
	case <-n.proc.Done():
		t.Fatalf("daemon %s exited at start (%v): %s", name, n.proc.Err(), n.proc.Stderr)
	default:
	}
	n.id = n.identity(t).ID
	return n
}

// addr is the node's public TCP address, ending in /p2p/<ID>.
func (n *natNode) addr() string {
	return fmt.Sprintf("/ip6/%s/tcp/4001/p2p/%s", n.host.Addr, n.id)
}

// run runs an island command on the node's repo, in its namespace.
func (n *natNode) run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := n.host.Command(context.Background(), islandBinary(t), append([]string{"--repo", n.repo}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(interface{ ExitCode() int }); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return out.String(), errOut.String(), code
}

func (n *natNode) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := n.run(t, args...)
	require.Zero(t, code, "%s: island %s: %s", n.name, strings.Join(args, " "), errOut)
	return out
}

// natIdentity is `island id --json`.
type natIdentity struct {
	ID           string   `json:"id"`
	Addrs        []string `json:"addrs"`
	Reachability *struct {
		Status       string   `json:"status"`
		RelayAddrs   []string `json:"relay_addrs"`
		RelayService bool     `json:"relay_service"`
		HolePunching bool     `json:"hole_punching"`
		LastServed   *struct {
			Peer string `json:"peer"`
			Path string `json:"path"`
			Addr string `json:"addr"`
		} `json:"last_served"`
	} `json:"reachability"`
}

func (n *natNode) identity(t *testing.T) natIdentity {
	t.Helper()
	var id natIdentity
	out := n.ok(t, "id", "--json")
	require.NoError(t, json.Unmarshal([]byte(out), &id), out)
	require.NotNil(t, id.Reachability, "%s: id --json has no reachability: %s", n.name, out)
	return id
}

// await polls the node's identity until ok, and returns it.
func (n *natNode) await(t *testing.T, what string, ok func(natIdentity) bool) natIdentity {
	t.Helper()
	var id natIdentity
	require.Eventually(t, func() bool {
		id = n.identity(t)
		return ok(id)
	}, natDeadline, 250*time.Millisecond, "%s never %s: %+v", n.name, what, id.Reachability)
	return id
}

// connection is the address of n's connection to p in `peers --json` (its
// direct one when it has one), "" when not connected.
func (n *natNode) connection(t *testing.T, p *natNode) string {
	t.Helper()
	var peers []struct {
		ID   string `json:"id"`
		Addr string `json:"addr"`
	}
	out := n.ok(t, "peers", "--json")
	require.NoError(t, json.Unmarshal([]byte(out), &peers), out)
	for _, pi := range peers {
		if pi.ID == p.id {
			return pi.Addr
		}
	}
	return ""
}

// timed runs an island command on n and reports when its first byte of
// output came and when it ended.
func (n *natNode) timed(t *testing.T, args ...string) (out []byte, firstByte, total time.Duration, stderr string, code int) {
	t.Helper()
	cmd := n.host.Command(context.Background(), islandBinary(t), append([]string{"--repo", n.repo}, args...)...)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	pipe, err := cmd.StdoutPipe()
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, cmd.Start())
	out, firstByte = readTimed(t, pipe, start)
	err = cmd.Wait()
	total = time.Since(start)
	if ee, ok := err.(interface{ ExitCode() int }); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return out, firstByte, total, errOut.String(), code
}

// readTimed reads r to its end and says when its first byte came, from
// start.
func readTimed(t *testing.T, r io.Reader, start time.Time) (out []byte, firstByte time.Duration) {
	t.Helper()
	var buf bytes.Buffer
	b := make([]byte, 32<<10)
	for {
		k, err := r.Read(b)
		if k > 0 && buf.Len() == 0 {
			firstByte = time.Since(start)
		}
		buf.Write(b[:k])
		if err == io.EOF {
			return buf.Bytes(), firstByte
		}
		require.NoError(t, err)
	}
}

// httpGet gets path from the node's gateway, as a browser in its home
// would, and reports when the first byte of the body came and when it
// ended.
func (n *natNode) httpGet(t *testing.T, path string) (status int, body []byte, firstByte, total time.Duration) {
	t.Helper()
	base, err := os.ReadFile(filepath.Join(n.repo, "gateway"))
	require.NoError(t, err)
	start := time.Now()
	resp, err := n.host.HTTPClient().Get(strings.TrimSpace(string(base)) + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, firstByte = readTimed(t, resp.Body, start)
	return resp.StatusCode, body, firstByte, time.Since(start)
}

// homePage has visitor open the author's home page in a browser, through
// its own gateway, and checks that it arrived whole and that the author
// served it through a relay.
func (w *natWorld) homePage(t *testing.T, visitor, author *natNode) (firstByte, total time.Duration) {
	t.Helper()
	status, page, firstByte, total := visitor.httpGet(t, "/ipns/"+w.name+"/")
	require.Equal(t, 200, status, "%s", page)
	want, err := os.ReadFile(filepath.Join(w.site, "index.html"))
	require.NoError(t, err)
	require.Equal(t, string(want), string(page))
	served := author.identity(t).Reachability.LastServed
	require.NotNil(t, served)
	require.Equal(t, visitor.id, served.Peer)
	require.Equal(t, "relayed", served.Path, "the home page went over %s", served.Addr)
	return firstByte, total
}

// stop ends the daemon as Ctrl-C does.
func (n *natNode) stop(t *testing.T) {
	t.Helper()
	n.proc.Stop(syscall.SIGINT, 10*time.Second)
}

// natWorld is the Internet with its two public nodes, both of them found
// public by AutoNAT and relaying.
type natWorld struct {
	net        *netns.Net
	pub, pub2  *natNode
	site, name string // the author's rendered site and IPNS name
}

func newNATWorld(t *testing.T) *natWorld {
	t.Helper()
	n := netns.New(t)
	w := &natWorld{net: n}
	w.pub = startNATNode(t, n.Public("pub"), "pub", nil)
	// A node learns its public address, and AutoNAT confirms it, from what
	// others observe: the second public node is the first's observer and
	// AutoNAT server, and the reverse.
	w.pub2 = startNATNode(t, n.Public("pub2"), "pub2", w.pub)
	for _, p := range []*natNode{w.pub, w.pub2} {
		p.await(t, "became public and relaying", func(id natIdentity) bool {
			return id.Reachability.Status == "public" && id.Reachability.RelayService
		})
	}
	return w
}

// author starts a daemon behind nat that publishes a site with a file of
// over 1 MiB, once it is private and holds a relay address (check 1).
func (w *natWorld) author(t *testing.T, nat netns.NAT) *natNode {
	t.Helper()
	start := time.Now()
	a := startNATNode(t, w.net.Home("author", nat), "author", w.pub)
	id := a.await(t, "learned it is private and got a relay address", func(id natIdentity) bool {
		return id.Reachability.Status == "private" && len(id.Reachability.RelayAddrs) > 0
	})
	t.Logf("timing: the author is private with %d relay addresses %s after start", len(id.Reachability.RelayAddrs), time.Since(start).Round(100*time.Millisecond))
	for _, ra := range id.Reachability.RelayAddrs {
		require.Contains(t, ra, "/p2p-circuit/p2p/"+a.id)
		require.True(t, strings.Contains(ra, "/p2p/"+w.pub.id+"/") || strings.Contains(ra, "/p2p/"+w.pub2.id+"/"), "relay address %s is not on a public node", ra)
		require.Contains(t, id.Addrs, ra, "relay addresses are advertised")
	}

	content := filepath.Join(t.TempDir(), "content")
	writeSite(t, content, "Written at home, behind a NAT.")
	require.NoError(t, os.WriteFile(filepath.Join(content, "static", "photo.bin"), testutil.RandomBytes(1<<20+12345, 19), 0o644))
	w.site = builtSite(t, content)
	var v siteVersionOut
	out := a.ok(t, "publish", "--json", "--content", content)
	require.NoError(t, json.Unmarshal([]byte(out), &v), out)
	w.name = v.Name
	return a
}

// TestNATRelayThenDirect is checks 1 to 3 of a home node behind NAT: the
// author learns it is private and gets a relay address; a visitor behind
// another NAT, knowing only the public node, resolves the author's name and
// gets the home page through the relay; hole punching then connects them
// directly and the whole site, with a file over 1 MiB, arrives byte for
// byte over the direct connection.
func TestNATRelayThenDirect(t *testing.T) {
	if testing.Short() {
		t.Skip("builds NATs from network namespaces and runs four daemons")
	}
	w := newNATWorld(t)
	author := w.author(t, netns.NATPreserving)
	visitor := startNATNode(t, w.net.Home("visitor", netns.NATPreserving), "visitor", w.pub)
	// A node takes part in hole punching once a peer has told it its
	// public address; a hole punch with a node that does not yet fails
	// for good.
	for _, n := range []*natNode{author, visitor} {
		n.await(t, "got ready for hole punching", func(id natIdentity) bool { return id.Reachability.HolePunching })
	}

	// Check 2. Until the page is in, the routers drop what goes between
	// the homes directly: the page has to come through the relay, not
	// over a hole punched faster than it.
	restore := visitor.host.Cut(author.host)
	require.Equal(t, "/ipfs/", visitor.ok(t, "name", "resolve", w.name)[:6])
	first, total := w.homePage(t, visitor, author)
	restore()
	t.Logf("timing: home page through the relay, visitor's gateway: first byte %s, all %s", first.Round(time.Millisecond), total.Round(time.Millisecond))

	// Check 3. Hole punching, under way since the relayed connection
	// opened, gets through once the routers let it.
	opened := time.Now()
	require.Eventually(t, func() bool {
		c := visitor.connection(t, author)
		return c != "" && !strings.Contains(c, "/p2p-circuit")
	}, natDeadline, 100*time.Millisecond, "no direct connection from the visitor to the author")
	t.Logf("timing: direct connection %s after the routers let it through", time.Since(opened).Round(100*time.Millisecond))
	conn := visitor.connection(t, author)
	require.Contains(t, conn, author.host.Public.String(), "the direct connection goes to the author's router")

	status, photo, first, total := visitor.httpGet(t, "/ipns/"+w.name+"/photo.bin")
	require.Equal(t, 200, status, "%s", photo)
	t.Logf("timing: %d-byte file over the direct connection, visitor's gateway: first byte %s, all %s", len(photo), first.Round(time.Millisecond), total.Round(time.Millisecond))
	served := author.identity(t).Reachability.LastServed
	require.Equal(t, "direct", served.Path, "the file went over %s", served.Addr)

	got := filepath.Join(t.TempDir(), "got")
	_, _, total, errOut, code := visitor.timed(t, "get", "/ipns/"+w.name, "-o", got)
	require.Zero(t, code, errOut)
	requireSameTree(t, w.site, got)
	served = author.identity(t).Reachability.LastServed
	require.Equal(t, "direct", served.Path, "the site went over %s", served.Addr)
	require.NotContains(t, served.Addr, "/p2p-circuit")
	t.Logf("timing: the rest of the site (%s in all) over the direct connection, island get: %s", treeSize(t, got), total.Round(time.Millisecond))

}

// treeSize says how many files and bytes are under dir.
func treeSize(t *testing.T, dir string) string {
	t.Helper()
	var files, bytes int64
	require.NoError(t, filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files++
			bytes += fi.Size()
		}
		return err
	}))
	return fmt.Sprintf("%d files, %d bytes", files, bytes)
}
