package namestest

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

// DNS is a DNS server on 127.0.0.1 that answers TXT queries for DNSLink
// from a table the test edits, over UDP, TCP and DNS over HTTPS, and
// counts the questions it is asked.
type DNS struct {
	// Addr is the UDP and TCP address (127.0.0.1:PORT).
	Addr string
	// DoH is the DNS-over-HTTPS endpoint (http://127.0.0.1:PORT/dns-query).
	DoH string

	mu      sync.Mutex
	links   map[string]dnsLink
	queries map[string]int
}

type dnsLink struct {
	value string
	ttl   uint32
}

// DNSServer starts a DNS server for the test; it stops with the test.
func DNSServer(t testing.TB) *DNS {
	t.Helper()
	d := &DNS{links: map[string]dnsLink{}, queries: map[string]int{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	require.NoError(t, err)
	d.Addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: d}
	tcp := &dns.Server{Listener: ln, Handler: d}
	for _, s := range []*dns.Server{udp, tcp} {
		go func() { _ = s.ActivateAndServe() }()
	}
	doh := httptest.NewServer(http.HandlerFunc(d.serveDoH))
	d.DoH = doh.URL + "/dns-query"
	t.Cleanup(func() {
		doh.Close()
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
	})
	return d
}

// Set makes domain's DNSLink point at value (a content path), with ttl
// seconds as the answer's TTL.
func (d *DNS) Set(domain, value string, ttl uint32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.links[dns.Fqdn("_dnslink."+strings.ToLower(domain))] = dnsLink{value: value, ttl: ttl}
}

// Queries is how often domain's DNSLink was asked for.
func (d *DNS) Queries(domain string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queries[dns.Fqdn("_dnslink."+strings.ToLower(domain))]
}

// ServeDNS answers TXT questions from the table; any other name is NXDOMAIN.
func (d *DNS) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	_ = w.WriteMsg(d.answer(q))
}

func (d *DNS) answer(q *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, qq := range q.Question {
		name := strings.ToLower(qq.Name)
		d.queries[name]++
		l, ok := d.links[name]
		if !ok {
			m.Rcode = dns.RcodeNameError
			continue
		}
		if qq.Qtype == dns.TypeTXT {
			m.Answer = append(m.Answer, &dns.TXT{
				Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: l.ttl},
				Txt: []string{"dnslink=" + l.value},
			})
		}
	}
	return m
}

// serveDoH is RFC 8484's POST form.
func (d *DNS) serveDoH(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	q := new(dns.Msg)
	if err != nil || r.Method != http.MethodPost || q.Unpack(body) != nil {
		http.Error(w, "want a POSTed DNS message", http.StatusBadRequest)
		return
	}
	out, err := d.answer(q).Pack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/dns-message")
	_, _ = w.Write(out)
}
