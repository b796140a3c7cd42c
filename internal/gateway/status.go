package gateway

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multibase"
)

// Status is what the node reports about itself on the status page and at
// /api/status. The node fills it; the gateway adds Gateway.
type Status struct {
	PeerID  string        `json:"peer_id"`
	Addrs   []string      `json:"addrs"`
	Site    *Site         `json:"site,omitempty"`
	Peers   int           `json:"peers"`
	Provide *ProvideState `json:"provide,omitempty"`
	Follows []Follow      `json:"follows"`
	// Gateway is the base URL the request reached, set by the gateway.
	Gateway string `json:"gateway"`
}

// Site is the node's own published site.
type Site struct {
	CID  string `json:"cid,omitempty"`
	Name string `json:"name,omitempty"` // IPNS name (k51…) or DNSLink domain
}

// ProvideState is how far the node is in announcing its blocks.
type ProvideState struct {
	Provided      int       `json:"provided"`
	Queued        int       `json:"queued"`
	LastReprovide time.Time `json:"last_reprovide"`
	NextReprovide time.Time `json:"next_reprovide"`
}

// Follow is a followed site and the newest version of it the node holds.
type Follow struct {
	Name string `json:"name"`
	CID  string `json:"cid,omitempty"`
}

// statusTimeout bounds how long the page waits for the node's report.
const statusTimeout = 5 * time.Second

var (
	//go:embed assets/status.html
	statusHTML string
	//go:embed assets/default.css
	defaultCSS []byte

	statusTemplate = template.Must(template.New("status").Parse(statusHTML))
)

type statusPages struct {
	status func(context.Context) (Status, error)
	css    template.CSS
	log    *slog.Logger
}

func newStatusPages(cfg Config, logger *slog.Logger) *statusPages {
	css := cfg.StyleSheet
	if css == nil {
		css = defaultCSS
	}
	// The sheet is ours, but it is still kept from closing the <style>.
	css = bytes.ReplaceAll(css, []byte("</"), []byte(`<\/`))
	return &statusPages{status: cfg.Status, css: template.CSS(css), log: logger}
}

// read asks the node for its status, with the request's host as gateway URL.
func (s *statusPages) read(r *http.Request) (Status, error) {
	var st Status
	if s.status != nil {
		ctx, cancel := context.WithTimeout(r.Context(), statusTimeout)
		defer cancel()
		var err error
		if st, err = s.status(ctx); err != nil {
			return Status{}, err
		}
	}
	st.Gateway = "http://" + r.Host
	return st, nil
}

func (s *statusPages) serveJSON(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	privateHeaders(w)
	w.Header().Set("Content-Type", "application/json")
	st, err := s.read(r)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err != nil {
		s.log.Warn("gateway: node status", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = enc.Encode(map[string]string{"error": "node status: " + err.Error()})
		return
	}
	_ = enc.Encode(st)
}

type link struct {
	Value     string // the CID or name as given
	Path      string // /ipfs/CID/ or /ipns/NAME/ on this gateway
	Subdomain string // http://CID.ipfs.localhost:PORT/, when one can be made
}

type pageData struct {
	StyleSheet template.CSS
	Error      string
	Status     *Status
	Site       *struct{ CID, Name *link }
	Follows    []struct {
		Name link
		CID  *link
	}
}

func (s *statusPages) servePage(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	data := pageData{StyleSheet: s.css}
	st, err := s.read(r)
	switch {
	case err != nil:
		s.log.Warn("gateway: node status", "err", err)
		data.Error = err.Error()
	case s.status == nil:
		data.Error = "this gateway runs without a node"
	default:
		data.Status = &st
	}
	port := requestPort(r)
	if data.Status != nil && st.Site != nil && (st.Site.CID != "" || st.Site.Name != "") {
		data.Site = &struct{ CID, Name *link }{}
		if st.Site.CID != "" {
			data.Site.CID = cidLink(st.Site.CID, port)
		}
		if st.Site.Name != "" {
			l := nameLink(st.Site.Name, port)
			data.Site.Name = &l
		}
	}
	if data.Status != nil {
		for _, f := range st.Follows {
			fl := struct {
				Name link
				CID  *link
			}{Name: nameLink(f.Name, port)}
			if f.CID != "" {
				fl.CID = cidLink(f.CID, port)
			}
			data.Follows = append(data.Follows, fl)
		}
	}
	var buf bytes.Buffer
	if err := statusTemplate.Execute(&buf, data); err != nil {
		s.log.Error("gateway: render status page", "err", err)
		writeError(w, r, http.StatusInternalServerError, "cannot render the status page")
		return
	}
	privateHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// privateHeaders keep the node's status out of caches, frames and other
// origins' reach.
func privateHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
}

// readOnly answers anything but GET and HEAD with 405.
func readOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeError(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: the gateway is read-only")
	return false
}

// requestPort is ":PORT" of the request's host, or "" without one.
func requestPort(r *http.Request) string {
	if _, port, err := net.SplitHostPort(r.Host); err == nil && port != "" {
		return ":" + port
	}
	return ""
}

func cidLink(s, port string) *link {
	l := &link{Value: s, Path: "/ipfs/" + s + "/"}
	if c, err := cid.Decode(s); err == nil {
		if label, err := dnsLabel(cid.NewCidV1(c.Type(), c.Hash())); err == nil {
			l.Subdomain = "http://" + label + ".ipfs." + subdomainHost + port + "/"
		}
	}
	return l
}

func nameLink(s, port string) link {
	l := link{Value: s, Path: "/ipns/" + s + "/"}
	if n, err := ipns.NameFromString(s); err == nil {
		l.Subdomain = "http://" + n.String() + ".ipns." + subdomainHost + port + "/"
	} else if label, err := gateway.InlineDNSLink(s); err == nil && strings.Contains(s, ".") {
		l.Subdomain = "http://" + label + ".ipns." + subdomainHost + port + "/"
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
