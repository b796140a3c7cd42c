package api

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multibase"

	"github.com/islandsite/island/internal/core"
)

// The status page shows the node at a glance (core.Status) to the person
// running it. It lives on the API's origin, never on the gateway's: any
// page the gateway serves, a followed friend's site included, could read a
// page on its own origin, and the status names the node's peer ID,
// addresses and follows. The API's guard keeps other origins out, and it
// sends no CORS headers, so no site can read it.

// statusTimeout bounds how long the page waits for the node's report.
const statusTimeout = 5 * time.Second

var (
	//go:embed assets/status.html
	statusHTML string
	//go:embed assets/default.css
	defaultCSS []byte

	statusTemplate = template.Must(template.New("status").Parse(statusHTML))
)

type link struct {
	Value     string // the CID or name as given
	Path      string // GATEWAY/ipfs/CID/ or GATEWAY/ipns/NAME/
	Subdomain string // http://CID.ipfs.localhost:PORT/, when one can be made
}

type pageData struct {
	StyleSheet template.CSS
	Error      string
	Status     *core.Status
	Gateway    string
	Site       *struct{ CID, Name *link }
	Follows    []struct {
		Name link
		CID  *link
	}
}

// servePage renders the status page. The links lead to the node's gateway
// (the path form and the subdomain form of each CID and name).
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	data := pageData{StyleSheet: s.css}
	ctx, cancel := context.WithTimeout(r.Context(), statusTimeout)
	st, err := s.cfg.API.Status(ctx)
	cancel()
	if err != nil {
		s.log.Warn("node status", "err", err)
		data.Error = err.Error()
	} else {
		data.Status = &st
	}
	gw := newGatewayLinks(st.Gateway)
	data.Gateway = gw.base
	if data.Status != nil && st.Site != nil && (st.Site.CID != "" || st.Site.Name != "") {
		data.Site = &struct{ CID, Name *link }{}
		if st.Site.CID != "" {
			data.Site.CID = gw.cid(st.Site.CID)
		}
		if st.Site.Name != "" {
			l := gw.name(st.Site.Name)
			data.Site.Name = &l
		}
	}
	if data.Status != nil {
		for _, f := range st.Follows {
			fl := struct {
				Name link
				CID  *link
			}{Name: gw.name(f.Name)}
			if f.LastCID != "" {
				fl.CID = gw.cid(f.LastCID)
			}
			data.Follows = append(data.Follows, fl)
		}
	}
	var buf bytes.Buffer
	if err := statusTemplate.Execute(&buf, data); err != nil {
		s.log.Error("render status page", "err", err)
		writeError(w, core.Errorf(core.CodeInternal, "api: cannot render the status page: %w", err))
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
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
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
