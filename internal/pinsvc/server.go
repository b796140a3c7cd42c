package pinsvc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	"github.com/multiformats/go-multiaddr"
	"golang.org/x/sync/errgroup"
)

const requestsRoot = "/island/pinsvc/requests"

// Config configures a Server.
type Config struct {
	// Token is the bearer token every request must carry. Required.
	Token string
	// Datastore keeps pin requests (under /island/pinsvc/). Required.
	Datastore datastore.Batching
	// Pin fetches the DAG under c (trying origins first) and pins it
	// recursively for the request requestID, and returns its size in
	// bytes. A DAG larger than maxBytes (the room left under MaxBytes) is
	// not pinned: Pin stops fetching it and fails with an error wrapping
	// ErrOverQuota. Required.
	Pin func(ctx context.Context, requestID string, c cid.Cid, origins []multiaddr.Multiaddr, maxBytes uint64) (uint64, error)
	// Unpin drops request requestID's pin of c, and only that: each
	// request holds its own pin, so another request's (or anyone else's) on
	// the same CID stays. A pin that is gone already is not an error. requestID is "" for the replaced request of a
	// replacement stored before replaced requests' IDs were kept. Required.
	Unpin func(ctx context.Context, requestID string, c cid.Cid) error
	// Delegates are this node's multiaddrs for clients to connect to.
	Delegates func() []string
	// Workers bounds pins running at once.
	Workers int
	// MaxPending bounds queued and pinning requests; more get 429.
	MaxPending int
	// MaxRequests bounds stored requests of any status; more get 403.
	MaxRequests int
	// MaxBytes bounds the bytes the token's pinned requests hold on this
	// node: a pin past it fails, saying so.
	MaxBytes uint64
	// PinTimeout bounds one try at a pin.
	PinTimeout time.Duration
	// RetryFor is how long after it was made a request whose content has
	// no provider now (Pin returned a *PinError with Retry) is tried again:
	// first after RetryFirst, then every RetryEvery, as ipfs-cluster does.
	// A friend's laptop that wakes up hours later still gets pinned.
	RetryFor, RetryFirst, RetryEvery time.Duration
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64
	Logger       *slog.Logger
}

// DefaultMaxBytes is the room a token's pins get unless the owner says
// otherwise (daemon --pinning-quota): a few friends' sites with their
// pictures, not a backup of their disks.
const DefaultMaxBytes = 4 << 30

// DefaultConfig returns bounds fit for a personal node.
func DefaultConfig() Config {
	return Config{
		Workers:      2,
		MaxPending:   64,
		MaxRequests:  10000,
		MaxBytes:     DefaultMaxBytes,
		PinTimeout:   30 * time.Minute,
		RetryFor:     7 * 24 * time.Hour,
		RetryFirst:   2 * time.Minute,
		RetryEvery:   12 * time.Minute,
		MaxBodyBytes: 256 << 10,
	}
}

// Server is the Pinning Service API as an http.Handler serving /pins and
// /pins/{requestid}; mount it with http.StripPrefix under any prefix.
type Server struct {
	cfg      Config
	log      *slog.Logger
	mux      *http.ServeMux
	tokenSum [sha256.Size]byte

	mu          sync.Mutex
	reqs        map[string]*request
	queue       []string
	lastCreated time.Time

	// retries are the timers that queue waiting requests again.
	retries map[string]*time.Timer

	wake      chan struct{}
	ctx       context.Context
	cancel    context.CancelFunc
	g         *errgroup.Group
	closeOnce sync.Once
}

// request is a pin request as the server keeps it.
type request struct {
	ID      string
	Status  Status
	Created time.Time
	Pin     Pin
	Info    map[string]string
	// UnpinAfter is the pin this request replaced: released once this one
	// settles, so blocks both share are never unpinned.
	UnpinAfter release
	// Tries counts the tries that found no provider.
	Tries int
	// Bytes is the size of the pinned DAG, counted against MaxBytes.
	Bytes uint64
}

// release is a pin to let go of: the request that holds it and its CID.
type release struct {
	RequestID string // "" when stored by a version that did not keep it
	CID       cid.Cid
}

type requestWire struct {
	statusWire
	UnpinAfter   string `json:"unpinAfter,omitempty"`
	UnpinAfterID string `json:"unpinAfterId,omitempty"`
	Tries        int    `json:"tries,omitempty"`
	Bytes        uint64 `json:"bytes,omitempty"`
}

// ErrOverQuota is what Config.Pin's error wraps when the DAG is larger
// than the room it was given.
var ErrOverQuota = errors.New("pinsvc: over the token's quota")

// PinError is an error of Config.Pin meant for the friend who asked:
// Details go into the request's status_details, and nothing else of an
// error does, since errors may name the node's files. Retry says the
// content may still come (no provider answered now): the request stays
// queued and is tried again until Config.RetryFor has passed.
type PinError struct {
	Details string
	Retry   bool
	Err     error
}

func (e *PinError) Error() string { return e.Err.Error() }
func (e *PinError) Unwrap() error { return e.Err }

// privateFailure is what a friend reads of a failure the node does not
// describe to others.
const privateFailure = "the pinning node could not pin this CID (its owner can see why in the node's log)"

func requestKey(id string) datastore.Key { return datastore.NewKey(requestsRoot + "/" + id) }

// New checks cfg, loads stored requests, re-queues those that were queued
// or pinning when the node stopped, and starts the workers.
func New(ctx context.Context, cfg Config) (*Server, error) {
	switch {
	case cfg.Token == "":
		return nil, errors.New("pinsvc: no token configured")
	case cfg.Datastore == nil:
		return nil, errors.New("pinsvc: no datastore configured")
	case cfg.Pin == nil || cfg.Unpin == nil:
		return nil, errors.New("pinsvc: Pin and Unpin are required")
	}
	def := DefaultConfig()
	if cfg.Workers <= 0 {
		cfg.Workers = def.Workers
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = def.MaxPending
	}
	if cfg.MaxRequests <= 0 {
		cfg.MaxRequests = def.MaxRequests
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = def.MaxBytes
	}
	if cfg.PinTimeout <= 0 {
		cfg.PinTimeout = def.PinTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = def.MaxBodyBytes
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = def.RetryFor
	}
	if cfg.RetryFirst <= 0 {
		cfg.RetryFirst = def.RetryFirst
	}
	if cfg.RetryEvery <= 0 {
		cfg.RetryEvery = def.RetryEvery
	}
	if cfg.Delegates == nil {
		cfg.Delegates = func() []string { return nil }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger.With("system", "pinsvc"),
		tokenSum: sha256.Sum256([]byte(cfg.Token)),
		reqs:     make(map[string]*request),
		retries:  make(map[string]*time.Timer),
		wake:     make(chan struct{}, 1),
	}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /pins", s.handleList)
	s.mux.HandleFunc("POST /pins", s.handleAdd)
	s.mux.HandleFunc("GET /pins/{requestid}", s.handleGet)
	s.mux.HandleFunc("POST /pins/{requestid}", s.handleReplace)
	s.mux.HandleFunc("DELETE /pins/{requestid}", s.handleRemove)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path))
	})

	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.g = new(errgroup.Group)
	for range cfg.Workers {
		s.g.Go(s.work)
	}
	s.signal()
	return s, nil
}

// Close stops the workers and waits for them. A pin cut short stays
// "pinning" on disk and is queued again by the next New. Idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.mu.Lock()
		for id, t := range s.retries {
			t.Stop()
			delete(s.retries, id)
		}
		s.mu.Unlock()
		_ = s.g.Wait()
	})
	return nil
}

func (s *Server) load(ctx context.Context) error {
	res, err := s.cfg.Datastore.Query(ctx, query.Query{Prefix: requestsRoot})
	if err != nil {
		return fmt.Errorf("pinsvc: load requests: %w", err)
	}
	all, err := res.Rest()
	if err != nil {
		return fmt.Errorf("pinsvc: load requests: %w", err)
	}
	var requeue []*request
	for _, kv := range all {
		r, err := decodeRequest(kv.Value)
		if err != nil {
			// Left on disk untouched: nothing stored is thrown away.
			s.log.Warn("unreadable pin request", "key", kv.Key, "err", err)
			continue
		}
		s.reqs[r.ID] = r
		if r.Created.After(s.lastCreated) {
			s.lastCreated = r.Created
		}
		if r.Status == Queued || r.Status == Pinning {
			r.Status = Queued
			requeue = append(requeue, r)
		}
	}
	slices.SortFunc(requeue, func(a, b *request) int { return a.Created.Compare(b.Created) })
	for _, r := range requeue {
		s.queue = append(s.queue, r.ID)
	}
	return nil
}

func decodeRequest(b []byte) (*request, error) {
	var w requestWire
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	p, err := w.Pin.pin()
	if err != nil {
		return nil, err
	}
	if _, err := ParseStatus(string(w.Status)); err != nil || w.RequestID == "" {
		return nil, fmt.Errorf("bad status %q or empty id", w.Status)
	}
	r := &request{ID: w.RequestID, Status: w.Status, Created: w.Created, Pin: p, Info: w.Info, Tries: w.Tries, Bytes: w.Bytes}
	if w.UnpinAfter != "" {
		if r.UnpinAfter.CID, err = cid.Decode(w.UnpinAfter); err != nil {
			return nil, err
		}
		r.UnpinAfter.RequestID = w.UnpinAfterID
	}
	return r, nil
}

// PinnedRequests reads the requests a Server keeps in ds and returns the
// IDs of those that are pinned, per CID, sorted: who holds which pin, for
// recording holders of pins made before pins named them. Unreadable
// requests are skipped, as New skips them. A replaced pin that is kept
// until its replacement settles is not listed: its request is gone.
func PinnedRequests(ctx context.Context, ds datastore.Datastore) (map[cid.Cid][]string, error) {
	res, err := ds.Query(ctx, query.Query{Prefix: requestsRoot})
	if err != nil {
		return nil, fmt.Errorf("pinsvc: read requests: %w", err)
	}
	defer res.Close()
	out := make(map[cid.Cid][]string)
	for e := range res.Next() {
		if e.Error != nil {
			return nil, fmt.Errorf("pinsvc: read requests: %w", e.Error)
		}
		r, err := decodeRequest(e.Value)
		if err != nil || r.Status != Pinned {
			continue
		}
		out[r.Pin.CID] = append(out[r.Pin.CID], r.ID)
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out, nil
}

// persist writes r durably (what the service acknowledges survives a
// crash); the caller holds s.mu so writes of one request stay in order.
// Delegates are the node's addresses of the moment, not the request's: they
// are not kept.
func (s *Server) persist(ctx context.Context, r *request) error {
	w := requestWire{statusWire: r.wire(nil), Tries: r.Tries, Bytes: r.Bytes}
	if r.UnpinAfter.CID.Defined() {
		w.UnpinAfter, w.UnpinAfterID = r.UnpinAfter.CID.String(), r.UnpinAfter.RequestID
	}
	b, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("pinsvc: encode request %s: %w", r.ID, err)
	}
	if err := s.cfg.Datastore.Put(ctx, requestKey(r.ID), b); err != nil {
		return fmt.Errorf("pinsvc: store request %s: %w", r.ID, err)
	}
	if err := s.cfg.Datastore.Sync(ctx, requestKey(r.ID)); err != nil {
		return fmt.Errorf("pinsvc: store request %s: %w", r.ID, err)
	}
	return nil
}

// forget deletes request id from the datastore, durably.
func (s *Server) forget(ctx context.Context, id string) error {
	if err := s.cfg.Datastore.Delete(ctx, requestKey(id)); err != nil {
		return fmt.Errorf("pinsvc: delete request %s: %w", id, err)
	}
	if err := s.cfg.Datastore.Sync(ctx, requestKey(id)); err != nil {
		return fmt.Errorf("pinsvc: delete request %s: %w", id, err)
	}
	return nil
}

// Accounts reports whether a pin held for requestID is still the
// service's: the pin of a stored request, or a replaced one kept until its
// replacement settles. A pin held for anything else was left by a removal
// cut short, and may be released.
func (s *Server) Accounts(requestID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.reqs[requestID]; ok {
		return true
	}
	for _, r := range s.reqs {
		if r.UnpinAfter.CID.Defined() && (r.UnpinAfter.RequestID == requestID || r.UnpinAfter.RequestID == "") {
			return true
		}
	}
	return false
}

// delegates are the node's addresses as the spec's multiaddrs, asked for
// once per response: the node computes them afresh on every call.
func (s *Server) delegates() []string {
	out := []string{}
	for _, d := range s.cfg.Delegates() {
		if ma, err := multiaddr.NewMultiaddr(d); err == nil {
			out = append(out, ma.String())
		}
	}
	return out
}

// wire is r as the API reports it, with delegates (nil for none).
func (r *request) wire(delegates []string) statusWire {
	w := statusWire{RequestID: r.ID, Status: r.Status, Created: r.Created, Pin: r.Pin.wire(),
		Delegates: delegates, Info: r.Info}
	if w.Delegates == nil {
		w.Delegates = []string{}
	}
	if w.Info == nil {
		w.Info = map[string]string{}
	}
	return w
}

// ServeHTTP checks the bearer token, then serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	// Comparing fixed-size digests keeps the time independent of the token.
	if !ok || subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="island pinning service"`)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "access token is missing or invalid")
		return
	}
	s.mux.ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with the spec's Failure object.
func writeError(w http.ResponseWriter, status int, reason, details string) {
	var f failureWire
	f.Error.Reason, f.Error.Details = reason, details
	writeJSON(w, status, f)
}

// readPin reads and checks a Pin body, answering the error itself.
func (s *Server) readPin(w http.ResponseWriter, r *http.Request) (Pin, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			writeError(w, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE",
				fmt.Sprintf("request body is larger than %d bytes", s.cfg.MaxBodyBytes))
		} else {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "cannot read request body: "+err.Error())
		}
		return Pin{}, false
	}
	p, err := ParsePin(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", err.Error())
		return Pin{}, false
	}
	return p, true
}

// admit checks the bounds before a new request; the caller holds s.mu.
// replacing is the request a replace removes (not counted).
func (s *Server) admit(w http.ResponseWriter, replacing *request) bool {
	pending, total := 0, len(s.reqs)
	for _, r := range s.reqs {
		if (r.Status == Queued || r.Status == Pinning) && r != replacing {
			pending++
		}
	}
	if replacing != nil {
		total--
	}
	switch {
	case pending >= s.cfg.MaxPending:
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusTooManyRequests, "TOO_MANY_PENDING",
			fmt.Sprintf("%d pins are already queued or pinning (the limit); try again later", pending))
		return false
	case total >= s.cfg.MaxRequests:
		writeError(w, http.StatusForbidden, "PIN_LIMIT_REACHED",
			fmt.Sprintf("this service keeps at most %d pin requests; remove some first", s.cfg.MaxRequests))
		return false
	}
	return true
}

// newRequest makes a queued request; the caller holds s.mu. Created is
// strictly increasing, because clients page with before=<oldest created>.
func (s *Server) newRequest(p Pin) *request {
	var id [16]byte
	_, _ = rand.Read(id[:])
	now := time.Now().UTC().Round(0)
	if !now.After(s.lastCreated) {
		now = s.lastCreated.Add(time.Nanosecond)
	}
	s.lastCreated = now
	return &request{ID: hex.EncodeToString(id[:]), Status: Queued, Created: now, Pin: p, Info: map[string]string{}}
}

func (s *Server) handleAdd(w http.ResponseWriter, r *http.Request) {
	p, ok := s.readPin(w, r)
	if !ok {
		return
	}
	delegates := s.delegates()
	s.mu.Lock()
	if !s.admit(w, nil) {
		s.mu.Unlock()
		return
	}
	req := s.newRequest(p)
	if err := s.persist(r.Context(), req); err != nil {
		s.mu.Unlock()
		s.internalError(w, err)
		return
	}
	s.reqs[req.ID] = req
	s.queue = append(s.queue, req.ID)
	st := req.wire(delegates)
	s.mu.Unlock()
	s.signal()
	s.log.Info("pin requested", "requestid", req.ID, "cid", p.CID.String(), "name", p.Name)
	writeJSON(w, http.StatusAccepted, st)
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	delegates := s.delegates()
	s.mu.Lock()
	req := s.reqs[r.PathValue("requestid")]
	var st statusWire
	if req != nil {
		st = req.wire(delegates)
	}
	s.mu.Unlock()
	if req == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no pin request "+r.PathValue("requestid"))
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleReplace(w http.ResponseWriter, r *http.Request) {
	p, ok := s.readPin(w, r)
	if !ok {
		return
	}
	id := r.PathValue("requestid")
	delegates := s.delegates()
	s.mu.Lock()
	old := s.reqs[id]
	if old == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no pin request "+id)
		return
	}
	if !s.admit(w, old) {
		s.mu.Unlock()
		return
	}
	req := s.newRequest(p)
	// The old pin stays until the new one settles; an old request that
	// never got pinned passes on what it was to release.
	req.UnpinAfter = old.UnpinAfter
	if old.Status == Pinned {
		req.UnpinAfter = release{RequestID: old.ID, CID: old.Pin.CID}
	}
	if err := s.persist(r.Context(), req); err != nil {
		s.mu.Unlock()
		s.internalError(w, err)
		return
	}
	if err := s.forget(r.Context(), id); err != nil {
		s.log.Error("cannot delete replaced request", "requestid", id, "err", err)
	}
	s.stopRetry(id)
	delete(s.reqs, id)
	s.reqs[req.ID] = req
	s.queue = append(s.queue, req.ID)
	st := req.wire(delegates)
	s.mu.Unlock()
	s.signal()
	s.log.Info("pin replaced", "old", id, "requestid", req.ID, "cid", p.CID.String())
	writeJSON(w, http.StatusAccepted, st)
}

// handleRemove forgets the request first, durably, and only then lets go
// of its pins: a crash in between leaves a pin no request accounts for
// (released at the next start, see Accounts), never a request that says
// "pinned" of a CID that gc has deleted.
func (s *Server) handleRemove(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("requestid")
	s.mu.Lock()
	req := s.reqs[id]
	if req == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no pin request "+id)
		return
	}
	if err := s.forget(ctx, id); err != nil {
		s.mu.Unlock()
		s.internalError(w, err)
		return
	}
	delete(s.reqs, id)
	s.stopRetry(id)
	var drop []release
	if req.Status == Pinned {
		drop = append(drop, release{RequestID: id, CID: req.Pin.CID})
	}
	if req.UnpinAfter.CID.Defined() {
		drop = append(drop, req.UnpinAfter)
	}
	s.mu.Unlock()

	for _, rel := range drop {
		if err := s.cfg.Unpin(ctx, rel.RequestID, rel.CID); err != nil {
			// The request is gone; its pin is let go at the next start.
			s.log.Error("unpin of a removed request failed", "requestid", rel.RequestID, "cid", rel.CID.String(), "err", err)
		}
	}
	s.log.Info("pin removed", "requestid", id, "cid", req.Pin.CID.String())
	w.WriteHeader(http.StatusAccepted)
}

// internalError logs err and tells the client only that it happened: an
// error may name the node's files.
func (s *Server) internalError(w http.ResponseWriter, err error) {
	s.log.Error("pinning service request failed", "err", err)
	writeError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "the pinning node failed to handle the request (its owner can see why in the node's log)")
}

// listFilter is a parsed GET /pins query.
type listFilter struct {
	cids          []cid.Cid
	name, match   string
	statuses      []Status
	before, after time.Time
	limit         int
	meta          map[string]string
}

const (
	defaultLimit = 10
	maxLimit     = 1000
	maxCIDFilter = 10
)

func parseListQuery(q map[string][]string) (listFilter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	f := listFilter{limit: defaultLimit, statuses: []Status{Pinned}, name: get("name"), match: "exact"}
	if v := get("cid"); v != "" {
		parts := strings.Split(v, ",")
		if len(parts) > maxCIDFilter {
			return f, fmt.Errorf("cid filter lists %d CIDs, more than %d", len(parts), maxCIDFilter)
		}
		for _, p := range parts {
			c, err := cid.Decode(strings.TrimSpace(p))
			if err != nil {
				return f, fmt.Errorf("cid filter: %q is not a CID", p)
			}
			f.cids = append(f.cids, c)
		}
	}
	if utf8Len := len([]rune(f.name)); utf8Len > maxNameLen {
		return f, fmt.Errorf("name filter is %d characters, more than %d", utf8Len, maxNameLen)
	}
	if v := get("match"); v != "" {
		switch v {
		case "exact", "iexact", "partial", "ipartial":
			f.match = v
		default:
			return f, fmt.Errorf("match %q: want exact, iexact, partial or ipartial", v)
		}
	}
	if v := get("status"); v != "" {
		f.statuses = nil
		for p := range strings.SplitSeq(v, ",") {
			st, err := ParseStatus(strings.TrimSpace(p))
			if err != nil {
				return f, err
			}
			f.statuses = append(f.statuses, st)
		}
	}
	for _, b := range []struct {
		key string
		dst *time.Time
	}{{"before", &f.before}, {"after", &f.after}} {
		if v := get(b.key); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, fmt.Errorf("%s %q is not an RFC 3339 timestamp", b.key, v)
			}
			*b.dst = t
		}
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return f, fmt.Errorf("limit %q: want a number from 1 to %d", v, maxLimit)
		}
		f.limit = n
	}
	if v := get("meta"); v != "" {
		if err := json.Unmarshal([]byte(v), &f.meta); err != nil {
			return f, fmt.Errorf("meta filter is not a JSON object of strings: %w", err)
		}
	}
	return f, nil
}

func (f listFilter) matches(r *request) bool {
	if !slices.Contains(f.statuses, r.Status) {
		return false
	}
	if len(f.cids) > 0 && !slices.ContainsFunc(f.cids, r.Pin.CID.Equals) {
		return false
	}
	if f.name != "" {
		n, want := r.Pin.Name, f.name
		if f.match[0] == 'i' {
			n, want = strings.ToLower(n), strings.ToLower(want)
		}
		if strings.HasSuffix(f.match, "partial") {
			if !strings.Contains(n, want) {
				return false
			}
		} else if n != want {
			return false
		}
	}
	if !f.before.IsZero() && !r.Created.Before(f.before) {
		return false
	}
	if !f.after.IsZero() && !r.Created.After(f.after) {
		return false
	}
	for k, v := range f.meta {
		if got, ok := r.Pin.Meta[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	f, err := parseListQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", err.Error())
		return
	}
	delegates := s.delegates()
	s.mu.Lock()
	var matched []*request
	for _, req := range s.reqs {
		if f.matches(req) {
			matched = append(matched, req)
		}
	}
	// Newest first, as the spec's paging by "before" expects.
	slices.SortFunc(matched, func(a, b *request) int { return b.Created.Compare(a.Created) })
	out := resultsWire{Count: len(matched), Results: []statusWire{}}
	for _, req := range matched[:min(len(matched), f.limit)] {
		out.Results = append(out.Results, req.wire(delegates))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// next takes the next queued request ID, waiting for one.
func (s *Server) next() (string, bool) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			id := s.queue[0]
			s.queue = s.queue[1:]
			more := len(s.queue) > 0
			s.mu.Unlock()
			if more {
				s.signal() // wake another worker for the rest
			}
			return id, true
		}
		s.mu.Unlock()
		select {
		case <-s.ctx.Done():
			return "", false
		case <-s.wake:
		}
	}
}

func (s *Server) work() error {
	for {
		id, ok := s.next()
		if !ok {
			return nil
		}
		s.process(id)
	}
}

// retry queues req again after a delay, unless its time is up; the caller
// holds s.mu and persists req.
func (s *Server) retry(req *request, details string) bool {
	delay := s.cfg.RetryEvery
	if req.Tries == 0 {
		delay = s.cfg.RetryFirst
	}
	at := time.Now().Add(delay)
	if at.After(req.Created.Add(s.cfg.RetryFor)) {
		return false
	}
	req.Tries++
	req.Status = Queued
	req.Info = map[string]string{"status_details": fmt.Sprintf("%s; trying again at %s (try %d)", details, at.UTC().Format(time.RFC3339), req.Tries+1)}
	id := req.ID
	s.stopRetry(id)
	s.retries[id] = time.AfterFunc(delay, func() {
		s.mu.Lock()
		if t := s.retries[id]; t != nil {
			delete(s.retries, id)
			if r := s.reqs[id]; r != nil && r.Status == Queued {
				s.queue = append(s.queue, id)
			}
		}
		s.mu.Unlock()
		s.signal()
	})
	return true
}

// room is what the token's pins may still take of MaxBytes; the caller
// holds s.mu.
func (s *Server) room() uint64 {
	var used uint64
	for _, r := range s.reqs {
		if r.Status == Pinned {
			used += r.Bytes
		}
	}
	if used >= s.cfg.MaxBytes {
		return 0
	}
	return s.cfg.MaxBytes - used
}

// quotaDetails is what a friend reads of a pin over the token's quota.
func (s *Server) quotaDetails(c cid.Cid) string {
	return fmt.Sprintf("%s does not fit in what is left of this token's %s on the pinning node: remove pins you no longer need, or ask its owner for more room",
		c, humanize.IBytes(s.cfg.MaxBytes))
}

// stopRetry cancels a waiting retry of id; the caller holds s.mu.
func (s *Server) stopRetry(id string) {
	if t := s.retries[id]; t != nil {
		t.Stop()
		delete(s.retries, id)
	}
}

// process pins one request and records the outcome.
func (s *Server) process(id string) {
	ctx := s.ctx
	s.mu.Lock()
	req := s.reqs[id]
	if req == nil || req.Status != Queued {
		s.mu.Unlock() // removed or replaced while queued
		return
	}
	req.Status = Pinning
	if err := s.persist(ctx, req); err != nil {
		s.log.Error("cannot record pinning", "requestid", id, "err", err)
	}
	c, origins := req.Pin.CID, req.Pin.Origins
	room := s.room()
	s.mu.Unlock()

	var (
		size uint64
		err  error
	)
	if room == 0 {
		err = fmt.Errorf("%w: its %d bytes are used", ErrOverQuota, s.cfg.MaxBytes)
	} else {
		pctx, cancel := context.WithTimeout(ctx, s.cfg.PinTimeout)
		size, err = s.cfg.Pin(pctx, id, c, origins, room)
		cancel()
	}
	if ctx.Err() != nil {
		return // shutting down: stays "pinning" on disk and is queued again at start
	}

	var drop []release
	s.mu.Lock()
	if req = s.reqs[id]; req == nil {
		// Removed while pinning: let go of what we just pinned.
		if err == nil {
			drop = append(drop, release{RequestID: id, CID: c})
		}
	} else {
		if err == nil && size > s.room() {
			// Another pin ran alongside and took the room: the one that
			// settles last gives way.
			drop = append(drop, release{RequestID: id, CID: c})
			err = fmt.Errorf("%w: %s is %d bytes, over the room left", ErrOverQuota, c, size)
		}
		if errors.Is(err, ErrOverQuota) {
			err = &PinError{Details: s.quotaDetails(c), Err: err}
		}
		switch pe, described := errors.AsType[*PinError](err); {
		case err == nil:
			req.Status = Pinned
			req.Bytes = size
			req.Info = map[string]string{}
			s.log.Info("pinned", "requestid", id, "cid", c.String(), "bytes", size)
		case described && pe.Retry && s.retry(req, pe.Details):
			s.log.Info("pin will be tried again", "requestid", id, "cid", c.String(), "err", err)
			if perr := s.persist(ctx, req); perr != nil {
				s.log.Error("cannot record pin outcome", "requestid", id, "err", perr)
			}
			s.mu.Unlock()
			return
		default:
			req.Status = Failed
			details := privateFailure
			if described {
				details = pe.Details
			}
			if len(details) > maxInfoLen {
				details = details[:maxInfoLen]
			}
			req.Info = map[string]string{"status_details": details}
			s.log.Warn("pin failed", "requestid", id, "cid", c.String(), "err", err)
		}
		if old := req.UnpinAfter; old.CID.Defined() {
			req.UnpinAfter = release{}
			drop = append(drop, old)
		}
		if perr := s.persist(ctx, req); perr != nil {
			s.log.Error("cannot record pin outcome", "requestid", id, "err", perr)
		}
	}
	s.mu.Unlock()
	for _, rel := range drop {
		if err := s.cfg.Unpin(ctx, rel.RequestID, rel.CID); err != nil {
			s.log.Warn("unpin failed", "requestid", rel.RequestID, "cid", rel.CID.String(), "err", err)
		}
	}
}
