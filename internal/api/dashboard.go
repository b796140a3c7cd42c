package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multibase"

	"github.com/islandsite/island/internal/core"
)

// The dashboard shows the person running the node their site, its
// versions, the sites they follow and the node itself, all read through
// core.API. It lives on the API's origin, never on the gateway's: any page
// the gateway serves, a followed friend's site included, could read a page
// on its own origin, and the dashboard names the node's peer ID, addresses
// and follows, and can roll back the site. The API's guard keeps other
// origins out, and it sends no CORS headers, so no site can read it.
//
// It is plain HTML first: every value is in the page as served, charts are
// SVG drawn here, and it reads fine without JavaScript. Its one small
// script (embedded, allowed by its hash alone) refreshes the page in place
// and sends the actions (rollback, follow, unfollow) as the JSON POSTs the
// command line sends, to the same routes behind the same guard; without it
// the page names the commands instead.

// pageTimeout bounds how long the page waits for the node's reports.
const pageTimeout = 5 * time.Second

var (
	//go:embed assets/dashboard.html
	dashboardHTML string
	//go:embed assets/default.css
	defaultCSS []byte
	//go:embed assets/dashboard.css
	dashboardCSS []byte
	//go:embed assets/dashboard.js
	dashboardJS string

	// dashboardTemplate is parsed on the page's first request: parsing it
	// at init cost every command ~1 ms and 120 kB, daemons that are never
	// asked for the page included.
	dashboardTemplate = sync.OnceValue(func() *template.Template {
		return template.Must(template.New("dashboard").Funcs(template.FuncMap{
			"bytes": humanBytes,
			"rate":  func(f float64) string { return humanBytes(uint64(f)) + "/s" },
			"when":  when,
			"since": since,
			"pct":   func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
			"bar": func(used, limit uint64) template.HTML {
				if limit == 0 {
					return ""
				}
				return progressBar(float64(used) / float64(limit))
			},
			"short": shortID,
		}).Parse(dashboardHTML))
	})

	// scriptCSP allows the embedded script and nothing else.
	scriptCSP = func() string {
		sum := sha256.Sum256([]byte(dashboardJS))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}()
)

type link struct {
	Value     string // the CID or name as given
	Path      string // GATEWAY/ipfs/CID/ or GATEWAY/ipns/NAME/
	Subdomain string // http://CID.ipfs.localhost:PORT/, when one can be made
}

// Best is the URL to open: the subdomain one, where the site is its own
// origin, else the path one.
func (l link) Best() string {
	if l.Subdomain != "" {
		return l.Subdomain
	}
	return l.Path
}

type pageData struct {
	StyleSheet template.CSS
	Script     template.JS
	Now        time.Time
	// Problems are the reports that could not be read, in words.
	Problems []string
	Status   *core.Status
	Gateway  string
	Site     *siteView
	Versions []versionView
	Friends  []friendView
	Node     nodeView
}

type siteView struct {
	Version int
	CID     *link
	Name    *link
	URLs    []string
	Size    uint64
	Check   *checkView
}

// checkView is the last retrievability check, and which version it was of.
type checkView struct {
	core.Retrievability
	Version int // 0: not a version of this site
	Current bool
}

type versionView struct {
	core.Version
	Browse string
}

type friendView struct {
	core.Follow
	Name    link
	Version *link
	// Behind is how many of the author's records the kept version is
	// behind (-1: unknown, no record held).
	Behind int64
}

type nodeView struct {
	Running      bool
	Peers        int
	PeersChart   template.HTML
	TrafficChart template.HTML
	RateIn       float64 // bytes per second over the last interval
	RateOut      float64
	TotalIn      uint64
	TotalOut     uint64
	Span         time.Duration // what the charts cover
	Samples      int
	Sweeps       []sweepView
	Interval     time.Duration // reprovide interval
	Keys         int
	BrowserAddrs []string
	Addrs        []string
	Held         heldView
}

type sweepView struct {
	DHT string
	core.DHTProvideStat
	Bar template.HTML
}

// heldView is what the repo holds of the newest versions, as the node
// reports it.
type heldView struct {
	Site    uint64
	Friends uint64
}

// servePage renders the dashboard.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), pageTimeout)
	defer cancel()
	data := s.dashboard(ctx)
	var buf bytes.Buffer
	if err := dashboardTemplate().Execute(&buf, data); err != nil {
		s.log.Error("render the dashboard", "err", err)
		writeError(w, core.Errorf(core.CodeInternal, "api: cannot render the dashboard: %w", err))
		return
	}
	privateHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// dashboard reads what the page shows. A report that fails leaves its
// section out and says why; only the status is needed for the page.
func (s *Server) dashboard(ctx context.Context) pageData {
	a := s.cfg.API
	data := pageData{StyleSheet: s.css, Script: template.JS(dashboardJS), Now: time.Now().UTC()}
	problem := func(what string, err error) {
		s.log.Warn("dashboard: "+what, "err", err)
		data.Problems = append(data.Problems, fmt.Sprintf("%s: %v", what, err))
	}
	st, err := a.Status(ctx)
	if err != nil {
		problem("node status", err)
		return data
	}
	data.Status = &st
	gw := newGatewayLinks(st.Gateway)
	data.Gateway = gw.base

	if st.Site != nil {
		data.Site = &siteView{Version: st.Site.Version, URLs: st.Site.URLs, Size: st.Site.Size}
		if st.Site.CID != "" {
			data.Site.CID = gw.cid(st.Site.CID)
		}
		if st.Site.Name != "" {
			l := gw.name(st.Site.Name)
			data.Site.Name = &l
		}
		h, err := a.History(ctx, core.HistoryRequest{Changes: true})
		switch {
		case err == nil:
			for i := len(h.Versions) - 1; i >= 0; i-- {
				v := h.Versions[i]
				data.Versions = append(data.Versions, versionView{Version: v, Browse: gw.cid(v.CID).Best()})
			}
		default:
			problem("site history", err)
		}
		if c := st.Site.Check; c != nil {
			cv := &checkView{Retrievability: *c}
			// The newest version of that CID: a rollback makes a CID
			// current again under a new number.
			for _, v := range data.Versions {
				if v.CID == c.CID {
					cv.Version, cv.Current = v.Version.Version, v.Current
					break
				}
			}
			data.Site.Check = cv
		}
	}

	for _, f := range st.Follows {
		fv := friendView{Follow: f, Name: gw.name(f.Name), Behind: -1}
		if f.LastCID != "" {
			fv.Version = gw.cid(f.LastCID)
		}
		if f.RecordSeq > 0 {
			fv.Behind = int64(f.RecordSeq) - int64(f.LastSeq)
		}
		data.Node.Held.Friends += f.Size
		data.Friends = append(data.Friends, fv)
	}
	if data.Site != nil {
		data.Node.Held.Site = data.Site.Size
	}

	n := &data.Node
	n.Peers, n.Addrs = st.Peers, st.Addrs
	if st.Mode != core.ModeLAN && st.Mode != core.ModeOnline {
		return data
	}
	n.Running = true
	if id, err := a.ID(ctx); err == nil {
		n.BrowserAddrs = id.BrowserAddrs
	} else {
		problem("identity", err)
	}
	if ns, err := a.NodeStats(ctx); err == nil {
		n.charts(ns)
	} else {
		problem("peers and traffic", err)
	}
	if ps, err := a.ProvideStat(ctx); err == nil {
		n.Interval, n.Keys = ps.Interval, ps.Keys
		for _, d := range []struct {
			name string
			st   core.DHTProvideStat
		}{{"Amino (WAN)", ps.WAN}, {"LAN", ps.LAN}} {
			n.Sweeps = append(n.Sweeps, sweepView{DHT: d.name, DHTProvideStat: d.st, Bar: progressBar(d.st.Sweep)})
		}
	} else {
		problem("providing", err)
	}
	return data
}

// charts draws the peers and traffic charts from the samples.
func (n *nodeView) charts(ns core.NodeStats) {
	ss := ns.Samples
	n.Samples = len(ss)
	if len(ss) == 0 {
		return
	}
	last := ss[len(ss)-1]
	n.Peers, n.TotalIn, n.TotalOut = last.Peers, last.BytesIn, last.BytesOut
	n.Span = last.Time.Sub(ss[0].Time)
	peers := make([]point, len(ss))
	for i, s := range ss {
		peers[i] = point{s.Time, float64(s.Peers)}
	}
	n.PeersChart = lineChart("Connected peers", "peers", []series{{"peers", "", peers}}, func(v float64) string { return fmt.Sprintf("%.0f", v) })
	var in, out []point
	for i := 1; i < len(ss); i++ {
		dt := ss[i].Time.Sub(ss[i-1].Time).Seconds()
		if dt <= 0 {
			continue
		}
		in = append(in, point{ss[i].Time, rate(ss[i-1].BytesIn, ss[i].BytesIn, dt)})
		out = append(out, point{ss[i].Time, rate(ss[i-1].BytesOut, ss[i].BytesOut, dt)})
	}
	if len(in) > 0 {
		n.RateIn, n.RateOut = in[len(in)-1].v, out[len(out)-1].v
	}
	n.TrafficChart = lineChart("Bandwidth in and out", "traffic", []series{{"in", "in", in}, {"out", "out", out}},
		func(v float64) string { return humanBytes(uint64(v)) + "/s" })
}

// rate is the bytes per second between two totals (a counter that went
// back, as after a restart, counts from zero).
func rate(a, b uint64, seconds float64) float64 {
	if b < a {
		return float64(b) / seconds
	}
	return float64(b-a) / seconds
}

// privateHeaders keep the dashboard out of caches, frames and other
// origins' reach; its script runs by its hash alone and may only talk to
// this origin.
func privateHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src "+scriptCSP+
		"; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
}

// gatewayLinks makes links to content on the gateway at base ("" when no
// gateway serves: then the page shows paths only).
type gatewayLinks struct {
	base string // http://127.0.0.1:8080
	port string // :8080
}

func newGatewayLinks(base string) gatewayLinks {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return gatewayLinks{}
	}
	g := gatewayLinks{base: strings.TrimSuffix(base, "/")}
	if p := u.Port(); p != "" {
		g.port = ":" + p
	}
	return g
}

func (g gatewayLinks) cid(s string) *link {
	l := &link{Value: s, Path: g.base + "/ipfs/" + s + "/"}
	if c, err := cid.Decode(s); err == nil && g.base != "" {
		if label, err := dnsLabel(cid.NewCidV1(c.Type(), c.Hash())); err == nil {
			l.Subdomain = "http://" + label + ".ipfs.localhost" + g.port + "/"
		}
	}
	return l
}

func (g gatewayLinks) name(s string) link {
	l := link{Value: s, Path: g.base + "/ipns/" + s + "/"}
	if g.base == "" {
		return l
	}
	if n, err := ipns.NameFromString(s); err == nil {
		l.Subdomain = "http://" + n.String() + ".ipns.localhost" + g.port + "/"
	} else if label, err := gateway.InlineDNSLink(s); err == nil && strings.Contains(s, ".") {
		l.Subdomain = "http://" + label + ".ipns.localhost" + g.port + "/"
	}
	return l
}

// dnsLabel writes a CIDv1 as one DNS label: base32, or base36 when base32
// is longer than the 63 characters a label may have (as boxo redirects).
func dnsLabel(c cid.Cid) (string, error) {
	if s := c.String(); len(s) <= 63 {
		return s, nil
	}
	s, err := c.StringOfBase(multibase.Base36)
	if err != nil {
		return "", err
	}
	if len(s) > 63 {
		return "", errors.New("CID too long for a DNS label")
	}
	return s, nil
}

// humanBytes writes n in binary units, as `island repo stat` does.
func humanBytes(n uint64) string { return humanize.IBytes(n) }

// when writes a moment as the page shows it everywhere.
func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// since says how long before now t was (or, for a future t, how soon).
func since(now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		return "in " + roundDuration(-d)
	}
	return roundDuration(d) + " ago"
}

func roundDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return d.Round(time.Minute).String()
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

// shortID shortens a peer ID or CID for a narrow screen; the whole value
// stays in the element's title.
func shortID(s string) string {
	if len(s) <= 20 {
		return s
	}
	return s[:10] + "…" + s[len(s)-6:]
}
