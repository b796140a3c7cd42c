package names

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	madns "github.com/multiformats/go-multiaddr-dns"

	"github.com/islandsite/island/internal/keyed"
)

// Config configures a System.
type Config struct {
	// Routing stores and finds IPNS records: the dual DHT in the daemon, an
	// offline router over the repo datastore otherwise.
	Routing routing.ValueStore
	// Datastore is the repo's root datastore (see the package doc for keys).
	Datastore datastore.Batching
	Logger    *slog.Logger
	// CacheSize bounds the resolved-record cache.
	CacheSize int
	// RecordLifetime is how long a record we sign stays valid (its EOL).
	RecordLifetime time.Duration
	// TTL is the cache hint written into records we sign.
	TTL time.Duration
	// ResolveTimeout bounds one routing lookup of a record.
	ResolveTimeout time.Duration
	// RecordCount is how many records a routing lookup gathers before it
	// answers with the best of them (the DHT's quorum; Kubo asks for 16).
	// Zero waits for the whole lookup to end.
	RecordCount int
	// DNSLinkOverrides maps a domain to a content path (/ipfs/… or /ipns/…),
	// consulted before DNS; ParseNSMap reads Kubo's IPFS_NS_MAP format.
	DNSLinkOverrides map[string]string
	// DNSResolver looks up DNSLink TXT records (NewDNSResolver makes the
	// usual ones); its answers are cached for their TTL. Nil means no DNS
	// lookups at all (--dns-resolver none, tests): only overrides resolve.
	DNSResolver madns.BasicResolver
	// DNSCacheSize bounds the cached DNS answers.
	DNSCacheSize int
	// Push, if set, is handed every record Publish signs, once it is kept
	// and before the routing put, so that subscribers (IPNS over pubsub,
	// package namesps) have it in one network hop rather than after a DHT
	// put and lookup. Its error is only logged: routing is still the way
	// the record is found.
	Push func(ctx context.Context, rec Record) error
	// MaxRecords bounds the names whose records are held locally, as far
	// as strangers decide them: a record PUT through /routing/v1
	// (PutPeerRecord) or found while resolving a name for the first time
	// is not kept past it. The user's own, `routing put` and the
	// follower's records are kept whatever the count.
	MaxRecords int
	// Room, if set, says whether the repo has room for n more bytes (a
	// *repo.FullError otherwise); records of names held for the first time
	// are kept only if it has.
	Room func(ctx context.Context, n int) error
	// AnswerHeld makes a resolution that finds a valid record held locally
	// answer with it at once and look the name up in routing in the
	// background, instead of waiting for the lookup (seconds on the Amino
	// DHT, up to ResolveTimeout). A newer record, found so or pushed
	// (Accept), answers the next resolution. Only for a long-lived System
	// (the daemon's): a one-shot command would end before the lookup does.
	AnswerHeld bool
	// MaxRefreshes bounds the background lookups of AnswerHeld running at
	// once; a resolution that finds them all busy starts none (the next one
	// after the cached answer's TTL tries again).
	MaxRefreshes int
}

// DefaultConfig returns Kubo's defaults (48h record lifetime, 1 min lookups)
// with a 5 min TTL so that readers see a new version within minutes, and a
// lookup that answers after 3 records instead of Kubo's 16: the simulator
// (docs/scale.md) finds that waiting for 16 costs most of a resolution's
// time, while the author's followers re-putting and pushing each version
// keep the closest peers current.
func DefaultConfig() Config {
	return Config{
		RecordCount:    3,
		AnswerHeld:     true,
		MaxRefreshes:   16,
		CacheSize:      128,
		DNSCacheSize:   512,
		MaxRecords:     8192,
		RecordLifetime: ipns.DefaultRecordLifetime,
		TTL:            5 * time.Minute,
		ResolveTimeout: namesys.DefaultResolverDhtTimeout,
	}
}

// maxResolveDepth bounds DNSLink/IPNS chains (a name pointing at a name …).
const maxResolveDepth = namesys.DefaultDepthLimit

// System publishes and resolves names. It is safe for concurrent use.
type System struct {
	cfg       Config
	log       *slog.Logger
	dns       *namesys.DNSResolver
	overrides map[string]path.Path
	cache     *lru.Cache[string, cacheEntry]
	dnsCache  *lru.Cache[string, dnsEntry]
	// parsed maps a name's text to the name (parseName).
	parsed *lru.Cache[string, ipns.Name]

	// nameLocks serialises read-compare-write of the record held per name.
	nameLocks keyed.Mutex

	// heldN counts the names whose records are held, -1 until first
	// needed (countHeld).
	heldMu sync.Mutex
	heldN  int

	// The background lookups of AnswerHeld: bg ends them (Close), wg waits
	// for them, refreshing holds the names being looked up.
	bg         context.Context
	stopBG     context.CancelFunc
	refreshMu  sync.Mutex
	refreshing map[string]bool
	closed     bool
	wg         sync.WaitGroup
}

type cacheEntry struct {
	rec   Record
	until time.Time
}

// New checks cfg and builds a System. Close ends the background lookups
// it starts (Config.AnswerHeld).
func New(_ context.Context, cfg Config) (*System, error) {
	if cfg.Routing == nil {
		return nil, errors.New("names: no routing configured")
	}
	if cfg.Datastore == nil {
		return nil, errors.New("names: no datastore configured")
	}
	def := DefaultConfig()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = def.CacheSize
	}
	if cfg.DNSCacheSize <= 0 {
		cfg.DNSCacheSize = def.DNSCacheSize
	}
	if cfg.RecordLifetime <= 0 {
		cfg.RecordLifetime = def.RecordLifetime
	}
	if cfg.TTL <= 0 {
		cfg.TTL = def.TTL
	}
	if cfg.ResolveTimeout <= 0 {
		cfg.ResolveTimeout = def.ResolveTimeout
	}
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = def.MaxRecords
	}
	if cfg.MaxRefreshes <= 0 {
		cfg.MaxRefreshes = def.MaxRefreshes
	}
	overrides := make(map[string]path.Path, len(cfg.DNSLinkOverrides))
	for domain, value := range cfg.DNSLinkOverrides {
		p, err := path.NewPath(value)
		if err != nil {
			return nil, fmt.Errorf("names: DNSLink override for %s: %q is not a content path: %w", domain, value, err)
		}
		overrides[NormalizeDomain(domain)] = p
	}
	cache, err := lru.New[string, cacheEntry](cfg.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("names: cache: %w", err)
	}
	dnsCache, err := lru.New[string, dnsEntry](cfg.DNSCacheSize)
	if err != nil {
		return nil, fmt.Errorf("names: DNS cache: %w", err)
	}
	parsed, err := lru.New[string, ipns.Name](cfg.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("names: cache: %w", err)
	}
	s := &System{
		parsed:     parsed,
		cfg:        cfg,
		log:        cfg.Logger.With("system", "names"),
		overrides:  overrides,
		cache:      cache,
		dnsCache:   dnsCache,
		heldN:      -1,
		refreshing: map[string]bool{},
	}
	s.bg, s.stopBG = context.WithCancel(context.Background())
	// Only boxo's DNSLink resolver, not its whole name system: that one
	// reads IPFS_NS_MAP itself and panics or fails on a value the CLI has
	// already reported and chosen to ignore.
	s.dns = namesys.NewDNSResolverWithTTL(s.lookupTXT)
	return s, nil
}

// lookupTXT answers DNSLink TXT lookups for namesys: the request's overrides
// (WithNSMap) first, then the configured ones, then the configured resolver
// through its cache, and nothing at all without one.
func (s *System) lookupTXT(ctx context.Context, name string) ([]string, time.Duration, error) {
	domain := NormalizeDomain(strings.TrimPrefix(name, "_dnslink."))
	if o, ok := requestOverride(ctx, domain); ok {
		if o.err != nil {
			return nil, 0, o.err
		}
		return []string{"dnslink=" + o.path.String()}, 0, nil
	}
	if p, ok := s.overrides[domain]; ok {
		return []string{"dnslink=" + p.String()}, 0, nil
	}
	if s.cfg.DNSResolver == nil {
		return nil, 0, ErrDNSDisabled
	}
	return s.lookupDNS(ctx, name)
}

// authentic reports whether a held or fetched record carries the author's
// signature, expired or not: its sequence number counts.
func authentic(err error) bool { return err == nil || errors.Is(err, ErrExpired) }

// held returns the record stored locally for name. The error is ErrNotFound
// (wrapped) when none is stored, a *RecordError when the stored one is bad
// (for ErrExpired the record is still returned), or a datastore failure.
func (s *System) held(ctx context.Context, name ipns.Name) (Record, error) {
	data, err := s.cfg.Datastore.Get(ctx, namesys.IpnsDsKey(name))
	if errors.Is(err, datastore.ErrNotFound) {
		return Record{}, fmt.Errorf("%w: no local record for %s", ErrNotFound, name)
	}
	if err != nil {
		return Record{}, fmt.Errorf("names: read local record for %s: %w", name, err)
	}
	return CheckRecord(name, data)
}

// fromRouting looks name up in routing, bounded by ResolveTimeout.
func (s *System) fromRouting(ctx context.Context, name ipns.Name) (Record, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ResolveTimeout)
	defer cancel()
	var opts []routing.Option
	if s.cfg.RecordCount > 0 {
		opts = append(opts, dht.Quorum(s.cfg.RecordCount))
	}
	data, err := s.cfg.Routing.GetValue(ctx, string(name.RoutingKey()), opts...)
	switch {
	case errors.Is(err, routing.ErrNotFound):
		return Record{}, fmt.Errorf("%w: no record for %s in routing", ErrNotFound, name)
	case errors.Is(err, ipns.ErrExpiredRecord):
		// Routing validated the record itself and kept only the reason.
		return Record{}, recordErr(name.String(), ErrExpired, err, "record for %s found in routing has expired", name)
	case err != nil:
		return Record{}, fmt.Errorf("names: look up %s in routing: %w", name, err)
	}
	return CheckRecord(name, data)
}

// storeIfNewer keeps rec as the record held for name unless the held one is
// newer (then the error is a *RecordError with ErrLowerSequence). An equal
// record leaves the held one in place. bounded says a stranger decided the
// name: a first record for it is kept only within MaxRecords and the
// repo's room (else a *RecordError with ErrNoRoom). The caller holds the
// name lock.
func (s *System) storeIfNewer(ctx context.Context, rec Record, bounded bool) (stored bool, err error) {
	h, herr := s.held(ctx, rec.Name)
	if authentic(herr) {
		if bytes.Equal(h.Raw, rec.Raw) {
			return false, nil
		}
		if newer(h, rec) {
			return false, lowerErr(rec, h)
		}
		if !newer(rec, h) {
			return false, nil
		}
	} else if !errors.Is(herr, ErrNotFound) && !errors.As(herr, new(*RecordError)) {
		return false, herr
	}
	first := errors.Is(herr, ErrNotFound)
	if first && bounded {
		if err := s.admit(ctx, rec); err != nil {
			return false, err
		}
	}
	if err := s.keep(ctx, rec); err != nil {
		return false, err
	}
	if first {
		s.heldMu.Lock()
		if s.heldN >= 0 {
			s.heldN++
		}
		s.heldMu.Unlock()
	}
	return true, nil
}

// admit says whether a record for a name held for the first time may be
// kept: within MaxRecords names and the repo's room.
func (s *System) admit(ctx context.Context, rec Record) error {
	if s.cfg.Room != nil {
		if err := s.cfg.Room(ctx, len(rec.Raw)); err != nil {
			return recordErr(rec.Name.String(), ErrNoRoom, err, "no room to keep a record for %s: %v", rec.Name, err)
		}
	}
	s.heldMu.Lock()
	defer s.heldMu.Unlock()
	if s.heldN < 0 {
		n, err := s.countHeld(ctx)
		if err != nil {
			return err
		}
		s.heldN = n
	}
	if s.heldN >= s.cfg.MaxRecords {
		return recordErr(rec.Name.String(), ErrNoRoom, nil,
			"no room to keep a record for %s: this node holds records of %d names, the most it keeps for others", rec.Name, s.heldN)
	}
	return nil
}

// countHeld counts the names whose records are held.
func (s *System) countHeld(ctx context.Context) (int, error) {
	res, err := s.cfg.Datastore.Query(ctx, query.Query{Prefix: "/ipns/", KeysOnly: true})
	if err != nil {
		return 0, fmt.Errorf("names: count held records: %w", err)
	}
	defer res.Close()
	n := 0
	for r := range res.Next() {
		if r.Error != nil {
			return 0, fmt.Errorf("names: count held records: %w", r.Error)
		}
		n++
	}
	return n, nil
}

// keep stores rec as the record held for its name, durably, replacing
// whatever was there. The caller holds the name lock.
func (s *System) keep(ctx context.Context, rec Record) error {
	key := namesys.IpnsDsKey(rec.Name)
	if err := s.cfg.Datastore.Put(ctx, key, rec.Raw); err != nil {
		return fmt.Errorf("names: store record for %s: %w", rec.Name, err)
	}
	if err := s.cfg.Datastore.Sync(ctx, key); err != nil {
		return fmt.Errorf("names: store record for %s: %w", rec.Name, err)
	}
	return nil
}

// cacheSet makes rec the answer for its name until its TTL ends, unless
// the cache already answers with a newer record still valid: a resolution
// that read the held record just before a newer one arrived (Accept) must
// not put the older one back.
func (s *System) cacheSet(rec Record) {
	key := cacheKey(rec.Name)
	now := time.Now()
	if e, ok := s.cache.Peek(key); ok && newer(e.rec, rec) && now.Before(e.rec.EOL) {
		return
	}
	ttl := min(rec.TTL, rec.EOL.Sub(now))
	if ttl <= 0 {
		s.cache.Remove(key)
		return
	}
	s.cache.Add(key, cacheEntry{rec: rec, until: now.Add(ttl)})
}

// refresh looks name up in routing in the background and keeps what it
// finds if it is newer than the record held, for the next resolution
// (AnswerHeld). One lookup per name at a time, MaxRefreshes in all.
func (s *System) refresh(name ipns.Name) {
	key := cacheKey(name)
	s.refreshMu.Lock()
	if s.closed || s.refreshing[key] || len(s.refreshing) >= s.cfg.MaxRefreshes {
		s.refreshMu.Unlock()
		return
	}
	s.refreshing[key] = true
	s.wg.Add(1)
	s.refreshMu.Unlock()
	go func() {
		defer func() {
			s.refreshMu.Lock()
			delete(s.refreshing, key)
			s.refreshMu.Unlock()
			s.wg.Done()
		}()
		remote, err := s.fromRouting(s.bg, name)
		if err != nil {
			s.log.Debug("background lookup found no record", "name", name.String(), "err", err)
			return
		}
		unlock := s.nameLocks.Lock(name.String())
		stored, err := s.storeIfNewer(s.bg, remote, true)
		unlock()
		switch {
		case stored:
			s.cacheSet(remote)
		case err != nil && !errors.Is(err, ErrLowerSequence):
			s.log.Warn("keeping a record found in the background failed", "name", name.String(), "err", err)
		}
	}()
}

// Close ends the background lookups and waits for them. It is idempotent;
// the System still resolves afterwards, only without them.
func (s *System) Close() error {
	s.refreshMu.Lock()
	s.closed = true
	s.refreshMu.Unlock()
	s.stopBG()
	s.wg.Wait()
	return nil
}

// cacheKey is a name's key in the cache: its multihash bytes, which unlike
// its base36 text cost nothing to make (the gateway resolves a name on
// every request).
func cacheKey(name ipns.Name) string { return string(name.Peer()) }

// bestRecord returns the newest valid record for name among the one held
// locally and the one routing returns; fresh skips the cache. A newer record
// from routing is kept locally, so the name still resolves offline later.
// With AnswerHeld and not fresh, a valid held record answers at once and
// routing is asked in the background.
func (s *System) bestRecord(ctx context.Context, name ipns.Name, fresh bool) (Record, error) {
	if !fresh {
		if e, ok := s.cache.Get(cacheKey(name)); ok && time.Now().Before(e.until) {
			return e.rec, nil
		}
	}
	local, lerr := s.held(ctx, name)
	if lerr != nil && !errors.Is(lerr, ErrNotFound) && !errors.As(lerr, new(*RecordError)) {
		return Record{}, lerr
	}
	if !fresh && lerr == nil && s.cfg.AnswerHeld {
		s.cacheSet(local)
		s.refresh(name)
		return local, nil
	}
	remote, rerr := s.fromRouting(ctx, name)
	switch {
	case lerr == nil && (rerr != nil || !newer(remote, local)):
		s.cacheSet(local)
		return local, nil
	case rerr == nil:
		unlock := s.nameLocks.Lock(name.String())
		_, err := s.storeIfNewer(ctx, remote, true)
		unlock()
		if err != nil && !errors.Is(err, ErrLowerSequence) && !errors.Is(err, ErrNoRoom) {
			s.log.Warn("keeping a resolved record failed", "name", name.String(), "err", err)
		}
		s.cacheSet(remote)
		return remote, nil
	}
	// Neither is usable: report the most telling reason.
	for _, err := range []error{lerr, rerr} {
		if errors.As(err, new(*RecordError)) {
			return Record{}, err
		}
	}
	if !errors.Is(rerr, ErrNotFound) {
		return Record{}, rerr
	}
	return Record{}, fmt.Errorf("%w: no record for %s locally or in routing", ErrNotFound, name)
}

// PublishOption changes one Publish from the System's defaults.
type PublishOption func(*publishOptions)

type publishOptions struct {
	ttl      time.Duration
	lifetime time.Duration
	// keepLifetime says lifetime was asked for (WithLifetime): it becomes
	// the name's own, used by later publishes and republishes.
	keepLifetime bool
	// seq, when set, is the sequence to sign with instead of one above the
	// highest known (boxo's PublishWithSequence, through NameSystem).
	seq *uint64
	// ipns are passed on to ipns.NewRecord (boxo's PublishWithIPNSOption).
	ipns []ipns.Option
	// above is a sequence the new record's must exceed, whatever is known
	// of the name (AboveSequence).
	above uint64
}

// AboveSequence makes the record's sequence higher than seq, as well as
// than every record known: a site's history knows the sequences its
// versions were published with, also on a machine that holds none of its
// records yet.
func AboveSequence(seq uint64) PublishOption {
	return func(o *publishOptions) { o.above = max(o.above, seq) }
}

// WithTTL sets the record's cache hint (Config.TTL otherwise); d must be positive.
func WithTTL(d time.Duration) PublishOption { return func(o *publishOptions) { o.ttl = d } }

// WithLifetime sets how long the record stays valid; d must be positive.
// It is kept as the name's lifetime: later publishes and republishes of the
// name without it use it too. Without any, Config.RecordLifetime.
func WithLifetime(d time.Duration) PublishOption {
	return func(o *publishOptions) { o.lifetime, o.keepLifetime = d, true }
}

// lifetimeKey is where a name's own lifetime is kept (WithLifetime).
func lifetimeKey(name ipns.Name) datastore.Key {
	return datastore.NewKey("/island/names/lifetime/" + name.String())
}

// Lifetime is the lifetime records of name are signed with: the one a
// publish asked for last, else Config.RecordLifetime (own is false).
func (s *System) Lifetime(ctx context.Context, name ipns.Name) (d time.Duration, own bool, err error) {
	b, err := s.cfg.Datastore.Get(ctx, lifetimeKey(name))
	if errors.Is(err, datastore.ErrNotFound) {
		return s.cfg.RecordLifetime, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("names: lifetime of %s: %w", name, err)
	}
	d, err = time.ParseDuration(string(b))
	if err != nil || d <= 0 {
		s.log.Warn("ignoring a stored lifetime", "name", name.String(), "value", string(b))
		return s.cfg.RecordLifetime, false, nil
	}
	return d, true, nil
}

// SetLifetime makes d the lifetime of name's records from its next publish
// on, as WithLifetime does.
func (s *System) SetLifetime(ctx context.Context, name ipns.Name, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("names: lifetime %s of %s: want a positive duration", d, name)
	}
	// Every publish sets it, mostly to what it was: no write then.
	if cur, own, err := s.Lifetime(ctx, name); err == nil && own && cur == d {
		return nil
	}
	return s.keepLifetime(ctx, name, d)
}

func (s *System) keepLifetime(ctx context.Context, name ipns.Name, d time.Duration) error {
	if err := s.cfg.Datastore.Put(ctx, lifetimeKey(name), []byte(d.String())); err != nil {
		return fmt.Errorf("names: keep lifetime of %s: %w", name, err)
	}
	return nil
}

// Publish signs a record pointing name(key) at value and puts it to the
// local store and routing. Its sequence number is one more than the highest
// known for the name, locally or in routing, so every publish supersedes all
// earlier ones. When only the routing put fails, the record is returned with
// an error wrapping ErrRoutingPut.
func (s *System) Publish(ctx context.Context, key crypto.PrivKey, value path.Path, opts ...PublishOption) (Record, error) {
	o := publishOptions{ttl: s.cfg.TTL}
	for _, opt := range opts {
		opt(&o)
	}
	if !o.keepLifetime {
		pid, err := peer.IDFromPrivateKey(key)
		if err != nil {
			return Record{}, fmt.Errorf("names: publish: %w", err)
		}
		if o.lifetime, _, err = s.Lifetime(ctx, ipns.NameFromPeer(pid)); err != nil {
			return Record{}, err
		}
	}
	return s.publish(ctx, key, value, o)
}

func (s *System) publish(ctx context.Context, key crypto.PrivKey, value path.Path, o publishOptions) (Record, error) {
	if o.ttl <= 0 || o.lifetime <= 0 {
		return Record{}, fmt.Errorf("names: publish: TTL (%s) and lifetime (%s) must be positive", o.ttl, o.lifetime)
	}
	pid, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return Record{}, fmt.Errorf("names: publish: %w", err)
	}
	name := ipns.NameFromPeer(pid)
	unlock := s.nameLocks.Lock(name.String())
	defer unlock()

	var seq uint64
	known := false
	h, herr := s.held(ctx, name)
	switch {
	case authentic(herr):
		seq, known = h.Seq, true
	case errors.As(herr, new(*RecordError)):
		// Garbage under our own key (corrupt, forged): the new record
		// overwrites it below.
		s.log.Warn("replacing a bad local record", "name", name.String(), "err", herr)
	case !errors.Is(herr, ErrNotFound):
		return Record{}, fmt.Errorf("names: publish %s: %w", name, herr)
	}
	if r, rerr := s.fromRouting(ctx, name); authentic(rerr) && (!known || r.Seq > seq) {
		seq, known = r.Seq, true
	} else if rerr != nil && !errors.Is(rerr, ErrNotFound) {
		s.log.Debug("routing lookup before publish failed", "name", name.String(), "err", rerr)
	}
	next := uint64(1)
	if known {
		next = seq + 1
	}
	next = max(next, o.above+1)
	if o.seq != nil {
		if *o.seq < next {
			return Record{}, fmt.Errorf("names: publish %s: sequence %d is not above the highest known (%d): %w",
				name, *o.seq, next-1, namesys.ErrInvalidSequence)
		}
		next = *o.seq
	}

	signed, err := ipns.NewRecord(key, value, next, time.Now().Add(o.lifetime), o.ttl, o.ipns...)
	if err != nil {
		return Record{}, fmt.Errorf("names: publish %s: sign: %w", name, err)
	}
	raw, err := ipns.MarshalRecord(signed)
	if err != nil {
		return Record{}, fmt.Errorf("names: publish %s: encode: %w", name, err)
	}
	rec, err := CheckRecord(name, raw)
	if err != nil {
		return Record{}, fmt.Errorf("names: publish %s: %w", name, err)
	}
	if o.keepLifetime {
		if err := s.keepLifetime(ctx, name, o.lifetime); err != nil {
			return Record{}, err
		}
	}
	if err := s.keep(ctx, rec); err != nil {
		return Record{}, err
	}
	s.cacheSet(rec)
	if s.cfg.Push != nil {
		if err := s.cfg.Push(ctx, rec); err != nil {
			s.log.Warn("pushing a new record failed", "name", name.String(), "err", err)
		}
	}
	// Also puts the public key when the name does not embed it (RSA), as
	// boxo's publisher does.
	if err := namesys.PublishIPNSRecord(ctx, s.cfg.Routing, key.GetPublic(), signed); err != nil {
		return rec, fmt.Errorf("%w: publish %s: %w", ErrRoutingPut, name, err)
	}
	s.log.Info("published", "name", name.String(), "value", value.String(), "seq", rec.Seq)
	return rec, nil
}

// Republish keeps the name of key alive: it re-signs the current value with
// a new sequence number when less than half of the name's lifetime
// (Lifetime) is left, otherwise it re-puts the held record unchanged. For
// the daemon's timer.
func (s *System) Republish(ctx context.Context, key crypto.PrivKey) (Record, error) {
	pid, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return Record{}, fmt.Errorf("names: republish: %w", err)
	}
	name := ipns.NameFromPeer(pid)
	h, err := s.held(ctx, name)
	if !authentic(err) {
		return Record{}, fmt.Errorf("names: republish %s: %w", name, err)
	}
	lifetime, _, err := s.Lifetime(ctx, name)
	if err != nil {
		return Record{}, err
	}
	if time.Until(h.EOL) < lifetime/2 {
		return s.Publish(ctx, key, h.Value)
	}
	return h, s.Reput(ctx, h)
}

// Reput puts rec's signed bytes to routing unchanged, to keep its name
// resolvable while the author is offline; an error wraps ErrRoutingPut.
// Only rec.Name and rec.Raw are read, so the Name and Record of a
// ResolveResult will do. It neither checks nor stores the record: use it
// for records this System returned, and PutRecord for any other.
func (s *System) Reput(ctx context.Context, rec Record) error {
	if err := s.cfg.Routing.PutValue(ctx, string(rec.Name.RoutingKey()), rec.Raw); err != nil {
		return fmt.Errorf("%w: put record for %s: %w", ErrRoutingPut, rec.Name, err)
	}
	return nil
}

// PutRecord stores a signed record someone else made (a test fixture, a
// followed author's record) and puts it to routing, after checking its
// signature, that it is the name's key, that it has not expired, and that it
// is not older than the record already held. The bytes are never re-signed.
func (s *System) PutRecord(ctx context.Context, name string, data []byte) (Record, error) {
	return s.putRecord(ctx, name, data, false)
}

// PutPeerRecord is PutRecord for a record a stranger sends (a PUT to
// /routing/v1/ipns/): a first record for a name is kept only within
// MaxRecords and the repo's room, else it is refused with a *RecordError
// whose Reason is ErrNoRoom, and nothing is stored.
func (s *System) PutPeerRecord(ctx context.Context, name string, data []byte) (Record, error) {
	return s.putRecord(ctx, name, data, true)
}

func (s *System) putRecord(ctx context.Context, name string, data []byte, bounded bool) (Record, error) {
	rec, _, err := s.accept(ctx, name, data, bounded)
	if err != nil {
		return Record{}, err
	}
	return rec, s.Reput(ctx, rec)
}

// Accept is PutRecord without the routing put, for a record that arrived
// by push (IPNS over pubsub, on the topic of a name this node follows or
// publishes): it is checked, kept if it is newer than the one held (stored
// says whether it was), and resolutions answer with it at once. Whoever
// wants it in routing too re-puts it (the follower does).
func (s *System) Accept(ctx context.Context, name string, data []byte) (rec Record, stored bool, err error) {
	return s.accept(ctx, name, data, false)
}

func (s *System) accept(ctx context.Context, name string, data []byte, bounded bool) (rec Record, stored bool, err error) {
	n, err := ParseName(name)
	if err != nil {
		return Record{}, false, err
	}
	if rec, err = CheckRecord(n, data); err != nil {
		return Record{}, false, err
	}
	unlock := s.nameLocks.Lock(n.String())
	stored, err = s.storeIfNewer(ctx, rec, bounded)
	unlock()
	if err != nil {
		return Record{}, false, err
	}
	s.cacheSet(rec)
	return rec, stored, nil
}

// Held is the record stored locally for an IPNS name, without asking
// routing: an expired one is returned with an error wrapping ErrExpired.
func (s *System) Held(ctx context.Context, name ipns.Name) (Record, error) {
	return s.held(ctx, name)
}

// Record returns the signed bytes of the best valid record known for name
// (local or from routing).
func (s *System) Record(ctx context.Context, name string) ([]byte, error) {
	n, err := ParseName(name)
	if err != nil {
		return nil, err
	}
	rec, err := s.bestRecord(ctx, n, false)
	if err != nil {
		return nil, err
	}
	return rec.Raw, nil
}
