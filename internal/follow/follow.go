package follow

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	"github.com/miekg/dns"
	"golang.org/x/sync/errgroup"

	"github.com/islandsite/island/internal/cidtext"
	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/repo"
)

var (
	// ErrTooManyFollows is returned by Follow past Config.MaxFollows.
	ErrTooManyFollows = errors.New("follow: too many followed names")
	// ErrNotFollowed is returned by Unfollow for a name that is not followed.
	ErrNotFollowed = errors.New("follow: not followed")
	// ErrClosed is returned by Run after Close.
	ErrClosed = errors.New("follow: closed")
)

const followRoot = "/island/follow"

// Config configures a Store.
type Config struct {
	// Datastore is the repo's root datastore (see the package doc for keys).
	Datastore datastore.Batching
	// Names resolves followed names and re-puts their records.
	Names *names.System
	// MaxFollows bounds how many names may be followed.
	MaxFollows int
	Logger     *slog.Logger
}

// DefaultConfig allows 1024 followed names.
func DefaultConfig() Config { return Config{MaxFollows: 1024} }

// Store keeps the followed names and runs the follower over them.
type Store struct {
	cfg Config
	log *slog.Logger

	// mu serialises read-modify-write of follow entries.
	mu sync.Mutex
	// trigger wakes the follower (Follow, Unfollow, Wake); capacity 1 so
	// that wake-ups coalesce and senders never block.
	trigger chan struct{}
	running atomic.Bool
	// pushed holds the names whose newer record arrived by push (Pushed);
	// push wakes the follower to check just those.
	pushed sync.Map
	push   chan struct{}

	// lifeMu orders Run's start against Close, so that Close waits for
	// every follower that started.
	lifeMu sync.Mutex
	closed bool
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New checks cfg and builds a Store. It starts no goroutines; Run runs the
// follower on the caller's goroutine until ctx ends or Close.
func New(ctx context.Context, cfg Config) (*Store, error) {
	switch {
	case cfg.Datastore == nil:
		return nil, errors.New("follow: no datastore configured")
	case cfg.Names == nil:
		return nil, errors.New("follow: no name system configured")
	}
	if cfg.MaxFollows <= 0 {
		cfg.MaxFollows = DefaultConfig().MaxFollows
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		cfg:     cfg,
		log:     cfg.Logger.With("system", "follow"),
		trigger: make(chan struct{}, 1),
		push:    make(chan struct{}, 1),
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	return s, nil
}

// Close stops a running follower and waits for it. It is idempotent.
func (s *Store) Close() error {
	s.lifeMu.Lock()
	s.closed = true
	s.lifeMu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// Entry is a followed name and what the follower last did with it.
type Entry struct {
	Name       string // canonical IPNS name (k51…) or DNSLink domain
	Added      time.Time
	LastCID    cid.Cid // newest version fetched and pinned
	LastSeq    uint64  // its IPNS sequence (0 for a DNSLink straight to /ipfs)
	LastCheck  time.Time
	LastChange time.Time // when LastCID last changed
	LastPut    time.Time // when the author's record was last re-put to routing
	LastError  string    // empty after a check that went well
	Kept       []cid.Cid // versions the follower pinned, newest first
	// MaxSize bounds the bytes of a version the follower keeps (0 in
	// entries from before it: DefaultMaxSize).
	MaxSize uint64
	// TooBig is the newest version not kept for being over MaxSize;
	// undefined once a newer one is kept.
	TooBig cid.Cid
}

// DefaultMaxSize is a follow's MaxSize unless `follow NAME --max-size`
// says otherwise: room for a personal site with its pictures, not for
// whatever a name may come to point at.
const DefaultMaxSize = 1 << 30

// maxSize is e's MaxSize, the default for entries from before it.
func (e Entry) maxSize() uint64 {
	if e.MaxSize == 0 {
		return DefaultMaxSize
	}
	return e.MaxSize
}

// followState is an Entry as stored, with the follower's bookkeeping.
type followState struct {
	Entry
	putDigest string // sha256 of the record bytes last re-put
	removed   bool   // unfollowed; kept until the follower unpinned Kept
	// tooBigAt is the MaxSize TooBig was refused at: it is fetched again
	// only under a larger one.
	tooBigAt uint64
}

type followJSON struct {
	Name       string    `json:"name"`
	Added      time.Time `json:"added"`
	LastCID    string    `json:"lastCid,omitempty"`
	LastSeq    uint64    `json:"lastSeq,omitempty"`
	LastCheck  time.Time `json:"lastCheck"`
	LastChange time.Time `json:"lastChange"`
	LastPut    time.Time `json:"lastPut"`
	LastError  string    `json:"lastError,omitempty"`
	Kept       []string  `json:"kept,omitempty"`
	PutDigest  string    `json:"putDigest,omitempty"`
	Removed    bool      `json:"removed,omitempty"`
	MaxSize    uint64    `json:"maxSize,omitempty"`
	TooBig     string    `json:"tooBig,omitempty"`
	TooBigAt   uint64    `json:"tooBigAt,omitempty"`
}

func (st followState) marshal() ([]byte, error) {
	j := followJSON{Name: st.Name, Added: st.Added, LastCID: cidtext.Format(st.LastCID), LastSeq: st.LastSeq,
		LastCheck: st.LastCheck, LastChange: st.LastChange, LastPut: st.LastPut, LastError: st.LastError,
		PutDigest: st.putDigest, Removed: st.removed, MaxSize: st.MaxSize, TooBig: cidtext.Format(st.TooBig), TooBigAt: st.tooBigAt}
	for _, c := range st.Kept {
		j.Kept = append(j.Kept, c.String())
	}
	return json.Marshal(j)
}

func unmarshalFollow(b []byte) (followState, error) {
	var j followJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return followState{}, err
	}
	last, err := cidtext.Parse(j.LastCID)
	if err != nil {
		return followState{}, fmt.Errorf("lastCid: %w", err)
	}
	tooBig, err := cidtext.Parse(j.TooBig)
	if err != nil {
		return followState{}, fmt.Errorf("tooBig: %w", err)
	}
	st := followState{Entry: Entry{Name: j.Name, Added: j.Added, LastCID: last, LastSeq: j.LastSeq,
		LastCheck: j.LastCheck, LastChange: j.LastChange, LastPut: j.LastPut, LastError: j.LastError,
		MaxSize: j.MaxSize, TooBig: tooBig},
		putDigest: j.PutDigest, removed: j.Removed, tooBigAt: j.TooBigAt}
	for _, s := range j.Kept {
		c, err := cid.Decode(s)
		if err != nil {
			return followState{}, fmt.Errorf("kept: %w", err)
		}
		st.Kept = append(st.Kept, c)
	}
	return st, nil
}

func followKey(name string) datastore.Key { return datastore.NewKey(followRoot + "/" + name) }

// FollowName canonicalises what a user typed to follow: an IPNS key in any
// form becomes its k51… name, a DNSLink domain is lower-cased.
func FollowName(s string) (string, error) {
	raw := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), ipns.NamespacePrefix), "/")
	if n, err := ipns.NameFromString(raw); err == nil {
		return n.String(), nil
	}
	if _, ok := dns.IsDomainName(raw); ok && strings.Contains(raw, ".") && !strings.Contains(raw, "/") {
		return names.NormalizeDomain(raw), nil
	}
	return "", fmt.Errorf("follow: cannot follow %q: want /ipns/<key>, <key> or a DNSLink domain", s)
}

func (s *Store) loadFollow(ctx context.Context, name string) (followState, error) {
	b, err := s.cfg.Datastore.Get(ctx, followKey(name))
	if err != nil {
		return followState{}, err
	}
	st, err := unmarshalFollow(b)
	if err != nil {
		return followState{}, fmt.Errorf("follow: follow entry %s cannot be read: %w", name, err)
	}
	return st, nil
}

func (s *Store) storeFollow(ctx context.Context, st followState) error {
	b, err := st.marshal()
	if err != nil {
		return fmt.Errorf("follow: encode follow entry %s: %w", st.Name, err)
	}
	if err := s.cfg.Datastore.Put(ctx, followKey(st.Name), b); err != nil {
		return fmt.Errorf("follow: store follow entry %s: %w", st.Name, err)
	}
	// Synced before anyone is told: a follow acknowledged, or a version
	// recorded as kept, survives a crash.
	if err := s.cfg.Datastore.Sync(ctx, followKey(st.Name)); err != nil {
		return fmt.Errorf("follow: store follow entry %s: %w", st.Name, err)
	}
	return nil
}

// forget deletes name's entry, durably.
func (s *Store) forget(ctx context.Context, name string) error {
	if err := s.cfg.Datastore.Delete(ctx, followKey(name)); err != nil {
		return err
	}
	return s.cfg.Datastore.Sync(ctx, followKey(name))
}

// follows returns every stored entry, unfollowed ones included.
func (s *Store) follows(ctx context.Context) ([]followState, error) {
	res, err := s.cfg.Datastore.Query(ctx, query.Query{Prefix: followRoot})
	if err != nil {
		return nil, fmt.Errorf("follow: list follows: %w", err)
	}
	all, err := res.Rest()
	if err != nil {
		return nil, fmt.Errorf("follow: list follows: %w", err)
	}
	out := make([]followState, 0, len(all))
	for _, kv := range all {
		st, err := unmarshalFollow(kv.Value)
		if err != nil {
			s.log.Warn("unreadable follow entry", "key", kv.Key, "err", err)
			continue
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b followState) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Follow adds name to the followed names (idempotent) and wakes the
// follower. maxSize, if not 0, bounds the bytes of a version kept (else
// DefaultMaxSize, or what an earlier Follow of the name said).
func (s *Store) Follow(ctx context.Context, name string, maxSize uint64) (Entry, error) {
	canon, err := FollowName(name)
	if err != nil {
		return Entry{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.loadFollow(ctx, canon)
	switch {
	case err == nil && !st.removed && (maxSize == 0 || maxSize == st.maxSize()):
		return st.Entry, nil
	case err == nil && !st.removed:
		st.MaxSize = maxSize // a new size: a version refused before may fit now
	case err == nil:
		if maxSize != 0 {
			st.MaxSize = maxSize
		}
		st.removed = false // followed again before the follower let go of it
	case errors.Is(err, datastore.ErrNotFound):
		all, err := s.follows(ctx)
		if err != nil {
			return Entry{}, err
		}
		active := 0
		for _, f := range all {
			if !f.removed {
				active++
			}
		}
		if active >= s.cfg.MaxFollows {
			return Entry{}, fmt.Errorf("%w: %d already followed (the limit); unfollow one first", ErrTooManyFollows, active)
		}
		st = followState{Entry: Entry{Name: canon, Added: time.Now().UTC(), MaxSize: cmp.Or(maxSize, DefaultMaxSize)}}
	default:
		return Entry{}, err
	}
	if err := s.storeFollow(ctx, st); err != nil {
		return Entry{}, err
	}
	s.Wake()
	return st.Entry, nil
}

// Unfollow stops following name. The running follower unpins the versions
// it kept for it and then forgets the name; until then they stay gc roots.
func (s *Store) Unfollow(ctx context.Context, name string) error {
	canon, err := FollowName(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.loadFollow(ctx, canon)
	if errors.Is(err, datastore.ErrNotFound) || (err == nil && st.removed) {
		return fmt.Errorf("%w: %s", ErrNotFollowed, canon)
	}
	if err != nil {
		return err
	}
	if len(st.Kept) == 0 {
		if err := s.forget(ctx, canon); err != nil {
			return fmt.Errorf("follow: unfollow %s: %w", canon, err)
		}
		return nil
	}
	st.removed = true
	if err := s.storeFollow(ctx, st); err != nil {
		return err
	}
	s.Wake()
	return nil
}

// List returns the followed names, sorted.
func (s *Store) List(ctx context.Context) ([]Entry, error) {
	all, err := s.follows(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(all))
	for _, st := range all {
		if !st.removed {
			out = append(out, st.Entry)
		}
	}
	return out, nil
}

// Roots lists every version the follower keeps pinned (also of names
// unfollowed but not yet released): a gc root set.
func (s *Store) Roots(ctx context.Context) ([]cid.Cid, error) {
	all, err := s.follows(ctx)
	if err != nil {
		return nil, err
	}
	seen := make(map[cid.Cid]struct{})
	var out []cid.Cid
	for _, st := range all {
		for _, c := range st.Kept {
			if _, ok := seen[c]; !ok {
				seen[c] = struct{}{}
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// KeptBy maps every version the follower keeps to the followed names
// keeping it, sorted; unfollowed names not yet released count, as they do
// for Roots. For recording the holders of pins made before pins named them.
func (s *Store) KeptBy(ctx context.Context) (map[cid.Cid][]string, error) {
	all, err := s.follows(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[cid.Cid][]string)
	for _, st := range all { // sorted by name; Kept holds a CID once
		for _, c := range st.Kept {
			out[c] = append(out[c], st.Name)
		}
	}
	return out, nil
}

// Wake wakes the running follower to check every name now (for an IPNS
// pubsub or DHT update hook). It never blocks.
func (s *Store) Wake() {
	select {
	case s.trigger <- struct{}{}:
	default:
	}
}

// Pushed tells the follower that a newer record of name arrived by push
// (IPNS over pubsub) and is held by the name system: the follower checks
// that name at once, resolving from the held record instead of a DHT
// lookup, so the new version is fetched and re-put within a round trip or
// two. It never blocks; a name not followed is ignored by the check.
func (s *Store) Pushed(name string) {
	canon, err := FollowName(name)
	if err != nil {
		return
	}
	s.pushed.Store(canon, struct{}{})
	select {
	case s.push <- struct{}{}:
	default:
	}
}

// RunConfig configures Run.
type RunConfig struct {
	// Interval between checks of every followed name.
	Interval time.Duration
	// KeepVersions is how many versions of each name stay pinned.
	KeepVersions int
	// FetchTimeout bounds fetching one version.
	FetchTimeout time.Duration
	// RepublishInterval is how often an unchanged author record is re-put to
	// routing; a changed record is re-put at once.
	RepublishInterval time.Duration
	// Parallel bounds how many names are checked at once.
	Parallel int
	// Fetch fetches the whole DAG under c and holds it for the followed
	// name, unless it is larger than maxSize bytes: then it fails with a
	// *repo.TooBigError and holds nothing. Required.
	Fetch func(ctx context.Context, name string, c cid.Cid, maxSize uint64) error
	// Resolve finds the CID a path inside a DAG names (/ipfs/ROOT/sub),
	// reading its blocks from peers as needed, so that what is fetched and
	// kept is what the record names, not the whole of ROOT. Nil keeps ROOT.
	Resolve func(ctx context.Context, p path.ImmutablePath) (cid.Cid, error)
	// Unpin drops name's hold on c, taken by Fetch, and only that: another
	// followed name keeping the same version has its own hold. A hold that
	// is gone already is not an error. Required.
	Unpin func(ctx context.Context, name string, c cid.Cid) error
	// Provide announces a newly fetched version; nil skips it.
	Provide func(ctx context.Context, c cid.Cid) error
	// Reannounce announces the version kept again, at once, with each
	// re-put of the record (every RepublishInterval): its provider records
	// otherwise wait for the node's reprovide cycle (22 hours), by which
	// time churn has replaced most of the peers closest to its keys, and
	// visitors of an author who is away find the record but nobody to
	// fetch the site from (docs/scale.md, author away). Nil skips it.
	Reannounce func(ctx context.Context, c cid.Cid) error
}

// DefaultRunConfig checks every 5 minutes, keeps 3 versions and re-puts
// records every 4 hours (Kubo's republish period; DHT peers drop records
// after 48h).
func DefaultRunConfig() RunConfig {
	return RunConfig{
		Interval:          5 * time.Minute,
		KeepVersions:      3,
		FetchTimeout:      10 * time.Minute,
		RepublishInterval: 4 * time.Hour,
		Parallel:          4,
	}
}

// Run is the follower: it checks every followed name at once, then every
// Interval and whenever Follow, Unfollow or Wake asks: it resolves the name (highest valid
// sequence), fetches and pins a new version, provides it, unpins versions
// beyond KeepVersions, and re-puts the author's signed record unchanged so
// that the name keeps resolving while the author is offline. Errors are
// recorded per name (Entry.LastError) and logged; they never stop the loop.
// It returns nil when ctx ends or the Store is closed. One at a time.
func (s *Store) Run(ctx context.Context, fc RunConfig) error {
	if fc.Fetch == nil || fc.Unpin == nil {
		return errors.New("follow: follower needs Fetch and Unpin")
	}
	def := DefaultRunConfig()
	if fc.Interval <= 0 {
		fc.Interval = def.Interval
	}
	if fc.KeepVersions <= 0 {
		fc.KeepVersions = def.KeepVersions
	}
	if fc.FetchTimeout <= 0 {
		fc.FetchTimeout = def.FetchTimeout
	}
	if fc.RepublishInterval <= 0 {
		fc.RepublishInterval = def.RepublishInterval
	}
	if fc.Parallel <= 0 {
		fc.Parallel = def.Parallel
	}
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("follow: a follower is already running")
	}
	defer s.running.Store(false)
	s.lifeMu.Lock()
	if s.closed {
		s.lifeMu.Unlock()
		return ErrClosed
	}
	s.wg.Add(1)
	s.lifeMu.Unlock()
	defer s.wg.Done()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()

	ticker := time.NewTicker(fc.Interval)
	defer ticker.Stop()
	// Pushed names are checked beside the rounds, not after them: a round
	// of lookups must not hold up a version that has already arrived.
	// pushes.Go is only called from the goroutine it started, before Wait.
	var pushes sync.WaitGroup
	defer pushes.Wait()
	defer cancel()
	pushes.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.push:
				// Not waited for here: a push must not queue behind the
				// previous one's re-put, a DHT put that takes seconds.
				pushes.Go(func() { s.checkPushed(ctx, fc) })
			}
		}
	})
	for {
		s.checkAll(ctx, fc)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-s.trigger:
		}
	}
}

// checkPushed checks the names Pushed named since the last time.
func (s *Store) checkPushed(ctx context.Context, fc RunConfig) {
	var g errgroup.Group
	g.SetLimit(fc.Parallel)
	s.pushed.Range(func(k, _ any) bool {
		name := k.(string)
		s.pushed.Delete(name)
		s.mu.Lock()
		st, err := s.loadFollow(ctx, name)
		s.mu.Unlock()
		if err != nil || st.removed {
			return true
		}
		g.Go(func() error {
			s.check(ctx, fc, st, true)
			return nil
		})
		return true
	})
	_ = g.Wait()
}

func (s *Store) checkAll(ctx context.Context, fc RunConfig) {
	all, err := s.follows(ctx)
	if err != nil {
		s.log.Error("follower cannot list follows", "err", err)
		return
	}
	var g errgroup.Group
	g.SetLimit(fc.Parallel)
	for _, st := range all {
		g.Go(func() error {
			if st.removed {
				s.release(ctx, fc, st.Name)
			} else {
				s.check(ctx, fc, st, false)
			}
			return nil
		})
	}
	_ = g.Wait()
}

// check does one round for one followed name; pushed resolves it from the
// record the name system holds (and caches) rather than a fresh lookup.
func (s *Store) check(ctx context.Context, fc RunConfig, st followState, pushed bool) {
	log := s.log.With("follow", st.Name)
	var errs []error
	var fetched, tooBig cid.Cid
	var put bool
	var digest string

	resolve := s.cfg.Names.ResolveFresh
	if pushed {
		resolve = s.cfg.Names.Resolve
	}
	res, err := resolve(ctx, st.Name)
	if err != nil {
		errs = append(errs, err)
	} else {
		rctx, cancel := context.WithTimeout(ctx, fc.FetchTimeout)
		c, cerr := namedCID(rctx, fc, res.Path)
		cancel()
		switch {
		case cerr != nil:
			errs = append(errs, cerr)
		case c.Equals(st.TooBig) && st.maxSize() <= st.tooBigAt:
			// Refused at this size already: not fetched again each round.
			errs = append(errs, tooBigErr(st.Name, c, st.maxSize()))
		case !c.Equals(st.LastCID):
			fctx, cancel := context.WithTimeout(ctx, fc.FetchTimeout)
			ferr := fc.Fetch(fctx, st.Name, c, st.maxSize())
			cancel()
			if errors.Is(ferr, repo.ErrTooBig) {
				tooBig = c
				errs = append(errs, tooBigErr(st.Name, c, st.maxSize()))
				log.Warn("a new version is over the follow's max size: not kept", "cid", c.String(), "max", st.maxSize())
				break
			}
			if ferr != nil {
				errs = append(errs, fmt.Errorf("fetch %s: %w", c, ferr))
				break
			}
			fetched = c
			log.Info("fetched new version", "cid", c.String(), "seq", res.Seq)
			if fc.Provide != nil {
				if perr := fc.Provide(ctx, c); perr != nil {
					errs = append(errs, fmt.Errorf("provide %s: %w", c, perr))
				}
			}
		}
		// Re-put even when fetching failed: the record's life does not
		// depend on ours having the content.
		if res.Record != nil {
			sum := sha256.Sum256(res.Record)
			digest = hex.EncodeToString(sum[:])
			if digest != st.putDigest || time.Since(st.LastPut) >= fc.RepublishInterval {
				// Resolving checked this record and keeps it: only routing needs it.
				if perr := s.cfg.Names.Reput(ctx, names.Record{Name: res.Name, Raw: res.Record}); perr != nil {
					errs = append(errs, fmt.Errorf("re-put record: %w", perr))
				} else {
					put = true
				}
				// A version fetched this round was just announced.
				if fc.Reannounce != nil && st.LastCID.Defined() && !fetched.Defined() {
					if aerr := fc.Reannounce(ctx, st.LastCID); aerr != nil {
						errs = append(errs, fmt.Errorf("announce %s again: %w", st.LastCID, aerr))
					}
				}
			}
		}
	}
	if ctx.Err() != nil && !fetched.Defined() {
		return // shutting down: no verdict on this round
	}

	now := time.Now().UTC()
	s.mu.Lock()
	cur, lerr := s.loadFollow(ctx, st.Name)
	if lerr != nil {
		s.mu.Unlock()
		// Unfollowed (and forgotten) while we fetched: let go of the new pin.
		if fetched.Defined() && errors.Is(lerr, datastore.ErrNotFound) {
			fc.Unpin(ctx, st.Name, fetched)
		}
		return
	}
	if tooBig.Defined() {
		cur.TooBig, cur.tooBigAt = tooBig, st.maxSize()
	}
	if fetched.Defined() {
		cur.TooBig, cur.tooBigAt = cid.Undef, 0
		cur.Kept = slices.Insert(slices.DeleteFunc(cur.Kept, fetched.Equals), 0, fetched)
		if !cur.removed {
			cur.LastCID, cur.LastSeq, cur.LastChange = fetched, res.Seq, now
		}
	}
	if put {
		cur.LastPut, cur.putDigest = now, digest
	}
	cur.LastCheck = now
	cur.LastError = ""
	if err := errors.Join(errs...); err != nil {
		cur.LastError = err.Error()
		log.Warn("follow check failed", "err", err)
	}
	if err := s.storeFollow(ctx, cur); err != nil {
		log.Error("cannot record follow check", "err", err)
	}
	var extra []cid.Cid
	if !cur.removed && len(cur.Kept) > fc.KeepVersions {
		extra = slices.Clone(cur.Kept[fc.KeepVersions:])
	}
	s.mu.Unlock()

	for _, c := range extra {
		if err := fc.Unpin(ctx, st.Name, c); err != nil {
			log.Warn("unpinning an old version failed; will retry", "cid", c.String(), "err", err)
			continue
		}
		s.dropKept(ctx, st.Name, c)
	}
}

// tooBigErr is what follow ls says of a version over the follow's size.
func tooBigErr(name string, c cid.Cid, max uint64) error {
	return fmt.Errorf("version %s is larger than this follow's max size %s: not kept (the last version kept stays); to keep it, run: island follow %s --max-size LARGER",
		c, humanize.IBytes(max), name)
}

// release unpins what the follower kept for an unfollowed name, then forgets it.
func (s *Store) release(ctx context.Context, fc RunConfig, name string) {
	s.mu.Lock()
	st, err := s.loadFollow(ctx, name)
	s.mu.Unlock()
	if err != nil || !st.removed {
		return
	}
	for _, c := range st.Kept {
		if err := fc.Unpin(ctx, name, c); err != nil {
			s.log.Warn("unpinning an unfollowed version failed; will retry", "follow", name, "cid", c.String(), "err", err)
			return
		}
		s.dropKept(ctx, name, c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, err := s.loadFollow(ctx, name); err == nil && st.removed && len(st.Kept) == 0 {
		if err := s.forget(ctx, name); err != nil {
			s.log.Error("cannot forget unfollowed name", "follow", name, "err", err)
		}
	}
}

// dropKept removes c from the kept versions of name once it is unpinned.
func (s *Store) dropKept(ctx context.Context, name string, c cid.Cid) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.loadFollow(ctx, name)
	if err != nil {
		return
	}
	st.Kept = slices.DeleteFunc(st.Kept, c.Equals)
	if err := s.storeFollow(ctx, st); err != nil {
		s.log.Error("cannot record unpinned version", "follow", name, "err", err)
	}
}

// namedCID is the CID a resolved path names: what to fetch and pin. For
// /ipfs/ROOT/sub that is sub's, not ROOT's whole DAG.
func namedCID(ctx context.Context, fc RunConfig, p path.Path) (cid.Cid, error) {
	ip, err := path.NewImmutablePath(p)
	if err != nil {
		return cid.Undef, fmt.Errorf("follow: %s is not an immutable path: %w", p, err)
	}
	if len(ip.Segments()) <= 2 || fc.Resolve == nil {
		return ip.RootCid(), nil
	}
	c, err := fc.Resolve(ctx, ip)
	if err != nil {
		return cid.Undef, fmt.Errorf("follow: resolve %s: %w", p, err)
	}
	return c, nil
}
