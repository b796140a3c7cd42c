package names

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	"github.com/miekg/dns"
	"golang.org/x/sync/errgroup"
)

var (
	// ErrTooManyFollows is returned by Follow past Config.MaxFollows.
	ErrTooManyFollows = errors.New("names: too many followed names")
	// ErrNotFollowed is returned by Unfollow for a name that is not followed.
	ErrNotFollowed = errors.New("names: not followed")
)

const followRoot = "/island/follow"

// Follow is a followed name and what the follower last did with it.
type Follow struct {
	Name       string // canonical IPNS name (k51…) or DNSLink domain
	Added      time.Time
	LastCID    cid.Cid // newest version fetched and pinned
	LastSeq    uint64  // its IPNS sequence (0 for a DNSLink straight to /ipfs)
	LastCheck  time.Time
	LastChange time.Time // when LastCID last changed
	LastPut    time.Time // when the author's record was last re-put to routing
	LastError  string    // empty after a check that went well
	Kept       []cid.Cid // versions the follower pinned, newest first
}

// followState is a Follow as stored, with the follower's bookkeeping.
type followState struct {
	Follow
	putDigest string // sha256 of the record bytes last re-put
	removed   bool   // unfollowed; kept until the follower unpinned Kept
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
}

func (st followState) marshal() ([]byte, error) {
	j := followJSON{Name: st.Name, Added: st.Added, LastCID: cidString(st.LastCID), LastSeq: st.LastSeq,
		LastCheck: st.LastCheck, LastChange: st.LastChange, LastPut: st.LastPut, LastError: st.LastError,
		PutDigest: st.putDigest, Removed: st.removed}
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
	last, err := optCid(j.LastCID)
	if err != nil {
		return followState{}, fmt.Errorf("lastCid: %w", err)
	}
	st := followState{Follow: Follow{Name: j.Name, Added: j.Added, LastCID: last, LastSeq: j.LastSeq,
		LastCheck: j.LastCheck, LastChange: j.LastChange, LastPut: j.LastPut, LastError: j.LastError},
		putDigest: j.PutDigest, removed: j.Removed}
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
		return normDomain(raw), nil
	}
	return "", fmt.Errorf("names: cannot follow %q: want /ipns/<key>, <key> or a DNSLink domain", s)
}

func (s *System) loadFollow(ctx context.Context, name string) (followState, error) {
	b, err := s.cfg.Datastore.Get(ctx, followKey(name))
	if err != nil {
		return followState{}, err
	}
	st, err := unmarshalFollow(b)
	if err != nil {
		return followState{}, fmt.Errorf("names: follow entry %s cannot be read: %w", name, err)
	}
	return st, nil
}

func (s *System) storeFollow(ctx context.Context, st followState) error {
	b, err := st.marshal()
	if err != nil {
		return fmt.Errorf("names: encode follow entry %s: %w", st.Name, err)
	}
	if err := s.cfg.Datastore.Put(ctx, followKey(st.Name), b); err != nil {
		return fmt.Errorf("names: store follow entry %s: %w", st.Name, err)
	}
	return nil
}

// follows returns every stored entry, unfollowed ones included.
func (s *System) follows(ctx context.Context) ([]followState, error) {
	res, err := s.cfg.Datastore.Query(ctx, query.Query{Prefix: followRoot})
	if err != nil {
		return nil, fmt.Errorf("names: list follows: %w", err)
	}
	all, err := res.Rest()
	if err != nil {
		return nil, fmt.Errorf("names: list follows: %w", err)
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

// Follow adds name to the followed names (idempotent) and wakes the follower.
func (s *System) Follow(ctx context.Context, name string) (Follow, error) {
	canon, err := FollowName(name)
	if err != nil {
		return Follow{}, err
	}
	s.followMu.Lock()
	defer s.followMu.Unlock()
	st, err := s.loadFollow(ctx, canon)
	switch {
	case err == nil && !st.removed:
		return st.Follow, nil
	case err == nil:
		st.removed = false // followed again before the follower let go of it
	case errors.Is(err, datastore.ErrNotFound):
		all, err := s.follows(ctx)
		if err != nil {
			return Follow{}, err
		}
		active := 0
		for _, f := range all {
			if !f.removed {
				active++
			}
		}
		if active >= s.cfg.MaxFollows {
			return Follow{}, fmt.Errorf("%w: %d already followed (the limit); unfollow one first", ErrTooManyFollows, active)
		}
		st = followState{Follow: Follow{Name: canon, Added: time.Now().UTC()}}
	default:
		return Follow{}, err
	}
	if err := s.storeFollow(ctx, st); err != nil {
		return Follow{}, err
	}
	s.CheckFollows()
	return st.Follow, nil
}

// Unfollow stops following name. The running follower unpins the versions
// it kept for it and then forgets the name; until then they stay gc roots.
func (s *System) Unfollow(ctx context.Context, name string) error {
	canon, err := FollowName(name)
	if err != nil {
		return err
	}
	s.followMu.Lock()
	defer s.followMu.Unlock()
	st, err := s.loadFollow(ctx, canon)
	if errors.Is(err, datastore.ErrNotFound) || (err == nil && st.removed) {
		return fmt.Errorf("%w: %s", ErrNotFollowed, canon)
	}
	if err != nil {
		return err
	}
	if len(st.Kept) == 0 {
		if err := s.cfg.Datastore.Delete(ctx, followKey(canon)); err != nil {
			return fmt.Errorf("names: unfollow %s: %w", canon, err)
		}
		return nil
	}
	st.removed = true
	if err := s.storeFollow(ctx, st); err != nil {
		return err
	}
	s.CheckFollows()
	return nil
}

// List returns the followed names, sorted.
func (s *System) List(ctx context.Context) ([]Follow, error) {
	all, err := s.follows(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Follow, 0, len(all))
	for _, st := range all {
		if !st.removed {
			out = append(out, st.Follow)
		}
	}
	return out, nil
}

// FollowRoots lists every version the follower keeps pinned (also of names
// unfollowed but not yet released): a gc root set.
func (s *System) FollowRoots(ctx context.Context) ([]cid.Cid, error) {
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

// CheckFollows wakes the running follower to check every name now (for an
// IPNS pubsub or DHT update hook). It never blocks.
func (s *System) CheckFollows() {
	select {
	case s.trigger <- struct{}{}:
	default:
	}
}

// FollowConfig configures RunFollower.
type FollowConfig struct {
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
	// Fetch fetches the whole DAG under c and pins it recursively. Required.
	Fetch func(ctx context.Context, c cid.Cid) error
	// Unpin releases a version Fetch pinned; a CID that is not pinned is
	// not an error. Required.
	Unpin func(ctx context.Context, c cid.Cid) error
	// Provide announces a newly fetched version; nil skips it.
	Provide func(ctx context.Context, c cid.Cid) error
}

// DefaultFollowConfig checks every 5 minutes, keeps 3 versions and re-puts
// records every 4 hours (Kubo's republish period; DHT peers drop records
// after 48h).
func DefaultFollowConfig() FollowConfig {
	return FollowConfig{
		Interval:          5 * time.Minute,
		KeepVersions:      3,
		FetchTimeout:      10 * time.Minute,
		RepublishInterval: 4 * time.Hour,
		Parallel:          4,
	}
}

// RunFollower checks every followed name at once, then every Interval and
// whenever Follow or CheckFollows asks: it resolves the name (highest valid
// sequence), fetches and pins a new version, provides it, unpins versions
// beyond KeepVersions, and re-puts the author's signed record unchanged so
// that the name keeps resolving while the author is offline. Errors are
// recorded per name (Follow.LastError) and logged; they never stop the loop.
// It returns nil when ctx ends or the System is closed. One at a time.
func (s *System) RunFollower(ctx context.Context, fc FollowConfig) error {
	if fc.Fetch == nil || fc.Unpin == nil {
		return errors.New("names: follower needs Fetch and Unpin")
	}
	def := DefaultFollowConfig()
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
	if !s.followerOn.CompareAndSwap(false, true) {
		return errors.New("names: a follower is already running")
	}
	defer s.followerOn.Store(false)
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

func (s *System) checkAll(ctx context.Context, fc FollowConfig) {
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
				s.check(ctx, fc, st)
			}
			return nil
		})
	}
	_ = g.Wait()
}

// check does one round for one followed name.
func (s *System) check(ctx context.Context, fc FollowConfig, st followState) {
	log := s.log.With("follow", st.Name)
	var errs []error
	var fetched cid.Cid
	var put bool
	var digest string

	res, err := s.resolve(ctx, st.Name, true)
	if err != nil {
		errs = append(errs, err)
	} else {
		c, cerr := rootCID(res.Path)
		switch {
		case cerr != nil:
			errs = append(errs, cerr)
		case !c.Equals(st.LastCID):
			fctx, cancel := context.WithTimeout(ctx, fc.FetchTimeout)
			ferr := fc.Fetch(fctx, c)
			cancel()
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
				// resolve checked this record and keeps it: only routing needs it.
				if perr := s.putRouting(ctx, Record{Name: res.Name, Raw: res.Record}); perr != nil {
					errs = append(errs, fmt.Errorf("re-put record: %w", perr))
				} else {
					put = true
				}
			}
		}
	}
	if ctx.Err() != nil && !fetched.Defined() {
		return // shutting down: no verdict on this round
	}

	now := time.Now().UTC()
	s.followMu.Lock()
	cur, lerr := s.loadFollow(ctx, st.Name)
	if lerr != nil {
		s.followMu.Unlock()
		// Unfollowed (and forgotten) while we fetched: let go of the new pin.
		if fetched.Defined() && errors.Is(lerr, datastore.ErrNotFound) {
			s.unpinUnlessKept(ctx, fc, st.Name, fetched)
		}
		return
	}
	if fetched.Defined() {
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
	s.followMu.Unlock()

	for _, c := range extra {
		if err := s.unpinUnlessKept(ctx, fc, st.Name, c); err != nil {
			log.Warn("unpinning an old version failed; will retry", "cid", c.String(), "err", err)
			continue
		}
		s.dropKept(ctx, st.Name, c)
	}
}

// release unpins what the follower kept for an unfollowed name, then forgets it.
func (s *System) release(ctx context.Context, fc FollowConfig, name string) {
	s.followMu.Lock()
	st, err := s.loadFollow(ctx, name)
	s.followMu.Unlock()
	if err != nil || !st.removed {
		return
	}
	for _, c := range st.Kept {
		if err := s.unpinUnlessKept(ctx, fc, name, c); err != nil {
			s.log.Warn("unpinning an unfollowed version failed; will retry", "follow", name, "cid", c.String(), "err", err)
			return
		}
		s.dropKept(ctx, name, c)
	}
	s.followMu.Lock()
	defer s.followMu.Unlock()
	if st, err := s.loadFollow(ctx, name); err == nil && st.removed && len(st.Kept) == 0 {
		if err := s.cfg.Datastore.Delete(ctx, followKey(name)); err != nil {
			s.log.Error("cannot forget unfollowed name", "follow", name, "err", err)
		}
	}
}

// dropKept removes c from the kept versions of name once it is unpinned.
func (s *System) dropKept(ctx context.Context, name string, c cid.Cid) {
	s.followMu.Lock()
	defer s.followMu.Unlock()
	st, err := s.loadFollow(ctx, name)
	if err != nil {
		return
	}
	st.Kept = slices.DeleteFunc(st.Kept, c.Equals)
	if err := s.storeFollow(ctx, st); err != nil {
		s.log.Error("cannot record unpinned version", "follow", name, "err", err)
	}
}

// unpinUnlessKept unpins c unless another followed name still keeps it.
func (s *System) unpinUnlessKept(ctx context.Context, fc FollowConfig, name string, c cid.Cid) error {
	all, err := s.follows(ctx)
	if err != nil {
		return err
	}
	for _, st := range all {
		if st.Name != name && !st.removed && slices.ContainsFunc(st.Kept, c.Equals) {
			return nil
		}
	}
	return fc.Unpin(ctx, c)
}

// rootCID is the CID a resolved path starts at: what to fetch and pin.
func rootCID(p path.Path) (cid.Cid, error) {
	ip, err := path.NewImmutablePath(p)
	if err != nil {
		return cid.Undef, fmt.Errorf("names: %s is not an immutable path: %w", p, err)
	}
	return ip.RootCid(), nil
}
