package gateway

import (
	"container/list"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// responseCache keeps whole responses to plain GETs of small /ipfs/
// content and of IPNS names. boxo resolves the path and reads every block
// again on each request; a page, stylesheet or image that a browser asks
// for again is the same bytes forever, so the second answer is a map
// lookup.
//
// Only what cannot change is kept: for /ipfs/, status 200 with
// Cache-Control immutable. An /ipns/NAME response (path or subdomain
// gateway, IPNS keys only, not DNSLink) is the /ipfs/ content its name
// resolves to, so its name is resolved on every request (the name system
// answers from memory, and a publish updates it at once) and the root CID
// becomes part of the key: a new version misses the cache the moment the
// name points at it. Such a response is kept only when boxo's X-Ipfs-Roots
// says it served that same root, so a publish racing the request cannot
// store the old version under the new root. The key is everything boxo
// reads from such a request (host, URI, Accept and the proxy headers).
// Requests that boxo answers differently per request, such as Range,
// conditional (If-*) and Cache-Control ones, bypass the cache in both
// directions, so 206, 304 and 412 stay boxo's.
type responseCache struct {
	maxBytes int64
	maxEntry int64
	// resolve gives the CID an IPNS name (as the request spells it) points
	// at now, and the context to serve the request with (it carries the
	// resolution to boxo); false when it cannot say (the request then goes
	// to boxo uncached).
	resolve func(ctx context.Context, name string) (context.Context, string, bool)

	mu    sync.Mutex
	bytes int64
	order *list.List // of *cachedResponse, most recently used first
	items map[string]*list.Element

	lookups *prometheus.CounterVec
}

type cachedResponse struct {
	key    string
	header http.Header
	body   []byte
	length string // body length, preformatted for Content-Length
}

func (e *cachedResponse) cost() int64 {
	n := int64(len(e.key) + len(e.body) + 64)
	for k, vs := range e.header {
		n += int64(len(k))
		for _, v := range vs {
			n += int64(len(v))
		}
	}
	return n
}

// bypassHeaders make boxo's answer depend on more than the cache key.
var bypassHeaders = []string{
	"Range", "If-Range", "If-None-Match", "If-Match", "If-Modified-Since",
	"If-Unmodified-Since", "Cache-Control", "Service-Worker",
}

func newResponseCache(maxBytes int64, reg prometheus.Registerer, resolve func(context.Context, string) (context.Context, string, bool)) *responseCache {
	c := &responseCache{
		maxBytes: maxBytes,
		resolve:  resolve,
		// Large files are better streamed than pinned in memory, and one
		// entry must not evict a whole site's pages.
		maxEntry: min(maxBytes/16, 1<<20),
		order:    list.New(),
		items:    make(map[string]*list.Element),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "island",
			Subsystem: "gateway",
			Name:      "response_cache_lookups_total",
			Help:      "Cacheable gateway requests by result: hit (served from memory) or miss.",
		}, []string{"result"}),
	}
	if err := reg.Register(c.lookups); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				c.lookups = existing
			}
		}
	}
	return c
}

func (c *responseCache) wrap(next http.Handler) http.Handler {
	hits, misses := c.lookups.WithLabelValues("hit"), c.lookups.WithLabelValues("miss")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, name, ok := cacheKey(r)
		var root string
		var resolved context.Context
		if ok && name != "" {
			resolved, root, ok = c.resolve(r.Context(), name)
			key += "\x00" + root
		}
		serve := next.ServeHTTP
		if resolved != nil {
			// Boxo, when the request goes on to it, resolves no more; a
			// hit needs no copy of the request.
			serve = func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(w, r.WithContext(resolved)) }
		}
		if !ok {
			serve(w, r)
			return
		}
		if e := c.get(key); e != nil {
			hits.Inc()
			h := w.Header()
			for k, vs := range e.header {
				h[k] = vs
			}
			h["Content-Length"] = []string{e.length}
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(e.body)
			return
		}
		misses.Inc()
		rec := &recorder{statusWriter: statusWriter{ResponseWriter: w}, limit: c.maxEntry}
		serve(rec, r)
		if e := rec.entry(key, root); e != nil {
			c.add(e)
		}
	})
}

// cacheKey returns the key of a request the cache may answer and, for an
// /ipns/ request, the name whose current root completes the key. Only IPNS
// keys qualify: a DNSLink name has a dot, a key never does, and what is
// not a key fails to resolve.
func cacheKey(r *http.Request) (key, name string, ok bool) {
	if r.Method != http.MethodGet {
		return "", "", false
	}
	host := r.Host
	switch {
	case strings.HasPrefix(r.URL.Path, "/ipfs/") || strings.Contains(host, ".ipfs."):
	case strings.HasPrefix(r.URL.Path, "/ipns/"):
		name, _, _ = strings.Cut(r.URL.Path[len("/ipns/"):], "/")
	default:
		name, _, _ = strings.Cut(host, ".ipns.")
		if len(name) == len(host) {
			return "", "", false
		}
	}
	if name != "" && strings.Contains(name, ".") || name == "" && strings.HasPrefix(r.URL.Path, "/ipns/") {
		return "", "", false
	}
	for _, h := range bypassHeaders {
		if _, ok := r.Header[h]; ok {
			return "", "", false
		}
	}
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	var b strings.Builder
	accept := r.Header["Accept"]
	b.Grow(len(host) + len(uri) + 64)
	b.WriteString(host)
	b.WriteByte(0)
	b.WriteString(uri)
	for _, a := range accept {
		b.WriteByte(0)
		b.WriteString(a)
	}
	for _, h := range []string{"X-Forwarded-Host", "X-Forwarded-Proto"} {
		if vs, ok := r.Header[h]; ok {
			b.WriteByte(1)
			b.WriteString(h)
			b.WriteString(strings.Join(vs, ","))
		}
	}
	return b.String(), name, true
}

func (c *responseCache) get(key string) *cachedResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*cachedResponse)
}

func (c *responseCache) add(e *cachedResponse) {
	cost := e.cost()
	if cost > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[e.key]; ok {
		return
	}
	c.items[e.key] = c.order.PushFront(e)
	c.bytes += cost
	for c.bytes > c.maxBytes {
		last := c.order.Back()
		old := c.order.Remove(last).(*cachedResponse)
		delete(c.items, old.key)
		c.bytes -= old.cost()
	}
}

// recorder passes a response through while keeping a copy of it, up to
// limit bytes of body.
type recorder struct {
	statusWriter
	limit    int64
	body     []byte
	tooLarge bool
}

func (r *recorder) Write(p []byte) (int, error) {
	if !r.tooLarge {
		if int64(len(r.body)+len(p)) > r.limit {
			r.tooLarge, r.body = true, nil
		} else {
			r.body = append(r.body, p...)
		}
	}
	return r.statusWriter.Write(p)
}

// entry returns the recorded response if it may be served again: an
// immutable /ipfs/ one (root ""), or for a name one whose first root is
// root, the CID the name resolved to before boxo ran.
func (r *recorder) entry(key, root string) *cachedResponse {
	if r.code != http.StatusOK || r.tooLarge || r.failed || r.hijacked {
		return nil
	}
	h := r.Header()
	if root != "" {
		if served, _, _ := strings.Cut(h.Get("X-Ipfs-Roots"), ","); served != root {
			return nil
		}
	} else if !strings.Contains(h.Get("Cache-Control"), "immutable") {
		return nil
	}
	length := strconv.Itoa(len(r.body))
	if cl := h.Get("Content-Length"); cl != "" && cl != length {
		return nil // cut short
	}
	header := h.Clone()
	delete(header, "Content-Length")
	delete(header, "Date")
	return &cachedResponse{key: key, header: header, body: r.body, length: length}
}
