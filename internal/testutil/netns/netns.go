// Package netns builds small networks of Linux network namespaces for
// tests: an "Internet" (a bridge inside a namespace of its own, linked to
// nothing of the machine's), public hosts on it, and homes: a host behind a
// router that masquerades it (NAT, optionally symmetric) and lets in only
// what answers its own traffic, as home routers do.
//
// Addresses follow what go-multiaddr counts as public, or AutoNAT, hole
// punching and the DHT's address filters would never engage: the Internet
// is the IPv6 documentation prefix 3fff::/20 (RFC 9637, public for
// go-multiaddr, unlike 2001:db8::/32 and every IPv4 documentation range),
// each host or router in a /56 of its own so that peers count as distinct
// observers; homes use ULA prefixes (fd00::/8) behind ip6tables MASQUERADE.
// No namespace has a route anywhere but to the others: nothing sent inside
// leaves them.
//
// It needs root, ip(8) and ip6tables(8) (iproute2 and iptables in Debian);
// Available says whether the machine allows it, and why not. Everything a
// Net creates is named with its Prefix and the test process's ID and is
// removed in t.Cleanup, processes first; what a crashed run left behind is
// removed by the next New.
package netns

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/islandsite/island/internal/testutil"
)

// Prefix starts the name of every namespace this package creates; the
// process ID of the test that created it follows.
const Prefix = "isl"

// NAT is how a home router maps its host's connections.
type NAT int

const (
	// NATPreserving masquerades keeping the source port where it can: one
	// mapping per local port whatever the destination (endpoint-independent
	// mapping), which hole punching gets through.
	NATPreserving NAT = iota
	// NATSymmetric masquerades with a random port for every connection
	// (--random-fully): the port a peer sees is not the one the host's next
	// connection leaves from, so hole punching cannot succeed.
	NATSymmetric
)

func (n NAT) String() string {
	if n == NATSymmetric {
		return "symmetric NAT"
	}
	return "port-preserving NAT"
}

// tools are the programs a Net runs.
var tools = []string{"ip", "ip6tables"}

var (
	availOnce sync.Once
	availErr  error
)

// Available says whether this machine can build a Net: root, the tools,
// and network namespaces with IPv6 NAT. Its error says what is missing.
func Available() error {
	availOnce.Do(func() { availErr = probe() })
	return availErr
}

func probe() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root")
	}
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%s not found (Debian: apt-get install iproute2 iptables)", t)
		}
	}
	ns := fmt.Sprintf("%s%d-probe", Prefix, os.Getpid())
	if err := run("ip", "netns", "add", ns); err != nil {
		return fmt.Errorf("cannot create a network namespace: %w", err)
	}
	defer func() { _ = run("ip", "netns", "del", ns) }()
	if err := run("ip", "netns", "exec", ns, "ip6tables", "-t", "nat", "-A", "POSTROUTING", "-o", "lo", "-j", "MASQUERADE", "--random-fully"); err != nil {
		return fmt.Errorf("no IPv6 NAT in a network namespace: %w", err)
	}
	return nil
}

// Skip skips t, saying why, unless the machine can build a Net.
func Skip(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("needs network namespaces: %v", err)
	}
}

// Net is a network of namespaces. Its methods are for one test goroutine.
type Net struct {
	t      testing.TB
	id     string // Prefix + pid + a sequence number
	inet   string // the Internet's namespace
	hosts  int
	spaces []string

	mu    sync.Mutex
	procs []*Process
}

var seq struct {
	sync.Mutex
	n int
}

// New builds an empty Internet, removed with everything on it at cleanup.
// It skips t when the machine cannot (Skip).
func New(t testing.TB) *Net {
	t.Helper()
	Skip(t)
	RemoveLeftovers(t)
	seq.Lock()
	seq.n++
	id := fmt.Sprintf("%s%d-%d", Prefix, os.Getpid(), seq.n)
	seq.Unlock()
	n := &Net{t: t, id: id}
	t.Cleanup(n.close)
	n.inet = n.namespace("inet")
	n.must("ip", "-n", n.inet, "link", "add", "br0", "type", "bridge")
	n.must("ip", "-n", n.inet, "link", "set", "br0", "up")
	return n
}

// Host is a machine on the Net: public, or behind a home router.
type Host struct {
	net  *Net
	Name string
	// NS is the host's namespace.
	NS string
	// Addr is the host's own address; Public is the one the Internet sees
	// it from (Addr for a public host, its router's for a home).
	Addr, Public netip.Addr
	// router is the home router's namespace ("" for a public host).
	router string
}

// Public adds a host on the Internet.
func (n *Net) Public(name string) *Host {
	n.t.Helper()
	ns := n.namespace(name)
	addr := n.attach(ns, "eth0")
	return &Host{net: n, Name: name, NS: ns, Addr: addr, Public: addr}
}

// Home adds a host behind a router of its own, which masquerades it as nat
// says and lets in only what answers its traffic.
func (n *Net) Home(name string, nat NAT) *Host {
	n.t.Helper()
	router := n.namespace(name + "-r")
	ns := n.namespace(name)
	wan := n.attach(router, "wan")
	lan := fmt.Sprintf("fd00:%x", n.hosts)
	n.must("ip", "link", "add", "lan", "netns", router, "type", "veth", "peer", "name", "eth0", "netns", ns)
	n.must("ip", "-n", router, "addr", "add", lan+"::1/64", "dev", "lan", "nodad")
	n.must("ip", "-n", router, "link", "set", "lan", "up")
	n.must("ip", "-n", ns, "addr", "add", lan+"::2/64", "dev", "eth0", "nodad")
	n.must("ip", "-n", ns, "link", "set", "eth0", "up")
	n.must("ip", "-n", ns, "-6", "route", "add", "default", "via", lan+"::1")
	n.must("ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
	masq := []string{"-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "MASQUERADE"}
	if nat == NATSymmetric {
		masq = append(masq, "--random-fully")
	}
	for _, rule := range [][]string{
		masq,
		// A home router's firewall: in comes what answers the home's own
		// traffic, and neighbour discovery; the rest is dropped, so a
		// peer's dial or a hole punch that comes too early times out
		// rather than being refused.
		{"-A", "FORWARD", "-i", "wan", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
		{"-A", "FORWARD", "-i", "wan", "-j", "DROP"},
		{"-A", "INPUT", "-i", "wan", "-p", "ipv6-icmp", "-j", "ACCEPT"},
		{"-A", "INPUT", "-i", "wan", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
		{"-A", "INPUT", "-i", "wan", "-j", "DROP"},
	} {
		n.must(append([]string{"ip", "netns", "exec", router, "ip6tables"}, rule...)...)
	}
	addr := netip.MustParseAddr(lan + "::2")
	return &Host{net: n, Name: name, NS: ns, Addr: addr, Public: wan, router: router}
}

// Cut drops, at h's router, everything between h and other directly (what
// goes through a third host, a relay, still passes), until the returned
// function restores the link. h must be a home.
func (h *Host) Cut(other *Host) (restore func()) {
	h.net.t.Helper()
	if h.router == "" {
		h.net.t.Fatalf("netns: Cut: %s is not behind a router", h.Name)
	}
	rules := [][]string{
		{"FORWARD", "-s", other.Public.String(), "-j", "DROP"},
		{"FORWARD", "-d", other.Public.String(), "-j", "DROP"},
	}
	for _, r := range rules {
		h.net.must(append([]string{"ip", "netns", "exec", h.router, "ip6tables", "-I"}, r...)...)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			for _, r := range rules {
				h.net.must(append([]string{"ip", "netns", "exec", h.router, "ip6tables", "-D"}, r...)...)
			}
		})
	}
}

// Command is name with args, to run inside h's namespace (`ip netns exec`
// execs name in its own process, so it dies with the test too).
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return testutil.DieWithTest(exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...))
}

// HTTPClient is an HTTP client whose connections are made inside h's
// namespace: for a server there, on its loopback say.
func (h *Host) HTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: h.DialContext, DisableKeepAlives: true}}
}

// DialContext connects from inside h's namespace to addr, an IP literal
// and port. The socket stays in the namespace it was made in.
func (h *Host) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	// The goroutine's thread enters the namespace for the dial and goes
	// back after; it stays locked until then, so no other goroutine runs
	// in the namespace. One address: the dial runs on this goroutine (no
	// parallel dials on other threads).
	runtime.LockOSThread()
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("netns: %w", err)
	}
	defer home.Close()
	there, err := os.Open(filepath.Join("/var/run/netns", h.NS))
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("netns: %w", err)
	}
	defer there.Close()
	if err := unix.Setns(int(there.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("netns: enter %s: %w", h.NS, err)
	}
	var d net.Dialer
	c, dialErr := d.DialContext(ctx, network, addr)
	if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked: it ends with this goroutine (or, if it
		// is the main thread, is parked for good), never running another.
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("netns: leave %s: %w", h.NS, err)
	}
	runtime.UnlockOSThread()
	return c, dialErr
}

// Process is a long-running command in a namespace, killed at cleanup.
type Process struct {
	Cmd    *exec.Cmd
	Stdout *testutil.Buffer
	Stderr *testutil.Buffer
	done   chan struct{}
	err    error
}

// Start runs name with args in h's namespace until the test ends (or Stop).
func (h *Host) Start(name string, args ...string) *Process {
	h.net.t.Helper()
	p := &Process{Cmd: h.Command(context.Background(), name, args...), Stdout: &testutil.Buffer{}, Stderr: &testutil.Buffer{}, done: make(chan struct{})}
	p.Cmd.Stdout, p.Cmd.Stderr = p.Stdout, p.Stderr
	// Its own process group, so that Stop reaches the command, not only
	// the ip(8) that runs it.
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.Cmd.Start(); err != nil {
		h.net.t.Fatalf("netns: start %s in %s: %v", name, h.Name, err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	h.net.mu.Lock()
	h.net.procs = append(h.net.procs, p)
	h.net.mu.Unlock()
	return p
}

// Done is closed when the process has exited; Err is then its exit error.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the process ended, once Done is closed.
func (p *Process) Err() error { return p.err }

// Stop sends sig to the process's group and waits up to timeout for it to
// exit, then kills it.
func (p *Process) Stop(sig syscall.Signal, timeout time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.Cmd.Process.Pid, sig)
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// namespace creates a namespace for role.
func (n *Net) namespace(role string) string {
	n.t.Helper()
	ns := n.id + "-" + role
	n.must("ip", "netns", "add", ns)
	n.spaces = append(n.spaces, ns)
	n.must("ip", "-n", ns, "link", "set", "lo", "up")
	return ns
}

// attach links ns to the Internet's bridge by a veth named dev in ns, with
// the next public address, and returns that address.
func (n *Net) attach(ns, dev string) netip.Addr {
	n.t.Helper()
	n.hosts++
	// Each in a /56 of its own: 3fff:0:<n>::1 within 3fff::/20.
	addr := netip.MustParseAddr(fmt.Sprintf("3fff:0:%x::1", n.hosts))
	port := fmt.Sprintf("p%d", n.hosts)
	n.must("ip", "link", "add", dev, "netns", ns, "type", "veth", "peer", "name", port, "netns", n.inet)
	n.must("ip", "-n", n.inet, "link", "set", port, "master", "br0", "up")
	n.must("ip", "-n", ns, "addr", "add", addr.String()+"/20", "dev", dev, "nodad")
	n.must("ip", "-n", ns, "link", "set", dev, "up")
	return addr
}

func (n *Net) must(args ...string) {
	n.t.Helper()
	if err := run(args[0], args[1:]...); err != nil {
		n.t.Fatalf("netns: %v", err)
	}
}

// close stops the processes, then removes the namespaces.
func (n *Net) close() {
	n.mu.Lock()
	procs := n.procs
	n.mu.Unlock()
	for _, p := range procs {
		p.Stop(syscall.SIGKILL, 10*time.Second)
	}
	for i := len(n.spaces) - 1; i >= 0; i-- {
		if err := removeNamespace(n.spaces[i]); err != nil {
			n.t.Errorf("netns: %v", err)
		}
	}
}

// RemoveLeftovers removes the namespaces of test processes that are gone
// (a run that crashed or was killed), and kills what still runs in them.
func RemoveLeftovers(t testing.TB) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("netns: ip netns list: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, _, _ := strings.Cut(sc.Text(), " ")
		pid, ok := ownerPID(name)
		if !ok || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		if err := removeNamespace(name); err != nil {
			t.Logf("netns: leftover: %v", err)
		}
	}
}

// ownerPID reads the test process ID in a namespace name of this package.
func ownerPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(digits)
	return pid, err == nil && pid > 0
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// removeNamespace kills what runs in ns, then deletes it.
func removeNamespace(ns string) error {
	if out, err := exec.Command("ip", "netns", "pids", ns).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			// Never the test itself (a thread of it that entered the
			// namespace and could not leave).
			if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	return run("ip", "netns", "del", ns)
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
